//! summary.csv: one row per scenario, point and implementation, for spreadsheets and scripts,
//! the columns of warm, repeated fits last (empty for runs without them).
//! (summary.json is the whole [`Analysis`] serialised, which holds the same and more.)

use serde::Serialize;

use crate::analysis::fits::FitsSummary;
use crate::analysis::Analysis;
use crate::records::cell;
use crate::stats::{Distribution, Ratio};

/// One row of summary.csv. Times in seconds, memory in bytes, empty where unknown.
#[derive(Debug, Serialize)]
pub(crate) struct SummaryRow<'a> {
    #[serde(serialize_with = "cell::serialize")]
    pub(crate) scenario: &'a str,
    pub(crate) point: usize,
    #[serde(serialize_with = "cell::serialize")]
    pub(crate) point_label: &'a str,
    #[serde(serialize_with = "cell::serialize")]
    pub(crate) implementation: &'a str,
    pub(crate) n: u64,
    pub(crate) epochs: u64,
    pub(crate) learning_rate: f64,
    pub(crate) runs: usize,
    pub(crate) failed: usize,
    pub(crate) status: &'a str,
    pub(crate) wall_median_s: Option<f64>,
    pub(crate) wall_ci_low_s: Option<f64>,
    pub(crate) wall_ci_high_s: Option<f64>,
    pub(crate) wall_mean_s: Option<f64>,
    pub(crate) wall_sd_s: Option<f64>,
    pub(crate) wall_min_s: Option<f64>,
    pub(crate) wall_max_s: Option<f64>,
    pub(crate) wall_mad_s: Option<f64>,
    pub(crate) wall_outliers: Option<usize>,
    pub(crate) cpu_median_s: Option<f64>,
    pub(crate) peak_rss_median_bytes: Option<f64>,
    pub(crate) peak_rss_max_bytes: Option<f64>,
    /// The resident anonymous memory and its part on huge pages, medians of the runs looked at.
    pub(crate) anon_median_bytes: Option<f64>,
    pub(crate) anon_huge_pages_median_bytes: Option<f64>,
    pub(crate) load_median_s: Option<f64>,
    pub(crate) train_median_s: Option<f64>,
    pub(crate) train_ci_low_s: Option<f64>,
    pub(crate) train_ci_high_s: Option<f64>,
    pub(crate) startup_median_s: Option<f64>,
    pub(crate) ns_per_point_epoch: Option<f64>,
    pub(crate) limit_ns_per_point_epoch: Option<f64>,
    pub(crate) limit_bound: Option<&'static str>,
    pub(crate) fraction_of_limit: Option<f64>,
    pub(crate) wall_over_spawn_floor: Option<f64>,
    pub(crate) w: Option<f64>,
    pub(crate) b: Option<f64>,
    pub(crate) mse: Option<f64>,
    pub(crate) diverged_at_epoch: Option<u64>,
    pub(crate) w_ols: Option<f64>,
    pub(crate) b_ols: Option<f64>,
    pub(crate) relative_error_vs_reference: Option<f64>,
    pub(crate) speedup_vs_baseline: Option<f64>,
    pub(crate) speedup_ci_low: Option<f64>,
    pub(crate) speedup_ci_high: Option<f64>,
    pub(crate) memory_ratio_vs_baseline: Option<f64>,
    pub(crate) memory_ratio_ci_low: Option<f64>,
    pub(crate) memory_ratio_ci_high: Option<f64>,
}

/// The warm-fit columns of a summary.csv row: K, and medians over the runs with their CIs.
#[derive(Debug, Default, Serialize)]
pub(crate) struct FitsColumns {
    pub(crate) fits: Option<u64>,
    pub(crate) fit_first_median_s: Option<f64>,
    pub(crate) fit_warm_median_s: Option<f64>,
    pub(crate) fit_warm_median_ci_low_s: Option<f64>,
    pub(crate) fit_warm_median_ci_high_s: Option<f64>,
    pub(crate) fit_warm_p99_s: Option<f64>,
    pub(crate) fit_warm_p99_ci_low_s: Option<f64>,
    pub(crate) fit_warm_p99_ci_high_s: Option<f64>,
    pub(crate) fit_warm_min_s: Option<f64>,
    pub(crate) fit_warm_max_s: Option<f64>,
    pub(crate) first_over_warm: Option<f64>,
    pub(crate) fits_per_second_per_core: Option<f64>,
    pub(crate) one_off_median_s: Option<f64>,
    /// Runs whose one-off figure is derived from the run of K fits (recorded before the one-fit
    /// process was run), and runs whose one-fit process did not end ok (no figure).
    pub(crate) one_off_derived_runs: Option<usize>,
    pub(crate) one_off_failed_runs: Option<usize>,
    pub(crate) steady_rss_bytes: Option<f64>,
    pub(crate) warm_speedup_vs_baseline: Option<f64>,
    pub(crate) warm_speedup_ci_low: Option<f64>,
    pub(crate) warm_speedup_ci_high: Option<f64>,
    pub(crate) one_off_speedup_vs_baseline: Option<f64>,
    pub(crate) one_off_speedup_ci_low: Option<f64>,
    pub(crate) one_off_speedup_ci_high: Option<f64>,
    /// Where the fits ran, as the implementation said (space-separated when several).
    #[serde(serialize_with = "cell::serialize")]
    pub(crate) devices: String,
}

impl FitsColumns {
    fn of(f: &FitsSummary) -> FitsColumns {
        let median = |d: &Option<Distribution>| d.as_ref().map(|d| d.median);
        let ci = |d: &Option<Distribution>| (d.as_ref().map(|d| d.ci_low), d.as_ref().map(|d| d.ci_high));
        let ratio = |r: &Option<Ratio>| (r.map(|r| r.estimate), r.map(|r| r.ci_low), r.map(|r| r.ci_high));
        let (fit_warm_median_ci_low_s, fit_warm_median_ci_high_s) = ci(&f.warm_median);
        let (fit_warm_p99_ci_low_s, fit_warm_p99_ci_high_s) = ci(&f.warm_p99);
        let (warm_speedup_vs_baseline, warm_speedup_ci_low, warm_speedup_ci_high) = ratio(&f.warm_speedup_vs_baseline);
        let (one_off_speedup_vs_baseline, one_off_speedup_ci_low, one_off_speedup_ci_high) = ratio(&f.one_off_speedup_vs_baseline);
        FitsColumns {
            fits: Some(f.fits),
            fit_first_median_s: median(&f.first),
            fit_warm_median_s: median(&f.warm_median),
            fit_warm_median_ci_low_s,
            fit_warm_median_ci_high_s,
            fit_warm_p99_s: median(&f.warm_p99),
            fit_warm_p99_ci_low_s,
            fit_warm_p99_ci_high_s,
            fit_warm_min_s: f.warm_min_seconds,
            fit_warm_max_s: f.warm_max_seconds,
            first_over_warm: median(&f.first_over_warm),
            fits_per_second_per_core: f.fits_per_second_per_core,
            one_off_median_s: median(&f.one_off),
            one_off_derived_runs: Some(f.one_off_derived_runs),
            one_off_failed_runs: Some(f.one_off_failed_runs),
            steady_rss_bytes: f.steady_rss_bytes,
            warm_speedup_vs_baseline,
            warm_speedup_ci_low,
            warm_speedup_ci_high,
            one_off_speedup_vs_baseline,
            one_off_speedup_ci_low,
            one_off_speedup_ci_high,
            devices: f.devices.join(" "),
        }
    }
}

pub(crate) fn summary_csv(report: &Analysis) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for (s, scenario) in report.summary.scenarios.iter().enumerate() {
        for (p, point) in scenario.points.iter().enumerate() {
            let accuracy = report.accuracy.get(s).and_then(|a| a.get(p));
            for i in &point.implementations {
                let judged = accuracy.and_then(|a| a.implementations.iter().find(|j| j.implementation == i.implementation));
                let ols = accuracy.and_then(|a| a.ols);
                let row = SummaryRow {
                    scenario: &scenario.name,
                    point: point.index,
                    point_label: &point.label,
                    implementation: &i.implementation,
                    n: point.n,
                    epochs: point.epochs,
                    learning_rate: point.learning_rate,
                    runs: i.runs,
                    failed: i.failed,
                    status: i.outcome.as_str(),
                    wall_median_s: i.wall.as_ref().map(|d| d.median),
                    wall_ci_low_s: i.wall.as_ref().map(|d| d.ci_low),
                    wall_ci_high_s: i.wall.as_ref().map(|d| d.ci_high),
                    wall_mean_s: i.wall.as_ref().map(|d| d.mean),
                    wall_sd_s: i.wall.as_ref().map(|d| d.sd),
                    wall_min_s: i.wall.as_ref().map(|d| d.min),
                    wall_max_s: i.wall.as_ref().map(|d| d.max),
                    wall_mad_s: i.wall.as_ref().map(|d| d.mad),
                    wall_outliers: i.wall.as_ref().map(|d| d.outliers.len()),
                    cpu_median_s: i.cpu.as_ref().map(|d| d.median),
                    peak_rss_median_bytes: i.peak_rss.as_ref().map(|d| d.median),
                    peak_rss_max_bytes: i.peak_rss.as_ref().map(|d| d.max),
                    anon_median_bytes: i.anon_median_bytes,
                    anon_huge_pages_median_bytes: i.anon_huge_pages_median_bytes,
                    load_median_s: i.load.as_ref().map(|d| d.median),
                    train_median_s: i.train.as_ref().map(|d| d.median),
                    train_ci_low_s: i.train.as_ref().map(|d| d.ci_low),
                    train_ci_high_s: i.train.as_ref().map(|d| d.ci_high),
                    startup_median_s: i.startup.as_ref().map(|d| d.median),
                    ns_per_point_epoch: i.ns_per_point_epoch,
                    limit_ns_per_point_epoch: i.limit_ns_per_point_epoch,
                    limit_bound: i.limit_bound.map(|b| b.as_str()),
                    fraction_of_limit: i.fraction_of_limit,
                    wall_over_spawn_floor: i.wall_over_spawn_floor,
                    w: i.w,
                    b: i.b,
                    mse: i.mse,
                    diverged_at_epoch: i.diverged_at_epoch,
                    w_ols: ols.map(|o| o.w),
                    b_ols: ols.map(|o| o.b),
                    relative_error_vs_reference: judged.and_then(|j| j.relative_error_vs_reference),
                    speedup_vs_baseline: i.speedup_vs_baseline.map(|r| r.estimate),
                    speedup_ci_low: i.speedup_vs_baseline.map(|r| r.ci_low),
                    speedup_ci_high: i.speedup_vs_baseline.map(|r| r.ci_high),
                    memory_ratio_vs_baseline: i.memory_ratio_vs_baseline.map(|r| r.estimate),
                    memory_ratio_ci_low: i.memory_ratio_vs_baseline.map(|r| r.ci_low),
                    memory_ratio_ci_high: i.memory_ratio_vs_baseline.map(|r| r.ci_high),
                };
                // A tuple of structs is one row, the header the names of both in order.
                writer.serialize((row, i.fits.as_ref().map(FitsColumns::of).unwrap_or_default()))?;
            }
        }
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("writing summary.csv: {e}"))
}
