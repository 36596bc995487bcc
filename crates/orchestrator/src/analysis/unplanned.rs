//! Rows of raw.csv that the plan does not name — a scenario, point or implementation it lacks, a
//! repetition past the plan's count, a point measured with another n, epochs or learning rate
//! than the plan's, a measured run of another number of fits than the plan asked of it (a raw.csv
//! edited or put together by hand, a plan.json edited after the run):
//! left out of every statistic, and counted here so that the report and the command say so instead
//! of counting or dropping them without a word.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::Plan;
use crate::records::{RawRecord, RunStatus};

/// The rows of one scenario, point and implementation that the plan does not name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unplanned {
    pub scenario: String,
    pub point: usize,
    pub implementation: String,
    pub rows: usize,
    pub lacks: Lacks,
}

/// What the plan lacks for those rows: their scenario, their point, (at a point it has) their
/// implementation, their repetition (0 but for the one row of an implementation that could not
/// be prepared, or past the plan's count: seven rows of a run planned
/// with two would move its median), their point's n, epochs and learning rate (the plan's point
/// is another measurement), or, for a run that measured, its number of fits (`--fits K` as the
/// plan asked, or none or 1 where it asked for none: a run of 101 fits beside runs of 10 would
/// lend the point a p99 the others do not have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lacks {
    Scenario,
    Point,
    Implementation,
    Repetition,
    Setup,
    Fits,
}

impl Lacks {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Lacks::Scenario => "scenario",
            Lacks::Point => "point",
            Lacks::Implementation => "implementation",
            Lacks::Repetition => "repetition",
            Lacks::Setup => "point with the rows' n, epochs and learning rate",
            Lacks::Fits => "run of the rows' number of fits there (it asks another --fits K)",
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

/// What the plan names, indexed for a test a row.
struct Planned<'a> {
    /// Each scenario's planned repetitions.
    repetitions: BTreeMap<&'a str, u32>,
    /// Each point's (n, epochs, learning rate's bits).
    points: BTreeMap<(&'a str, usize), (u64, u64, u64)>,
    /// Each point's `--fits K` by implementation.
    fits: BTreeMap<(&'a str, usize), &'a BTreeMap<String, u64>>,
    implementations: BTreeSet<(&'a str, &'a str)>,
}

impl<'a> Planned<'a> {
    fn new(plan: &'a Plan) -> Planned<'a> {
        Planned {
            repetitions: plan.scenarios.iter().map(|s| (s.name.as_str(), s.measure.repetitions)).collect(),
            points: plan
                .scenarios
                .iter()
                .flat_map(|s| s.points.iter().map(move |p| ((s.name.as_str(), p.index), (p.n, p.epochs, p.learning_rate.to_bits()))))
                .collect(),
            fits: plan.scenarios.iter().flat_map(|s| s.points.iter().map(move |p| ((s.name.as_str(), p.index), &p.fits))).collect(),
            implementations: plan
                .scenarios
                .iter()
                .flat_map(|s| s.implementations.iter().map(move |i| (s.name.as_str(), i.name.as_str())))
                .collect(),
        }
    }

    /// What the plan lacks for `row`; None when it names the row's run.
    fn lacks(&self, row: &RawRecord) -> Option<Lacks> {
        let Some(&repetitions) = self.repetitions.get(row.scenario.as_str()) else { return Some(Lacks::Scenario) };
        let Some(&setup) = self.points.get(&(row.scenario.as_str(), row.point)) else { return Some(Lacks::Point) };
        if !self.implementations.contains(&(row.scenario.as_str(), row.implementation.as_str())) {
            Some(Lacks::Implementation)
        } else if !((1..=repetitions).contains(&row.repetition)
            || (row.repetition == 0 && matches!(row.status, RunStatus::Unavailable | RunStatus::Interrupted)))
        {
            Some(Lacks::Repetition)
        } else if setup != (row.n, row.epochs, row.learning_rate.to_bits()) {
            Some(Lacks::Setup)
        } else if row.status.is_measurement() && row.fits.filter(|&k| k != 1) != self.asked_fits(row) {
            Some(Lacks::Fits)
        } else {
            None
        }
    }

    /// The fits the plan asked of the row's implementation at its point; None for none or one
    /// (a run of one fit may say so or not).
    fn asked_fits(&self, row: &RawRecord) -> Option<u64> {
        let fits = self.fits.get(&(row.scenario.as_str(), row.point))?;
        fits.get(&row.implementation).copied().filter(|&k| k != 1)
    }
}

/// `records` parted: the rows the plan names (in their order), the ones the statistics count; and
/// every group of the others, in the order of their names. One test a row, for the report and
/// `compare` alike.
pub(crate) fn split(plan: &Plan, records: Vec<RawRecord>) -> (Vec<RawRecord>, Vec<Unplanned>) {
    let planned = Planned::new(plan);
    let mut groups: BTreeMap<(String, usize, String, Lacks), Unplanned> = BTreeMap::new();
    let mut named = Vec::with_capacity(records.len());
    for row in records {
        let Some(lacks) = planned.lacks(&row) else {
            named.push(row);
            continue;
        };
        let group = groups.entry((row.scenario.clone(), row.point, row.implementation.clone(), lacks)).or_insert_with(|| Unplanned {
            scenario: row.scenario.clone(),
            point: row.point,
            implementation: row.implementation.clone(),
            rows: 0,
            lacks,
        });
        group.rows += 1;
    }
    (named, groups.into_values().collect())
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
            RawRecord { repetition: 2, ..testutil::record("rust", 1) },
            RawRecord { repetition: 0, ..testutil::record("rust", 1) },
            RawRecord { n: 999, ..testutil::record("rust", 1) },
            RawRecord { fits: Some(101), ..testutil::record("rust", 1) },
        ];
        let (named, unplanned) = split(&plan, rows.clone());
        assert_eq!(named, rows[..1], "only the planned run is counted");
        let found: Vec<(String, usize, String, usize, Lacks)> =
            unplanned.into_iter().map(|u| (u.scenario, u.point, u.implementation, u.rows, u.lacks)).collect();
        assert_eq!(
            found,
            vec![
                ("ghost".into(), 0, "rust".into(), 1, Lacks::Scenario),
                ("s".into(), 0, "julia".into(), 2, Lacks::Implementation),
                ("s".into(), 0, "rust".into(), 2, Lacks::Repetition),
                ("s".into(), 0, "rust".into(), 1, Lacks::Setup),
                ("s".into(), 0, "rust".into(), 1, Lacks::Fits),
                ("s".into(), 7, "rust".into(), 1, Lacks::Point),
            ]
        );
        assert!(split(&plan, rows[..1].to_vec()).1.is_empty());
        // Where the plan asked for 10 fits: a run of 10 is counted, one of 101 is not, nor one
        // without fits; a run that failed has no line to count its fits by.
        let mut asked = plan.clone();
        asked.scenarios[0].points[0].fits.insert("rust".into(), 10);
        let of = |fits: Option<u64>, status: RunStatus| RawRecord { fits, status, ..testutil::record("rust", 1) };
        for (row, counted) in [
            (of(Some(10), RunStatus::Ok), true),
            (of(Some(101), RunStatus::Ok), false),
            (of(None, RunStatus::Diverged), false),
            (of(None, RunStatus::Failed), true),
        ] {
            assert_eq!(split(&asked, vec![row.clone()]).1.is_empty(), counted, "{row:?}");
        }
        assert!(split(&plan, vec![of(Some(1), RunStatus::Ok)]).1.is_empty(), "one fit, said or not");
        // A warm-up cut short by Ctrl-C is written as repetition 0, as an unavailable row is: the
        // run's own record, not a row the plan lacks.
        let warmup_cut = RawRecord { repetition: 0, status: RunStatus::Interrupted, ..testutil::record("rust", 1) };
        assert!(split(&plan, vec![warmup_cut]).1.is_empty(), "an interrupted warm-up is the plan's");
    }
}
