//! The hostile suite (issue 7): the `orchestrator` binary run as a user runs it, with their YAML,
//! their data and their programs, against everything that can go wrong. Fixtures are in
//! tests/hostile/ (see its README). Each test proves one promise: a clear error (file, line and
//! column; what is missing and the command that fixes it) before anything runs, or a status of its
//! own in raw.csv; and never a panic, a hang, a process left behind or a finished measurement lost.
//!
//! Neither Python nor the release build is needed: implementations are the fixture-child binary
//! (reached as {bin_dir}/fixture-child, beside the orchestrator) and /bin/cat of canned output.
//! The few cases that need python3, make or mount say so and skip when those are missing.

mod common;

use common::{catalogue, is_root, limit_file_size, limit_memory, mkfifo, orchestrator, root, start, Outcome, ORCHESTRATOR};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orchestrator::records::{RawRecord, RunStatus};
use orchestrator::{plan, records};
use proptest::prelude::*;
use tempfile::TempDir;

/// Longer than any run of this suite takes: reaching it means the orchestrator hung.
const HANG: Duration = Duration::from_secs(60);

fn hostile() -> PathBuf {
    root().join("tests/hostile")
}

fn scratch() -> TempDir {
    tempfile::Builder::new().prefix("hostile-").tempdir().expect("a temporary directory")
}

// ---------------------------------------------------------------------------------------------
// Running the orchestrator

/// `run SCENARIO --results RESULTS --no-probes --warmup 0 --repetitions 1 EXTRA…` (EXTRA may
/// give other repetitions).
fn run_args(scenario: &Path, results: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["run".into(), scenario.into(), "--results".into(), results.into(), "--no-probes".into()];
    args.extend(["--warmup", "0"].map(OsString::from));
    if !extra.contains(&"--repetitions") {
        args.extend(["--repetitions", "1"].map(OsString::from));
    }
    args.extend(extra.iter().map(OsString::from));
    args
}

fn run(command: Command, dir: &Path) -> Outcome {
    start(command, dir).finish(HANG)
}

/// The run directories under a results directory (not `latest`, not the cache).
fn run_dirs(results: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(results) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

fn only_run_dir(results: &Path) -> PathBuf {
    let dirs = run_dirs(results);
    assert_eq!(dirs.len(), 1, "one run directory in {}: {dirs:?}", results.display());
    dirs[0].clone()
}

fn rows(run_dir: &Path) -> Vec<RawRecord> {
    records::read_raw(run_dir).unwrap_or_else(|e| panic!("raw.csv is not valid: {e}"))
}

fn row<'a>(rows: &'a [RawRecord], implementation: &str) -> &'a RawRecord {
    rows.iter().find(|r| r.implementation == implementation).unwrap_or_else(|| panic!("no row for {implementation}"))
}

/// A run directory has no half-written file: every JSON, CSV and Markdown file was renamed into
/// place whole (or appended and synced), so no temporary is left.
fn assert_no_temporaries(run_dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(run_dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-") || n.starts_with(".write-probe")), "{names:?}");
}

/// A scenario over one dataset (given as YAML) whose implementation reports a valid result for
/// whatever point it is given.
fn scenario_over(dir: &Path, dataset: &str) -> PathBuf {
    let path = dir.join("scenario.yaml");
    let text = format!(
        "name: data\ndataset: {dataset}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\nimplementations: [fixture]\nbaseline: fixture\n\
         define:\n  fixture: {{command: [\"{{bin_dir}}/fixture-child\", \"result\", \"{{n}}\", \"{{epochs}}\", \"{{learning_rate}}\"]}}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// Processes

/// Pids of the live processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let own = std::process::id() as i32;
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(marker))
        })
        .collect()
}

/// Neither running nor a zombie.
fn is_gone(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario files: never a panic, always file:line:column

/// A valid scenario using most of the schema, anchors and aliases included: the seed of the fuzz.
const FUZZ_SEED: &str = r#"name: fuzzed
description: >
  A valid scenario using most of the schema, mutated by the fuzz test.
dataset:
  generate: {n: 100, slope: 2, intercept: 0.5, noise: 0.1, seed: 7, x_min: 0, x_max: 10}
training:
  epochs: 100
  learning_rate: 0.01
implementations: [&mine mine, rust]
baseline: *mine
define:
  mine:
    command: ["{bin_dir}/fixture-child", "result", "{n}", "{epochs}", "{learning_rate}"]
    env: {OMP_NUM_THREADS: "1"}
    check: ["/bin/true"]
    hint: it is a fixture
measure:
  warmup: 1
  repetitions: 3
  quick_repetitions: 2
  sample_interval_ms: 1
  timeout_seconds: 10
  order: grouped
  memory_limit_mb: 256
sweep:
  - {n: 10}
  - {n: 1000, epochs: 5, skip: [rust], quick: false}
expect:
  - speedup: {faster: rust, than: mine, at_least: 1, metric: wall, source: "a test"}
  - memory_ratio: {leaner: rust, than: mine, at_most: 100, point: 1}
  - fit: {implementation: mine, w: 2.0, b: 0.5, tolerance: 0.1}
accuracy:
  relative_tolerance: 1e-9
"#;

/// YAML's syntax and the values users get wrong, inserted at random places.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "&a ", "*a", "*undefined", "&a [1, *a]", "<<: *mine\n", "{", "}", "[", "]", ": ", "- ", "\n", "\t", "  ", "'", "\"", "!!binary ",
    "!!str ", "!custom ", "? ", "|\n", ">-\n", "#", "%YAML 1.2\n---\n", "---\n", "...\n", "~", "null", "1e999", "-1", "0x1F",
    "99999999999999999999999", ".nan", "-.inf", "\u{feff}", "\0", "é", "\u{85}", "\r\n", "name: again\n", "x: [", "repetitions: 0",
];

#[derive(Debug, Clone)]
enum Mutation {
    XorByte(usize, u8),
    Truncate(usize),
    DuplicateLine(usize),
    DeleteLine(usize),
    Insert(usize, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::XorByte(at, byte)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::DeleteLine),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::Insert(at, token)),
    ]
}

fn mutate(text: &mut Vec<u8>, mutation: &Mutation) {
    let mut lines: Vec<Vec<u8>> = text.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    match *mutation {
        Mutation::XorByte(at, byte) if !text.is_empty() => {
            let i = at % text.len();
            text[i] ^= byte;
        }
        Mutation::Truncate(at) => text.truncate(at % (text.len() + 1)),
        Mutation::DuplicateLine(at) if !lines.is_empty() => {
            let i = at % lines.len();
            lines.insert(i, lines[i].clone());
            *text = lines.concat();
        }
        Mutation::DeleteLine(at) if !lines.is_empty() => {
            lines.remove(at % lines.len());
            *text = lines.concat();
        }
        Mutation::Insert(at, token) => {
            let i = at % (text.len() + 1);
            text.splice(i..i, token.bytes());
        }
        _ => {}
    }
}

#[test]
fn the_fuzz_seed_is_a_valid_scenario() {
    let dir = scratch();
    let path = dir.path().join("seed.yaml");
    std::fs::write(&path, FUZZ_SEED).unwrap();
    plan::load(&[path], &catalogue().implementations).unwrap_or_else(|e| panic!("{e}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Byte flips, truncations, duplicated or deleted lines and YAML tokens anywhere: loading never
    /// panics, and every error names the file and a line and column from 1, but for the whole
    /// file's one problem a mutation can make (emptied: nothing to point at), which names the file.
    #[test]
    fn yaml_fuzz_never_panics_and_always_locates(mutations in prop::collection::vec(mutation(), 1..5)) {
        let mut text = FUZZ_SEED.as_bytes().to_vec();
        for m in &mutations {
            mutate(&mut text, m);
        }
        let dir = scratch();
        let path = dir.path().join("fuzzed.yaml");
        std::fs::write(&path, &text).unwrap();
        if let Err(e) = plan::load(std::slice::from_ref(&path), &catalogue().implementations) {
            prop_assert_eq!(&e.file, &path);
            prop_assert!(!e.message.trim().is_empty(), "{}", e);
            if e.line == 0 {
                prop_assert!(e.message.starts_with("the file is empty"), "{}", e);
                prop_assert!(e.to_string().starts_with(&format!("{}: ", path.display())), "{}", e);
            } else {
                prop_assert!(e.column >= 1, "{}", e);
                prop_assert!(e.to_string().starts_with(&format!("{}:{}:{}: ", path.display(), e.line, e.column)), "{}", e);
            }
        }
    }
}

#[test]
fn hostile_yaml_files_are_rejected_with_file_line_and_column() {
    let dir = scratch();
    let cases = [
        ("duplicate-key.yaml", "8:1: duplicate mapping key: training"),
        ("huge-number.yaml", "5:20: invalid u64"),
        ("huge-float.yaml", "5:39: invalid floating point"),
        ("huge-repetitions.yaml", "8:24: must be at most 10000"),
        ("huge-warmup.yaml", "8:19: must be at most 10000"),
        ("negative-count.yaml", "8:24: invalid u32"),
        ("nan-inline.yaml", "4:15: every value must be finite"),
        ("empty-check.yaml", "9:41: check must not be empty"),
        ("two-documents.yaml", "9:1: a second YAML document starts here"),
        ("tabs.yaml", "4:2: tabs disallowed"),
        ("npy-wrong-extension.yaml", "4:15: path must name a .npy file"),
        ("empty.yaml", " the file is empty"),
        ("comments-only.yaml", " the file is empty"),
        ("non-utf8.yaml", "2:17: not valid UTF-8"),
        // Issue 12, point 13: names end up in file names, tables and headings.
        ("long-name.yaml", "2:7: scenario name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn…' (300 characters) is not valid"),
        ("name-with-pipe.yaml", "2:7: scenario name 'a|b' is not valid: use 1–64 letters, digits"),
        ("implementation-name-newline.yaml", "9:17: implementation name 'two\\nlines' is not valid"),
        ("empty-implementation-name.yaml", "9:7: implementation name '' is not valid"),
        // Point 14: the same point twice would be measured twice under one heading.
        ("quoted-not-a-number.yaml", "4:20: invalid u64"),
        ("define-shadows-catalogue.yaml", "9:9: 'rust' is already in the implementation catalogue: give this one another name, or add"),
        ("duplicate-sweep-point.yaml", "11:5: sweep point 2 is the same point as point 0 (n=100 epochs=10 learning_rate=0.01)"),
        // What no process can be given as written: refused here, not as a spawn failure of every run.
        ("argument-nul.yaml", "9:33: the argument 'a\\0b' holds a NUL character"),
        ("env-nul.yaml", "12:14: env: the value of A, 'x\\0y', holds a NUL character"),
        ("env-name-with-equals.yaml", "14:14: env: the name 'C=D' holds '='"),
        ("env-name-empty.yaml", "12:15: env: a variable's name is empty"),
        // ... nor through a placeholder: {data} is the dataset's path.
        ("npy-path-nul.yaml", "4:15: the path '../data/good\\0.npy' holds a NUL character"),
        ("claim-bounds-huge.yaml", "9:5: at_least (1e308) is above at_most (1e-300)"),
    ];
    let mut failures = Vec::new();
    for (name, want) in cases {
        let path = hostile().join("scenarios").join(name);
        let outcome = run(orchestrator([OsStr::new("validate"), path.as_os_str()]), dir.path());
        let first = outcome.stderr.lines().next().unwrap_or("");
        let expected = format!("error: {}:{want}", path.display());
        if outcome.code != Some(2) || !first.starts_with(&expected) || first.contains("Options") || first.contains("from_str") {
            failures.push(format!("{name}: want '{expected}…' and exit 2, got:\n{}", outcome.show()));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn directories_devices_and_fifos_are_refused_without_reading_forever() {
    let dir = scratch();
    let directory = dir.path().join("a-directory.yaml");
    std::fs::create_dir(&directory).unwrap();
    let fifo = dir.path().join("a-fifo.yaml");
    mkfifo(&fifo);
    let cases = [
        (directory.clone(), "is a directory"),
        (PathBuf::from("/dev/zero"), "is not a regular file"),
        (fifo.clone(), "is not a regular file"),
        (dir.path().join("missing.yaml"), "cannot read: No such file"),
    ];
    for (path, want) in cases {
        let outcome = start(orchestrator([OsStr::new("validate"), path.as_os_str()]), dir.path()).finish(Duration::from_secs(10));
        let expected = format!("error: {}: {want}", path.display());
        assert!(outcome.code == Some(2) && outcome.stderr.starts_with(&expected), "want '{expected}':\n{}", outcome.show());
    }
}

#[test]
fn billion_laughs_is_rejected_quickly_in_bounded_memory() {
    let dir = scratch();
    for (name, want) in [("billion-laughs.yaml", "2:1: unknown field `a`"), ("billion-laughs-in-a-field.yaml", "6:")] {
        let path = hostile().join("scenarios").join(name);
        let mut command = orchestrator([OsStr::new("validate"), path.as_os_str()]);
        // SAFETY: setrlimit is async-signal-safe and touches only the child's limits.
        unsafe {
            command.pre_exec(|| {
                let one_gib = libc::rlimit { rlim_cur: 1 << 30, rlim_max: 1 << 30 };
                match libc::setrlimit(libc::RLIMIT_AS, &one_gib) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
        }
        let started = Instant::now();
        let outcome = start(command, dir.path()).finish(Duration::from_secs(5));
        let expected = format!("error: {}:{want}", path.display());
        assert!(outcome.code == Some(2) && outcome.stderr.starts_with(&expected), "want '{expected}':\n{}", outcome.show());
        assert!(started.elapsed() < Duration::from_secs(5), "{name} took {:?}", started.elapsed());
    }
}

#[test]
fn run_counts_too_large_for_memory_are_refused_before_anything_runs() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = scenario_over(dir.path(), "{inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}");
    let outcome = run(orchestrator(run_args(&scenario, &results, &["--repetitions", "4294967295"])), dir.path());
    assert!(outcome.code == Some(2) && outcome.stderr.contains("4294967295 is not in 1..=10000"), "{}", outcome.show());

    // 10000 repetitions and 10000 warm-up runs at 51 points: each number allowed, the product not.
    let sweep: String = (1..=51).map(|epochs| format!("  - {{epochs: {epochs}}}\n")).collect();
    std::fs::write(
        &scenario,
        format!("{}measure: {{repetitions: 10000, warmup: 10000}}\nsweep:\n{sweep}", std::fs::read_to_string(&scenario).unwrap()),
    )
    .unwrap();
    let outcome = run(orchestrator(&run_args(&scenario, &results, &[])[..5]), dir.path());
    assert!(outcome.code == Some(2) && outcome.stderr.contains("1020000 runs, more than 1000000"), "{}", outcome.show());
    assert!(run_dirs(&results).is_empty(), "nothing ran");
}

// ---------------------------------------------------------------------------------------------
// Data: rejected with the file named before any run

/// Runs a scenario over `dataset`; returns the outcome and the results directory.
fn run_over(dir: &Path, dataset: &str) -> (Outcome, PathBuf) {
    let results = dir.join("results");
    let scenario = scenario_over(dir, dataset);
    (run(orchestrator(run_args(&scenario, &results, &[])), dir), results)
}

fn assert_rejected_before_any_run(dir: &Path, dataset: &str, file: &Path, want: &str) {
    let (outcome, results) = run_over(dir, dataset);
    assert_eq!(outcome.code, Some(2), "{dataset}:\n{}", outcome.show());
    let message = outcome.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(message.contains(&file.display().to_string()) && message.contains(want), "{dataset}: want '{want}':\n{}", outcome.show());
    assert!(run_dirs(&results).is_empty(), "{dataset}: nothing may run");
}

#[test]
fn bad_csv_is_rejected_before_any_run() {
    let cases = [
        ("missing-column.csv", "no column named 'y' in the header (found: x, z)"),
        ("non-numeric.csv", "line 3: column 'y': 'four' is not a number"),
        ("nan.csv", "line 3: column 'x': 'NaN' is not finite"),
        ("inf.csv", "line 3: column 'y': 'inf' is not finite"),
        ("header-only.csv", "no points (n = 0)"),
        ("ragged.csv", "line 3: the row has 1 field, the header 2: too few"),
        // Decimal commas: 1,5 read as two fields would give x = 1, y = 5.
        ("decimal-comma.csv", "line 2: the row has 4 fields, the header 2: too many"),
        ("empty.csv", "no header row (the file is empty or blank)"),
        ("bad-utf8.csv", "line 3: not valid UTF-8"),
        // Issue 12, point 12: which x is meant?
        ("duplicate-column.csv", "column 'x' appears 2 times in the header (columns 1, 2)"),
    ];
    for (name, want) in cases {
        let dir = scratch();
        let file = hostile().join("data").join(name);
        assert_rejected_before_any_run(dir.path(), &format!("{{csv: {{path: \"{}\"}}}}", file.display()), &file, want);
    }
}

#[test]
fn csv_with_blank_lines_or_a_single_row_is_accepted() {
    for (name, n) in [("blank-lines.csv", 2), ("single-row.csv", 1)] {
        let dir = scratch();
        let file = hostile().join("data").join(name);
        let (outcome, results) = run_over(dir.path(), &format!("{{csv: {{path: \"{}\"}}}}", file.display()));
        assert_eq!(outcome.code, Some(0), "{}", outcome.show());
        let rows = rows(&only_run_dir(&results));
        assert_eq!((rows.len(), rows[0].status, rows[0].n), (1, RunStatus::Ok, n), "{name}: {rows:?}");
    }
}

#[test]
fn csv_with_ten_million_rows_is_accepted() {
    let dir = scratch();
    let file = dir.path().join("big.csv");
    let block: String = (0..1000).map(|i| format!("{i},{}\n", 2 * i)).collect();
    let mut out = std::io::BufWriter::new(File::create(&file).unwrap());
    out.write_all(b"x,y\n").unwrap();
    for _ in 0..10_000 {
        out.write_all(block.as_bytes()).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let (outcome, results) = run_over(dir.path(), &format!("{{csv: {{path: \"{}\"}}}}", file.display()));
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let rows = rows(&only_run_dir(&results));
    assert_eq!((rows[0].status, rows[0].n), (RunStatus::Ok, 10_000_000), "{rows:?}");
}

#[test]
fn bad_npy_is_rejected_before_any_run() {
    let cases = [
        ("wrong-dtype.npy", "expected dtype '<f8' (float64 little-endian), found '<f4'"),
        ("big-endian.npy", "found '>f8'"),
        ("wrong-shape.npy", "expected shape (2, n): row 0 x, row 1 y; found (3, 5)"),
        ("one-dimensional.npy", "found (10,)"),
        ("fortran-order.npy", "fortran_order"),
        ("truncated.npy", "truncated"),
        // The header promises 2×10^15 values: refused from the file's size, not by allocating 16 PB.
        ("forged-shape.npy", "truncated: the header promises 2×1000000000000000 float64 values"),
        ("not-npy.npy", "not a .npy file (bad magic bytes)"),
        // NumPy would read these otherwise than Rust, or not at all: every Python run would fail.
        ("duplicate-key.npy", "malformed .npy header: the key 'fortran_order' is given twice"),
        ("leading-zero.npy", "malformed .npy header: the shape's integer '05' has a leading zero"),
    ];
    for (name, want) in cases {
        let dir = scratch();
        let file = hostile().join("data").join(name);
        assert_rejected_before_any_run(dir.path(), &format!("{{npy: {{path: \"{}\"}}}}", file.display()), &file, want);
    }
}

/// A .npy path is relative to the scenario file, whatever the current directory, and the
/// implementations (which run in the project root) are given it absolute.
#[test]
fn good_npy_is_used_as_it_is_from_any_current_directory() {
    let dir = scratch();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::copy(hostile().join("data/good.npy"), dir.path().join("data/good.npy")).unwrap();
    scenario_over(dir.path(), "{npy: {path: data/good.npy}}");
    let mut command = orchestrator(run_args(Path::new("scenario.yaml"), Path::new("results"), &[]));
    command.current_dir(dir.path());
    let outcome = run(command, dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let run_dir = only_run_dir(&dir.path().join("results"));
    let rows = rows(&run_dir);
    assert_eq!((rows[0].status, rows[0].n), (RunStatus::Ok, 5), "{rows:?}");
    let plan: plan::Plan = records::read_json(&run_dir.join(records::PLAN_JSON)).unwrap();
    assert_eq!(plan.scenarios[0].points[0].data_path, dir.path().join("data/good.npy"));
}

/// `--results` relative to the current directory used to reach the children (who run in the
/// project root) as a relative path: every implementation failed to find its data.
#[test]
fn relative_results_directory_works_from_any_current_directory() {
    let dir = scratch();
    let scenario = dir.path().join("scenario.yaml");
    let text =
        "name: relative\ndataset: {inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}\ntraining: {epochs: 1000, learning_rate: 0.01}\n\
                implementations: [reads-data]\nbaseline: reads-data\ndefine:\n  reads-data:\n    \
                command: [\"/bin/sh\", \"-c\", 'test -f \"$1\" && exec \"$2\" json', \"sh\", \"{data}\", \"{bin_dir}/fixture-child\"]\n";
    std::fs::write(&scenario, text).unwrap();
    let mut command = orchestrator(run_args(Path::new("scenario.yaml"), Path::new("relative/results"), &[]));
    command.current_dir(dir.path());
    let outcome = run(command, dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let rows = rows(&only_run_dir(&dir.path().join("relative/results")));
    assert_eq!(rows[0].status, RunStatus::Ok, "{rows:?}");
}

// ---------------------------------------------------------------------------------------------
// Tools: what is missing, and the command that fixes it

/// An orchestrator whose directory ({bin_dir}) holds no `linreg`: a hard link (or copy) of the
/// test build in a directory of its own, with the launcher it always has beside it.
fn orchestrator_without_linreg(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = |from: &Path, to: &Path| {
        if std::fs::hard_link(from, to).is_err() {
            std::fs::copy(from, to).unwrap();
        }
    };
    let exe = bin.join("orchestrator");
    link(Path::new(ORCHESTRATOR), &exe);
    let launcher = Path::new(ORCHESTRATOR).with_file_name("launcher");
    if launcher.is_file() {
        link(&launcher, &bin.join("launcher"));
    }
    exe
}

fn run_missing_tools(dir: &Path, extra: &[&str]) -> (Outcome, PathBuf) {
    let results = dir.join("results");
    let no_venv = dir.join("no-venv/bin/python");
    let mut args = run_args(&hostile().join("scenarios/missing-tools.yaml"), &results, &["--python", no_venv.to_str().unwrap()]);
    args.extend(extra.iter().map(OsString::from));
    let mut command = Command::new(orchestrator_without_linreg(dir));
    command.arg("--root").arg(root()).args(args).stdin(Stdio::null());
    (run(command, dir), results)
}

#[test]
fn missing_venv_and_linreg_are_named_with_the_command_that_fixes_them() {
    let dir = scratch();
    let (outcome, results) = run_missing_tools(dir.path(), &[]);
    assert_eq!(outcome.code, Some(2), "{}", outcome.show());
    for want in [
        "python-numpy:",
        "no-venv/bin/python not found",
        "`make venv`",
        "rust:",
        "bin/linreg-static not found",
        "`make build`",
        "--keep-going",
    ] {
        assert!(outcome.stderr.contains(want), "want '{want}':\n{}", outcome.show());
    }
    assert!(run_dirs(&results).is_empty(), "nothing may run");
}

#[test]
fn keep_going_runs_the_others_and_the_report_marks_the_missing() {
    let dir = scratch();
    let (outcome, results) = run_missing_tools(dir.path(), &["--keep-going"]);
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let run_dir = only_run_dir(&results);
    let rows = rows(&run_dir);
    let (numpy, rust, other) = (row(&rows, "python-numpy"), row(&rows, "rust"), row(&rows, "needs-nothing"));
    assert!(numpy.status == RunStatus::Unavailable && numpy.message.contains("`make venv`"), "{numpy:?}");
    assert!(rust.status == RunStatus::Unavailable && rust.message.contains("`make build`"), "{rust:?}");
    assert_eq!(other.status, RunStatus::Ok, "{other:?}");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    // The hints are the catalogue's text, shown as typed (backticks escaped, never code).
    assert!(report.contains("unavailable") && report.contains("\\`make venv\\`") && report.contains("\\`make build\\`"), "{report}");
}

/// The first `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

#[test]
fn numpy_missing_or_of_another_version_is_named_with_the_fix() {
    let Some(python) = on_path("python3") else {
        eprintln!("note: no python3 on PATH: the NumPy checks are not exercised here");
        return;
    };
    let cases =
        [("numpy-missing", "No module named 'numpy'"), ("numpy-old", "numpy 1.21.0 is installed but python_impl/requirements.txt pins")];
    for (fake, want) in cases {
        let dir = scratch();
        let results = dir.path().join("results");
        let args = run_args(&hostile().join("scenarios/missing-tools.yaml"), &results, &["--python", python.to_str().unwrap()]);
        let mut command = orchestrator(args);
        command.env("PYTHONPATH", hostile().join("tools").join(fake)).env("PYTHONDONTWRITEBYTECODE", "1");
        let outcome = run(command, dir.path());
        let line = outcome.stderr.lines().find(|l| l.contains("python-numpy:")).unwrap_or("");
        assert!(
            outcome.code == Some(2) && line.contains(want) && line.contains("`make venv`"),
            "{fake}: want '{want}':\n{}",
            outcome.show()
        );
        assert!(run_dirs(&results).is_empty(), "nothing may run");
    }
}

#[test]
fn make_venv_without_python3_names_the_fix() {
    let Some(make) = on_path("make") else {
        eprintln!("note: no make on PATH: the Makefile's python3 check is not exercised here");
        return;
    };
    let dir = scratch();
    let venv = dir.path().join("venv");
    let output = Command::new(make)
        .arg("-C")
        .arg(root())
        .args(["venv", "PYTHON_BOOTSTRAP=no-such-python3-for-hostile-tests"])
        .arg(format!("VENV={}", venv.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("no-such-python3-for-hostile-tests not found: install Python 3.11+"), "{stdout}");
    assert!(!venv.exists());
}

// ---------------------------------------------------------------------------------------------
// Children: each way to fail has its own status; nothing is left behind

#[test]
fn every_way_a_child_can_fail_gets_its_own_status_and_leaves_nothing_behind() {
    let dir = scratch();
    let results = dir.path().join("results");
    let outcome = run(orchestrator(run_args(&hostile().join("scenarios/children.yaml"), &results, &[])), dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let run_dir = only_run_dir(&results);
    let rows = rows(&run_dir);
    assert_eq!(rows.len(), 21, "{rows:#?}");
    let expected: &[(&str, RunStatus, &str)] = &[
        ("good", RunStatus::Ok, ""),
        ("extra-fields", RunStatus::Ok, ""),
        ("diverged", RunStatus::Diverged, ""),
        ("segfault", RunStatus::Crashed, "killed by SIGSEGV (11)"),
        ("abort", RunStatus::Crashed, "killed by SIGABRT (6)"),
        ("exit-3", RunStatus::Failed, "exit code 3"),
        ("sleeps", RunStatus::Timeout, "still running after 1 s"),
        ("ignores-sigterm", RunStatus::Timeout, "still running after 1 s"),
        ("leaves-grandchild", RunStatus::BadOutput, "not a valid result line"),
        ("floods-output", RunStatus::BadOutput, "larger than the capture limit"),
        ("garbage", RunStatus::BadOutput, "not a valid result line"),
        ("missing-field", RunStatus::BadOutput, "missing field `epochs_run`"),
        ("nan-literal", RunStatus::BadOutput, "not a valid result line"),
        ("null-in-ok", RunStatus::BadOutput, "w, b or mse is missing or not finite"),
        ("infinity", RunStatus::BadOutput, "not a valid result line"),
        ("two-lines", RunStatus::BadOutput, "2 lines on stdout"),
        ("cut-short", RunStatus::BadOutput, "EOF while parsing"),
        ("missing-interpreter", RunStatus::SpawnFailed, "is the interpreter on its #! line missing?"),
        ("memory-hog", RunStatus::Oom, "memory_limit_mb = 64"),
        // 17.5 s of training in a run of milliseconds (issue 12, point 7).
        ("claims-too-long", RunStatus::BadOutput, "train 17.5 s = 17.500012 s, more than the"),
        // Point 14: said as such, not as "expected value at line 1 column 1".
        ("starts-with-bom", RunStatus::BadOutput, "the result line starts with a byte-order mark (U+FEFF)"),
    ];
    let mut failures = Vec::new();
    for &(implementation, status, want) in expected {
        let r = row(&rows, implementation);
        if r.status != status || !r.message.contains(want) {
            failures.push(format!("{implementation}: want {status} '{want}', got {} '{}'", r.status, r.message));
        }
        // Megabytes of output never reach raw.csv.
        if r.message.len() > 1000 {
            failures.push(format!("{implementation}: a message of {} bytes", r.message.len()));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert_eq!((row(&rows, "segfault").signal, row(&rows, "exit-3").exit_code), (Some(libc::SIGSEGV), Some(3)));
    assert_eq!(row(&rows, "diverged").w, None);
    // SIGTERM was ignored: SIGKILL followed after the 1 s grace period.
    let stubborn = row(&rows, "ignores-sigterm");
    assert_eq!(stubborn.signal, Some(libc::SIGKILL));
    assert!(stubborn.wall_seconds.is_some_and(|w| (1.5..10.0).contains(&w)), "{stubborn:?}");
    // The grandchild (its pid is the child's only output) was killed and reaped with its group.
    let grandchild: i32 =
        row(&rows, "leaves-grandchild").message.rsplit(' ').next().and_then(|p| p.parse().ok()).expect("the grandchild's pid");
    assert!(is_gone(grandchild), "grandchild {grandchild} is still there");
    for marker in ["30.0701", "30.0702", "30.0703"] {
        assert_eq!(processes_with(marker), Vec::<i32>::new(), "processes left behind with {marker}");
    }
    assert!(run_dir.join("report.md").is_file());
    assert_no_temporaries(&run_dir);
}

/// With samples rare (one a minute), the memory limit and Ctrl-C used to wait for the next
/// sample: a 256 MiB child ran to its end under a 32 MiB limit, and SIGINT took until the child
/// ended.
#[test]
fn memory_limit_and_interruption_do_not_wait_for_a_rare_sample() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = dir.path().join("rare.yaml");
    let text = "name: rare\ndataset: {inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}\ntraining: {epochs: 1000, learning_rate: 0.01}\n\
                implementations: [hog, sleeper]\nbaseline: hog\ndefine:\n  \
                hog: {command: [\"{bin_dir}/fixture-child\", \"alloc\", \"256\", \"3000\"]}\n  \
                sleeper: {command: [\"{bin_dir}/fixture-child\", \"sleep\", \"30.0704\"]}\n\
                measure: {sample_interval_ms: 60000, memory_limit_mb: 32, timeout_seconds: 100}\n";
    std::fs::write(&scenario, text).unwrap();
    let running = start(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    wait_for("the sleeper to start", Duration::from_secs(30), || !processes_with("30.0704").is_empty());
    let signalled = Instant::now();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(running.pid(), libc::SIGINT) };
    let outcome = running.finish(HANG);
    assert!(signalled.elapsed() < Duration::from_secs(5), "SIGINT took {:?}", signalled.elapsed());
    assert_eq!(outcome.code, Some(130), "{}", outcome.show());
    let rows = rows(&only_run_dir(&results));
    let hog = row(&rows, "hog");
    assert_eq!(hog.status, RunStatus::Oom, "{hog:?}");
    assert!(hog.wall_seconds.is_some_and(|w| w < 2.5), "killed well before its 3 s: {hog:?}");
    assert_eq!(row(&rows, "sleeper").status, RunStatus::Interrupted);
    assert_eq!(processes_with("30.0704"), Vec::<i32>::new());
}

// ---------------------------------------------------------------------------------------------
// Interruption, concurrency, and a results directory that cannot take the results

/// NAME.yaml in `dir`: the write-up's five points, `fast` (a valid result line, the baseline) and
/// `slow` (fixture-child with `slow_args`), run in turn.
fn fast_and_slow_scenario(dir: &Path, name: &str, slow_args: &[&str]) -> PathBuf {
    let scenario = dir.join(format!("{name}.yaml"));
    let slow: Vec<String> = slow_args.iter().map(|a| format!(", \"{a}\"")).collect();
    let text = format!(
        "name: {name}\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\n\
         implementations: [fast, slow]\nbaseline: fast\ndefine:\n  \
         fast: {{command: [\"{{bin_dir}}/fixture-child\", \"json\"]}}\n  \
         slow: {{command: [\"{{bin_dir}}/fixture-child\"{}]}}\n",
        slow.concat()
    );
    std::fs::write(&scenario, text).unwrap();
    scenario
}

/// Starts a run of a fast implementation and a slow one (a child with a child of its own),
/// sends `signal` once the fast one's row is in raw.csv and the slow one is running, and checks
/// what a user is promised.
fn interrupt_mid_run(signal: i32, marker: &str) {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = fast_and_slow_scenario(dir.path(), "interrupted", &["spawn-wait", "sleep", marker]);
    let mut command = orchestrator(run_args(&scenario, &results, &["--repetitions", "3"]));
    // The signal's default disposition, whatever the test was started with (under nohup SIGHUP is
    // ignored, and an orchestrator rightly keeps it so: sighup_ignored_on_entry_stays_ignored).
    // SAFETY: signal() is async-signal-safe; SIG_DFL installs no handler code.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(move || {
            libc::signal(signal, libc::SIG_DFL);
            Ok(())
        });
    }
    let running = start(command, dir.path());
    wait_for("the slow child and its child", Duration::from_secs(30), || processes_with(marker).len() == 2);
    let run_dir = only_run_dir(&results);
    assert_eq!(rows(&run_dir).len(), 1, "the fast run's row is written before the slow run starts");
    let children = processes_with(marker);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(running.pid(), signal) };
    let signalled = Instant::now();
    let outcome = running.finish(HANG);
    assert!(signalled.elapsed() < Duration::from_secs(10), "took {:?} to stop", signalled.elapsed());
    assert_eq!(outcome.code, Some(128 + signal), "{}", outcome.show());

    let rows = rows(&run_dir);
    let got: Vec<(&str, u32, RunStatus)> = rows.iter().map(|r| (r.implementation.as_str(), r.repetition, r.status)).collect();
    assert_eq!(got, [("fast", 1, RunStatus::Ok), ("slow", 1, RunStatus::Interrupted)]);
    for pid in children {
        assert!(is_gone(pid), "process {pid} of the interrupted run is still there");
    }
    assert_eq!(processes_with(marker), Vec::<i32>::new());
    let environment = std::fs::read_to_string(run_dir.join(records::ENVIRONMENT_JSON)).unwrap();
    assert!(environment.contains("\"interrupted\": true"), "{environment}");
    assert!(run_dir.join("report.md").is_file(), "the report of what exists");
    assert_no_temporaries(&run_dir);
    let rendered = run(orchestrator([OsStr::new("report"), run_dir.as_os_str()]), dir.path());
    assert_eq!(rendered.code, Some(0), "the report renders again from what exists:\n{}", rendered.show());
}

#[test]
fn sigint_keeps_finished_rows_kills_the_children_and_exits_130() {
    interrupt_mid_run(libc::SIGINT, "30.0711");
}

#[test]
fn sigterm_keeps_finished_rows_kills_the_children_and_exits_143() {
    interrupt_mid_run(libc::SIGTERM, "30.0712");
}

/// Issue 12, point 3: closing the terminal used to kill the orchestrator with no report and leave
/// the measured program's child running.
#[test]
fn sighup_is_treated_like_sigterm_and_exits_129() {
    interrupt_mid_run(libc::SIGHUP, "30.0715");
}

/// Under `nohup` (SIGHUP ignored on entry) a closed terminal must not stop the run: a signal
/// ignored by whoever started the orchestrator stays ignored.
#[test]
fn sighup_ignored_on_entry_stays_ignored() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = dir.path().join("nohup.yaml");
    let text = "name: nohup\ndataset: {inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}\ntraining: {epochs: 1000, learning_rate: 0.01}\n\
                implementations: [slow]\nbaseline: slow\ndefine:\n  slow: {command: [\"{bin_dir}/fixture-child\", \"sleep\", \"0.7716\"]}\n";
    std::fs::write(&scenario, text).unwrap();
    let mut command = orchestrator(run_args(&scenario, &results, &[]));
    // SAFETY: signal() is async-signal-safe; SIG_IGN installs no handler code.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let running = start(command, dir.path());
    wait_for("the slow child", HANG, || !processes_with("0.7716").is_empty());
    // SAFETY: kill only sends a signal to the orchestrator we started.
    unsafe { libc::kill(running.pid(), libc::SIGHUP) };
    let outcome = running.finish(HANG);
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let rows = rows(&only_run_dir(&results));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_ne!(rows[0].status, RunStatus::Interrupted, "{rows:?}");
}

#[test]
fn sigint_while_the_machine_is_probed_still_ends_with_a_report() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = scenario_over(dir.path(), "{inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}");
    // The probes (bandwidth, spawn floor) run before the first run: stop in them. Small arrays,
    // since this binary is a debug build.
    let mut args: Vec<OsString> = run_args(&scenario, &results, &[]).into_iter().filter(|a| a != "--no-probes").collect();
    args.extend(["--probe-array-mib", "16"].map(OsString::from));
    let running = start(orchestrator(args), dir.path());
    wait_for("the run directory", HANG, || run_dirs(&results).first().is_some_and(|d| d.join("environment.json").exists()));
    // SAFETY: kill only sends a signal to the orchestrator we started.
    unsafe { libc::kill(running.pid(), libc::SIGINT) };
    let outcome = running.finish(HANG);
    assert_eq!(outcome.code, Some(130), "{}", outcome.show());
    let run_dir = only_run_dir(&results);
    assert!(rows(&run_dir).is_empty(), "nothing ran");
    assert!(run_dir.join("report.md").exists() && run_dir.join("summary.csv").exists(), "{}", outcome.show());
    assert_no_temporaries(&run_dir);
}

#[test]
fn two_runs_at_once_into_one_results_directory_never_mix() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = dir.path().join("concurrent.yaml");
    let text = "name: concurrent\ndataset: {generate: {n: 1000, slope: 2, intercept: 0.5, noise: 0.1, seed: 99}}\n\
                training: {epochs: 1000, learning_rate: 0.01}\nimplementations: [fixture, nap]\nbaseline: fixture\ndefine:\n  \
                fixture: {command: [\"{bin_dir}/fixture-child\", \"result\", \"{n}\", \"{epochs}\", \"{learning_rate}\"]}\n  \
                nap: {command: [\"{bin_dir}/fixture-child\", \"sleep\", \"0.2\"]}\n";
    std::fs::write(&scenario, text).unwrap();
    let args = run_args(&scenario, &results, &["--repetitions", "3"]);
    let (a, b) = (start(orchestrator(&args), dir.path()), start(orchestrator(&args), dir.path()));
    let (a, b) = (a.finish(HANG), b.finish(HANG));
    assert_eq!((a.code, b.code), (Some(0), Some(0)), "{}\n{}", a.show(), b.show());
    let dirs = run_dirs(&results);
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for run_dir in &dirs {
        let rows = rows(run_dir);
        assert_eq!(rows.len(), 6, "{rows:?}");
        assert!(rows.iter().filter(|r| r.implementation == "fixture").all(|r| r.status == RunStatus::Ok), "{rows:?}");
        assert_no_temporaries(run_dir);
    }
    let latest = results.join("latest");
    assert!(latest.symlink_metadata().unwrap().file_type().is_symlink());
    assert!(dirs.contains(&latest.canonicalize().unwrap()), "latest is one of the runs");
    let leftovers: Vec<_> =
        std::fs::read_dir(&results).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".latest")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn assert_refused_before_any_run(results: &Path, dir: &Path, want: &str) {
    assert_refused_before_any_run_of(results, dir, want, |_| {});
}

/// As `assert_refused_before_any_run`, the orchestrator's command first passed to `adjust`.
fn assert_refused_before_any_run_of(results: &Path, dir: &Path, want: &str, adjust: impl FnOnce(&mut Command)) {
    let scenario = scenario_over(dir, "{inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}");
    let mut command = orchestrator(run_args(&scenario, results, &[]));
    adjust(&mut command);
    let outcome = run(command, dir);
    assert_eq!(outcome.code, Some(2), "{}", outcome.show());
    let message = outcome.stderr.lines().next().unwrap_or("");
    assert!(
        message.contains(&format!("results directory {}", results.display())) && message.contains(want),
        "want '{want}':\n{}",
        outcome.show()
    );
    assert!(!outcome.stderr.lines().any(|l| l.starts_with("results: ")), "no run may start:\n{}", outcome.show());
}

#[test]
fn results_under_a_regular_file_are_refused_before_any_run() {
    let dir = scratch();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    assert_refused_before_any_run(&file.join("results"), dir.path(), "Not a directory");
}

/// A tmpfs mounted on `at` with `options`, unmounted when dropped; None where mounting is not
/// permitted (not root, or a container without CAP_SYS_ADMIN).
struct Mounted(PathBuf);

impl Mounted {
    fn tmpfs(at: &Path, options: &str) -> Option<Mounted> {
        std::fs::create_dir_all(at).ok()?;
        let status = Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs"]).arg(at).stderr(Stdio::null()).status().ok()?;
        status.success().then(|| Mounted(at.to_path_buf()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn read_only_results_directory_is_refused_before_any_run() {
    let dir = scratch();
    if let Some(mounted) = Mounted::tmpfs(&dir.path().join("ro"), "ro,size=64k") {
        assert_refused_before_any_run(&mounted.0.join("results"), dir.path(), "Read-only file system");
    } else if !is_root() {
        // Not root (so no mount): a directory without write permission refuses the same way.
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        assert_refused_before_any_run(&locked.join("results"), dir.path(), "Permission denied");
    } else {
        eprintln!("note: root without the right to mount (a container): the read-only case is not exercised");
    }
}

#[test]
fn full_results_directory_is_refused_before_any_run() {
    let dir = scratch();
    let Some(mounted) = Mounted::tmpfs(&dir.path().join("full"), "size=64k") else {
        eprintln!("note: mounting a tmpfs is not permitted here: the full-disk case is exercised by a file-size limit only");
        return;
    };
    let results = mounted.0.join("results");
    std::fs::create_dir(&results).unwrap();
    let mut filler = File::create(mounted.0.join("filler")).unwrap();
    while filler.write_all(&[0u8; 4096]).and_then(|()| filler.sync_all()).is_ok() {}
    drop(filler);
    assert_refused_before_any_run(&results, dir.path(), "does not take writes (full or read-only?)");
}

/// The same promise on any machine, root or not: a file-size limit below the write check's 4 KiB
/// fails its write as a full disk would (EFBIG for ENOSPC).
#[test]
fn results_directory_that_takes_no_write_is_refused_before_any_run() {
    let dir = scratch();
    let results = dir.path().join("results");
    assert_refused_before_any_run_of(&results, dir.path(), "does not take writes (full or read-only?): File too large", |command| {
        limit_file_size(command, 1024)
    });
}

// ---------------------------------------------------------------------------------------------
// Round two (issue 12)

/// A finished quick run of one fixture implementation, in a results directory of its own; returns
/// its run directory.
fn quick_run(dir: &Path, name: &str) -> PathBuf {
    let results = dir.join(format!("results-{name}"));
    let scenario = dir.join(format!("{name}.yaml"));
    let text = format!(
        "name: {name}\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\n\
         implementations: [fixture]\nbaseline: fixture\ndefine:\n  fixture: {{command: [\"{{bin_dir}}/fixture-child\", \"json\"]}}\n"
    );
    std::fs::write(&scenario, text).unwrap();
    let outcome = run(orchestrator(run_args(&scenario, &results, &["--repetitions", "3"])), dir);
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    only_run_dir(&results)
}

/// Point 11: a CI job comparing against the wrong baseline must not pass.
#[test]
fn compare_of_runs_with_nothing_in_common_is_an_error() {
    let dir = scratch();
    let (one, other) = (quick_run(dir.path(), "one"), quick_run(dir.path(), "other"));
    let outcome = run(orchestrator([OsStr::new("compare"), one.as_os_str(), other.as_os_str()]), dir.path());
    assert_eq!(outcome.code, Some(2), "{}", outcome.show());
    assert!(outcome.stderr.contains("nothing to compare") && outcome.stderr.contains("no scenario point"), "{}", outcome.show());
    let same = run(orchestrator([OsStr::new("compare"), one.as_os_str(), one.as_os_str()]), dir.path());
    assert_eq!(same.code, Some(0), "a run compared with itself has no regression:\n{}", same.show());
}

/// Point 6: a FIFO as the CSV hung the orchestrator; /dev/zero ate memory at ~1 GB/s.
#[test]
fn data_files_that_are_not_regular_files_are_refused_without_reading() {
    let dir = scratch();
    let fifo = dir.path().join("data.csv");
    mkfifo(&fifo);
    let fifo_npy = dir.path().join("data.npy");
    mkfifo(&fifo_npy);
    let zero_npy = dir.path().join("zero.npy");
    std::os::unix::fs::symlink("/dev/zero", &zero_npy).unwrap();
    let cases = [("csv", fifo.clone()), ("csv", PathBuf::from("/dev/zero")), ("npy", fifo_npy), ("npy", zero_npy)];
    for (format, file) in cases {
        let results = dir.path().join("results");
        let scenario = scenario_over(dir.path(), &format!("{{{format}: {{path: \"{}\"}}}}", file.display()));
        let mut command = orchestrator(run_args(&scenario, &results, &[]));
        limit_memory(&mut command, 1 << 30);
        let outcome = start(command, dir.path()).finish(Duration::from_secs(10));
        let message = outcome.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(
            outcome.code == Some(2) && message.contains(&file.display().to_string()) && message.contains("is not a regular file"),
            "{format} {}:\n{}",
            file.display(),
            outcome.show()
        );
        assert!(run_dirs(&results).is_empty(), "nothing may run");
    }
}

/// Point 10: a claim the runs cannot judge (the baseline failed every run) used to pass --check.
#[test]
fn check_fails_when_a_claim_has_no_data() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = dir.path().join("no-data.yaml");
    let text = "name: no-data\ndataset: {inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}\ntraining: {epochs: 1000, learning_rate: 0.01}\n\
                implementations: [fails, works]\nbaseline: fails\ndefine:\n  \
                fails: {command: [\"{bin_dir}/fixture-child\", \"exit\", \"3\"]}\n  \
                works: {command: [\"{bin_dir}/fixture-child\", \"json\"]}\n\
                expect:\n  - speedup: {faster: works, than: fails, at_least: 1}\n  - memory_ratio: {leaner: works, than: fails, at_least: 1}\n";
    std::fs::write(&scenario, text).unwrap();
    let outcome = run(orchestrator(run_args(&scenario, &results, &["--check"])), dir.path());
    assert_eq!(outcome.code, Some(1), "{}", outcome.show());
    assert!(outcome.stderr.contains("--check: 2 claim(s) without data"), "{}", outcome.show());
    let rendered = run(orchestrator([OsStr::new("report"), only_run_dir(&results).as_os_str(), OsStr::new("--check")]), dir.path());
    assert_eq!(rendered.code, Some(1), "{}", rendered.show());
    let unchecked = run(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    assert_eq!(unchecked.code, Some(0), "without --check a claim never changes the exit code:\n{}", unchecked.show());
}

/// Runs `command` with stdout and stderr on a pipe nobody reads (`… 2>&1 | true`, or a terminal
/// that went away); returns the exit status.
fn run_into_closed_pipe(mut command: Command) -> std::process::ExitStatus {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array we own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors are new and owned here alone; the read end is closed at once.
    let (read_end, write_end) = unsafe { (std::os::fd::OwnedFd::from_raw_fd(fds[0]), std::os::fd::OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end);
    command.stdout(Stdio::from(write_end.try_clone().unwrap())).stderr(Stdio::from(write_end));
    let mut child = command.spawn().expect("start the orchestrator");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            panic!("the orchestrator hung with a closed pipe");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Point 2: `orchestrator validate | true` and `run … | head -2` died of a panic ("failed
/// printing to stdout: Broken pipe"); a run whose output goes nowhere must still finish its rows
/// and its report.
#[test]
fn a_closed_output_pipe_never_stops_a_command() {
    let dir = scratch();
    let validate = run_into_closed_pipe(orchestrator(["validate"]));
    assert_eq!((validate.code(), validate.signal()), (Some(0), None), "validate");

    let results = dir.path().join("results");
    let scenario = dir.path().join("piped.yaml");
    let text = "name: piped\ndataset: {inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}\ntraining: {epochs: 1000, learning_rate: 0.01}\n\
                implementations: [fixture, fails]\nbaseline: fixture\ndefine:\n  \
                fixture: {command: [\"{bin_dir}/fixture-child\", \"json\"]}\n  \
                fails: {command: [\"{bin_dir}/fixture-child\", \"exit\", \"3\"]}\n";
    std::fs::write(&scenario, text).unwrap();
    let status = run_into_closed_pipe(orchestrator(run_args(&scenario, &results, &["--repetitions", "3"])));
    assert_eq!((status.code(), status.signal()), (Some(0), None), "run");
    let run_dir = only_run_dir(&results);
    assert_eq!(rows(&run_dir).len(), 6, "every row");
    assert!(run_dir.join("report.md").is_file(), "the report");

    for args in [vec![OsStr::new("compare"), run_dir.as_os_str(), run_dir.as_os_str()], vec![OsStr::new("report"), run_dir.as_os_str()]] {
        let status = run_into_closed_pipe(orchestrator(&args));
        assert_eq!((status.code(), status.signal()), (Some(0), None), "{args:?}");
    }
}

fn temporaries_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> =
        entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.contains(".tmp-")).collect();
    names.sort();
    names
}

/// Point 4: SIGTERM while a large dataset was generated killed the orchestrator silently and left
/// its `.npy.tmp-PID` in the cache for good. Now: the same exit code as a run, no temporary, and
/// the temporaries of dead processes are removed by the next run.
#[test]
fn a_signal_while_a_dataset_is_prepared_exits_cleanly_and_no_temporary_is_left() {
    let dir = scratch();
    let results = dir.path().join("results");
    let cache = results.join(".cache");
    std::fs::create_dir_all(&cache).unwrap();
    let mut gone = Command::new("/bin/true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let (stale, live) = (format!(".gen-old.npy.tmp-{dead}"), format!(".gen-live.npy.tmp-{}", std::process::id()));
    std::fs::write(cache.join(&stale), "left by a killed run").unwrap();
    std::fs::write(cache.join(&live), "being written by a live process").unwrap();

    let scenario = scenario_over(dir.path(), "{generate: {n: 20000000, slope: 2, intercept: 0.5, noise: 0.1, seed: 12}}");
    let running = start(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    wait_for("the dataset's temporary file", HANG, || temporaries_in(&cache).iter().any(|n| n.starts_with(".gen-v1-n20000000")));
    // SAFETY: kill only sends a signal to the orchestrator we started.
    unsafe { libc::kill(running.pid(), libc::SIGTERM) };
    let signalled = Instant::now();
    let outcome = running.finish(HANG);
    assert!(signalled.elapsed() < Duration::from_secs(5), "took {:?} to stop", signalled.elapsed());
    assert_eq!(outcome.code, Some(143), "{}", outcome.show());
    assert!(outcome.stderr.contains("nothing ran"), "{}", outcome.show());
    assert_eq!(temporaries_in(&cache), vec![live], "the run's own temporary and the dead process's are gone");
    assert!(run_dirs(&results).is_empty(), "nothing ran");
}

/// Point 5: a `check` that hangs hung the orchestrator with no output. Now a line says what is
/// checked, the check is killed at its time limit (with whatever it started), and the
/// implementation is unavailable; Ctrl-C during a check stops it at once.
#[test]
fn a_check_that_hangs_is_killed_at_its_time_limit() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = dir.path().join("hanging-check.yaml");
    let write = |timeout: &str| {
        let text = format!(
            "name: hanging-check\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\n\
             implementations: [hangs]\nbaseline: hangs\ndefine:\n  \
             hangs: {{command: [\"{{bin_dir}}/fixture-child\", \"json\"], check: [\"{{bin_dir}}/fixture-child\", \"spawn-wait\", \"sleep\", \"30.0721\"], \
             check_timeout_seconds: {timeout}, hint: see the check}}\n"
        );
        std::fs::write(&scenario, text).unwrap();
    };
    write("1");
    let started = Instant::now();
    let outcome = run(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(outcome.code, Some(2), "{}", outcome.show());
    assert!(outcome.stderr.contains("checking hangs (`") && outcome.stderr.contains("spawn-wait sleep 30.0721`)…"), "{}", outcome.show());
    assert!(outcome.stderr.contains("did not finish within 1 s (check_timeout_seconds): killed — see the check"), "{}", outcome.show());
    assert_eq!(processes_with("30.0721"), Vec::<i32>::new(), "the check and its child are gone");

    write("100");
    let running = start(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    wait_for("the check and its child", HANG, || processes_with("30.0721").len() == 2);
    // SAFETY: kill only sends a signal to the orchestrator we started.
    unsafe { libc::kill(running.pid(), libc::SIGINT) };
    let signalled = Instant::now();
    let outcome = running.finish(HANG);
    assert!(signalled.elapsed() < Duration::from_secs(5), "took {:?} to stop", signalled.elapsed());
    assert_eq!(outcome.code, Some(130), "{}", outcome.show());
    assert_eq!(processes_with("30.0721"), Vec::<i32>::new(), "the check and its child are gone");
    assert!(run_dirs(&results).is_empty(), "nothing ran");
}

/// A scenario whose one implementation fails at once, for tests where the status does not matter:
/// its report has no charts, which a debug build takes seconds to draw.
fn failing_scenario(dir: &Path) -> PathBuf {
    let path = dir.join("failing.yaml");
    let text =
        "name: failing\ndataset: {inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}\ntraining: {epochs: 1000, learning_rate: 0.01}\n\
                implementations: [fails]\nbaseline: fails\ndefine:\n  fails: {command: [\"{bin_dir}/fixture-child\", \"exit\", \"3\"]}\n";
    std::fs::write(&path, text).unwrap();
    path
}

/// Point 1: two runs given the same `--out` both passed the "must be empty" check in about half
/// of the tries and wrote into one raw.csv. One of them must be refused, every time.
#[test]
fn two_runs_given_the_same_out_directory_never_share_it() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = failing_scenario(dir.path());
    for attempt in 0..4 {
        let out = dir.path().join(format!("out-{attempt}"));
        let args = run_args(&scenario, &results, &["--repetitions", "2", "--out", out.to_str().unwrap()]);
        let (a, b) = (start(orchestrator(&args), dir.path()), start(orchestrator(&args), dir.path()));
        let (a, b) = (a.finish(HANG), b.finish(HANG));
        let (winner, loser) = if a.code == Some(0) { (a, b) } else { (b, a) };
        assert_eq!((winner.code, loser.code), (Some(0), Some(2)), "attempt {attempt}:\n{}\n{}", winner.show(), loser.show());
        let refusal = loser.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(
            refusal.contains(&out.display().to_string())
                && (refusal.contains("another run (pid") || refusal.contains("the directory is not empty")),
            "attempt {attempt}:\n{}",
            loser.show()
        );
        assert_eq!(rows(&out).len(), 2, "one run's rows, once");
        assert!(!out.join(".run.lock").exists(), "the claim ends with the run");
    }
    // A lock file left by a run that was killed (no process holds it) does not block.
    let out = dir.path().join("out-stale");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(".run.lock"), "4194999").unwrap();
    let outcome = run(orchestrator(run_args(&scenario, &results, &["--out", out.to_str().unwrap()])), dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
}

/// Point 14: `define: rust` silently replaced the catalogue's rust while the report still called it
/// rust. It takes an explicit `override: true`, and is then said on every run.
#[test]
fn a_definition_replaces_a_catalogue_entry_only_when_it_says_so() {
    let dir = scratch();
    let path = dir.path().join("override.yaml");
    let text = std::fs::read_to_string(hostile().join("scenarios/define-shadows-catalogue.yaml")).unwrap();
    std::fs::write(&path, text.replace("{command: [\"/bin/true\"]}", "{command: [\"/bin/true\"], override: true}")).unwrap();
    let outcome = run(orchestrator([OsStr::new("validate"), path.as_os_str()]), dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    assert!(
        outcome.stderr.contains("note: scenario 'hostile' replaces the catalogue's 'rust' with its own definition (override: true)"),
        "{}",
        outcome.show()
    );
}

/// Point 14: the same file given twice was reported as "also used by" itself.
#[test]
fn the_same_scenario_file_given_twice_is_named_as_such() {
    let dir = scratch();
    let path = hostile().join("scenarios/children.yaml");
    let again = hostile().join("scenarios/./children.yaml");
    let outcome = run(orchestrator([OsStr::new("validate"), path.as_os_str(), again.as_os_str()]), dir.path());
    assert_eq!(outcome.code, Some(2), "{}", outcome.show());
    let expected = format!("error: {}: this scenario file is given twice (also as {})", again.display(), path.display());
    assert!(outcome.stderr.starts_with(&expected), "want '{expected}':\n{}", outcome.show());
}

/// Point 14: `--results X --out X` was refused as "not empty" because of the dataset cache the
/// orchestrator had just made in X.
#[test]
fn out_may_be_the_results_directory_itself() {
    let dir = scratch();
    let same = dir.path().join("same");
    let scenario = failing_scenario(dir.path());
    let args = run_args(&scenario, &same, &["--out", same.to_str().unwrap()]);
    let outcome = run(orchestrator(&args), dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    assert_eq!(rows(&same).len(), 1);
    let again = run(orchestrator(&args), dir.path());
    assert!(
        again.code == Some(2) && again.stderr.contains("the directory is not empty"),
        "a finished run is never overwritten:\n{}",
        again.show()
    );
}

/// Point 14: "No such file or directory (os error 2): No such file or directory (os error 2)".
#[test]
fn an_error_says_its_cause_once() {
    let dir = scratch();
    let (outcome, _) = run_over(dir.path(), "{csv: {path: missing.csv}}");
    let compared = run(orchestrator(["compare", "no-such-run", "no-such-run-either"]), dir.path());
    for outcome in [outcome, compared] {
        let line = outcome.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
        assert!(outcome.code == Some(2) && line.matches("No such file or directory").count() == 1, "{}", outcome.show());
    }
}

/// A scenario of 40 runs, a quick child and one taking `slow_seconds`, for the cases where the
/// disk stops taking writes during a run.
fn filling_scenario(dir: &Path, slow_seconds: &str) -> PathBuf {
    fast_and_slow_scenario(dir, "filling", &["sleep", slow_seconds])
}

/// Point 14: a disk that fills up mid-run exited 2, which says "before anything ran". It is 3:
/// stopped after runs had started, what was written kept.
#[test]
fn a_disk_that_fills_up_mid_run_exits_3() {
    let dir = scratch();
    let Some(mounted) = Mounted::tmpfs(&dir.path().join("filling"), "size=1m") else {
        eprintln!("note: mounting a tmpfs is not permitted here: the disk-full-mid-run case is exercised by a file-size limit only");
        return;
    };
    let results = mounted.0.join("results");
    let scenario = filling_scenario(dir.path(), "0.3");
    let running = start(orchestrator(run_args(&scenario, &results, &["--repetitions", "20"])), dir.path());
    wait_for("the first row", HANG, || run_dirs(&results).first().is_some_and(|d| records::read_raw(d).is_ok_and(|r| !r.is_empty())));
    let mut filler = File::create(mounted.0.join("filler")).unwrap();
    while filler.write_all(&[0u8; 4096]).and_then(|()| filler.sync_all()).is_ok() {}
    let outcome = running.finish(HANG);
    drop(filler);
    assert_stopped_mid_run_keeping_rows(&outcome, &results, "No space left on device");
}

/// The same promise on any machine, root or not: a file-size limit of 16 KiB lets the run start
/// (its write check, environment.json and plan.json are smaller) and stops its files growing a few
/// runs in, as a disk filling up would (EFBIG for ENOSPC).
#[test]
fn a_file_that_stops_growing_mid_run_exits_3() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = filling_scenario(dir.path(), "0.05");
    let mut command = orchestrator(run_args(&scenario, &results, &["--repetitions", "20"]));
    limit_file_size(&mut command, 16 << 10);
    let outcome = run(command, dir.path());
    assert_stopped_mid_run_keeping_rows(&outcome, &results, "File too large");
}

/// Exit 3 with one error that says the run had started and why it stopped (`errno_text`), names
/// the run's file it could not write, and the rows written before kept readable.
fn assert_stopped_mid_run_keeping_rows(outcome: &Outcome, results: &Path, errno_text: &str) {
    assert_eq!(outcome.code, Some(3), "{}", outcome.show());
    let message = outcome.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(message.contains("stopped after runs had started") && message.contains(errno_text), "{}", outcome.show());
    // What was written is kept, and the error names where it could not write.
    let run_dir = run_dirs(results).into_iter().next().expect("the run's directory is kept");
    assert!(message.contains(&run_dir.display().to_string()), "the error names the file: {}", outcome.show());
    let kept = records::read_raw(&run_dir).unwrap_or_else(|e| panic!("raw.csv kept readable: {e}"));
    assert!(!kept.is_empty(), "the rows written before the disk filled are kept");
}

/// Point 14: quoted numbers (`epochs: "1000"`) are read as the numbers they spell, as the README
/// now says; a quoted value that is not a number is an error (in the list above).
#[test]
fn quoted_numbers_are_read_as_numbers() {
    let dir = scratch();
    let path = hostile().join("scenarios/quoted-numbers.yaml");
    let loaded = plan::load(std::slice::from_ref(&path), &catalogue().implementations).unwrap_or_else(|e| panic!("{e}"));
    let training = &loaded[0].file.training;
    assert_eq!((training.epochs.value, training.learning_rate.value), (1000, 0.01));
    assert_eq!(loaded[0].file.measure.repetitions.as_ref().map(|r| r.value), Some(3));
    let outcome = run(orchestrator([OsStr::new("validate"), path.as_os_str()]), dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
}

/// Point 14 (documented in docs/statuses.md): a stopped orchestrator (SIGSTOP, or Ctrl-Z)
/// stops watching, not the measured program or its launcher, which run in process groups of their
/// own; once continued, the run finishes normally, its wall time the program's own (the launcher
/// timed it), without the pause.
#[test]
fn a_stopped_orchestrator_finishes_its_run_once_continued() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = dir.path().join("stopped.yaml");
    let text =
        "name: stopped\ndataset: {inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}\ntraining: {epochs: 1000, learning_rate: 0.01}\n\
                implementations: [slow]\nbaseline: slow\ndefine:\n  \
                slow: {command: [\"/bin/sh\", \"-c\", 'sleep 0.5071; exec \"$0\" json', \"{bin_dir}/fixture-child\"]}\n";
    std::fs::write(&scenario, text).unwrap();
    let running = start(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    wait_for("the slow child", HANG, || !processes_with("0.5071").is_empty());
    // SAFETY: kill only sends signals to the orchestrator we started.
    unsafe { libc::kill(running.pid(), libc::SIGSTOP) };
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: as above.
    unsafe { libc::kill(running.pid(), libc::SIGCONT) };
    let outcome = running.finish(HANG);
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let rows = rows(&only_run_dir(&results));
    assert_eq!(rows[0].status, RunStatus::Ok, "{rows:?}");
    assert!(rows[0].wall_seconds.is_some_and(|w| (0.5..1.4).contains(&w)), "the 1.5 s pause is not in the wall time: {rows:?}");
}

// ---------------------------------------------------------------------------------------------
// The measurement engine: the launcher, any command, the orchestrator's own death

/// A scenario whose implementations are given as (name, command YAML, protocol) triples.
fn commands_scenario(dir: &Path, name: &str, implementations: &[(&str, &str)], measure: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let names: Vec<&str> = implementations.iter().map(|(n, _)| *n).collect();
    let defines: String = implementations.iter().map(|(n, spec)| format!("  {n}: {spec}\n")).collect();
    let text = format!(
        "name: {name}\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\n\
         implementations: [{}]\nbaseline: {}\ndefine:\n{defines}measure: {measure}\n",
        names.join(", "),
        names[0]
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn any_command_is_measured_with_protocol_none_and_its_exit_code_decides() {
    let dir = scratch();
    let results = dir.path().join("results");
    let scenario = commands_scenario(
        dir.path(),
        "any",
        &[
            ("quiet", r#"{command: ["/bin/true"], protocol: none}"#),
            ("chatty", r#"{command: ["/bin/echo", "not a result line"], protocol: none}"#),
            ("failing", r#"{command: ["/bin/false"], protocol: none}"#),
            ("strict", r#"{command: ["/bin/echo", "not a result line"]}"#),
        ],
        "{timeout_seconds: 10}",
    );
    let outcome = run(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let rows = rows(&only_run_dir(&results));
    for name in ["quiet", "chatty"] {
        let r = row(&rows, name);
        assert_eq!(r.status, RunStatus::Ok, "{r:?}");
        assert!(r.wall_seconds.is_some_and(|w| w > 0.0) && r.peak_rss_bytes.is_some_and(|p| p > 0), "measured like any other: {r:?}");
        assert!(r.w.is_none() && r.load_seconds.is_none() && r.train_seconds.is_none(), "no fit, no phases: {r:?}");
        assert!(r.minor_faults.is_some_and(|f| f > 0), "page faults recorded: {r:?}");
    }
    assert_eq!(row(&rows, "failing").status, RunStatus::Failed);
    assert_eq!(row(&rows, "strict").status, RunStatus::BadOutput, "without protocol: none the result line is required");
}

#[test]
fn a_missing_launcher_is_refused_before_anything_runs() {
    let dir = scratch();
    let results = dir.path().join("results");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let lonely = bin.join("orchestrator");
    std::fs::copy(ORCHESTRATOR, &lonely).unwrap();
    let scenario = commands_scenario(dir.path(), "lonely", &[("quiet", r#"{command: ["/bin/true"], protocol: none}"#)], "{}");
    let mut command = Command::new(&lonely);
    command.arg("--root").arg(root()).args(run_args(&scenario, &results, &[])).stdin(Stdio::null()).env_remove("ORCHESTRATOR_LAUNCHER");
    let outcome = run(command, dir.path());
    assert_eq!(outcome.code, Some(2), "{}", outcome.show());
    assert!(outcome.stderr.contains("launcher") && outcome.stderr.contains("make build"), "{}", outcome.show());
    assert!(run_dirs(&results).is_empty(), "nothing may run");
}

#[test]
fn sigkill_of_the_orchestrator_takes_the_measured_process_group_down() {
    let dir = scratch();
    let results = dir.path().join("results");
    let marker = "30.0713";
    let slow = format!(r#"{{command: ["{{bin_dir}}/fixture-child", "spawn-wait", "sleep", "{marker}"], protocol: none}}"#);
    let scenario = commands_scenario(dir.path(), "killed", &[("slow", &slow)], "{timeout_seconds: 60}");
    let running = start(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    wait_for("the slow child and its child", Duration::from_secs(30), || processes_with(marker).len() == 2);
    let mut child = running.child;
    child.kill().expect("SIGKILL the orchestrator");
    let _ = child.wait();
    // Nothing survives a SIGKILL unaided: the launcher's parent-death signal kills the group.
    wait_for("the measured processes to die with the orchestrator", Duration::from_secs(5), || processes_with(marker).is_empty());
}

#[test]
fn the_memory_limit_counts_shared_pages_once_not_once_per_process() {
    let dir = scratch();
    let results = dir.path().join("results");
    // 100 sleeping processes: their RSS sum is ~100 MiB (each maps the same libc), their
    // proportional set sizes ~10–20 MiB.
    let forks = r#"{command: ["/bin/sh", "-c", "for i in $(seq 100); do sleep 1.5 & done; wait"], protocol: none}"#;
    let hog = r#"{command: ["{bin_dir}/fixture-child", "alloc", "80", "500"], protocol: none}"#;
    let scenario = commands_scenario(dir.path(), "shared", &[("forks", forks), ("hog", hog)], "{memory_limit_mb: 50, timeout_seconds: 30}");
    let outcome = run(orchestrator(run_args(&scenario, &results, &[])), dir.path());
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let rows = rows(&only_run_dir(&results));
    let forks = row(&rows, "forks");
    assert_eq!(forks.status, RunStatus::Ok, "shared pages counted once per process: {forks:?}");
    assert_eq!(row(&rows, "hog").status, RunStatus::Oom, "80 MiB of its own is over 50");
}
