//! Executing a plan: the runs in their order ([`schedule`]), each measured (measure), classified
//! into a [`RawRecord`] ([`classify`]) and appended to raw.csv and samples.csv as soon as it ends,
//! so an interrupted run keeps every finished measurement.
//!
//! This is the arrow plan → runner → raw records; it knows nothing of statistics or the report.

mod classify;
mod fits;
mod schedule;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::environment::probes::BYTES_PER_POINT;
use crate::measure::{self, CancelToken, ChildCommand, Measured, RunLimits, Termination};
use crate::plan::{self, ImplementationPlan, Pending, Plan, PointPlan, ScenarioPlan};
use crate::records::{CsvAppender, RawRecord, RecordsError, RunStatus, SampleRecord};
use crate::run_dir::{RAW_CSV, SAMPLES_CSV};
use crate::scenario::TemplateError;

pub(crate) use classify::signal_name;
use classify::{classify, classify_one_off, sample_rows, unavailable_rows, unavailable_rows_of};
pub use schedule::Step;
pub(crate) use schedule::{count_runs, runnable, schedule};

/// Which process of a step: the run as planned, or the one-off process before a run of K fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Process {
    AsPlanned,
    OneFit,
}

/// The command of one step, ready to start.
fn child_command(scenario: &ScenarioPlan, step: Step, root: &Path, process: Process) -> Result<ChildCommand, TemplateError> {
    let implementation = &scenario.implementations[step.implementation];
    let point = &scenario.points[step.point];
    let argv = match process {
        Process::AsPlanned => plan::command_for(implementation, point)?,
        Process::OneFit => plan::one_fit_command_for(implementation, point)?,
    };
    let mut command = ChildCommand::new(argv, root);
    command.env = implementation.env.clone();
    Ok(command)
}

/// Starts one process of `step` and measures it to its end.
fn measure_process(scenario: &ScenarioPlan, step: Step, root: &Path, process: Process, cancel: &CancelToken) -> Measured {
    match child_command(scenario, step, root, process) {
        Ok(command) => {
            let mut limits = limits_for(scenario);
            limits.look_at_huge_pages = data_that_may_lie_on_huge_pages(scenario.points[step.point].n);
            measure::run_measured(&command, &limits, Some(scenario.measure.sampling()), cancel)
        }
        Err(why) => Measured::not_started(Termination::SpawnFailed(why.to_string()), 0.0),
    }
}

/// Whether a step makes K ≥ 2 fits, and so has a one-off process run before it (a warm-up too,
/// unrecorded, so that it warms what the one-off process touches): a fresh process making one
/// fit, timed whole. The one-off script is measured so, not derived from the run of K fits
/// (wall − train + first), whose exit after a second of work was measured slower than a short
/// process's (docs/protocol.md).
fn has_one_off(scenario: &ScenarioPlan, step: Step) -> bool {
    let implementation = &scenario.implementations[step.implementation];
    scenario.points[step.point].fits_of(&implementation.name).is_some_and(|k| k >= 2)
}

/// Makes a step's run — after its one-off process, where it has one — and classifies it: its
/// record, what was measured of it, and the wall time of the step's processes together.
fn run_step(scenario: &ScenarioPlan, step: Step, root: &Path, cancel: &CancelToken, totals: &mut Totals) -> (RawRecord, Measured, f64) {
    let wants_one_off = has_one_off(scenario, step);
    let timed_out_before = totals.one_offs_timed_out.contains(&(step.scenario, step.point, step.implementation));
    let one_off = (wants_one_off && !timed_out_before).then(|| {
        let started_unix_seconds = unix_now();
        let measured = measure_process(scenario, step, root, Process::OneFit, cancel);
        totals.count_sampler(&measured);
        (classify_one_off(scenario, step, &measured, started_unix_seconds), measured)
    });
    if one_off.as_ref().is_some_and(|(record, _)| record.status == RunStatus::Timeout) {
        totals.one_offs_timed_out.insert((step.scenario, step.point, step.implementation));
    }
    let one_off_wall_seconds = one_off.as_ref().map_or(0.0, |(_, measured)| measured.wall_seconds);
    match one_off {
        // Interrupted: the run of K fits is not started; the step's record says so (nothing of the
        // one-off process is kept as its).
        Some((one_off, _)) if one_off.status == RunStatus::Interrupted => {
            let not_started = Measured::not_started(Termination::Cancelled, 0.0);
            let mut record = classify(scenario, step, &not_started, one_off.started_unix_seconds);
            record.message = "the orchestrator was interrupted during the one-off process before this run".to_string();
            (record, not_started, one_off_wall_seconds)
        }
        one_off => {
            let started_unix_seconds = unix_now();
            let measured = measure_process(scenario, step, root, Process::AsPlanned, cancel);
            totals.count_sampler(&measured);
            let mut record = classify(scenario, step, &measured, started_unix_seconds);
            if let Some((one_off, _)) = &one_off {
                attach_one_off(&mut record, one_off);
            } else if wants_one_off {
                record.one_off_status = Some(RunStatus::Timeout);
                if record.status.is_measurement() {
                    record.message = format!(
                        "the one-off process before this run (one fit, no --fits) was not run: it timed out (timeout_seconds = {}) before an earlier run of this implementation here",
                        scenario.measure.timeout_seconds
                    );
                }
            }
            let wall_seconds = measured.wall_seconds + one_off_wall_seconds;
            (record, measured, wall_seconds)
        }
    }
}

/// Keeps how the one-off process ended and its wall time in the record of the run of K fits after
/// it; when it was no measurement (neither ok nor diverged) and the run is one, the record's
/// message says why (a failed run keeps its own message; a measurement has none to lose: `classify`
/// writes one only for a failure). A one-off process that ended otherwise
/// than the run (diverged where the run's fits converged, or the reverse) made another fit than
/// the run's: it gives no figure, as bad output.
fn attach_one_off(record: &mut RawRecord, one_off: &RawRecord) {
    record.one_off_status = Some(one_off.status);
    record.one_off_wall_seconds = one_off.wall_seconds;
    if !record.status.is_measurement() {
        return;
    }
    if one_off.status.is_measurement() {
        if one_off.status != record.status {
            record.one_off_status = Some(RunStatus::BadOutput);
            record.message = format!(
                "the one-off process before this run (one fit, no --fits) ended {} where this run's fits ended {}: not the same fit, no one-off figure",
                one_off.status, record.status
            );
        }
        return;
    }
    let why = if one_off.message.is_empty() { one_off.status.to_string() } else { format!("{}: {}", one_off.status, one_off.message) };
    record.message = format!("the one-off process before this run (one fit, no --fits) did not end ok ({why})");
}

/// The limits every run of a scenario gets.
fn limits_for(scenario: &ScenarioPlan) -> RunLimits {
    let mut limits = RunLimits::with_timeout(Duration::from_secs_f64(scenario.measure.timeout_seconds));
    limits.memory_limit_bytes = scenario.measure.memory_limit_mb.map(|mb| mb.saturating_mul(1 << 20));
    limits.cpus = scenario.measure.cpus.clone();
    limits
}

/// The data's size when the runs of a point of `n` points are looked at for huge pages: where
/// the data ([`BYTES_PER_POINT`] a point) is large enough for `linreg` to put it on whole pages on
/// this machine; never where Linux has none to give (whole_pages() is then None).
fn data_that_may_lie_on_huge_pages(n: u64) -> Option<u64> {
    let bytes = n.saturating_mul(BYTES_PER_POINT as u64);
    let placed = linreg::placement::whole_pages().is_some_and(|p| usize::try_from(bytes).is_ok_and(|b| p.for_bytes(b)));
    placed.then_some(bytes)
}

/// What the caller sees of each run as it ends (for progress display).
pub(crate) struct RunEvent<'a> {
    pub step: Step,
    pub index: usize,
    pub total: usize,
    pub scenario: &'a ScenarioPlan,
    /// None for a warm-up.
    pub record: Option<&'a RawRecord>,
    /// The step's processes: the run, and the one-off process before a counted run of K fits.
    pub wall_seconds: f64,
}

/// What the caller hears as the plan runs, in order: each scenario's start (after the prepare
/// commands of its pending implementations), its runs as they end, its end. A scenario without
/// runs (all unavailable or skipped) starts and ends at once; one cut short by an interruption
/// never ends.
pub(crate) enum Event<'a> {
    /// A pending implementation's prepare command starts (before `scenario` starts).
    Preparing {
        implementation: &'a ImplementationPlan,
        pending: &'a Pending,
        scenario: &'a ScenarioPlan,
    },
    /// … and ended after `seconds`: `unavailable` is None when the implementation runs now.
    Prepared {
        implementation: &'a ImplementationPlan,
        pending: &'a Pending,
        scenario: &'a ScenarioPlan,
        seconds: f64,
        unavailable: Option<String>,
    },
    ScenarioStarts(&'a ScenarioPlan),
    /// The first run of a point is about to start.
    PointStarts {
        scenario: &'a ScenarioPlan,
        point: &'a PointPlan,
    },
    /// The last run of a point has ended (before its scenario ends; not in an interrupted run).
    PointEnds {
        scenario: &'a ScenarioPlan,
        point: &'a PointPlan,
    },
    Run(RunEvent<'a>),
    /// A planned run not made: its implementation could not be prepared.
    LeftOut(Step),
    /// Scenario `index` of the plan made its last run; nothing of the next has started.
    ScenarioEnds {
        index: usize,
        scenario: &'a ScenarioPlan,
    },
}

/// Says that the point under way, if any, made its last run.
fn end_point<'p>(plan: &'p Plan, point: Option<(usize, usize)>, on_event: &mut dyn FnMut(Event<'p>)) {
    if let Some((s, p)) = point {
        let scenario = &plan.scenarios[s];
        on_event(Event::PointEnds { scenario, point: &scenario.points[p] });
    }
}

/// Announces what ends before scenario `target` (the plan's length: its end): the scenario under
/// way ends, and those in between (without runs) start and end.
fn end_before<'p>(plan: &'p Plan, target: usize, under_way: &mut Option<usize>, on_event: &mut dyn FnMut(Event<'p>)) {
    let first = under_way.map_or(0, |u| u + 1);
    if let Some(index) = under_way.take() {
        on_event(Event::ScenarioEnds { index, scenario: &plan.scenarios[index] });
    }
    for index in first..target.min(plan.scenarios.len()) {
        on_event(Event::ScenarioStarts(&plan.scenarios[index]));
        on_event(Event::ScenarioEnds { index, scenario: &plan.scenarios[index] });
    }
}

/// Runs the prepare command of each pending implementation of `scenario` not prepared yet (one
/// per key), and writes the `unavailable` rows of those that stay unavailable. Nothing is
/// measured meanwhile. Stops at once when the run is interrupted (no rows for what it cut short).
fn prepare_for<'p>(
    scenario: &'p ScenarioPlan,
    root: &Path,
    cancel: &CancelToken,
    prepared: &mut BTreeMap<String, Option<String>>,
    raw: &mut CsvAppender<RawRecord>,
    on_event: &mut dyn FnMut(Event<'p>),
) -> Result<(), RecordsError> {
    for implementation in &scenario.implementations {
        let Some(pending) = &implementation.pending else { continue };
        if !prepared.contains_key(&pending.key) {
            if cancel.is_cancelled() {
                return Ok(());
            }
            on_event(Event::Preparing { implementation, pending, scenario });
            let started = Instant::now();
            let unavailable = plan::prepare(implementation, pending, root, cancel);
            if cancel.is_cancelled() {
                return Ok(());
            }
            let seconds = started.elapsed().as_secs_f64();
            on_event(Event::Prepared { implementation, pending, scenario, seconds, unavailable: unavailable.clone() });
            prepared.insert(pending.key.clone(), unavailable);
        }
        if let Some(Some(why)) = prepared.get(&pending.key) {
            raw.append(&unavailable_rows_of(scenario, implementation, why, unix_now()))?;
        }
    }
    Ok(())
}

/// Whether `implementation` was pending and its prepare command left it unavailable.
fn left_unavailable(implementation: &ImplementationPlan, prepared: &BTreeMap<String, Option<String>>) -> bool {
    implementation.pending.as_ref().is_some_and(|p| matches!(prepared.get(&p.key), Some(Some(_))))
}

/// What a whole execution produced, besides the files.
#[derive(Debug, Default, Clone)]
pub(crate) struct Totals {
    pub runs: usize,
    pub sampler_cpu_seconds: f64,
    pub sampled_wall_seconds: f64,
    pub interrupted: bool,
    /// What happened to raw.csv and samples.csv from outside (a measured program deleted them)
    /// and how they were kept whole.
    pub record_notes: Vec<String>,
    /// The pending implementations prepared, by key: None when they ran, else why not.
    pub prepared: BTreeMap<String, Option<String>>,
    /// (scenario, point, implementation) whose one-off process timed out: not run again there,
    /// so that it does not cost `timeout_seconds` before every run.
    one_offs_timed_out: BTreeSet<(usize, usize, usize)>,
}

impl Totals {
    /// Adds what the sampler spent on a measured process, and the time it watched it.
    fn count_sampler(&mut self, measured: &Measured) {
        self.sampler_cpu_seconds += measured.sampler_cpu_seconds;
        self.sampled_wall_seconds += if measured.pid.is_some() { measured.wall_seconds } else { 0.0 };
    }
}

/// Runs every step in order, appending each counted run to raw.csv and samples.csv in `run_dir`
/// before the next starts, and telling `on_event` of each run and each scenario's start and end
/// (between two scenarios nothing runs until it returns). Stops early (marking the run in
/// progress `interrupted`) once `cancel` is set.
pub(crate) fn execute(
    plan: &Plan,
    root: &Path,
    run_dir: &Path,
    cancel: &CancelToken,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<Totals, RecordsError> {
    let mut raw = CsvAppender::<RawRecord>::open(&run_dir.join(RAW_CSV))?;
    let mut samples = CsvAppender::<SampleRecord>::open(&run_dir.join(SAMPLES_CSV))?;
    raw.append(&unavailable_rows(plan, unix_now()))?;
    let steps = schedule(plan);
    let mut totals = Totals::default();
    let mut under_way = None;
    let mut point_under_way = None;
    for (index, &step) in steps.iter().enumerate() {
        if cancel.is_cancelled() {
            totals.interrupted = true;
            break;
        }
        let scenario = &plan.scenarios[step.scenario];
        if point_under_way.is_some_and(|under_way| under_way != (step.scenario, step.point)) {
            sync_rows(&mut raw, &mut samples)?;
            end_point(plan, point_under_way.take(), &mut on_event);
        }
        if under_way != Some(step.scenario) {
            end_before(plan, step.scenario, &mut under_way, &mut on_event);
            prepare_for(scenario, root, cancel, &mut totals.prepared, &mut raw, &mut on_event)?;
            if cancel.is_cancelled() {
                totals.interrupted = true;
                break;
            }
            on_event(Event::ScenarioStarts(scenario));
            under_way = Some(step.scenario);
        }
        if left_unavailable(&scenario.implementations[step.implementation], &totals.prepared) {
            on_event(Event::LeftOut(step));
            continue;
        }
        if point_under_way != Some((step.scenario, step.point)) {
            point_under_way = Some((step.scenario, step.point));
            on_event(Event::PointStarts { scenario, point: &scenario.points[step.point] });
        }
        let (record, measured, wall_seconds) = run_step(scenario, step, root, cancel, &mut totals);
        totals.runs += 1;
        if record.status == RunStatus::Interrupted {
            totals.interrupted = true;
        }
        if !step.is_warmup() || record.status == RunStatus::Interrupted {
            raw.append(std::slice::from_ref(&record))?;
            if !step.is_warmup() {
                samples.append(&sample_rows(&record, &measured))?;
            }
        }
        let shown = (!step.is_warmup()).then_some(&record);
        on_event(Event::Run(RunEvent { step, index, total: steps.len(), scenario, record: shown, wall_seconds }));
        if totals.interrupted {
            break;
        }
    }
    sync_rows(&mut raw, &mut samples)?;
    totals.record_notes = raw.take_notes().into_iter().chain(samples.take_notes()).collect();
    if !totals.interrupted {
        end_point(plan, point_under_way, &mut on_event);
        end_before(plan, plan.scenarios.len(), &mut under_way, &mut on_event);
    }
    Ok(totals)
}

/// The rows so far to the disk: at the end of a point and of the run, never between two runs of
/// a point (see [`CsvAppender`]: an fdatasync can slow the run right after it).
fn sync_rows(raw: &mut CsvAppender<RawRecord>, samples: &mut CsvAppender<SampleRecord>) -> Result<(), RecordsError> {
    raw.sync()?;
    samples.sync()
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::{attach_one_off, data_that_may_lie_on_huge_pages};
    use crate::records::{RawRecord, RunStatus};
    use crate::testutil;

    #[test]
    fn a_one_off_process_that_measured_is_kept_and_one_that_did_not_is_said() {
        let run = || RawRecord { fits: Some(4), ..testutil::record("a", 1) };
        for status in [RunStatus::Ok, RunStatus::Diverged] {
            let mut record = RawRecord { status, ..run() };
            attach_one_off(&mut record, &RawRecord { status, wall_seconds: Some(0.002), ..testutil::record("a", 1) });
            assert_eq!(
                (record.one_off_status, record.one_off_wall_seconds, record.one_off_seconds()),
                (Some(status), Some(0.002), Some(0.002))
            );
            assert_eq!(record.message, "");
        }
        // A one-off process that diverged before a run whose fits converged made another fit.
        let mut record = run();
        attach_one_off(&mut record, &RawRecord { status: RunStatus::Diverged, wall_seconds: Some(0.002), ..testutil::record("a", 1) });
        assert_eq!((record.one_off_status, record.one_off_seconds()), (Some(RunStatus::BadOutput), None));
        assert!(record.message.contains("ended diverged where this run's fits ended ok"), "{}", record.message);
        let mut record = run();
        let failed = RawRecord { status: RunStatus::Failed, message: "exit code 1: no".into(), ..testutil::record("a", 1) };
        attach_one_off(&mut record, &failed);
        assert_eq!((record.one_off_status, record.one_off_seconds()), (Some(RunStatus::Failed), None), "no figure, not a derived one");
        assert_eq!(record.message, "the one-off process before this run (one fit, no --fits) did not end ok (failed: exit code 1: no)");
        // A run that failed itself keeps its own message.
        let mut record = RawRecord { status: RunStatus::Crashed, message: "killed by SIGSEGV".into(), ..run() };
        attach_one_off(&mut record, &failed);
        assert_eq!(record.message, "killed by SIGSEGV");
    }

    #[test]
    fn only_points_whose_data_linreg_would_place_are_looked_at() {
        assert_eq!(data_that_may_lie_on_huge_pages(5), None, "the seed's 5 points: never");
        assert_eq!(data_that_may_lie_on_huge_pages(1_000), None, "16 KB: below any L2's third");
        let ten_million = data_that_may_lie_on_huge_pages(10_000_000);
        assert_eq!(ten_million.is_some(), linreg::placement::whole_pages().is_some(), "160 MB: wherever Linux has huge pages");
        assert!(ten_million.is_none_or(|bytes| bytes == 160_000_000));
    }
}
