//! Rows of raw.csv that the plan does not name — a scenario, point or implementation it lacks (a
//! raw.csv edited or put together by hand, a plan.json edited after the run): left out of every
//! statistic, and counted here so that the report and the command say so instead of dropping them
//! without a word.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::Plan;
use crate::records::RawRecord;

/// The rows of one scenario, point and implementation that the plan does not name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unplanned {
    pub scenario: String,
    pub point: usize,
    pub implementation: String,
    pub rows: usize,
    pub lacks: Lacks,
}

/// What the plan lacks for those rows: their scenario, their point, or (at a point it has) their
/// implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lacks {
    Scenario,
    Point,
    Implementation,
}

impl Lacks {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Lacks::Scenario => "scenario",
            Lacks::Point => "point",
            Lacks::Implementation => "implementation",
        }
    }
}

impl std::fmt::Display for Unplanned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "raw.csv has {} row(s) of implementation {:?} at scenario {:?} point {}, but the plan has no such {}: left out of the report",
            self.rows,
            self.implementation,
            self.scenario,
            self.point,
            self.lacks.as_str()
        )
    }
}

/// Every group of rows the plan does not name, in the order of their names.
pub(crate) fn unplanned(plan: &Plan, records: &[RawRecord]) -> Vec<Unplanned> {
    let points: BTreeSet<(&str, usize)> =
        plan.scenarios.iter().flat_map(|s| s.points.iter().map(move |p| (s.name.as_str(), p.index))).collect();
    let implementations: BTreeSet<(&str, &str)> =
        plan.scenarios.iter().flat_map(|s| s.implementations.iter().map(move |i| (s.name.as_str(), i.name.as_str()))).collect();
    let mut groups: BTreeMap<(&str, usize, &str), Unplanned> = BTreeMap::new();
    for row in records {
        let lacks = if !plan.scenarios.iter().any(|s| s.name == row.scenario) {
            Lacks::Scenario
        } else if !points.contains(&(row.scenario.as_str(), row.point)) {
            Lacks::Point
        } else if !implementations.contains(&(row.scenario.as_str(), row.implementation.as_str())) {
            Lacks::Implementation
        } else {
            continue;
        };
        let group = groups.entry((&row.scenario, row.point, &row.implementation)).or_insert_with(|| Unplanned {
            scenario: row.scenario.clone(),
            point: row.point,
            implementation: row.implementation.clone(),
            rows: 0,
            lacks,
        });
        group.rows += 1;
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Order;
    use crate::testutil;

    #[test]
    fn rows_of_what_the_plan_lacks_are_grouped_and_named() {
        let plan =
            testutil::plan(vec![testutil::implementation("rust")], "rust", vec![testutil::point(0)], testutil::measure(1, Order::Grouped));
        let rows = vec![
            testutil::record("rust", 1),
            testutil::record("julia", 1),
            testutil::record("julia", 2),
            RawRecord { point: 7, ..testutil::record("rust", 1) },
            RawRecord { scenario: "ghost".into(), ..testutil::record("rust", 1) },
        ];
        let found: Vec<(String, usize, String, usize, Lacks)> =
            unplanned(&plan, &rows).into_iter().map(|u| (u.scenario, u.point, u.implementation, u.rows, u.lacks)).collect();
        assert_eq!(
            found,
            vec![
                ("ghost".into(), 0, "rust".into(), 1, Lacks::Scenario),
                ("s".into(), 0, "julia".into(), 2, Lacks::Implementation),
                ("s".into(), 7, "rust".into(), 1, Lacks::Point),
            ]
        );
        assert!(unplanned(&plan, &rows[..1]).is_empty());
    }
}
