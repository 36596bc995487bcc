//! `orchestrator compare OLD NEW`: for every scenario, point and implementation the two runs
//! share, the change of each median (wall, CPU, peak RSS, train, and with warm fits the warm
//! median and p99) as new/old with a bootstrap CI.
//! A change is a regression only when the whole CI lies above 1 + threshold: the noise of a shared
//! machine never fails a build, a real slow-down does.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use super::metric::{Metric, Unit};
use crate::analysis::index::Grouped;
use crate::analysis::summary;
use crate::format;
use crate::records;
use crate::records::RawRecord;
use crate::stats::{self, Ratio};

/// The figures compared, in the order they are listed (the per-fit ones only where both runs made
/// warm fits).
const METRICS: [Metric; 6] = [Metric::Wall, Metric::Cpu, Metric::Train, Metric::PeakRss, Metric::FitWarmMedian, Metric::FitWarmP99];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// The CI lies entirely above 1 + threshold.
    Regression,
    /// The CI lies entirely below 1 − threshold.
    Improvement,
    /// Within the threshold, or the CI does not exclude it.
    Unchanged,
}

#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    pub scenario: String,
    pub point_label: String,
    pub implementation: String,
    pub metric: Metric,
    pub old_median: f64,
    pub new_median: f64,
    /// new / old with its CI.
    pub ratio: Ratio,
    pub change: Change,
}

pub(crate) struct Outcome {
    pub regressions: usize,
    pub text: String,
    /// A last line of either raw.csv cut short and left out, for stderr.
    pub warnings: Vec<String>,
}

pub(crate) fn classify(ratio: &Ratio, threshold: f64) -> Change {
    if ratio.ci_low > 1.0 + threshold {
        Change::Regression
    } else if ratio.ci_high < 1.0 - threshold {
        Change::Improvement
    } else {
        Change::Unchanged
    }
}

/// Compares the measured runs of two sets of raw records, matched by scenario, point label and
/// implementation (labels carry n, epochs and learning rate, so a changed scenario is not
/// compared with its old self).
pub(crate) fn compare(old: &[RawRecord], new: &[RawRecord], threshold: f64) -> Vec<Comparison> {
    // Matched by label, not index: a point's index moves when a sweep is edited.
    fn key(r: &RawRecord) -> (&str, &str, &str) {
        (r.scenario.as_str(), r.point_label.as_str(), r.implementation.as_str())
    }
    let (old_rows, new_rows) = (Grouped::new(old, |r| Some(key(r))), Grouped::new(new, |r| Some(key(r))));
    let measured = Grouped::new(new, |r| r.status.is_measurement().then(|| key(r)));
    let mut comparisons = Vec::new();
    for &(scenario, label, implementation) in measured.keys() {
        let k = (scenario, label, implementation);
        for metric in METRICS {
            let (before, after) = (summary::values(old_rows.rows(&k), metric), summary::values(new_rows.rows(&k), metric));
            let seed = stats::seed_for(&format!("compare/{scenario}/{label}/{implementation}/{metric}"));
            let (Some(ratio), Some(old_median), Some(new_median)) =
                (stats::ratio_of_medians(&after, &before, seed), stats::median(&before), stats::median(&after))
            else {
                continue;
            };
            comparisons.push(Comparison {
                scenario: scenario.to_string(),
                point_label: label.to_string(),
                implementation: implementation.to_string(),
                metric,
                old_median,
                new_median,
                change: classify(&ratio, threshold),
                ratio,
            });
        }
    }
    comparisons
}

pub(crate) fn compare_runs(old_dir: &Path, new_dir: &Path, threshold: f64) -> anyhow::Result<Outcome> {
    let old = records::read_raw_rows(old_dir).with_context(|| format!("reading the old run {}", old_dir.display()))?;
    let new = records::read_raw_rows(new_dir).with_context(|| format!("reading the new run {}", new_dir.display()))?;
    let warnings = old.cut_short.iter().chain(&new.cut_short).map(|cut| format!("warning: {cut}")).collect();
    let (old, new) = (old.rows, new.rows);
    let comparisons = compare(&old, &new, threshold);
    // Nothing in common is a wrong pair of runs (a CI job given the wrong baseline), not a pass.
    if comparisons.is_empty() {
        anyhow::bail!(
            "nothing to compare: {} and {} share no scenario point and implementation with measurements \
             (the same scenario name, point label and implementation, with ok or diverged runs in both)",
            old_dir.display(),
            new_dir.display()
        );
    }
    let regressions = comparisons.iter().filter(|c| c.change == Change::Regression).count();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "old: {}\nnew: {}\nthreshold: {} (a regression is a change whose whole 95% CI is above {})\n",
        old_dir.display(),
        new_dir.display(),
        format::percent(threshold),
        format::signed_percent(threshold)
    );
    let _ = writeln!(
        text,
        "{:<14} {:<34} {:<18} {:<9} {:>11} {:>11} {:>26}  verdict",
        "scenario", "point", "implementation", "figure", "old", "new", "change [95% CI]"
    );
    for c in &comparisons {
        let show = |v: f64| match c.metric.unit() {
            Unit::Bytes => format::bytes(v),
            Unit::Seconds => format::seconds(v),
        };
        let change = format::change_with_ci(&c.ratio);
        let verdict = match c.change {
            Change::Regression => "REGRESSION",
            Change::Improvement => "improvement",
            Change::Unchanged => "no change",
        };
        let _ = writeln!(
            text,
            "{:<14} {:<34} {:<18} {:<9} {:>11} {:>11} {:>26}  {verdict}",
            c.scenario,
            c.point_label,
            c.implementation,
            c.metric,
            show(c.old_median),
            show(c.new_median),
            change
        );
    }
    let _ = writeln!(text, "\n{regressions} regression(s)");
    Ok(Outcome { regressions, text, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::tests::row;
    use crate::records::RunStatus;

    fn runs(scale: f64) -> Vec<RawRecord> {
        (0..20)
            .map(|k| row("rust", k + 1, RunStatus::Ok, scale * (0.010 + 0.0001 * (k % 5) as f64), 0.001, scale * 0.005, 2_000_000))
            .collect()
    }

    #[test]
    fn a_real_slowdown_is_a_regression_and_noise_is_not() {
        let slower = compare(&runs(1.0), &runs(1.3), 0.05);
        let wall = slower.iter().find(|c| c.metric == Metric::Wall).unwrap();
        assert_eq!(wall.change, Change::Regression, "{wall:?}");
        let same = compare(&runs(1.0), &runs(1.01), 0.05);
        assert!(same.iter().all(|c| c.change == Change::Unchanged), "{same:?}");
        let faster = compare(&runs(1.0), &runs(0.5), 0.05);
        assert_eq!(faster.iter().find(|c| c.metric == Metric::Wall).unwrap().change, Change::Improvement);
    }

    #[test]
    fn the_threshold_is_respected() {
        let ratio = Ratio { estimate: 1.04, ci_low: 1.03, ci_high: 1.05 };
        assert_eq!(classify(&ratio, 0.05), Change::Unchanged);
        assert_eq!(classify(&ratio, 0.02), Change::Regression);
    }
}
