//! The hostile suite, round three (issue 23, points 14–22: "unclear, slow or too late"): the
//! `orchestrator` binary run as a careless user runs it. Each test proves one promise: what `run`
//! would refuse, `validate` refuses first; a signal is answered at once, with a message, leaving
//! nothing half-written; a file or directory that cannot be read is named with its error; a
//! mistake on the command line is an error (exit 2), never a quiet success; a measured program
//! starts with its standard streams only. (Point 13, the report's cost, is proved by unit tests
//! of the analysis: see analysis::index.)
//!
//! Neither Python nor the release build is needed: implementations are the fixture-child binary,
//! reached as {bin_dir}/fixture-child beside the orchestrator.

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{is_root, mkfifo, orchestrator, root, start, Outcome};
use orchestrator::records::{self, RunStatus};
use tempfile::TempDir;

/// Longer than any command of this suite takes: reaching it means the orchestrator hung.
const HANG: Duration = Duration::from_secs(120);

fn scratch() -> TempDir {
    tempfile::Builder::new().prefix("hostile-cli-").tempdir().expect("a temporary directory")
}

fn run(command: Command, dir: &Path) -> Outcome {
    start(command, dir).finish(HANG)
}

/// A scenario file `name`.yaml in `dir`: `dataset` and `extra` (YAML lines) around one
/// implementation, the fixture child running `fixture_args`.
fn scenario(dir: &Path, name: &str, dataset: &str, fixture_args: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "name: {name}\ndataset: {dataset}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\nimplementations: [fixture]\n\
         baseline: fixture\ndefine:\n  fixture: {{command: [\"{{bin_dir}}/fixture-child\", {fixture_args}]}}\n{extra}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

const FIVE_POINTS: &str = "{inline: {x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}";
const RESULT_FOR_THE_POINT: &str = "\"result\", \"{n}\", \"{epochs}\", \"{learning_rate}\"";

/// `run SCENARIO --out OUT --results OUT/../results --no-probes --warmup 0 --repetitions 2 EXTRA…`
/// (the datasets are prepared beside OUT, never in the project).
fn run_into(scenario: &Path, out: &Path, extra: &[&str]) -> Command {
    let results = out.parent().expect("OUT has a parent").join("results");
    let mut args: Vec<OsString> = vec!["run".into(), scenario.into(), "--out".into(), out.into(), "--no-probes".into()];
    args.extend(["--results".into(), results.into_os_string()]);
    args.extend(["--warmup", "0", "--repetitions", "2"].iter().chain(extra).map(OsString::from));
    orchestrator(args)
}

/// A finished run of `name` into `dir`/`name`; its run directory.
fn finished_run(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let outcome = run(run_into(&scenario(dir, name, FIVE_POINTS, "\"json\"", ""), &out, &[]), dir);
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    out
}

fn entries(dir: &Path) -> Vec<String> {
    let Ok(listing) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = listing.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// Point 14: what `run` refuses, `validate` refuses first

#[test]
fn validate_refuses_what_run_would_refuse_without_reading_whole_datasets() {
    let dir = scratch();
    let data = root().join("tests/hostile/data");
    let fifo = dir.path().join("fifo.csv");
    mkfifo(&fifo);
    let missing = dir.path().join("missing.csv");
    // 51 generated datasets, 20000 runs each: every number allowed, the product over the cap.
    let sweep: String = (1..=51).map(|n| format!("  - {{n: {}}}\n", 100 + n)).collect();
    let generated = "{generate: {n: 100, slope: 2, intercept: 0.5, noise: 0.1, seed: 1}}";
    let cases = [
        (
            "over-the-cap",
            generated.to_string(),
            format!("measure: {{repetitions: 10000, warmup: 10000}}\nsweep:\n{sweep}"),
            "1020000 runs, more than 1000000",
        ),
        ("absent-cpu", FIVE_POINTS.to_string(), "measure: {cpus: [1000]}\n".to_string(), "CPU 1000 is not available"),
        ("missing-file", format!("{{csv: {{path: \"{}\"}}}}", missing.display()), String::new(), "No such file"),
        ("missing-npy", format!("{{npy: {{path: \"{}.npy\"}}}}", missing.display()), String::new(), "No such file"),
        (
            "column-twice",
            format!("{{csv: {{path: \"{}\"}}}}", data.join("duplicate-column.csv").display()),
            String::new(),
            "column 'x' appears 2 times in the header (columns 1, 2)",
        ),
        ("fifo", format!("{{csv: {{path: \"{}\"}}}}", fifo.display()), String::new(), "is not a regular file"),
    ];
    for (name, dataset, extra, want) in cases {
        let file = scenario(dir.path(), name, &dataset, RESULT_FOR_THE_POINT, &extra);
        let outcome = run(orchestrator([OsStr::new("validate"), file.as_os_str()]), dir.path());
        assert!(outcome.code == Some(2) && outcome.stderr.contains(want), "{name}: validate must say '{want}':\n{}", outcome.show());
        assert!(outcome.stderr.contains(&file.display().to_string()), "{name}: the scenario file is named:\n{}", outcome.show());
    }
    // `run` refuses the plan over the cap before it prepares any dataset.
    let file = dir.path().join("over-the-cap.yaml");
    let results = dir.path().join("results");
    let args: Vec<OsString> = vec!["run".into(), file.into(), "--results".into(), results.clone().into(), "--no-probes".into()];
    let outcome = run(orchestrator(args), dir.path());
    assert!(outcome.code == Some(2) && outcome.stderr.contains("1020000 runs, more than 1000000"), "{}", outcome.show());
    assert!(!outcome.stderr.contains("preparing"), "nothing is prepared for a plan that cannot run:\n{}", outcome.show());
    assert_eq!(entries(&results.join(".cache")), Vec::<String>::new(), "no dataset was generated");
    // What can be run still validates: a CSV and a .npy whose headers are fine.
    for (name, dataset) in [
        ("csv-ok", format!("{{csv: {{path: \"{}\"}}}}", data.join("blank-lines.csv").display())),
        ("npy-ok", format!("{{npy: {{path: \"{}\"}}}}", data.join("good.npy").display())),
    ] {
        let file = scenario(dir.path(), name, &dataset, RESULT_FOR_THE_POINT, "measure: {cpus: [0]}\n");
        let outcome = run(orchestrator([OsStr::new("validate"), file.as_os_str()]), dir.path());
        assert!(outcome.code == Some(0) && outcome.stdout.starts_with("ok"), "{name}:\n{}", outcome.show());
    }
}

// ---------------------------------------------------------------------------------------------
// Points 15 and 16: a signal is answered at once, and leaves nothing half-written

/// Two shards of a plan of two points, run into `dir`/shard-1 and shard-2.
fn two_shards(dir: &Path) -> [PathBuf; 2] {
    let file = scenario(
        dir,
        "sharded",
        "{generate: {n: 50, slope: 2, intercept: 0.5, noise: 0.1, seed: 1}}",
        RESULT_FOR_THE_POINT,
        "sweep:\n  - {n: 50}\n  - {n: 60}\n",
    );
    [1, 2].map(|k| {
        let out = dir.join(format!("shard-{k}"));
        let shard = format!("{k}/2");
        let outcome = run(run_into(&file, &out, &["--shard", &shard]), dir);
        assert_eq!(outcome.code, Some(0), "{}", outcome.show());
        out
    })
}

#[test]
fn sigterm_during_merge_says_so_and_leaves_no_half_written_out() {
    let dir = scratch();
    let shards = two_shards(dir.path());
    let out = dir.path().join("merged");
    let merge = || orchestrator([OsStr::new("merge"), shards[0].as_os_str(), shards[1].as_os_str(), OsStr::new("--out"), out.as_os_str()]);
    // The shards are listed once they are read and checked, before the report is rendered: a
    // window of 28-45 ms on an idle Emerald Rapids guest, which a faster CPU, or this test held off
    // its CPU, can miss. A merge that ended before the signal proves nothing either way and is
    // tried again, a few times at most; one that was still at work must end as below.
    let mut attempts = 0;
    let outcome = loop {
        attempts += 1;
        let mut merging = start(merge(), dir.path());
        assert!(merging.wait_for_stderr("shard 2/2 (", HANG), "the merge lists its shards");
        // Stopped while the signal is sent, so that it arrives while the merge is still at work.
        merging.signal(libc::SIGSTOP);
        let still_merging = merging.child.try_wait().expect("try_wait").is_none();
        // Only a child not yet reaped is signalled: a reaped one's pid may be another process's.
        if still_merging {
            merging.signal(libc::SIGTERM);
            merging.signal(libc::SIGCONT);
        }
        let outcome = merging.finish(HANG);
        if still_merging {
            break outcome;
        }
        assert!(attempts < 5, "the merge ended before the signal could be sent, {attempts} times:\n{}", outcome.show());
        assert_eq!(outcome.code, Some(0), "a merge that ended on its own succeeds:\n{}", outcome.show());
        std::fs::remove_dir_all(&out).expect("the finished merge's --out is removed before the next try");
    };
    assert_eq!(outcome.code, Some(143), "{}", outcome.show());
    assert!(outcome.stderr.contains("SIGTERM") && outcome.stderr.contains("nothing was written"), "{}", outcome.show());
    assert_eq!(entries(&out), Vec::<String>::new(), "--out holds nothing of the interrupted merge");
    let leftovers: Vec<String> = entries(dir.path()).into_iter().filter(|n| n.starts_with('.')).collect();
    assert_eq!(leftovers, Vec::<String>::new(), "no temporary is left beside --out");
    let again = run(merge(), dir.path());
    assert_eq!(again.code, Some(0), "a second merge into the same --out:\n{}", again.show());
    assert!(out.join("report.md").is_file());
}

#[test]
fn sigterm_while_the_machine_is_probed_stops_the_probes() {
    let dir = scratch();
    let out = dir.path().join("probed");
    let file = scenario(dir.path(), "probed", FIVE_POINTS, "\"json\"", "");
    let results = dir.path().join("results");
    let args = [OsStr::new("run"), file.as_os_str(), OsStr::new("--out"), out.as_os_str(), OsStr::new("--results"), results.as_os_str()];
    let mut running = start(orchestrator(args.iter().chain(&[OsStr::new("--probe-array-mib"), OsStr::new("16")])), dir.path());
    assert!(running.wait_for_stderr("measuring the machine", HANG), "the probes start");
    running.signal(libc::SIGTERM);
    let outcome = running.finish(HANG);
    assert_eq!(outcome.code, Some(143), "{}", outcome.show());
    let environment: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(records::ENVIRONMENT_JSON)).unwrap()).expect("environment.json");
    // The sampler's cost is the last probe: it is not started once the signal has come.
    assert!(environment.get("sampler_cost").is_none_or(|v| v.is_null()), "the probes went on after SIGTERM:\n{}", outcome.show());
    assert!(outcome.stderr.contains("the probes were cut short"), "{}", outcome.show());
    assert!(records::read_raw(&out).expect("raw.csv").is_empty(), "nothing ran");
}

// ---------------------------------------------------------------------------------------------
// Points 17 and 18: what cannot be read is named with its error

#[test]
fn an_environment_json_of_the_wrong_shape_is_named_not_called_missing() {
    let dir = scratch();
    let run_dir = finished_run(dir.path(), "shapes");
    let environment = run_dir.join(records::ENVIRONMENT_JSON);
    for (text, problem) in [("null", "invalid type: null"), ("[]", "invalid length 0"), ("{\"hostname\": 5}", "invalid type: integer `5`")]
    {
        std::fs::write(&environment, text).unwrap();
        let outcome = run(orchestrator([OsStr::new("report"), run_dir.as_os_str()]), dir.path());
        assert_eq!(outcome.code, Some(0), "{text}:\n{}", outcome.show());
        let warning = outcome.stderr.lines().find(|l| l.starts_with("warning:")).unwrap_or("");
        assert!(
            warning.contains(&environment.display().to_string()) && warning.contains(problem),
            "{text}: want '{problem}':\n{}",
            outcome.show()
        );
        let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
        assert!(!report.contains("environment.json is missing") && report.contains(problem), "{text}: the report says what is wrong");
    }
}

/// `report`, `merge` and `machines` of `run_dir` (given twice where two are needed).
fn readers_of(run_dir: &Path, out: &Path) -> [(&'static str, Vec<OsString>); 3] {
    let (r, o) = (OsString::from(run_dir), OsString::from(out));
    [
        ("report", vec!["report".into(), r.clone()]),
        ("merge", vec!["merge".into(), r.clone(), "--out".into(), o.clone()]),
        ("machines", vec!["machines".into(), r.clone(), r, "--out".into(), o]),
    ]
}

fn assert_named_with_error(command: Command, dir: &Path, what: &str, path: &Path, error: &str) {
    let outcome = run(command, dir);
    let message = outcome.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(
        outcome.code == Some(2)
            && message.contains(&path.display().to_string())
            && message.contains(error)
            && !message.contains("not a run directory"),
        "{what} {}: want '{error}':\n{}",
        path.display(),
        outcome.show()
    );
}

/// The error a run directory's path meets is named. Permission bits do not stop root, so the
/// permission-denied cases run the orchestrator as `nobody` when the tests run as root (and are
/// skipped, saying why, when `nobody` cannot reach the binary); a symbolic-link loop, which stops
/// root too, takes the same path through the code on every machine.
#[test]
fn a_run_directory_that_cannot_be_read_is_named_with_its_error() {
    let dir = scratch();
    let out = dir.path().join("out");
    let looped = dir.path().join("loop");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    for (what, args) in readers_of(&looped, &out) {
        assert_named_with_error(orchestrator(args), dir.path(), what, &looped, "Too many levels of symbolic links");
    }

    let run_dir = finished_run(dir.path(), "locked");
    let outcome = unprivileged(orchestrator(["--version"])).output().ok().filter(|o| o.status.success());
    if outcome.is_none() {
        println!("skipped the permission cases: the orchestrator cannot be started as an unprivileged user from {}", root().display());
        return;
    }
    // Reachable by anyone, but for the directory under test.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let parent = dir.path().join("locked-parent");
    std::fs::create_dir(&parent).unwrap();
    let hidden = parent.join("locked");
    std::fs::rename(&run_dir, &hidden).unwrap();
    for (mode, path) in [(0o000, &hidden), (0o000, &parent)] {
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        for (what, args) in readers_of(&hidden, &out) {
            let _ = std::fs::remove_dir_all(&out);
            assert_named_with_error(unprivileged(orchestrator(args)), dir.path(), what, &hidden, "Permission denied");
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The command run as `nobody` (uid and gid 65534) when this test runs as root; as it is otherwise.
fn unprivileged(mut command: Command) -> Command {
    if is_root() {
        // SAFETY: setgroups, setgid and setuid are async-signal-safe system calls on the child.
        unsafe {
            command.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    command
}

// ---------------------------------------------------------------------------------------------
// Points 19–21: a mistake on the command line is an error

#[test]
fn machines_refuses_one_run_given_twice_and_runs_with_nothing_in_common() {
    let dir = scratch();
    let (one, other) = (finished_run(dir.path(), "one"), finished_run(dir.path(), "other"));
    // The same directory by another name is the same run.
    let alias = dir.path().join("alias-of-one");
    std::os::unix::fs::symlink(&one, &alias).unwrap();
    let out = dir.path().join("machines");
    let machines =
        |a: &Path, b: &Path| orchestrator([OsStr::new("machines"), a.as_os_str(), b.as_os_str(), OsStr::new("--out"), out.as_os_str()]);
    for (a, b, want) in [(&one, &one, "given twice"), (&one, &alias, "given twice"), (&one, &other, "nothing to compare")] {
        let outcome = run(machines(a, b), dir.path());
        assert!(
            outcome.code == Some(2) && outcome.stderr.contains(want),
            "machines {} {}: want '{want}':\n{}",
            a.display(),
            b.display(),
            outcome.show()
        );
        assert!(!outcome.stderr.contains("baseline") && !out.join("machines.md").exists(), "{}", outcome.show());
    }
}

#[test]
fn a_slurm_array_step_of_zero_is_refused() {
    let dir = scratch();
    let file = scenario(dir.path(), "slurm", FIVE_POINTS, "\"json\"", "");
    let out = dir.path().join("out");
    let mut command = run_into(&file, &out, &["--shard", "auto"]);
    command.envs([
        ("SLURM_ARRAY_TASK_ID", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_STEP", "0"),
    ]);
    let outcome = run(command, dir.path());
    assert!(outcome.code == Some(2) && outcome.stderr.contains("SLURM_ARRAY_TASK_STEP=0"), "{}", outcome.show());
    assert!(!out.join("raw.csv").exists(), "nothing ran");
    // Refused before anything is prepared or checked, as `--shard 1/0` is.
    assert!(!outcome.stderr.contains("checking") && !outcome.stderr.contains("preparing"), "{}", outcome.show());
    // A generated dataset, which a plan prepares once it is built: never for a shard that is not.
    let generated = scenario(dir.path(), "generated", "{generate: {n: 50, slope: 2, intercept: 0.5, noise: 0.1, seed: 1}}", "\"json\"", "");
    let outcome = run(run_into(&generated, &out, &["--shard", "1/0"]), dir.path());
    assert!(outcome.code == Some(2) && outcome.stderr.contains("--shard '1/0'"), "{}", outcome.show());
    assert!(!outcome.stderr.contains("preparing"), "{}", outcome.show());
}

#[test]
fn compare_parses_its_threshold_strictly_and_prints_its_sign_once() {
    let dir = scratch();
    let one = finished_run(dir.path(), "one");
    let compare = |threshold: &str| {
        orchestrator([OsStr::new("compare"), one.as_os_str(), one.as_os_str(), format!("--threshold={threshold}").as_ref()])
    };
    for bad in ["5%%", "-0%", "-5%", "+5%", "5 %", "%5", "5%5", "1e1%", "inf%", "NaN", ".%", ""] {
        let outcome = run(compare(bad), dir.path());
        assert!(outcome.code == Some(2) && outcome.stderr.contains("expected a percentage such as 5%"), "'{bad}':\n{}", outcome.show());
    }
    for (good, shown) in [("5%", "+5%"), ("5", "+5%"), ("0%", "+0%"), ("2.5%", "+2.5%"), ("0.0%", "+0%")] {
        let outcome = run(compare(good), dir.path());
        assert_eq!(outcome.code, Some(0), "'{good}':\n{}", outcome.show());
        assert!(
            outcome.stdout.contains(&format!("whole 95% CI is above {shown})")) && !outcome.stdout.contains("+-"),
            "'{good}':\n{}",
            outcome.show()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Point 22: a measured program starts with its standard streams only

#[test]
fn the_measured_program_inherits_no_descriptor_of_its_caller() {
    let dir = scratch();
    let file = scenario(dir.path(), "descriptors", FIVE_POINTS, "\"fds\"", "");
    let out = dir.path().join("out");
    let mut command = run_into(&file, &out, &[]);
    let mut pipe = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array (close-on-exec in this process).
    assert_eq!(unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) }, 0, "pipe");
    let write_end = pipe[1];
    // The caller's write end of a pipe, open as descriptor 7 without close-on-exec, as a shell
    // script's `7>some-pipe` leaves it.
    // SAFETY: dup2 is async-signal-safe; the descriptor is open in the child after the fork.
    unsafe {
        command.pre_exec(move || match libc::dup2(write_end, 7) {
            7 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
    let outcome = run(command, dir.path());
    // SAFETY: closing the descriptors this test opened.
    unsafe {
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
    assert_eq!(outcome.code, Some(0), "{}", outcome.show());
    let rows = records::read_raw(&out).expect("raw.csv");
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.status == RunStatus::Ok),
        "the program saw more than its standard streams: {:?}",
        rows.iter().map(|r| &r.message).collect::<Vec<_>>()
    );
}
