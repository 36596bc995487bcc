//! `orchestrator compare OLD NEW`: every median's change with its 95% CI; a regression fails.

use std::path::Path;
use std::process::ExitCode;

pub(super) fn compare(old_run: &Path, new_run: &Path, threshold: f64) -> anyhow::Result<ExitCode> {
    let outcome = crate::analysis::compare::compare_runs(old_run, new_run, threshold, |warning| errln!("{warning}"))?;
    out!("{}", outcome.text);
    Ok(super::failure_exit(outcome.regressions > 0))
}
