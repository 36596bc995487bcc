//! LAYOUT-MOVE: goes to analysis/ at merge
//! A run directory's raw records → every statistic the report shows: the summaries, accuracy,
//! claims and start-up anatomy, derived without writing anything (the report only renders them).

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::accuracy::{self, PointAccuracy};
use crate::claims::{self, ClaimResult};
use crate::environment::Environment;
use crate::measurement::{RawRecord, SampleRecord};
use crate::plan::Plan;
use crate::records::{self, ENVIRONMENT_JSON, PLAN_JSON};
use crate::summary::{self, RunSummary};

/// Everything the report shows, derived from one run directory.
#[derive(Debug, Clone, Serialize)]
/// `pub` while across.rs and merge.rs hand it out through their `pub` functions.
pub struct Report {
    pub plan: Plan,
    pub environment: Option<Environment>,
    pub summary: RunSummary,
    /// One per scenario, one entry per point.
    pub accuracy: Vec<Vec<PointAccuracy>>,
    pub claims: Vec<ClaimResult>,
    /// One per scenario: its start-up anatomy chains (empty for most).
    pub anatomy: Vec<Vec<crate::anatomy::AnatomyChain>>,
    #[serde(skip)]
    pub records: Vec<RawRecord>,
    #[serde(skip)]
    pub samples: Vec<SampleRecord>,
}

/// Reads a run directory and derives every statistic, without writing anything.
pub(crate) fn analyse(run_dir: &Path) -> anyhow::Result<Report> {
    if !run_dir.is_dir() {
        anyhow::bail!("{} is not a run directory", run_dir.display());
    }
    let plan: Plan = records::read_json(&run_dir.join(PLAN_JSON)).context("the run's plan (plan.json)")?;
    let environment: Option<Environment> = records::read_json(&run_dir.join(ENVIRONMENT_JSON)).ok();
    let records = records::read_raw(run_dir).context("the raw records")?;
    let samples = records::read_samples(run_dir).context("the samples")?;
    let summary = summary::summarise(&plan, &records, environment.as_ref());
    let accuracy = plan
        .scenarios
        .iter()
        .zip(&summary.scenarios)
        .map(|(scenario, s)| scenario.points.iter().zip(&s.points).map(|(point, p)| accuracy::assess(scenario, point, p)).collect())
        .collect();
    let claims = plan.scenarios.iter().zip(&summary.scenarios).flat_map(|(scenario, s)| claims::evaluate(scenario, s, &records)).collect();
    let anatomy =
        plan.scenarios.iter().zip(&summary.scenarios).map(|(scenario, s)| crate::anatomy::chains(scenario, s, &records)).collect();
    Ok(Report { plan, environment, summary, accuracy, claims, anatomy, records, samples })
}
