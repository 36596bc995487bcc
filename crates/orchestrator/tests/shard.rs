//! Sharded runs and their merge (issue 15), through the `orchestrator` binary as a user runs it:
//! a real `--quick` run split into shards, each run on its own, merged back, and compared with the
//! same run unsharded; and every way a merge must refuse (another plan, a shard twice, a shard
//! missing). Implementations are the fixture-child binary, so neither Python nor the release
//! build is needed.

mod common;

use common::{root, ORCHESTRATOR};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use orchestrator::plan::shard::{PlanFile, PointKey};
use orchestrator::records::RawRecord;
use orchestrator::{environment::Environment, records};
use tempfile::TempDir;

/// Two scenarios: a sweep of four points (one `quick: false`, one skipping an implementation) and
/// a single point of inline data; 4 points in a --quick run.
fn scenarios(dir: &Path) -> Vec<PathBuf> {
    let fixture = r#"{command: ["{bin_dir}/fixture-child", "result", "{n}", "{epochs}", "{learning_rate}"]}"#;
    let alpha = format!(
        "name: alpha\ndataset: {{generate: {{n: 100, slope: 2, intercept: 0.5, noise: 0.1, seed: 3}}}}\n\
         training: {{epochs: 10, learning_rate: 0.01}}\nimplementations: [fast, other]\nbaseline: fast\n\
         define:\n  fast: {fixture}\n  other: {fixture}\n\
         sweep:\n  - {{n: 10}}\n  - {{n: 1000, epochs: 50}}\n  - {{n: 200000, epochs: 5, quick: false}}\n  - {{n: 300, skip: [other]}}\n"
    );
    let beta = format!(
        "name: beta\ndataset: {{inline: {{x: [1, 2, 3, 4, 5], y: [2, 4, 6, 8, 10]}}}}\ntraining: {{epochs: 1000, learning_rate: 0.01}}\n\
         implementations: [fast]\nbaseline: fast\ndefine:\n  fast: {fixture}\n\
         expect:\n  - fit: {{implementation: fast, w: 2.0, b: 0.0, tolerance: 0.5}}\n"
    );
    let (a, b) = (dir.join("alpha.yaml"), dir.join("beta.yaml"));
    std::fs::write(&a, alpha).unwrap();
    std::fs::write(&b, beta).unwrap();
    vec![a, b]
}

fn orchestrator(args: &[&std::ffi::OsStr]) -> Command {
    let mut command = Command::new(ORCHESTRATOR);
    command.arg("--root").arg(root()).args(args).stdin(Stdio::null());
    for name in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX"] {
        command.env_remove(name);
    }
    command
}

fn output(mut command: Command) -> Output {
    let out = command.output().expect("start the orchestrator");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", show(&out));
    out
}

fn show(out: &Output) -> String {
    format!("{}\n--- stdout\n{}\n--- stderr\n{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `run --quick` of the scenarios into `out`, with `extra` arguments (e.g. --shard 2/3).
fn run(scratch: &Path, files: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
    args.extend(files.iter().map(|f| f.into()));
    args.extend(["--quick", "--no-probes", "--warmup", "0", "--repetitions", "2", "--results"].map(Into::into));
    args.push(scratch.join("results").into());
    args.push("--out".into());
    args.push(out.into());
    args.extend(extra.iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    output(orchestrator(&refs))
}

fn run_ok(scratch: &Path, files: &[PathBuf], out: &Path, extra: &[&str]) {
    let result = run(scratch, files, out, extra);
    assert!(result.status.success(), "{}", show(&result));
}

fn merge(dirs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["merge".into()];
    args.extend(dirs.iter().map(|d| d.into()));
    args.push("--out".into());
    args.push(out.into());
    args.extend(extra.iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    output(orchestrator(&refs))
}

fn plan_file(dir: &Path) -> PlanFile {
    records::read_json(&dir.join("plan.json")).expect("plan.json")
}

fn points(dir: &Path) -> BTreeSet<(PointKey, String)> {
    plan_file(dir)
        .plan
        .scenarios
        .iter()
        .flat_map(|s| s.points.iter().map(|p| (PointKey { scenario: s.name.clone(), point: p.index }, p.label.clone())))
        .collect()
}

/// What each run was, without its measurements: scenario, point, implementation, repetition, status.
fn runs(dir: &Path) -> BTreeSet<(String, usize, String, u32, String)> {
    let rows: Vec<RawRecord> = records::read_raw(dir).expect("raw.csv");
    rows.into_iter().map(|r| (r.scenario, r.point, r.implementation, r.repetition, r.status.to_string())).collect()
}

struct Sharded {
    scratch: TempDir,
    files: Vec<PathBuf>,
    shards: Vec<PathBuf>,
}

fn sharded(count: u32) -> Sharded {
    let scratch = tempfile::Builder::new().prefix("shard-").tempdir().unwrap();
    let files = scenarios(scratch.path());
    let shards: Vec<PathBuf> = (1..=count)
        .map(|k| {
            let dir = scratch.path().join(format!("shard-{k}"));
            run_ok(scratch.path(), &files, &dir, &["--shard", &format!("{k}/{count}")]);
            dir
        })
        .collect();
    Sharded { scratch, files, shards }
}

#[test]
fn merged_shards_are_exactly_the_unsharded_run() {
    let s = sharded(3);
    let whole = s.scratch.path().join("whole");
    run_ok(s.scratch.path(), &s.files, &whole, &[]);
    let expected = points(&whole);
    assert_eq!(expected.len(), 4, "{expected:?}");

    // Every shard is a complete run directory holding its own points, and says which.
    let mut held = BTreeSet::new();
    for (k, dir) in s.shards.iter().enumerate() {
        let file = plan_file(dir);
        let block = file.shard.expect("a shard block");
        assert_eq!((block.index, block.count), (k as u32 + 1, 3));
        assert_eq!(block.partition.len(), 4);
        for key in &block.points {
            assert!(held.insert(key.clone()), "{key} is in two shards");
        }
        let env: Environment = records::read_json(&dir.join("environment.json")).unwrap();
        assert_eq!(env.plan_fingerprint.as_deref(), Some(block.fingerprint.as_str()));
        assert_eq!(env.shard.map(|s| (s.index, s.count)), Some((k as u32 + 1, 3)));
        for file in ["raw.csv", "report.md", "summary.json"] {
            assert!(dir.join(file).is_file(), "{} has no {file}", dir.display());
        }
        assert!(std::fs::read_to_string(dir.join("report.md")).unwrap().contains(&format!("shard {}/3", k + 1)));
    }
    // With 4 points over 3 shards, no shard is empty.
    assert!(s.shards.iter().all(|d| !plan_file(d).shard.unwrap().points.is_empty()));

    let merged = s.scratch.path().join("merged");
    let refs: Vec<&Path> = s.shards.iter().map(PathBuf::as_path).collect();
    let out = merge(&refs, &merged, &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(points(&merged), expected);
    assert_eq!(runs(&merged), runs(&whole));
    let report = std::fs::read_to_string(merged.join("report.md")).unwrap();
    assert!(report.contains("### Machines") && report.contains("Merged from 3 of 3 shard(s)"), "{report}");
    for (key, _) in &expected {
        assert!(report.contains(&key.to_string()), "the report does not say who ran {key}");
    }
    let env: Environment = records::read_json(&merged.join("environment.json")).unwrap();
    let machines = env.merged.expect("a merged block").machines;
    assert_eq!(machines.len(), 3);
    assert!(machines.iter().all(|m| m.environment.is_some()));
    // The merged directory is a run directory like any other: it renders again.
    let again = output(orchestrator(&["report".as_ref(), merged.as_os_str()]));
    assert!(again.status.success(), "{}", show(&again));
}

#[test]
fn merge_refuses_duplicates_gaps_and_other_plans_and_renders_a_partial_merge_on_request() {
    let s = sharded(3);
    let scratch = s.scratch.path();
    let (one, two, three) = (s.shards[0].as_path(), s.shards[1].as_path(), s.shards[2].as_path());

    let twice = merge(&[one, two, one, three], &scratch.join("twice"), &[]);
    let text = String::from_utf8_lossy(&twice.stderr).into_owned();
    assert_eq!(twice.status.code(), Some(2), "{}", show(&twice));
    assert!(text.contains("shard 1/3 is given twice") && text.contains(&one.display().to_string()), "{text}");
    assert!(!scratch.join("twice").exists(), "a refused merge created its output directory");

    let gap = merge(&[one, three], &scratch.join("gap"), &[]);
    let text = String::from_utf8_lossy(&gap.stderr).into_owned();
    assert_eq!(gap.status.code(), Some(2), "{}", show(&gap));
    assert!(text.contains("1 shard(s) missing") && text.contains("shard 2/3") && text.contains("--allow-partial"), "{text}");
    let two_points = plan_file(two).shard.unwrap().points;
    for key in &two_points {
        assert!(text.contains(&key.to_string()), "the missing point {key} is not named: {text}");
    }

    let partial_dir = scratch.join("partial");
    let partial = merge(&[one, three], &partial_dir, &["--allow-partial"]);
    assert!(partial.status.success(), "{}", show(&partial));
    let report = std::fs::read_to_string(partial_dir.join("report.md")).unwrap();
    assert!(report.contains("**Missing**"), "{report}");
    let present: BTreeSet<PointKey> = points(&partial_dir).into_iter().map(|(k, _)| k).collect();
    assert!(two_points.iter().all(|k| !present.contains(k)));
    assert_eq!(present.len() + two_points.len(), 4);

    // Another plan: the same scenarios with a comment added (the file's bytes changed).
    std::fs::write(&s.files[1], format!("{}# edited\n", std::fs::read_to_string(&s.files[1]).unwrap())).unwrap();
    let other = scratch.join("other-3");
    run_ok(scratch, &s.files, &other, &["--shard", "3/3"]);
    let mixed = merge(&[one, two, &other], &scratch.join("mixed"), &[]);
    let text = String::from_utf8_lossy(&mixed.stderr).into_owned();
    assert_eq!(mixed.status.code(), Some(2), "{}", show(&mixed));
    assert!(
        text.contains("different plans") && text.contains(&one.display().to_string()) && text.contains(&other.display().to_string()),
        "{text}"
    );

    // A run directory that is not a shard.
    let whole = scratch.join("whole");
    run_ok(scratch, &s.files, &whole, &[]);
    let not_shard = merge(&[&whole], &scratch.join("not-shard"), &[]);
    assert!(String::from_utf8_lossy(&not_shard.stderr).contains("not a shard"), "{}", show(&not_shard));

    // A shard count that differs.
    let of_two = scratch.join("of-two");
    run_ok(scratch, &s.files, &of_two, &["--shard", "1/2"]);
    let counts = merge(&[&other, &of_two], &scratch.join("counts"), &[]);
    assert_eq!(counts.status.code(), Some(2), "{}", show(&counts));
}

#[test]
fn bad_shard_arguments_stop_before_anything_runs() {
    let scratch = tempfile::Builder::new().prefix("shard-args-").tempdir().unwrap();
    let files = scenarios(scratch.path());
    for (args, expected) in [
        (vec!["--shard", "0/2"], "numbered from 1"),
        (vec!["--shard", "3/2"], "no shard 3 of 2"),
        (vec!["--shard", "1/2/3"], "not a whole number"),
        (vec!["--shard", "half"], "no '/'"),
        (vec!["--shard", "auto"], "CI matrix"),
        (vec!["--shard", "1/2", "--shard-count", "2"], "only read with --shard auto"),
    ] {
        let out_dir = scratch.path().join("out");
        let out = run(scratch.path(), &files, &out_dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert!(stderr.contains(expected), "{args:?}: expected '{expected}' in: {stderr}");
        assert!(!out_dir.join("raw.csv").exists(), "{args:?} ran something");
    }
}

#[test]
fn shard_auto_reads_a_slurm_array_and_a_kubernetes_index() {
    let scratch = tempfile::Builder::new().prefix("shard-auto-").tempdir().unwrap();
    let files = scenarios(scratch.path());
    let slurm = scratch.path().join("slurm");
    let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
    args.extend(files.iter().map(|f| f.into()));
    args.extend(["--quick", "--no-probes", "--warmup", "0", "--repetitions", "1", "--shard", "auto", "--results"].map(Into::into));
    args.push(scratch.path().join("results").into());
    let with_out = |dir: &Path| {
        let mut all = args.clone();
        all.push("--out".into());
        all.push(dir.into());
        all
    };
    let slurm_args = with_out(&slurm);
    let refs: Vec<&std::ffi::OsStr> = slurm_args.iter().map(|a| a.as_os_str()).collect();
    let mut command = orchestrator(&refs);
    command.env("SLURM_ARRAY_TASK_ID", "5").env("SLURM_ARRAY_TASK_COUNT", "2").env("SLURM_ARRAY_TASK_MIN", "4");
    let out = output(command);
    assert!(out.status.success(), "{}", show(&out));
    let block = plan_file(&slurm).shard.unwrap();
    assert_eq!((block.index, block.count), (2, 2));

    let k8s = scratch.path().join("k8s");
    let mut k8s_args = with_out(&k8s);
    k8s_args.extend(["--shard-count", "3"].map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = k8s_args.iter().map(|a| a.as_os_str()).collect();
    let mut command = orchestrator(&refs);
    command.env("JOB_COMPLETION_INDEX", "0");
    let out = output(command);
    assert!(out.status.success(), "{}", show(&out));
    let block = plan_file(&k8s).shard.unwrap();
    assert_eq!((block.index, block.count), (1, 3));
}

/// deploy/kubernetes: the two manifests agree with each other and with the orchestrator, as their
/// comments ask: `completions`, `parallelism` and `--shard-count` equal; one run folder, image,
/// working directory and volume; the merge reads the folders the shards write; and every flag
/// they pass is one `orchestrator run` (or `merge`) takes.
#[test]
fn the_kubernetes_manifests_agree_with_each_other_and_with_the_orchestrator() {
    let load = |name: &str| -> serde_json::Value {
        let path = root().join("deploy/kubernetes").join(name);
        serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let (shards, merge) = (load("shards.yaml"), load("merge.yaml"));
    let pod = |job: &serde_json::Value| job["spec"]["template"]["spec"].clone();
    let container = |job: &serde_json::Value| pod(job)["containers"][0].clone();
    let env = |job: &serde_json::Value, name: &str| {
        let vars = container(job)["env"].as_array().cloned().unwrap_or_default();
        vars.iter().find(|v| v["name"] == name).map(|v| v["value"].clone()).unwrap_or_else(|| panic!("{name} is not set"))
    };
    let script = |job: &serde_json::Value| {
        container(job)["args"][0].as_str().expect("one shell line").split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    let (shard_line, merge_line) = (script(&shards), script(&merge));
    let after = |line: &[String], flag: &str| line.iter().position(|w| w == flag).map(|i| line[i + 1].clone());

    let count: u64 = after(&shard_line, "--shard-count").expect("--shard-count").parse().unwrap();
    let spec = &shards["spec"];
    assert_eq!((spec["completions"].as_u64(), spec["parallelism"].as_u64()), (Some(count), Some(count)));
    assert_eq!((spec["completionMode"].as_str(), spec["backoffLimit"].as_u64()), (Some("Indexed"), Some(0)));
    assert_eq!(after(&shard_line, "--shard").as_deref(), Some("auto"));
    for key in ["image", "workingDir"] {
        assert_eq!(container(&shards)[key], container(&merge)[key], "{key}");
    }
    assert_eq!(env(&shards, "RUN_ID"), env(&merge, "RUN_ID"));
    let claim = |job: &serde_json::Value| pod(job)["volumes"][0]["persistentVolumeClaim"]["claimName"].clone();
    assert_eq!(claim(&shards), claim(&merge));
    assert_eq!(after(&shard_line, "--out").as_deref(), Some("\"/results/$RUN_ID/shard-$JOB_COMPLETION_INDEX\""));
    assert!(merge_line.windows(2).any(|w| w[0] == "merge" && w[1] == "/results/$RUN_ID/shard-*"), "{merge_line:?}");

    for (line, subcommand) in [(&shard_line, "run"), (&merge_line, "merge")] {
        let help = output(orchestrator(&[std::ffi::OsStr::new(subcommand), std::ffi::OsStr::new("--help")]));
        let help = String::from_utf8_lossy(&help.stdout).into_owned();
        for flag in line.iter().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag},")) || help.contains(&format!("{flag}\n")),
                "`orchestrator {subcommand}` takes no {flag}"
            );
        }
    }
}
