//! Issue 22, the first run on a slow machine: the report is there after the first scenario, and
//! says it is partial while the rest runs (and after a kill).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{root, ORCHESTRATOR};
use orchestrator::environment::Environment;
use orchestrator::records;

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("first-run-").tempdir().expect("a temporary directory")
}

/// `orchestrator --root <this project> ARGS`, its output kept.
fn orchestrator(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(ORCHESTRATOR).arg("--root").arg(root()).args(args).stdin(Stdio::null()).output().expect("the orchestrator runs")
}

// ---------------------------------------------------------------------------------------------
// The report after each scenario

/// Pids of the live processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let commands = entries.flatten().filter_map(|e| Some((e.file_name().to_str()?.parse::<i32>().ok()?, e.path().join("cmdline"))));
    commands
        .filter(|(_, cmdline)| std::fs::read(cmdline).is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(marker)))
        .map(|(pid, _)| pid)
        .filter(|&pid| pid != std::process::id() as i32)
        .collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn scenario_file(dir: &Path, name: &str, order: u32, argv: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "name: {name}\norder: {order}\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\n\
         training: {{epochs: 1000, learning_rate: 0.01}}\nimplementations: [child]\nbaseline: child\n\
         define:\n  child: {{command: [\"{{bin_dir}}/fixture-child\", {argv}]}}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_report_of_the_first_scenario_is_there_while_the_second_runs_and_after_a_kill() {
    let dir = scratch();
    let marker = "30.0722";
    let first = scenario_file(dir.path(), "first", 1, "\"json\"");
    let second = scenario_file(dir.path(), "second", 2, &format!("\"spawn-wait\", \"sleep\", \"{marker}\""));
    let results = dir.path().join("results");
    let stderr_path = dir.path().join("stderr");
    let mut running = Command::new(ORCHESTRATOR)
        .arg("--root")
        .arg(root())
        .args(["run".as_ref(), first.as_os_str(), second.as_os_str(), "--results".as_ref(), results.as_os_str()])
        .args(["--no-probes", "--warmup", "0", "--repetitions", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    wait_until("the second scenario's child and its child", || processes_with(marker).len() == 2);

    // The first scenario's report was written before the second scenario started.
    let run_dir = std::fs::read_dir(&results).unwrap().flatten().map(|e| e.path()).find(|p| !p.ends_with(".cache")).unwrap();
    let report = std::fs::read_to_string(run_dir.join("report.md")).expect("the report of the first scenario");
    let partial = "**Partial report** — the run had not finished when this was written (finished: `first`; still to run: `second`); \
                   a run rewrites it after each scenario.";
    assert!(report.contains(partial), "{report}");
    assert!(report.contains("| child | "), "the first scenario's results: {report}");
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    let said = format!("report so far: {} (first done; 1 scenario to go", run_dir.join("report.html").display());
    assert!(stderr.contains(&said), "{stderr}");

    // Killed outright: the report of what finished stays, and a re-render says the same.
    running.kill().unwrap();
    running.wait().unwrap();
    wait_until("the measured children to go with the orchestrator", || processes_with(marker).is_empty());
    assert!(std::fs::read_to_string(run_dir.join("report.html")).unwrap().contains("Partial report"));
    let rendered = orchestrator(&["report".as_ref(), run_dir.as_os_str()]);
    assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
    assert!(std::fs::read_to_string(run_dir.join("report.md")).unwrap().contains(partial));
}

#[test]
fn a_finished_run_is_not_partial() {
    let dir = scratch();
    let first = scenario_file(dir.path(), "first", 1, "\"json\"");
    let second = scenario_file(dir.path(), "second", 2, "\"json\"");
    let results = dir.path().join("results");
    let out = orchestrator(&[
        "run".as_ref(),
        first.as_os_str(),
        second.as_os_str(),
        "--results".as_ref(),
        results.as_os_str(),
        "--no-probes".as_ref(),
        "--repetitions".as_ref(),
        "2".as_ref(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("report so far:").count(), 1, "after the first scenario, not after the last: {stderr}");
    let report = std::fs::read_to_string(results.join("latest/report.md")).unwrap();
    assert!(!report.contains("Partial report"), "{report}");
    let environment = std::fs::read_to_string(results.join("latest").join(records::ENVIRONMENT_JSON)).unwrap();
    let environment: Environment = serde_json::from_str(&environment).unwrap();
    let ended: Vec<(&str, bool)> = environment.scenarios.iter().map(|c| (c.scenario.as_str(), c.ended_utc.is_some())).collect();
    assert_eq!(ended, [("first", true), ("second", true)]);
    assert!(environment.scenarios.iter().all(|c| c.load_average_start.is_some() && c.load_average_end.is_some()));
}
