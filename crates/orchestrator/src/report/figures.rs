//! Which charts a report has, and the data each shows: the summaries and samples turned into the
//! plain inputs of `charts`. One colour per implementation across every chart of the run.

use std::collections::BTreeSet;
use std::path::Path;

use super::charts::{
    Bar, BarGroup, Chart, ClaimedAndMeasured, ComputeLine, Costs, GroupedBars, HeadlineChart, HeadlinePanel, Latency, LatencyChart,
    LatencyGroup, LimitLine, LineChart, Palette, PhaseChart, PhaseRow, Reference, Roofline, RunSamples, Series, TimeSeries, ValueFormat,
};
use super::{ShortLabels, CHARTS_DIR};
use crate::analysis::summary::{ImplementationSummary, PointSummary, ScenarioSummary};
use crate::analysis::Analysis;
use crate::environment::probes::limits::envelope;
use crate::environment::probes::{ns_per_point, BandwidthAtSize, BYTES_PER_POINT};
use crate::environment::Environment;
use crate::format;
use crate::plan::Claim;

/// A chart written into the run directory.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    pub(crate) scenario: String,
    /// Relative to the run directory, for the Markdown link.
    pub(crate) file: String,
    pub(crate) caption: String,
}

#[derive(Debug, Default)]
pub(crate) struct Figures {
    /// The report's first picture (see [`headline_chart`]).
    pub(crate) headline: Option<Figure>,
    pub(crate) figures: Vec<Figure>,
    /// Charts that could not be drawn, and why (reported, never fatal).
    pub(crate) errors: Vec<String>,
}

/// A scenario's chart file: `<scenario>-<kind>.png`, the kind without a '-' ("scaling_memory",
/// "anatomy_2"), so that the last '-' of the name always ends the scenario's: scenarios `x` and
/// `x-scaling` cannot both own `x-scaling-memory.png`, as they did when a kind could hold one.
fn chart_file_name(scenario: &str, kind: &str) -> String {
    debug_assert!(!kind.contains('-'), "a chart kind with a '-' makes file names ambiguous: {kind}");
    format!("{scenario}-{kind}.png")
}

/// Draws every chart of the report into `charts_dir`; once `stop` says so, draws no more.
pub(crate) fn draw_all(report: &Analysis, charts_dir: &Path, stop: &dyn Fn() -> bool) -> Figures {
    let palette = run_palette(report);
    let mut figures = Figures::default();
    draw_headline(report, charts_dir, &palette, &mut figures);
    for (index, scenario) in report.summary.scenarios.iter().enumerate() {
        let mut draw = |suffix: &str, caption: String, chart: &dyn Chart| {
            if stop() {
                return;
            }
            let file_name = chart_file_name(&scenario.name, suffix);
            match chart.draw(&charts_dir.join(&file_name), &palette) {
                Ok(()) => {
                    figures.figures.push(Figure { scenario: scenario.name.clone(), file: format!("{CHARTS_DIR}/{file_name}"), caption })
                }
                Err(e) => figures.errors.push(format!("{file_name}: {e}")),
            }
        };
        let measured = |p: &PointSummary| p.implementations.iter().any(ImplementationSummary::measured);
        if !scenario.points.iter().any(measured) {
            continue;
        }
        let labels = ShortLabels::of(scenario);
        let wall = bars(
            scenario,
            &labels,
            format!("{}: whole-process wall time (median, 95% CI)", scenario.name),
            "wall time",
            ValueFormat::Seconds,
            |i| i.wall.as_ref().map(|d| (d.median, Some((d.ci_low, d.ci_high)))),
        );
        draw("wall", "Wall time per implementation".into(), &wall);
        let memory_title = format!("{}: peak resident memory (median, 95% CI)", scenario.name);
        let memory = bars(scenario, &labels, memory_title, "peak RSS", ValueFormat::Bytes, |i| {
            i.peak_rss.as_ref().map(|d| (d.median, Some((d.ci_low, d.ci_high))))
        });
        draw("memory", "Peak memory per implementation".into(), &memory);
        if let Some((timeline, point)) = timeline(report, scenario, &labels) {
            draw("timeline", format!("Memory and CPU over time ({point})"), &timeline);
        }
        for (number, chain) in report.anatomy.get(index).into_iter().flatten().enumerate() {
            if let Some(anatomy) = super::anatomy::chart(&scenario.name, chain) {
                let caption = format!(
                    "Start-up anatomy of {}",
                    anatomy.title.split("the pieces of ").nth(1).unwrap_or("").trim_end_matches(" (median, 95% CI)")
                );
                draw(&format!("anatomy_{}", number + 1), caption, &anatomy);
            }
        }
        let phases = phase_chart(scenario, &labels);
        draw("phases", "Where the time goes: start-up, load, train".into(), &phases);
        let distinct_n: BTreeSet<u64> = scenario.points.iter().map(|p| p.n).collect();
        if distinct_n.len() >= 2 {
            let scaling = scaling_chart(report, scenario);
            draw("scaling", "Training cost per point per epoch against n".into(), &scaling);
            let memory_lines = memory_scaling_chart(scenario);
            draw("scaling_memory", "Peak memory against n".into(), &memory_lines);
        }
        if let Some(roofline) = roofline_chart(report, scenario) {
            draw("roofline", "Training cost against the machine's limit at each working-set size".into(), &roofline);
        }
        if let Some(latency) = latency_chart(scenario, &labels) {
            draw("latency", "Time of one fit: the first, and the warm ones from fastest to slowest".into(), &latency);
        }
        if let Some(accuracy) = accuracy_chart(report, index, scenario, &labels) {
            draw("accuracy", "Distance from the least-squares optimum".into(), &accuracy);
        }
    }
    figures
}

/// Each implementation's per-fit latency at each point where its runs made warm fits.
fn latency_chart(scenario: &ScenarioSummary, labels: &ShortLabels) -> Option<LatencyChart> {
    let groups: Vec<LatencyGroup> = scenario
        .points
        .iter()
        .map(|point| LatencyGroup {
            label: labels.label(point),
            columns: point
                .implementations
                .iter()
                .filter_map(|i| {
                    let fits = i.fits.as_ref()?;
                    let median_of = |d: &Option<crate::stats::Distribution>| d.as_ref().map_or(f64::NAN, |d| d.median);
                    Some(Latency {
                        implementation: i.implementation.clone(),
                        fastest: fits.warm_min_seconds.unwrap_or(f64::NAN),
                        median: median_of(&fits.warm_median),
                        p99: median_of(&fits.warm_p99),
                        slowest: fits.warm_max_seconds.unwrap_or(f64::NAN),
                        first: median_of(&fits.first),
                    })
                })
                .collect(),
        })
        .filter(|group| !group.columns.is_empty())
        .collect();
    (!groups.is_empty()).then(|| LatencyChart { title: format!("{}: time of one fit", scenario.name), groups })
}

/// One colour per implementation for every chart of the run, distinct within each scenario
/// (every chart shows one scenario's implementations), handed out in the order the plan names them.
fn run_palette(report: &Analysis) -> Palette {
    let scenarios: Vec<Vec<String>> =
        report.plan.scenarios.iter().map(|s| s.implementations.iter().map(|i| i.name.clone()).collect()).collect();
    Palette::by_group(&scenarios)
}

/// The report's first picture, at the headline point (see [`super::headline`]), when there is one.
fn draw_headline(report: &Analysis, charts_dir: &Path, palette: &Palette, figures: &mut Figures) {
    if let Some((scenario, point)) = super::headline(report) {
        let chart = headline_chart(report, scenario, point);
        let file_name = "headline.png";
        match chart.draw(&charts_dir.join(file_name), palette) {
            Ok(()) => {
                figures.headline = Some(Figure {
                    scenario: scenario.name.clone(),
                    file: format!("{CHARTS_DIR}/{file_name}"),
                    caption: chart.title.clone(),
                })
            }
            Err(e) => figures.errors.push(format!("{file_name}: {e}")),
        }
    }
}

/// The headline: wall time and peak memory of every implementation measured at the headline
/// point, each beside what the scenario's `wall_ms` and `peak_rss_mb` claims say it should be.
fn headline_chart(report: &Analysis, scenario: &ScenarioSummary, point: &PointSummary) -> HeadlineChart {
    let claims: Vec<&Claim> =
        report.plan.scenarios.iter().find(|p| p.name == scenario.name).map(|p| p.expect.iter().collect()).unwrap_or_default();
    let claimed = |implementation: &str, wall: bool| {
        claims.iter().find_map(|claim| match claim {
            Claim::WallMs(c) if wall && c.implementation == implementation && c.point.is_none_or(|p| p == point.index) => {
                Some((c.at_least.map(|v| v * 1e-3), c.at_most.map(|v| v * 1e-3), format::bounds(c.at_least, c.at_most, " ms")))
            }
            Claim::PeakRssMb(c) if !wall && c.implementation == implementation && c.point.is_none_or(|p| p == point.index) => {
                Some((c.at_least.map(|v| v * 1e6), c.at_most.map(|v| v * 1e6), format::bounds(c.at_least, c.at_most, " MB")))
            }
            _ => None,
        })
    };
    let panel = |title: &str, wall: bool, format: ValueFormat| HeadlinePanel {
        title: title.to_string(),
        value_format: format,
        rows: point
            .implementations
            .iter()
            .filter(|i| i.measured())
            .map(|i| {
                let figure = if wall { i.wall.as_ref() } else { i.peak_rss.as_ref() };
                let claim = claimed(&i.implementation, wall);
                ClaimedAndMeasured {
                    implementation: i.implementation.clone(),
                    claimed: claim.as_ref().map(|(low, high, _)| (*low, *high)),
                    claimed_label: claim.map_or(String::new(), |(_, _, label)| format!("claimed {label}")),
                    measured: figure.map(|d| (d.median, d.ci_low, d.ci_high)),
                }
            })
            .collect(),
    };
    let claimed_any = claims.iter().any(|c| matches!(c, Claim::WallMs(_) | Claim::PeakRssMb(_)));
    HeadlineChart {
        title: format!(
            "{}, {}: {}",
            scenario.name,
            ShortLabels::of(scenario).label(point),
            if claimed_any { "claimed (bands) against measured" } else { "measured" }
        ),
        panels: vec![panel("Wall time, whole process", true, ValueFormat::Seconds), panel("Peak memory (RSS)", false, ValueFormat::Bytes)],
    }
}

fn bars(
    scenario: &ScenarioSummary,
    labels: &ShortLabels,
    title: String,
    what: &str,
    format: ValueFormat,
    figure: impl Fn(&ImplementationSummary) -> Option<(f64, Option<(f64, f64)>)>,
) -> GroupedBars {
    let groups = scenario
        .points
        .iter()
        .map(|point| BarGroup {
            label: labels.label(point),
            bars: point
                .implementations
                .iter()
                .filter_map(|i| figure(i).map(|(value, ci)| Bar { implementation: i.implementation.clone(), value, ci }))
                .collect(),
        })
        .filter(|g| !g.bars.is_empty())
        .collect();
    let x_label = if scenario.points.len() > 1 { "scenario point".to_string() } else { String::new() };
    GroupedBars {
        title,
        x_label,
        y_label: what.to_string(),
        groups,
        log_y: None,
        value_format: format,
        legend_title: "Implementation",
        in_given_order: false,
    }
}

/// The point with the most work (n · epochs), and for each implementation the run whose wall time
/// is the median one: what a typical run looks like from outside.
fn timeline(report: &Analysis, scenario: &ScenarioSummary, labels: &ShortLabels) -> Option<(TimeSeries, String)> {
    let point =
        scenario.points.iter().filter(|p| p.implementations.iter().any(|i| i.measured())).max_by_key(|p| p.n.saturating_mul(p.epochs))?;
    let mut runs = Vec::new();
    for i in point.implementations.iter().filter(|i| i.measured()) {
        let median = i.wall.as_ref()?.median;
        let typical = report
            .records
            .iter()
            .filter(|r| {
                r.scenario == scenario.name && r.point == point.index && r.implementation == i.implementation && r.status.is_measurement()
            })
            .min_by(|a, b| {
                (a.wall_seconds.unwrap_or(f64::MAX) - median).abs().total_cmp(&(b.wall_seconds.unwrap_or(f64::MAX) - median).abs())
            })?;
        let samples: Vec<(f64, u64, f64)> = report
            .samples
            .iter()
            .filter(|s| {
                s.scenario == scenario.name
                    && s.point == point.index
                    && s.implementation == i.implementation
                    && s.repetition == typical.repetition
            })
            .map(|s| (s.t_seconds, s.rss_bytes, s.cpu_seconds))
            .collect();
        let step = (typical.wall_seconds.unwrap_or(0.0) / TIMELINE_STEPS).max(CPU_CLOCK_STEP_SECONDS);
        let samples = smooth_cpu(samples, step);
        if !samples.is_empty() {
            runs.push(RunSamples { implementation: i.implementation.clone(), samples });
        }
    }
    let label = labels.label(point);
    (!runs.is_empty()).then(|| {
        (TimeSeries { title: format!("{}, {label}: memory and CPU over time, the median run of each", scenario.name), runs }, label.clone())
    })
}

/// The CPU rate of a timeline is taken over about 1/50 of the run, and never over less than
/// [`CPU_CLOCK_STEP_SECONDS`].
const TIMELINE_STEPS: f64 = 50.0;

/// Another process's CPU clock, read from outside, advances in bursts: on these VMs in ~4 ms steps
/// (the scheduler tick) per thread, so over 1 ms samples a single-threaded program reads 0%, then
/// 400%. Each end of a span can be off by a tick: over 10 ms the rate is within about ±80% of a
/// core, over shorter spans it says more about the kernel than about the program.
pub(crate) const CPU_CLOCK_STEP_SECONDS: f64 = 0.010;

/// Keeps every sample (memory keeps its 1 ms detail) but replaces the cumulative CPU time by its
/// linear interpolation between knots at least `step_seconds` apart (the first and last samples
/// always among them), so the chart's Δcpu/Δt is the average rate over each knot span.
fn smooth_cpu(samples: Vec<(f64, u64, f64)>, step_seconds: f64) -> Vec<(f64, u64, f64)> {
    let Some(&last) = samples.last() else { return samples };
    let mut knots: Vec<(f64, f64)> = Vec::new();
    for &(t, _, cpu) in &samples {
        if knots.last().is_none_or(|k| t - k.0 >= step_seconds) {
            knots.push((t, cpu));
        }
    }
    if knots.last().is_some_and(|k| k.0 < last.0) {
        knots.push((last.0, last.2));
    }
    let mut span = 0;
    samples
        .into_iter()
        .map(|(t, rss, cpu)| {
            while span + 2 < knots.len() && t > knots[span + 1].0 {
                span += 1;
            }
            let smoothed = match (knots.get(span), knots.get(span + 1)) {
                (Some(&(t0, c0)), Some(&(t1, c1))) if t1 > t0 => c0 + (c1 - c0) * ((t - t0) / (t1 - t0)).clamp(0.0, 1.0),
                _ => cpu,
            };
            (t, rss, smoothed)
        })
        .collect()
}

fn phase_chart(scenario: &ScenarioSummary, labels: &ShortLabels) -> PhaseChart {
    let mut rows = Vec::new();
    for point in &scenario.points {
        for i in point.implementations.iter().filter(|i| i.measured()) {
            let median = |d: &Option<crate::stats::Distribution>| d.as_ref().map_or(0.0, |d| d.median);
            // The point: the chart names the implementation itself, and the point only when
            // there are several.
            let label = labels.label(point);
            rows.push(PhaseRow {
                label,
                implementation: i.implementation.clone(),
                startup_seconds: median(&i.startup).max(0.0),
                load_seconds: median(&i.load),
                train_seconds: median(&i.train),
            });
        }
    }
    PhaseChart { title: format!("{}: where the time goes (share of the median wall time)", scenario.name), rows }
}

fn series_by_implementation(
    scenario: &ScenarioSummary,
    figure: impl Fn(&PointSummary, &ImplementationSummary) -> Option<f64>,
) -> Vec<Series> {
    let mut names: Vec<&str> = Vec::new();
    for point in &scenario.points {
        for i in &point.implementations {
            if !names.contains(&i.implementation.as_str()) {
                names.push(&i.implementation);
            }
        }
    }
    names
        .into_iter()
        .map(|name| Series {
            implementation: name.to_string(),
            points: scenario
                .points
                .iter()
                .filter_map(|p| {
                    p.implementations.iter().find(|i| i.implementation == name).and_then(|i| figure(p, i)).map(|y| (p.n as f64, y))
                })
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

fn scaling_chart(report: &Analysis, scenario: &ScenarioSummary) -> LineChart {
    let mut references = Vec::new();
    if let Some(e) = &report.environment {
        for (label, bandwidth) in
            [("1 thread", e.bandwidth_single_thread_bytes_per_second), ("all threads", e.bandwidth_all_threads_bytes_per_second)]
        {
            if let Some(b) = bandwidth.filter(|b| *b > 0.0) {
                let ns = ns_per_point(b);
                // The start of the run's bandwidth curve at its largest size: data past the caches.
                // A point in a cache can beat it; its own limit is the roofline chart's.
                let text = format!("memory-bandwidth limit past the caches, {label}: {} ns", format::sig3(ns));
                references.push(Reference { label: text, y: ns });
            }
        }
    }
    LineChart {
        title: format!("{}: training cost per point per epoch", scenario.name),
        x_label: "n (points)".into(),
        y_label: "train time per point per epoch (ns)".into(),
        x_format: ValueFormat::Plain,
        y_format: ValueFormat::Plain,
        log_x: true,
        log_y: true,
        series: series_by_implementation(scenario, |_, i| i.ns_per_point_epoch),
        references,
    }
}

fn memory_scaling_chart(scenario: &ScenarioSummary) -> LineChart {
    LineChart {
        title: format!("{}: peak resident memory against n", scenario.name),
        x_label: "n (points)".into(),
        y_label: "peak RSS".into(),
        x_format: ValueFormat::Plain,
        y_format: ValueFormat::Bytes,
        log_x: true,
        log_y: true,
        series: series_by_implementation(scenario, |_, i| i.peak_rss.as_ref().map(|d| d.median)),
        references: Vec::new(),
    }
}

/// max(|w − w_ols|, |b − b_ols|) per point and implementation, on a log axis.
fn accuracy_chart(report: &Analysis, index: usize, scenario: &ScenarioSummary, labels: &ShortLabels) -> Option<GroupedBars> {
    let accuracy = report.accuracy.get(index)?;
    let groups: Vec<BarGroup> = scenario
        .points
        .iter()
        .zip(accuracy)
        .map(|(point, a)| BarGroup {
            label: labels.label(point),
            bars: a
                .implementations
                .iter()
                .filter_map(|i| {
                    let distance = i.w_distance_from_ols?.max(i.b_distance_from_ols?);
                    Some(Bar { implementation: i.implementation.clone(), value: distance, ci: None })
                })
                .collect(),
        })
        .filter(|g| !g.bars.is_empty())
        .collect();
    (!groups.is_empty()).then(|| GroupedBars {
        title: format!("{}: distance of the fit from the OLS optimum, max(|Δw|, |Δb|)", scenario.name),
        x_label: String::new(),
        y_label: "max(|w − w_ols|, |b − b_ols|)".into(),
        groups,
        log_y: Some(true),
        value_format: ValueFormat::Plain,
        legend_title: "Implementation",
        in_given_order: false,
    })
}

/// The limits measured right before each point of `scenario` (best samples): (working-set bytes,
/// ns a point an epoch, all threads).
fn point_limits(environment: &Environment, scenario: &str) -> Vec<(f64, f64, bool)> {
    environment
        .point_bandwidth
        .iter()
        .filter(|p| p.scenario == scenario)
        .flat_map(|p| std::iter::once((&p.bandwidth.single_thread, false)).chain(p.bandwidth.all_threads.as_ref().map(|a| (a, true))))
        .filter(|(s, _)| s.bytes_per_second.best > 0.0)
        .map(|(s, all)| (s.working_set_bytes as f64, ns_per_point(s.bytes_per_second.best), all))
        .collect()
}

/// The roofline chart's data for a scenario, when the bandwidth curve was measured and something trained.
fn roofline_chart(report: &Analysis, scenario: &ScenarioSummary) -> Option<Roofline> {
    let environment = report.environment.as_ref()?;
    let curve = environment.bandwidth_curve.as_ref()?;
    let line = |label: String, all_threads: bool, sizes: &[BandwidthAtSize]| LimitLine {
        label,
        all_threads,
        points: envelope(sizes).into_iter().filter(|p| p.1 > 0.0).map(|(bytes, rate)| (bytes, ns_per_point(rate))).collect(),
        measured: sizes
            .iter()
            .filter(|s| s.bytes_per_second.best > 0.0)
            .map(|s| (s.working_set_bytes as f64, ns_per_point(s.bytes_per_second.best)))
            .collect(),
    };
    let mut bandwidth = vec![line("reading the data, 1 thread".into(), false, &curve.single_thread)];
    if curve.threads > 1 {
        bandwidth.push(line(format!("reading the data, {} threads", curve.threads), true, &curve.all_threads));
    }
    let mut compute = Vec::new();
    if let Some(ceiling) = &environment.compute_ceiling {
        let isa = ceiling.instruction_set.name();
        compute.push(ComputeLine {
            label: format!("arithmetic ({isa}), 1 thread"),
            all_threads: false,
            ns_per_point: ceiling.ns_per_point(false),
        });
        if ceiling.threads > 1 {
            compute.push(ComputeLine {
                label: format!("arithmetic ({isa}), {} threads", ceiling.threads),
                all_threads: true,
                ns_per_point: ceiling.ns_per_point(true),
            });
        }
    }
    let mut costs: Vec<Costs> = Vec::new();
    for point in &scenario.points {
        for i in &point.implementations {
            let Some(ns) = i.ns_per_point_epoch.filter(|ns| *ns > 0.0) else { continue };
            let at = (point.n as f64 * BYTES_PER_POINT as f64, ns);
            match costs.iter_mut().find(|c| c.implementation == i.implementation) {
                Some(c) => c.points.push(at),
                None => costs.push(Costs { implementation: i.implementation.clone(), label: i.implementation.clone(), points: vec![at] }),
            }
        }
    }
    if costs.is_empty() {
        return None;
    }
    for c in &mut costs {
        c.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let threads = scenario
            .points
            .iter()
            .flat_map(|p| &p.implementations)
            .filter(|i| i.implementation == c.implementation)
            .filter_map(|i| i.threads)
            .max();
        if let Some(t) = threads.filter(|t| *t > 1) {
            c.label = format!("{} ({t} threads)", c.implementation);
        }
    }
    let mut n: Vec<u64> =
        scenario.points.iter().filter(|p| p.implementations.iter().any(|i| i.ns_per_point_epoch.is_some())).map(|p| p.n).collect();
    n.sort_unstable();
    n.dedup();
    let at_points = point_limits(environment, &scenario.name);
    Some(Roofline {
        title: format!("{}: training cost against the machine's limit", scenario.name),
        bandwidth,
        compute,
        costs,
        n,
        at_points_meet_every_pass: any_all_threads_probe(environment, &scenario.name, |a| a.meets_every_pass),
        at_points_back_and_forth: any_all_threads_probe(environment, &scenario.name, |a| a.blocks_back_and_forth),
        at_points,
    })
}

/// Whether any of the scenario's points' all-threads probes has `property`.
fn any_all_threads_probe(environment: &Environment, scenario: &str, property: impl Fn(&BandwidthAtSize) -> bool) -> bool {
    environment.point_bandwidth.iter().any(|p| p.scenario == scenario && p.bandwidth.all_threads.as_ref().is_some_and(&property))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{self, RunSummary};
    use crate::environment::Environment;
    use crate::plan::{Plan, ScenarioPlan};

    #[test]
    fn cpu_is_averaged_over_each_span_and_memory_kept() {
        // CPU in 4 ms bursts read every 1 ms: 0, 0, 0, 4 ms, 4, 4, 4, 8 ms …
        let samples: Vec<(f64, u64, f64)> = (0..=12).map(|k| (k as f64 * 1e-3, 1000 + k as u64, (k / 4) as f64 * 4e-3)).collect();
        let smoothed = smooth_cpu(samples.clone(), 0.004);
        assert_eq!(smoothed.len(), samples.len());
        assert!(smoothed.iter().zip(&samples).all(|(a, b)| a.0 == b.0 && a.1 == b.1), "time and memory untouched");
        for pair in smoothed.windows(2) {
            let rate = (pair[1].2 - pair[0].2) / (pair[1].0 - pair[0].0);
            assert!((rate - 1.0).abs() < 1e-9, "one core throughout, got {rate} at t = {}", pair[0].0);
        }
        assert_eq!(smooth_cpu(Vec::new(), 0.004), Vec::new());
        assert_eq!(smooth_cpu(vec![(0.5, 1, 0.2)], 0.004), vec![(0.5, 1, 0.2)]);
    }

    fn report_with(environment: Option<Environment>, summary: RunSummary) -> Analysis {
        Analysis { environment, ..crate::testutil::analysis(Plan { scenarios: vec![] }, summary) }
    }

    #[test]
    fn the_chart_has_both_limits_and_every_cost_and_is_drawn() {
        let plan = summary::tests::plan_of(&["rust", "python"], "python");
        let mut rows = vec![
            summary::tests::row("rust", 1, crate::records::RunStatus::Ok, 0.001, 0.0001, 0.0002, 1),
            summary::tests::row("python", 1, crate::records::RunStatus::Ok, 0.1, 0.001, 0.01, 1),
        ];
        rows[0].threads = Some(2);
        let (curve, ceiling) = crate::environment::probes::limits::tests::machine();
        let environment = Environment { bandwidth_curve: Some(curve), compute_ceiling: Some(ceiling), ..Default::default() };
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), Some(&environment));
        let report = report_with(Some(environment), summary);
        let roofline = roofline_chart(&report, &report.summary.scenarios[0]).expect("a chart");
        assert_eq!(roofline.bandwidth.len(), 2);
        assert_eq!(roofline.compute.len(), 2);
        // 16 B at 100 GB/s at 1 MiB on one thread.
        assert_eq!(roofline.bandwidth[0].points[0], ((1u64 << 20) as f64, 0.16));
        assert_eq!(roofline.costs.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["rust (2 threads)", "python"]);
        assert_eq!(roofline.costs[0].points, vec![(80.0, 40.0)]);
        assert_eq!(roofline.n, vec![5]);

        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("roofline.png");
        roofline.draw(&path, &Palette::new(&["rust".into(), "python".into()])).expect("drawn");
        assert!(std::fs::metadata(&path).expect("written").len() > 1000);
    }

    /// Each point's short label needs what varies between the scenario's points (see
    /// `ShortLabels`): found once a scenario, the latency chart of 50 000 points with warm fits
    /// is labelled at once (found once a point, as before, it took hours).
    #[test]
    fn the_latency_chart_of_many_points_is_labelled_at_once() {
        let points: Vec<crate::plan::PointPlan> =
            (0..50_000).map(|k| crate::plan::PointPlan { epochs: 1000 + k as u64, ..crate::testutil::point(k) }).collect();
        let plan = Plan { scenarios: vec![ScenarioPlan { points, ..summary::tests::plan_of(&["rust"], "rust").scenarios[0].clone() }] };
        let mut summary = summary::summarise(&plan, &crate::analysis::index::by_point(&[]), None);
        let fits: crate::analysis::fits::FitsSummary = serde_json::from_value(serde_json::json!({"fits": 10})).expect("a fits summary");
        let scenario = &mut summary.scenarios[0];
        scenario.points.iter_mut().for_each(|p| p.implementations[0].fits = Some(fits.clone()));
        let chart = latency_chart(scenario, &ShortLabels::of(scenario)).expect("a chart");
        assert_eq!(chart.groups.len(), 50_000);
        assert_eq!((chart.groups[0].label.as_str(), chart.groups[49_999].label.as_str()), ("epochs=1000", "epochs=50999"));
    }

    #[test]
    fn scenarios_whose_names_run_into_a_chart_kind_get_files_of_their_own() {
        assert_ne!(chart_file_name("x", "scaling_memory"), chart_file_name("x-scaling", "memory"));
        assert_ne!(chart_file_name("x", "anatomy_1"), chart_file_name("x-anatomy", "1"));
        assert_eq!(chart_file_name("seed", "wall"), "seed-wall.png");
    }

    #[test]
    fn no_curve_no_chart() {
        let plan = summary::tests::plan_of(&["rust"], "rust");
        let rows = vec![summary::tests::row("rust", 1, crate::records::RunStatus::Ok, 0.001, 0.0001, 0.0002, 1)];
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let report = report_with(Some(Environment::default()), summary);
        assert!(roofline_chart(&report, &report.summary.scenarios[0]).is_none());
    }
}
