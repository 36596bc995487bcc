//! `orchestrator validate`: scenario files checked without running anything.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::project::{default_scenarios, load_catalogue, note_overrides};
use crate::plan;

pub(super) fn validate(root: &Path, files: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let catalogue = load_catalogue(root, None)?;
    let files = if files.is_empty() { default_scenarios(root)? } else { files };
    let loaded = plan::load(&files, &catalogue.implementations)?;
    note_overrides(&loaded, &catalogue);
    for l in &loaded {
        let points = l.file.sweep.as_ref().map_or(1, |s| s.value.len());
        outln!(
            "ok  {}  (scenario '{}', {} implementation(s), {} point(s))",
            l.path.display(),
            l.file.name.value,
            l.file.implementations.value.len(),
            points
        );
    }
    Ok(ExitCode::SUCCESS)
}
