//! report.md, assembled section by section: the verdict first, then per scenario the measured
//! version of the write-up's table, where the time goes, the charts, accuracy and claims; then the
//! environment and the notes a careful reader needs to trust (or distrust) the numbers. Also the
//! short terminal summary. Each section is one file here; the cells they share are below.

use std::fmt::Write as _;

use super::figures::Figures;
use crate::analysis::claims::Verdict;
use crate::analysis::summary::{ImplementationSummary, Outcome};
use crate::analysis::Analysis;

mod accuracy;
mod claims;
mod conditions;
mod environment;
mod notes;
mod opening;
mod partial;
mod scenario;
mod terminal;

pub(crate) use terminal::terminal_summary;

pub(crate) fn render(report: &Analysis, figures: &Figures) -> String {
    let mut out = String::new();
    let started = report.environment.as_ref().map_or(String::new(), |e| format!("Run started {}. ", e.started_utc));
    let _ = writeln!(out, "# Rust vs Python/NumPy: linear regression by gradient descent — measured\n");
    let _ = writeln!(out, "{started}Whole processes measured from outside ([how](#measurement-notes)); medians [95% bootstrap CI].\n");
    if let Some(note) = partial::partial_note(report) {
        let _ = writeln!(out, "{note}\n");
    }
    opening::answer_section(&mut out, report, figures);
    opening::contents(&mut out, report);
    for (index, (plan, summary)) in report.plan.scenarios.iter().zip(&report.summary.scenarios).enumerate() {
        scenario::scenario_section(&mut out, report, index, plan, summary, figures);
    }
    environment::environment_section(&mut out, report);
    notes::notes_section(&mut out, report, figures);
    out
}

fn verdict_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Held => "✅",
        Verdict::NotHeld => "❌",
        Verdict::Inconclusive => "❔",
        Verdict::NoData => "—",
    }
}

fn status_cell(i: &ImplementationSummary) -> String {
    match i.outcome {
        Outcome::Ok => "ok".into(),
        Outcome::Diverged => format!("diverged, epoch {}", i.diverged_at_epoch.map_or("?".into(), |e| e.to_string())),
        Outcome::Partial => {
            let failures: Vec<String> =
                i.status_counts.iter().filter(|(s, _)| !s.is_measurement()).map(|(s, n)| format!("{n} {}", s.as_str())).collect();
            format!("⚠ {} of {} runs: {}", i.failed, i.runs + i.failed, failures.join(", "))
        }
        Outcome::Failed => format!("❌ {}", i.status_counts.iter().next().map_or("failed", |(s, _)| s.as_str())),
        Outcome::Unavailable => "unavailable".into(),
        Outcome::NotRun => "not run".into(),
    }
}
