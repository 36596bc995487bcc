//! Where the project's inputs are: its root, its scenario files and its implementation catalogue,
//! and paths from the command line made absolute (children run in the root).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::{plan, scenario};

/// The nearest directory, from the current one up, holding scenarios/implementations.yaml; else
/// the one the binary was built in (target/release/../..).
pub(super) fn find_root() -> anyhow::Result<PathBuf> {
    let marker = Path::new("scenarios").join("implementations.yaml");
    let cwd = std::env::current_dir().context("the current directory")?;
    if let Some(dir) = cwd.ancestors().find(|d| d.join(&marker).is_file()) {
        return Ok(dir.to_path_buf());
    }
    let exe = std::env::current_exe().context("the orchestrator's own path")?;
    if let Some(dir) = exe.ancestors().find(|d| d.join(&marker).is_file()) {
        return Ok(dir.to_path_buf());
    }
    bail!("cannot find the project root (a directory with {}): run from the project, or pass --root", marker.display())
}

pub(super) fn default_scenarios(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = root.join("scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml") && p.file_stem().is_some_and(|s| s != "implementations"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no scenario files in {}", dir.display());
    }
    Ok(paths)
}

pub(super) fn load_catalogue(root: &Path, path: Option<PathBuf>) -> anyhow::Result<scenario::ImplementationsFile> {
    let path = path.unwrap_or_else(|| root.join("scenarios").join("implementations.yaml"));
    Ok(scenario::load_implementations(&path)?)
}

/// Says which catalogue entries a scenario replaces: its results carry the catalogue's name.
pub(super) fn note_overrides(loaded: &[plan::Loaded], catalogue: &scenario::ImplementationsFile) {
    for l in loaded {
        for name in scenario::overridden(&l.file, &catalogue.implementations) {
            errln!("note: scenario '{}' replaces the catalogue's '{name}' with its own definition (override: true)", l.file.name.value);
        }
    }
}

pub(super) fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("the absolute path of {}", path.display()))
}
