//! The analysis stage: raw records and the plan they were run from → summaries with bootstrap
//! CIs, accuracy against a reference fit, claims judged, start-up anatomy, comparisons of two runs
//! and of runs on several machines. It reads run directories and computes; it runs, writes and
//! draws nothing.

pub(crate) mod accuracy;
pub(crate) mod across;
pub(crate) mod anatomy;
pub(crate) mod claims;
pub(crate) mod compare;
pub(crate) mod index;
pub(crate) mod metric;
mod parallel;
pub(crate) mod summary;

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::environment::Environment;
use crate::plan::Plan;
use crate::records::{self, ENVIRONMENT_JSON, PLAN_JSON};
use crate::records::{RawRecord, SampleRecord};

/// Everything derived from one run directory: what its report shows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Analysis {
    pub plan: Plan,
    pub environment: Option<Environment>,
    /// Why environment.json could not be used when it is there (unreadable, or not an
    /// environment: `null`, `[]`, a field of the wrong type); None when it is absent or fine.
    #[serde(skip)]
    pub environment_problem: Option<String>,
    pub summary: summary::RunSummary,
    /// One per scenario, one entry per point.
    pub accuracy: Vec<Vec<accuracy::PointAccuracy>>,
    pub claims: Vec<claims::ClaimResult>,
    /// One per scenario: its start-up anatomy chains (empty for most).
    pub anatomy: Vec<Vec<anatomy::AnatomyChain>>,
    #[serde(skip)]
    pub records: Vec<RawRecord>,
    #[serde(skip)]
    pub samples: Vec<SampleRecord>,
}

/// From this many rows of raw.csv on, the report says at once that it takes a while (seconds on a
/// 2-CPU machine: 12 bootstraps of 10 000 resamples per implementation and point), and the
/// statistics' progress follows.
const MANY_ROWS: usize = 20_000;

/// Reads a run directory and derives every statistic, without writing anything.
pub(crate) fn analyse(run_dir: &Path) -> anyhow::Result<Analysis> {
    crate::run_dir::check_readable(run_dir)?;
    let plan: Plan = records::read_json(&run_dir.join(PLAN_JSON)).context("the run's plan (plan.json)")?;
    let (environment, environment_problem) = read_environment(run_dir);
    let records = records::read_raw(run_dir).context("the raw records")?;
    let samples = records::read_samples(run_dir).context("the samples")?;
    if records.len() >= MANY_ROWS {
        errln!("report: {} runs in raw.csv; their statistics take a while (progress below)…", records.len());
    }
    let grouped = index::by_point(&records);
    let summary = summary::summarise(&plan, &grouped, environment.as_ref());
    let accuracy = plan
        .scenarios
        .iter()
        .zip(&summary.scenarios)
        .map(|(scenario, s)| scenario.points.iter().zip(&s.points).map(|(point, p)| accuracy::assess(scenario, point, p)).collect())
        .collect();
    let claims = plan.scenarios.iter().zip(&summary.scenarios).flat_map(|(scenario, s)| claims::evaluate(scenario, s, &grouped)).collect();
    let anatomy = plan.scenarios.iter().zip(&summary.scenarios).map(|(scenario, s)| anatomy::chains(scenario, s, &grouped)).collect();
    drop(grouped);
    Ok(Analysis { plan, environment, environment_problem, summary, accuracy, claims, anatomy, records, samples })
}

/// environment.json, or why it cannot be used: only its absence goes without a word (the run
/// directory of a hand-made run may have none), anything else is named.
fn read_environment(run_dir: &Path) -> (Option<Environment>, Option<String>) {
    match records::read_json(&run_dir.join(ENVIRONMENT_JSON)) {
        Ok(environment) => (Some(environment), None),
        Err(records::RecordsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => (None, None),
        Err(problem) => (None, Some(problem.to_string())),
    }
}

impl Analysis {
    /// What the command line warns of before the report (which says the same).
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.environment_problem.iter().map(|problem| format!("warning: {problem}: the machine is unknown")).collect()
    }
}
