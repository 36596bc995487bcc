//! The note that opens a partial report: one rendered while the run goes on (after each
//! scenario), or of a run that stopped before its end, saying which scenarios are in it and
//! which are still to run. Its wording is here and only here.

use crate::analysis::Analysis;

/// "**Partial report** — …", or None for a run that finished (or one too old to say).
pub(super) fn partial_note(report: &Analysis) -> Option<String> {
    let e = report.environment.as_ref()?;
    let running = e.ended_utc.is_none();
    if !running && !e.interrupted {
        return None;
    }
    let names = |finished: bool| -> Vec<String> {
        report.plan.scenarios.iter().filter(|s| e.scenario_finished(&s.name) == finished).map(|s| format!("`{}`", s.name)).collect()
    };
    let (done, to_run) = (names(true), names(false));
    if e.scenarios.is_empty() {
        // A run from before scenarios' ends were recorded: the interruption note says the rest.
        return running.then(|| "**Partial report** — the run had not finished when this was written.".to_string());
    }
    if to_run.is_empty() {
        return None;
    }
    let done = if done.is_empty() { "no scenario finished yet".to_string() } else { format!("finished: {}", done.join(", ")) };
    Some(if running {
        format!(
            "**Partial report** — the run had not finished when this was written ({done}; still to run: {}); a run rewrites it after each scenario.",
            to_run.join(", ")
        )
    } else {
        format!("**Partial report** — the run was interrupted ({done}; not finished: {}).", to_run.join(", "))
    })
}
