//! `orchestrator machines`: full runs set side by side, through the binary — runs made here (two
//! of this machine, one with a scenario fewer; another named by `--machine-label`), and two
//! committed runs from genuinely different CPUs: the gallery's Zen 1 run (docs/machines/zen1-2c-8m)
//! and the merged run of tests/fixtures/machines (a 32 MiB-L3 EPYC). Implementations of the runs
//! made here are the fixture-child binary: a quick one and one that sleeps, so the speed-up is
//! certain.

mod common;

use common::{root, ORCHESTRATOR};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn orchestrator(args: &[&std::ffi::OsStr]) -> Output {
    let out =
        Command::new(ORCHESTRATOR).arg("--root").arg(root()).args(args).stdin(Stdio::null()).output().expect("start the orchestrator");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", show(&out));
    out
}

fn show(out: &Output) -> String {
    format!("{}\n--- stdout\n{}\n--- stderr\n{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// speed.yaml (rust against `slow`, which sleeps `sleep_seconds`, with a claim that holds and one
/// that cannot) and extra.yaml (rust alone, on inline data).
fn write_scenarios(dir: &Path, sleep_seconds: f64) -> (PathBuf, PathBuf) {
    // Named `rust` on purpose (the verdict compares rust with the baseline): it replaces the
    // catalogue's entry, which a definition must say.
    let quick = r#"{command: ["{bin_dir}/fixture-child", "result", "{n}", "{epochs}", "{learning_rate}"], override: true}"#;
    let slow = format!(r#"{{command: ["{{bin_dir}}/fixture-child", "sleep", "{sleep_seconds}"], protocol: none}}"#);
    let speed = dir.join("speed.yaml");
    std::fs::write(
        &speed,
        format!(
            "name: speed\ndataset: {{generate: {{n: 100, slope: 2, intercept: 0.5, noise: 0.1, seed: 3}}}}\n\
             training: {{epochs: 10, learning_rate: 0.01}}\nimplementations: [slow, rust]\nbaseline: slow\n\
             define:\n  slow: {slow}\n  rust: {quick}\n\
             sweep:\n  - {{n: 10}}\n  - {{n: 1000}}\n\
             expect:\n  - speedup: {{faster: rust, than: slow, at_least: 2}}\n  - speedup: {{faster: rust, than: slow, at_least: 1000}}\n"
        ),
    )
    .unwrap();
    let extra = dir.join("extra.yaml");
    std::fs::write(
        &extra,
        format!(
            "name: extra\ndataset: {{inline: {{x: [1, 2, 3], y: [2, 4, 6]}}}}\ntraining: {{epochs: 10, learning_rate: 0.01}}\n\
             implementations: [rust]\nbaseline: rust\ndefine:\n  rust: {quick}\n"
        ),
    )
    .unwrap();
    (speed, extra)
}

/// A quick run of `scenarios` into `out`, with `extra` arguments; its output.
fn try_run(dir: &Path, out: &Path, scenarios: &[&Path], extra: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
    args.extend(scenarios.iter().map(|s| s.as_os_str().to_owned()));
    args.extend(["--no-probes", "--warmup", "0", "--repetitions", "5", "--results"].map(Into::into));
    args.push(dir.join("results").into());
    args.push("--out".into());
    args.push(out.into());
    args.extend(extra.iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    orchestrator(&refs)
}

fn run(dir: &Path, out: &Path, scenarios: &[&Path], extra: &[&str]) {
    let result = try_run(dir, out, scenarios, extra);
    assert!(result.status.success(), "{}", show(&result));
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// `machines` over `runs` (each `DIR` or `LABEL=DIR`) into `out`; machines.md and machines.json.
fn machines(runs: &[&std::ffi::OsStr], out: &Path) -> (String, serde_json::Value) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["machines".as_ref()];
    args.extend(runs);
    args.extend(["--out".as_ref(), out.as_os_str()]);
    let result = orchestrator(&args);
    assert!(result.status.success(), "{}", show(&result));
    (std::fs::read_to_string(out.join("machines.md")).unwrap(), json(&out.join("machines.json")))
}

#[test]
fn runs_of_two_machines_are_set_side_by_side_with_their_claims_and_a_chart() {
    let scratch = tempfile::Builder::new().prefix("machines-").tempdir().unwrap();
    let dir = scratch.path();
    // The slow one sleeps long enough for "faster on every machine" to hold on a busy machine too
    // (at 20 ms it was 10× a quick run's ~2 ms, which a busy CPU can stretch).
    let (speed, extra) = write_scenarios(dir, 0.2);
    let (a, b) = (dir.join("a"), dir.join("b"));
    run(dir, &a, &[&speed, &extra], &[]);
    run(dir, &b, &[&speed], &[]);

    let out = dir.join("across");
    let (text, across) = machines(&[a.as_os_str(), b.as_os_str()], &out);
    // The same machine twice: its label (derived from its CPU when the run started) made unique.
    let env = json(&a.join("environment.json"));
    let host = env["machine_label"].as_str().expect("a run records its machine's label").to_string();
    assert_eq!(json(&b.join("environment.json"))["machine_label"].as_str(), Some(host.as_str()));
    assert!(text.contains(&format!("| {host}#1 |")) && text.contains(&format!("| {host}#2 |")), "{text}");
    // The run recorded what the CPU is, and the label says it: `<microarchitecture or vendor>-<N>c…`.
    let identity = &env["machine"];
    assert!(identity["microarchitecture"].is_string() && identity["caches"].is_array(), "{identity}");
    assert_eq!(across["machines"][0]["identity"], *identity);
    assert!(host.contains(&format!("-{}c", env["logical_cpus"])), "{host}");
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        assert!(!identity["vendor"].as_str().unwrap_or_default().is_empty(), "{identity}");
        assert_eq!(identity["avx512f"].as_bool(), Some(host.ends_with("-avx512")), "{host}: {identity}");
    }
    let report = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(report.contains(&format!("| machine | {host}: ")), "the report's environment section names the machine: {report}");
    // The two runs do not share a plan (b has a scenario fewer), and that is said.
    assert!(text.contains("do not share one plan fingerprint"), "{text}");
    // Every point of the shared scenario, with both machines and their ratio.
    for label in ["n=10 epochs=10", "n=1000 epochs=10"] {
        assert!(text.contains(&format!("### speed · {label}")), "{label}: {text}");
        assert!(text.contains(&format!("**speed · {label} lr=0.01**: rust against slow")), "{label}: {text}");
    }
    assert!(text.contains(&format!("{host}#2 / {host}#1")), "{text}");
    assert!(text.contains("faster on every machine: **yes**"), "{text}");
    // The claim that cannot hold is said not to hold, on both machines by name.
    assert!(text.contains(&format!("**no** (not held on {host}#1, {host}#2)")), "{text}");
    // The scenario only one machine ran is named.
    assert!(text.contains("## Not on every machine") && text.contains("extra · n=3"), "{text}");
    let png = std::fs::read(out.join("charts/headline-speedup-by-machine.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert_eq!(across["machines"].as_array().map(Vec::len), Some(2));

    // --check: a claim does not hold on every machine.
    let out2 = dir.join("across-check");
    let checked =
        orchestrator(&["machines".as_ref(), a.as_os_str(), b.as_os_str(), "--out".as_ref(), out2.as_os_str(), "--check".as_ref()]);
    assert_eq!(checked.status.code(), Some(1), "{}", show(&checked));

    // One run directory is not a comparison.
    let one = orchestrator(&["machines".as_ref(), a.as_os_str(), "--out".as_ref(), out2.as_os_str()]);
    assert_eq!(one.status.code(), Some(2), "{}", show(&one));
}

/// The committed merged run (tests/fixtures/machines): it still renders, its report says which
/// shard ran which point, and set beside itself every machine-to-machine ratio is exactly 1 and
/// the headline is rust against python-numpy.
#[test]
fn the_committed_merged_run_renders_and_compares_with_itself() {
    let scratch = tempfile::Builder::new().prefix("machines-fixture-").tempdir().unwrap();
    let fixture = root().join("tests/fixtures/machines/epyc-vm-2vcpu");
    let copy = scratch.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for file in ["plan.json", "environment.json", "raw.csv"] {
        std::fs::copy(fixture.join(file), copy.join(file)).unwrap();
    }
    let rendered = orchestrator(&["report".as_ref(), copy.as_os_str()]);
    assert!(rendered.status.success(), "{}", show(&rendered));
    let report = std::fs::read_to_string(copy.join("report.md")).unwrap();
    assert!(report.contains("Merged from 2 of 2 shard(s)") && report.contains("seed#0 (n=5 epochs=1000 lr=0.01)"), "{report}");
    // Its environment.json predates the machine identity: the label is derived from what it holds.
    assert!(report.contains("| machine | amd-2c-32m (each shard's machine is below) |"), "{report}");
    assert!(report.contains("| 1/2 | amd-2c-32m (host vm) |"), "each shard's machine by its label: {report}");

    let out = scratch.path().join("across");
    let result = orchestrator(&["machines".as_ref(), fixture.as_os_str(), copy.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    assert!(result.status.success(), "{}", show(&result));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("machines.json")).unwrap()).unwrap();
    let points = json["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    for point in points {
        for implementation in point["implementations"].as_array().unwrap() {
            assert_eq!(implementation["ratio_to_first"][1]["estimate"].as_f64(), Some(1.0), "{implementation}");
        }
    }
    let headlines = json["headlines"].as_array().unwrap();
    assert!(headlines.iter().all(|h| h["faster"] == "rust" && h["baseline"] == "python-numpy"), "{headlines:?}");
    let held = serde_json::json!({"not_held_on": [], "inconclusive_on": [], "not_judged_on": []});
    assert!(headlines.iter().all(|h| h["faster_everywhere"] == held), "{headlines:?}");
}

/// The line of machines.md's claims table that holds `claim`.
fn claim_row<'a>(text: &'a str, claim: &str) -> &'a str {
    text.lines().find(|l| l.starts_with('|') && l.contains(claim)).unwrap_or_else(|| panic!("no row for {claim}: {text}"))
}

/// A claim judged on one machine and not on the other (its scenario ran only on the first) is
/// "not judged" on the other: neither held nor failed there. Where it held, it did not hold "on
/// every machine" either, and --check says why it fails.
#[test]
fn a_claim_not_judged_on_a_machine_is_not_judged_there_and_never_a_no() {
    let scratch = tempfile::Builder::new().prefix("machines-not-judged-").tempdir().unwrap();
    let dir = scratch.path();
    // The slow one sleeps long enough for "at least 2× faster" to hold on a busy machine too.
    let (speed, extra) = write_scenarios(dir, 0.2);
    let (a, b) = (dir.join("a"), dir.join("b"));
    // Both measured `extra` (runs that share no point are refused); only box-a measured `speed`.
    run(dir, &a, &[&speed, &extra], &["--machine-label", "box-a"]);
    run(dir, &b, &[&extra], &["--machine-label", "box-b"]);

    let out = dir.join("across");
    let (text, across) = machines(&[a.as_os_str(), b.as_os_str()], &out);
    // The labels given at run time name the machines, here and in each run's own report.
    assert!(text.contains("| box-a |") && text.contains("| box-b |"), "{text}");
    let report = std::fs::read_to_string(b.join("report.md")).unwrap();
    assert!(report.contains("| machine | box-b: "), "{report}");

    let held = claim_row(&text, "at least 2× faster");
    assert!(held.contains("| held: ") && held.ends_with("| not judged | not judged on box-b |"), "{held}");
    assert!(!held.contains("**no**"), "a claim that held wherever it was judged is not a no: {held}");
    let failed = claim_row(&text, "at least 1000× faster");
    assert!(failed.ends_with("| **no** (not held on box-a; not judged on box-b) |"), "{failed}");
    let claims = across["claims"].as_array().unwrap();
    assert!(claims.iter().all(|c| c["everywhere"]["not_judged_on"] == serde_json::json!(["box-b"])), "{claims:?}");

    let checked = orchestrator(&[
        "machines".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--out".as_ref(),
        dir.join("across-check").as_os_str(),
        "--check".as_ref(),
    ]);
    assert_eq!(checked.status.code(), Some(1), "{}", show(&checked));
    let stderr = String::from_utf8_lossy(&checked.stderr);
    // Each claim at each of the scenario's two points.
    assert!(stderr.contains("2 claim(s) did not hold") && stderr.contains("2 more held wherever judged"), "{stderr}");
}

/// Two committed runs from genuinely different CPUs: the gallery's Zen 1 run, whose
/// environment.json predates the machine identity but has the machine's lscpu.txt beside it, and
/// the merged fixture run, with neither (labelled from what its environment.json holds: the
/// vendor in the CPU's name, 2 CPUs, its 32 MiB largest cache). Read where they are: `machines`
/// writes nothing into a run directory.
#[test]
fn committed_runs_from_two_different_cpus_are_told_apart() {
    let scratch = tempfile::Builder::new().prefix("machines-gallery-").tempdir().unwrap();
    let zen1 = root().join("docs/machines/zen1-2c-8m");
    let fixture = root().join("tests/fixtures/machines/epyc-vm-2vcpu");
    let (text, across) = machines(&[zen1.as_os_str(), fixture.as_os_str()], &scratch.path().join("across"));
    let labels: Vec<&str> = across["machines"].as_array().unwrap().iter().map(|m| m["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["zen1-2c-8m", "amd-2c-32m"]);
    let zen = &across["machines"][0]["identity"];
    assert_eq!((zen["vendor"].as_str(), zen["family"].as_u64(), zen["model"].as_u64()), (Some("AuthenticAMD"), Some(23), Some(1)));
    assert_eq!((zen["microarchitecture"].as_str(), zen["avx512f"].as_bool()), (Some("Zen"), Some(false)));
    assert_eq!((zen["hypervisor"].as_str(), zen["source"].as_str()), (Some("KVM"), Some("lscpu.txt beside the run")));
    assert!(zen["caches"].as_array().unwrap().iter().any(|c| c["level"] == 3 && c["size_bytes"] == 8 << 20), "{zen}");
    assert!(across["machines"][1]["identity"].is_null());
    assert!(text.contains("Zen (AuthenticAMD family 23 model 1 stepping 2); AVX2, FMA, no AVX-512F"), "{text}");
    // What starting a program costs there: the run's spawn floor; a CPUID's cost is newer than it.
    let zen1_row = text.lines().find(|l| l.starts_with("| zen1-2c-8m |")).unwrap_or_else(|| panic!("{text}"));
    assert!(zen1_row.contains("| `/bin/true` 641 µs; one CPUID not measured |"), "{zen1_row}");
    assert_eq!(across["machines"][0]["spawn_floor_seconds"].as_f64().map(|s| (s * 1e6).round()), Some(641.0));

    // The fixture is a --quick run: claims on absolute figures were not judged there.
    let row = claim_row(&text, "rust takes 0.3–0.8 ms");
    assert!(row.contains("| held: ") && row.ends_with("| not judged | not judged on amd-2c-32m |"), "{row}");
    assert!(text.contains("**seed · n=5 epochs=1000 lr=0.01**: rust against python-numpy: zen1-2c-8m 344×"), "{text}");

    // Named on the command line, a machine takes that name.
    let named = format!("zen5-2c-32m-avx512={}", fixture.display());
    let (_, across) = machines(&[named.as_ref(), zen1.as_os_str()], &scratch.path().join("named"));
    assert_eq!(across["machines"][0]["label"], "zen5-2c-32m-avx512");
    assert_eq!(across["machines"][1]["label"], "zen1-2c-8m");
}

/// A machine label must be a plain folder name; anything else is refused before anything runs.
#[test]
fn a_machine_label_that_is_not_a_plain_name_is_refused() {
    let scratch = tempfile::Builder::new().prefix("machines-label-").tempdir().unwrap();
    let dir = scratch.path();
    let (speed, _) = write_scenarios(dir, 0.02);
    let out = dir.join("run");
    let result = try_run(dir, &out, &[&speed], &["--machine-label", "../<b>x"]);
    assert_eq!(result.status.code(), Some(2), "{}", show(&result));
    assert!(String::from_utf8_lossy(&result.stderr).contains("machine label '../<b>x' is not usable"), "{}", show(&result));
    assert!(!out.join("raw.csv").exists(), "nothing ran");
    let given = orchestrator(&["machines".as_ref(), "a b=x".as_ref(), "y".as_ref(), "--out".as_ref(), dir.join("m").as_os_str()]);
    assert_eq!(given.status.code(), Some(2), "{}", show(&given));
}
