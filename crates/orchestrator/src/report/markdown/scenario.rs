//! A scenario's section: what was run, then per point the results table and where the time
//! goes, the start-up anatomy, the charts, accuracy and claims.

use std::fmt::Write as _;

use super::status_cell;
use crate::analysis::summary::{ImplementationSummary, Outcome, PointSummary, ScenarioSummary};
use crate::analysis::Analysis;
use crate::format::{self, bytes, percent, seconds, seconds_with_ci};
use crate::plan::{Measure, Order, ScenarioPlan};
use crate::report::escape::{code, id, paragraphs, text};
use crate::report::figures::Figures;
use crate::report::ShortLabels;

pub(super) fn scenario_section(
    out: &mut String,
    report: &Analysis,
    index: usize,
    plan: &ScenarioPlan,
    summary: &ScenarioSummary,
    figures: &Figures,
) {
    let _ = writeln!(out, "<a id=\"scenario-{}\"></a>\n## Scenario {}\n", id(&summary.name), code(&summary.name));
    if !plan.description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", paragraphs(&plan.description));
    }
    let m = &plan.measure;
    let data = plan.points.first().map_or(String::new(), |p| p.data_description.clone());
    let _ = writeln!(
        out,
        "Data: {}. Each point: {} warm-up and {} counted run(s) per implementation, {}, sampled {}; timeout {} s. Ratios are against **{}** (> 1× means faster or leaner).{}\n",
        text(&data),
        m.warmup,
        m.repetitions,
        match m.order {
            Order::Interleaved => "interleaved (A B C A B C …)",
            Order::Grouped => "grouped (A A … B B …)",
        },
        sampled(m),
        m.timeout_seconds,
        text(&summary.baseline),
        super::warnings::shortfall([summary])
            .filter(|_| !super::partial::yet_to_run(report, &summary.name))
            .map_or(String::new(), |shortfall| format!(" **Incomplete: {}.**", text(&shortfall)))
    );
    super::fits::results_note(out, plan);
    let labels = ShortLabels::of(summary);
    for point in &summary.points {
        if summary.points.len() > 1 {
            let _ = writeln!(out, "### {}\n", text(&point.label));
        }
        results_table(out, point, &summary.baseline);
        phases_table(out, point, report);
        super::limit_note::point(out, &summary.name, point, report);
        super::huge_pages::point(out, point);
        super::prefetch::point(out, point);
    }
    if let Some(paragraph) = super::conditions::scenario_paragraph(report, summary, &labels) {
        let _ = writeln!(out, "{paragraph}");
    }
    crate::report::anatomy::section(out, report, index);
    super::fits::section(out, plan, summary);
    let mine: Vec<_> = figures.figures.iter().filter(|f| f.scenario == summary.name).collect();
    if !mine.is_empty() {
        let _ = writeln!(out, "### Charts\n");
        for figure in mine {
            let caption = text(&figure.caption);
            let _ = writeln!(out, "**{caption}**\n\n![{caption}]({})\n", figure.file);
        }
    }
    if let Some(accuracy) = report.accuracy.get(index) {
        super::accuracy::accuracy_section(out, summary, &labels, accuracy);
    }
    super::claims::claims_section(out, report, summary, &labels);
}

/// A ratio against the baseline with its CI; the baseline's own row says what it is.
fn ratio_cell(i: &ImplementationSummary, baseline: &str, ratio: Option<&crate::stats::Ratio>) -> String {
    if i.implementation == baseline {
        return "baseline".into();
    }
    ratio.map_or("—".into(), format::ratio_with_ci_in_brackets)
}

fn results_table(out: &mut String, point: &PointSummary, baseline: &str) {
    let _ = writeln!(out, "| implementation | wall [95% CI] | CPU | peak RSS | speed-up | memory ratio | status |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for i in &point.implementations {
        if i.outcome == Outcome::NotRun {
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            text(&i.implementation),
            i.wall.as_ref().map_or("—".into(), |d| seconds_with_ci(d.median, d.ci_low, d.ci_high)),
            i.cpu.as_ref().map_or("—".into(), |d| seconds(d.median)),
            i.peak_rss.as_ref().map_or("—".into(), |d| bytes(d.median)),
            ratio_cell(i, baseline, i.speedup_vs_baseline.as_ref()),
            ratio_cell(i, baseline, i.memory_ratio_vs_baseline.as_ref()),
            status_cell(i),
        );
    }
    let _ = writeln!(out);
    for i in point.implementations.iter().filter(|i| i.message.is_some() && i.outcome != Outcome::Ok) {
        let message: String = i.message.as_deref().unwrap_or("").chars().take(300).collect();
        let _ = writeln!(out, "> **{}**: {}\n", text(&i.implementation), text(&message));
    }
}

fn phases_table(out: &mut String, point: &PointSummary, report: &Analysis) {
    let measured: Vec<&ImplementationSummary> = point.implementations.iter().filter(|i| i.measured()).collect();
    if measured.is_empty() {
        return;
    }
    let floor = report.environment.as_ref().and_then(|e| e.spawn_floor_seconds);
    let _ = writeln!(
        out,
        "Where the time goes (medians): start-up = wall − load − train, as each implementation times its own load and train; ns/point/epoch is the training time per point per epoch, against the machine's limit at that n: the larger of reading its 16 bytes at the bandwidth measured for a working set of that size and its arithmetic at the compute ceiling, for the threads it used (the roofline chart shows both).{}\n",
        floor.map_or(String::new(), |f| format!(" Spawn floor (/bin/true, measured the same way): {}.", seconds(f)))
    );
    let _ = writeln!(
        out,
        "| implementation | start-up | load | train | start-up % | ns/point/epoch | limit (ns) | % of limit | × spawn floor |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for i in measured {
        let median = |d: &Option<crate::stats::Distribution>| d.as_ref().map(|d| d.median);
        let share = median(&i.startup).zip(median(&i.wall)).map(|(s, w)| percent(s / w)).unwrap_or_else(|| "—".into());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            text(&i.implementation),
            median(&i.startup).map_or("—".into(), seconds),
            median(&i.load).map_or("—".into(), seconds),
            median(&i.train).map_or("—".into(), seconds),
            share,
            i.ns_per_point_epoch.map_or("—".into(), format::sig3),
            // Short cells, so the table fits a 1000-px column: what bounds the limit (bandwidth,
            // compute) is in the summary files and on the roofline chart.
            i.limit_ns_per_point_epoch.map_or("—".into(), |limit| format!(
                "{}{}",
                format::sig3(limit),
                i.threads.filter(|t| *t > 1).map_or(String::new(), |t| format!(" ({t} thr.)"))
            )),
            i.fraction_of_limit.map_or("—".into(), percent),
            i.wall_over_spawn_floor.map_or("—".into(), |r| format!("{}×", format::sig3(r))),
        );
    }
    let _ = writeln!(out);
}

/// How the runs were sampled, as the scenario's sentence says it: "every 1 ms for a run's first
/// 1 s, then …", or "every N ms" for plans that sampled at one interval throughout.
fn sampled(m: &Measure) -> String {
    let first = m.sample_interval_ms;
    match m.sample_interval_max_ms.filter(|&max| max > first) {
        Some(max) => {
            let dense_seconds = (u64::from(crate::measure::DENSE_SAMPLES) * first) as f64 / 1e3;
            let crowded = crate::measure::CROWDED_SPACING;
            format!("every {first} ms for a run's first {dense_seconds} s, then less often (the interval doubling as the run's length does, to at most {max} ms; {crowded}× as far apart while the run keeps every CPU busy, so as not to take a CPU from it)")
        }
        None => format!("every {first} ms"),
    }
}
