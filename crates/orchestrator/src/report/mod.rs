//! The report: a run directory's raw records → statistics, accuracy and claims → report.md (and
//! report.html, the same text as one web page), summary.csv, summary.json and PNG charts beside
//! them. It never re-runs anything, so `orchestrator report RUN_DIR` and the end of
//! `orchestrator run` are the same code.

pub mod anatomy;
pub mod charts;
pub mod figures;
pub mod format;
pub mod html;
pub mod machines;
pub mod markdown;
pub mod roofline;
pub mod tables;

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::accuracy::{self, PointAccuracy};
use crate::claims::{self, ClaimResult};
use crate::environment::Environment;
use crate::measurement::{RawRecord, SampleRecord};
use crate::plan::Plan;
use crate::records::{self, ENVIRONMENT_JSON, PLAN_JSON};
use crate::summary::{self, PointSummary, RunSummary, ScenarioSummary};

pub const REPORT_MD: &str = "report.md";
pub const REPORT_HTML: &str = "report.html";
pub const SUMMARY_CSV: &str = "summary.csv";
pub const SUMMARY_JSON: &str = "summary.json";
pub const CHARTS_DIR: &str = "charts";

/// Everything the report shows, derived from one run directory.
#[derive(Debug, Clone, Serialize)]
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

/// What `render` hands back to the command line.
pub struct Rendered {
    /// A short table for the terminal.
    pub terminal_summary: String,
    pub claims_not_held: usize,
    pub claims_without_data: usize,
}

/// Reads a run directory and derives every statistic, without writing anything.
pub fn analyse(run_dir: &Path) -> anyhow::Result<Report> {
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

/// Writes summary.csv, summary.json, the charts and report.md into `run_dir` (each file
/// atomically), from its raw records.
pub fn render(run_dir: &Path) -> anyhow::Result<Rendered> {
    let report = analyse(run_dir)?;
    records::write_atomic(&run_dir.join(SUMMARY_CSV), &tables::summary_csv(&report)?)?;
    records::write_json_atomic(&run_dir.join(SUMMARY_JSON), &report)?;
    let charts_dir = run_dir.join(CHARTS_DIR);
    std::fs::create_dir_all(&charts_dir).with_context(|| format!("creating {}", charts_dir.display()))?;
    let figures = figures::draw_all(&report, &charts_dir);
    let text = markdown::render(&report, &figures);
    records::write_atomic(&run_dir.join(REPORT_MD), text.as_bytes())?;
    records::write_atomic(&run_dir.join(REPORT_HTML), html::render(&text).as_bytes())?;
    Ok(Rendered {
        terminal_summary: markdown::terminal_summary(&report),
        claims_not_held: claims::not_held(&report.claims),
        claims_without_data: claims::without_data(&report.claims),
    })
}

/// The scenario and point the report opens with: the first scenario (in run order) that makes
/// claims, else the first; there the point of its first claim, else its smallest n.
pub fn headline(report: &Report) -> Option<(&ScenarioSummary, &PointSummary)> {
    let scenarios = &report.summary.scenarios;
    let scenario = scenarios.iter().find(|s| report.claims.iter().any(|c| c.scenario == s.name)).or_else(|| scenarios.first())?;
    let measured = |p: &&PointSummary| p.implementations.iter().any(|i| i.measured());
    let claimed = report.claims.iter().find(|c| c.scenario == scenario.name).map(|c| c.point);
    let point = claimed
        .and_then(|index| scenario.points.iter().find(|p| p.index == index))
        .filter(measured)
        .or_else(|| scenario.points.iter().filter(measured).min_by_key(|p| p.n))?;
    Some((scenario, point))
}

/// A point named by what sets it apart from the scenario's other points: "n=10^7 epochs=10",
/// "lr=0.05"; a scenario's only point by its n.
pub fn short_label(scenario: &ScenarioSummary, point: &PointSummary) -> String {
    let varies = |value: fn(&PointSummary) -> String| scenario.points.iter().any(|p| value(p) != value(point));
    let n = |p: &PointSummary| format!("n={}", format::count(p.n));
    let epochs = |p: &PointSummary| format!("epochs={}", p.epochs);
    let lr = |p: &PointSummary| format!("lr={}", p.learning_rate);
    let parts: Vec<String> = [n, epochs, lr].into_iter().filter(|value| varies(*value)).map(|value| value(point)).collect();
    if parts.is_empty() {
        n(point)
    } else {
        parts.join(" ")
    }
}
