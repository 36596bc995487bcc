//! `orchestrator machines`: full runs from different machines set side by side.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::analysis::across;
use crate::report;

pub(super) fn machines(runs: &[PathBuf], out: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let set = across::analyse(runs)?;
    for warning in &set.warnings {
        errln!("{warning}");
    }
    let text = report::across::render(&set, out)?;
    out!("{text}");
    outln!("report: {}", out.join(crate::run_dir::MACHINES_MD).display());
    Ok(super::failure_exit(check && !across::all_hold(&set)))
}
