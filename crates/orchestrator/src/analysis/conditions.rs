//! The machine's conditions over a run, and what they explain. A program measured in two
//! scenarios of one run (the same command on the same data) should give one figure: its wall
//! times are compared, and where their CIs do not meet, the load average and the time of each
//! say what changed. Also the busiest the machine was, for the warning on the first screen.

use std::collections::{BTreeMap, HashMap};

use crate::analysis::index::{AtPoint, Grouped};
use crate::analysis::summary::RunSummary;
use crate::environment::Environment;
use crate::plan::{self, Plan};
use crate::stats;

/// One program's wall time at one scenario point, and the conditions it was measured in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measurement {
    pub scenario: String,
    /// The point's index in its scenario.
    pub point: usize,
    pub implementation: String,
    pub median_wall_seconds: f64,
    pub ci_low_seconds: f64,
    pub ci_high_seconds: f64,
    /// The median start of its counted runs (Unix seconds), when the rows say.
    pub at_unix_seconds: Option<f64>,
    /// The 1-minute load average when its scenario started and when it ended, when the run
    /// recorded them (environment.json `scenarios`).
    pub load_at_start: Option<f64>,
    pub load_at_end: Option<f64>,
}

/// The same command on the same data, measured at more than one scenario point of a run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Repeated {
    /// In the order the plan ran them.
    pub measurements: Vec<Measurement>,
}

impl Measurement {
    /// Whether the two wall-time CIs share a value.
    pub(crate) fn agrees_with(&self, other: &Measurement) -> bool {
        self.ci_low_seconds <= other.ci_high_seconds && other.ci_low_seconds <= self.ci_high_seconds
    }
}

/// Every command (argv and environment, data path and training settings filled in) measured at
/// more than one scenario point, its measurements compared. A command that cannot be filled in is
/// left out: it never ran. Each measurement's rows are looked up in `rows` and its command's group
/// in a map: a sent plan.json may hold 100 000 points, and searching every row (and every group)
/// for each of them made a report of 8 000 measured points take minutes.
pub(crate) fn repeated(plan: &Plan, summary: &RunSummary, rows: &Grouped<AtPoint>, environment: Option<&Environment>) -> Vec<Repeated> {
    type Key = (Vec<String>, BTreeMap<String, String>);
    let mut groups: Vec<Vec<Measurement>> = Vec::new();
    let mut group_of: HashMap<Key, usize> = HashMap::new();
    for (scenario, scenario_summary) in plan.scenarios.iter().zip(&summary.scenarios) {
        let conditions = environment.and_then(|e| e.scenarios.iter().find(|c| c.scenario == scenario.name));
        for (point, point_summary) in scenario.points.iter().zip(&scenario_summary.points) {
            for implementation in &scenario.implementations {
                let summary = point_summary.implementations.iter().find(|i| i.implementation == implementation.name);
                let (Some(wall), Ok(argv)) = (summary.and_then(|i| i.wall.as_ref()), plan::command_for(implementation, point)) else {
                    continue;
                };
                let starts: Vec<f64> = rows
                    .rows(&(&scenario.name, point.index, &implementation.name))
                    .iter()
                    .filter(|r| r.status.is_measurement() && r.started_unix_seconds > 0.0)
                    .map(|r| r.started_unix_seconds)
                    .collect();
                let measurement = Measurement {
                    scenario: scenario.name.clone(),
                    point: point.index,
                    implementation: implementation.name.clone(),
                    median_wall_seconds: wall.median,
                    ci_low_seconds: wall.ci_low,
                    ci_high_seconds: wall.ci_high,
                    at_unix_seconds: stats::median(&starts),
                    load_at_start: conditions.and_then(|c| c.load_average_start).map(|l| l[0]),
                    load_at_end: conditions.and_then(|c| c.load_average_end).map(|l| l[0]),
                };
                let group = *group_of.entry((argv, implementation.env.clone())).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[group].push(measurement);
            }
        }
    }
    groups.into_iter().filter(|measurements| measurements.len() > 1).map(|measurements| Repeated { measurements }).collect()
}

/// What says the machine was busy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LoadReading {
    /// The 1-minute load average at the run's start (runs that did not measure the share).
    RunStart,
    /// … or at its end.
    RunEnd,
    /// The share of every CPU's time that other processes used during the run.
    OtherWork,
}

/// The machine was busy: other processes used more than [`BUSY_OTHER_SHARE`] of its CPUs during
/// the run, or (for runs that did not measure that) its 1-minute load average reached more than
/// half its CPUs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BusyMachine {
    /// The load average, or the share of CPU time (0–1) with `LoadReading::OtherWork`.
    pub load_average: f64,
    pub cpus: usize,
    pub when: LoadReading,
}

/// Other processes' share of every CPU above which a run is said to have shared the machine: a
/// tenth of it takes a few percent off a measured program's time now and then.
pub(crate) const BUSY_OTHER_SHARE: f64 = 0.10;

/// Busy when other processes used more than [`BUSY_OTHER_SHARE`] of the CPUs during the run;
/// where that was not measured, the busier of the load averages at the run's start and end above
/// half the CPUs (a lagging figure: a build that ended a minute before still shows in it). Other
/// work shared the machine, so the intervals are wider than they would be on a quiet one.
pub(crate) fn busy_machine(e: &Environment) -> Option<BusyMachine> {
    if let Some(share) = e.other_cpu_share {
        return (share > BUSY_OTHER_SHARE).then_some(BusyMachine {
            load_average: share,
            cpus: e.logical_cpus,
            when: LoadReading::OtherWork,
        });
    }
    let start = (e.load_average_start[0], LoadReading::RunStart);
    let end = e.load_average_end.map(|l| (l[0], LoadReading::RunEnd));
    let (load_average, when) = end.filter(|(load, _)| *load > start.0).unwrap_or(start);
    (load_average > 0.5 * e.logical_cpus as f64).then_some(BusyMachine { load_average, cpus: e.logical_cpus, when })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{self, tests::row};
    use crate::environment::ScenarioConditions;
    use crate::plan::ImplementationPlan;
    use crate::records::{RawRecord, RunStatus};
    use crate::testutil;

    /// Scenarios "seed" and "startup" both running "python" on the same data; "rust" only in seed.
    fn two_scenarios() -> Plan {
        let one = |name: &str, implementations: &[&str]| {
            let implementations = implementations
                .iter()
                .map(|name| ImplementationPlan { command: vec![name.to_string(), "{data}".into()], ..testutil::implementation(name) })
                .collect();
            let plan =
                testutil::plan(implementations, "python", vec![testutil::point(0)], testutil::measure(5, crate::plan::Order::Interleaved));
            crate::plan::ScenarioPlan { name: name.into(), ..plan.scenarios[0].clone() }
        };
        Plan { scenarios: vec![one("seed", &["rust", "python"]), one("startup", &["python"])] }
    }

    fn rows(scenario: &str, implementation: &str, wall: f64, at: f64) -> Vec<RawRecord> {
        (1..=5)
            .map(|k| RawRecord {
                scenario: scenario.into(),
                started_unix_seconds: at + k as f64,
                ..row(implementation, k, RunStatus::Ok, wall * (1.0 + 0.001 * k as f64), 0.001, 0.01, 1)
            })
            .collect()
    }

    fn conditions(scenario: &str, start: f64, end: f64) -> ScenarioConditions {
        ScenarioConditions {
            scenario: scenario.into(),
            started_utc: "2026-01-01T00:00:00Z".into(),
            load_average_start: Some([start, 0.0, 0.0]),
            ended_utc: Some("2026-01-01T00:01:00Z".into()),
            load_average_end: Some([end, 0.0, 0.0]),
        }
    }

    #[test]
    fn a_program_measured_in_two_scenarios_is_compared_with_the_conditions_of_each() {
        let plan = two_scenarios();
        let mut records = rows("seed", "rust", 0.001, 1000.0);
        records.extend(rows("seed", "python", 0.080, 1000.0));
        records.extend(rows("startup", "python", 0.100, 1180.0));
        let environment =
            Environment { scenarios: vec![conditions("seed", 0.5, 0.9), conditions("startup", 2.0, 2.5)], ..Environment::default() };
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&records), Some(&environment));
        let found = repeated(&plan, &summary, &crate::analysis::index::by_point(&records), Some(&environment));
        assert_eq!(found.len(), 1, "only python runs twice: {found:?}");
        let (seed, startup) = (&found[0].measurements[0], &found[0].measurements[1]);
        assert!(!seed.agrees_with(startup), "80 ms and 100 ms with tight CIs disagree: {found:?}");
        assert_eq!((seed.scenario.as_str(), startup.scenario.as_str()), ("seed", "startup"));
        assert_eq!((seed.load_at_start, seed.load_at_end), (Some(0.5), Some(0.9)));
        assert_eq!((startup.load_at_start, startup.load_at_end), (Some(2.0), Some(2.5)));
        assert_eq!(startup.at_unix_seconds.zip(seed.at_unix_seconds).map(|(b, a)| b - a), Some(180.0));

        // The same figures within each other's CIs agree.
        let mut records = rows("seed", "python", 0.080, 1000.0);
        records.extend(rows("startup", "python", 0.080, 1180.0));
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&records), None);
        let found = repeated(&plan, &summary, &crate::analysis::index::by_point(&records), None);
        assert!(found[0].measurements[0].agrees_with(&found[0].measurements[1]), "{found:?}");
        assert_eq!(found[0].measurements[0].load_at_start, None, "no conditions recorded");
    }

    #[test]
    fn another_dataset_or_another_command_is_another_program() {
        let mut plan = two_scenarios();
        plan.scenarios[1].points[0].data_path = "other.npy".into();
        let mut records = rows("seed", "python", 0.080, 1000.0);
        records.extend(rows("startup", "python", 0.100, 1180.0));
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&records), None);
        assert_eq!(repeated(&plan, &summary, &crate::analysis::index::by_point(&records), None), vec![]);
        let mut plan = two_scenarios();
        plan.scenarios[1].implementations[0].command.push("--other".into());
        assert_eq!(repeated(&plan, &summary, &crate::analysis::index::by_point(&records), None), vec![]);
    }

    #[test]
    fn the_machine_is_busy_above_half_its_cpus_at_the_start_or_the_end() {
        let quiet = Environment {
            logical_cpus: 2,
            load_average_start: [0.4, 0.0, 0.0],
            load_average_end: Some([0.9, 0.0, 0.0]),
            ..Environment::default()
        };
        assert_eq!(busy_machine(&quiet), None);
        let busy_at_end = Environment { load_average_end: Some([2.5, 0.0, 0.0]), ..quiet.clone() };
        assert_eq!(busy_machine(&busy_at_end), Some(BusyMachine { load_average: 2.5, cpus: 2, when: LoadReading::RunEnd }));
        // Measured, the share of CPU time others used decides, whatever the lagging load says.
        let after_a_build = Environment { other_cpu_share: Some(0.02), ..busy_at_end.clone() };
        assert_eq!(busy_machine(&after_a_build), None);
        let shared = Environment { other_cpu_share: Some(0.3), ..quiet.clone() };
        assert_eq!(busy_machine(&shared), Some(BusyMachine { load_average: 0.3, cpus: 2, when: LoadReading::OtherWork }));
        let busy_at_start = Environment { load_average_start: [1.2, 0.0, 0.0], load_average_end: None, ..quiet };
        assert_eq!(busy_machine(&busy_at_start).map(|b| b.when), Some(LoadReading::RunStart));
    }
}
