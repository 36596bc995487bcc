//! The statistics stage: raw records (and the plan they were run from) → one summary per
//! scenario, point and implementation — distributions of every figure, where the time goes,
//! training cost per point per epoch, ratios against the baseline with bootstrap CIs, and the
//! machine's limit at every point beside them. Pure: reads nothing, writes nothing, draws nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fits::{self, FitsSummary};
use super::index::{AtPoint, Grouped};
use super::metric::Metric;
use super::parallel;
use crate::environment::probes::limits::Limit;
use crate::environment::probes::{LimitBound, MachineLimits};
use crate::environment::Environment;
use crate::plan::{ImplementationPlan, Plan, PointPlan, ScenarioPlan};
use crate::records::{RawRecord, RunStatus};
use crate::stats::{self, Distribution, Ratio};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunSummary {
    pub scenarios: Vec<ScenarioSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ScenarioSummary {
    pub name: String,
    pub baseline: String,
    pub points: Vec<PointSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PointSummary {
    pub index: usize,
    pub label: String,
    pub n: u64,
    pub epochs: u64,
    pub learning_rate: f64,
    pub implementations: Vec<ImplementationSummary>,
}

/// How an implementation fared at a point, in one word for tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// Every counted run ended ok.
    Ok,
    /// Every counted run reported a diverged fit.
    Diverged,
    /// Some runs measured, some did not.
    Partial,
    /// No run measured anything.
    Failed,
    /// Not run: its availability check failed.
    Unavailable,
    /// Not run at this point (sweep `skip`), or not reached (interrupted).
    NotRun,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Diverged => "diverged",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Unavailable => "unavailable",
            Outcome::NotRun => "not run",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ImplementationSummary {
    pub implementation: String,
    pub outcome: Outcome,
    /// Counted runs whose figures describe the implementation doing its job (ok or diverged).
    pub runs: usize,
    /// Counted runs that ended otherwise.
    pub failed: usize,
    /// Counted runs the plan asked for that have no row: the run was stopped part-way (killed,
    /// interrupted) or raw.csv lost rows. Absent from summary.json when none is missing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub missing_runs: usize,
    /// Runs by status, e.g. {"ok": 28, "timeout": 2}.
    #[serde(rename = "statuses")]
    pub status_counts: StatusCounts,
    /// The first failure's message (or why it was unavailable).
    pub message: Option<String>,
    pub wall: Option<Distribution>,
    /// user + system, from the kernel.
    pub cpu: Option<Distribution>,
    pub peak_rss: Option<Distribution>,
    pub load: Option<Distribution>,
    pub train: Option<Distribution>,
    /// wall − load − train, per run.
    pub startup: Option<Distribution>,
    /// Median train seconds / (n · epochs run), in nanoseconds; with warm fits, the median warm
    /// fit's (the first fit's when there is no warm one).
    pub ns_per_point_epoch: Option<f64>,
    /// The fit, from the first measured run (fits are deterministic; `fit_consistent` says
    /// whether every run agreed bit for bit: a Rust kernel on `--isa auto` may choose another
    /// instruction set in another run on a CPU with two vector sets, and its last bits differ).
    pub w: Option<f64>,
    pub b: Option<f64>,
    pub mse: Option<f64>,
    pub fit_consistent: bool,
    pub diverged_at_epoch: Option<u64>,
    /// Threads the implementation reported (largest seen), when it says.
    pub threads: Option<u64>,
    /// Measured runs that reported fewer threads than `threads`, and the fewest: a kernel that
    /// chooses its threads by timing (`--threads auto`) and settled on fewer in some runs. Every
    /// run is held to the limit of `threads`. Absent from summary.json when there are none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub runs_on_fewer_threads: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fewest_threads: Option<u64>,
    /// Measured runs whose threads tried software prefetches (their result lines say how many
    /// kept them: the `linreg` kernels past their L2s), and of those, the runs in which at least
    /// one thread kept them. Absent from summary.json when none tried.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prefetch_tried_runs: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub prefetch_kept_runs: usize,
    /// Baseline median wall / this median wall, with a bootstrap CI: > 1 means faster.
    pub speedup_vs_baseline: Option<Ratio>,
    /// The same for training time alone.
    pub train_speedup_vs_baseline: Option<Ratio>,
    /// Baseline median peak RSS / this median: > 1 means leaner.
    pub memory_ratio_vs_baseline: Option<Ratio>,
    /// The machine's limit, ns per point per epoch, for the threads this implementation used: the
    /// larger of 16 bytes at the bandwidth measured for a working set of 16·n bytes and the epoch's
    /// arithmetic at the compute ceiling (see [`crate::environment::probes::limits`]); `limit_bound` says which.
    /// Counted for the fit's own work, as the measured time is: its epochs and the final MSE, one
    /// more pass over the data that every implementation makes inside `train_seconds`
    /// (docs/protocol.md), so (epochs + 1) / epochs times a pass's limit ([`limit_of_fit`]).
    pub limit_ns_per_point_epoch: Option<f64>,
    pub limit_bound: Option<LimitBound>,
    /// The share of the limit reached: limit / measured ns per point per epoch (1 is the limit).
    pub fraction_of_limit: Option<f64>,
    /// Median wall / the spawn floor (/bin/true measured the same way).
    pub wall_over_spawn_floor: Option<f64>,
    /// Warm, repeated fits, when the runs made them (`--fits K`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fits: Option<FitsSummary>,
    /// Medians over the runs that were looked at (raw.csv's `anon_bytes`, `anon_huge_pages_bytes`):
    /// the resident anonymous memory and how much of it lay on huge pages while the fit ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anon_median_bytes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anon_huge_pages_median_bytes: Option<f64>,
}

/// Runs by status. Listed, and written to summary.json, in the order of the statuses' names
/// ("bad_output" … "unavailable"), as they always have been.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct StatusCounts(BTreeMap<RunStatus, usize>);

impl StatusCounts {
    fn of(rows: &[&RawRecord]) -> StatusCounts {
        let mut counts = BTreeMap::new();
        for row in rows {
            *counts.entry(row.status).or_default() += 1;
        }
        StatusCounts(counts)
    }

    /// Each status that occurred with its count, in the order of the statuses' names.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RunStatus, usize)> {
        let mut counts: Vec<(RunStatus, usize)> = self.0.iter().map(|(status, count)| (*status, *count)).collect();
        counts.sort_by_key(|(status, _)| status.as_str());
        counts.into_iter()
    }
}

impl Serialize for StatusCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for StatusCounts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(deserializer).map(StatusCounts)
    }
}

impl ImplementationSummary {
    /// Whether this implementation has figures to show.
    pub(crate) fn measured(&self) -> bool {
        self.wall.is_some()
    }

    /// The counted runs the plan asked for here.
    pub(crate) fn planned_runs(&self) -> usize {
        self.runs + self.failed + self.missing_runs
    }
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// Summarises every scenario of `plan` from its rows (grouped by point). `environment` supplies
/// the machine's limits (bandwidth, spawn floor) when they were measured. The points'
/// implementations are summarised on every CPU, and the progress said on stderr when it takes long.
pub(crate) fn summarise(plan: &Plan, rows: &Grouped<AtPoint>, environment: Option<&Environment>) -> RunSummary {
    let pairs: usize = plan.scenarios.iter().map(|s| s.points.len() * s.implementations.len()).sum();
    let progress = crate::console::Progress::new("statistics", pairs, "implementations at a point");
    RunSummary { scenarios: plan.scenarios.iter().map(|s| summarise_scenario(s, rows, environment, &progress)).collect() }
}

fn summarise_scenario(
    scenario: &ScenarioPlan,
    records: &Grouped<AtPoint>,
    environment: Option<&Environment>,
    progress: &crate::console::Progress,
) -> ScenarioSummary {
    let pairs: Vec<(&PointPlan, &ImplementationPlan)> = scenario
        .points
        .iter()
        .flat_map(|point| scenario.implementations.iter().map(move |implementation| (point, implementation)))
        .collect();
    let summarised = parallel::map(
        &pairs,
        |&(point, implementation)| {
            let key = format!("{}/{}/{}", scenario.name, point.index, implementation.name);
            let rows = records.rows(&(&scenario.name, point.index, &implementation.name));
            let planned = if implementation.runs_at(point) { scenario.measure.repetitions as usize } else { 0 };
            let limits = environment.map(|e| e.limits_at(&scenario.name, point.index));
            let mut summary = summarise_implementation(&implementation.name, rows, point.n, planned, &key, environment, limits);
            let against_baseline =
                |metric| ratio_between(records, &scenario.name, point.index, &scenario.baseline, &implementation.name, metric);
            summary.speedup_vs_baseline = against_baseline(Metric::Wall);
            summary.train_speedup_vs_baseline = against_baseline(Metric::Train);
            summary.memory_ratio_vs_baseline = against_baseline(Metric::PeakRss);
            if let Some(fits) = summary.fits.as_mut() {
                fits.warm_speedup_vs_baseline = against_baseline(Metric::FitWarmMedian);
                fits.one_off_speedup_vs_baseline = against_baseline(Metric::OneOff);
            }
            summary
        },
        || progress.advance(),
    );
    let mut summarised = summarised.into_iter();
    let points = scenario
        .points
        .iter()
        .map(|point| {
            let implementations: Vec<ImplementationSummary> = summarised.by_ref().take(scenario.implementations.len()).collect();
            PointSummary {
                index: point.index,
                label: point.label.clone(),
                n: point.n,
                epochs: point.epochs,
                learning_rate: point.learning_rate,
                implementations,
            }
        })
        .collect();
    ScenarioSummary { name: scenario.name.clone(), baseline: scenario.baseline.clone(), points }
}

/// The measured values of one figure over the runs that measured.
pub(crate) fn values(rows: &[&RawRecord], metric: Metric) -> Vec<f64> {
    rows.iter().filter(|r| r.status.is_measurement()).filter_map(|r| metric.of(r)).filter(|v| v.is_finite()).collect()
}

/// median(`metric` of `numerator`'s runs) / median(`metric` of `denominator`'s runs) at one point,
/// over the runs that measured, with a bootstrap CI. The seed is made from what is compared and
/// nothing else, so the same ratio gets the same interval wherever the report shows it (the
/// results table and a claim) and on every re-render.
pub(crate) fn ratio_between(
    records: &Grouped<AtPoint>,
    scenario: &str,
    point: usize,
    numerator: &str,
    denominator: &str,
    metric: Metric,
) -> Option<Ratio> {
    let sample = |name| values(records.rows(&(scenario, point, name)), metric);
    let key = format!("{scenario}/{point}/{metric}/{numerator}/{denominator}");
    stats::ratio_of_medians(&sample(numerator), &sample(denominator), stats::seed_for(&key))
}

/// The most threads any of `measured` reported, how many reported fewer, and the fewest of those.
fn threads_reported(measured: &[&RawRecord]) -> (Option<u64>, usize, Option<u64>) {
    let most = measured.iter().filter_map(|r| r.threads).max();
    let fewer: Vec<u64> = measured.iter().filter_map(|r| r.threads).filter(|t| most.is_some_and(|m| *t < m)).collect();
    (most, fewer.len(), fewer.iter().copied().min())
}

/// One implementation at a point of `n` values where the plan asked for `planned` counted runs.
fn summarise_implementation(
    name: &str,
    rows: &[&RawRecord],
    n: u64,
    planned: usize,
    key: &str,
    environment: Option<&Environment>,
    limits: Option<MachineLimits<'_>>,
) -> ImplementationSummary {
    let status_counts = StatusCounts::of(rows);
    let counted: Vec<&RawRecord> = rows.iter().copied().filter(|r| r.status != RunStatus::Unavailable).collect();
    // Unavailable where it ran (a merged run's machine without it): nothing was to be run there.
    let planned = if rows.iter().any(|r| r.status == RunStatus::Unavailable) { 0 } else { planned };
    let measured: Vec<&RawRecord> = counted.iter().copied().filter(|r| r.status.is_measurement()).collect();
    let failed = counted.len() - measured.len();
    let outcome = outcome_of(rows, &counted, &measured);
    let message = rows.iter().find(|r| !r.status.is_measurement() && !r.message.is_empty()).map(|r| r.message.clone());
    let describe = |metric: Metric| stats::describe(&values(&measured, metric), stats::seed_for(&format!("{key}/{metric}")));
    let wall = describe(Metric::Wall);
    let train = describe(Metric::Train);
    let first = measured.first();
    let epochs_run = first.and_then(|r| r.epochs_run).unwrap_or(0);
    let (threads, runs_on_fewer_threads, fewest_threads) = threads_reported(&measured);
    let fits = fits::summarise(&measured, key, threads);
    // With warm fits, train_seconds is the sum of K fits: the cost of one is the warm median.
    let one_fit = match &fits {
        Some(f) => f.warm_median.as_ref().or(f.first.as_ref()).map(|d| d.median),
        None => train.as_ref().map(|t| t.median),
    };
    let ns_per_point_epoch = one_fit.filter(|_| n > 0 && epochs_run > 0).map(|t| t * 1e9 / (n as f64 * epochs_run as f64));
    // An implementation that does not say how many threads it used is taken to use one.
    let thread_count = threads.map_or(1, |t| usize::try_from(t).unwrap_or(usize::MAX));
    let limit = limits.and_then(|l| l.at(n, thread_count)).map(|l| limit_of_fit(l, epochs_run));
    let spawn_floor = environment.and_then(|e| e.spawn_floor_seconds).filter(|s| *s > 0.0);
    let same_bits = |a: Option<f64>, b: Option<f64>| a.map(f64::to_bits) == b.map(f64::to_bits);
    ImplementationSummary {
        implementation: name.to_string(),
        outcome,
        runs: measured.len(),
        failed,
        missing_runs: planned.saturating_sub(counted.len()),
        status_counts,
        message,
        cpu: describe(Metric::Cpu),
        peak_rss: describe(Metric::PeakRss),
        load: describe(Metric::Load),
        startup: describe(Metric::Startup),
        ns_per_point_epoch,
        w: first.and_then(|r| r.w),
        b: first.and_then(|r| r.b),
        mse: first.and_then(|r| r.mse),
        fit_consistent: measured.iter().all(|r| first.is_some_and(|f| same_bits(r.w, f.w) && same_bits(r.b, f.b))),
        diverged_at_epoch: first.and_then(|r| r.diverged_at_epoch),
        threads,
        runs_on_fewer_threads,
        fewest_threads,
        prefetch_tried_runs: measured.iter().filter(|r| r.prefetching_threads.is_some()).count(),
        prefetch_kept_runs: measured.iter().filter(|r| r.prefetching_threads.is_some_and(|p| p > 0)).count(),
        speedup_vs_baseline: None,
        train_speedup_vs_baseline: None,
        memory_ratio_vs_baseline: None,
        limit_ns_per_point_epoch: limit.map(|l| l.ns_per_point_epoch),
        limit_bound: limit.map(|l| l.bound),
        fraction_of_limit: limit.zip(ns_per_point_epoch).map(|(limit, ns)| limit.ns_per_point_epoch / ns),
        wall_over_spawn_floor: wall.as_ref().zip(spawn_floor).map(|(w, floor)| w.median / floor),
        wall,
        train,
        fits,
        anon_median_bytes: median_of(&measured, |r| r.anon_bytes),
        anon_huge_pages_median_bytes: median_of(&measured, |r| r.anon_huge_pages_bytes),
    }
}

/// How the runs of one implementation at a point fared, from all its `rows`, those `counted` (not
/// unavailable) and those `measured` (ok or diverged).
fn outcome_of(rows: &[&RawRecord], counted: &[&RawRecord], measured: &[&RawRecord]) -> Outcome {
    if rows.iter().any(|r| r.status == RunStatus::Unavailable) && counted.is_empty() {
        Outcome::Unavailable
    } else if counted.is_empty() {
        Outcome::NotRun
    } else if measured.is_empty() {
        Outcome::Failed
    } else if measured.len() < counted.len() {
        Outcome::Partial
    } else if measured.iter().all(|r| r.status == RunStatus::Diverged) {
        Outcome::Diverged
    } else {
        Outcome::Ok
    }
}

/// The median of a byte count over the runs that have it.
fn median_of(runs: &[&RawRecord], bytes: impl Fn(&RawRecord) -> Option<u64>) -> Option<f64> {
    let values: Vec<f64> = runs.iter().filter_map(|r| bytes(r)).map(|b| b as f64).collect();
    stats::median(&values)
}

/// A pass's limit as the limit of a fit of `epochs` epochs, per epoch: the fit also computes its
/// final MSE, one more pass over x and y (reading 16 bytes a point like an epoch), inside the time
/// measured. At 20 epochs that pass is 5% of the work; at 10 000, 0.01%.
fn limit_of_fit(pass: Limit, epochs: u64) -> Limit {
    let passes_per_epoch = if epochs == 0 { 1.0 } else { (epochs as f64 + 1.0) / epochs as f64 };
    Limit { ns_per_point_epoch: pass.ns_per_point_epoch * passes_per_epoch, ..pass }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plan::{ImplementationPlan, Order};
    use crate::testutil;

    pub(crate) fn plan_of(implementations: &[&str], baseline: &str) -> Plan {
        let implementations =
            implementations.iter().map(|name| ImplementationPlan { command: vec![], ..testutil::implementation(name) }).collect();
        testutil::plan(implementations, baseline, vec![testutil::point(0)], testutil::measure(3, Order::Interleaved))
    }

    pub(crate) fn row(implementation: &str, repetition: u32, status: RunStatus, wall: f64, load: f64, train: f64, rss: u64) -> RawRecord {
        let measured = status.is_measurement();
        let fit = testutil::record(implementation, repetition);
        RawRecord {
            status,
            wall_seconds: Some(wall),
            user_seconds: Some(wall * 0.8),
            system_seconds: Some(wall * 0.1),
            peak_rss_bytes: Some(rss),
            w: fit.w.filter(|_| measured),
            b: fit.b.filter(|_| measured),
            mse: fit.mse.filter(|_| measured),
            epochs_run: fit.epochs_run.filter(|_| measured),
            load_seconds: measured.then_some(load),
            train_seconds: measured.then_some(train),
            message: if measured { String::new() } else { "exit code 2: bad".into() },
            ..testutil::record(implementation, repetition)
        }
    }

    #[test]
    fn medians_phases_ratios_and_costs_follow_the_rows() {
        let plan = plan_of(&["rust", "python"], "python");
        let rows = vec![
            row("rust", 1, RunStatus::Ok, 0.001, 0.0001, 0.0002, 2_000_000),
            row("rust", 2, RunStatus::Ok, 0.002, 0.0001, 0.0002, 2_000_000),
            row("rust", 3, RunStatus::Ok, 0.003, 0.0001, 0.0002, 2_000_000),
            row("python", 1, RunStatus::Ok, 0.100, 0.001, 0.010, 30_000_000),
            row("python", 2, RunStatus::Ok, 0.110, 0.001, 0.010, 30_000_000),
            row("python", 3, RunStatus::Failed, 0.5, 0.0, 0.0, 1),
        ];
        let (curve, ceiling) = crate::environment::probes::limits::tests::machine();
        let env = Environment {
            spawn_floor_seconds: Some(0.0005),
            bandwidth_curve: Some(curve),
            compute_ceiling: Some(ceiling),
            ..Default::default()
        };
        let summary = summarise(&plan, &crate::analysis::index::by_point(&rows), Some(&env));
        let point = &summary.scenarios[0].points[0];
        let rust = &point.implementations[0];
        let python = &point.implementations[1];
        assert_eq!(rust.outcome, Outcome::Ok);
        assert_eq!(python.outcome, Outcome::Partial);
        assert_eq!((python.runs, python.failed, python.missing_runs), (2, 1, 0));
        assert_eq!(python.message.as_deref(), Some("exit code 2: bad"));
        assert_eq!(rust.wall.as_ref().unwrap().median, 0.002);
        assert!((rust.startup.as_ref().unwrap().median - 0.0017).abs() < 1e-12);
        // 0.2 ms over 5 points × 1000 epochs = 40 ns; 80 bytes are in cache, where the arithmetic
        // (1 ns a point on one thread) is the limit of a pass, and the fit makes 1001 passes.
        assert!((rust.ns_per_point_epoch.unwrap() - 40.0).abs() < 1e-9);
        assert_eq!(rust.limit_bound, Some(LimitBound::Compute));
        assert!((rust.limit_ns_per_point_epoch.unwrap() - 1.001).abs() < 1e-12);
        assert!((rust.fraction_of_limit.unwrap() - 1.001 / 40.0).abs() < 1e-12);
        assert!((rust.wall_over_spawn_floor.unwrap() - 4.0).abs() < 1e-9);
        // python's failed run is not a measurement: its median wall is 0.105.
        let speedup = rust.speedup_vs_baseline.unwrap();
        assert!((speedup.estimate - 0.105 / 0.002).abs() < 1e-9, "{speedup:?}");
        assert!(speedup.ci_low <= speedup.estimate && speedup.estimate <= speedup.ci_high);
        assert!((rust.memory_ratio_vs_baseline.unwrap().estimate - 15.0).abs() < 1e-12);
        assert!((python.speedup_vs_baseline.unwrap().estimate - 1.0).abs() < 1e-12);
        assert!(rust.fit_consistent);
    }

    #[test]
    fn the_limit_follows_the_threads_an_implementation_reports() {
        let plan = plan_of(&["serial", "parallel"], "serial");
        let mut rows =
            vec![row("serial", 1, RunStatus::Ok, 0.001, 0.0001, 0.0002, 1), row("parallel", 1, RunStatus::Ok, 0.001, 0.0001, 0.0002, 1)];
        rows[1].threads = Some(2);
        let (curve, ceiling) = crate::environment::probes::limits::tests::machine();
        let env = Environment { bandwidth_curve: Some(curve), compute_ceiling: Some(ceiling), ..Default::default() };
        let summary = summarise(&plan, &crate::analysis::index::by_point(&rows), Some(&env));
        let point = &summary.scenarios[0].points[0];
        // One thread: 1 ns of arithmetic a point a pass; two: 0.5 ns (1000 epochs and the MSE).
        assert!((point.implementations[0].limit_ns_per_point_epoch.unwrap() - 1.001).abs() < 1e-12);
        assert!((point.implementations[1].limit_ns_per_point_epoch.unwrap() - 0.5005).abs() < 1e-12);
        // Without probes there is no limit, and no fraction.
        let unprobed = summarise(&plan, &crate::analysis::index::by_point(&rows), Some(&Environment::default()));
        assert!(unprobed.scenarios[0].points[0]
            .implementations
            .iter()
            .all(|i| i.limit_ns_per_point_epoch.is_none() && i.fraction_of_limit.is_none()));
    }

    #[test]
    fn runs_the_plan_asked_for_without_a_row_are_missing() {
        let plan = plan_of(&["rust", "python"], "python");
        let rows = vec![row("rust", 1, RunStatus::Ok, 0.001, 0.0001, 0.0002, 1), row("rust", 2, RunStatus::Failed, 0.001, 0.0, 0.0, 1)];
        let summary = summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let [rust, python] = &summary.scenarios[0].points[0].implementations[..] else { panic!("two implementations") };
        assert_eq!((rust.runs, rust.failed, rust.missing_runs, rust.planned_runs()), (1, 1, 1, 3));
        assert_eq!((python.runs, python.missing_runs, python.outcome), (0, 3, Outcome::NotRun));
        // Written to summary.json only when some are missing.
        let json = serde_json::to_value(&summary).unwrap();
        let first = &json["scenarios"][0]["points"][0]["implementations"];
        assert_eq!((first[0]["missing_runs"].as_u64(), first[1]["missing_runs"].as_u64()), (Some(1), Some(3)));
        let all_three: Vec<RawRecord> = (1..=3).map(|k| row("rust", k, RunStatus::Ok, 0.001, 0.0001, 0.0002, 1)).collect();
        let json =
            serde_json::to_string(&summarise(&plan_of(&["rust"], "rust"), &crate::analysis::index::by_point(&all_three), None)).unwrap();
        assert!(!json.contains("missing_runs"), "{json}");
    }

    #[test]
    fn unavailable_and_not_run_are_told_apart() {
        let plan = plan_of(&["rust", "numba", "python"], "python");
        let mut unavailable = row("numba", 0, RunStatus::Unavailable, 0.0, 0.0, 0.0, 0);
        unavailable.message = "numba missing".into();
        let summary = summarise(&plan, &crate::analysis::index::by_point(&[unavailable]), None);
        let implementations = &summary.scenarios[0].points[0].implementations;
        assert_eq!(implementations[0].outcome, Outcome::NotRun);
        assert_eq!(implementations[1].outcome, Outcome::Unavailable);
        assert_eq!(implementations[1].message.as_deref(), Some("numba missing"));
        assert!(implementations[0].speedup_vs_baseline.is_none());
    }

    #[test]
    fn a_fit_s_limit_counts_its_final_mse_pass() {
        let pass = Limit { ns_per_point_epoch: 0.5, bound: LimitBound::Bandwidth };
        // 20 epochs and the MSE: 21 passes, 21/20 of a pass an epoch.
        assert!((limit_of_fit(pass, 20).ns_per_point_epoch - 0.525).abs() < 1e-12);
        assert_eq!(limit_of_fit(pass, 20).bound, LimitBound::Bandwidth);
        assert!((limit_of_fit(pass, 10_000).ns_per_point_epoch - 0.50005).abs() < 1e-12);
        // A run that reports no epochs keeps the pass's limit.
        assert_eq!(limit_of_fit(pass, 0), pass);
    }
}
