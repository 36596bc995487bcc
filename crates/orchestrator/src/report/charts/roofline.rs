//! The roofline chart: the machine's limit against working-set size — 16 bytes a point over the
//! read bandwidth measured at that size, on one thread and on all, and the epoch's arithmetic at
//! the compute ceiling — with each implementation's training cost at each n set on it. Nothing
//! can sit below the higher of the lines at its size; the distance above is what an
//! implementation leaves on the table.
//!
//! Unlike the other charts this one is plotters' own throughout: log coordinates with
//! `with_key_points`, the mesh with its label formatters and descriptions, and plotters' text.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{render, Chart, ChartError, DrawResult, Palette, MUTED_TEXT, PLOTTERS_FONT, TEXT};
use crate::environment::probes::BYTES_PER_POINT;
use crate::format::{bytes_compact, compact};

/// The plot takes this much of the width; the legend the rest.
const PLOT_WIDTH: u32 = 850;

/// Each implementation's markers sit this factor along the log x axis from the previous one's.
const DODGE: f64 = 1.07;

const LIMIT_COLOUR: RGBColor = RGBColor(0x22, 0x22, 0x22);
const COMPUTE_COLOUR: RGBColor = RGBColor(0x99, 0x99, 0x99);
const GUIDE_COLOUR: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);

/// What the chart shows, in plain numbers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Roofline {
    pub(crate) title: String,
    /// One line per thread count: (working-set bytes, least ns a point an epoch) at each measured
    /// size, ascending, with the samples it was read from.
    pub(crate) bandwidth: Vec<LimitLine>,
    /// One horizontal line per thread count: the arithmetic's least ns a point an epoch.
    pub(crate) compute: Vec<ComputeLine>,
    pub(crate) costs: Vec<Costs>,
    /// The scenario's n, for the guides along the top.
    pub(crate) n: Vec<u64>,
    /// The limits measured right before each point, at its own working set (best sample):
    /// (working-set bytes, ns a point an epoch, all threads).
    pub(crate) at_points: Vec<(f64, f64, bool)>,
    /// Whether the all-threads limits among them were measured with the threads meeting after
    /// every pass, as the kernels' threads meet once an epoch (runs since 2026-12-04).
    pub(crate) at_points_meet_every_pass: bool,
    /// Whether they read their blocks ascending one pass and descending the next, as the parallel
    /// kernel's epochs do (runs from 2026-12-06 on).
    pub(crate) at_points_back_and_forth: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LimitLine {
    pub(crate) label: String,
    pub(crate) all_threads: bool,
    /// The limit: the bandwidth envelope (see [`crate::environment::probes::limits::envelope`]) as ns a point an epoch.
    pub(crate) points: Vec<(f64, f64)>,
    /// The best sample at each size as measured, drawn as dots under the line.
    pub(crate) measured: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ComputeLine {
    pub(crate) label: String,
    pub(crate) all_threads: bool,
    pub(crate) ns_per_point: f64,
}

/// One implementation's training cost at each n: (16·n bytes, ns a point an epoch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Costs {
    pub(crate) implementation: String,
    pub(crate) label: String,
    pub(crate) points: Vec<(f64, f64)>,
}

/// Draws the chart as a PNG.
pub(crate) fn roofline(path: &Path, chart: &Roofline, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_on(area, chart, palette))
}

impl Chart for Roofline {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError> {
        roofline(path, self, palette)
    }
}

fn draw_on(area: &DrawingArea<BitMapBackend<'_>, Shift>, chart: &Roofline, palette: &Palette) -> DrawResult<()> {
    let (title_area, body) = area.split_vertically(64);
    title_area.draw(&Text::new(chart.title.clone(), (24, 20), (PLOTTERS_FONT, 28).into_font().color(&TEXT)))?;
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
        .x_label_formatter(&|v| bytes_compact(*v))
        .y_label_formatter(&|v| format!("{} ns", compact(*v)))
        .label_style((PLOTTERS_FONT, 16).into_font().color(&TEXT))
        .axis_desc_style((PLOTTERS_FONT, 18).into_font().color(&TEXT))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(GUIDE_COLOUR)
        .draw()?;

    // The scenario's sizes: a faint guide and its n along the top.
    for &n in &chart.n {
        let x = n as f64 * BYTES_PER_POINT as f64;
        plot.draw_series(DashedLineSeries::new([(x, y_range.start), (x, y_range.end)], 4, 6, GUIDE_COLOUR.stroke_width(1)))?;
        plot.draw_series([Text::new(
            format!("n = {}", compact(n as f64)),
            (x, y_range.end),
            (PLOTTERS_FONT, 15).into_font().color(&MUTED_TEXT),
        )])?;
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
    plot.draw_series(point_limit_crosses(chart))?;
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

/// The limits measured right before each point, as crosses over the curve's lines (pale: all
/// threads).
fn point_limit_crosses(chart: &Roofline) -> impl Iterator<Item = Cross<(f64, f64), i32>> + '_ {
    chart.at_points.iter().map(|&(x, ns, all)| Cross::new((x, ns), 7, LIMIT_COLOUR.mix(if all { 0.55 } else { 1.0 }).stroke_width(3)))
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
        .chain(chart.at_points.iter().map(|p| p.1))
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
    let text = (PLOTTERS_FONT, 16).into_font().color(&TEXT);
    let heading = (PLOTTERS_FONT, 17).into_font().color(&TEXT);
    let note = (PLOTTERS_FONT, 14).into_font().color(&MUTED_TEXT);
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
    if !chart.at_points.is_empty() {
        area.draw(&Cross::new((x0 + swatch / 2, y + 8), 7, LIMIT_COLOUR.stroke_width(3)))?;
        area.draw(&Text::new("measured right before each point", (x0 + swatch + 8, y), text.clone()))?;
        y += 20;
        area.draw(&Text::new("(best; pale: all threads): its limit", (x0 + swatch + 8, y), note.clone()))?;
        if chart.at_points_meet_every_pass {
            y += 18;
            area.draw(&Text::new("(the threads meeting after every pass)", (x0 + swatch + 8, y), note.clone()))?;
        }
        if chart.at_points_back_and_forth {
            y += 18;
            area.draw(&Text::new("(their blocks read back and forth)", (x0 + swatch + 8, y), note.clone()))?;
        }
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
