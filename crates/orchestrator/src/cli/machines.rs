//! `orchestrator machines`: full runs from different machines set side by side.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::analysis::across::{self, MachineRunDir};
use crate::environment::machine::check_label;
use crate::report;

pub(super) fn machines(runs: &[PathBuf], out: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let runs = runs.iter().map(|arg| run_dir_argument(arg)).collect::<anyhow::Result<Vec<_>>>()?;
    let set = across::analyse(&runs)?;
    for warning in &set.warnings {
        errln!("{warning}");
    }
    let text = report::across::render(&set, out)?;
    out!("{text}");
    outln!("report: {}", out.join(crate::run_dir::MACHINES_MD).display());
    let failed = check && !across::all_hold(&set);
    if failed {
        let not_held = set.claims.iter().filter(|c| !c.everywhere.not_held_on.is_empty()).count();
        let unsettled = set.claims.iter().filter(|c| !c.everywhere.held()).count() - not_held;
        errln!(
            "--check: {not_held} claim(s) did not hold on some machine; {unsettled} more held wherever judged but were inconclusive or not judged on some machine"
        );
    }
    Ok(super::failure_exit(failed))
}

/// `DIR`, or `LABEL=DIR` to name the machine (for a run whose environment.json cannot): an
/// argument that is an existing path is always a directory, whatever it contains.
fn run_dir_argument(arg: &Path) -> anyhow::Result<MachineRunDir> {
    let text = arg.to_string_lossy();
    match text.split_once('=') {
        Some((label, dir)) if !arg.exists() => {
            check_label(label).map_err(|e| anyhow::anyhow!("{}: {e}", arg.display()))?;
            Ok(MachineRunDir { label: Some(label.to_string()), dir: PathBuf::from(dir) })
        }
        _ => Ok(MachineRunDir { label: None, dir: arg.to_path_buf() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_given_before_an_equals_sign_unless_the_path_exists() {
        let labelled = run_dir_argument(Path::new("zen5-2c-32m=runs/a")).unwrap();
        assert_eq!(labelled, MachineRunDir { label: Some("zen5-2c-32m".into()), dir: PathBuf::from("runs/a") });
        let plain = run_dir_argument(Path::new("runs/a")).unwrap();
        assert_eq!(plain.label, None);
        let scratch = tempfile::tempdir().unwrap();
        let odd = scratch.path().join("x=y");
        std::fs::create_dir(&odd).unwrap();
        assert_eq!(run_dir_argument(&odd).unwrap(), MachineRunDir { label: None, dir: odd.clone() });
        let error = run_dir_argument(Path::new("a b=runs/a")).unwrap_err().to_string();
        assert!(error.contains("machine label 'a b'"), "{error}");
    }
}
