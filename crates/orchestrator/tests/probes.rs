//! The probes that need the workspace's binaries: the sampler's cost, measured on the fixture
//! child's `spin` mode through the real runner. Correctness only; the figures are the probe's job.

use std::path::Path;
use std::process::Command;

use orchestrator::environment::probes::sampler_cost;
use orchestrator::measure::{CancelToken, Sampling};

const FIXTURE_CHILD: &str = env!("CARGO_BIN_EXE_fixture-child");

#[test]
fn spin_does_its_work_on_every_thread_and_prints_its_seconds() {
    let out = Command::new(FIXTURE_CHILD).args(["spin", "2", "1000", "10"]).output().expect("the fixture runs");
    assert!(out.status.success(), "{out:?}");
    let seconds: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("a number of seconds");
    assert!(seconds.is_finite() && seconds > 0.0, "{seconds}");
    let refused = Command::new(FIXTURE_CHILD).args(["spin", "0", "1000", "10"]).output().expect("the fixture runs");
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn the_sampler_cost_is_a_median_of_paired_runs() {
    let cost = sampler_cost::measure_sampler_cost(Path::new(FIXTURE_CHILD), Sampling::default(), 3, &CancelToken::new())
        .expect("the busy child runs");
    assert_eq!(cost.pairs.len(), 3);
    assert_eq!((cost.default_interval_ms, cost.sparse_interval_ms), (1.0, 100.0));
    assert_eq!(cost.command[1..3], ["spin".to_string(), cost.threads.to_string()]);
    for pair in &cost.pairs {
        assert!(pair.default_seconds > 0.0 && pair.sparse_seconds > 0.0, "{pair:?}");
    }
    let mut ratios: Vec<f64> = cost.pairs.iter().map(|p| p.ratio()).collect();
    ratios.sort_by(f64::total_cmp);
    assert_eq!(cost.median_ratio, ratios[1]);
}

#[test]
fn a_child_that_is_not_the_fixture_is_an_error() {
    let result = sampler_cost::measure_sampler_cost(Path::new("/bin/true"), Sampling::default(), 1, &CancelToken::new());
    assert!(result.is_err(), "{result:?}");
}

/// `orchestrator limit N`: one JSON line for one thread and one for all (on more than one CPU),
/// each limit the slower of the bandwidth's best sample and the arithmetic; too few points to time
/// is one clear error, exit 2. The figures are a debug build's: only their relations are checked.
#[test]
fn the_limit_command_prints_the_limit_of_each_point_for_one_thread_and_for_all() {
    let out = Command::new(env!("CARGO_BIN_EXE_orchestrator")).args(["limit", "4096", "20000"]).output().expect("the orchestrator runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    let cpus = linreg::default_threads().get();
    // All threads only where every one gets a few blocks of 64 points (4 096 points: up to 16 CPUs).
    let shared = |points: usize| usize::from(cpus > 1 && points >= cpus * 256);
    assert_eq!(lines.len(), 2 + shared(4096) + shared(20000), "{lines:?}");
    for line in &lines {
        let number = |key: &str| line[key].as_f64().unwrap_or_else(|| panic!("{key} in {line}"));
        assert!([4096, 20000].contains(&line["points"].as_u64().unwrap()), "{line}");
        assert!([1, cpus as u64].contains(&line["threads"].as_u64().unwrap()), "{line}");
        let (best, median, worst) = (number("bandwidth_ns_best"), number("bandwidth_ns_median"), number("bandwidth_ns_worst"));
        assert!(best > 0.0 && best <= median && median <= worst, "{line}");
        let compute = number("compute_ns");
        let limit = number("limit_ns");
        // Several threads are never held to less than one thread showed (the report's rule), so
        // the limit may be faster than this thread count's own probe, never slower.
        assert!(limit >= compute && limit <= best.max(compute), "{line}");
        assert_eq!(line["bound"], if limit == compute { "compute" } else { "bandwidth" }, "{line}");
        assert!(line.get("kernel_loop").is_none(), "only asked for: {line}");
        // All threads' arithmetic over one thread's, on the all-threads lines alone.
        match line["threads"].as_u64() {
            Some(1) => assert!(line.get("compute_speedup").is_none() && line.get("cpus_at_once").is_none(), "{line}"),
            _ => assert!(number("compute_speedup") > 0.0 && line["cpus_at_once"].is_boolean(), "{line}"),
        }
    }

    let too_few = Command::new(env!("CARGO_BIN_EXE_orchestrator")).args(["limit", "10"]).output().expect("the orchestrator runs");
    assert_eq!(too_few.status.code(), Some(2));
    let message = String::from_utf8_lossy(&too_few.stderr);
    assert!(message.contains("10 points: too few"), "{message}");

    // More points than any buffer holds, up to the largest a u64 says: a message, not a panic.
    for huge in [u64::MAX.to_string(), (1u64 << 63).to_string(), (u64::MAX / 16).to_string()] {
        let out = Command::new(env!("CARGO_BIN_EXE_orchestrator")).args(["limit", &huge]).output().expect("the orchestrator runs");
        let message = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{message}");
        assert!(message.contains("more than one buffer can hold") && !message.contains("panicked"), "{message}");
    }
}

/// `orchestrator limit --kernel-loop N`: each line also holds the kernels' loop timed against the
/// probe's on its threads, in pairs, with the ratio inside its own range. A debug build's figures:
/// only their relations are checked.
#[test]
fn the_limit_command_times_the_kernels_loop_against_the_probes_when_asked() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_orchestrator")).args(["limit", "--kernel-loop", "8192"]).output().expect("the orchestrator runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    let cpus = linreg::default_threads().get();
    // One line for one thread, one for all where 8 192 points give every thread a few blocks.
    assert_eq!(lines.len(), if cpus > 1 && 8192 >= cpus * 256 { 2 } else { 1 }, "{lines:?}");
    for line in &lines {
        let loops = &line["kernel_loop"];
        let number = |key: &str| loops[key].as_f64().unwrap_or_else(|| panic!("{key} in {line}"));
        assert_eq!(loops["threads"], line["threads"], "{line}");
        assert_eq!(loops["pairs"].as_u64(), Some(8), "{line}");
        assert!(["avx512", "avx2-fma", "portable"].contains(&loops["instruction_set"].as_str().unwrap_or_default()), "{line}");
        assert!(number("probe_loop_ns_median") > 0.0 && number("kernel_loop_ns_median") > 0.0, "{line}");
        let (low, median, high) = (number("kernel_over_probe_min"), number("kernel_over_probe_median"), number("kernel_over_probe_max"));
        assert!(0.0 < low && low <= median && median <= high && high.is_finite(), "{line}");
    }
}

/// `orchestrator limit --spells SECONDS N`: each line also holds the two loops timed pass by pass
/// on its threads, free-running, with the share of pairs the host slowed; a bad number of seconds
/// is one message and exit 2. A debug build's figures: only their relations are checked.
#[test]
fn the_limit_command_times_the_loops_pass_by_pass_when_asked() {
    let run =
        |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_orchestrator")).arg("limit").args(args).output().expect("the orchestrator runs");
    let out = run(&["--spells", "0.05", "8192"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let spells = &line["spells"];
        let number = |key: &str| spells[key].as_f64().unwrap_or_else(|| panic!("{key} in {line}"));
        assert_eq!(spells["threads"], line["threads"], "{line}");
        assert!(line.get("kernel_loop").is_none(), "only asked for the spells: {line}");
        assert!(number("pairs") >= number("threads") && number("passes_per_timing") >= 1.0, "{line}");
        assert!(number("probe_ns_fastest") > 0.0 && number("kernel_ns_fastest") > 0.0, "{line}");
        assert!(number("kernel_over_probe_median") > 0.0 && number("kernel_over_probe_overall") > 0.0, "{line}");
        assert!((0.0..=1.0).contains(&number("slowed_share")), "{line}");
    }
    for bad in ["0", "-2", "soon"] {
        let out = run(&[&format!("--spells={bad}"), "8192"]);
        let message = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{message}");
        assert!(message.contains(&format!("'{bad}'")) && message.contains("--spells") && !message.contains("panicked"), "{message}");
    }
}

/// A run that probes its points measures each one right before its first run and again after its
/// last, before the next point starts, and holds it to the union of both: environment.json keeps
/// both probes, and the report says so under the point's phases table.
#[test]
fn each_point_is_probed_before_its_first_run_and_after_its_last() {
    let dir = tempfile::Builder::new().prefix("probes-").tempdir().expect("a temporary directory");
    let scenario = dir.path().join("bracketed.yaml");
    let text = "name: bracketed\ndataset: {generate: {n: 2048, slope: 2, intercept: 0.5, noise: 0.1, seed: 5}}\n\
                training: {epochs: 10, learning_rate: 0.01}\nimplementations: [fixture]\nbaseline: fixture\n\
                sweep: [{n: 2048}, {n: 4096}, {n: 100}]\ndefine:\n  \
                fixture: {command: [\"{bin_dir}/fixture-child\", \"result\", \"{n}\", \"{epochs}\", \"{learning_rate}\"]}\n";
    std::fs::write(&scenario, text).unwrap();
    let out = dir.path().join("run");
    let status = Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .args(["--probe-array-mib", "16", "--warmup", "0", "--repetitions", "2"])
        .output()
        .expect("the orchestrator runs");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let environment: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("environment.json")).unwrap()).expect("environment.json");
    let probes = environment["point_bandwidth"].as_array().expect("point_bandwidth");
    // n = 100 is below the probed size: two points, one record each.
    assert_eq!(probes.iter().map(|p| p["point"].as_u64().unwrap()).collect::<Vec<_>>(), [0, 1], "{probes:?}");
    for probe in probes {
        let both = probe["probes"].as_array().unwrap_or_else(|| panic!("two probes: {probe}"));
        assert_eq!(both.len(), 2, "{probe}");
        assert!(probe["measured_after_utc"].is_string(), "{probe}");
        let best = |p: &serde_json::Value| p["single_thread"]["bytes_per_second"]["best"].as_f64().unwrap();
        assert_eq!(best(probe), best(&both[0]).max(best(&both[1])), "the limit is the better probe's: {probe}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_eq!(report.matches("measured right before its first run and again after its last").count(), 2, "{report}");

    // Where the data lies is recorded as linreg decides it on this machine, and said in the
    // environment table; these points' buffers (32 and 64 KiB) are below any L2's third.
    assert!(environment.get("whole_pages").is_some(), "recorded, as null where there are no huge pages");
    let recorded: Option<linreg::placement::WholePages> = serde_json::from_value(environment["whole_pages"].clone()).expect("whole_pages");
    assert_eq!(recorded, linreg::placement::whole_pages());
    assert!(report.contains("| data placement | "), "{report}");
    assert_eq!(report.contains("every buffer on 4 KiB pages"), recorded.is_none(), "{report}");
    assert!(!report.contains("on whole huge pages as the kernels' data"), "{report}");

    // The machine's probes also time a CPUID (x86_64 only), and the environment table says so.
    let cpuid = &environment["cpuid_cost"];
    if cfg!(target_arch = "x86_64") {
        let median = cpuid["median_seconds"].as_f64().unwrap_or_else(|| panic!("a CPUID's cost: {cpuid}"));
        assert!(median > 0.0 && cpuid["best_seconds"].as_f64().unwrap() <= median, "{cpuid}");
        let row = report.lines().find(|l| l.starts_with("| one CPUID instruction | ")).unwrap_or_else(|| panic!("{report}"));
        assert!(row.contains("batches of 100 calls of leaf 4") && row.contains("exits to the hypervisor"), "{row}");
    } else {
        assert!(cpuid.is_null() && !report.contains("| one CPUID instruction |"), "{cpuid}");
    }
}
