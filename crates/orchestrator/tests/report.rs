//! The report, `compare` and `--check` run as a user runs them (the real binary), on run
//! directories written here with known numbers: the report must show those numbers, the charts
//! must be real PNGs, and the exit codes must gate CI as documented.

use std::path::{Path, PathBuf};
use std::process::Command;

use orchestrator::measurement::{RawRecord, RunStatus};
use orchestrator::plan::{
    AccuracySettings, Claim, ImplementationPlan, Measure, MemoryRatioClaim, Order, Plan, PointPlan, ScenarioPlan, SpeedupClaim, TimeMetric,
};
use orchestrator::records::{self, CsvAppender};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orchestrator-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn implementation(name: &str) -> ImplementationPlan {
    ImplementationPlan {
        name: name.into(),
        description: String::new(),
        command: vec!["/bin/true".into()],
        env: Default::default(),
        unavailable: None,
        optional: false,
        protocol: Default::default(),
    }
}

fn plan(data: &Path, claims: Vec<Claim>) -> Plan {
    Plan {
        scenarios: vec![ScenarioPlan {
            name: "seed".into(),
            description: "A fixture.".into(),
            source_file: "seed.yaml".into(),
            baseline: "python-numpy".into(),
            implementations: vec![implementation("rust"), implementation("python-numpy")],
            points: vec![PointPlan {
                index: 0,
                label: "n=5 epochs=1000 lr=0.01".into(),
                n: 5,
                epochs: 1000,
                learning_rate: 0.01,
                data_path: data.to_path_buf(),
                data_description: "inline: 5 points".into(),
                skip: vec![],
            }],
            measure: Measure {
                warmup: 0,
                repetitions: 5,
                sample_interval_ms: 1,
                timeout_seconds: 10.0,
                order: Order::Interleaved,
                cpus: None,
                memory_limit_mb: None,
            },
            expect: claims,
            accuracy: AccuracySettings::default(),
            anatomy: Vec::new(),
        }],
    }
}

fn record(implementation: &str, repetition: u32, wall: f64, rss: u64) -> RawRecord {
    RawRecord {
        scenario: "seed".into(),
        point: 0,
        point_label: "n=5 epochs=1000 lr=0.01".into(),
        implementation: implementation.into(),
        repetition,
        status: RunStatus::Ok,
        exit_code: Some(0),
        signal: None,
        wall_seconds: Some(wall),
        user_seconds: Some(wall * 0.9),
        system_seconds: Some(wall * 0.05),
        peak_rss_bytes: Some(rss),
        peak_rss_exact: Some(true),
        minor_faults: Some(60),
        major_faults: Some(0),
        voluntary_switches: Some(1),
        involuntary_switches: Some(0),
        n: 5,
        epochs: 1000,
        learning_rate: 0.01,
        w: Some(1.9951803506719779),
        b: Some(0.01740046334100799),
        mse: Some(8.6e-5),
        epochs_run: Some(1000),
        diverged_at_epoch: None,
        load_seconds: Some(wall * 0.01),
        train_seconds: Some(wall * 0.1),
        threads: None,
        samples: 0,
        sampler_cpu_seconds: Some(1e-5),
        started_unix_seconds: 1.8e9,
        message: String::new(),
    }
}

/// A run directory: rust at 2.98 … 3.02 ms (median 3 ms) times `rust_scale`, numpy at 100 … 104 ms
/// (median 102 ms).
fn write_run(dir: &Path, rust_scale: f64, claims: Vec<Claim>) {
    let data = dir.join("seed.npy");
    linreg::Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().write_npy(&data).unwrap();
    records::write_json_atomic(&dir.join(records::PLAN_JSON), &plan(&data, claims)).unwrap();
    let mut rows = Vec::new();
    for k in 1..=5u32 {
        rows.push(record("rust", k, rust_scale * (2.97 + 0.01 * k as f64) * 1e-3, 2 << 20));
        rows.push(record("python-numpy", k, (99 + k) as f64 * 1e-3, 30 << 20));
    }
    CsvAppender::open(&dir.join(records::RAW_CSV)).unwrap().append(&rows).unwrap();
}

fn orchestrator(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .args(args)
        .arg("--root")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap()
}

fn speedup(at_least: f64, at_most: f64) -> Claim {
    Claim::Speedup(SpeedupClaim {
        faster: "rust".into(),
        than: "python-numpy".into(),
        at_least: Some(at_least),
        at_most: Some(at_most),
        metric: TimeMetric::Wall,
        point: None,
        source: None,
    })
}

#[test]
fn the_report_shows_the_measured_numbers_and_real_charts() {
    let dir = fresh_dir("render");
    write_run(&dir, 1.0, vec![speedup(3.0, 6.0)]);
    let out = orchestrator(&["report", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    // Medians: 3 ms and 102 ms; 102 / 3 = 34×; memory 30 MiB / 2 MiB = 15×.
    assert!(report.contains("| rust | 3.00 ms ["), "{report}");
    assert!(report.contains("| python-numpy | 102 ms ["), "{report}");
    assert!(report.contains("34.0× ["), "{report}");
    assert!(report.contains("15.0× ["), "{report}");
    assert!(report.contains("❌ not held"), "34× is not 3–6×: {report}");
    assert!(report.contains("1.995180350672"), "{report}");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    for column in [
        "scenario",
        "point",
        "implementation",
        "n",
        "epochs",
        "learning_rate",
        "runs",
        "failed",
        "status",
        "wall_median_s",
        "wall_ci_low_s",
        "wall_ci_high_s",
        "wall_mean_s",
        "wall_sd_s",
        "wall_min_s",
        "wall_max_s",
        "cpu_median_s",
        "peak_rss_median_bytes",
        "peak_rss_max_bytes",
        "load_median_s",
        "train_median_s",
        "startup_median_s",
        "ns_per_point_epoch",
        "w",
        "b",
        "mse",
        "w_ols",
        "b_ols",
        "speedup_vs_baseline",
        "memory_ratio_vs_baseline",
    ] {
        assert!(header.split(',').any(|c| c == column), "summary.csv lacks {column}: {header}");
    }
    assert!(summary.contains("seed,0,n=5 epochs=1000 lr=0.01,rust,5,1000,0.01,5,0,ok,0.003,"), "{summary}");
    // Every linked chart exists and is a 1200×800 PNG.
    let links: Vec<&str> =
        report.match_indices("](charts/").map(|(i, _)| &report[i + 2..i + 2 + report[i + 2..].find(')').unwrap()]).collect();
    assert!(links.len() >= 4, "{links:?}");
    for link in links {
        let bytes = std::fs::read(dir.join(link)).unwrap_or_else(|e| panic!("{link}: {e}"));
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{link}");
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((width, height), (1200, 800), "{link}");
    }
    // A re-render gives identical numbers (seeded bootstrap).
    let again = orchestrator(&["report", dir.to_str().unwrap()]);
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(dir.join("summary.csv")).unwrap(), summary);
}

#[test]
fn check_exits_1_only_when_a_claim_does_not_hold() {
    let holds = fresh_dir("check-holds");
    write_run(&holds, 1.0, vec![speedup(20.0, 60.0)]);
    let out = orchestrator(&["report", "--check", holds.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let fails = fresh_dir("check-fails");
    let memory = Claim::MemoryRatio(MemoryRatioClaim {
        leaner: "rust".into(),
        than: "python-numpy".into(),
        at_least: Some(100.0),
        at_most: None,
        point: None,
        source: None,
    });
    write_run(&fails, 1.0, vec![speedup(20.0, 60.0), memory]);
    let out = orchestrator(&["report", "--check", fails.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 claim(s) did not hold"));
}

#[test]
fn compare_exits_1_on_a_regression_and_0_without() {
    let old = fresh_dir("compare-old");
    write_run(&old, 1.0, vec![]);
    let same = fresh_dir("compare-same");
    write_run(&same, 1.0, vec![]);
    let slower = fresh_dir("compare-slower");
    write_run(&slower, 2.0, vec![]);
    let out = orchestrator(&["compare", old.to_str().unwrap(), same.to_str().unwrap(), "--threshold", "5%"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let out = orchestrator(&["compare", old.to_str().unwrap(), slower.to_str().unwrap(), "--threshold", "5%"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("REGRESSION") && text.contains("rust"), "{text}");
    assert!(!text.lines().any(|l| l.contains("python-numpy") && l.contains("REGRESSION")), "numpy did not change: {text}");
}

#[test]
fn a_directory_that_is_not_a_run_is_a_clear_error() {
    let dir = fresh_dir("not-a-run");
    let out = orchestrator(&["report", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plan.json") && stderr.lines().count() <= 3, "{stderr}");
}
