//! The plan: scenarios resolved into exactly what will run — implementations with their command
//! templates, points with their dataset files, measurement settings and claims. Written to
//! plan.json in the run directory so the report reads what was run, not today's YAML.
//!
//! This file holds the plan.json types; `check` finds what can be found before a plan is built,
//! `build` makes a plan from validated scenario files, `availability` checks each implementation
//! can run, `datasets` prepares the data files, `references` computes what each point's fits are
//! judged against and `shard` splits a plan over machines.

mod availability;
mod build;
mod check;
mod context;
mod datasets;
pub(crate) mod references;
pub mod shard;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scenario::Protocol;
pub use crate::scenario::{AbsoluteClaim, Claim, FitClaim, MemoryRatioClaim, Order, SpeedupClaim, TimeMetric};
pub(crate) use availability::prepare;
pub(crate) use build::{build, command_for, one_fit_command_for};
pub use build::{load, sort_by_declared_order, Loaded};
pub(crate) use check::{check, check_run_count};
pub(crate) use context::PlanContext;
pub use references::{Optimum, PointReference, ReferenceFit};

/// Everything one `orchestrator run` does, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub scenarios: Vec<ScenarioPlan>,
}

impl Plan {
    /// Checks what a plan read back from a run directory must hold before anything is named after
    /// it: scenario and implementation names follow the scenario files' rule (chart files are
    /// named after scenarios, so a hand-edited `../x` would write outside the run directory). The
    /// first problem, for a message.
    pub(crate) fn check_names(&self) -> Result<(), String> {
        use crate::scenario::name_problem;
        for scenario in &self.scenarios {
            if let Some(problem) = name_problem("scenario", &scenario.name) {
                return Err(problem);
            }
            let implementations = scenario.implementations.iter().map(|i| &i.name);
            let named = implementations.chain(std::iter::once(&scenario.baseline)).chain(scenario.anatomy.iter().flatten());
            if let Some(problem) = named.chain(&scenario.highlight).find_map(|name| name_problem("implementation", name)) {
                return Err(format!("scenario '{}': {problem}", scenario.name));
            }
        }
        Ok(())
    }

    /// The first label two points of one scenario share, for a message: "scenario 's' has two
    /// points labelled 'lr=0.1' (#1 and #2)". `orchestrator run` never writes such a plan (a label
    /// names the point's n, epochs and learning rate, and a scenario measures each point once);
    /// whatever matches points by label across runs (`compare`, `machines`) must refuse it, or it
    /// pools or drops one of the two without a word.
    pub(crate) fn label_named_twice(&self) -> Option<String> {
        for scenario in &self.scenarios {
            let mut first_of: BTreeMap<&str, usize> = BTreeMap::new();
            for point in &scenario.points {
                if let Some(first) = first_of.insert(point.label.as_str(), point.index) {
                    return Some(format!(
                        "scenario '{}' has two points labelled {} (#{first} and #{})",
                        scenario.name,
                        crate::format::quoted_start(&point.label, 80),
                        point.index
                    ));
                }
            }
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioPlan {
    pub name: String,
    pub description: String,
    /// The YAML file it came from.
    pub source_file: PathBuf,
    /// Ratios (speed-up, memory ratio) are taken against this implementation.
    pub baseline: String,
    /// In the order they are run within a round.
    pub implementations: Vec<ImplementationPlan>,
    pub points: Vec<PointPlan>,
    pub measure: Measure,
    #[serde(default)]
    pub expect: Vec<Claim>,
    pub accuracy: AccuracySettings,
    /// Start-up anatomy chains (implementation names), empty for most scenarios.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anatomy: Vec<Vec<String>>,
    /// Implementations the verdict on warm fits places against the winners (`highlight:`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub highlight: Vec<String>,
}

impl ScenarioPlan {
    /// Whether any run of the scenario makes warm, repeated fits (`fits:`).
    pub(crate) fn has_fits(&self) -> bool {
        self.points.iter().any(|p| !p.fits.is_empty())
    }

    /// Whether `name` prints a result line with a fit (not a `protocol: none` program such as
    /// /bin/true, measured only for what starting it costs). Unknown names count as fitting.
    pub(crate) fn has_fit(&self, name: &str) -> bool {
        self.implementations.iter().find(|i| i.name == name).is_none_or(|i| i.protocol != Protocol::None)
    }
}

impl ImplementationPlan {
    /// Whether it runs at `point`: neither skipped there nor unavailable.
    pub(crate) fn runs_at(&self, point: &PointPlan) -> bool {
        self.unavailable.is_none() && !point.skip.contains(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImplementationPlan {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// argv template; placeholders {data} {epochs} {learning_rate} {n} are filled per point,
    /// {python} {bin_dir} {root} already resolved.
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Why it will not run (its availability check failed), or None when it is available.
    #[serde(default)]
    pub unavailable: Option<String>,
    /// Unavailable is acceptable: the run goes on without it.
    #[serde(default)]
    pub optional: bool,
    /// Whether its stdout holds a result line (absent in plans written before it existed).
    #[serde(default, skip_serializing_if = "Protocol::is_default")]
    pub protocol: Protocol,
    /// Not available when the run was planned, but its `prepare` command can make it so: that
    /// runs before the first scenario that runs it (see [`Pending`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// An implementation that was not available when the run was planned and has a `prepare`
/// command: the command runs once, between two scenarios (never while a child is measured),
/// right before the first scenario that runs the implementation; then its check is made again.
/// Until then it counts as runnable; if it is still not available, its runs are left out and
/// its rows say why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Why it was not available when the run was planned.
    pub why: String,
    /// The prepare command, placeholders filled.
    pub prepare: Vec<String>,
    pub prepare_timeout_seconds: f64,
    /// The availability check made again after `prepare` (its program must exist in any case).
    pub check: Option<Vec<String>>,
    pub check_timeout_seconds: f64,
    pub hint: Option<String>,
    /// Implementations with the same key (the same catalogue entry) are prepared once.
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointPlan {
    pub index: usize,
    /// e.g. "n=1000000 epochs=100 lr=0.01"
    pub label: String,
    pub n: u64,
    pub epochs: u64,
    pub learning_rate: f64,
    /// The dataset file every implementation reads at this point (.npy in results/.cache, or the
    /// user's CSV).
    pub data_path: PathBuf,
    /// Where the data came from, e.g. "generated: n=1000 slope=2 intercept=0.5 noise=0.1 seed=42".
    pub data_description: String,
    /// Implementations not run at this point.
    #[serde(default)]
    pub skip: Vec<String>,
    /// What the fits are judged against, computed when the run was planned (absent in plans
    /// written before it was kept: the report then reads the data file again, if it is there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<PointReference>,
    /// Fits per run, by implementation (`--fits K`, docs/protocol.md); the others make one fit
    /// and are not given the flag. Absent in plans written before it existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fits: BTreeMap<String, u64>,
}

impl PointPlan {
    /// The fits `implementation` makes in each run at this point, when it was asked for them.
    pub(crate) fn fits_of(&self, implementation: &str) -> Option<u64> {
        self.fits.get(implementation).copied()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Uncounted runs before the counted ones, per implementation and point.
    pub warmup: u32,
    pub repetitions: u32,
    /// Samples every this many ms at a run's start ([`Measure::sampling`]).
    pub sample_interval_ms: u64,
    /// ... and less often as the run lasts, at most every this many ms. None in plans written
    /// before samples thinned out (every `sample_interval_ms` throughout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_interval_max_ms: Option<u64>,
    pub timeout_seconds: f64,
    pub order: Order,
    /// Pin every child to these CPUs (sched_setaffinity), when given.
    #[serde(default)]
    pub cpus: Option<Vec<usize>>,
    /// Kill a child whose process tree's resident memory goes above this (status oom), when given.
    #[serde(default)]
    pub memory_limit_mb: Option<u64>,
}

impl Measure {
    /// When the runs are sampled: every `sample_interval_ms` at first, then less often as a run
    /// lasts, to at most every `sample_interval_max_ms`.
    pub(crate) fn sampling(&self) -> crate::measure::Sampling {
        let first = Duration::from_millis(self.sample_interval_ms);
        let longest = self.sample_interval_max_ms.map_or(first, Duration::from_millis);
        crate::measure::Sampling { first, longest }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracySettings {
    /// Implementations agree when |a − b| ≤ relative_tolerance · max(|a|, |b|, 1e-12).
    pub relative_tolerance: f64,
}

impl Default for AccuracySettings {
    fn default() -> Self {
        AccuracySettings { relative_tolerance: 1e-9 }
    }
}
