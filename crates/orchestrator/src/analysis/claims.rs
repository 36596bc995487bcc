//! Claims: a scenario's `expect:` entries judged against the measurements. A ratio claim holds
//! when the whole 95% CI of the ratio lies within its bounds, does not hold when the whole CI lies
//! outside, and is inconclusive when the CI straddles a bound. A fit claim is exact arithmetic.

use serde::{Deserialize, Serialize};

use super::index::{AtPoint, Grouped};
use super::metric::Metric;
use crate::analysis::summary::{self, ImplementationSummary, PointSummary, ScenarioSummary};
use crate::format::{self, bounds, four_decimals, sig3};
use crate::plan::{AbsoluteClaim, Claim, FitClaim, MemoryRatioClaim, ScenarioPlan, SpeedupClaim, TimeMetric};
use crate::stats::Ratio;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    Held,
    NotHeld,
    Inconclusive,
    /// Nothing to judge: an implementation has no measurement at this point.
    NoData,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::NotHeld => "not held",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NoData => "no data",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClaimResult {
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

/// Every claim of the scenario at every point it applies to (judged on every CPU: a claim without
/// a point is judged at each of thousands of points). `spawn_floor` is the median wall time of
/// /bin/true on this machine, in seconds, where the run measured it: a wall-time claim whose
/// upper bound lies below it is out of reach of /bin/true itself here, and its verdict says so.
pub(crate) fn evaluate(
    plan: &ScenarioPlan,
    summary: &ScenarioSummary,
    records: &Grouped<AtPoint>,
    spawn_floor: Option<f64>,
) -> Vec<ClaimResult> {
    let judged: Vec<(&Claim, &PointSummary)> = plan
        .expect
        .iter()
        .flat_map(|claim| {
            summary.points.iter().filter(move |point| claim_point(claim).is_none_or(|p| p == point.index)).map(move |point| (claim, point))
        })
        .collect();
    let judge_one = |&(claim, point): &(&Claim, &PointSummary)| {
        let ratio = |numerator: &str, denominator: &str, metric: Metric| {
            summary::ratio_between(records, &summary.name, point.index, numerator, denominator, metric)
        };
        let Judged { claim: claim_text, source, measured, short, verdict } = judge(claim, point, &ratio, spawn_floor);
        ClaimResult {
            scenario: summary.name.clone(),
            point: point.index,
            point_label: point.label.clone(),
            claim: claim_text,
            source,
            measured,
            subject: claim_subject(claim).to_string(),
            short,
            verdict,
        }
    };
    super::parallel::map(&judged, judge_one, || ())
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

/// A median and its CI in an absolute claim's own unit.
struct InClaimUnit {
    median: f64,
    ci_low: f64,
    ci_high: f64,
}

/// An absolute claim's figure in the claim's own unit: wall time in ms, peak RSS in MB.
fn claimed_unit_value(claim: &Claim, implementation: &ImplementationSummary) -> Option<InClaimUnit> {
    let (d, scale) = match claim {
        Claim::WallMs(_) => (implementation.wall.as_ref()?, 1e3),
        Claim::PeakRssMb(_) => (implementation.peak_rss.as_ref()?, 1e-6),
        _ => return None,
    };
    Some(InClaimUnit { median: d.median * scale, ci_low: d.ci_low * scale, ci_high: d.ci_high * scale })
}

/// Where a CI lies relative to [at_least, at_most].
pub(crate) fn judge_interval(low: f64, high: f64, at_least: Option<f64>, at_most: Option<f64>) -> Verdict {
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

/// A ratio of two implementations' medians of one metric (numerator name, denominator name).
type RatioOf<'a> = dyn Fn(&str, &str, Metric) -> Option<Ratio> + 'a;

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

fn judge(claim: &Claim, point: &PointSummary, ratio: &RatioOf<'_>, spawn_floor: Option<f64>) -> Judged {
    match claim {
        Claim::Speedup(c) => judge_speedup(c, point, ratio),
        Claim::MemoryRatio(c) => judge_memory_ratio(c, point, ratio),
        Claim::Fit(c) => judge_fit(c, point),
        Claim::WallMs(c) | Claim::PeakRssMb(c) => judge_absolute(claim, c, point, spawn_floor),
    }
}

/// A ratio claim judged: `claim` in words, `short_claim` its few words; the ratio (None when
/// either side has no measurement) set against the bounds.
fn judged_ratio(
    claim: String,
    source: &Option<String>,
    short_claim: String,
    ratio: Option<Ratio>,
    at_least: Option<f64>,
    at_most: Option<f64>,
) -> Judged {
    let (measured, short, verdict) = match ratio {
        Some(r) => (
            format::ratio_with_ci_in_words(&r, ""),
            format!("{}×", sig3(r.estimate)),
            judge_interval(r.ci_low, r.ci_high, at_least, at_most),
        ),
        None => ("no measurement of both".into(), "no data".into(), Verdict::NoData),
    };
    Judged { claim, source: source.clone(), measured, short: format!("{short_claim}: {short}"), verdict }
}

fn judge_speedup(c: &SpeedupClaim, point: &PointSummary, ratio: &RatioOf<'_>) -> Judged {
    let metric_words = match c.metric {
        TimeMetric::Wall => "wall time",
        TimeMetric::Cpu => "CPU time",
        TimeMetric::Train => "training time",
        TimeMetric::WarmMedian => "median warm fit",
        TimeMetric::WarmP99 => "99th percentile of the warm fits",
        TimeMetric::FirstFit => "first fit",
        TimeMetric::OneOff => "as a one-off script: start-up, load, one fit",
    };
    let bounds = bounds_text(c.at_least, c.at_most);
    let text = format!("{} is {bounds} faster than {} ({metric_words})", c.faster, c.than);
    // Times: the slow one's over the fast one's.
    let ratio = match (find(point, &c.faster), find(point, &c.than)) {
        (Some(_), Some(_)) => ratio(&c.than, &c.faster, Metric::from(c.metric)),
        _ => None,
    };
    judged_ratio(text, &c.source, format!("{bounds} faster"), ratio, c.at_least, c.at_most)
}

fn judge_memory_ratio(c: &MemoryRatioClaim, point: &PointSummary, ratio: &RatioOf<'_>) -> Judged {
    let bounds = bounds_text(c.at_least, c.at_most);
    let text = format!("{} uses {bounds} less peak memory than {}", c.leaner, c.than);
    let ratio = match (find(point, &c.leaner), find(point, &c.than)) {
        (Some(_), Some(_)) => ratio(&c.than, &c.leaner, Metric::PeakRss),
        _ => None,
    };
    judged_ratio(text, &c.source, format!("{bounds} less memory"), ratio, c.at_least, c.at_most)
}

fn judge_fit(c: &FitClaim, point: &PointSummary) -> Judged {
    let wanted: Vec<String> =
        [("w", c.w), ("b", c.b)].iter().filter_map(|(n, v)| v.map(|v| format!("{n} ≈ {}", format::number(v)))).collect();
    let text = format!("{}: {} (± {})", c.implementation, wanted.join(", "), format::number(c.tolerance));
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
                parts.push(format!("{name} = {}", format::parameter_off_by(got, want)));
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

/// A wall-time (ms) or peak-memory (MB) claim: `claim` says which, `c` holds its bounds. A
/// wall-time claim not held whose upper bound is below `spawn_floor` (seconds) says that not even
/// /bin/true finishes that soon on this machine (a program without glibc's start-up may: the
/// startup scenario's anatomy shows the pieces).
fn judge_absolute(claim: &Claim, c: &AbsoluteClaim, point: &PointSummary, spawn_floor: Option<f64>) -> Judged {
    let (unit, text) = match claim {
        Claim::WallMs(_) => ("ms", format!("{} takes {} (wall time)", c.implementation, bounds(c.at_least, c.at_most, " ms"))),
        _ => ("MB", format!("{} peaks at {} of memory", c.implementation, bounds(c.at_least, c.at_most, " MB"))),
    };
    let short_claim = bounds(c.at_least, c.at_most, &format!(" {unit}"));
    let Some(value) = find(point, &c.implementation).and_then(|i| claimed_unit_value(claim, i)) else {
        return Judged::no_data(text, &c.source, &short_claim);
    };
    let InClaimUnit { median, ci_low: low, ci_high: high } = value;
    let verdict = judge_interval(low, high, c.at_least, c.at_most);
    let mut measured = format!("{} {unit} (95% CI {}–{} {unit})", sig3(median), sig3(low), sig3(high));
    let mut short = format!("{short_claim}: {} {unit}", sig3(median));
    let floor_ms = spawn_floor.filter(|_| matches!(claim, Claim::WallMs(_)) && verdict == Verdict::NotHeld).map(|s| s * 1e3);
    if let Some(floor_ms) = floor_ms.filter(|floor| c.at_most.is_some_and(|most| *floor > most)) {
        measured.push_str(&format!("; not even /bin/true finishes that soon here: {} ms", sig3(floor_ms)));
        short.push_str(&format!(" (/bin/true alone: {} ms)", sig3(floor_ms)));
    }
    Judged { claim: text, source: c.source.clone(), measured, short, verdict }
}

/// How many claims got `verdict` (`NoData`: an implementation they name has no measurement there).
pub(crate) fn count(results: &[ClaimResult], verdict: Verdict) -> usize {
    results.iter().filter(|r| r.verdict == verdict).count()
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
        use crate::analysis::summary::tests::{plan_of, row};
        use crate::plan::{Claim, SpeedupClaim};
        use crate::records::RunStatus;
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
        let summary = crate::analysis::summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let table = summary.scenarios[0].points[0].implementations[0].speedup_vs_baseline.expect("a ratio");
        let claims = evaluate(&plan.scenarios[0], &summary.scenarios[0], &crate::analysis::index::by_point(&rows), None);
        assert_eq!(claims[0].measured, format::ratio_with_ci_in_words(&table, ""));
    }

    #[test]
    fn a_wall_time_below_the_spawn_floor_is_named_unreachable_here() {
        use crate::analysis::summary::tests::{plan_of, row};
        use crate::plan::AbsoluteClaim;
        use crate::records::RunStatus;
        let claim = |at_most: f64| AbsoluteClaim {
            implementation: "rust".into(),
            at_least: Some(0.3),
            at_most: Some(at_most),
            point: None,
            source: None,
        };
        let mut plan = plan_of(&["rust"], "rust");
        plan.scenarios[0].expect = vec![Claim::WallMs(claim(0.8)), Claim::WallMs(claim(1.5)), Claim::PeakRssMb(claim(0.8))];
        let rows: Vec<_> =
            (1..=10u32).map(|k| row("rust", k, RunStatus::Ok, (1.1 + f64::from(k) * 1e-3) * 1e-3, 0.0, 0.0, 1 << 20)).collect();
        let grouped = crate::analysis::index::by_point(&rows);
        let summary = crate::analysis::summary::summarise(&plan, &grouped, None);
        let judged = |floor| evaluate(&plan.scenarios[0], &summary.scenarios[0], &grouped, floor);
        let with_floor = judged(Some(1.09e-3));
        // Not held, and below what /bin/true takes here: said, in the table and the opening line.
        assert_eq!(with_floor[0].verdict, Verdict::NotHeld);
        assert!(with_floor[0].measured.ends_with("; not even /bin/true finishes that soon here: 1.09 ms"), "{with_floor:?}");
        assert!(with_floor[0].short.ends_with("(/bin/true alone: 1.09 ms)"), "{with_floor:?}");
        // Held (the bound is above the floor), or a memory claim: nothing added.
        assert_eq!(with_floor[1].verdict, Verdict::Held);
        assert!(!with_floor[1].measured.contains("/bin/true") && !with_floor[2].measured.contains("/bin/true"), "{with_floor:?}");
        // A floor below the bound, or none measured: the claim is judged as before, without a word of it.
        for floor in [Some(0.5e-3), None] {
            let judged = judged(floor);
            assert_eq!(judged[0].verdict, Verdict::NotHeld);
            assert!(!judged[0].measured.contains("/bin/true"), "{judged:?}");
        }
    }

    #[test]
    fn words_for_bounds_and_ratios() {
        assert_eq!(bounds_text(Some(3.0), Some(6.0)), "3–6×");
        assert_eq!(bounds_text(Some(15.0), None), "at least 15×");
    }
}
