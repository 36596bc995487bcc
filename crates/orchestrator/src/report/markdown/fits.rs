//! Warm, repeated fits (`fits:`): a scenario's section on the service view — per point the time
//! of one fit (the first, the warm median and p99 with their CIs), fits a second per core, the
//! memory held while fitting and the same runs as one-off scripts — and the verdict the report
//! opens with: who wins a one-off script, who wins a long-lived service, and where the
//! scenario's `highlight:` implementations stand against both.

use std::fmt::Write as _;
use std::path::Path;

use crate::analysis::fits::FitsSummary;
use crate::analysis::summary::{ImplementationSummary, Outcome, PointSummary, ScenarioSummary};
use crate::analysis::Analysis;
use crate::format::{self, bytes, seconds, seconds_with_ci, sig3};
use crate::plan::ScenarioPlan;
use crate::report::escape;
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

/// What the one-off figures are where some are not a one-fit process's: runs recorded before
/// that process was run (derived), runs whose one-fit process did not end ok (none); nothing
/// where all are.
fn derived_one_off_note(summary: &ScenarioSummary) -> String {
    let with_fits: Vec<(&ImplementationSummary, &FitsSummary)> =
        summary.points.iter().flat_map(|p| &p.implementations).filter_map(|i| Some((i, i.fits.as_ref()?))).collect();
    let names = |count: fn(&FitsSummary) -> usize| {
        let mut names: Vec<&str> = Vec::new();
        for (i, _) in with_fits.iter().filter(|(_, f)| count(f) > 0) {
            if !names.contains(&i.implementation.as_str()) {
                names.push(&i.implementation);
            }
        }
        names.iter().map(|n| escape::code(n).to_string()).collect::<Vec<_>>().join(", ")
    };
    let total = |count: fn(&FitsSummary) -> usize| with_fits.iter().map(|(_, f)| count(f)).sum::<usize>();
    let (derived, failed) = (total(|f| f.one_off_derived_runs), total(|f| f.one_off_failed_runs));
    let mut note = String::new();
    if derived > 0 {
        let runs: usize = with_fits.iter().filter(|(_, f)| f.fits >= 2).map(|(i, _)| i.runs).sum();
        let (were, their) = if derived == 1 { ("was", "its") } else { ("were", "their") };
        note.push_str(&format!(
            " {derived} of the {runs} runs of K ≥ 2 fits here ({}) {were} recorded before that process was run: {their} one-off figure is wall − train + the first fit of the run of K fits, which counts the exit of a process that has worked for a second, slower than a short process's (0.2 ms more for `rust` on a Zen 4 VM: docs/protocol.md).",
            names(|f| f.one_off_derived_runs)
        ));
    }
    if failed > 0 {
        note.push_str(&format!(
            " {failed} run{} of K fits ha{} no one-off figure ({}): the one-fit process before {} did not end ok, ended otherwise than the run's fits, or was not run after one timed out there; raw.csv's messages say which.",
            if failed == 1 { "" } else { "s" },
            if failed == 1 { "s" } else { "ve" },
            names(|f| f.one_off_failed_runs),
            if failed == 1 { "it" } else { "them" }
        ));
    }
    note
}

/// The section of one scenario with fits; nothing for a scenario without.
pub(super) fn section(out: &mut String, plan: &ScenarioPlan, summary: &ScenarioSummary) {
    if !plan.has_fits() {
        return;
    }
    let _ = writeln!(out, "<a id=\"fits-{}\"></a>\n### Warm, repeated fits: one process, many fits\n", summary.name);
    let _ = writeln!(
        out,
        "Each run loads the data once, then fits K times from w = b = 0, each fit timed by the implementation's monotonic clock. The **first fit** pays for what is cold: caches, page faults, anything compiled at the first call; the **warm** fits 2..K are what a long-lived service pays per request. Per run: its first fit, and the median and 99th percentile (nearest rank) of its warm fits; the tables give the median over the runs [95% bootstrap CI]. **Fits/s/core** = 1 ÷ (warm median × the threads the implementation reports; one when it does not say, so threads a library starts on its own, such as a BLAS's, are not counted). **Memory while fitting**: the largest resident memory sampled while the fits ran (the process's peak, in the results table, may come earlier: an import, the loading). **One-off script**: the same program as a fresh process that fits once (its command without `--fits`), run just before each run of K ≥ 2 fits and timed whole: start-up, load, one fit, exit (a run of one fit is one already); its speed-up and the warm fit's are against **{}**.{}\n",
        summary.baseline,
        derived_one_off_note(summary)
    );
    for point in &summary.points {
        let rows: Vec<(&ImplementationSummary, &FitsSummary)> =
            point.implementations.iter().filter_map(|i| i.fits.as_ref().map(|f| (i, f))).collect();
        if rows.is_empty() {
            continue;
        }
        if summary.points.len() > 1 {
            let _ = writeln!(out, "**{}**\n", escape::text(&point.label));
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

/// " on cpu:0": the devices a run named (whatever the program printed is text here).
fn on_devices(fits: &FitsSummary) -> String {
    if fits.devices.is_empty() {
        return String::new();
    }
    let names: Vec<String> = fits.devices.iter().map(|d| device_text(d)).collect();
    format!(" on {}", names.join(", "))
}

/// A device's name as text ([`escape::text`]): shown as the characters it is, a pipe or a
/// backtick included, in a table cell as in a paragraph (a code span would show the backslash
/// that keeps a pipe in its cell outside a table); control and bidirectional characters as
/// U+FFFD, as everywhere else in the report.
fn device_text(text: &str) -> String {
    if text.trim().is_empty() {
        "(blank)".into()
    } else {
        escape::text(text.trim()).to_string()
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

/// An implementation, its warm-fits summary and its median of a figure.
type Winner<'a> = (&'a ImplementationSummary, &'a FitsSummary, f64);

/// The implementation with the lowest median of `figure` at the point.
fn winner(point: &PointSummary, figure: FitsFigure) -> Option<Winner<'_>> {
    point
        .implementations
        .iter()
        .filter_map(|i| {
            let f = i.fits.as_ref()?;
            Some((i, f, figure(f)?.median))
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))
}

/// The others whose `figure` cannot be told from the winner's: their 95% CI reaches into the
/// winner's (its low end at or below the winner's high end), fastest first. Naming one winner
/// among them would claim a difference the runs do not show: in the Emerald Rapids gallery run
/// rust-simd "won" the 5-point script at 1.37 ms [1.31–1.45] over rust's 1.39 [1.36–1.59] and
/// rust-parallel's 1.40 [1.30–1.65], and python-rust the 10^6 service at 26.5 ms [24.9–27.2] over
/// rust-parallel's 27.2 [25.9–28.4].
fn level_with<'a>(point: &'a PointSummary, figure: FitsFigure, (winner, fits, _): Winner<'_>) -> Vec<(&'a ImplementationSummary, f64)> {
    let Some(best) = figure(fits) else { return Vec::new() };
    let mut level: Vec<(&ImplementationSummary, f64)> = point
        .implementations
        .iter()
        .filter(|i| i.implementation != winner.implementation && i.measured())
        .filter_map(|i| figure(i.fits.as_ref()?).filter(|d| d.ci_low <= best.ci_high).map(|d| (i, d.median)))
        .collect();
    level.sort_by(|a, b| a.1.total_cmp(&b.1));
    level
}

/// The winner of `figure` at `point`, then those level with it ([`level_with`]): the names the
/// first screen gives for each view; none when nothing has the figure.
fn leaders(point: &PointSummary, figure: FitsFigure) -> Vec<&str> {
    let Some(won) = winner(point, figure) else { return Vec::new() };
    std::iter::once(won.0).chain(level_with(point, figure, won).into_iter().map(|(i, _)| i)).map(|i| i.implementation.as_str()).collect()
}

/// Why a view has no figure at a point: none of its runs gave one.
const NO_ONE_OFF: &str = "no one-off figure: see the fits section";
const NO_SERVICE: &str = "no run of 2 or more fits ended ok";

/// "a, b and c".
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// One line for the report's first screen: who wins each view, at which sizes (with the
/// implementations level with the winner, [`level_with`]).
pub(super) fn opening_line(report: &Analysis) -> Option<String> {
    let (_, summary) = fits_scenario(report)?;
    let winners = |figure: FitsFigure, missing: &str| {
        let mut by_winner: Vec<(String, Vec<String>)> = Vec::new();
        for point in &summary.points {
            let leaders = leaders(point, figure);
            let Some((won, level)) = leaders.split_first() else { continue };
            let level: Vec<String> = level.iter().map(|name| name.to_string()).collect();
            let name = match level.is_empty() {
                true => format!("**{won}**"),
                false => format!("**{won}** (level with {})", and_list(&level)),
            };
            let size = format::count(point.n);
            match by_winner.iter_mut().find(|(named, _)| *named == name) {
                Some((_, sizes)) => sizes.push(size),
                None => by_winner.push((name, vec![size])),
            }
        }
        let each: Vec<String> = by_winner.iter().map(|(name, sizes)| format!("{name} at n = {}", sizes.join(", "))).collect();
        if each.is_empty() {
            format!("not known ({missing})")
        } else {
            and_list(&each)
        }
    };
    Some(format!(
        "**Script or service** (`{}`, [each size below](#verdict-fits)): the fastest one-off script is {}; the fastest long-lived service, by the median warm fit, is {}.",
        summary.name,
        winners(one_off, NO_ONE_OFF),
        winners(warm, NO_SERVICE)
    ))
}

/// The first screen's answer to "which should I pick", from the same winners and level sets as
/// [`opening_line`]: for each view, the sizes where a Python program (one the plan starts through
/// a `python…` interpreter) wins or is level with the winner, and those where only a native
/// program is: e.g. "for a one-off script, a native program at every size measured; for a
/// long-lived service, a native program at n = 5, 10^3, and a Python program is as fast at
/// n = 10^5, 10^6 (python-rust, python-numba-fast)".
pub(super) fn pick_line(report: &Analysis) -> Option<String> {
    let (plan, summary) = fits_scenario(report)?;
    let is_python = |name: &str| {
        let program = plan.implementations.iter().find(|i| i.name == name).and_then(|i| i.command.first());
        program.and_then(|p| Path::new(p).file_name()).is_some_and(|f| f.to_string_lossy().starts_with("python"))
    };
    let choice = |figure: FitsFigure, missing: &str| {
        // Per side (native, Python): the sizes where it leads or is level, and the names.
        let mut sides: [(Vec<String>, Vec<String>); 2] = Default::default();
        for point in &summary.points {
            let best = leaders(point, figure);
            if best.is_empty() {
                continue;
            }
            let python = best.iter().any(|name| is_python(name));
            let (sizes, names) = &mut sides[usize::from(python)];
            sizes.push(format::count(point.n));
            for name in best.iter().filter(|name| is_python(name) == python).map(|name| escape::text(name).to_string()) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        let [(native, natives), (python, pythons)] = sides;
        match (native.is_empty(), python.is_empty()) {
            (true, true) => format!("not known at any size ({missing})"),
            (_, true) => format!("a native program at every size measured ({})", and_list(&natives)),
            (true, false) => format!("a Python program is as fast at every size measured ({})", and_list(&pythons)),
            (false, false) => format!(
                "a native program at n = {} ({}), and a Python program is as fast at n = {} ({})",
                native.join(", "),
                and_list(&natives),
                python.join(", "),
                and_list(&pythons)
            ),
        }
    };
    let tails = heavier_tails(summary);
    let tails = if tails.is_empty() { String::new() } else { format!("; not level by the tail: {}", and_list(&tails)) };
    let unscripted = without_one_off(summary);
    let unscripted = if unscripted.is_empty() {
        String::new()
    } else {
        format!(", with no figure for {} at any size (see the fits section)", and_list(&unscripted))
    };
    Some(format!(
        "**Which to pick** (`{}`; the winner or level with it, by the 95% CIs): for a one-off script, {}{unscripted}; for a long-lived service, {}{tails}.",
        summary.name,
        choice(one_off, NO_ONE_OFF),
        choice(warm, NO_SERVICE)
    ))
}

/// The implementations that made warm fits but gave no one-off figure at any size, their one-fit
/// processes having failed there, where others gave one: left out of the script view without a
/// word otherwise (where none gave one, the view says so itself).
fn without_one_off(summary: &ScenarioSummary) -> Vec<String> {
    let mut seen: Vec<(&str, bool)> = Vec::new();
    for (name, fits) in
        summary.points.iter().flat_map(|p| &p.implementations).filter_map(|i| Some((i.implementation.as_str(), i.fits.as_ref()?)))
    {
        let missing = fits.one_off.is_none() && fits.one_off_failed_runs > 0;
        match seen.iter_mut().find(|(n, _)| *n == name) {
            Some((_, all_missing)) => *all_missing &= missing,
            None => seen.push((name, missing)),
        }
    }
    if seen.iter().all(|(_, missing)| *missing) {
        return Vec::new();
    }
    seen.into_iter().filter(|(_, missing)| *missing).map(|(name, _)| escape::text(name).to_string()).collect()
}

/// A tail this much heavier than the winner's is worth a word on the first screen (a service
/// answers every request, not the median one); a lesser one is in the fits section's tables.
const HEAVIER_TAIL: f64 = 1.2;

/// Warm fits a run needs for its p99 to be more than its slowest fit (nearest rank: 100 or more).
const WARM_FITS_FOR_A_P99: u64 = 100;

/// For a service, the winner and each implementation level with it by the median warm fit whose
/// tails are not level, either way: one's warm p99 has a CI wholly above the other's and a median
/// [`HEAVIER_TAIL`] times it or more, e.g. "python-numba-fast's p99 1.46× rust-parallel's at
/// n = 10^6". Only where both runs made 100 warm fits or more: below that a p99 is the slowest
/// fit, and K differs between implementations.
fn heavier_tails(summary: &ScenarioSummary) -> Vec<String> {
    fn tail(f: &FitsSummary) -> Option<&Distribution> {
        f.warm_p99.as_ref().filter(|d| d.median > 0.0 && f.fits > WARM_FITS_FOR_A_P99)
    }
    let mut notes = Vec::new();
    for point in &summary.points {
        let Some(won) = winner(point, warm) else { continue };
        let Some(best) = tail(won.1) else { continue };
        for (level, _) in level_with(point, warm, won) {
            let Some(other) = level.fits.as_ref().and_then(tail) else { continue };
            let pair = [
                (level.implementation.as_str(), other, won.0.implementation.as_str(), best),
                (won.0.implementation.as_str(), best, level.implementation.as_str(), other),
            ];
            for (heavy, heavy_p99, light, light_p99) in pair {
                if heavy_p99.ci_low > light_p99.ci_high && heavy_p99.median >= HEAVIER_TAIL * light_p99.median {
                    notes.push(format!(
                        "{}'s p99 {}× {}'s at n = {}",
                        escape::text(heavy),
                        sig3(heavy_p99.median / light_p99.median),
                        escape::text(light),
                        format::count(point.n)
                    ));
                }
            }
        }
    }
    notes
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
        let script = winner(point, one_off).map(|won| (won, level_with(point, one_off, won)));
        let service = winner(point, warm).map(|won| (won, level_with(point, warm, won)));
        if script.is_none() && service.is_none() {
            continue;
        }
        let baseline = point.implementations.iter().find(|i| i.implementation == summary.baseline);
        let view =
            |name: &str, figure: FitsFigure, won: &Option<(Winner<'_>, Vec<(&ImplementationSummary, f64)>)>, p99: bool, missing: &str| {
                let ratio: fn(&FitsSummary) -> Option<&Ratio> =
                    if p99 { |f| f.warm_speedup_vs_baseline.as_ref() } else { |f| f.one_off_speedup_vs_baseline.as_ref() };
                match won {
                    Some((won, level)) => format!("{name}: {}{}", winner_text(*won, baseline, (figure, p99), ratio), level_text(level)),
                    None => format!("{name}: not known ({missing})"),
                }
            };
        let mut parts = vec![view("script", one_off, &script, false, NO_ONE_OFF), view("service", warm, &service, true, NO_SERVICE)];
        let (script, service) = (script.as_ref().map(|(w, l)| (*w, l.as_slice())), service.as_ref().map(|(w, l)| (*w, l.as_slice())));
        parts.extend(plan.highlight.iter().filter_map(|name| highlight_text(point, name, script, service)));
        let _ = writeln!(out, "- **n = {}:** {}", format::count(point.n), parts.join(" · "));
    }
    let _ = writeln!(out);
}

/// "; level with rust 1.39 ms and rust-parallel 1.40 ms (95% CIs overlap)", or nothing.
fn level_text(level: &[(&ImplementationSummary, f64)]) -> String {
    if level.is_empty() {
        return String::new();
    }
    let named: Vec<String> = level.iter().map(|(i, median)| format!("{} {}", i.implementation, seconds(*median))).collect();
    format!("; level with {} (95% CIs overlap)", and_list(&named))
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

/// Where one highlighted implementation stands at a point: against each view's winner, and
/// whether it is level with it.
fn highlight_text(
    point: &PointSummary,
    name: &str,
    script: Option<(Winner<'_>, &[(&ImplementationSummary, f64)])>,
    service: Option<(Winner<'_>, &[(&ImplementationSummary, f64)])>,
) -> Option<String> {
    let i = point.implementations.iter().find(|i| i.implementation == name)?;
    let Some(f) = i.fits.as_ref().filter(|_| i.measured()) else {
        return match i.outcome {
            Outcome::NotRun => None,
            outcome => Some(format!("{name}: {}", outcome.as_str())),
        };
    };
    let against = |figure: FitsFigure, view: Option<(Winner<'_>, &[(&ImplementationSummary, f64)])>| {
        let (Some(mine), Some(((winner, _, best), level))) = (figure(f), view) else { return "—".to_string() };
        if winner.implementation == name {
            format!("{} (the winner)", seconds(mine.median))
        } else if level.iter().any(|(i, _)| i.implementation == name) {
            format!("{} ({}× the winner's, level with it)", seconds(mine.median), sig3(mine.median / best))
        } else {
            format!("{} ({}× the winner's)", seconds(mine.median), sig3(mine.median / best))
        }
    };
    Some(format!("{name}{}: script {}, service {}", on_devices(f), against(one_off, script), against(warm, service)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{self, tests::plan_of, tests::row};
    use crate::records::{RawRecord, RunStatus};

    #[test]
    fn implementations_whose_intervals_reach_the_winners_are_named_level_with_it() {
        // Warm medians a run (3 runs each): rust 1.00–1.02 ms, python-rust 1.015–1.03 ms (its
        // interval reaches into rust's), numpy 2.0–2.2 ms.
        let analysis = service([
            ("rust", [1.00e-3, 1.01e-3, 1.02e-3]),
            ("python-rust", [1.015e-3, 1.02e-3, 1.03e-3]),
            ("numpy", [2.0e-3, 2.1e-3, 2.2e-3]),
        ]);
        let summary = &analysis.summary;
        let point = &summary.scenarios[0].points[0];
        let won = winner(point, warm).expect("a winner");
        assert_eq!(won.0.implementation, "rust");
        let level = level_with(point, warm, won);
        let names: Vec<&str> = level.iter().map(|(i, _)| i.implementation.as_str()).collect();
        assert_eq!(names, ["python-rust"], "numpy's interval lies far above");
        assert_eq!(level_text(&level), "; level with python-rust 1.02 ms (95% CIs overlap)");
        let line = highlight_text(point, "python-rust", Some((won, &level)), Some((won, &level))).expect("highlighted");
        assert!(line.contains("1.02 ms (1.01× the winner's, level with it)"), "{line}");
        assert_eq!(level_text(&[]), "");
        assert_eq!(and_list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    }

    /// A production-like analysis of rust (a native program), python-rust and numpy (Python, the
    /// baseline): three runs each with the given warm medians, the first fit twice the warm one.
    fn service(medians_by_name: [(&str, [f64; 3]); 3]) -> Analysis {
        service_with_tails(medians_by_name, [1.5; 3])
    }

    /// [`service`], each implementation's warm p99 its median times its `p99_factors` entry.
    fn service_with_tails(medians_by_name: [(&str, [f64; 3]); 3], p99_factors: [f64; 3]) -> Analysis {
        service_where(medians_by_name, p99_factors, |_| {})
    }

    /// [`service_with_tails`], each row then changed by `edit`.
    fn service_where(medians_by_name: [(&str, [f64; 3]); 3], p99_factors: [f64; 3], edit: fn(&mut RawRecord)) -> Analysis {
        let mut plan = plan_of(&["rust", "python-rust", "numpy"], "numpy");
        let scenario = &mut plan.scenarios[0];
        for implementation in &mut scenario.implementations {
            let program = if implementation.name == "rust" { "/opt/linreg" } else { "/venv/bin/python3.11" };
            implementation.command = vec![program.into(), "script.py".into()];
            scenario.points[0].fits.insert(implementation.name.clone(), 101);
        }
        let rows: Vec<RawRecord> = medians_by_name
            .iter()
            .zip(p99_factors)
            .flat_map(|((name, medians), p99_factor)| {
                medians.iter().enumerate().map(move |(k, median)| RawRecord {
                    fits: Some(101),
                    fit_first_seconds: Some(2.0 * median),
                    fit_warm_median_seconds: Some(*median),
                    fit_warm_p99_seconds: Some(p99_factor * median),
                    ..row(name, k as u32 + 1, RunStatus::Ok, if *name == "rust" { 0.1 } else { 0.5 }, 0.01, 101.0 * median, 1)
                })
            })
            .map(|mut row| {
                edit(&mut row);
                row
            })
            .collect();
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        crate::testutil::analysis(plan, summary)
    }

    #[test]
    fn which_to_pick_names_python_where_it_is_level_with_the_best_and_native_where_not() {
        let level = service([("rust", [1.00e-3, 1.01e-3, 1.02e-3]), ("python-rust", [1.015e-3, 1.02e-3, 1.03e-3]), ("numpy", [2e-3; 3])]);
        let line = pick_line(&level).expect("a fits scenario");
        assert!(line.contains("for a one-off script, a native program at every size measured (rust);"), "{line}");
        assert!(line.contains("for a long-lived service, a Python program is as fast at every size measured (python-rust)."), "{line}");
        let apart = service([("rust", [1.00e-3, 1.01e-3, 1.02e-3]), ("python-rust", [1.5e-3, 1.6e-3, 1.7e-3]), ("numpy", [2e-3; 3])]);
        let line = pick_line(&apart).expect("a fits scenario");
        assert!(line.contains("for a long-lived service, a native program at every size measured (rust)."), "{line}");
    }

    #[test]
    fn a_view_without_a_figure_says_why_and_the_other_view_stands() {
        let medians = [("rust", [1.00e-3, 1.01e-3, 1.02e-3]), ("python-rust", [1.5e-3, 1.6e-3, 1.7e-3]), ("numpy", [2e-3; 3])];
        let no_one_off = service_where(medians, [1.5; 3], |row| {
            (row.one_off_status, row.one_off_wall_seconds) = (Some(RunStatus::Failed), Some(1e-3));
        });
        let pick = pick_line(&no_one_off).expect("a fits scenario");
        assert!(pick.contains("for a one-off script, not known at any size (no one-off figure: see the fits section);"), "{pick}");
        assert!(pick.contains("for a long-lived service, a native program at every size measured (rust)."), "{pick}");
        let opening = opening_line(&no_one_off).expect("a fits scenario");
        assert!(opening.contains("the fastest one-off script is not known (no one-off figure: see the fits section);"), "{opening}");
        // One implementation without a one-off figure, the others with: named, not left out silently.
        let one_failed = service_where(medians, [1.5; 3], |row| {
            if row.implementation == "python-rust" {
                (row.one_off_status, row.one_off_wall_seconds) = (Some(RunStatus::Failed), Some(1e-3));
            }
        });
        let pick = pick_line(&one_failed).expect("a fits scenario");
        assert!(pick.contains("(rust), with no figure for python-rust at any size (see the fits section); for a long-lived"), "{pick}");
        let mut verdict_text = String::new();
        verdict(&mut verdict_text, &no_one_off);
        assert!(
            verdict_text.contains("- **n = 5:** script: not known (no one-off figure: see the fits section) · service: **rust**"),
            "{verdict_text}"
        );
    }

    #[test]
    fn which_to_pick_says_when_one_level_by_the_median_has_a_heavier_tail() {
        let medians = [("rust", [1.00e-3, 1.01e-3, 1.02e-3]), ("python-rust", [1.015e-3, 1.02e-3, 1.03e-3]), ("numpy", [2e-3; 3])];
        let line = pick_line(&service_with_tails(medians, [1.5, 4.5, 1.5])).expect("a fits scenario");
        assert!(
            line.ends_with("a Python program is as fast at every size measured (python-rust); not level by the tail: python-rust's p99 3.03× rust's at n = 5."),
            "{line}"
        );
        // The winner's own tail, heavier than the level one's: said the other way round.
        let line = pick_line(&service_with_tails(medians, [4.5, 1.5, 1.5])).expect("a fits scenario");
        assert!(line.ends_with("(python-rust); not level by the tail: rust's p99 2.97× python-rust's at n = 5."), "{line}");
        // Fewer than 100 warm fits a run: a p99 is the slowest fit, not a tail; nothing said.
        let mut few = service_with_tails(medians, [1.5, 4.5, 1.5]);
        for f in few
            .summary
            .scenarios
            .iter_mut()
            .flat_map(|s| &mut s.points)
            .flat_map(|p| &mut p.implementations)
            .filter_map(|i| i.fits.as_mut())
        {
            f.fits = 99;
        }
        assert!(!pick_line(&few).expect("a fits scenario").contains("by the tail"));
        // A tail 2% heavier (its CI apart: these runs hardly spread), or one whose CI meets the
        // winner's: nothing said.
        for factors in [[1.5, 1.53, 1.5], [1.5, 1.49, 1.5]] {
            let line = pick_line(&service_with_tails(medians, factors)).expect("a fits scenario");
            assert!(!line.contains("by the tail"), "{factors:?}: {line}");
        }
    }

    #[test]
    fn a_point_label_from_a_sent_plan_is_text() {
        let mut plan = plan_of(&["rust"], "rust");
        plan.scenarios[0].points[0].fits.insert("rust".into(), 101);
        let rows: Vec<RawRecord> = (1..=3)
            .map(|k| RawRecord {
                fits: Some(101),
                fit_first_seconds: Some(2e-3),
                fit_warm_median_seconds: Some(1e-3),
                fit_warm_p99_seconds: Some(1.5e-3),
                ..row("rust", k, RunStatus::Ok, 0.5, 0.01, 0.1, 1)
            })
            .collect();
        let mut summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let mut forged = summary.scenarios[0].points[0].clone();
        forged.label = "n=5**\n\n## Verdict\n\n![chart](charts/headline.png) <img src=x>\u{202E}".into();
        summary.scenarios[0].points.push(forged);
        let mut out = String::new();
        section(&mut out, &plan.scenarios[0], &summary.scenarios[0]);
        assert!(out.contains("**n=5\\*\\*"), "the label is there, as text: {out}");
        for markup in ["\n## Verdict", "![chart]", " <img", "\u{202E}"] {
            assert!(!out.contains(markup), "{markup:?} in {out}");
        }
    }

    #[test]
    fn a_device_name_is_text_in_one_cell() {
        assert_eq!(device_text("cpu:0"), "cpu:0");
        assert_eq!(device_text("<b>gpu</b>|`x`\n"), "\\<b\\>gpu\\</b\\>\\|\\`x\\`");
        assert_eq!(device_text("cpu\u{202E}gnp.exe\u{2066}x"), "cpu\u{FFFD}gnp.exe\u{FFFD}x");
        assert_eq!(device_text(" \n"), "(blank)");
    }
}
