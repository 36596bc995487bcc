//! Issue 22, the first run on a slow machine: the report is there after the first scenario, says
//! it is partial while the rest runs (and after a kill), and a program measured in two scenarios
//! under different conditions gets one figure on the first screen and the reason for the other.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{implementation, plan, record, root, ORCHESTRATOR};
use orchestrator::environment::{Environment, ScenarioConditions};
use orchestrator::plan::{ImplementationPlan, Plan, ScenarioPlan};
use orchestrator::records::{self, CsvAppender, RawRecord};

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("first-run-").tempdir().expect("a temporary directory")
}

/// `orchestrator --root <this project> ARGS`, its output kept.
fn orchestrator(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(ORCHESTRATOR).arg("--root").arg(root()).args(args).stdin(Stdio::null()).output().expect("the orchestrator runs")
}

/// The report's first screen: everything before the table of contents.
fn first_screen(report: &str) -> &str {
    &report[..report.find("**Contents:**").expect("a table of contents")]
}

// ---------------------------------------------------------------------------------------------
// One program, one figure — or the reason

/// python-numpy runs the same command on the same data in `seed` (76 ms) and in `startup`
/// (`startup_ms`), 130 s later; the load average was 0.80→0.90 during seed and 2.10→2.50 during
/// startup, where an anatomy chain takes python-numpy apart.
fn write_two_scenario_run(dir: &Path, startup_ms: f64) {
    let data = dir.join("seed.npy");
    linreg::Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().write_npy(&data).unwrap();
    let program =
        |name: &str, argv: &[&str]| ImplementationPlan { command: argv.iter().map(|a| a.to_string()).collect(), ..implementation(name) };
    let numpy = program("python-numpy", &["python", "linreg_numpy.py", "--data", "{data}", "--epochs", "{epochs}"]);
    let seed = plan(&data, vec![]).scenarios.remove(0);
    let seed = ScenarioPlan { implementations: vec![program("rust", &["linreg-static", "--data", "{data}"]), numpy.clone()], ..seed };
    let none = orchestrator::scenario::Protocol::None;
    let startup = ScenarioPlan {
        name: "startup".into(),
        implementations: vec![
            ImplementationPlan { protocol: none, ..program("bin-true", &["/bin/true"]) },
            ImplementationPlan { protocol: none, ..program("python-import-numpy", &["python", "-c", "import numpy"]) },
            numpy,
        ],
        anatomy: vec![vec!["bin-true".into(), "python-import-numpy".into(), "python-numpy".into()]],
        ..seed.clone()
    };
    records::write_json_atomic(&dir.join(records::PLAN_JSON), &Plan { scenarios: vec![seed, startup] }).unwrap();

    let at = |scenario: &str, start: f64, name: &str, k: u32, ms: f64| RawRecord {
        scenario: scenario.into(),
        started_unix_seconds: start + k as f64,
        ..record(name, k, ms * (1.0 + 0.002 * k as f64) * 1e-3, if name == "rust" { 2 << 20 } else { 28 << 20 })
    };
    let mut rows = Vec::new();
    for k in 1..=5 {
        rows.push(at("seed", 1.8e9, "rust", k, 0.6));
        rows.push(at("seed", 1.8e9, "python-numpy", k, 76.0));
        rows.push(at("startup", 1.8e9 + 130.0, "bin-true", k, 0.6));
        rows.push(at("startup", 1.8e9 + 130.0, "python-import-numpy", k, 55.0));
        rows.push(at("startup", 1.8e9 + 130.0, "python-numpy", k, startup_ms));
    }
    CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(&rows).unwrap();

    let conditions = |scenario: &str, start: f64, end: f64| ScenarioConditions {
        scenario: scenario.into(),
        started_utc: "2027-01-15T08:00:00Z".into(),
        load_average_start: Some([start, 1.0, 1.0]),
        ended_utc: Some("2027-01-15T08:01:00Z".into()),
        load_average_end: Some([end, 1.0, 1.0]),
    };
    let environment = Environment {
        started_utc: "2027-01-15T08:00:00Z".into(),
        ended_utc: Some("2027-01-15T08:03:00Z".into()),
        logical_cpus: 2,
        load_average_start: [0.8, 1.0, 1.0],
        load_average_end: Some([2.5, 1.0, 1.0]),
        scenarios: vec![conditions("seed", 0.8, 0.9), conditions("startup", 2.1, 2.5)],
        ..Environment::default()
    };
    records::write_json_atomic(&dir.join(records::ENVIRONMENT_JSON), &environment).unwrap();
}

/// [`write_two_scenario_run`] rendered: its directory and report.md.
fn render_two_scenario_run(startup_ms: f64) -> (tempfile::TempDir, String) {
    let dir = scratch();
    write_two_scenario_run(dir.path(), startup_ms);
    let out = orchestrator(&["report".as_ref(), dir.path().as_os_str()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    (dir, report)
}

#[test]
fn one_program_measured_apart_in_two_scenarios_gets_one_figure_and_the_reason() {
    let (dir, report) = render_two_scenario_run(85.0);
    let first = first_screen(&report);

    // The opening quotes seed's figure; startup's appears once, in the line that says why.
    assert!(first.contains("76.5 ms for python-numpy"), "{first}");
    let again: Vec<&str> = first.lines().filter(|l| l.contains("85.5 ms")).collect();
    assert_eq!(again.len(), 1, "startup's figure once on the first screen: {first}");
    let conditions = "(2m 10s later; 1-minute load average 0.80→0.90 during `seed`, 2.10→2.50 during `startup`)";
    assert!(again[0].starts_with(&format!("- **Measured again in `startup`** {conditions}: python-numpy 85.5 ms [")), "{}", again[0]);
    let why = ", not 76.5 ms — the CIs do not overlap, so the machine's conditions, not the program, made the difference.";
    assert!(again[0].ends_with(why), "{}", again[0]);
    assert!(first.contains("`python-import-numpy` adds the most to `python-numpy`: +"), "no second figure for python-numpy: {first}");
    // The busy machine is on the first screen, not only in the notes.
    assert!(
        first.contains("- **Busy machine:** the 1-minute load average reached 2.50 on 2 CPUs at the end of the run: expect"),
        "{first}"
    );
    assert!(report.contains("- **warning** the 1-minute load average reached 2.50 on 2 CPUs at the end of the run"), "{report}");

    // Where startup's figures are quoted, its section says the same.
    let startup = &report[report.find("## Scenario `startup`").unwrap()..];
    assert!(startup.contains("**Also measured in `seed`** (2m 10s earlier; 1-minute load average 2.10→2.50 during `startup`"), "{startup}");
    assert!(
        startup.contains("python-numpy 76.5 ms [76.2–76.8] there, 85.5 ms [85.2–85.8] here: **their CIs do not overlap**."),
        "{startup}"
    );
    assert!(startup.contains("the machine's conditions, not the program, made the difference"), "{startup}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("Measured again in <code>startup</code>"), "report.html says it too");
}

#[test]
fn one_program_measured_alike_in_two_scenarios_is_compared_without_alarm() {
    let (_dir, report) = render_two_scenario_run(76.0);
    assert!(!first_screen(&report).contains("Measured again"), "{report}");
    let startup = &report[report.find("## Scenario `startup`").unwrap()..];
    assert!(startup.contains("python-numpy 76.5 ms [76.2–76.8] there, 76.5 ms [76.2–76.8] here: their CIs overlap."), "{startup}");
    assert!(!startup.contains("made the difference"), "{startup}");
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

/// `orchestrator run FIRST SECOND --results RESULTS --no-probes ARGS…`, its output kept.
fn run_two(first: &Path, second: &Path, results: &Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<&std::ffi::OsStr> =
        vec!["run".as_ref(), first.as_os_str(), second.as_os_str(), "--results".as_ref(), results.as_os_str(), "--no-probes".as_ref()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    orchestrator(&all)
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
    let out = run_two(&first, &second, &results, &["--repetitions", "2"]);
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

// ---------------------------------------------------------------------------------------------
// What the first scenario does not need is built after it

/// The second scenario runs `late`, not built when the run starts (its check fails) but made by
/// its `prepare` command, and `broken`, whose prepare command fails: `late` is prepared after
/// the first scenario's report, before the second scenario starts, and measured; `broken` is
/// marked unavailable with the reason, in raw.csv, plan.json and the report; the first scenario
/// never waits for either.
#[test]
fn what_the_first_scenario_does_not_need_is_prepared_after_it() {
    let dir = scratch();
    let first = scenario_file(dir.path(), "first", 1, "\"json\"");
    let built = dir.path().join("built");
    let second = dir.path().join("second.yaml");
    let text = format!(
        r#"name: second
order: 2
dataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}
training: {{epochs: 1000, learning_rate: 0.01}}
implementations: [child, late, broken]
baseline: child
define:
  child: {{command: ["{{bin_dir}}/fixture-child", "json"]}}
  late:
    command: ["{{bin_dir}}/fixture-child", "json"]
    check: ["/bin/sh", "-c", "test -e '{built}'"]
    prepare: ["/bin/sh", "-c", "printf 'made by %s\\n' late; touch '{built}'"]
  broken:
    command: ["{{bin_dir}}/fixture-child", "json"]
    check: ["/bin/sh", "-c", "exit 1"]
    prepare: ["/bin/sh", "-c", "printf 'no %s here\\n' compiler; exit 3"]
    hint: install the compiler
    optional: true
"#,
        built = built.display()
    );
    std::fs::write(&second, text).unwrap();
    let results = dir.path().join("results");
    let out = run_two(&first, &second, &results, &["--warmup", "0", "--repetitions", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(built.exists(), "late's prepare command ran");

    // In this order: the plan says what will be prepared, the first scenario's report is
    // written, then each prepare command runs (its output on stderr, not stdout), then the
    // second scenario.
    let at = |text: &str| stderr.find(text).unwrap_or_else(|| panic!("`{text}` in: {stderr}"));
    let order = [
        at("note: 'late' is not built or installed yet"),
        at("(first done; 1 scenario to go"),
        at("preparing late for second"),
        at("made by late"),
        at("late is ready"),
        at("preparing broken for second"),
        at("no compiler here"),
        at("warning: broken stays unavailable"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "out of order: {order:?} in: {stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("made by late"), "a prepare command's output goes to stderr");

    let run_dir = results.join("latest");
    let raw = std::fs::read_to_string(run_dir.join(records::RAW_CSV)).unwrap();
    let rows = |implementation: &str, status: &str| {
        raw.lines().filter(|l| l.starts_with("second,") && l.contains(&format!(",{implementation},")) && l.contains(status)).count()
    };
    assert_eq!(rows("late", ",ok,"), 2, "late measured after it was prepared: {raw}");
    assert_eq!(rows("broken", ",unavailable,"), 1, "{raw}");
    assert!(raw.contains("exit status: 3") && raw.contains("install the compiler"), "the reason and the hint: {raw}");

    let plan: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run_dir.join(records::PLAN_JSON)).unwrap()).unwrap();
    let implementation =
        |name: &str| plan["scenarios"][1]["implementations"].as_array().unwrap().iter().find(|i| i["name"] == name).cloned().unwrap();
    assert!(implementation("late")["unavailable"].is_null());
    assert!(implementation("broken")["unavailable"].as_str().is_some_and(|why| why.contains("exit status: 3")), "{plan}");

    let environment: Environment =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join(records::ENVIRONMENT_JSON)).unwrap()).unwrap();
    let prepared: Vec<(&str, &str, bool)> =
        environment.prepared.iter().map(|p| (p.implementation.as_str(), p.before_scenario.as_str(), p.unavailable.is_none())).collect();
    assert_eq!(prepared, [("late", "second", true), ("broken", "second", false)]);
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("broken") && report.contains("install the compiler"), "the report says why broken did not run: {report}");
}
