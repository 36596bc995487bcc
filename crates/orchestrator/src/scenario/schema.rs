//! The YAML schema of scenario files and of the implementation catalogue, as users write them:
//! every field, its type and its default, the claims under `expect:` and the run order included.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::fits::FitsSpec;

/// Placeholders a command template may use. Filled per point: data, epochs, learning_rate, n.
/// Filled once: python (the project venv's interpreter), bin_dir (where `linreg` was built),
/// root (the project root).
pub(crate) const PLACEHOLDERS: [&str; 7] = ["data", "epochs", "learning_rate", "n", "python", "bin_dir", "root"];

/// The most repetitions (or warm-up runs) a point may ask for: far beyond any useful benchmark,
/// and low enough that the list of runs always fits in memory.
pub(crate) const MAX_RUNS_PER_POINT: u32 = 10_000;

/// The longest scenario or implementation name: names make file names (charts), headings and
/// table cells, so they are short and plain.
pub(crate) const MAX_NAME_CHARS: usize = 64;

/// Where a generated dataset's x values start and end when `x_min` / `x_max` are left out.
pub(crate) const DEFAULT_X_MIN: f64 = 0.0;
pub(crate) const DEFAULT_X_MAX: f64 = 10.0;

/// One scenario file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    /// Where the scenario comes in a default run (every scenarios/*.yaml) and its report: lower
    /// first, absent after every declared one, ties by file name.
    #[serde(default)]
    pub order: Option<u32>,
    pub dataset: DatasetSpec,
    pub training: Training,
    /// Which implementations to run, by name (from implementations.yaml or `define`).
    pub implementations: Spanned<Vec<Spanned<String>>>,
    /// Implementations declared in this scenario only, same schema as implementations.yaml.
    #[serde(default)]
    pub define: BTreeMap<String, Spanned<ImplementationSpec>>,
    pub baseline: Spanned<String>,
    #[serde(default)]
    pub measure: MeasureSpec,
    #[serde(default)]
    pub sweep: Option<Spanned<Vec<Spanned<SweepPoint>>>>,
    #[serde(default)]
    pub expect: Vec<Spanned<Claim>>,
    #[serde(default)]
    pub accuracy: Option<AccuracySpec>,
    /// Start-up anatomy: chains of implementations, each step measured as a program of its own,
    /// so that each step's cost is its median minus the one before it (scenarios/startup.yaml).
    #[serde(default)]
    pub anatomy: Vec<Spanned<Vec<Spanned<String>>>>,
    /// Implementations the report's verdict on warm fits sets against the winners, whatever their
    /// rank (the production scenario: Python calling Rust, JAX).
    #[serde(default)]
    pub highlight: Vec<Spanned<String>>,
}

/// Where the points come from.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DatasetSpec {
    /// x and y written in the file.
    Inline { x: Spanned<Vec<f64>>, y: Spanned<Vec<f64>> },
    /// y = slope·x + intercept + noise·N(0, 1), x uniform in [x_min, x_max]; deterministic in seed.
    Generate(GenerateSpec),
    /// A CSV file (path relative to the scenario file), converted once to .npy so every
    /// implementation reads the same binary data.
    Csv(CsvSpec),
    /// A .npy file (path relative to the scenario file), checked when the plan is made and then
    /// read by every implementation as it is.
    Npy(NpySpec),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    pub n: Spanned<u64>,
    pub slope: f64,
    pub intercept: f64,
    #[serde(default)]
    pub noise: f64,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub x_min: Option<f64>,
    #[serde(default)]
    pub x_max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSpec {
    pub path: Spanned<String>,
    #[serde(default)]
    pub x_column: Option<String>,
    #[serde(default)]
    pub y_column: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpySpec {
    pub path: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    pub epochs: Spanned<u64>,
    pub learning_rate: Spanned<f64>,
    /// Fits per run, each from w = b = 0 on the data loaded once (`--fits K` appended to the
    /// command): a count for every implementation that follows the protocol, or one per
    /// implementation. Absent: one fit, no `--fits`.
    #[serde(default)]
    pub fits: Option<Spanned<FitsSpec>>,
    /// The most fits any run makes with --quick (default [`super::fits::DEFAULT_QUICK_FITS`]).
    #[serde(default)]
    pub quick_fits: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MeasureSpec {
    pub warmup: Option<Spanned<u32>>,
    pub repetitions: Option<Spanned<u32>>,
    pub sample_interval_ms: Option<Spanned<u64>>,
    /// Samples grow sparser as a run lasts, to at most one every this many ms.
    pub sample_interval_max_ms: Option<Spanned<u64>>,
    pub timeout_seconds: Option<Spanned<f64>>,
    #[serde(default)]
    pub order: Order,
    pub cpus: Option<Spanned<Vec<usize>>>,
    pub memory_limit_mb: Option<Spanned<u64>>,
    /// Repetitions with --quick (default 3, never more than `repetitions`).
    pub quick_repetitions: Option<Spanned<u32>>,
}

/// One point of a sweep: overrides of the scenario's values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPoint {
    pub n: Option<Spanned<u64>>,
    pub epochs: Option<Spanned<u64>>,
    pub learning_rate: Option<Spanned<f64>>,
    /// false: skipped by --quick (for points too big for a CI-sized run).
    #[serde(default = "yes")]
    pub quick: bool,
    /// Implementations not run at this point (e.g. plain Python at 10^7 points).
    #[serde(default)]
    pub skip: Vec<Spanned<String>>,
    /// Fits per run at this point, over the scenario's for the implementations it names.
    #[serde(default)]
    pub fits: Option<Spanned<FitsSpec>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracySpec {
    pub relative_tolerance: Spanned<f64>,
}

/// implementations.yaml: the shared catalogue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementationsFile {
    pub implementations: BTreeMap<String, Spanned<ImplementationSpec>>,
}

/// How to run one implementation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementationSpec {
    #[serde(default)]
    pub description: String,
    /// argv template, no shell. Placeholders: see [`PLACEHOLDERS`].
    pub command: Spanned<Vec<Spanned<String>>>,
    /// Added to the inherited environment (e.g. OPENBLAS_NUM_THREADS). Each value keeps its place
    /// in the file, for the message about a name or value no process can be given.
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    /// Availability check: a command that must exit 0 (run once, before the runs, not measured,
    /// within `check_timeout_seconds`). The program of `command` must exist in any case.
    #[serde(default)]
    pub check: Option<Spanned<Vec<Spanned<String>>>>,
    /// The check is killed (and the implementation unavailable) after this long [default 60].
    #[serde(default)]
    pub check_timeout_seconds: Option<Spanned<f64>>,
    /// What makes the implementation available when its check fails (builds or installs it):
    /// run once, not measured, between two scenarios, right before the first scenario that runs
    /// the implementation, never while a child is measured; then the check is made again. So a
    /// first run measures what is ready (the seed scenario) before it builds what is not.
    #[serde(default)]
    pub prepare: Option<Spanned<Vec<Spanned<String>>>>,
    /// The prepare command is killed (and the implementation unavailable) after this long [default 1800].
    #[serde(default)]
    pub prepare_timeout_seconds: Option<Spanned<f64>>,
    /// What to tell the user when the implementation is unavailable, e.g. "run `make build`".
    #[serde(default)]
    pub hint: Option<String>,
    /// true: when unavailable, the run goes on without it and the report says why (for
    /// implementations whose toolchain may not install everywhere, like numba).
    #[serde(default)]
    pub optional: bool,
    /// What the program prints: the result line of docs/protocol.md (the default), or nothing
    /// the orchestrator reads (`none`: any command, measured like the others, its exit code alone
    /// deciding ok or failed).
    #[serde(default)]
    pub protocol: Protocol,
    /// Under a scenario's `define`: true to replace the catalogue's entry of the same name in this
    /// scenario (without it, reusing a catalogue name is an error).
    #[serde(default, rename = "override")]
    pub overrides: bool,
}

/// How a program's run is judged beyond its exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// One JSON result line on stdout (docs/protocol.md): fit, phases, status.
    #[default]
    Linreg,
    /// Nothing is read from the program: exit 0 is ok. No fit and no phases.
    None,
}

impl Protocol {
    pub(crate) fn is_default(&self) -> bool {
        *self == Protocol::Linreg
    }
}

/// The order of the runs in a round (`measure: order:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// A B C A B C …: drift of the machine hits every implementation alike.
    #[default]
    Interleaved,
    /// A A A B B B C C C.
    Grouped,
}

/// A claim to check against the measurements, as written under `expect:` in a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Claim {
    /// `faster` is at least `at_least` (and at most `at_most`) times faster than `than`, by median
    /// wall time (or `metric: cpu`, `train`, or with fits `warm_median`, `warm_p99`, `first_fit`,
    /// `one_off`).
    Speedup(SpeedupClaim),
    /// `leaner` uses at least `at_least` times less peak memory than `than`.
    MemoryRatio(MemoryRatioClaim),
    /// `implementation`'s w and b are within `tolerance` (absolute) of the given values.
    Fit(FitClaim),
    /// `implementation`'s median whole-process wall time lies within [at_least, at_most] ms.
    WallMs(AbsoluteClaim),
    /// `implementation`'s median peak RSS lies within [at_least, at_most] MB (10^6 bytes).
    PeakRssMb(AbsoluteClaim),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedupClaim {
    pub faster: String,
    pub than: String,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub metric: TimeMetric,
    /// Only at this point index; every point when absent.
    #[serde(default)]
    pub point: Option<usize>,
    /// Where the claim comes from, shown in the report.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeMetric {
    #[default]
    Wall,
    Cpu,
    Train,
    /// With fits: the median of a run's warm fits (2..K).
    WarmMedian,
    /// With fits: the 99th percentile of a run's warm fits.
    WarmP99,
    /// With fits: the run's first fit.
    FirstFit,
    /// With fits: the one-off script, a one-fit process run before each run of K fits.
    OneOff,
}

impl TimeMetric {
    /// As written in a scenario.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TimeMetric::Wall => "wall",
            TimeMetric::Cpu => "cpu",
            TimeMetric::Train => "train",
            TimeMetric::WarmMedian => "warm_median",
            TimeMetric::WarmP99 => "warm_p99",
            TimeMetric::FirstFit => "first_fit",
            TimeMetric::OneOff => "one_off",
        }
    }

    /// Whether the figure comes from the per-fit fields, and how many fits a run needs for it.
    pub(crate) fn fits_needed(self) -> Option<u64> {
        match self {
            TimeMetric::Wall | TimeMetric::Cpu | TimeMetric::Train => None,
            TimeMetric::FirstFit | TimeMetric::OneOff => Some(1),
            TimeMetric::WarmMedian | TimeMetric::WarmP99 => Some(2),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRatioClaim {
    pub leaner: String,
    pub than: String,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub point: Option<usize>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitClaim {
    pub implementation: String,
    #[serde(default)]
    pub w: Option<f64>,
    #[serde(default)]
    pub b: Option<f64>,
    pub tolerance: f64,
    #[serde(default)]
    pub point: Option<usize>,
    #[serde(default)]
    pub source: Option<String>,
}

/// A bound on one implementation's own figure, in the unit its claim kind names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsoluteClaim {
    pub implementation: String,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub point: Option<usize>,
    #[serde(default)]
    pub source: Option<String>,
}

/// The catalogue entries a scenario replaces with its own definitions (`override: true`).
pub(crate) fn overridden<'a>(scenario: &'a ScenarioFile, catalogue: &Catalogue) -> Vec<&'a str> {
    scenario.define.keys().filter(|name| catalogue.contains_key(*name)).map(String::as_str).collect()
}

/// The implementations a scenario may name, by name: the catalogue's entries.
pub type Catalogue = BTreeMap<String, Spanned<ImplementationSpec>>;
