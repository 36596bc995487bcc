//! Warm, repeated fits (`fits:`): a scenario's section on the service view — per point the time
//! of one fit (the first, the warm median and p99 with their CIs), fits a second per core, the
//! memory held while fitting and the same runs as one-off scripts — and the verdict the report
//! opens with: who wins a one-off script, who wins a long-lived service, and where the
//! scenario's `highlight:` implementations stand against both.

use std::fmt::Write as _;

use crate::analysis::fits::FitsSummary;
use crate::analysis::summary::{ImplementationSummary, Outcome, PointSummary, ScenarioSummary};
use crate::analysis::Analysis;
use crate::format::{self, bytes, seconds, seconds_with_ci, sig3};
use crate::plan::ScenarioPlan;
use crate::stats::{Distribution, Ratio};

/// Under a fits scenario's "Data:" line: its whole-process figures count K fits, K its own for
/// each implementation, so they do not compare one implementation with another.
pub(super) fn results_note(out: &mut String, plan: &ScenarioPlan) {
    if plan.has_fits() {
        let _ = writeln!(
            out,
            "Each run here makes several fits in one process (`--fits K`, K per implementation and point: see [warm fits](#fits-{})), so the whole-process wall time and its speed-up in the tables below count K fits, not one: compare implementations by the per-fit figures.\n",
            plan.name
        );
    }
}

/// The section of one scenario with fits; nothing for a scenario without.
pub(super) fn section(out: &mut String, plan: &ScenarioPlan, summary: &ScenarioSummary) {
    if !plan.has_fits() {
        return;
    }
    let _ = writeln!(out, "<a id=\"fits-{}\"></a>\n### Warm, repeated fits: one process, many fits\n", summary.name);
    let _ = writeln!(
        out,
        "Each run loads the data once, then fits K times from w = b = 0, each fit timed by the implementation's monotonic clock. The **first fit** pays for what is cold: caches, page faults, anything compiled at the first call; the **warm** fits 2..K are what a long-lived service pays per request. Per run: its first fit, and the median and 99th percentile (nearest rank) of its warm fits; the tables give the median over the runs [95% bootstrap CI]. **Fits/s/core** = 1 ÷ (warm median × the threads the implementation reports; one when it does not say, so threads a library starts on its own, such as a BLAS's, are not counted). **Memory while fitting**: the largest resident memory sampled while the fits ran (the process's peak, in the results table, may come earlier: an import, the loading). **One-off script**: the same runs as a process that fits once, start-up + load + the first fit (wall − train + first); its speed-up and the warm fit's are against **{}**.\n",
        summary.baseline
    );
    for point in &summary.points {
        let rows: Vec<(&ImplementationSummary, &FitsSummary)> =
            point.implementations.iter().filter_map(|i| i.fits.as_ref().map(|f| (i, f))).collect();
        if rows.is_empty() {
            continue;
        }
        if summary.points.len() > 1 {
            let _ = writeln!(out, "**{}**\n", point.label);
        }
        per_fit_table(out, &rows);
        speed_up_table(out, &rows, &summary.baseline);
    }
    let devices: Vec<String> = summary
        .points
        .iter()
        .flat_map(|p| &p.implementations)
        .filter_map(|i| i.fits.as_ref().filter(|f| !f.devices.is_empty()).map(|f| format!("{}{}", i.implementation, on_devices(f))))
        .fold(Vec::new(), |mut seen, entry| {
            if !seen.contains(&entry) {
                seen.push(entry);
            }
            seen
        });
    if !devices.is_empty() {
        let _ = writeln!(out, "Where the fits ran, as the implementations say: {}.\n", devices.join("; "));
    }
}

fn median_cell(d: &Option<Distribution>) -> String {
    d.as_ref().map_or("—".into(), |d| seconds_with_ci(d.median, d.ci_low, d.ci_high))
}

fn per_fit_table(out: &mut String, rows: &[(&ImplementationSummary, &FitsSummary)]) {
    let _ = writeln!(out, "| implementation | fits | warm median [95% CI] | warm p99 [95% CI] | first fit | first ÷ warm | fits/s/core |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for (i, f) in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i.implementation,
            format::count(f.fits),
            median_cell(&f.warm_median),
            median_cell(&f.warm_p99),
            f.first.as_ref().map_or("—".into(), |d| seconds(d.median)),
            f.first_over_warm.as_ref().map_or("—".into(), |d| format!("{}×", sig3(d.median))),
            f.fits_per_second_per_core.map_or("—".into(), format::compact),
        );
    }
    let _ = writeln!(out);
}

fn speed_up_table(out: &mut String, rows: &[(&ImplementationSummary, &FitsSummary)], baseline: &str) {
    let ratio = |i: &ImplementationSummary, r: &Option<Ratio>| {
        if i.implementation == baseline {
            "baseline".to_string()
        } else {
            r.as_ref().map_or("—".into(), format::ratio_with_ci_in_brackets)
        }
    };
    let _ = writeln!(out, "| implementation | one-off script [95% CI] | speed-up, one-off | speed-up, warm fit | memory while fitting |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (i, f) in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            i.implementation,
            median_cell(&f.one_off),
            ratio(i, &f.one_off_speedup_vs_baseline),
            ratio(i, &f.warm_speedup_vs_baseline),
            f.steady_rss_bytes.map_or("—".into(), bytes),
        );
    }
    let _ = writeln!(out);
}

/// " on `cpu:0`": the devices a run named, as code (whatever the program printed is text here).
fn on_devices(fits: &FitsSummary) -> String {
    if fits.devices.is_empty() {
        return String::new();
    }
    let names: Vec<String> = fits.devices.iter().map(|d| code_span(d)).collect();
    format!(" on {}", names.join(", "))
}

/// `text` as a Markdown code span that stays one cell of a table: no backticks, pipes or
/// line breaks inside it, so nothing a program printed becomes markup.
fn code_span(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c == '`' || c == '|' || c.is_control() { ' ' } else { c }).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "(blank)".into()
    } else {
        format!("`{cleaned}`")
    }
}

/// The first scenario whose runs made warm fits, with its summary.
fn fits_scenario(report: &Analysis) -> Option<(&ScenarioPlan, &ScenarioSummary)> {
    report.plan.scenarios.iter().zip(&report.summary.scenarios).find(|(plan, summary)| {
        plan.has_fits()
            && summary.points.iter().flat_map(|p| &p.implementations).any(|i| i.fits.as_ref().is_some_and(|f| f.first.is_some()))
    })
}

/// A figure of a warm-fits summary, for picking winners.
type FitsFigure = fn(&FitsSummary) -> Option<&Distribution>;

fn one_off(f: &FitsSummary) -> Option<&Distribution> {
    f.one_off.as_ref()
}

fn warm(f: &FitsSummary) -> Option<&Distribution> {
    f.warm_median.as_ref()
}

/// The implementation with the lowest median of `figure` at the point.
fn winner(point: &PointSummary, figure: FitsFigure) -> Option<(&ImplementationSummary, &FitsSummary, f64)> {
    point
        .implementations
        .iter()
        .filter_map(|i| {
            let f = i.fits.as_ref()?;
            Some((i, f, figure(f)?.median))
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))
}

/// One line for the report's first screen: who wins each view, at which sizes.
pub(super) fn opening_line(report: &Analysis) -> Option<String> {
    let (_, summary) = fits_scenario(report)?;
    let winners = |figure: FitsFigure| {
        let mut by_winner: Vec<(String, Vec<String>)> = Vec::new();
        for point in &summary.points {
            let Some((i, _, _)) = winner(point, figure) else { continue };
            let size = format::count(point.n);
            match by_winner.iter_mut().find(|(name, _)| *name == i.implementation) {
                Some((_, sizes)) => sizes.push(size),
                None => by_winner.push((i.implementation.clone(), vec![size])),
            }
        }
        let each: Vec<String> = by_winner.iter().map(|(name, sizes)| format!("**{name}** at n = {}", sizes.join(", "))).collect();
        match each.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "—".into(),
        }
    };
    Some(format!(
        "**Script or service** (`{}`, [each size below](#verdict-fits)): the fastest one-off script is {}; the fastest long-lived service, by the median warm fit, is {}.",
        summary.name,
        winners(one_off),
        winners(warm)
    ))
}

/// After the headline chart: per size, the winner of each view against the baseline, and where
/// the highlighted implementations stand.
pub(super) fn verdict(out: &mut String, report: &Analysis) {
    let Some((plan, summary)) = fits_scenario(report) else { return };
    let _ = writeln!(
        out,
        "<a id=\"verdict-fits\"></a>**One-off script or long-lived service** (`{}`; a script = start-up + load + one fit, a service = one warm fit; medians, 95% CIs; [details](#fits-{})):\n",
        summary.name, summary.name
    );
    for point in &summary.points {
        let (Some(script), Some(service)) = (winner(point, one_off), winner(point, warm)) else { continue };
        let baseline = point.implementations.iter().find(|i| i.implementation == summary.baseline);
        let mut parts = vec![
            format!("script: {}", winner_text(script, baseline, (one_off, false), |f| f.one_off_speedup_vs_baseline.as_ref())),
            format!("service: {}", winner_text(service, baseline, (warm, true), |f| f.warm_speedup_vs_baseline.as_ref())),
        ];
        parts.extend(plan.highlight.iter().filter_map(|name| highlight_text(point, name, script, service)));
        let _ = writeln!(out, "- **n = {}:** {}", format::count(point.n), parts.join(" · "));
    }
    let _ = writeln!(out);
}

/// "**rust** 612 µs, 133× faster (95% CI …) than python-numpy: 81.2 ms", by `figure`; with
/// `p99` (the warm fit) each time has its 99th percentile beside it.
fn winner_text(
    (i, f, median): (&ImplementationSummary, &FitsSummary, f64),
    baseline: Option<&ImplementationSummary>,
    (figure, p99): (FitsFigure, bool),
    ratio: fn(&FitsSummary) -> Option<&Ratio>,
) -> String {
    let with_p99 = |f: &FitsSummary, median: f64| match f.warm_p99.as_ref().filter(|_| p99) {
        Some(p) => format!("{} (p99 {})", seconds(median), seconds(p.median)),
        None => seconds(median),
    };
    let mut text = format!("**{}**{} {}", i.implementation, on_devices(f), with_p99(f, median));
    let base = baseline.and_then(|b| Some((b, b.fits.as_ref()?))).and_then(|(b, bf)| Some((b, bf, figure(bf)?.median)));
    match (base, ratio(f)) {
        (Some((b, _, _)), _) if b.implementation == i.implementation => text.push_str(", the baseline itself"),
        (Some((b, bf, base_median)), Some(r)) => {
            let _ =
                write!(text, ", {} than {}: {}", format::ratio_with_ci_in_words(r, "faster"), b.implementation, with_p99(bf, base_median));
        }
        _ => {}
    }
    text
}

/// Where one highlighted implementation stands at a point: against each view's winner.
fn highlight_text(
    point: &PointSummary,
    name: &str,
    script: (&ImplementationSummary, &FitsSummary, f64),
    service: (&ImplementationSummary, &FitsSummary, f64),
) -> Option<String> {
    let i = point.implementations.iter().find(|i| i.implementation == name)?;
    let Some(f) = i.fits.as_ref().filter(|_| i.measured()) else {
        return match i.outcome {
            Outcome::NotRun => None,
            outcome => Some(format!("{name}: {}", outcome.as_str())),
        };
    };
    let against = |figure: FitsFigure, (winner, _, best): (&ImplementationSummary, &FitsSummary, f64)| {
        let Some(mine) = figure(f) else { return "—".to_string() };
        if winner.implementation == name {
            format!("{} (the winner)", seconds(mine.median))
        } else {
            format!("{} ({}× the winner's)", seconds(mine.median), sig3(mine.median / best))
        }
    };
    Some(format!("{name}{}: script {}, service {}", on_devices(f), against(one_off, script), against(warm, service)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_name_is_text_in_one_cell() {
        assert_eq!(code_span("cpu:0"), "`cpu:0`");
        assert_eq!(code_span("<b>gpu</b>|`x`\n"), "`<b>gpu</b>  x`");
        assert_eq!(code_span("``"), "(blank)");
    }
}
