//! The short table printed at the end of a run: per point each implementation's wall time,
//! peak memory, speed-up and status, then the claims' count. Where a run made several fits in one
//! process (`--fits K`), its wall time counts K of them, K set per implementation: the time and
//! speed-up shown are then one warm fit's (the median), as the report compares them.

use std::fmt::Write as _;

use super::status_words;
use crate::analysis::claims::{ClaimResult, Verdict};
use crate::analysis::summary::{ImplementationSummary, Outcome};
use crate::analysis::Analysis;
use crate::format::{self, bytes, seconds};
use crate::stats::Ratio;

/// The short table printed at the end of a run.
pub(crate) fn terminal_summary(report: &Analysis) -> String {
    let mut out = String::new();
    if let Some(shortfall) = super::warnings::shortfall(&report.summary.scenarios) {
        let _ = writeln!(out, "warning: incomplete run: {shortfall} (the report's first lines say which)");
    }
    for scenario in &report.summary.scenarios {
        for point in &scenario.points {
            let by_fit = point.implementations.iter().any(|i| warm_fit(i).is_some());
            let per_fit = if by_fit { " · one warm fit (median) where a run made several" } else { "" };
            let _ = writeln!(out, "{} · {}{per_fit}", scenario.name, point.label);
            for i in &point.implementations {
                if i.outcome == Outcome::NotRun {
                    continue;
                }
                let (time, speedup, what) = match warm_fit(i) {
                    Some((warm, speedup)) => (Some(warm), speedup, ", warm fit"),
                    None => (i.wall.as_ref().map(|d| d.median), i.speedup_vs_baseline, ""),
                };
                let time = time.map_or("—".into(), seconds);
                let rss = i.peak_rss.as_ref().map_or("—".into(), |d| bytes(d.median));
                let speed = speedup.map_or(String::new(), |r| format!("{}× vs {}{what}", format::sig3(r.estimate), scenario.baseline));
                let _ = writeln!(out, "  {:<20} {:>10} {:>11}  {:<34} {}", i.implementation, time, rss, speed, status_words(i));
            }
        }
    }
    if !report.claims.is_empty() {
        let _ = writeln!(out, "{}", claims_count(&report.claims));
    }
    out
}

/// One warm fit's median seconds and its speed-up over the baseline's, where the runs made two
/// fits or more (a warm fit is the second on).
fn warm_fit(i: &ImplementationSummary) -> Option<(f64, Option<Ratio>)> {
    let fits = i.fits.as_ref().filter(|f| f.fits >= 2)?;
    Some((fits.warm_median.as_ref()?.median, fits.warm_speedup_vs_baseline))
}

/// "claims: 10 of 17 held (6 not held, 1 inconclusive)": every verdict other than held that
/// occurs, so that the counts add up to the whole.
fn claims_count(claims: &[ClaimResult]) -> String {
    let count = |verdict: Verdict| crate::analysis::claims::count(claims, verdict);
    let others: Vec<String> = [Verdict::NotHeld, Verdict::Inconclusive, Verdict::NoData]
        .into_iter()
        .map(|verdict| (count(verdict), verdict))
        .filter(|(n, verdict)| *n > 0 || *verdict == Verdict::NotHeld)
        .map(|(n, verdict)| format!("{n} {}", verdict.as_str()))
        .collect();
    format!("claims: {} of {} held ({})", count(Verdict::Held), claims.len(), others.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(verdict: Verdict) -> ClaimResult {
        ClaimResult {
            scenario: "seed".into(),
            point: 0,
            point_label: "n=5".into(),
            claim: String::new(),
            source: None,
            measured: String::new(),
            subject: "rust".into(),
            short: String::new(),
            verdict,
        }
    }

    #[test]
    fn the_claims_count_adds_up_to_the_whole() {
        let mut claims: Vec<ClaimResult> = [Verdict::Held, Verdict::Held, Verdict::NotHeld].map(claim).into();
        assert_eq!(claims_count(&claims), "claims: 2 of 3 held (1 not held)");
        claims.extend([Verdict::Inconclusive, Verdict::NoData, Verdict::NoData].map(claim));
        assert_eq!(claims_count(&claims), "claims: 2 of 6 held (1 not held, 1 inconclusive, 2 no data)");
        claims.retain(|c| c.verdict != Verdict::NotHeld);
        assert_eq!(claims_count(&claims), "claims: 2 of 5 held (0 not held, 1 inconclusive, 2 no data)");
    }
}
