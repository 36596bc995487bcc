//! The roofline chart, one per scenario: the machine's limit against working-set size — 16 bytes
//! a point over the read bandwidth measured at that size, on one thread and on all, and the epoch's
//! arithmetic at the compute ceiling — with each implementation's training cost at each n set on
//! it. Nothing can sit below the higher of the lines at its size; the distance above is what an
//! implementation leaves on the table.

use std::error::Error as StdError;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{ChartError, Palette, ValueFormat};
use super::format::sig3;
use super::Report;
use crate::environment::Environment;
use crate::probes::limits::envelope;
use crate::probes::{BandwidthAtSize, BYTES_PER_POINT};
use crate::summary::ScenarioSummary;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 800;
/// The plot takes this much of the width; the legend the rest.
const PLOT_WIDTH: u32 = 850;
const FONT: &str = "sans-serif";
const REGULAR_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Each implementation's markers sit this factor along the log x axis from the previous one's.
const DODGE: f64 = 1.07;

const LIMIT_COLOUR: RGBColor = RGBColor(0x22, 0x22, 0x22);
const COMPUTE_COLOUR: RGBColor = RGBColor(0x99, 0x99, 0x99);
const GUIDE_COLOUR: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const TEXT_COLOUR: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED_TEXT: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// What the chart shows, in plain numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Roofline {
    pub title: String,
    /// One line per thread count: (working-set bytes, least ns a point an epoch) at each measured
    /// size, ascending, with the samples it was read from.
    pub bandwidth: Vec<LimitLine>,
    /// One horizontal line per thread count: the arithmetic's least ns a point an epoch.
    pub compute: Vec<ComputeLine>,
    pub costs: Vec<Costs>,
    /// The scenario's n, for the guides along the top.
    pub n: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimitLine {
    pub label: String,
    pub all_threads: bool,
    /// The limit: the bandwidth envelope (see [`envelope`]) as ns a point an epoch.
    pub points: Vec<(f64, f64)>,
    /// The best sample at each size as measured, drawn as dots under the line.
    pub measured: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComputeLine {
    pub label: String,
    pub all_threads: bool,
    pub ns_per_point: f64,
}

/// One implementation's training cost at each n: (16·n bytes, ns a point an epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pub implementation: String,
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// The chart's data for a scenario, when the bandwidth curve was measured and something trained.
pub fn chart(report: &Report, scenario: &ScenarioSummary) -> Option<Roofline> {
    let environment = report.environment.as_ref()?;
    let curve = environment.bandwidth_curve.as_ref()?;
    let ns = |rate: f64| BYTES_PER_POINT as f64 / rate * 1e9;
    let line = |label: String, all_threads: bool, sizes: &[BandwidthAtSize]| LimitLine {
        label,
        all_threads,
        points: envelope(sizes).into_iter().filter(|p| p.1 > 0.0).map(|(bytes, rate)| (bytes, ns(rate))).collect(),
        measured: sizes
            .iter()
            .filter(|s| s.bytes_per_second.best > 0.0)
            .map(|s| (s.working_set_bytes as f64, ns(s.bytes_per_second.best)))
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
    Some(Roofline { title: format!("{}: training cost against the machine's limit", scenario.name), bandwidth, compute, costs, n })
}

/// The environment table's rows about the machine's limits and the instrument's cost, beside the
/// memory bandwidth and spawn floor rows.
pub fn environment_rows(e: &Environment) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(curve) = &e.bandwidth_curve {
        let (first, last) = (curve.single_thread.first(), curve.single_thread.last());
        let span = first.zip(last).map_or(String::new(), |(a, b)| {
            format!(" from {} to {}", bytes_label(a.working_set_bytes as f64), bytes_label(b.working_set_bytes as f64))
        });
        let counts = curve.single_thread.iter().chain(&curve.all_threads).map(|a| a.samples);
        let (fewest, most) = counts.fold((usize::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
        let samples = if fewest == most { most.to_string() } else { format!("{fewest}–{most}") };
        rows.push((
            "read bandwidth against working set",
            format!(
                "{} sizes{span}, 1 and {} threads, {}, best of {samples} samples each (best, median and worst in environment.json; the roofline chart shows them)",
                curve.single_thread.len(),
                curve.threads,
                curve.instruction_set.name()
            ),
        ));
    }
    if let Some(c) = &e.compute_ceiling {
        rows.push((
            "compute ceiling (2 FMA + 2 adds a point)",
            format!(
                "{}: {:.0} GFLOP/s on 1 thread ({} ns/point), {:.0} GFLOP/s on {} threads ({} ns/point)",
                c.instruction_set.name(),
                c.single_thread_flops_per_second.best / 1e9,
                sig3(c.ns_per_point(false)),
                c.all_threads_flops_per_second.best / 1e9,
                c.threads,
                sig3(c.ns_per_point(true))
            ),
        ));
    }
    if let Some(cost) = &e.sampler_cost {
        let ratios: Vec<f64> = cost.pairs.iter().map(|p| p.ratio()).collect();
        let (low, high) = ratios.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        rows.push((
            "sampler's cost on a child using every CPU",
            format!(
                "{:+.1}% time at {} ms sampling against {} ms (median of {} pairs of {} busy threads in barrier-separated rounds; pairs {}–{}×){}",
                cost.slowdown_fraction() * 100.0,
                compact(cost.default_interval_ms),
                compact(cost.sparse_interval_ms),
                cost.pairs.len(),
                cost.threads,
                sig3(low),
                sig3(high),
                if cost.slowdown_fraction() >= SAMPLER_COST_BUDGET { ": above the 3% budget" } else { "" }
            ),
        ));
    }
    if let Some(seconds) = e.probe_seconds {
        rows.push(("the probes took", format!("{seconds:.1} s")));
    }
    rows
}

/// How much the sampler may slow a child that uses every CPU.
const SAMPLER_COST_BUDGET: f64 = 0.03;

type DrawResult<T> = Result<T, Box<dyn StdError + Send + Sync>>;

/// Draws the chart as a PNG.
pub fn draw(path: &Path, chart: &Roofline, palette: &Palette) -> Result<(), ChartError> {
    register_font().map_err(|font| ChartError::Font { path: path.to_path_buf(), font })?;
    let area = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    let drawn = (|| -> DrawResult<()> {
        area.fill(&WHITE)?;
        draw_on(&area, chart, palette)?;
        area.present()?;
        Ok(())
    })();
    drawn.map_err(|source| ChartError::Draw { path: path.to_path_buf(), source })
}

/// plotters draws text only with a registered font: the one the other charts embed, registered
/// here too so this chart never depends on another having been drawn first.
fn register_font() -> Result<(), &'static str> {
    static REGISTERED: OnceLock<Result<(), &'static str>> = OnceLock::new();
    *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, REGULAR_FONT).map_err(|_| "DejaVuSans.ttf"))
}

fn draw_on(area: &DrawingArea<BitMapBackend<'_>, Shift>, chart: &Roofline, palette: &Palette) -> DrawResult<()> {
    let (title_area, body) = area.split_vertically(64);
    title_area.draw(&Text::new(chart.title.clone(), (24, 20), (FONT, 28).into_font().color(&TEXT_COLOUR)))?;
    let (plot_area, legend_area) = body.split_horizontally(PLOT_WIDTH);

    let (x_range, y_range) = ranges(chart);
    let mut plot = ChartBuilder::on(&plot_area)
        .margin_left(16)
        .margin_right(24)
        .margin_top(28)
        .margin_bottom(12)
        .x_label_area_size(64)
        .y_label_area_size(84)
        .build_cartesian_2d(
            x_range.clone().log_scale().with_key_points(byte_ticks(&x_range)),
            y_range.clone().log_scale().with_key_points(decade_ticks(&y_range)),
        )?;
    plot.configure_mesh()
        .x_desc("working set = 16 bytes × n (x and y, float64)")
        .y_desc("train time per point per epoch (lower is faster)")
        .x_label_formatter(&|v| bytes_label(*v))
        .y_label_formatter(&|v| format!("{} ns", compact(*v)))
        .label_style((FONT, 16).into_font().color(&TEXT_COLOUR))
        .axis_desc_style((FONT, 18).into_font().color(&TEXT_COLOUR))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(GUIDE_COLOUR)
        .draw()?;

    // The scenario's sizes: a faint guide and its n along the top.
    for &n in &chart.n {
        let x = n as f64 * BYTES_PER_POINT as f64;
        plot.draw_series(DashedLineSeries::new([(x, y_range.start), (x, y_range.end)], 4, 6, GUIDE_COLOUR.stroke_width(1)))?;
        plot.draw_series([Text::new(format!("n = {}", compact(n as f64)), (x, y_range.end), (FONT, 15).into_font().color(&MUTED_TEXT))])?;
    }

    for line in &chart.compute {
        let style = COMPUTE_COLOUR.stroke_width(2);
        let ends = [(x_range.start, line.ns_per_point), (x_range.end, line.ns_per_point)];
        if line.all_threads {
            plot.draw_series(DashedLineSeries::new(ends, 10, 6, style))?;
        } else {
            plot.draw_series(LineSeries::new(ends, style))?;
        }
    }
    for line in &chart.bandwidth {
        let style = LIMIT_COLOUR.stroke_width(if line.all_threads { 2 } else { 3 });
        if line.all_threads {
            plot.draw_series(DashedLineSeries::new(line.points.iter().copied(), 10, 6, style))?;
        } else {
            plot.draw_series(LineSeries::new(line.points.iter().copied(), style))?;
        }
        let dot = if line.all_threads { LIMIT_COLOUR.mix(0.45).filled() } else { LIMIT_COLOUR.filled() };
        plot.draw_series(line.measured.iter().map(|&p| Circle::new(p, 3, dot)))?;
        // Beyond the measured sizes the limit is the nearest measured one's: dotted.
        if let (Some(&first), Some(&last)) = (line.points.first(), line.points.last()) {
            let thin = LIMIT_COLOUR.mix(0.5).stroke_width(1);
            plot.draw_series(DashedLineSeries::new([(x_range.start, first.1), first], 2, 5, thin))?;
            plot.draw_series(DashedLineSeries::new([last, (x_range.end, last.1)], 2, 5, thin))?;
        }
    }
    // Implementations at the same n are set a little apart (a few percent of the size, in order)
    // so that none hides another; a faint line joins each one's sizes.
    let count = chart.costs.len() as f64;
    for (k, costs) in chart.costs.iter().enumerate() {
        let colour = palette.colour(&costs.implementation);
        let dodge = DODGE.powf(k as f64 - (count - 1.0) / 2.0);
        let points: Vec<(f64, f64)> = costs.points.iter().map(|&(x, y)| (x * dodge, y)).collect();
        plot.draw_series(LineSeries::new(points.iter().copied(), colour.mix(0.45).stroke_width(1)))?;
        plot.draw_series(points.iter().map(|&p| Circle::new(p, 7, colour.filled())))?;
        plot.draw_series(points.iter().map(|&p| Circle::new(p, 7, WHITE.stroke_width(1))))?;
    }

    draw_legend(&legend_area, chart, palette)
}

/// Log ranges with room around everything drawn.
fn ranges(chart: &Roofline) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let xs = chart
        .bandwidth
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .chain(chart.costs.iter().flat_map(|c| c.points.iter().map(|p| p.0)));
    let ys = chart
        .bandwidth
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(chart.compute.iter().map(|c| c.ns_per_point))
        .chain(chart.costs.iter().flat_map(|c| c.points.iter().map(|p| p.1)));
    let bounds = |values: &mut dyn Iterator<Item = f64>| {
        values.filter(|v| v.is_finite() && *v > 0.0).fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let (x_lo, x_hi) = bounds(&mut xs.into_iter());
    let (y_lo, y_hi) = bounds(&mut ys.into_iter());
    let padded = |lo: f64, hi: f64, factor: f64| {
        if lo.is_finite() && hi > 0.0 {
            lo / factor..hi * factor
        } else {
            1.0..10.0
        }
    };
    (padded(x_lo, x_hi, 2.0), padded(y_lo, y_hi, 1.6))
}

fn draw_legend(area: &DrawingArea<BitMapBackend<'_>, Shift>, chart: &Roofline, palette: &Palette) -> DrawResult<()> {
    let text = (FONT, 16).into_font().color(&TEXT_COLOUR);
    let heading = (FONT, 17).into_font().color(&TEXT_COLOUR);
    let note = (FONT, 14).into_font().color(&MUTED_TEXT);
    let (x0, swatch) = (8, 36);
    let mut y = 36;
    area.draw(&Text::new("the machine's limit", (x0, y), heading.clone()))?;
    y += 26;
    for line in &chart.bandwidth {
        let style = LIMIT_COLOUR.stroke_width(if line.all_threads { 2 } else { 3 });
        let ends = [(x0, y + 8), (x0 + swatch, y + 8)];
        if line.all_threads {
            area.draw(&PathElement::new([(x0, y + 8), (x0 + 12, y + 8)], style))?;
            area.draw(&PathElement::new([(x0 + 20, y + 8), (x0 + swatch, y + 8)], style))?;
        } else {
            area.draw(&PathElement::new(ends, style))?;
        }
        area.draw(&Text::new(line.label.clone(), (x0 + swatch + 8, y), text.clone()))?;
        y += 24;
    }
    for line in &chart.compute {
        let style = COMPUTE_COLOUR.stroke_width(2);
        if line.all_threads {
            area.draw(&PathElement::new([(x0, y + 8), (x0 + 12, y + 8)], style))?;
            area.draw(&PathElement::new([(x0 + 20, y + 8), (x0 + swatch, y + 8)], style))?;
        } else {
            area.draw(&PathElement::new([(x0, y + 8), (x0 + swatch, y + 8)], style))?;
        }
        area.draw(&Text::new(line.label.clone(), (x0 + swatch + 8, y), text.clone()))?;
        y += 24;
    }
    for line in [
        "At each size the limit is the higher line",
        "for the threads used. Reading: 16 B a",
        "point ÷ the read bandwidth measured at",
        "that working set; arithmetic: 2 FMA + 2",
        "adds a point at the compute ceiling.",
        "Dots: the best sample at each size. A dip",
        "below a larger size's figure is the machine",
        "being busy: the line keeps the larger.",
        "Markers at one n are set slightly apart.",
    ] {
        area.draw(&Text::new(line, (x0, y + 4), note.clone()))?;
        y += 18;
    }
    y += 24;
    area.draw(&Text::new("training cost, median", (x0, y), heading))?;
    y += 26;
    for costs in &chart.costs {
        let colour = palette.colour(&costs.implementation);
        area.draw(&PathElement::new([(x0, y + 8), (x0 + swatch, y + 8)], colour.mix(0.45).stroke_width(1)))?;
        area.draw(&Circle::new((x0 + swatch / 2, y + 8), 7, colour.filled()))?;
        area.draw(&Text::new(costs.label.clone(), (x0 + swatch + 8, y), text.clone()))?;
        y += 26;
    }
    Ok(())
}

/// Every 4× from 1 byte (… 1 KiB, 4 KiB, 16 KiB … 1 GiB): binary sizes that read as round numbers.
fn byte_ticks(range: &std::ops::Range<f64>) -> Vec<f64> {
    (0..20).map(|k| 4f64.powi(k)).filter(|v| range.contains(v)).collect()
}

/// 1, 2 and 5 in every decade of the range.
fn decade_ticks(range: &std::ops::Range<f64>) -> Vec<f64> {
    (-4..6).flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e))).filter(|v| range.contains(v)).collect()
}

/// 16 KiB, 1.41 MiB, 512 MiB: binary units without trailing zeros.
fn bytes_label(bytes: f64) -> String {
    let text = ValueFormat::Bytes.format(bytes);
    match text.split_once(' ') {
        Some((number, unit)) if number.contains('.') => format!("{} {unit}", number.trim_end_matches('0').trim_end_matches('.')),
        _ => text,
    }
}

/// 0.05, 0.3, 2, 10, 10k, 1M: as few digits as a tick needs.
fn compact(value: f64) -> String {
    let text = ValueFormat::Plain.format(value);
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number = if number.contains('.') { number.trim_end_matches('0').trim_end_matches('.') } else { number };
    format!("{number}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::summary::{self, RunSummary};

    fn report_with(environment: Option<Environment>, summary: RunSummary) -> Report {
        Report {
            plan: Plan { scenarios: vec![] },
            environment,
            summary,
            accuracy: vec![],
            claims: vec![],
            anatomy: vec![],
            records: vec![],
            samples: vec![],
        }
    }

    #[test]
    fn the_chart_has_both_limits_and_every_cost_and_is_drawn() {
        let plan = summary::tests::plan_of(&["rust", "python"], "python");
        let mut rows = vec![
            summary::tests::row("rust", 1, crate::measurement::RunStatus::Ok, 0.001, 0.0001, 0.0002, 1),
            summary::tests::row("python", 1, crate::measurement::RunStatus::Ok, 0.1, 0.001, 0.01, 1),
        ];
        rows[0].threads = Some(2);
        let (curve, ceiling) = crate::probes::limits::tests::machine();
        let environment = Environment { bandwidth_curve: Some(curve), compute_ceiling: Some(ceiling), ..Default::default() };
        let summary = summary::summarise(&plan, &rows, Some(&environment));
        let report = report_with(Some(environment), summary);
        let roofline = chart(&report, &report.summary.scenarios[0]).expect("a chart");
        assert_eq!(roofline.bandwidth.len(), 2);
        assert_eq!(roofline.compute.len(), 2);
        // 16 B at 100 GB/s at 1 MiB on one thread.
        assert_eq!(roofline.bandwidth[0].points[0], ((1u64 << 20) as f64, 0.16));
        assert_eq!(roofline.costs.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["rust (2 threads)", "python"]);
        assert_eq!(roofline.costs[0].points, vec![(80.0, 40.0)]);
        assert_eq!(roofline.n, vec![5]);

        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("roofline.png");
        draw(&path, &roofline, &Palette::new(&["rust".into(), "python".into()])).expect("drawn");
        assert!(std::fs::metadata(&path).expect("written").len() > 1000);
    }

    #[test]
    fn no_curve_no_chart() {
        let plan = summary::tests::plan_of(&["rust"], "rust");
        let rows = vec![summary::tests::row("rust", 1, crate::measurement::RunStatus::Ok, 0.001, 0.0001, 0.0002, 1)];
        let summary = summary::summarise(&plan, &rows, None);
        let report = report_with(Some(Environment::default()), summary);
        assert!(chart(&report, &report.summary.scenarios[0]).is_none());
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(compact(0.05), "0.05");
        assert_eq!(compact(2.0), "2");
        assert_eq!(compact(10_000.0), "10k");
        assert_eq!(bytes_label(16384.0), "16 KiB");
        assert_eq!(bytes_label(1.5 * 1048576.0), "1.5 MiB");
        assert_eq!(bytes_label(64.0), "64 B");
    }
}
