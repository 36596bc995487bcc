//! The run directory: the name of every file in it and in the results directory around it, and
//! the operations on those directories (a fresh run directory, proof that it takes writes, the
//! `latest` link).

use std::path::{Path, PathBuf};

/// One row per run (records::RawRecord), appended as each run ends.
pub const RAW_CSV: &str = "raw.csv";
/// One row per sample of a run's process tree (records::SampleRecord).
pub const SAMPLES_CSV: &str = "samples.csv";
/// The plan that was run (plan::PlanFile: the plan and, for a shard, its shard block).
pub const PLAN_JSON: &str = "plan.json";
/// The machine and the run's circumstances (environment::Environment).
pub const ENVIRONMENT_JSON: &str = "environment.json";
/// The report, rendered from the four files above.
pub const REPORT_MD: &str = "report.md";
pub const REPORT_HTML: &str = "report.html";
pub const SUMMARY_CSV: &str = "summary.csv";
pub const SUMMARY_JSON: &str = "summary.json";
/// The report's PNG charts.
pub const CHARTS_DIR: &str = "charts";
/// `dir`'s charts folder, made if missing; refused where it is a symbolic link (a run directory
/// someone sent, re-rendered, would otherwise have its charts written wherever the link points).
pub fn charts_dir(dir: &Path) -> std::io::Result<PathBuf> {
    let charts = dir.join(CHARTS_DIR);
    if std::fs::symlink_metadata(&charts).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other(format!(
            "{} is a symbolic link: charts are written only inside the run directory (replace the link with a folder)",
            charts.display()
        )));
    }
    std::fs::create_dir_all(&charts).map_err(|e| std::io::Error::new(e.kind(), format!("creating {}: {e}", charts.display())))?;
    Ok(charts)
}

/// The lock file in a directory claimed with `--out`; it holds the pid of the run holding it.
pub const LOCK_FILE: &str = ".run.lock";

/// In the results directory: the link to the newest run directory.
pub const LATEST: &str = "latest";
/// In the results directory: the generated datasets, kept between runs.
pub const DATASET_CACHE: &str = ".cache";

/// In the output directory of `orchestrator machines`: the comparison across machines.
pub const MACHINES_MD: &str = "machines.md";
pub const MACHINES_JSON: &str = "machines.json";
pub const MACHINES_HEADLINE_CHART: &str = "charts/headline-speedup-by-machine.png";

/// Checks that `dir` is a directory this process can list, before its files are read: a path
/// that does not exist, is not a directory, or cannot be reached or listed (permission denied, a
/// loop of symbolic links) is named with what went wrong.
pub(crate) fn check_readable(dir: &Path) -> anyhow::Result<()> {
    let named = |e: std::io::Error| anyhow::anyhow!("{}: {e}", dir.display());
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!("{} does not exist", dir.display()),
        Err(e) => Err(named(e)),
        Ok(meta) if !meta.is_dir() => anyhow::bail!("{} is not a run directory (not a directory)", dir.display()),
        Ok(_) => std::fs::read_dir(dir).map(drop).map_err(named),
    }
}

/// A fresh run directory under `results_dir`, named by the UTC time (with a suffix when two runs
/// start in the same second), created exclusively so two runs never share one.
pub(crate) fn create_run_dir(results_dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(results_dir)?;
    let stamp = crate::environment::utc_now().replace(':', "-");
    for attempt in 1..1000 {
        let name = if attempt == 1 { stamp.clone() } else { format!("{stamp}-{attempt}") };
        let dir = results_dir.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("could not find a free run directory name"))
}

/// Proves the directory takes writes before the first run (not after an hour of measuring).
pub(crate) fn check_writable(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    let result = std::fs::File::create(&probe).and_then(|mut f| {
        f.write_all(&[0u8; 4096])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    result
}

/// Points `results_dir/latest` at `run_dir`, atomically (a new symlink renamed over the old). A
/// `latest` that is not a symlink is the user's own (a file, a directory): it is left as it is,
/// and the error says so. No temporary link is left behind either way.
pub(crate) fn point_latest_at(results_dir: &Path, run_dir: &Path) -> std::io::Result<()> {
    let latest = results_dir.join(LATEST);
    match std::fs::symlink_metadata(&latest) {
        Ok(found) if !found.file_type().is_symlink() => {
            let what = if found.is_dir() { "a directory" } else { "a file" };
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("it is {what}, not a link a run made: left as it is (rename it to have `latest` follow the runs)"),
            ));
        }
        _ => {}
    }
    let target = run_dir.file_name().map(PathBuf::from).unwrap_or_else(|| run_dir.to_path_buf());
    let temp = results_dir.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    std::os::unix::fs::symlink(&target, &temp)?;
    std::fs::rename(&temp, latest).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_directory_that_cannot_be_read_is_named_with_its_error() {
        let scratch = tempfile::Builder::new().prefix("run-dir-readable-").tempdir().unwrap();
        let dir = scratch.path();
        check_readable(dir).unwrap();
        let file = dir.join("file");
        std::fs::write(&file, "").unwrap();
        let looped = dir.join("loop");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        for (path, want) in [
            (dir.join("absent"), "absent does not exist"),
            (file.clone(), "file is not a run directory (not a directory)"),
            (file.join("below"), "below: Not a directory"),
            (looped, "loop: Too many levels of symbolic links"),
        ] {
            let message = check_readable(&path).unwrap_err().to_string();
            assert!(message.contains(want), "{message}");
        }
    }

    #[test]
    fn run_directories_are_distinct_and_latest_moves() {
        // A results directory not there yet, inside a scratch directory removed on drop.
        let scratch = tempfile::Builder::new().prefix("execute-dirs-").tempdir().unwrap();
        let dir = scratch.path().join("results");
        let a = create_run_dir(&dir).unwrap();
        let b = create_run_dir(&dir).unwrap();
        assert_ne!(a, b);
        check_writable(&a).unwrap();
        point_latest_at(&dir, &a).unwrap();
        point_latest_at(&dir, &b).unwrap();
        assert_eq!(std::fs::canonicalize(dir.join(LATEST)).unwrap(), std::fs::canonicalize(&b).unwrap());
    }

    #[test]
    fn a_latest_that_is_no_link_is_left_alone() {
        let scratch = tempfile::Builder::new().prefix("execute-latest-").tempdir().unwrap();
        let dir = scratch.path().join("results");
        let run = create_run_dir(&dir).unwrap();
        std::fs::write(dir.join(LATEST), "mine").unwrap();
        let error = point_latest_at(&dir, &run).unwrap_err().to_string();
        assert!(error.contains("it is a file") && error.contains("left as it is"), "{error}");
        assert_eq!(std::fs::read_to_string(dir.join(LATEST)).unwrap(), "mine");
        std::fs::remove_file(dir.join(LATEST)).unwrap();
        std::fs::create_dir(dir.join(LATEST)).unwrap();
        assert!(point_latest_at(&dir, &run).unwrap_err().to_string().contains("it is a directory"));
        let names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(!names.iter().any(|n| n.starts_with(".latest")), "{names:?}");
    }
}
