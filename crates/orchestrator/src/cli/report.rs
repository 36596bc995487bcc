//! `orchestrator report RUN_DIR`: the report rendered again from a run directory's raw records.

use std::path::Path;
use std::process::ExitCode;

use crate::report;

pub(super) fn report(run_dir: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let rendered = report::render(run_dir)?;
    for warning in &rendered.warnings {
        errln!("{warning}");
    }
    out!("{}", rendered.terminal_summary);
    outln!("report: {}", run_dir.join(report::REPORT_MD).display());
    Ok(super::check_exit(check, &rendered))
}
