//! The probes that need the workspace's binaries: the sampler's cost, measured on the fixture
//! child's `spin` mode through the real runner. Correctness only; the figures are the probe's job.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use orchestrator::environment::probes::sampler_cost;
use orchestrator::measure::CancelToken;

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
    let cost = sampler_cost::measure_sampler_cost(Path::new(FIXTURE_CHILD), Duration::from_millis(1), 3, &CancelToken::new())
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
    let result = sampler_cost::measure_sampler_cost(Path::new("/bin/true"), Duration::from_millis(1), 1, &CancelToken::new());
    assert!(result.is_err(), "{result:?}");
}
