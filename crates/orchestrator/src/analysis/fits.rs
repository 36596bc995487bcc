//! Warm, repeated fits (`--fits K`): an implementation's per-fit figures over its runs at one
//! point — the first fit, the median and 99th percentile of the warm ones with bootstrap CIs,
//! the first against the warm, fits a second per core, the process as a one-off script would
//! be, the memory held while the fits ran, and the device they ran on.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::metric::Metric;
use crate::records::{RawRecord, SampleRecord};
use crate::stats::{self, Distribution, Ratio};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FitsSummary {
    /// Fits a run made (K), the largest any run reported.
    pub fits: u64,
    /// Each run's first fit: cold caches, page faults, anything compiled at the first call.
    pub first: Option<Distribution>,
    /// Each run's median and 99th percentile of its warm fits (2..K).
    pub warm_median: Option<Distribution>,
    pub warm_p99: Option<Distribution>,
    /// The fastest and the slowest warm fit of any run.
    pub warm_min_seconds: Option<f64>,
    pub warm_max_seconds: Option<f64>,
    /// Each run's first fit ÷ its warm median.
    pub first_over_warm: Option<Distribution>,
    /// 1 ÷ (median warm fit × the threads the implementation reports, one when it does not).
    pub fits_per_second_per_core: Option<f64>,
    /// Each run as a one-off script: start-up + load + one fit + exit, the wall time of the
    /// one-fit process run before it (records::RawRecord::one_off_seconds).
    pub one_off: Option<Distribution>,
    /// Runs of K ≥ 2 fits whose one-off figure is wall − train + first instead (recorded before
    /// the one-fit process was run): it counts a long process's exit.
    #[serde(default)]
    pub one_off_derived_runs: usize,
    /// Runs whose one-fit process did not end ok: no one-off figure (their messages say why).
    #[serde(default)]
    pub one_off_failed_runs: usize,
    /// The largest resident memory sampled while the fits ran (the last train_seconds of a run),
    /// median over the runs that have such samples: what a service holding this data needs.
    pub steady_rss_bytes: Option<f64>,
    /// Where the fits ran, each device the runs named (empty when none says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// The baseline's median over this one's, with a bootstrap CI: > 1 means faster.
    pub warm_speedup_vs_baseline: Option<Ratio>,
    pub one_off_speedup_vs_baseline: Option<Ratio>,
}

/// The per-fit figures of an implementation's `measured` runs at one point, when they made fits.
/// `key` ("scenario/point/implementation") seeds the bootstraps; `threads` is what it reported.
pub(crate) fn summarise(measured: &[&RawRecord], key: &str, threads: Option<u64>) -> Option<FitsSummary> {
    let fits = measured.iter().filter_map(|r| r.fits).max()?;
    let with_fits: Vec<&RawRecord> = measured.iter().copied().filter(|r| r.fits.is_some()).collect();
    let describe = |metric: Metric| {
        let values: Vec<f64> = with_fits.iter().filter_map(|r| metric.of(r)).collect();
        stats::describe(&values, stats::seed_for(&format!("{key}/{metric}")))
    };
    let warm_median = describe(Metric::FitWarmMedian);
    let ratios: Vec<f64> = with_fits.iter().filter_map(|r| Some(r.fit_first_seconds? / r.fit_warm_median_seconds?)).collect();
    let extreme = |value: fn(&RawRecord) -> Option<f64>, pick: fn(f64, f64) -> f64| with_fits.iter().filter_map(|r| value(r)).reduce(pick);
    let core_count = threads.map_or(1.0, |t| t.max(1) as f64);
    let mut devices: Vec<String> = Vec::new();
    for device in with_fits.iter().filter_map(|r| r.device.as_ref()) {
        if !devices.contains(device) {
            devices.push(device.clone());
        }
    }
    Some(FitsSummary {
        fits,
        first: describe(Metric::FitFirst),
        warm_p99: describe(Metric::FitWarmP99),
        warm_min_seconds: extreme(|r| r.fit_warm_min_seconds, f64::min),
        warm_max_seconds: extreme(|r| r.fit_warm_max_seconds, f64::max),
        first_over_warm: stats::describe(&ratios, stats::seed_for(&format!("{key}/first_over_warm"))),
        fits_per_second_per_core: warm_median.as_ref().filter(|d| d.median > 0.0).map(|d| 1.0 / (d.median * core_count)),
        one_off: describe(Metric::OneOff),
        one_off_derived_runs: with_fits.iter().filter(|r| r.one_off_is_derived()).count(),
        one_off_failed_runs: with_fits.iter().filter(|r| r.one_off_failed()).count(),
        steady_rss_bytes: None,
        devices,
        warm_speedup_vs_baseline: None,
        one_off_speedup_vs_baseline: None,
        warm_median,
    })
}

/// Every run's samples, by run, for [`SamplesByRun::steady_rss`].
pub(crate) struct SamplesByRun<'a>(HashMap<(&'a str, usize, &'a str, u32), Vec<&'a SampleRecord>>);

impl<'a> SamplesByRun<'a> {
    pub(crate) fn new(samples: &'a [SampleRecord]) -> Self {
        let mut by_run: HashMap<(&str, usize, &str, u32), Vec<&SampleRecord>> = HashMap::new();
        for sample in samples {
            by_run.entry((&sample.scenario, sample.point, &sample.implementation, sample.repetition)).or_default().push(sample);
        }
        SamplesByRun(by_run)
    }

    /// The median over `runs` (of one implementation at one point) of the largest resident memory
    /// sampled while each run's fits ran: from wall − train_seconds to its end. A sample of no
    /// resident memory is the process already gone (a zombie's statm), not a reading.
    pub(crate) fn steady_rss(&self, runs: &[&RawRecord]) -> Option<f64> {
        let peaks: Vec<f64> = runs
            .iter()
            .filter(|r| r.status.is_measurement() && r.fits.is_some())
            .filter_map(|r| {
                let fits_began = r.wall_seconds? - r.train_seconds?;
                let samples = self.0.get(&(r.scenario.as_str(), r.point, r.implementation.as_str(), r.repetition))?;
                let while_fitting = samples.iter().filter(|s| s.t_seconds >= fits_began && s.rss_bytes > 0);
                while_fitting.map(|s| s.rss_bytes as f64).reduce(f64::max)
            })
            .collect();
        stats::median(&peaks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RunStatus;
    use crate::testutil;

    /// A run of 101 fits: the first `first`, the warm ones median `median`, p99 twice that.
    pub(crate) fn run(repetition: u32, first: f64, median: f64) -> RawRecord {
        RawRecord {
            wall_seconds: Some(1.0),
            train_seconds: Some(first + 100.0 * median * 1.1),
            load_seconds: Some(0.01),
            fits: Some(101),
            fit_first_seconds: Some(first),
            fit_warm_min_seconds: Some(median * 0.9),
            fit_warm_median_seconds: Some(median),
            fit_warm_p99_seconds: Some(median * 2.0),
            fit_warm_max_seconds: Some(median * 3.0),
            fit_warm_mean_seconds: Some(median * 1.1),
            ..testutil::record("jax", repetition)
        }
    }

    #[test]
    fn the_first_fit_apart_from_the_warm_ones() {
        let rows: Vec<RawRecord> = (1..=5).map(|k| run(k, 0.5, 0.001 * (1.0 + f64::from(k) / 100.0))).collect();
        let measured: Vec<&RawRecord> = rows.iter().collect();
        let summary = summarise(&measured, "s/0/jax", Some(2)).unwrap();
        assert_eq!(summary.fits, 101);
        let warm = summary.warm_median.as_ref().unwrap();
        assert!((warm.median - 0.00103).abs() < 1e-12, "{warm:?}");
        assert!(warm.ci_low <= warm.median && warm.median <= warm.ci_high);
        assert!((summary.warm_p99.as_ref().unwrap().median - 0.00206).abs() < 1e-12);
        assert!((summary.warm_min_seconds.unwrap() - 0.00101 * 0.9).abs() < 1e-15);
        assert!((summary.warm_max_seconds.unwrap() - 0.00105 * 3.0).abs() < 1e-15);
        assert!((summary.first_over_warm.as_ref().unwrap().median - 0.5 / 0.00103).abs() < 1e-9);
        // Two threads: each core delivers half of 1 / 1.03 ms.
        assert!((summary.fits_per_second_per_core.unwrap() - 1.0 / (0.00103 * 2.0)).abs() < 1e-9);
        // One-off: 1 s wall − 0.5 − 100 × 1.1 × median + 0.5.
        let one_off = summary.one_off.as_ref().unwrap().median;
        assert!((one_off - (1.0 - 100.0 * 1.1 * 0.00103)).abs() < 1e-12, "{one_off}");
        assert_eq!(summary.one_off_derived_runs, 5, "no run had its one-fit process");
        // Runs without --fits have none of it.
        let plain = testutil::record("rust", 1);
        assert!(summarise(&[&plain], "s/0/rust", None).is_none());
    }

    #[test]
    fn the_one_off_script_is_the_one_fit_process_where_it_ran() {
        // Runs 1..4 timed their one-fit process (0.1 s + k ms); run 5's failed (its wall time
        // kept, 0.05 s): no figure, and not the derived one (~0.89 s: a run that held 0.8 s
        // outside its fits).
        let rows: Vec<RawRecord> = (1..=5)
            .map(|k| RawRecord {
                one_off_wall_seconds: Some(if k < 5 { 0.1 + f64::from(k) / 1000.0 } else { 0.05 }),
                one_off_status: Some(if k < 5 { RunStatus::Ok } else { RunStatus::Failed }),
                ..run(k, 0.5, 0.001)
            })
            .collect();
        let measured: Vec<&RawRecord> = rows.iter().collect();
        let summary = summarise(&measured, "s/0/jax", None).unwrap();
        assert_eq!((summary.one_off_derived_runs, summary.one_off_failed_runs), (0, 1));
        let one_off = summary.one_off.unwrap();
        assert!((one_off.median - 0.1025).abs() < 1e-12, "the middle of 0.101..0.104: {one_off:?}");
        // A row written before the classification compared them: a one-off that diverged beside a
        // run that converged is not this run's one-off script either.
        let mut mismatched = rows.clone();
        mismatched[0].one_off_status = Some(RunStatus::Diverged);
        let summary = summarise(&mismatched.iter().collect::<Vec<_>>(), "s/0/jax", None).unwrap();
        assert_eq!(summary.one_off_failed_runs, 2);
        assert!((summary.one_off.unwrap().median - 0.103).abs() < 1e-12, "0.102..0.104 left");
        // K = 1: the run is itself a one-fit process, its figure exactly its wall time, not derived.
        let single = RawRecord { fits: Some(1), train_seconds: Some(0.5), fit_first_seconds: Some(0.5), ..testutil::record("jax", 1) };
        let summary = summarise(&[&single], "s/0/jax", None).unwrap();
        assert_eq!(summary.one_off_derived_runs, 0);
        assert!((summary.one_off.unwrap().median - single.wall_seconds.unwrap()).abs() < 1e-15);
    }

    #[test]
    fn steady_memory_is_what_was_resident_while_the_fits_ran() {
        let rows = [run(1, 0.1, 0.001), run(2, 0.1, 0.001)];
        // The fits began at 1 − train (about 0.79 s): the import peak before it does not count.
        let sample = |repetition: u32, t_seconds: f64, rss_bytes: u64| SampleRecord {
            scenario: "s".into(),
            point: 0,
            implementation: "jax".into(),
            repetition,
            t_seconds,
            rss_bytes,
            cpu_seconds: t_seconds,
        };
        let samples = vec![sample(1, 0.2, 900), sample(1, 0.85, 100), sample(1, 0.95, 120), sample(2, 0.5, 900), sample(2, 0.9, 140)];
        let runs: Vec<&RawRecord> = rows.iter().collect();
        assert_eq!(SamplesByRun::new(&samples).steady_rss(&runs), Some(130.0));
        // Without a sample inside the fits' time there is nothing to say.
        assert_eq!(SamplesByRun::new(&samples[..1]).steady_rss(&runs), None);
        // Nor with only the exited process's last sample there (a 1.6 ms run once read 0 KiB).
        let gone = [sample(1, 0.2, 900), sample(1, 0.99, 0)];
        assert_eq!(SamplesByRun::new(&gone).steady_rss(&runs[..1]), None);
    }
}
