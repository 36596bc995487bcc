//! Between two scenarios of a run: the prepare commands of pending implementations run (said, and
//! recorded in environment.json), each scenario's start and end recorded in environment.json with
//! the load average then, and after each scenario but the last the report so far rendered, so
//! report.html can be read while the rest runs (and stays, saying it is partial, if the run is
//! stopped later). All of it happens between two runs, never while a child is measured.

use std::path::Path;
use std::time::Instant;

use super::progress::Progress;
use crate::environment::{self, probes, Environment, PointLimitProbe, PreparedImplementation};
use crate::measure::CancelToken;
use crate::plan::{ImplementationPlan, Pending, Plan, PointPlan, ScenarioPlan};
use crate::records::{self, ENVIRONMENT_JSON};
use crate::report;

/// A report that takes longer than this to render says how long it took.
const WORTH_SAYING_SECONDS: f64 = 1.0;

pub(super) struct Between<'a> {
    pub(super) run_dir: &'a Path,
    pub(super) plan: &'a Plan,
    pub(super) env: Environment,
    /// When the prepare command under way started.
    pub(super) started_preparing: Option<String>,
    /// Whether the limit of each point is measured right before it (the probes run).
    pub(super) probe_points: bool,
}

/// Points smaller than this get no bandwidth probe of their own: their epochs are too short for a
/// limit to say anything (start-up and the loop's overhead decide), and they keep the curve's.
const PROBED_POINT_MIN_N: u64 = 1024;

/// Said at once, as the report's note under the point will say it: the probe just made at `label`
/// found the CPUs likely not all running at once (all threads' arithmetic less than halfway to
/// the cores' count of one thread's). A host that runs a 2-vCPU guest's CPUs as one core does so
/// in spells of seconds to minutes (docs/limits.md); someone watching may want to wait one out.
fn cpus_apart_warning(bandwidth: &probes::PointBandwidth, label: &str) -> Option<String> {
    let ceiling = bandwidth.compute.as_ref().filter(|c| !c.threads_ran_at_once())?;
    let speedup = ceiling.speedup().map_or(String::new(), |s| format!(" ({})", crate::format::threads_did(ceiling.threads, s)));
    Some(format!(
        "warning: the CPUs were likely not all running at once while {label} was probed{speedup}: its runs on several threads may read below their limit"
    ))
}

impl Between<'_> {
    /// A pending implementation's prepare command starts: said, and the bar hidden for its output.
    pub(super) fn preparing(
        &mut self,
        implementation: &ImplementationPlan,
        pending: &Pending,
        scenario: &ScenarioPlan,
        progress: &mut Progress,
    ) {
        progress.pause();
        progress.say(format!(
            "preparing {} for {}: `{}` (between two scenarios, nothing is measured meanwhile)…",
            implementation.name,
            scenario.name,
            pending.prepare.join(" ")
        ));
        self.started_preparing = Some(environment::utc_now());
    }

    /// … and ended: said, recorded in environment.json, and the bar shown again.
    pub(super) fn prepared(
        &mut self,
        implementation: &ImplementationPlan,
        pending: &Pending,
        scenario: &ScenarioPlan,
        seconds: f64,
        unavailable: Option<String>,
        progress: &mut Progress,
    ) {
        let took = crate::format::seconds_one_decimal(seconds);
        match &unavailable {
            None => progress.say(format!("{} is ready ({took}); {} starts", implementation.name, scenario.name)),
            Some(why) => progress.say(format!("warning: {} stays unavailable ({took}): {why}", implementation.name)),
        }
        self.env.prepared.push(PreparedImplementation {
            implementation: implementation.name.clone(),
            command: pending.prepare.clone(),
            before_scenario: scenario.name.clone(),
            started_utc: self.started_preparing.take().unwrap_or_else(environment::utc_now),
            seconds,
            unavailable,
        });
        self.save(progress);
        progress.resume();
    }

    /// A point starts: the read bandwidth at its working set is measured first (untimed, nothing
    /// else of ours running), so its limit is the machine as it is now.
    pub(super) fn point_starts(&mut self, scenario: &ScenarioPlan, point: &PointPlan, cancel: &CancelToken, progress: &Progress) {
        let Some(bandwidth) = self.probe(point, cancel, progress) else { return };
        self.env.point_bandwidth.push(PointLimitProbe::first(&scenario.name, point.index, bandwidth, environment::utc_now()));
        self.save(progress);
    }

    /// A point made its last run: measured again, and its limit is the best of both probes. The
    /// machine's speed moves within seconds on a shared VM (at 1.6 MB a 2-vCPU Zen 3 switched
    /// between 0.20 and 0.28 ns a point about every second), and a point's runs last seconds to
    /// minutes: two probes that bracket them catch its faster state more often than one before,
    /// and their spread shows how far the machine moved meanwhile. Nothing of the point runs after
    /// it, so no run is nearer a probe than the others.
    pub(super) fn point_ends(&mut self, scenario: &ScenarioPlan, point: &PointPlan, cancel: &CancelToken, progress: &Progress) {
        let Some(after) = self.probe(point, cancel, progress) else { return };
        let measured_utc = environment::utc_now();
        match self.env.point_probe_mut(&scenario.name, point.index) {
            Some(before) => before.add_after(after, measured_utc),
            // Not probed before its first run (the probe failed): this one is its only.
            None => {
                let mut only = PointLimitProbe::first(&scenario.name, point.index, after, measured_utc.clone());
                only.measured_after_utc = Some(measured_utc);
                self.env.point_bandwidth.push(only);
            }
        }
        self.save(progress);
    }

    /// The bandwidth at `point`'s working set, measured now, if the run probes points and it is
    /// large enough; a failure is said and the point keeps what it has (else the curve's limit).
    fn probe(&self, point: &PointPlan, cancel: &CancelToken, progress: &Progress) -> Option<probes::PointBandwidth> {
        if !self.probe_points || point.n < PROBED_POINT_MIN_N || cancel.is_cancelled() {
            return None;
        }
        let points = usize::try_from(point.n).ok()?;
        match probes::measure_at_point(points, cancel) {
            Ok(bandwidth) => {
                if let Some(warning) = bandwidth.as_ref().and_then(|b| cpus_apart_warning(b, &point.label)) {
                    progress.say(warning);
                }
                bandwidth
            }
            Err(e) if cancel.is_cancelled() => {
                drop(e);
                None
            }
            Err(e) => {
                progress.say(format!(
                    "warning: the bandwidth at {} could not be measured ({e}); its limit is its other probe's, or the start-of-run curve's",
                    point.label
                ));
                None
            }
        }
    }

    pub(super) fn scenario_starts(&mut self, scenario: &ScenarioPlan, progress: &Progress) {
        self.env.scenario_started(&scenario.name);
        self.save(progress);
    }

    pub(super) fn scenario_ends(&mut self, index: usize, scenario: &ScenarioPlan, progress: &Progress) {
        self.env.scenario_ended(&scenario.name);
        self.save(progress);
        let to_go = self.plan.scenarios.len().saturating_sub(index + 1);
        if to_go == 0 {
            return;
        }
        let started = Instant::now();
        let rendered = report::render(self.run_dir);
        let took = started.elapsed().as_secs_f64();
        let took =
            if took > WORTH_SAYING_SECONDS { format!(", rendered in {}", crate::format::seconds_one_decimal(took)) } else { String::new() };
        match rendered {
            Ok(_) => progress.say(format!(
                "report so far: {} ({} done; {to_go} scenario{} to go{took})",
                self.run_dir.join(report::REPORT_HTML).display(),
                scenario.name,
                if to_go == 1 { "" } else { "s" }
            )),
            Err(e) => progress.say(format!("warning: the report so far could not be rendered ({e:#}); the run goes on")),
        }
    }

    /// environment.json as it stands; a failure to write it is said, and the run goes on (its
    /// rows are what matters, and the run's end writes the file again).
    fn save(&self, progress: &Progress) {
        if let Err(e) = records::write_json_atomic(&self.run_dir.join(ENVIRONMENT_JSON), &self.env) {
            progress.say(format!("warning: could not update {ENVIRONMENT_JSON}: {e:#}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::probes::bandwidth::tests::one_mib_probe;
    use crate::environment::probes::ComputeCeiling;

    #[test]
    fn a_probe_that_found_the_cpus_apart_is_said_at_once() {
        let probe = |one: f64, all: f64| one_mib_probe(Some(ComputeCeiling::of_rates(one, all, 2, Some(2))));
        let apart = cpus_apart_warning(&probe(60e9, 61e9), "n=10000").expect("1.02×");
        assert_eq!(
            apart,
            "warning: the CPUs were likely not all running at once while n=10000 was probed (2 threads did 1.02× one thread's arithmetic): its runs on several threads may read below their limit"
        );
        assert_eq!(cpus_apart_warning(&probe(60e9, 118e9), "n=10000"), None);
        assert_eq!(cpus_apart_warning(&one_mib_probe(None), "n=10000"), None, "one CPU, or no check");
    }
}
