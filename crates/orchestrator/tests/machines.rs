//! `orchestrator machines`: full runs set side by side as if from different machines (here two
//! runs of this machine, and one with a scenario fewer), through the binary. Implementations are
//! the fixture-child binary: a quick one and one that sleeps, so the speed-up is certain.

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

fn write_scenarios(dir: &Path) -> (PathBuf, PathBuf) {
    // Named `rust` on purpose (the verdict compares rust with the baseline): it replaces the
    // catalogue's entry, which a definition must say.
    let quick = r#"{command: ["{bin_dir}/fixture-child", "result", "{n}", "{epochs}", "{learning_rate}"], override: true}"#;
    let slow = r#"{command: ["{bin_dir}/fixture-child", "sleep", "0.02"], protocol: none}"#;
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

fn run(dir: &Path, out: &Path, scenarios: &[&Path]) {
    let mut args: Vec<std::ffi::OsString> = vec!["run".into()];
    args.extend(scenarios.iter().map(|s| s.as_os_str().to_owned()));
    args.extend(["--no-probes", "--warmup", "0", "--repetitions", "5", "--results"].map(Into::into));
    args.push(dir.join("results").into());
    args.push("--out".into());
    args.push(out.into());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let result = orchestrator(&refs);
    assert!(result.status.success(), "{}", show(&result));
}

#[test]
fn runs_of_two_machines_are_set_side_by_side_with_their_claims_and_a_chart() {
    let scratch = tempfile::Builder::new().prefix("machines-").tempdir().unwrap();
    let dir = scratch.path();
    let (speed, extra) = write_scenarios(dir);
    let (a, b) = (dir.join("a"), dir.join("b"));
    run(dir, &a, &[&speed, &extra]);
    run(dir, &b, &[&speed]);

    let out = dir.join("across");
    let result = orchestrator(&["machines".as_ref(), a.as_os_str(), b.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    assert!(result.status.success(), "{}", show(&result));
    let text = std::fs::read_to_string(out.join("machines.md")).unwrap();
    // The same host twice: the labels are made unique.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    assert!(text.contains(&format!("{host}#1")) && text.contains(&format!("{host}#2")), "{text}");
    // The two runs do not share a plan (b has a scenario fewer), and that is said.
    assert!(text.contains("do not share one plan fingerprint"), "{text}");
    // Every point of the shared scenario, with both machines and their ratio.
    for label in ["n=10 epochs=10", "n=1000 epochs=10"] {
        assert!(text.contains(&format!("### speed · {label}")), "{label}: {text}");
        assert!(text.contains(&format!("**speed · {label} lr=0.01**: rust against slow")), "{label}: {text}");
    }
    assert!(text.contains(&format!("{host}#2 / {host}#1")), "{text}");
    assert!(text.contains("faster on every machine: **yes**"), "{text}");
    // The claim that cannot hold is said not to hold on every machine.
    assert!(text.contains("at least 1000× faster") && text.contains("**no**"), "{text}");
    // The scenario only one machine ran is named.
    assert!(text.contains("## Not on every machine") && text.contains("extra · n=3"), "{text}");
    let png = std::fs::read(out.join("charts/headline-speedup-by-machine.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("machines.json")).unwrap()).unwrap();
    assert_eq!(json["machines"].as_array().map(Vec::len), Some(2));

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
    assert!(headlines.iter().all(|h| h["faster_everywhere"] == true), "{headlines:?}");
}
