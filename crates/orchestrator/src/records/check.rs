//! The values a record can hold: durations finite and not negative (a wall time above zero), a
//! fit's figures finite with an mse ≥ 0, epochs within those asked for, a thread count a machine
//! can have. Defined once: a run's result line is classified with it (execute::classify), and every
//! row of raw.csv and samples.csv is checked with it when read back (records::csv).
//!
//! Then the times a run can have together: load + train within the wall time measured from
//! outside, the fits within the training. A live run whose result line breaks them is refused
//! (bad_output); a row of raw.csv read back that breaks them is set aside (records::screen).

use super::{RawRecord, SampleRecord};
use crate::environment::probes::{ComputeCeiling, Spread};
use crate::environment::Environment;
use crate::format;

/// More threads than any machine runs (the largest have a few thousand hardware threads): a
/// result line claiming more is wrong.
pub(crate) const MAX_THREADS: u64 = 1 << 16;

/// A field holding a value it cannot hold, e.g. `mse = -1: must be a finite number ≥ 0`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{column} = {value}: {rule}")]
pub(crate) struct ImpossibleValue {
    /// The field's name: its raw.csv column, and its name in the result line.
    pub column: &'static str,
    pub value: String,
    pub rule: String,
}

/// A row of a records file that knows which of its values are impossible.
pub(crate) trait Checked {
    /// The first impossible value, if any.
    fn impossible_value(&self) -> Option<ImpossibleValue>;
}

fn impossible(column: &'static str, value: impl ToString, rule: impl Into<String>) -> Option<ImpossibleValue> {
    Some(ImpossibleValue { column, value: value.to_string(), rule: rule.into() })
}

/// A number as a message shows it: as written where that is short, else in exponent form (a
/// value of 1e300 is not 301 digits).
fn shown(value: f64) -> String {
    let plain = value.to_string();
    if plain.len() <= 24 {
        plain
    } else {
        format!("{value:e}")
    }
}

/// A finite number ≥ 0 (a count of seconds of CPU, a load average).
fn not_negative(column: &'static str, value: Option<f64>) -> Option<ImpossibleValue> {
    value.filter(|v| !(v.is_finite() && *v >= 0.0)).and_then(|v| impossible(column, shown(v), "must be a finite number ≥ 0"))
}

/// A finite number > 0 (a bandwidth, a floor).
fn above_zero(column: &'static str, value: Option<f64>) -> Option<ImpossibleValue> {
    value.filter(|v| !(v.is_finite() && *v > 0.0)).and_then(|v| impossible(column, shown(v), "must be a finite number > 0"))
}

fn finite(column: &'static str, value: Option<f64>) -> Option<ImpossibleValue> {
    value.filter(|v| !v.is_finite()).and_then(|v| impossible(column, shown(v), "must be a finite number"))
}

/// Longer than any run measured here can last (about 32 years): a duration above it is no
/// clock's reading, and it would turn a ratio of medians into infinity.
const MAX_SECONDS: f64 = 1e9;

/// Seconds of a phase, of CPU or of the clock: ≥ 0 (> 0 with `above_zero`), at most [`MAX_SECONDS`].
fn seconds(column: &'static str, value: Option<f64>, above_zero: bool) -> Option<ImpossibleValue> {
    let possible = |v: f64| v.is_finite() && (v > 0.0 || (!above_zero && v == 0.0)) && v <= MAX_SECONDS;
    let rule =
        if above_zero { "must be a number of seconds > 0 and at most 1e9" } else { "must be a number of seconds ≥ 0 and at most 1e9" };
    value.filter(|v| !possible(*v)).and_then(|v| impossible(column, shown(v), rule))
}

/// How far load + train may exceed the wall time measured from outside: the child's clock and
/// ours tick differently (1 ms, and 1% of the wall time).
const CLOCK_SLACK_SECONDS: f64 = 1e-3;
const CLOCK_SLACK_FRACTION: f64 = 0.01;

/// How far the fits may add up beyond `train_seconds`: both are the implementation's own figures,
/// so only rounding separates them (0.1%, and 1 µs).
const SUM_SLACK_FRACTION: f64 = 1e-3;
const SUM_SLACK_SECONDS: f64 = 1e-6;

/// Whether a run's own phases claim more time than the whole process took: its start-up would come
/// out negative (a start-up of −17 s) in the report.
pub(crate) fn phases_exceed_wall(load_seconds: f64, train_seconds: f64, wall_seconds: f64) -> bool {
    load_seconds + train_seconds > wall_seconds * (1.0 + CLOCK_SLACK_FRACTION) + CLOCK_SLACK_SECONDS
}

/// The least time `fits` fits take by their own figures: the first, and the warm ones (their mean
/// times their count, and at least the longest).
pub(crate) fn fits_seconds(fits: u64, first_seconds: f64, warm_mean_and_max: Option<(f64, f64)>) -> f64 {
    first_seconds + warm_mean_and_max.map_or(0.0, |(mean, max)| (fits.saturating_sub(1) as f64 * mean).max(max))
}

/// Whether the fits take longer than the training they are the parts of.
pub(crate) fn fits_exceed_training(fits_seconds: f64, train_seconds: f64) -> bool {
    fits_seconds > train_seconds * (1.0 + SUM_SLACK_FRACTION) + SUM_SLACK_SECONDS
}

impl RawRecord {
    /// Times no run has: a duration longer than [`MAX_SECONDS`]; and times that each can be but
    /// not together: load + train beyond the wall time, the fits beyond the training. The first
    /// such problem. (A row with one is set aside, where an impossible value refuses the file.)
    pub(crate) fn implausible_times(&self) -> Option<ImpossibleValue> {
        let durations = [
            ("wall_seconds", self.wall_seconds),
            ("user_seconds", self.user_seconds),
            ("system_seconds", self.system_seconds),
            ("load_seconds", self.load_seconds),
            ("train_seconds", self.train_seconds),
            ("one_off_wall_seconds", self.one_off_wall_seconds),
        ];
        if let Some(problem) = durations.into_iter().find_map(|(column, value)| seconds(column, value, false)) {
            return Some(problem);
        }
        if let (Some(load), Some(train), Some(wall)) = (self.load_seconds, self.train_seconds, self.wall_seconds) {
            if phases_exceed_wall(load, train, wall) {
                let rule = format!("more than wall_seconds = {}, the whole process measured from outside", format::seconds(wall));
                return impossible("load_seconds + train_seconds", format::seconds(load + train), rule);
            }
        }
        if let Some(problem) = self.impossible_one_off() {
            return Some(problem);
        }
        let (fits, first, train) = (self.fits?, self.fit_first_seconds?, self.train_seconds?);
        let warm = self.fit_warm_mean_seconds.zip(self.fit_warm_max_seconds);
        let fits_seconds = fits_seconds(fits, first, warm);
        fits_exceed_training(fits_seconds, train).then(|| ImpossibleValue {
            column: "fit_first_seconds + warm fits",
            value: format::seconds(fits_seconds),
            rule: format!("more than train_seconds = {}, which is their sum", format::seconds(train)),
        })
    }

    /// One-off columns no run writes: on a run that measured fewer than 2 fits (which has no
    /// one-off process before it), or a one-off process that ended ok or diverged without its wall
    /// time. A run of K fits that did not end ok has no result line to count its fits by, and
    /// keeps the columns of the one-off process before it.
    fn impossible_one_off(&self) -> Option<ImpossibleValue> {
        let columns = self.one_off_wall_seconds.is_some() || self.one_off_status.is_some();
        if columns && self.status.is_measurement() && !self.has_warm_fits() {
            let value =
                self.one_off_wall_seconds.map_or_else(|| self.one_off_status.map_or(String::new(), |s| s.to_string()), format::seconds);
            let fits = self.fits.map_or("no fits".to_string(), |k| format!("fits = {k}"));
            return impossible(
                "one_off_wall_seconds, one_off_status",
                value,
                format!("only a run of 2 or more fits has a one-off process before it ({fits})"),
            );
        }
        let ended = self.one_off_status.filter(|s| s.is_measurement() && self.one_off_wall_seconds.is_none());
        ended
            .and_then(|s| impossible("one_off_status", s, "a one-off process that ended so has a wall time: one_off_wall_seconds is empty"))
    }

    /// The result line's figures of this row (w, b, mse, epochs, threads and the prefetching
    /// ones among them), checked against the epochs the run asked for.
    pub(crate) fn impossible_result(&self) -> Option<ImpossibleValue> {
        let epochs = self.epochs;
        finite("w", self.w)
            .or_else(|| finite("b", self.b))
            .or_else(|| not_negative("mse", self.mse))
            .or_else(|| {
                let past = self.epochs_run.filter(|&e| e > epochs);
                past.and_then(|e| impossible("epochs_run", e, format!("must be at most the epochs asked for ({epochs})")))
            })
            .or_else(|| {
                let outside = self.diverged_at_epoch.filter(|e| !(1..=epochs).contains(e));
                outside.and_then(|e| impossible("diverged_at_epoch", e, format!("must be between 1 and the epochs asked for ({epochs})")))
            })
            .or_else(|| {
                let outside = self.threads.filter(|t| !(1..=MAX_THREADS).contains(t));
                outside.and_then(|t| impossible("threads", t, format!("must be between 1 and {MAX_THREADS}")))
            })
            .or_else(|| {
                // Of the threads that summed; one where the line names none.
                let most = self.threads.unwrap_or(1);
                let more = self.prefetching_threads.filter(|&p| p > most);
                more.and_then(|p| impossible("prefetching_threads", p, format!("must be at most the threads that summed ({most})")))
            })
    }
}

impl Checked for RawRecord {
    fn impossible_value(&self) -> Option<ImpossibleValue> {
        above_zero("wall_seconds", self.wall_seconds)
            .or_else(|| not_negative("user_seconds", self.user_seconds))
            .or_else(|| not_negative("system_seconds", self.system_seconds))
            .or_else(|| not_negative("load_seconds", self.load_seconds))
            .or_else(|| not_negative("train_seconds", self.train_seconds))
            .or_else(|| not_negative("sampler_cpu_seconds", self.sampler_cpu_seconds))
            .or_else(|| above_zero("one_off_wall_seconds", self.one_off_wall_seconds))
            .or_else(|| not_negative("started_unix_seconds", Some(self.started_unix_seconds)))
            .or_else(|| finite("learning_rate", Some(self.learning_rate)))
            .or_else(|| {
                let more_than_all = self.anon_huge_pages_bytes.zip(self.anon_bytes).filter(|(huge, all)| huge > all);
                more_than_all.and_then(|(huge, _)| impossible("anon_huge_pages_bytes", huge, "must be at most anon_bytes"))
            })
            .or_else(|| self.impossible_result())
    }
}

/// The first of environment.json's figures that no machine gives — 0 or 2^64 logical CPUs, a
/// negative spawn floor, a bandwidth of 0, a load average below 0, a share of the CPUs outside
/// 0–1 — naming its field (`at` the path to this environment in a merged one's, ending with a
/// dot, or empty); then the same in each merged shard's environment. Such a file is not used:
/// the report says the machine is unknown rather than print `cpu-18446744073709551615c` or a
/// floor of −3 ms.
pub(crate) fn environment_problem(env: &Environment, at: &str) -> Option<String> {
    let cpus_outside = Some(env.logical_cpus as u64).filter(|cpus| !(1..=MAX_THREADS).contains(cpus));
    cpus_outside
        .and_then(|cpus| impossible("logical_cpus", cpus, format!("must be between 1 and {MAX_THREADS}")))
        .or_else(|| seconds("sampler_cpu_seconds", Some(env.sampler_cpu_seconds), false))
        .or_else(|| seconds("sampled_wall_seconds", Some(env.sampled_wall_seconds), false))
        .or_else(|| seconds("probe_seconds", env.probe_seconds, false))
        .or_else(|| load_average_problem(env))
        .or_else(|| above_zero("bandwidth_single_thread_bytes_per_second", env.bandwidth_single_thread_bytes_per_second))
        .or_else(|| above_zero("bandwidth_all_threads_bytes_per_second", env.bandwidth_all_threads_bytes_per_second))
        .or_else(|| above_zero("spawn_floor_seconds", env.spawn_floor_seconds))
        .or_else(|| {
            let outside = env.other_cpu_share.filter(|share| !(0.0..=1.0).contains(share));
            outside.and_then(|share| impossible("other_cpu_share", share, "must be between 0 and 1"))
        })
        .or_else(|| probes_problem(env))
        .map(|bad| format!("{at}{bad}"))
        .or_else(|| {
            let mut machines = env.merged.iter().flat_map(|m| m.machines.iter().enumerate());
            machines.find_map(|(k, m)| {
                m.environment.as_ref().and_then(|e| environment_problem(e, &format!("{at}merged.machines[{k}].environment.")))
            })
        })
}

/// More processes than Linux allows (PID_MAX_LIMIT on 64-bit): no load average reaches it.
const MAX_LOAD_AVERAGE: f64 = 4_194_304.0;

/// The first load average of the run or of a scenario that is negative or beyond any machine's.
fn load_average_problem(env: &Environment) -> Option<ImpossibleValue> {
    let of_scenarios = env.scenarios.iter().flat_map(|s| s.load_average_start.iter().chain(s.load_average_end.iter()));
    let mut loads = std::iter::once(&env.load_average_start).chain(env.load_average_end.iter()).chain(of_scenarios).flatten();
    loads.find_map(|&load| {
        not_negative("load_average", Some(load))
            .or_else(|| (load > MAX_LOAD_AVERAGE).then(|| impossible("load_average", shown(load), "must be at most 4194304")).flatten())
    })
}

/// The columns [`ceiling_problem`] names: the start-of-run ceiling's, or a point probe's.
const CEILING_FIELDS: [&str; 4] = [
    "compute_ceiling.flops_per_point",
    "compute_ceiling.single_thread_flops_per_second",
    "compute_ceiling.all_threads_flops_per_second",
    "compute_ceiling.cores",
];
const POINT_CEILING_FIELDS: [&str; 4] = [
    "point_bandwidth.compute.flops_per_point",
    "point_bandwidth.compute.single_thread_flops_per_second",
    "point_bandwidth.compute.all_threads_flops_per_second",
    "point_bandwidth.compute.cores",
];

/// The first impossible figure of a compute ceiling, named by `fields`.
fn ceiling_problem(c: &ComputeCeiling, fields: &[&'static str; 4]) -> Option<ImpossibleValue> {
    let [per_point, one, all, cores] = *fields;
    above_zero(per_point, Some(c.flops_per_point))
        .or_else(|| spread_problem(one, &c.single_thread_flops_per_second))
        .or_else(|| spread_problem(all, &c.all_threads_flops_per_second))
        .or_else(|| above_zero(cores, c.cores.map(|cores| cores as f64)))
}

/// A best, median and worst rate of a probe: each finite and > 0.
fn spread_problem(column: &'static str, spread: &Spread) -> Option<ImpossibleValue> {
    [spread.best, spread.median, spread.worst].into_iter().find_map(|v| above_zero(column, Some(v)))
}

/// The first impossible figure of the probes environment.json keeps in full (the compute
/// ceiling, the bandwidth curve, each point's limit and its check of the CPUs, the spawn floor,
/// a CPUID's cost, the sampler's cost): each sets a limit, a floor or a verdict beside the
/// measurements, so one of them negative or zero would move a figure of the report without a word.
fn probes_problem(env: &Environment) -> Option<ImpossibleValue> {
    let ceiling = env.compute_ceiling.as_ref().and_then(|c| ceiling_problem(c, &CEILING_FIELDS));
    let curve = || {
        let sizes = env.bandwidth_curve.iter().flat_map(|c| c.single_thread.iter().chain(&c.all_threads));
        sizes.map(|size| &size.bytes_per_second).find_map(|s| spread_problem("bandwidth_curve.bytes_per_second", s))
    };
    // Each point's limit as kept (both probes together) and each probe it was made of.
    let point_probes = || env.point_bandwidth.iter().flat_map(|p| std::iter::once(&p.bandwidth).chain(&p.probes));
    let points = || {
        let sizes = point_probes().flat_map(|b| std::iter::once(&b.single_thread).chain(b.all_threads.as_ref()));
        sizes.map(|size| &size.bytes_per_second).find_map(|s| spread_problem("point_bandwidth.bytes_per_second", s))
    };
    let point_ceilings = || point_probes().filter_map(|b| b.compute.as_ref()).find_map(|c| ceiling_problem(c, &POINT_CEILING_FIELDS));
    let floor = || {
        let floor = env.spawn_floor.as_ref()?;
        let walls = [floor.min_wall_seconds, floor.median_wall_seconds, floor.max_wall_seconds];
        walls
            .into_iter()
            .find_map(|s| seconds("spawn_floor.wall_seconds", Some(s), true))
            .or_else(|| seconds("spawn_floor.median_spawn_seconds", floor.median_spawn_seconds, true))
    };
    let sampler = || {
        let cost = env.sampler_cost.as_ref()?;
        let times = cost.pairs.iter().flat_map(|p| [p.default_seconds, p.sparse_seconds]);
        let mut cpu = cost.pairs.iter().map(|p| p.default_sampler_cpu_seconds);
        times
            .into_iter()
            .find_map(|s| seconds("sampler_cost.pairs.seconds", Some(s), true))
            .or_else(|| cpu.find_map(|s| seconds("sampler_cost.pairs.default_sampler_cpu_seconds", Some(s), false)))
            .or_else(|| above_zero("sampler_cost.median_ratio", Some(cost.median_ratio)))
    };
    let cpuid = || {
        let cost = env.cpuid_cost.as_ref()?;
        [cost.best_seconds, cost.median_seconds, cost.worst_seconds].into_iter().find_map(|s| seconds("cpuid_cost.seconds", Some(s), true))
    };
    ceiling.or_else(curve).or_else(points).or_else(point_ceilings).or_else(floor).or_else(cpuid).or_else(sampler)
}

impl Checked for SampleRecord {
    fn impossible_value(&self) -> Option<ImpossibleValue> {
        seconds("t_seconds", Some(self.t_seconds), false).or_else(|| seconds("cpu_seconds", Some(self.cpu_seconds), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil;

    #[test]
    fn every_impossible_value_is_named_and_possible_ones_pass() {
        let good = testutil::record("rust", 1);
        assert_eq!(good.impossible_value(), None, "{good:?}");
        let zero_cpu = RawRecord {
            user_seconds: Some(0.0),
            threads: Some(MAX_THREADS),
            prefetching_threads: Some(MAX_THREADS),
            diverged_at_epoch: Some(1000),
            anon_bytes: Some(2 << 20),
            anon_huge_pages_bytes: Some(2 << 20),
            ..good.clone()
        };
        assert_eq!(zero_cpu.impossible_value(), None);
        for (row, column) in [
            (RawRecord { wall_seconds: Some(f64::NAN), ..good.clone() }, "wall_seconds"),
            (RawRecord { wall_seconds: Some(0.0), ..good.clone() }, "wall_seconds"),
            (RawRecord { one_off_wall_seconds: Some(-1e-3), ..good.clone() }, "one_off_wall_seconds"),
            (RawRecord { one_off_wall_seconds: Some(f64::INFINITY), ..good.clone() }, "one_off_wall_seconds"),
            (RawRecord { system_seconds: Some(-1e-9), ..good.clone() }, "system_seconds"),
            (RawRecord { train_seconds: Some(f64::INFINITY), ..good.clone() }, "train_seconds"),
            (RawRecord { b: Some(f64::NEG_INFINITY), ..good.clone() }, "b"),
            (RawRecord { mse: Some(-1.0), ..good.clone() }, "mse"),
            (RawRecord { epochs_run: Some(1001), ..good.clone() }, "epochs_run"),
            (RawRecord { diverged_at_epoch: Some(0), ..good.clone() }, "diverged_at_epoch"),
            (RawRecord { threads: Some(0), ..good.clone() }, "threads"),
            (RawRecord { threads: Some(1_000_000_000_000), ..good.clone() }, "threads"),
            (RawRecord { threads: Some(2), prefetching_threads: Some(3), ..good.clone() }, "prefetching_threads"),
            (RawRecord { threads: None, prefetching_threads: Some(2), ..good.clone() }, "prefetching_threads"),
            (RawRecord { anon_bytes: Some(1 << 20), anon_huge_pages_bytes: Some(2 << 20), ..good.clone() }, "anon_huge_pages_bytes"),
        ] {
            assert_eq!(row.impossible_value().map(|bad| bad.column), Some(column), "{row:?}");
        }
        let message = RawRecord { mse: Some(-1.0), ..good.clone() }.impossible_value().map(|bad| bad.to_string());
        assert_eq!(message.as_deref(), Some("mse = -1: must be a finite number ≥ 0"));
        // A value far out is shown in exponent form, not in 301 digits.
        let message = RawRecord { train_seconds: Some(-1e-300), ..good.clone() }.impossible_value().map(|bad| bad.to_string());
        assert_eq!(message.as_deref(), Some("train_seconds = -1e-300: must be a finite number ≥ 0"));
        // A duration longer than any run (a forged 1e308 made a speed-up of inf× [1.10–NaN]):
        // the row is set aside, as times that cannot be true together are.
        for (row, column) in [
            (RawRecord { one_off_wall_seconds: Some(1e308), ..good.clone() }, "one_off_wall_seconds"),
            (RawRecord { wall_seconds: Some(1.1e9), ..good.clone() }, "wall_seconds"),
            (RawRecord { user_seconds: Some(1e300), ..good.clone() }, "user_seconds"),
        ] {
            assert_eq!(row.impossible_value(), None, "{row:?}");
            assert_eq!(row.implausible_times().map(|bad| bad.column), Some(column), "{row:?}");
        }
        let message = RawRecord { wall_seconds: Some(1e308), ..good }.implausible_times().map(|bad| bad.to_string());
        assert_eq!(message.as_deref(), Some("wall_seconds = 1e308: must be a number of seconds ≥ 0 and at most 1e9"));
    }

    #[test]
    fn one_off_columns_only_where_a_run_writes_them() {
        use crate::records::RunStatus;
        let service = RawRecord { fits: Some(4), fit_first_seconds: Some(1e-4), train_seconds: Some(4e-4), ..testutil::record("rust", 1) };
        let measured = RawRecord { one_off_wall_seconds: Some(7e-4), one_off_status: Some(RunStatus::Ok), ..service.clone() };
        let failed = RawRecord { one_off_wall_seconds: Some(1e-3), one_off_status: Some(RunStatus::Failed), ..service.clone() };
        for row in [&service, &measured, &failed] {
            assert_eq!(row.implausible_times(), None, "{row:?}");
        }
        let columns = |row: RawRecord| row.implausible_times().map(|bad| bad.column);
        let on_one_fit = RawRecord { fits: Some(1), ..measured.clone() };
        assert_eq!(columns(on_one_fit), Some("one_off_wall_seconds, one_off_status"));
        let on_no_fits = RawRecord { one_off_wall_seconds: Some(1e-2), ..testutil::record("rust", 1) };
        assert_eq!(columns(on_no_fits.clone()), Some("one_off_wall_seconds, one_off_status"));
        assert_eq!(on_no_fits.one_off_seconds(), None, "and never a figure");
        let no_wall = RawRecord { one_off_wall_seconds: None, ..measured.clone() };
        assert_eq!(columns(no_wall), Some("one_off_status"));
        // A run of K fits that failed after its one-off process ended ok: no result line, no fits.
        let k_run_failed = RawRecord {
            status: RunStatus::Failed,
            exit_code: Some(3),
            fits: None,
            fit_first_seconds: None,
            train_seconds: None,
            load_seconds: None,
            ..measured
        };
        assert_eq!(columns(k_run_failed.clone()), None, "{k_run_failed:?}");
        assert_eq!(k_run_failed.one_off_seconds(), None, "a figure only beside a run that measured");
    }
}
