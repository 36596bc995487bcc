//! `orchestrator validate`: scenario files checked without running anything: their schema, and
//! what `run` would refuse before its first run (plan::check).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::project::{default_scenarios, load_catalogue, note_overrides};
use crate::plan;
use crate::plan::shard::PlanOptions;

pub(super) fn validate(root: &Path, files: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let catalogue = load_catalogue(root, None)?;
    let files = if files.is_empty() { default_scenarios(root)? } else { files };
    let loaded = plan::load(&files, &catalogue.implementations)?;
    note_overrides(&loaded, &catalogue);
    // As a default `run` would: no command-line overrides, the whole plan.
    plan::check(&loaded, PlanOptions { quick: false, repetitions: None, warmup: None }, true)?;
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
