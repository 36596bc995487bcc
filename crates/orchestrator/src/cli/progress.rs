//! Progress on stderr while the plan runs: a bar on a terminal, plain lines otherwise, and its
//! estimate of the time left. Runs differ in cost by five orders of magnitude
//! (a 5-point fit against a 10^7-point one), so counting runs says little: each remaining run is
//! priced at the measured cost of the finished runs of the same point and implementation, and a
//! point not yet reached at that implementation's start-up plus its measured cost per point-epoch
//! times n × epochs.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::execute::{self, RunEvent, Step};
use crate::format;
use crate::plan::Plan;
use crate::records::RunStatus;

/// The cost per point-epoch assumed before any implementation has shown its own: between NumPy's
/// and plain Python's here, so an unseen large point is not priced at nothing.
const DEFAULT_SECONDS_PER_POINT_EPOCH: f64 = 5e-9;
/// The start-up assumed before any run has finished.
const DEFAULT_STARTUP_SECONDS: f64 = 0.05;

/// The runs of one (scenario, point, implementation).
#[derive(Debug, Clone)]
struct Runs {
    implementation: String,
    /// n × epochs.
    work: f64,
    planned: u64,
    finished: u64,
    seconds: f64,
}

impl Runs {
    fn mean_seconds(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.seconds / self.finished as f64)
    }
}

/// Which runs, by their indices in the plan (ordered as the plan runs them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RunsOf {
    scenario: usize,
    point: usize,
    implementation: usize,
}

/// The time left of a plan, priced by what its finished runs cost.
#[derive(Debug, Clone)]
pub struct Eta {
    runs: BTreeMap<RunsOf, Runs>,
}

impl Eta {
    pub fn new(plan: &Plan) -> Self {
        let mut runs = BTreeMap::new();
        for (s, scenario) in plan.scenarios.iter().enumerate() {
            let per_implementation = u64::from(scenario.measure.warmup) + u64::from(scenario.measure.repetitions);
            for (p, point) in scenario.points.iter().enumerate() {
                for i in execute::runnable(scenario, point) {
                    let entry = Runs {
                        implementation: scenario.implementations[i].name.clone(),
                        work: point.n as f64 * point.epochs as f64,
                        planned: per_implementation,
                        finished: 0,
                        seconds: 0.0,
                    };
                    runs.insert(RunsOf { scenario: s, point: p, implementation: i }, entry);
                }
            }
        }
        Eta { runs }
    }

    /// One run ended after `wall_seconds` (warm-ups count: they cost the same).
    pub fn finished(&mut self, step: Step, wall_seconds: f64) {
        if let Some(runs) = self.runs.get_mut(&RunsOf { scenario: step.scenario, point: step.point, implementation: step.implementation }) {
            runs.finished += 1;
            if wall_seconds.is_finite() && wall_seconds >= 0.0 {
                runs.seconds += wall_seconds;
            }
        }
    }

    /// A planned run that will not be made: no longer left to do.
    pub fn left_out(&mut self, step: Step) {
        if let Some(runs) = self.runs.get_mut(&RunsOf { scenario: step.scenario, point: step.point, implementation: step.implementation }) {
            runs.planned = runs.planned.saturating_sub(1);
        }
    }

    /// The estimated seconds until every planned run has ended.
    pub fn remaining_seconds(&self) -> f64 {
        // Per implementation, from its finished points: start-up is its cheapest point's mean run,
        // its cost per point-epoch what its dearest point (by n × epochs) adds to that.
        let mut cheapest: BTreeMap<&str, f64> = BTreeMap::new();
        let mut dearest: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for r in self.runs.values() {
            let Some(mean) = r.mean_seconds() else { continue };
            let name = r.implementation.as_str();
            cheapest.entry(name).and_modify(|c| *c = c.min(mean)).or_insert(mean);
            if dearest.get(name).is_none_or(|(work, _)| r.work > *work) {
                dearest.insert(name, (r.work, mean));
            }
        }
        let rates: BTreeMap<&str, f64> = dearest
            .iter()
            .filter_map(|(name, (work, mean))| {
                let rate = (mean - cheapest.get(name)?) / work;
                (rate.is_finite() && rate > 0.0).then_some((*name, rate))
            })
            .collect();
        let any_startup = cheapest.values().copied().reduce(f64::min).unwrap_or(DEFAULT_STARTUP_SECONDS);
        let any_rate = rates.values().copied().reduce(f64::max).unwrap_or(DEFAULT_SECONDS_PER_POINT_EPOCH);
        self.runs
            .values()
            .map(|r| {
                let left = r.planned.saturating_sub(r.finished) as f64;
                let each = r.mean_seconds().unwrap_or_else(|| {
                    let name = r.implementation.as_str();
                    cheapest.get(name).copied().unwrap_or(any_startup) + r.work * rates.get(name).copied().unwrap_or(any_rate)
                });
                left * each
            })
            .sum()
    }
}

/// Progress on stderr: a bar with the scenario, point, implementation, repetition and ETA on a
/// terminal; plain lines (one per scenario point, and one per failed run) otherwise. The ETA
/// prices the runs left by what finished runs cost ([`Eta`]), not by their count.
pub(super) struct Progress {
    bar: ProgressBar,
    plain: bool,
    last_point: Option<(usize, usize)>,
    eta: Eta,
}

impl Progress {
    pub(super) fn new(plan: &Plan) -> Self {
        let total = execute::count_runs(plan);
        let plain = !std::io::stderr().is_terminal();
        let bar = if plain { ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()) } else { ProgressBar::new(total) };
        let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} ETA {prefix} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let eta = Eta::new(plan);
        bar.set_prefix(format::duration_words(eta.remaining_seconds()));
        Progress { bar, plain, last_point: None, eta }
    }

    pub(super) fn say(&self, line: String) {
        if self.plain {
            errln!("{line}");
        } else {
            self.bar.println(crate::console::terminal_text(&line));
        }
    }

    pub(super) fn update(&mut self, event: RunEvent<'_>) {
        let point = &event.scenario.points[event.step.point];
        let implementation = &event.scenario.implementations[event.step.implementation].name;
        if self.last_point != Some((event.step.scenario, event.step.point)) {
            self.last_point = Some((event.step.scenario, event.step.point));
            if self.plain {
                self.say(format!(
                    "[{}/{}] {} · point {}/{} · {}",
                    event.index + 1,
                    event.total,
                    event.scenario.name,
                    point.index + 1,
                    event.scenario.points.len(),
                    point.label
                ));
            }
        }
        let what = match event.record {
            None => "warm-up".to_string(),
            Some(r) => format!("rep {}/{}", r.repetition, event.scenario.measure.repetitions),
        };
        let message = format!("{} · {} · {implementation} · {what}", event.scenario.name, point.label);
        self.bar.set_message(crate::console::terminal_text(&message).into_owned());
        self.eta.finished(event.step, event.wall_seconds);
        self.bar.set_prefix(format::duration_words(self.eta.remaining_seconds()));
        self.bar.inc(1);
        // A failed run, or a measured one with something to say (its one-off process did not end ok).
        if let Some(record) = event.record.filter(|r| !matches!(r.status, RunStatus::Ok | RunStatus::Diverged) || !r.message.is_empty()) {
            let first_line = record.message.lines().next().unwrap_or("");
            let said = if record.status.is_measurement() {
                format!("{first_line}; the run itself: {}", record.status)
            } else {
                format!("{}: {first_line}", record.status)
            };
            self.say(format!("  {} {} {implementation} rep {}: {said}", event.scenario.name, point.label, record.repetition));
        }
    }

    /// A planned run left out (its implementation could not be prepared): counted as done.
    pub(super) fn left_out(&mut self, step: Step) {
        self.eta.left_out(step);
        self.bar.set_prefix(format::duration_words(self.eta.remaining_seconds()));
        self.bar.inc(1);
    }

    /// Hides the bar while another program writes to the terminal (a prepare command).
    pub(super) fn pause(&self) {
        if !self.plain {
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
        }
    }

    /// Shows the bar again after [`Progress::pause`].
    pub(super) fn resume(&self) {
        if !self.plain {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
