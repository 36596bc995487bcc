//! Claims: a scenario's `expect:` entries judged against the measurements. A ratio claim holds
//! when the whole 95% CI of the ratio lies within its bounds, does not hold when the whole CI lies
//! outside, and is inconclusive when the CI straddles a bound. A fit claim is exact arithmetic.

use serde::{Deserialize, Serialize};

use crate::format::{self, bounds, four_decimals, sig3};
use crate::measurement::RawRecord;
use crate::plan::{Claim, ScenarioPlan, TimeMetric};
use crate::stats::Ratio;
use crate::summary::{self, Figure, ImplementationSummary, PointSummary, ScenarioSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Held,
    NotHeld,
    Inconclusive,
    /// Nothing to judge: an implementation has no measurement at this point.
    NoData,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::NotHeld => "not held",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NoData => "no data",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    pub scenario: String,
    pub point: usize,
    pub point_label: String,
    /// The claim in words, e.g. "rust is 3–6× faster than python-numpy (wall time)".
    pub claim: String,
    pub source: Option<String>,
    /// What was measured, in words, e.g. "106× (95% CI 98–112×)".
    pub measured: String,
    /// The implementation the claim is about: "rust".
    #[serde(default)]
    pub subject: String,
    /// Claim and measurement in a few words after the subject, for the report's opening lines:
    /// "3–6× faster: 106×".
    #[serde(default)]
    pub short: String,
    pub verdict: Verdict,
}

/// Every claim of the scenario at every point it applies to.
pub fn evaluate(plan: &ScenarioPlan, summary: &ScenarioSummary, records: &[RawRecord]) -> Vec<ClaimResult> {
    let mut results = Vec::new();
    for claim in &plan.expect {
        for point in &summary.points {
            if claim_point(claim).is_some_and(|p| p != point.index) {
                continue;
            }
            let ratio = |numerator: &str, denominator: &str, figure_name: &str, figure: Figure| {
                summary::ratio_between(records, &summary.name, point.index, numerator, denominator, figure_name, figure)
            };
            let Judged { claim: claim_text, source, measured, short, verdict } = judge(claim, point, &ratio);
            results.push(ClaimResult {
                scenario: summary.name.clone(),
                point: point.index,
                point_label: point.label.clone(),
                claim: claim_text,
                source,
                measured,
                subject: claim_subject(claim).to_string(),
                short,
                verdict,
            });
        }
    }
    results
}

fn claim_subject(claim: &Claim) -> &str {
    match claim {
        Claim::Speedup(c) => &c.faster,
        Claim::MemoryRatio(c) => &c.leaner,
        Claim::Fit(c) => &c.implementation,
        Claim::WallMs(c) | Claim::PeakRssMb(c) => &c.implementation,
    }
}

fn claim_point(claim: &Claim) -> Option<usize> {
    match claim {
        Claim::Speedup(c) => c.point,
        Claim::MemoryRatio(c) => c.point,
        Claim::Fit(c) => c.point,
        Claim::WallMs(c) | Claim::PeakRssMb(c) => c.point,
    }
}

fn find<'a>(point: &'a PointSummary, name: &str) -> Option<&'a ImplementationSummary> {
    point.implementations.iter().find(|i| i.implementation == name && i.measured())
}

/// "3–6×", "≥ 3×", "≤ 6×".
fn bounds_text(at_least: Option<f64>, at_most: Option<f64>) -> String {
    bounds(at_least, at_most, "×")
}

/// An absolute claim's figure in the claim's own unit: wall time in ms, peak RSS in MB.
fn claimed_unit_value(claim: &Claim, implementation: &ImplementationSummary) -> Option<(f64, f64, f64)> {
    let (d, scale) = match claim {
        Claim::WallMs(_) => (implementation.wall.as_ref()?, 1e3),
        Claim::PeakRssMb(_) => (implementation.peak_rss.as_ref()?, 1e-6),
        _ => return None,
    };
    Some((d.median * scale, d.ci_low * scale, d.ci_high * scale))
}

/// Where a CI lies relative to [at_least, at_most].
pub fn judge_interval(low: f64, high: f64, at_least: Option<f64>, at_most: Option<f64>) -> Verdict {
    let below = at_least.is_some_and(|lo| high < lo);
    let above = at_most.is_some_and(|hi| low > hi);
    if below || above {
        return Verdict::NotHeld;
    }
    let inside = at_least.is_none_or(|lo| low >= lo) && at_most.is_none_or(|hi| high <= hi);
    if inside {
        Verdict::Held
    } else {
        Verdict::Inconclusive
    }
}

/// A ratio of two implementations' figures (numerator name, denominator name, figure name, figure).
type RatioOf<'a> = dyn Fn(&str, &str, &str, Figure) -> Option<Ratio> + 'a;

/// One claim judged at one point.
struct Judged {
    claim: String,
    source: Option<String>,
    measured: String,
    short: String,
    verdict: Verdict,
}

impl Judged {
    /// A claim whose implementation has no measurement at the point.
    fn no_data(claim: String, source: &Option<String>, short_claim: &str) -> Judged {
        Judged {
            claim,
            source: source.clone(),
            measured: "no measurement".into(),
            short: format!("{short_claim}: no data"),
            verdict: Verdict::NoData,
        }
    }
}

fn judge(claim: &Claim, point: &PointSummary, ratio: &RatioOf<'_>) -> Judged {
    let ratio_measured = |r: Option<Ratio>, at_least, at_most| match r {
        Some(r) => (
            format::ratio_with_ci_in_words(r.estimate, r.ci_low, r.ci_high, ""),
            format!("{}×", sig3(r.estimate)),
            judge_interval(r.ci_low, r.ci_high, at_least, at_most),
        ),
        None => ("no measurement of both".into(), "no data".into(), Verdict::NoData),
    };
    match claim {
        Claim::Speedup(c) => {
            let metric = match c.metric {
                TimeMetric::Wall => "wall time",
                TimeMetric::Cpu => "CPU time",
                TimeMetric::Train => "training time",
            };
            let bounds = bounds_text(c.at_least, c.at_most);
            let text = format!("{} is {bounds} faster than {} ({metric})", c.faster, c.than);
            // Times: the slow one's over the fast one's.
            let (figure_name, figure): (&str, Figure) = match c.metric {
                TimeMetric::Wall => ("wall", |r| r.wall_seconds),
                TimeMetric::Cpu => ("cpu", |r| r.cpu_seconds()),
                TimeMetric::Train => ("train", |r| r.train_seconds),
            };
            let ratio = match (find(point, &c.faster), find(point, &c.than)) {
                (Some(_), Some(_)) => ratio(&c.than, &c.faster, figure_name, figure),
                _ => None,
            };
            let (measured, short, verdict) = ratio_measured(ratio, c.at_least, c.at_most);
            Judged { claim: text, source: c.source.clone(), measured, short: format!("{bounds} faster: {short}"), verdict }
        }
        Claim::MemoryRatio(c) => {
            let bounds = bounds_text(c.at_least, c.at_most);
            let text = format!("{} uses {bounds} less peak memory than {}", c.leaner, c.than);
            let ratio = match (find(point, &c.leaner), find(point, &c.than)) {
                (Some(_), Some(_)) => ratio(&c.than, &c.leaner, "peak_rss", |r| r.peak_rss_bytes.map(|b| b as f64)),
                _ => None,
            };
            let (measured, short, verdict) = ratio_measured(ratio, c.at_least, c.at_most);
            Judged { claim: text, source: c.source.clone(), measured, short: format!("{bounds} less memory: {short}"), verdict }
        }
        Claim::Fit(c) => {
            let wanted: Vec<String> = [("w", c.w), ("b", c.b)].iter().filter_map(|(n, v)| v.map(|v| format!("{n} ≈ {v}"))).collect();
            let text = format!("{}: {} (± {})", c.implementation, wanted.join(", "), c.tolerance);
            let short_claim = wanted.join(", ");
            let Some(found) = find(point, &c.implementation) else {
                return Judged::no_data(text, &c.source, &short_claim);
            };
            let (mut parts, mut short_parts) = (Vec::new(), Vec::new());
            let mut held = true;
            for (name, want, got) in [("w", c.w, found.w), ("b", c.b, found.b)] {
                let Some(want) = want else { continue };
                match got {
                    Some(got) => {
                        held &= (got - want).abs() <= c.tolerance;
                        parts.push(format!("{name} = {got:.12} (off by {:.3e})", (got - want).abs()));
                        short_parts.push(format!("{name} = {}", four_decimals(got)));
                    }
                    None => {
                        held = false;
                        parts.push(format!("{name} not finite"));
                        short_parts.push(format!("{name} not finite"));
                    }
                }
            }
            Judged {
                claim: text,
                source: c.source.clone(),
                measured: parts.join(", "),
                short: format!("{short_claim}: {}", short_parts.join(", ")),
                verdict: if held { Verdict::Held } else { Verdict::NotHeld },
            }
        }
        Claim::WallMs(c) | Claim::PeakRssMb(c) => {
            let (unit, text) = match claim {
                Claim::WallMs(_) => ("ms", format!("{} takes {} (wall time)", c.implementation, bounds(c.at_least, c.at_most, " ms"))),
                _ => ("MB", format!("{} peaks at {} of memory", c.implementation, bounds(c.at_least, c.at_most, " MB"))),
            };
            let short_claim = bounds(c.at_least, c.at_most, &format!(" {unit}"));
            let Some((median, low, high)) = find(point, &c.implementation).and_then(|i| claimed_unit_value(claim, i)) else {
                return Judged::no_data(text, &c.source, &short_claim);
            };
            Judged {
                claim: text,
                source: c.source.clone(),
                measured: format!("{} {unit} (95% CI {}–{} {unit})", sig3(median), sig3(low), sig3(high)),
                short: format!("{short_claim}: {} {unit}", sig3(median)),
                verdict: judge_interval(low, high, c.at_least, c.at_most),
            }
        }
    }
}

/// How many claims did not hold.
pub fn not_held(results: &[ClaimResult]) -> usize {
    results.iter().filter(|r| r.verdict == Verdict::NotHeld).count()
}

/// How many claims could not be judged: an implementation they name has no measurement there.
pub fn without_data(results: &[ClaimResult]) -> usize {
    results.iter().filter(|r| r.verdict == Verdict::NoData).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_is_held_not_held_or_inconclusive() {
        assert_eq!(judge_interval(3.5, 5.0, Some(3.0), Some(6.0)), Verdict::Held);
        assert_eq!(judge_interval(90.0, 110.0, Some(3.0), Some(6.0)), Verdict::NotHeld);
        assert_eq!(judge_interval(1.0, 2.0, Some(3.0), None), Verdict::NotHeld);
        assert_eq!(judge_interval(2.5, 3.5, Some(3.0), Some(6.0)), Verdict::Inconclusive);
        assert_eq!(judge_interval(5.5, 6.5, Some(3.0), Some(6.0)), Verdict::Inconclusive);
        assert_eq!(judge_interval(10.0, 12.0, None, Some(20.0)), Verdict::Held);
    }

    #[test]
    fn a_claim_quotes_the_same_interval_as_the_results_table() {
        use crate::measurement::RunStatus;
        use crate::plan::{Claim, SpeedupClaim};
        use crate::summary::tests::{plan_of, row};
        let mut plan = plan_of(&["rust", "python"], "python");
        plan.scenarios[0].expect.push(Claim::Speedup(SpeedupClaim {
            faster: "rust".into(),
            than: "python".into(),
            at_least: Some(3.0),
            at_most: Some(6.0),
            metric: TimeMetric::Wall,
            point: None,
            source: None,
        }));
        // Spread-out samples: two bootstraps with different seeds would give different intervals.
        let mut rows = Vec::new();
        for k in 1..=30u32 {
            let wobble = f64::from((k * 7919) % 101) / 101.0;
            rows.push(row("rust", k, RunStatus::Ok, (1.0 + wobble) * 1e-3, 0.0, 0.0, 1));
            rows.push(row("python", k, RunStatus::Ok, (90.0 + 40.0 * f64::from((k * 104_729) % 97) / 97.0) * 1e-3, 0.0, 0.0, 1));
        }
        let summary = crate::summary::summarise(&plan, &rows, None);
        let table = summary.scenarios[0].points[0].implementations[0].speedup_vs_baseline.expect("a ratio");
        let claims = evaluate(&plan.scenarios[0], &summary.scenarios[0], &rows);
        assert_eq!(claims[0].measured, format::ratio_with_ci_in_words(table.estimate, table.ci_low, table.ci_high, ""));
    }

    #[test]
    fn words_for_bounds_and_ratios() {
        assert_eq!(bounds_text(Some(3.0), Some(6.0)), "3–6×");
        assert_eq!(bounds_text(Some(15.0), None), "at least 15×");
    }
}
