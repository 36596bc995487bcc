//! A run directory saved by an earlier build (tests/fixtures/rerender, a `--quick` run of every
//! shipped scenario) must re-render to byte-identical report.md, report.html, summary.csv,
//! summary.json and charts with this build: the guard that a change of layout changed no output.
//! When an output is meant to change, render the fixture again with `orchestrator report` and
//! commit the new files with the change that explains them.

use std::path::{Path, PathBuf};
use std::process::Command;

const RENDERED: [&str; 4] = ["report.md", "report.html", "summary.csv", "summary.json"];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rerender")
}

fn copy_inputs(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["plan.json", "environment.json", "raw.csv", "samples.csv"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

fn chart_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir.join("charts")).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_saved_run_re_renders_byte_for_byte() {
    let saved = fixture();
    // The run directory (not there yet: copy_inputs makes it) inside a scratch directory removed
    // on drop, after the report has been rendered and compared.
    let scratch = tempfile::Builder::new().prefix("orchestrator-rerender-").tempdir().unwrap();
    let dir = scratch.path().join("run");
    copy_inputs(&saved, &dir);

    let output = Command::new(env!("CARGO_BIN_EXE_orchestrator")).arg("report").arg(&dir).output().unwrap();
    assert!(output.status.success(), "report failed: {}", String::from_utf8_lossy(&output.stderr));

    let mut differing = Vec::new();
    let charts: Vec<String> = chart_names(&saved).into_iter().map(|name| format!("charts/{name}")).collect();
    for name in RENDERED.iter().map(|name| name.to_string()).chain(charts) {
        let expected = std::fs::read(saved.join(&name)).unwrap();
        match std::fs::read(dir.join(&name)) {
            Ok(actual) if actual == expected => {}
            Ok(_) => differing.push(format!("{name} differs")),
            Err(e) => differing.push(format!("{name} missing: {e}")),
        }
    }
    assert_eq!(chart_names(&dir), chart_names(&saved), "the set of charts changed");
    assert!(differing.is_empty(), "re-rendered outputs differ from the saved run: {differing:?}");
    scratch.close().unwrap();
}

/// A run directory someone sent may hold links where the report writes: each file is replaced
/// (its link, never the link's target), and a charts folder that is a link is refused.
#[test]
fn re_rendering_never_writes_through_a_link() {
    let scratch = tempfile::Builder::new().prefix("orchestrator-links-").tempdir().unwrap();
    let (dir, outside) = (scratch.path().join("run"), scratch.path().join("precious.txt"));
    copy_inputs(&fixture(), &dir);
    std::fs::write(&outside, "precious").unwrap();
    std::fs::create_dir(dir.join("charts")).unwrap();
    let chart = dir.join("charts").join(&chart_names(&fixture())[0]);
    for link in [dir.join("report.md"), dir.join("summary.csv"), chart.clone()] {
        std::os::unix::fs::symlink(&outside, link).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_orchestrator")).arg("report").arg(&dir).output().unwrap();
    assert!(output.status.success(), "report failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    for written in [dir.join("report.md"), dir.join("summary.csv"), chart.clone()] {
        assert!(std::fs::symlink_metadata(&written).unwrap().is_file(), "{} replaced by a file", written.display());
    }
    assert_eq!(&std::fs::read(&chart).unwrap()[..4], b"\x89PNG");

    let elsewhere = scratch.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::remove_dir_all(dir.join("charts")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("charts")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_orchestrator")).arg("report").arg(&dir).output().unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("is a symbolic link"), "{message}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written where the link points");
}
