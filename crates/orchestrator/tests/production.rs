//! Warm, repeated fits (issue 20), run as a user runs them: a scenario asks for K fits (`fits:`),
//! the orchestrator appends `--fits K` to each implementation's command, keeps the per-fit
//! fields of its result line in raw.csv, refuses lines whose fields cannot be true, and the
//! report gains the warm-fits section, its chart and the script-or-service verdict. The programs
//! are the fixture-child binary (which times K real fits of busy work) and canned output; neither
//! Python nor the release build is needed. Also: scenarios/production.yaml is valid.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{catalogue, root, ORCHESTRATOR};
use orchestrator::plan::{self, Plan};
use orchestrator::records::{self, RawRecord, RunStatus};
use orchestrator::scenario;

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("production-").tempdir().expect("a temporary directory")
}

fn orchestrator(args: &[&std::ffi::OsStr]) -> Output {
    let output = Command::new(ORCHESTRATOR).arg("--root").arg(root()).args(args).output().expect("the orchestrator runs");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"), "{}", show(&output));
    output
}

/// `run SCENARIO --out DIR/run --results DIR/results --no-probes EXTRA…`: the run directory.
fn run(dir: &Path, scenario: &Path, extra: &[&str]) -> (PathBuf, Output) {
    let (out, results) = (dir.join("run"), dir.join("results"));
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["run".as_ref(), scenario.as_os_str(), "--out".as_ref(), out.as_os_str(), "--results".as_ref(), results.as_os_str()];
    args.push("--no-probes".as_ref());
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let output = orchestrator(&args);
    (out, output)
}

fn show(output: &Output) -> String {
    format!("exit {:?}\n{}\n{}", output.status.code(), String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

const FIXTURE: &str = r#"["{bin_dir}/fixture-child", "result", "{n}", "{epochs}", "{learning_rate}""#;

/// A scenario of three programs that follow the protocol (one says where it ran) and one that
/// does not, at two sizes: every implementation 6 fits, `slow` 3 at the second size.
fn service_scenario(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "name: service
dataset:
  generate: {{n: 50, slope: 2, intercept: 0.5, noise: 0.1, seed: 3}}
training:
  epochs: 10
  learning_rate: 0.01
  fits: 6
implementations: [fast, slow, jax-like, floor]
baseline: slow
highlight: [jax-like]
define:
  fast: {{command: {FIXTURE}]}}
  slow: {{command: {FIXTURE}]}}
  jax-like: {{command: {FIXTURE}, \"--device\", \"cpu:0 <b>|x</b>\"]}}
  floor: {{command: [\"/bin/true\"], protocol: none}}
measure: {{warmup: 0, repetitions: 3}}
sweep:
  - {{n: 50}}
  - {{n: 500, fits: {{slow: 3}}}}
expect:
  - speedup: {{faster: fast, than: slow, at_least: 0.001, metric: warm_median}}
{extra}"
    );
    let path = dir.join("service.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn rows_of<'a>(rows: &'a [RawRecord], implementation: &str, point: usize) -> Vec<&'a RawRecord> {
    rows.iter().filter(|r| r.implementation == implementation && r.point == point).collect()
}

#[test]
fn each_run_gets_its_fits_and_keeps_what_they_measured() {
    let dir = scratch();
    let (run_dir, output) = run(dir.path(), &service_scenario(dir.path(), ""), &[]);
    assert!(output.status.success(), "{}", show(&output));

    // The plan says who was asked for how many fits: never the program without a result line.
    let plan: Plan = records::read_json(&run_dir.join(records::PLAN_JSON)).unwrap();
    let fits = |point: usize| plan.scenarios[0].points[point].fits.clone().into_iter().collect::<Vec<_>>();
    let six = |name: &str| (name.to_string(), 6);
    assert_eq!(fits(0), vec![six("fast"), six("jax-like"), six("slow")]);
    assert_eq!(fits(1), vec![six("fast"), six("jax-like"), ("slow".to_string(), 3)]);

    let rows = records::read_raw(&run_dir).unwrap();
    assert_eq!(rows.len(), 2 * 4 * 3, "{rows:?}");
    for row in rows.iter().filter(|r| r.implementation != "floor") {
        assert_eq!(row.status, RunStatus::Ok, "{row:?}");
        let expected = if row.implementation == "slow" && row.point == 1 { 3 } else { 6 };
        assert_eq!(row.fits, Some(expected), "{row:?}");
        let first = row.fit_first_seconds.unwrap();
        let [min, median, p99, max, mean] = [
            row.fit_warm_min_seconds,
            row.fit_warm_median_seconds,
            row.fit_warm_p99_seconds,
            row.fit_warm_max_seconds,
            row.fit_warm_mean_seconds,
        ]
        .map(|v| v.unwrap_or_else(|| panic!("every warm field kept: {row:?}")));
        assert!(0.0 < min && min <= median && median <= p99 && p99 <= max && min <= mean && mean <= max, "{row:?}");
        assert!(first + (expected - 1) as f64 * mean <= row.train_seconds.unwrap() * 1.000_001, "{row:?}");
    }
    for row in rows_of(&rows, "floor", 0) {
        assert_eq!((row.status, row.fits, row.fit_first_seconds), (RunStatus::Ok, None, None), "{row:?}");
    }
    assert!(rows_of(&rows, "jax-like", 1).iter().all(|r| r.device.as_deref() == Some("cpu:0 <b>|x</b>")));
    assert!(rows_of(&rows, "fast", 0).iter().all(|r| r.device.is_none()));
}

/// Every figure the section shows, the verdict first, and the chart a real PNG of the charts' size.
#[test]
fn the_report_opens_with_the_verdict_and_has_the_section_and_its_chart() {
    let dir = scratch();
    let (run_dir, output) = run(dir.path(), &service_scenario(dir.path(), ""), &[]);
    assert!(output.status.success(), "{}", show(&output));
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    let before_contents = report.split("**Contents:**").next().unwrap();
    assert!(before_contents.contains("**Script or service** (`service`"), "{report}");
    assert!(before_contents.contains("<a id=\"verdict-fits\"></a>**One-off script or long-lived service**"), "{report}");
    for size in ["- **n = 50:** script: **", "- **n = 500:** script: **"] {
        let line = before_contents.lines().find(|l| l.starts_with(size)).unwrap_or_else(|| panic!("{size} in {report}"));
        assert!(line.contains(" · service: **") && line.contains("(p99 "), "{line}");
        // The highlighted one, where it ran as text: no markup, no extra table cell.
        assert!(line.contains("jax-like on cpu:0 \\<b\\>\\|x\\</b\\>: script "), "{line}");
    }
    let section = report.split("### Warm, repeated fits: one process, many fits").nth(1).expect("the warm-fits section");
    assert!(report.contains("so the whole-process wall time and its speed-up in the tables below count K fits"), "{report}");
    assert!(
        section.contains("| implementation | fits | warm median [95% CI] | warm p99 [95% CI] | first fit | first ÷ warm | fits/s/core |")
    );
    assert!(
        section.contains("| implementation | one-off script [95% CI] | speed-up, one-off | speed-up, warm fit | memory while fitting |")
    );
    let fast_row = section.lines().find(|l| l.starts_with("| fast | 6 | ")).unwrap_or_else(|| panic!("{section}"));
    // First ÷ warm is the median over the runs of each run's first fit over its warm median, as
    // raw.csv holds them; the fixture's first fit keeps busy five times as long as a warm one, so
    // the first is the slower, however a busy machine stretches either.
    let cells: Vec<&str> = fast_row.split(" | ").collect();
    let shown: f64 = cells[5].strip_suffix('×').and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{fast_row}"));
    let raw = records::read_raw(&run_dir).unwrap();
    let mut ratios: Vec<f64> =
        rows_of(&raw, "fast", 0).iter().map(|r| r.fit_first_seconds.unwrap() / r.fit_warm_median_seconds.unwrap()).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    assert!((shown - median).abs() <= 0.005 * median && median > 1.0, "{fast_row}: the runs' ratios {ratios:?}");
    assert!(section.contains("| slow | 3 | "), "{section}");
    // The short table on stdout shows one warm fit where the runs made several (K differs by
    // implementation, so whole-run walls do not compare), the same median the section shows.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let headers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("service · ")).collect();
    assert!(headers.len() == 2 && headers.iter().all(|h| h.ends_with(" · one warm fit (median) where a run made several")), "{stdout}");
    let fast_line = stdout.lines().find(|l| l.trim_start().starts_with("fast ")).unwrap_or_else(|| panic!("{stdout}"));
    let time: Vec<&str> = fast_line.split_whitespace().skip(1).take(2).collect();
    assert!(cells[2].starts_with(&time.join(" ")), "{fast_line} against {fast_row}");
    assert!(fast_line.contains("× vs slow, warm fit"), "{fast_line}");
    let floor_line = stdout.lines().find(|l| l.trim_start().starts_with("floor ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(!floor_line.contains("warm fit"), "no fits: its whole run, {floor_line}");
    let slow_row = section
        .lines()
        .find(|l| l.starts_with("| slow | ") && l.contains(" | baseline | baseline | "))
        .unwrap_or_else(|| panic!("{section}"));
    assert!(slow_row.ends_with(" MiB |"), "memory while fitting, from the samples: {slow_row}");
    assert!(section.contains("Where the fits ran, as the implementations say: jax-like on cpu:0 \\<b\\>\\|x\\</b\\>."), "{section}");
    assert!(!section.contains("| floor |"), "no fits, no row: {section}");
    assert!(report.contains("fast is at least 0.001× faster than slow (median warm fit)"), "{report}");

    let chart = run_dir.join("charts/service-latency.png");
    assert!(report.contains("(charts/service-latency.png)"), "{report}");
    let png = std::fs::read(&chart).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let size = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    assert_eq!((size(16), size(20)), (orchestrator::report::charts::WIDTH, orchestrator::report::charts::HEIGHT));

    let summary = std::fs::read_to_string(run_dir.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    let fast = lines.map(|l| l.split(',').collect::<Vec<_>>()).find(|cells| cells[3] == "fast").unwrap();
    assert_eq!(fast[column("fits")], "6");
    assert!(fast[column("fit_warm_median_s")].parse::<f64>().unwrap() > 0.0);
    assert!(fast[column("fit_warm_p99_ci_high_s")].parse::<f64>().unwrap() > 0.0);
    let json = std::fs::read_to_string(run_dir.join("summary.json")).unwrap();
    assert!(json.contains("\"fits_per_second_per_core\""), "{json}");
}

#[test]
fn quick_runs_cap_the_fits() {
    let dir = scratch();
    let (run_dir, output) = run(dir.path(), &service_scenario(dir.path(), ""), &["--quick"]);
    assert!(output.status.success(), "{}", show(&output));
    let plan: Plan = records::read_json(&run_dir.join(records::PLAN_JSON)).unwrap();
    // Without quick_fits at most 10: 6 and 3 stand.
    assert_eq!(plan.scenarios[0].points[1].fits.get("slow"), Some(&3));
    assert_eq!(plan.scenarios[0].points[0].fits.get("fast"), Some(&6));

    let dir = scratch();
    let path = service_scenario(dir.path(), "");
    let text = std::fs::read_to_string(&path).unwrap().replace("  fits: 6\n", "  fits: 6\n  quick_fits: 2\n");
    std::fs::write(&path, text).unwrap();
    let (run_dir, output) = run(dir.path(), &path, &["--quick"]);
    assert!(output.status.success(), "{}", show(&output));
    let rows = records::read_raw(&run_dir).unwrap();
    assert!(rows.iter().filter(|r| r.implementation != "floor").all(|r| r.fits == Some(2)), "{rows:?}");
}

/// The one-off script is a process of its own, making one fit, run before each counted run of K
/// fits and timed whole; not wall − train + first of the run of K fits, which counts that
/// process's exit after its work (here 300 ms held before the fits: a one-off figure derived from
/// it would be above 0.3 s). Where the one-fit process fails, the run of K fits stands, its message
/// says so, and the report says which figures are derived.
#[test]
fn the_one_off_script_is_a_one_fit_process_of_its_own() {
    let dir = scratch();
    let text = format!(
        "name: one-off
dataset:
  generate: {{n: 50, slope: 2, intercept: 0.5, noise: 0.1, seed: 3}}
training: {{epochs: 10, learning_rate: 0.01, fits: {{held: 4, service-only: 4, single: 1, k-fails: 4, one-off-hangs: 4}}}}
implementations: [held, service-only, single, k-fails, one-off-hangs]
baseline: held
define:
  held: {{command: {FIXTURE}, \"--hold-ms\", \"300\"]}}
  service-only: {{command: {FIXTURE}, \"--needs-fits\", \"yes\"]}}
  single: {{command: {FIXTURE}]}}
  k-fails: {{command: {FIXTURE}, \"--refuses-fits\", \"yes\"]}}
  one-off-hangs: {{command: {FIXTURE}, \"--hangs-without-fits\", \"yes\"]}}
measure: {{warmup: 1, repetitions: 2, timeout_seconds: 1}}
"
    );
    let path = dir.path().join("one-off.yaml");
    std::fs::write(&path, text).unwrap();
    let (run_dir, output) = run(dir.path(), &path, &[]);
    assert!(output.status.success(), "{}", show(&output));
    let rows = records::read_raw(&run_dir).unwrap();
    assert_eq!(rows.len(), 10, "one row a counted run: {rows:?}");
    for row in rows_of(&rows, "held", 0) {
        let (one_off, wall) = (row.one_off_wall_seconds.expect("timed"), row.wall_seconds.unwrap());
        assert!(one_off < 0.3 && wall > 0.3, "a process apart, without --fits (no hold): {row:?}");
        assert_eq!((row.status, row.one_off_status, row.message.as_str()), (RunStatus::Ok, Some(RunStatus::Ok), ""), "{row:?}");
    }
    for row in rows_of(&rows, "service-only", 0) {
        assert_eq!((row.status, row.fits, row.one_off_status), (RunStatus::Ok, Some(4), Some(RunStatus::Failed)), "{row:?}");
        assert!(
            row.message.starts_with("the one-off process before this run (one fit, no --fits) did not end ok (failed: exit code"),
            "{row:?}"
        );
    }
    for row in rows_of(&rows, "single", 0) {
        assert_eq!((row.fits, row.one_off_status, row.one_off_wall_seconds), (Some(1), None, None), "K = 1: no process before: {row:?}");
    }
    // A one-off process that timed out (in the warm-up) is not run again at the point: its
    // timeout is not paid before every run.
    for row in rows_of(&rows, "one-off-hangs", 0) {
        assert_eq!((row.status, row.one_off_status, row.one_off_wall_seconds), (RunStatus::Ok, Some(RunStatus::Timeout), None), "{row:?}");
        assert!(row.message.contains("was not run: it timed out (timeout_seconds = 1)"), "{row:?}");
    }
    // A run of K fits that failed after a one-off process that ended ok is kept as the failure it is.
    for row in rows_of(&rows, "k-fails", 0) {
        assert_eq!((row.status, row.fits, row.one_off_status), (RunStatus::Failed, None, Some(RunStatus::Ok)), "{row:?}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("service-only rep 1: the one-off process before this run (one fit, no --fits) did not end ok (failed: exit code")
            && stderr.contains("; the run itself: ok"),
        "said as it happens: {stderr}"
    );

    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    let fits_of = |name: &str| {
        let implementations = summary["summary"]["scenarios"][0]["points"][0]["implementations"].as_array().unwrap();
        implementations.iter().find(|i| i["implementation"] == name).unwrap()["fits"].clone()
    };
    let held = fits_of("held");
    assert!(held["one_off"]["median"].as_f64().unwrap() < 0.3, "{held}");
    assert_eq!((&held["one_off_derived_runs"], &held["one_off_failed_runs"]), (&0.into(), &0.into()), "{held}");
    let service_only = fits_of("service-only");
    assert_eq!((&service_only["one_off_failed_runs"], &service_only["one_off"]), (&2.into(), &serde_json::Value::Null), "{service_only}");
    assert_eq!(fits_of("single")["one_off_derived_runs"], 0, "K = 1 is a one-fit process itself");
    // summary.csv says it too.
    let csv = std::fs::read_to_string(run_dir.join("summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    let cells = csv.lines().map(|l| l.split(',').collect::<Vec<_>>()).find(|c| c.contains(&"service-only")).unwrap();
    assert_eq!((cells[column("one_off_failed_runs")], cells[column("one_off_median_s")]), ("2", ""), "{csv}");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(report.contains("run just before each run of K ≥ 2 fits and timed whole"), "{report}");
    assert!(
        report.contains(
            "4 runs of K fits have no one-off figure (`service-only`, `one-off-hangs`): the one-fit process before them did not end ok"
        ),
        "{report}"
    );
    assert!(!report.contains("were recorded before that process was run"), "{report}");
    assert!(!report.contains("left out of every statistic"), "no row of this run is set aside: {report}");
    assert!(report.contains("| k-fails | — | — | — | — | — | **failed** |") && report.contains("k-fails: 2 failed run(s)"), "{report}");
}

/// A program whose per-fit fields cannot be true: bad_output, said why, the other runs kept.
#[test]
fn impossible_per_fit_fields_are_bad_output_with_the_reason() {
    let dir = scratch();
    let line = |fields: &str| {
        format!(
            "{{\"implementation\": \"liar\", \"n\": 50, \"epochs\": 10, \"learning_rate\": 0.01, \"w\": 2.0, \"b\": 0.5, \"mse\": 0.01, \
             \"status\": \"ok\", \"epochs_run\": 10, \"load_seconds\": 0.0001, \"train_seconds\": 0.001, {fields}}}"
        )
    };
    let cases = [
        (
            "wrong-count",
            line(
                "\"fits\": 4, \"fit_first_seconds\": 0.0001, \"fit_warm_min_seconds\": 0.0001, \"fit_warm_median_seconds\": 0.0001, \
                 \"fit_warm_p99_seconds\": 0.0001, \"fit_warm_max_seconds\": 0.0001, \"fit_warm_mean_seconds\": 0.0001",
            ),
            "reports fits = 4, but the run asked for --fits 6",
        ),
        ("no-fields", line("\"kernel\": \"x\""), "has no `fits` field"),
        (
            "disorder",
            line(
                "\"fits\": 6, \"fit_first_seconds\": 0.0001, \"fit_warm_min_seconds\": 0.0002, \"fit_warm_median_seconds\": 0.0001, \
                 \"fit_warm_p99_seconds\": 0.0002, \"fit_warm_max_seconds\": 0.0002, \"fit_warm_mean_seconds\": 0.00015",
            ),
            "min ≤ median ≤ p99 ≤ max",
        ),
        (
            "too-long",
            line(
                "\"fits\": 6, \"fit_first_seconds\": 0.0005, \"fit_warm_min_seconds\": 0.0002, \"fit_warm_median_seconds\": 0.0002, \
                 \"fit_warm_p99_seconds\": 0.0002, \"fit_warm_max_seconds\": 0.0002, \"fit_warm_mean_seconds\": 0.0002",
            ),
            "more than train_seconds = 0.001 s",
        ),
    ];
    let mut define = String::new();
    for (name, text, _) in &cases {
        let file = dir.path().join(format!("{name}.json"));
        std::fs::write(&file, format!("{text}\n")).unwrap();
        // `--fits 6` lands in $1 and $2 of the shell, which ignores them.
        define.push_str(&format!("  {name}: {{command: [\"/bin/sh\", \"-c\", 'cat \"$0\"', \"{}\"]}}\n", file.display()));
    }
    let names: Vec<&str> = cases.iter().map(|(name, _, _)| *name).collect();
    let text = format!(
        "name: liars\ndataset:\n  generate: {{n: 50, slope: 2, intercept: 0.5}}\ntraining: {{epochs: 10, learning_rate: 0.01, fits: 6}}\n\
         implementations: [honest, {}]\nbaseline: honest\ndefine:\n  honest: {{command: {FIXTURE}]}}\n{define}measure: {{warmup: 0, repetitions: 1}}\n",
        names.join(", ")
    );
    let path = dir.path().join("liars.yaml");
    std::fs::write(&path, text).unwrap();
    let (run_dir, output) = run(dir.path(), &path, &[]);
    assert!(output.status.success(), "{}", show(&output));
    let rows = records::read_raw(&run_dir).unwrap();
    assert_eq!(rows_of(&rows, "honest", 0)[0].status, RunStatus::Ok);
    for (name, _, reason) in cases {
        let row = rows_of(&rows, name, 0)[0];
        assert_eq!(row.status, RunStatus::BadOutput, "{row:?}");
        assert!(row.message.contains(reason), "{name}: {}", row.message);
        assert_eq!(row.fits, None, "nothing of a refused line is kept: {row:?}");
    }
}

/// Each mistake in `fits:` is one error at its file, line and column, before anything runs.
#[test]
fn mistakes_in_fits_are_located_and_explained() {
    let dir = scratch();
    let cases = [
        ("  fits: 6\n", "  fits: 0\n", ":7:9: a number of fits must be between 1 and 10000000"),
        ("  fits: 6\n", "  fits: 2.5\n", ":7:3: invalid value: floating point `2.5`, expected a whole number of fits"),
        ("  fits: 6\n", "  fits: {}\n", ":7:9: fits names no implementation"),
        ("  fits: 6\n", "  fits: {nobody: 3}\n", ":7:18: fits names 'nobody', which is not among this scenario's implementations"),
        ("  fits: 6\n", "  fits: {floor: 3}\n", ":7:17: fits names 'floor', which has `protocol: none`"),
        ("  fits: 6\n", "  fits: {fast: 20000000}\n", ":7:16: a number of fits must be between 1 and 10000000"),
        ("  fits: 6\n", "  fits: 6\n  quick_fits: 0\n", ":8:15: a number of fits must be between 1 and 10000000"),
        ("{n: 500, fits: {slow: 3}}", "{n: 500, skip: [slow], fits: {slow: 3}}", ":19:5: the baseline cannot be skipped"),
        ("{n: 500, fits: {slow: 3}}", "{n: 500, skip: [fast], fits: {fast: 3}}", ":19:41: fits names 'fast', which this point skips"),
        ("highlight: [jax-like]", "highlight: [jax]", ":10:13: highlight names 'jax', which is not among this scenario's implementations"),
        (
            "  - speedup: {faster: fast, than: slow, at_least: 0.001, metric: warm_median}",
            "  - speedup: {faster: fast, than: floor, at_least: 0.001, metric: warm_p99}",
            ":21:5: metric warm_p99 needs fits: 2 or more from both implementations, but 'floor' has no fits at point 0",
        ),
        (
            "{n: 500, fits: {slow: 3}}",
            "{n: 500, fits: {slow: 1}}",
            ":21:5: metric warm_median needs fits: 2 or more from both implementations, but 'slow' has fits: 1 at point 1",
        ),
    ];
    let good = service_scenario(dir.path(), "");
    let text = std::fs::read_to_string(&good).unwrap();
    for (from, to, want) in cases {
        assert!(text.contains(from), "{from}");
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let output = orchestrator(&["validate".as_ref(), path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{to}: {}", show(&output));
        let expected = format!("{}{want}", path.display());
        assert!(stderr.contains(&expected), "{to}: expected {expected:?} in\n{stderr}");
    }
}

/// scenarios/production.yaml against the shipped catalogue, with stand-ins for the two
/// implementations the PyO3 work adds to it until they are there.
#[test]
fn the_production_scenario_is_valid_and_its_quick_run_stays_small() {
    let dir = scratch();
    let mut implementations = catalogue().implementations;
    let stand_ins = dir.path().join("stand-ins.yaml");
    std::fs::write(
        &stand_ins,
        "implementations:\n  python-rust: {command: [\"{python}\", \"x.py\"], optional: true}\n  python-jax: {command: [\"{python}\", \"y.py\"], optional: true}\n",
    )
    .unwrap();
    for (name, spec) in scenario::load_implementations(&stand_ins).unwrap().implementations {
        implementations.entry(name).or_insert(spec);
    }
    let path = root().join("scenarios/production.yaml");
    let loaded = plan::load(std::slice::from_ref(&path), &implementations).unwrap_or_else(|e| panic!("{e}"));
    let file = &loaded[0].file;
    assert_eq!(file.implementations.value.len(), 10);
    assert_eq!(file.highlight.iter().map(|h| h.value.as_str()).collect::<Vec<_>>(), ["python-rust", "python-jax"]);
    let sweep = &file.sweep.as_ref().unwrap().value;
    let sizes: Vec<u64> = sweep.iter().map(|p| p.value.n.as_ref().unwrap().value).collect();
    assert_eq!(sizes, [5, 1000, 100_000, 1_000_000]);
    // Every implementation that runs at a point has its own K there; 10^6 is left out of --quick.
    for point in sweep {
        let Some(scenario::FitsSpec::Each(entries)) = point.value.fits.as_ref().map(|f| &f.value) else { panic!("a map of fits") };
        let named: Vec<&str> = entries.iter().map(|(name, _)| name.value.as_str()).collect();
        let runs = file.implementations.value.iter().filter(|i| !point.value.skip.iter().any(|s| s.value == i.value));
        for implementation in runs {
            assert!(named.contains(&implementation.value.as_str()), "{} has no K at n = {sizes:?}", implementation.value);
        }
    }
    assert!(!sweep[3].value.quick);
    assert!(file.training.quick_fits.as_ref().is_some_and(|q| q.value <= 5));
}
