//! The report: what `analyse` derived from a run directory's raw records, rendered into report.md
//! (and report.html, the same text as one web page), summary.csv, summary.json and PNG charts
//! beside them. It only renders: it never re-runs anything nor computes a statistic, so
//! `orchestrator report RUN_DIR` and the end of `orchestrator run` are the same code.

pub(crate) mod across;
pub(crate) mod anatomy;
pub mod charts;
pub(crate) mod escape;
pub(crate) mod figures;
pub(crate) mod html;
pub(crate) mod machines;
pub(crate) mod markdown;
pub(crate) mod marks;
pub(crate) mod tables;

use std::path::Path;

use anyhow::Context;

use crate::analysis::summary::{PointSummary, ScenarioSummary};
use crate::analysis::{claims, Analysis};
use crate::records;

pub(crate) use crate::run_dir::{CHARTS_DIR, REPORT_HTML, REPORT_MD, SUMMARY_CSV, SUMMARY_JSON};

/// What `render` hands back to the command line.
pub(crate) struct Rendered {
    /// A short table for the terminal.
    pub terminal_summary: String,
    pub claims_not_held: usize,
    pub claims_without_data: usize,
    /// What the records held that the report left out (a last line cut short, rows the plan does
    /// not name) and what could not be read but did not stop the report (environment.json of the
    /// wrong shape), for stderr.
    pub warnings: Vec<String>,
}

/// Writes summary.csv, summary.json, the charts and report.md into `run_dir` (each file
/// atomically), from its raw records.
pub(crate) fn render(run_dir: &Path) -> anyhow::Result<Rendered> {
    render_until(run_dir, &|| false)?.context("the report was stopped")
}

/// [`render`], given up (None) as soon as `stop` says so: between the files, and between the
/// charts. What was written by then is left to the caller (merge renders in a staging directory).
/// A report that takes long (a run of many points) says on stderr which step it is at.
pub(crate) fn render_until(run_dir: &Path, stop: &dyn Fn() -> bool) -> anyhow::Result<Option<Rendered>> {
    let started = std::time::Instant::now();
    let step = |what: &str| {
        if started.elapsed() >= crate::console::Progress::QUIET {
            errln!("report: {what} ({:.0} s so far)…", started.elapsed().as_secs_f64());
        }
    };
    let report = crate::analysis::analyse(run_dir)?;
    if stop() {
        return Ok(None);
    }
    step("writing summary.csv and summary.json");
    records::write_atomic(&run_dir.join(SUMMARY_CSV), &tables::summary_csv(&report)?)?;
    records::write_json_atomic(&run_dir.join(SUMMARY_JSON), &report)?;
    let charts_dir = crate::run_dir::charts_dir(run_dir)?;
    step("drawing the charts");
    let figures = figures::draw_all(&report, &charts_dir, stop);
    if stop() {
        return Ok(None);
    }
    step("writing report.md and report.html");
    let text = markdown::render(&report, &figures);
    records::write_atomic(&run_dir.join(REPORT_MD), text.as_bytes())?;
    records::write_atomic(&run_dir.join(REPORT_HTML), html::render(&text).as_bytes())?;
    Ok(Some(Rendered {
        terminal_summary: markdown::terminal_summary(&report),
        claims_not_held: claims::count(&report.claims, claims::Verdict::NotHeld),
        claims_without_data: claims::count(&report.claims, claims::Verdict::NoData),
        warnings: report.warnings(),
    }))
}

/// The scenario and point the report opens with: the first scenario (in run order) that makes
/// claims, else the first; there the point of its first claim, else its smallest n. Scenarios of
/// warm fits come last in this choice: their whole-process figures count K fits, not one.
pub(crate) fn headline(report: &Analysis) -> Option<(&ScenarioSummary, &PointSummary)> {
    let one_fit = |s: &&ScenarioSummary| report.plan.scenarios.iter().find(|p| p.name == s.name).is_none_or(|p| !p.has_fits());
    let scenarios: Vec<&ScenarioSummary> =
        report.summary.scenarios.iter().filter(one_fit).chain(report.summary.scenarios.iter().filter(|s| !one_fit(s))).collect();
    let scenario = scenarios.iter().find(|s| report.claims.iter().any(|c| c.scenario == s.name)).or_else(|| scenarios.first())?;
    let measured = |p: &&PointSummary| p.implementations.iter().any(|i| i.measured());
    let claimed = report.claims.iter().find(|c| c.scenario == scenario.name).map(|c| c.point);
    let point = claimed
        .and_then(|index| scenario.points.iter().find(|p| p.index == index))
        .filter(measured)
        .or_else(|| scenario.points.iter().filter(measured).min_by_key(|p| p.n))?;
    Some((scenario, point))
}

/// The short labels of a scenario's points: each point named by what sets it apart from the
/// scenario's other points ("n=10^7 epochs=10", "lr=0.05"), a scenario's only point by its n.
/// What varies is found by looking at every point, so it is found once a scenario and handed to
/// whatever names its points: found once a point, a sent plan.json of 16 000 points took 80 s to
/// render, and one of 200 000 never ended.
pub(crate) struct ShortLabels {
    /// The parts of a label that differ between points: n, epochs, learning rate.
    varying: Vec<fn(&PointSummary) -> String>,
}

impl ShortLabels {
    pub(crate) fn of(scenario: &ScenarioSummary) -> ShortLabels {
        let n = |p: &PointSummary| format!("n={}", crate::format::count(p.n));
        let epochs = |p: &PointSummary| format!("epochs={}", p.epochs);
        let lr = |p: &PointSummary| format!("lr={}", crate::format::number(p.learning_rate));
        let parts: [fn(&PointSummary) -> String; 3] = [n, epochs, lr];
        let varies = |value: &fn(&PointSummary) -> String| {
            let mut values = scenario.points.iter().map(value);
            values.next().is_some_and(|first| values.any(|other| other != first))
        };
        ShortLabels { varying: parts.into_iter().filter(varies).collect() }
    }

    pub(crate) fn label(&self, point: &PointSummary) -> String {
        if self.varying.is_empty() {
            return format!("n={}", crate::format::count(point.n));
        }
        self.varying.iter().map(|part| part(point)).collect::<Vec<_>>().join(" ")
    }
}
