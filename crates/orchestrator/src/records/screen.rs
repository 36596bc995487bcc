//! The rows of raw.csv read back that no statistic may count, though each value in them is
//! possible: a second row of one run (raw.csv copied into itself, or shards concatenated by hand:
//! counted twice, it would narrow every CI and no one would know), and a run whose times cannot
//! be true together (load + train beyond the wall time: a start-up of −2e300 s). A live run never
//! writes either (a run is one row; its times are checked as it ends, records::check), so such a
//! row was written or edited by hand: the first row of a run is kept, the others and the
//! implausible ones are set aside and named, never dropped without a word.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::check::ImpossibleValue;
use super::RawRecord;

/// A row of raw.csv left out of every statistic, and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetAside {
    pub path: PathBuf,
    /// 1-based, the header being line 1.
    pub line: u64,
    /// Its place among the file's rows.
    pub index: usize,
    pub scenario: String,
    pub point: usize,
    pub implementation: String,
    pub repetition: u32,
    pub why: Why,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Why {
    /// The run already has a row, at `first_line`; `identical` when this one is a copy of it.
    Duplicate { first_line: u64, identical: bool },
    /// Its times cannot be true together.
    Implausible(ImpossibleValue),
}

impl SetAside {
    /// Which row, of which run, and what is wrong with it: "…/raw.csv: line 8: a copy of line 2
    /// (scenario "seed" point 0 implementation "rust" repetition 1)".
    pub(crate) fn described(&self) -> String {
        let run = format!(
            "scenario {:?} point {} implementation {:?} repetition {}",
            self.scenario, self.point, self.implementation, self.repetition
        );
        let what = match &self.why {
            Why::Duplicate { first_line, identical: true } => format!("a copy of line {first_line}"),
            Why::Duplicate { first_line, identical: false } => format!("another row of the run of line {first_line}"),
            Why::Implausible(problem) => problem.to_string(),
        };
        format!("{}: line {}: {what} ({run})", self.path.display(), self.line)
    }
}

impl std::fmt::Display for SetAside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let consequence = match self.why {
            Why::Duplicate { .. } => "each run counts once: the first row is kept, this one left out",
            Why::Implausible(_) => "left out of every statistic",
        };
        write!(f, "{}: {consequence}", self.described())
    }
}

/// The rows of `rows` (read from `path`, row k at line `lines[k]`) to set aside, in file order.
/// A run is its scenario, point, implementation and repetition (an `unavailable` row is repetition
/// 0, one a point): its first row is kept, unless its times are implausible.
pub(crate) fn set_aside(path: &Path, rows: &[RawRecord], lines: &[u64]) -> Vec<SetAside> {
    let mut first_of: HashMap<(&str, usize, &str, u32), usize> = HashMap::new();
    let mut out = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let line = |k: usize| lines.get(k).copied().unwrap_or(0);
        let run = (row.scenario.as_str(), row.point, row.implementation.as_str(), row.repetition);
        let why = match first_of.get(&run) {
            Some(&first) => Why::Duplicate { first_line: line(first), identical: rows[first] == *row },
            None => {
                first_of.insert(run, index);
                match row.implausible_times() {
                    Some(problem) => Why::Implausible(problem),
                    None => continue,
                }
            }
        };
        out.push(SetAside {
            path: path.to_owned(),
            line: line(index),
            index,
            scenario: row.scenario.clone(),
            point: row.point,
            implementation: row.implementation.clone(),
            repetition: row.repetition,
            why,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil;

    #[test]
    fn a_runs_second_row_and_implausible_times_are_set_aside_the_first_row_kept() {
        let one = testutil::record("rust", 1);
        let rows = vec![
            one.clone(),
            testutil::record("rust", 2),
            one.clone(),
            RawRecord { wall_seconds: Some(9.0), ..one.clone() },
            RawRecord { train_seconds: Some(1000.0), load_seconds: Some(1000.0), ..testutil::record("rust", 3) },
            RawRecord { point: 1, ..one.clone() },
        ];
        let lines: Vec<u64> = (2..).take(rows.len()).collect();
        let found: Vec<(u64, Why)> = set_aside(Path::new("raw.csv"), &rows, &lines).into_iter().map(|s| (s.line, s.why)).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0], (4, Why::Duplicate { first_line: 2, identical: true }));
        assert_eq!(found[1], (5, Why::Duplicate { first_line: 2, identical: false }));
        assert!(matches!(&found[2], (6, Why::Implausible(p)) if p.column == "load_seconds + train_seconds"), "{found:?}");
        assert!(set_aside(Path::new("raw.csv"), &rows[..2], &lines).is_empty());
    }

    #[test]
    fn fits_longer_than_the_training_are_implausible() {
        let row = RawRecord {
            fits: Some(3),
            fit_first_seconds: Some(0.004),
            fit_warm_mean_seconds: Some(0.002),
            fit_warm_max_seconds: Some(0.003),
            train_seconds: Some(0.008),
            wall_seconds: Some(0.02),
            ..testutil::record("rust", 1)
        };
        assert_eq!(row.implausible_times(), None, "{row:?}");
        let longer = RawRecord { fit_first_seconds: Some(0.006), ..row };
        assert_eq!(longer.implausible_times().map(|p| p.column), Some("fit_first_seconds + warm fits"));
    }
}
