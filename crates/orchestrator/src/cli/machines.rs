//! `orchestrator machines`: full runs from different machines set side by side.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::across;

pub(super) fn machines(runs: &[PathBuf], out: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let set = across::analyse(runs)?;
    let text = across::render(&set, out)?;
    print!("{text}");
    outln!("report: {}", out.join(across::ACROSS_MD).display());
    Ok(super::failure_exit(check && !across::all_hold(&set)))
}
