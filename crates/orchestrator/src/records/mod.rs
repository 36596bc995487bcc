//! The raw records: one row of raw.csv per run and one row of samples.csv per sample. These are
//! the only things the runner produces and the only things the report reads, so a report can be
//! rendered again from a results directory without re-running anything.
//!
//! The types are here; [`csv`] and [`json`] read and write a run directory's files (reading
//! through [`file`]: only regular files, of a size a run writes), [`check`] says which values a
//! row cannot hold, [`screen`] which rows read back are left out (a second copy of a run, times no
//! run can have together), [`cell`] keeps their text from being read as formulas by a
//! spreadsheet, [`merge`] unites the run directories of the shards of one plan.

pub(crate) mod cell;
pub(crate) mod check;
mod csv;
mod error;
mod file;
mod json;
pub(crate) mod merge;
mod screen;

use serde::{Deserialize, Serialize};

pub(crate) use self::check::ImpossibleValue;
pub(crate) use self::csv::{each_sample, read_raw_rows, read_samples, CsvRows, CutShort};
pub use self::csv::{read_raw, CsvAppender};
pub use self::error::RecordsError;
pub(crate) use self::file::{read_text, MAX_TEXT_BYTES};
pub(crate) use self::json::write_atomic;
pub use self::json::{read_json, write_json_atomic, CheckedJson};
pub(crate) use self::screen::{SetAside, Why};
/// The records' file names (defined with every other name of a run directory in run_dir).
pub use crate::run_dir::{ENVIRONMENT_JSON, PLAN_JSON, RAW_CSV, SAMPLES_CSV};

/// How one run ended, from the orchestrator's point of view. Documented in docs/statuses.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Exit 0 with a valid result line whose status is "ok".
    Ok,
    /// Exit 0 with a valid result line whose status is "diverged": a result, not a failure.
    Diverged,
    /// Exit code other than 0 (2 = the implementation rejected its input).
    Failed,
    /// Killed by a signal it did not ask for (SIGSEGV, SIGABRT, …).
    Crashed,
    /// Ran past the scenario's timeout_seconds; the process group was killed.
    Timeout,
    /// Killed for exceeding the memory limit.
    Oom,
    /// Exit 0 but stdout held no valid result line (garbage, missing or extra-broken JSON).
    BadOutput,
    /// The command could not be started (not found, not executable).
    SpawnFailed,
    /// The implementation's availability check failed: not run at all.
    Unavailable,
    /// The orchestrator was interrupted (SIGINT/SIGTERM) while this run was in progress.
    Interrupted,
}

impl RunStatus {
    /// Runs whose timings describe the implementation doing the job.
    pub(crate) fn is_measurement(self) -> bool {
        matches!(self, RunStatus::Ok | RunStatus::Diverged)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Diverged => "diverged",
            RunStatus::Failed => "failed",
            RunStatus::Crashed => "crashed",
            RunStatus::Timeout => "timeout",
            RunStatus::Oom => "oom",
            RunStatus::BadOutput => "bad_output",
            RunStatus::SpawnFailed => "spawn_failed",
            RunStatus::Unavailable => "unavailable",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of raw.csv: one run of one implementation at one scenario point.
///
/// Times are seconds, memory bytes. Optional fields are empty in the CSV when unknown (a crashed
/// run has no w; a run that never started has no rusage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawRecord {
    #[serde(serialize_with = "cell::serialize", deserialize_with = "cell::deserialize")]
    pub scenario: String,
    /// Index of the point within the scenario (0 when there is no sweep).
    pub point: usize,
    /// Human label of the point, e.g. "n=1000000 epochs=100".
    #[serde(serialize_with = "cell::serialize", deserialize_with = "cell::deserialize")]
    pub point_label: String,
    #[serde(serialize_with = "cell::serialize", deserialize_with = "cell::deserialize")]
    pub implementation: String,
    /// 1-based repetition number among the counted runs (warm-up runs are not recorded).
    pub repetition: u32,
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Spawn to reaping, monotonic clock.
    pub wall_seconds: Option<f64>,
    /// From the kernel (wait4 rusage of the child and its reaped descendants).
    pub user_seconds: Option<f64>,
    pub system_seconds: Option<f64>,
    /// The child's own high-water mark (wait4's ru_maxrss, started from a small launcher so nothing
    /// of the orchestrator's is carried into it).
    pub peak_rss_bytes: Option<u64>,
    /// False when the peak could only be sampled (the program stayed below the high-water mark the
    /// launcher carried into it, or its end was not reported).
    pub peak_rss_exact: Option<bool>,
    /// Page faults and context switches of the child and its reaped descendants (wait4 rusage).
    /// Empty in run directories written before they were recorded.
    #[serde(default)]
    pub minor_faults: Option<u64>,
    #[serde(default)]
    pub major_faults: Option<u64>,
    #[serde(default)]
    pub voluntary_switches: Option<u64>,
    #[serde(default)]
    pub involuntary_switches: Option<u64>,
    /// The child's resident anonymous memory and how much of it lay on transparent huge pages,
    /// looked at in /proc/PID/smaps_rollup once its RSS had settled (measure::huge_pages): only in
    /// runs whose data could lie on huge pages, and only in a run long enough to settle. Empty
    /// otherwise and in run directories written before they were recorded.
    #[serde(default)]
    pub anon_bytes: Option<u64>,
    #[serde(default)]
    pub anon_huge_pages_bytes: Option<u64>,
    pub n: u64,
    pub epochs: u64,
    pub learning_rate: f64,
    pub w: Option<f64>,
    pub b: Option<f64>,
    pub mse: Option<f64>,
    pub epochs_run: Option<u64>,
    pub diverged_at_epoch: Option<u64>,
    /// As reported by the implementation itself (inside the process).
    pub load_seconds: Option<f64>,
    pub train_seconds: Option<f64>,
    /// Threads the implementation says it summed with (an optional field of the result line).
    pub threads: Option<u64>,
    /// Of those, how many had chosen to sum with software prefetches, where they tried (the
    /// `linreg` kernels past their L2s: docs/protocol.md); empty where none tried, and in run
    /// directories written before it was recorded.
    #[serde(default)]
    pub prefetching_threads: Option<u64>,
    /// Warm, repeated fits (`--fits K`, docs/protocol.md), as the implementation timed them: K,
    /// the first fit, and the minimum, median, 99th percentile (nearest rank), maximum and mean of
    /// fits 2..K (those only when K ≥ 2). Empty for a run without `--fits` and in run directories
    /// written before they were recorded.
    #[serde(default)]
    pub fits: Option<u64>,
    #[serde(default)]
    pub fit_first_seconds: Option<f64>,
    #[serde(default)]
    pub fit_warm_min_seconds: Option<f64>,
    #[serde(default)]
    pub fit_warm_median_seconds: Option<f64>,
    #[serde(default)]
    pub fit_warm_p99_seconds: Option<f64>,
    #[serde(default)]
    pub fit_warm_max_seconds: Option<f64>,
    #[serde(default)]
    pub fit_warm_mean_seconds: Option<f64>,
    /// Where the fits ran, when the implementation says (an optional field of the result line,
    /// e.g. JAX's `cpu:0`): text, shown as text.
    #[serde(default, serialize_with = "cell::serialize_optional", deserialize_with = "cell::deserialize_optional")]
    pub device: Option<String>,
    /// With `--fits K` (K ≥ 2): the wall time of a fresh process making one fit at the same point
    /// (the implementation's command without `--fits`), run just before this one: the one-off
    /// script, measured whole; and how that process ended (when not ok or diverged, the message
    /// says why, and the run has no one-off figure). Both empty for a run without `--fits` or with
    /// K = 1 (itself a one-fit process), and in run directories written before they were measured.
    #[serde(default)]
    pub one_off_wall_seconds: Option<f64>,
    #[serde(default)]
    pub one_off_status: Option<RunStatus>,
    /// Samples taken during this run, and the CPU the sampler spent taking them.
    pub samples: u32,
    pub sampler_cpu_seconds: Option<f64>,
    /// Unix time (seconds) when the run started, for drift analysis.
    pub started_unix_seconds: f64,
    /// For failed runs: the first few hundred bytes of stderr (or of the problem with stdout).
    #[serde(serialize_with = "cell::serialize", deserialize_with = "cell::deserialize")]
    pub message: String,
}

impl RawRecord {
    /// user + system.
    pub(crate) fn cpu_seconds(&self) -> Option<f64> {
        Some(self.user_seconds? + self.system_seconds?)
    }

    /// wall − load − train: interpreter start-up, imports, dynamic linking, exit.
    pub(crate) fn startup_seconds(&self) -> Option<f64> {
        Some(self.wall_seconds? - self.load_seconds? - self.train_seconds?)
    }

    /// The process as a one-off script (start-up, loading, one cold fit, exit), for a run of warm
    /// fits: the fresh one-fit process run before it, measured whole; none when that process did
    /// not end ok, or ended otherwise than this run (a fit that diverged in one and converged in the
    /// other is not the same fit; checked when the run was classified, and again here for rows
    /// written before that); wall − train + the first fit of this run where no such process was run (K = 1:
    /// exactly its wall time; K ≥ 2 in a run directory from before them: it counts the exit of a
    /// process that has worked for a second, 0.2 ms more than a short one's on a Zen 4 VM,
    /// docs/protocol.md, a quarter of `rust`'s one-off script).
    pub(crate) fn one_off_seconds(&self) -> Option<f64> {
        if !self.has_warm_fits() {
            return self.derived_one_off_seconds();
        }
        match self.one_off_status {
            Some(_) if self.one_off_failed() => None,
            Some(_) => self.one_off_wall_seconds,
            None => self.one_off_wall_seconds.or_else(|| self.derived_one_off_seconds()),
        }
    }

    /// Whether this run's one-off figure is derived from a run of K ≥ 2 fits, no one-fit process
    /// having been run before it (a run directory from before those).
    pub(crate) fn one_off_is_derived(&self) -> bool {
        self.has_warm_fits() && self.one_off_status.is_none() && self.one_off_wall_seconds.is_none()
    }

    /// Whether the one-fit process run before this run did not end ok, or ended otherwise than
    /// this run that measured: no one-off figure.
    pub(crate) fn one_off_failed(&self) -> bool {
        self.one_off_status.is_some_and(|s| !s.is_measurement() || (self.status.is_measurement() && s != self.status))
    }

    /// Whether the run made K ≥ 2 fits: warm ones, and a one-off process before it.
    pub(crate) fn has_warm_fits(&self) -> bool {
        self.fits.is_some_and(|k| k >= 2)
    }

    /// wall − train + the first fit: the one-off script as a run of K fits implies it.
    pub(crate) fn derived_one_off_seconds(&self) -> Option<f64> {
        Some(self.wall_seconds? - self.train_seconds? + self.fit_first_seconds?)
    }
}

/// One row of samples.csv: the whole process tree of one run at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    #[serde(serialize_with = "cell::serialize", deserialize_with = "cell::deserialize")]
    pub scenario: String,
    pub point: usize,
    #[serde(serialize_with = "cell::serialize", deserialize_with = "cell::deserialize")]
    pub implementation: String,
    pub repetition: u32,
    /// Since spawn.
    pub t_seconds: f64,
    /// Sum of the resident set sizes of the tree's processes.
    pub rss_bytes: u64,
    /// Cumulative CPU time of the tree (nanosecond schedstat where available).
    pub cpu_seconds: f64,
}
