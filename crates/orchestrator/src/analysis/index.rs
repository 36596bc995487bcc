//! The raw records grouped once, by a key such as (scenario, point, implementation), so that each
//! statistic reads its own group's rows rather than every row of the run: the analysis costs in
//! proportion to the rows, not to rows × points (a plan may hold a million runs). The groups keep
//! the order of the rows, and the keys the order they first appear in.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::records::RawRecord;

/// A scenario, a point's index in it, an implementation: the runs one summary describes.
pub(crate) type AtPoint<'a> = (&'a str, usize, &'a str);

/// The rows of each key, in the order of the rows.
pub(crate) struct Grouped<'a, K> {
    groups: HashMap<K, Vec<&'a RawRecord>>,
    keys: Vec<K>,
    /// Rows handed out by [`Grouped::rows`]: what the analysis read, for the tests of its cost.
    rows_read: AtomicUsize,
}

impl<'a, K: Hash + Eq + Copy> Grouped<'a, K> {
    /// Groups `records` by `key` (None: the row is left out), in one pass.
    pub(crate) fn new(records: &'a [RawRecord], key: impl Fn(&'a RawRecord) -> Option<K>) -> Self {
        let mut groups: HashMap<K, Vec<&'a RawRecord>> = HashMap::new();
        let mut keys = Vec::new();
        for record in records {
            let Some(k) = key(record) else { continue };
            groups
                .entry(k)
                .or_insert_with(|| {
                    keys.push(k);
                    Vec::new()
                })
                .push(record);
        }
        Grouped { groups, keys, rows_read: AtomicUsize::new(0) }
    }

    /// The rows of one key (none when there are none).
    pub(crate) fn rows(&self, key: &K) -> &[&'a RawRecord] {
        let rows = self.groups.get(key).map_or(&[][..], Vec::as_slice);
        self.rows_read.fetch_add(rows.len(), Ordering::Relaxed);
        rows
    }

    /// Every key, in the order its first row comes.
    pub(crate) fn keys(&self) -> &[K] {
        &self.keys
    }

    /// The rows handed out so far.
    #[cfg(test)]
    pub(crate) fn rows_read(&self) -> usize {
        self.rows_read.load(Ordering::Relaxed)
    }
}

/// The rows of every run directory's (scenario, point, implementation).
pub(crate) fn by_point(records: &[RawRecord]) -> Grouped<'_, AtPoint<'_>> {
    Grouped::new(records, |r| Some((r.scenario.as_str(), r.point, r.implementation.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{anatomy, claims, conditions, summary};
    use crate::plan::{Claim, Order};
    use crate::records::RunStatus;
    use crate::testutil;

    /// Issue 23, point 13: a report of 400 000 rows had not finished after 300 s, every statistic
    /// of every point reading every row of the run (rows × points). Now the rows are grouped
    /// once, and summaries, ratios, claims, anatomy and the programs measured twice (a program
    /// measured at every point: hostile round five, 8 000 points in 6 minutes) together read each
    /// row a fixed number of times, as many for 100 points as for 10 (reading every row at every
    /// point would read ten times as many a row at 100).
    #[test]
    fn the_analysis_reads_each_row_a_fixed_number_of_times_whatever_the_number_of_points() {
        let claim: Claim = serde_json::from_value(serde_json::json!({"speedup": {"faster": "a", "than": "b", "at_least": 1.0}})).unwrap();
        let mut reads_per_row = Vec::new();
        for points in [10, 100] {
            let implementations = vec![testutil::implementation("a"), testutil::implementation("b")];
            let mut plan =
                testutil::plan(implementations, "b", (0..points).map(testutil::point).collect(), testutil::measure(3, Order::Interleaved));
            plan.scenarios[0].expect = vec![claim.clone()];
            plan.scenarios[0].anatomy = vec![vec!["a".into(), "b".into()]];
            let records: Vec<RawRecord> = (0..points)
                .flat_map(|point| {
                    ["a", "b"].into_iter().flat_map(move |name| {
                        (1..=3).map(move |rep| RawRecord { point, ..summary::tests::row(name, rep, RunStatus::Ok, 0.001, 0.0, 0.0, 1) })
                    })
                })
                .collect();
            let grouped = by_point(&records);
            let summary = summary::summarise(&plan, &grouped, None);
            assert_eq!(claims::evaluate(&plan.scenarios[0], &summary.scenarios[0], &grouped, None).len(), points);
            anatomy::chains(&plan.scenarios[0], &summary.scenarios[0], &grouped);
            assert_eq!(conditions::repeated(&plan, &summary, &grouped, None).len(), 1, "a and b run one command, at every point");
            reads_per_row.push(grouped.rows_read() as f64 / records.len() as f64);
        }
        // Each implementation's rows: its summary, three ratios to the baseline (the baseline's
        // rows too), the claim's ratio, its start times; the anatomy's first point:
        // 3.5 + 3.5 + 1 + 1 + a little.
        assert!(reads_per_row.iter().all(|&reads| reads <= 10.0), "rows read per row: {reads_per_row:?}");
        assert!(reads_per_row[1] <= reads_per_row[0], "rows read per row grew with the points: {reads_per_row:?}");
    }
}
