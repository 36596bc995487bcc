//! Builders of plans and raw records for the unit tests, defined once: a test takes the defaults
//! and changes what it is about with struct update syntax (`RawRecord { wall_seconds: …, ..record(…) }`).

use std::collections::BTreeMap;

use crate::analysis::{summary::RunSummary, Analysis};
use crate::plan::{AccuracySettings, ImplementationPlan, Measure, Order, Plan, PointPlan, ScenarioPlan};
use crate::records::{RawRecord, RunStatus};

/// The label of [`point`]: the write-up's case.
pub(crate) const SEED_LABEL: &str = "n=5 epochs=1000 lr=0.01";

/// An available implementation that runs /bin/true.
pub(crate) fn implementation(name: &str) -> ImplementationPlan {
    ImplementationPlan {
        name: name.into(),
        description: String::new(),
        command: vec!["/bin/true".into()],
        env: BTreeMap::new(),
        unavailable: None,
        optional: false,
        protocol: Default::default(),
        pending: None,
    }
}

/// The write-up's case (5 points, 1000 epochs, learning rate 0.01) as point `index`.
pub(crate) fn point(index: usize) -> PointPlan {
    PointPlan {
        index,
        label: SEED_LABEL.into(),
        n: 5,
        epochs: 1000,
        learning_rate: 0.01,
        data_path: "d.npy".into(),
        data_description: String::new(),
        skip: vec![],
        reference: None,
        fits: BTreeMap::new(),
    }
}

/// No warm-up, `repetitions` runs in `order`, 1 ms sampling, a 10 s timeout, no limits.
pub(crate) fn measure(repetitions: u32, order: Order) -> Measure {
    Measure {
        warmup: 0,
        repetitions,
        sample_interval_ms: 1,
        sample_interval_max_ms: None,
        timeout_seconds: 10.0,
        order,
        cpus: None,
        memory_limit_mb: None,
    }
}

/// A one-scenario plan, scenario "s" (from s.yaml) of these implementations at these points.
pub(crate) fn plan(implementations: Vec<ImplementationPlan>, baseline: &str, points: Vec<PointPlan>, measure: Measure) -> Plan {
    Plan {
        scenarios: vec![ScenarioPlan {
            name: "s".into(),
            description: String::new(),
            source_file: "s.yaml".into(),
            baseline: baseline.into(),
            implementations,
            points,
            measure,
            expect: vec![],
            accuracy: AccuracySettings::default(),
            anatomy: Vec::new(),
            highlight: Vec::new(),
        }],
    }
}

/// An ok run of scenario "s", point 0 ([`point`]) by `implementation`: 1 ms wall, the write-up's
/// fit after 1000 epochs, a 1 MB peak.
pub(crate) fn record(implementation: &str, repetition: u32) -> RawRecord {
    RawRecord {
        scenario: "s".into(),
        point: 0,
        point_label: SEED_LABEL.into(),
        implementation: implementation.into(),
        repetition,
        status: RunStatus::Ok,
        exit_code: Some(0),
        signal: None,
        wall_seconds: Some(0.001),
        user_seconds: Some(0.0008),
        system_seconds: Some(0.0001),
        peak_rss_bytes: Some(1_000_000),
        peak_rss_exact: Some(true),
        minor_faults: Some(60),
        major_faults: Some(0),
        voluntary_switches: Some(1),
        involuntary_switches: Some(0),
        anon_bytes: None,
        anon_huge_pages_bytes: None,
        n: 5,
        epochs: 1000,
        learning_rate: 0.01,
        w: Some(1.995180350672),
        b: Some(0.017400463341),
        mse: Some(1e-4),
        epochs_run: Some(1000),
        diverged_at_epoch: None,
        load_seconds: Some(1e-5),
        train_seconds: Some(2e-6),
        threads: None,
        prefetching_threads: None,
        fits: None,
        fit_first_seconds: None,
        fit_warm_min_seconds: None,
        fit_warm_median_seconds: None,
        fit_warm_p99_seconds: None,
        fit_warm_max_seconds: None,
        fit_warm_mean_seconds: None,
        device: None,
        one_off_wall_seconds: None,
        one_off_status: None,
        samples: 0,
        sampler_cpu_seconds: None,
        started_unix_seconds: 0.0,
        message: String::new(),
    }
}

/// An analysis of `plan` with `summary` and nothing else: no environment, no rows, no claims.
pub(crate) fn analysis(plan: Plan, summary: RunSummary) -> Analysis {
    Analysis {
        plan,
        environment: None,
        environment_problem: None,
        samples_problem: None,
        summary,
        accuracy: vec![],
        claims: vec![],
        anatomy: vec![],
        repeated: vec![],
        records: vec![],
        samples: vec![],
        cut_short: vec![],
        unplanned: vec![],
        set_aside: vec![],
    }
}
