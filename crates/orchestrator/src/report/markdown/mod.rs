//! report.md, assembled section by section: the verdict first, then per scenario the measured
//! version of the write-up's table, where the time goes, the charts, accuracy and claims; then the
//! environment and the notes a careful reader needs to trust (or distrust) the numbers. Also the
//! short terminal summary. Each section is one file here; the cells they share are below.

use std::fmt::Write as _;

use super::escape::text;
use super::figures::Figures;
use super::marks::Mark;
use crate::analysis::summary::{ImplementationSummary, Outcome};
use crate::analysis::Analysis;

mod accuracy;
mod claims;
mod conditions;
mod environment;
mod fits;
mod huge_pages;
mod limit_note;
mod notes;
mod opening;
mod partial;
mod prefetch;
mod scenario;
mod terminal;
mod warnings;

pub(crate) use terminal::terminal_summary;

pub(crate) fn render(report: &Analysis, figures: &Figures) -> String {
    let mut out = String::new();
    let started = report.environment.as_ref().map_or(String::new(), |e| format!("Run started {}. ", text(&e.started_utc)));
    let _ = writeln!(out, "# Rust vs Python/NumPy: linear regression by gradient descent — measured\n");
    let _ = writeln!(out, "{started}Whole processes measured from outside ([how](#measurement-notes)); medians [95% bootstrap CI].\n");
    warnings::warnings_section(&mut out, report);
    if let Some(note) = partial::partial_note(report) {
        let _ = writeln!(out, "{note}\n");
    }
    opening::answer_section(&mut out, report, figures);
    fits::verdict(&mut out, report);
    opening::contents(&mut out, report);
    for (index, (plan, summary)) in report.plan.scenarios.iter().zip(&report.summary.scenarios).enumerate() {
        scenario::scenario_section(&mut out, report, index, plan, summary, figures);
    }
    environment::environment_section(&mut out, report);
    notes::notes_section(&mut out, report, figures);
    out
}

/// An implementation's outcome at a point, in Markdown: a mark when runs failed, then the detail.
fn outcome_cell(i: &ImplementationSummary) -> String {
    match status(i) {
        (Some(mark), detail) if detail.is_empty() => mark.to_string(),
        (Some(mark), detail) => format!("{mark} {}", text(&detail)),
        (None, detail) => text(&detail).to_string(),
    }
}

/// The outcome in a few words, and how many of the planned runs have a row when some have none.
fn status_cell(i: &ImplementationSummary) -> String {
    let outcome = outcome_cell(i);
    if i.missing_runs == 0 {
        return outcome;
    }
    format!("{outcome} ({} of {} runs)", i.planned_runs() - i.missing_runs, i.planned_runs())
}

/// The same in plain words, for the terminal and for sentences of the notes.
fn status_words(i: &ImplementationSummary) -> String {
    match status(i) {
        (Some(mark), detail) if detail.is_empty() => mark.word().to_string(),
        (Some(mark), detail) => format!("{}: {detail}", mark.word()),
        (None, detail) => detail,
    }
}

fn status(i: &ImplementationSummary) -> (Option<Mark>, String) {
    match i.outcome {
        Outcome::Ok => (None, "ok".into()),
        Outcome::Diverged => (None, format!("diverged, epoch {}", i.diverged_at_epoch.map_or("?".into(), |e| e.to_string()))),
        Outcome::Partial => {
            let failures: Vec<String> =
                i.status_counts.iter().filter(|(s, _)| !s.is_measurement()).map(|(s, n)| format!("{n} {}", s.as_str())).collect();
            (Some(Mark::Partial), format!("{} of {} runs failed ({})", i.failed, i.runs + i.failed, failures.join(", ")))
        }
        // "failed" says it all for a run that exited non-zero; others say how (timeout, crashed, …).
        Outcome::Failed => match i.status_counts.iter().next().map(|(s, _)| s.as_str()) {
            Some(how) if how != Mark::Failed.word() => (Some(Mark::Failed), how.to_string()),
            _ => (Some(Mark::Failed), String::new()),
        },
        Outcome::Unavailable => (None, "unavailable".into()),
        Outcome::NotRun => (None, "not run".into()),
    }
}
