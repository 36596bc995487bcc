//! The analysis stage: raw records and the plan they were run from → summaries with bootstrap
//! CIs, accuracy against a reference fit, claims judged, start-up anatomy, comparisons of two runs
//! and of runs on several machines. It reads run directories and computes; it runs, writes and
//! draws nothing.

pub(crate) mod accuracy;
pub(crate) mod across;
pub(crate) mod anatomy;
pub(crate) mod claims;
pub(crate) mod compare;
pub(crate) mod conditions;
pub(crate) mod fits;
pub(crate) mod index;
pub(crate) mod metric;
mod parallel;
pub(crate) mod summary;
pub(crate) mod unplanned;

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::environment::Environment;
use crate::plan::Plan;
use crate::records::{self, ENVIRONMENT_JSON, PLAN_JSON};
use crate::records::{CutShort, RawRecord, SampleRecord, SetAside};

/// Everything derived from one run directory: what its report shows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Analysis {
    pub plan: Plan,
    pub environment: Option<Environment>,
    /// Why environment.json could not be used when it is there (unreadable, or not an
    /// environment: `null`, `[]`, a field of the wrong type); None when it is absent or fine.
    #[serde(skip)]
    pub environment_problem: Option<String>,
    /// Why samples.csv was not read when it is there (not a regular file, larger than any run
    /// writes, more samples than a report holds): the report goes without samples. None when it
    /// is absent or read.
    #[serde(skip)]
    pub samples_problem: Option<String>,
    pub summary: summary::RunSummary,
    /// One per scenario, one entry per point.
    pub accuracy: Vec<Vec<accuracy::PointAccuracy>>,
    pub claims: Vec<claims::ClaimResult>,
    /// One per scenario: its start-up anatomy chains (empty for most).
    pub anatomy: Vec<Vec<anatomy::AnatomyChain>>,
    /// Programs measured in more than one scenario (the same command on the same data), compared.
    #[serde(skip)]
    pub repeated: Vec<conditions::Repeated>,
    #[serde(skip)]
    pub records: Vec<RawRecord>,
    #[serde(skip)]
    pub samples: Vec<SampleRecord>,
    /// The last line of raw.csv or samples.csv, when it was cut short and left out.
    #[serde(skip)]
    pub cut_short: Vec<CutShort>,
    /// Rows the plan does not name, left out.
    #[serde(skip)]
    pub unplanned: Vec<unplanned::Unplanned>,
    /// Rows of raw.csv left out of every statistic: a run's second row, implausible times.
    #[serde(skip)]
    pub set_aside: Vec<SetAside>,
}

/// From this many rows of raw.csv on, the report says at once that it takes a while (seconds on a
/// 2-CPU machine: 12 bootstraps of 10 000 resamples per implementation and point), and the
/// statistics' progress follows.
const MANY_ROWS: usize = 20_000;

/// Reads a run directory and derives every statistic, without writing anything.
pub(crate) fn analyse(run_dir: &Path) -> anyhow::Result<Analysis> {
    crate::run_dir::check_readable(run_dir)?;
    let plan_path = run_dir.join(PLAN_JSON);
    let plan: Plan = records::read_json(&plan_path).context("the run's plan (plan.json)")?;
    plan.check_names().map_err(|problem| anyhow::anyhow!("{}: {problem}", plan_path.display()))?;
    let (mut environment, environment_problem) = read_environment(run_dir);
    // A run older than the machine identity: what lscpu or /proc/cpuinfo saved beside it says.
    if let Some(e) = environment.as_mut().filter(|e| e.machine.is_none()) {
        e.machine = crate::environment::machine::from_files_beside(run_dir, |path| records::read_text(path, records::MAX_TEXT_BYTES).ok());
    }
    let raw = records::read_raw_rows(run_dir).context("the raw records")?;
    let (samples, samples_problem) = read_samples(run_dir)?;
    let records = raw.counted();
    let cut_short = raw.cut_short.into_iter().chain(samples.cut_short).collect();
    let (set_aside, samples) = (raw.set_aside, samples.rows);
    if records.len() >= MANY_ROWS {
        errln!("report: {} runs in raw.csv; their statistics take a while (progress below)…", records.len());
    }
    // Counted: only the runs the plan names (a repetition past its count would move a median).
    let (records, unplanned) = unplanned::split(&plan, records);
    let grouped = index::by_point(&records);
    let mut summary = summary::summarise(&plan, &grouped, environment.as_ref());
    add_steady_memory(&mut summary, &grouped, &samples);
    let accuracy = plan
        .scenarios
        .iter()
        .zip(&summary.scenarios)
        .map(|(scenario, s)| scenario.points.iter().zip(&s.points).map(|(point, p)| accuracy::assess(scenario, point, p)).collect())
        .collect();
    let spawn_floor = environment.as_ref().and_then(|e| e.spawn_floor_seconds).filter(|s| *s > 0.0);
    let claims = plan
        .scenarios
        .iter()
        .zip(&summary.scenarios)
        .flat_map(|(scenario, s)| claims::evaluate(scenario, s, &grouped, spawn_floor))
        .collect();
    let anatomy = plan.scenarios.iter().zip(&summary.scenarios).map(|(scenario, s)| anatomy::chains(scenario, s, &grouped)).collect();
    let repeated = conditions::repeated(&plan, &summary, &grouped, environment.as_ref());
    drop(grouped);
    Ok(Analysis {
        plan,
        environment,
        environment_problem,
        samples_problem,
        summary,
        accuracy,
        claims,
        anatomy,
        repeated,
        records,
        samples,
        cut_short,
        unplanned,
        set_aside,
    })
}

/// Each warm-fits summary's memory held while the fits ran, from the samples.
fn add_steady_memory(summary: &mut summary::RunSummary, rows: &index::Grouped<index::AtPoint>, samples: &[SampleRecord]) {
    let by_run = fits::SamplesByRun::new(samples);
    for scenario in &mut summary.scenarios {
        for point in &mut scenario.points {
            for implementation in &mut point.implementations {
                if let Some(fits) = implementation.fits.as_mut() {
                    let runs = rows.rows(&(&scenario.name, point.index, &implementation.implementation));
                    fits.steady_rss_bytes = by_run.steady_rss(runs);
                }
            }
        }
    }
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

/// samples.csv, or why the report goes without it: one that is not read at all (not a regular
/// file, larger than any run writes, more samples than a report holds) is said, as for an absent
/// one the report has no samples; one that is read and holds a bad row is an error.
fn read_samples(run_dir: &Path) -> anyhow::Result<(records::CsvRows<SampleRecord>, Option<String>)> {
    match records::read_samples(run_dir) {
        Ok(samples) => Ok((samples, None)),
        Err(refused @ records::RecordsError::Refused { .. }) => {
            Ok((records::CsvRows { rows: Vec::new(), lines: Vec::new(), cut_short: None }, Some(refused.to_string())))
        }
        Err(problem) => Err(problem).context("the samples"),
    }
}

impl Analysis {
    /// What the command says on stderr before the report (which says the same): environment.json
    /// that could not be used, samples.csv not read, a line of the records cut short, rows set
    /// aside, rows the plan does not name.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let environment = self.environment_problem.iter().map(|problem| format!("warning: {problem}: the machine is unknown"));
        let samples = self.samples_problem.iter().map(|problem| {
            format!("warning: {problem}: the report goes without samples (no chart of memory over time, no steady memory of warm fits)")
        });
        let cut = self.cut_short.iter().map(|c| format!("warning: {c}"));
        let set_aside = self.set_aside.iter().map(|s| format!("warning: {s}"));
        environment.chain(samples).chain(cut).chain(set_aside).chain(self.unplanned.iter().map(|u| format!("warning: {u}"))).collect()
    }
}
