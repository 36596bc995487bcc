//! The report's first screen: the answer in a few short lines (speed, memory, where the time
//! goes, the claims), the headline chart, and a table of contents on one line.

use std::fmt::Write as _;

use super::limit_note;
use crate::analysis::claims::Verdict;
use crate::analysis::summary::{ImplementationSummary, PointSummary, ScenarioSummary};
use crate::analysis::Analysis;
use crate::format::{self, bytes, percent, seconds};
use crate::report::escape::{code, id, text};
use crate::report::figures::Figures;
use crate::report::marks::Mark;

/// The first screen: the answer in a few short lines, then the headline chart.
pub(super) fn answer_section(out: &mut String, report: &Analysis, figures: &Figures) {
    let mut lines = Vec::new();
    if let Some((scenario, point)) = crate::report::headline(report) {
        let plan = report.plan.scenarios.iter().find(|p| p.name == scenario.name);
        // A run of warm fits counts K of them in its whole process: the verdict on fits speaks for it.
        let mut quoted: Vec<&str> = Vec::new();
        if plan.is_none_or(|plan| !plan.has_fits()) {
            let (small, names) = small_point_lines(scenario, point, |name| plan.is_none_or(|plan| plan.has_fit(name)));
            lines.extend(small);
            quoted = names;
        }
        // Where start-up goes, piece by piece, when the run measured the start-up anatomy; a
        // program quoted above is not given a second figure from another scenario.
        if let Some(piece) = crate::report::anatomy::biggest_piece_sentence(report, |name| quoted.contains(&name)) {
            lines.push(format!("**The biggest piece:** {piece}."));
        }
        lines.extend(super::conditions::opening_lines(report, scenario, point.index));
        let claims: Vec<_> = report.claims.iter().filter(|c| c.scenario == scenario.name).collect();
        if !claims.is_empty() {
            let held = claims.iter().filter(|c| c.verdict == Verdict::Held).count();
            // Claims that read and fare alike (w ≈ 2 for rust and for numpy) share one item.
            let mut items: Vec<(Verdict, Vec<&str>, &str)> = Vec::new();
            for c in &claims {
                match items.iter_mut().find(|(verdict, _, short)| *verdict == c.verdict && *short == c.short) {
                    Some((_, subjects, _)) => subjects.push(&c.subject),
                    None => items.push((c.verdict, vec![&c.subject], &c.short)),
                }
            }
            let items: Vec<String> = items
                .iter()
                .map(|(verdict, subjects, short)| format!("{} {} {}", Mark::of_verdict(*verdict), text(&subjects.join(", ")), text(short)))
                .collect();
            lines.push(format!(
                "**The claims of {}: {held} of {} held.** {} ([details](#claims-{}))",
                code(&scenario.name),
                claims.len(),
                items.join(" · "),
                id(&scenario.name)
            ));
        }
        let elsewhere = report.claims.iter().filter(|c| c.scenario != scenario.name).count();
        if elsewhere > 0 {
            let held = report.claims.iter().filter(|c| c.scenario != scenario.name && c.verdict == Verdict::Held).count();
            lines.push(format!("Other scenarios' claims: {held} of {elsewhere} held."));
        }
    }
    if let Some(line) = super::fits::opening_line(report) {
        lines.push(line);
    }
    if let Some(line) = super::fits::pick_line(report) {
        lines.push(line);
    }
    if let Some(line) = large_point_line(report) {
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push("No implementation finished a run: see the statuses below.".into());
    }
    for line in lines {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out);
    if let Some(figure) = figures.headline.as_ref() {
        let _ = writeln!(out, "![{}]({})\n", text(&figure.caption), figure.file);
    }
}

/// A table of contents on one line: the scenarios in the order they ran, then the appendices.
pub(super) fn contents(out: &mut String, report: &Analysis) {
    let mut entries: Vec<String> =
        report.summary.scenarios.iter().map(|s| format!("[{}](#scenario-{})", text(&s.name), id(&s.name))).collect();
    entries.push("[Environment](#environment)".into());
    entries.push("[Measurement notes](#measurement-notes)".into());
    let _ = writeln!(out, "**Contents:** {}\n", entries.join(" · "));
}

/// At the largest n where at least two implementations have a training cost: the cheapest and
/// the dearest, and the machine's limit beside them.
fn large_point_line(report: &Analysis) -> Option<String> {
    let costed = |p: &PointSummary| p.implementations.iter().filter(|i| i.ns_per_point_epoch.is_some()).count();
    let (scenario, point) = report
        .summary
        .scenarios
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s, p)))
        .filter(|(_, p)| costed(p) >= 2)
        // The largest n, and there the point comparing the most implementations.
        .max_by_key(|(_, p)| (p.n, costed(p)))
        .filter(|(_, p)| p.n >= 100_000)?;
    let mut costs: Vec<(&ImplementationSummary, f64)> =
        point.implementations.iter().filter_map(|i| i.ns_per_point_epoch.map(|ns| (i, ns))).collect();
    costs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (best, worst) = (costs.first()?, costs.last()?);
    // A limit whose probes disagree is the faster of two machines: the first screen says so, as
    // the point's own note does (a busy spell's probe before, a quiet one's after).
    let disagree = report.environment.as_ref().and_then(|e| e.point_probe(&scenario.name, point.index)).and_then(limit_note::disagreement);
    let limit = limit_phrase(best.0.limit_ns_per_point_epoch, disagree);
    Some(format!(
        "**At n = {} ({}) training dominates:** {} trains at {} ns per point per epoch{limit}, {} at {} ns, {}× slower.",
        format::count(point.n),
        code(&scenario.name),
        text(&best.0.implementation),
        format::sig3(best.1),
        text(&worst.0.implementation),
        format::sig3(worst.1),
        format::sig3(worst.1 / best.1)
    ))
}

/// " (the machine's limit is 0.207 ns)", and whether it is uncertain: `disagree` says how its
/// probes disagree ([`limit_note::disagreement`]).
fn limit_phrase(limit: Option<f64>, disagree: Option<String>) -> String {
    match (limit, disagree) {
        (Some(limit), None) => format!(" (the machine's limit is {} ns)", format::sig3(limit)),
        (Some(limit), Some(apart)) => {
            format!(
                " (the machine's limit is {} ns, uncertain: the probes before and after its runs disagree, {apart})",
                format::sig3(limit)
            )
        }
        (None, _) => String::new(),
    }
}

/// Speed, memory and where the time goes, at the headline point: the fastest implementation that
/// does the job against the baseline. Also the implementations whose wall time they quote.
fn small_point_lines<'a>(
    scenario: &'a ScenarioSummary,
    point: &'a PointSummary,
    does_the_job: impl Fn(&str) -> bool,
) -> (Vec<String>, Vec<&'a str>) {
    let mut lines = Vec::new();
    let Some(baseline) = point.implementations.iter().find(|i| i.implementation == scenario.baseline && i.measured()) else {
        return (lines, Vec::new());
    };
    let mut quoted = vec![baseline.implementation.as_str()];
    let wall_of = |i: &ImplementationSummary| i.wall.as_ref().map_or(f64::MAX, |d| d.median);
    let fastest = point
        .implementations
        .iter()
        .filter(|i| i.measured() && i.implementation != scenario.baseline && does_the_job(&i.implementation))
        .min_by(|a, b| wall_of(a).total_cmp(&wall_of(b)));
    let base_wall = baseline.wall.as_ref().map_or(f64::NAN, |d| d.median);
    if let Some(fastest) = fastest {
        quoted.push(&fastest.implementation);
        if let Some(speed) = &fastest.speedup_vs_baseline {
            lines.push(format!(
                "**Speed** at n = {} ({}): {} ran the whole job in {} against {} for {}: **{}**.",
                format::count(point.n),
                code(&scenario.name),
                text(&fastest.implementation),
                seconds(wall_of(fastest)),
                seconds(base_wall),
                text(&baseline.implementation),
                format::ratio_with_ci_in_words(speed, "faster")
            ));
        }
        if let (Some(memory), Some(fast_rss), Some(base_rss)) = (&fastest.memory_ratio_vs_baseline, &fastest.peak_rss, &baseline.peak_rss) {
            lines.push(format!(
                "**Memory:** {} peaked at {} against {}: **{}**.",
                text(&fastest.implementation),
                bytes(fast_rss.median),
                bytes(base_rss.median),
                format::ratio_with_ci_in_words(memory, "less")
            ));
        }
    }
    if let Some(startup) = &baseline.startup {
        lines.push(format!(
            "**Where the time goes:** start-up (process, interpreter, imports) is {} of {}'s {}; its training takes {}.",
            percent(startup.median / base_wall),
            text(&baseline.implementation),
            seconds(base_wall),
            baseline.train.as_ref().map_or("—".into(), |t| seconds(t.median))
        ));
    }
    (lines, quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_whose_probes_disagree_is_called_uncertain_on_the_first_screen() {
        assert_eq!(limit_phrase(Some(0.207), None), " (the machine's limit is 0.207 ns)");
        let apart = "2 threads 0.816 ns before, 0.197 after".to_string();
        let phrase = limit_phrase(Some(0.207), Some(apart));
        assert!(
            phrase.contains("0.207 ns, uncertain: the probes before and after its runs disagree, 2 threads 0.816 ns before"),
            "{phrase}"
        );
        assert_eq!(limit_phrase(None, Some("1 thread 1 ns before, 2 after".into())), "");
    }
}
