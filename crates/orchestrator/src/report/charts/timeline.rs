//! Memory and CPU over time for one scenario point: resident memory (top) and CPU utilisation
//! (bottom) against time since spawn, one representative run per implementation.

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{axis_description, draw_axes, x_area_height, y_area_width};
use super::legend::{draw_legend, legend_width, LegendEntry, Swatch};
use super::marks::{draw_clipped_polyline, draw_marker};
use super::scale::{log_bounds, max_of, min_of, Scale};
use super::text::{font, put_text, text_height, wrap};
use super::{
    draw_no_data, draw_title, render, Area, Chart, ChartError, DrawResult, Palette, Plot, AUTO_LOG_RATIO, LEGEND_GAP_PX, LEGEND_PAD_PX,
    LEGEND_ROW_PX, MARGIN_PX, MUTED_TEXT, PLOT_RIGHT_PAD_PX, PLOT_TOP_PAD_PX, TITLE_BAND_PX, VALUE_FONT_PX,
};
use crate::format::ValueFormat;

/// Memory and CPU over time for one scenario point: one representative run per implementation.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    pub title: String,
    pub runs: Vec<RunSamples>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSamples {
    pub implementation: String,
    /// (seconds since spawn, resident set size in bytes, cumulative CPU seconds).
    pub samples: Vec<(f64, u64, f64)>,
}

/// Draws resident memory (top) and CPU utilisation (bottom) against time since spawn.
pub fn time_series(path: &Path, chart: &TimeSeries, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_time_series(area, chart, palette))
}

impl Chart for TimeSeries {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError> {
        time_series(path, self, palette)
    }
}

/// A run's samples with the time axis' rules applied: finite, in time order.
struct RunTrace {
    implementation: String,
    memory: Vec<(f64, f64)>,
    cpu_percent: Vec<(f64, f64)>,
}

fn draw_time_series(area: &Area, chart: &TimeSeries, palette: &Palette) -> DrawResult<()> {
    let traces = run_traces(chart);
    let Some((time, log_time)) = time_scale(&traces) else {
        return draw_no_data(area, &chart.title, "no samples to draw");
    };
    let memory_max = traces.iter().flat_map(|trace| &trace.memory).map(|point| point.1).fold(0.0, f64::max);
    let memory = Scale::linear(0.0, if memory_max > 0.0 { memory_max * 1.08 } else { 1024.0 * 1024.0 }, ValueFormat::Bytes, 5);
    // Several busy threads exceed one core, so the axis grows past 100% when the data does.
    let cpu_max = traces.iter().flat_map(|trace| &trace.cpu_percent).map(|point| point.1).fold(100.0, f64::max);
    let cpu = Scale::linear(0.0, cpu_max * 1.1, ValueFormat::Percent, 5);

    draw_title(area, &chart.title)?;
    let implementations = palette.ordered(traces.iter().map(|trace| trace.implementation.as_str()));
    let entries: Vec<LegendEntry> = implementations
        .iter()
        .map(|name| LegendEntry { label: name.clone(), colour: palette.colour(name), swatch: Swatch::Line(palette.marker(name)) })
        .collect();
    let legend_px = legend_width(&entries, "Implementation");

    let chart_area = area.margin(TITLE_BAND_PX, MARGIN_PX, MARGIN_PX, MARGIN_PX + legend_px + LEGEND_GAP_PX);
    let y_area_px = y_area_width(&memory).max(y_area_width(&cpu));
    let bottom_x_area_px = x_area_height(true);
    const TOP_X_AREA_PX: i32 = 6;
    const PANEL_GAP_PX: i32 = 24;
    // Both panels get plots of the same height; only the bottom one carries the time labels.
    let (_, chart_height_px) = chart_area.dim_in_pixel();
    let top_panel_px = (chart_height_px as i32 - bottom_x_area_px + TOP_X_AREA_PX + PANEL_GAP_PX) / 2;
    let (top_area, bottom_area) = chart_area.split_vertically(top_panel_px);

    let time_description = axis_description("time since spawn", log_time);
    let mut plots = Vec::with_capacity(2);
    for (panel, scale, description, x_area_px) in
        [(&top_area, &memory, "resident memory (RSS)", TOP_X_AREA_PX), (&bottom_area, &cpu, "CPU (% of one core)", bottom_x_area_px)]
    {
        let mut plot = ChartBuilder::on(panel)
            .margin_top(PLOT_TOP_PAD_PX)
            .margin_right(PLOT_RIGHT_PAD_PX)
            .margin_bottom(if x_area_px == TOP_X_AREA_PX { PANEL_GAP_PX } else { 0 })
            .x_label_area_size(x_area_px)
            .y_label_area_size(y_area_px)
            .build_cartesian_2d(time.coord(), scale.coord())?;
        let time_labels = if x_area_px == TOP_X_AREA_PX { (None, "") } else { (Some(&time), time_description.as_str()) };
        draw_axes(area, &mut plot, (time_labels.0, time_labels.1, x_area_px), (Some(scale), description, y_area_px))?;
        plots.push(plot);
    }

    draw_traces(area, &mut plots, &traces, &implementations, palette, (&time, &memory, &cpu))?;
    let (x_pixels, y_pixels) = plots[0].plotting_area().get_pixel_range();
    draw_legend(area, x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX, y_pixels.start, legend_px, "Implementation", &entries)?;
    draw_marker_note(area, (&x_pixels, &y_pixels), legend_px, entries.len())
}

/// A run's samples, finite and in time order, as memory and CPU utilisation over time; runs
/// without samples are left out.
fn run_traces(chart: &TimeSeries) -> Vec<RunTrace> {
    chart
        .runs
        .iter()
        .map(|run| {
            let mut samples: Vec<(f64, u64, f64)> = run.samples.iter().copied().filter(|(t, _, _)| t.is_finite() && *t >= 0.0).collect();
            samples.sort_by(|a, b| a.0.total_cmp(&b.0));
            RunTrace {
                implementation: run.implementation.clone(),
                memory: samples.iter().map(|&(t, rss_bytes, _)| (t, rss_bytes as f64)).collect(),
                cpu_percent: cpu_utilisation_percent(&samples),
            }
        })
        .filter(|trace| !trace.memory.is_empty())
        .collect()
}

/// The time axis over every trace, and whether it is logarithmic; `None` without samples.
fn time_scale(traces: &[RunTrace]) -> Option<(Scale, bool)> {
    let ends: Vec<f64> = traces.iter().filter_map(|trace| trace.memory.last()).map(|point| point.0).collect();
    let positive_times: Vec<f64> = traces.iter().flat_map(|trace| &trace.memory).map(|point| point.0).filter(|&t| t > 0.0).collect();
    let (Some(shortest_end), Some(longest_end)) = (min_of(&ends), max_of(&ends)) else {
        return None;
    };

    // Python runs last ~100 ms and Rust ~1 ms: on a linear axis the Rust run would be a sliver at
    // the left edge. A log time axis gives every decade the same width, so both runs read in full;
    // runs of similar length keep the more familiar linear axis.
    let log_time = longest_end > AUTO_LOG_RATIO * shortest_end.max(f64::MIN_POSITIVE) && !positive_times.is_empty();
    let time = match min_of(&positive_times) {
        Some(first) if log_time => {
            let (low, high) = log_bounds(first, longest_end, 0.03, 0.03);
            Scale::logarithmic(low, high, ValueFormat::Seconds)
        }
        _ => Scale::linear(0.0, if longest_end > 0.0 { longest_end * 1.03 } else { 1e-3 }, ValueFormat::Seconds, 8),
    };
    Some((time, log_time))
}

/// Each implementation's traces in both panels (memory above, CPU below), a marker on the last sample.
fn draw_traces(
    area: &Area,
    plots: &mut [Plot],
    traces: &[RunTrace],
    implementations: &[String],
    palette: &Palette,
    (time, memory, cpu): (&Scale, &Scale, &Scale),
) -> DrawResult<()> {
    for name in implementations {
        let colour = palette.colour(name);
        let marker = palette.marker(name);
        for trace in traces.iter().filter(|trace| trace.implementation == *name) {
            for (plot, values, scale) in plots
                .iter_mut()
                .zip([(&trace.memory, memory), (&trace.cpu_percent, cpu)])
                .map(|(plot, (values, scale))| (plot, values, scale))
            {
                let mapped_px: Vec<(i32, i32)> =
                    values.iter().filter_map(|&(t, value)| Some(plot.backend_coord(&(time.to_axis(t)?, scale.to_axis(value)?)))).collect();
                let pixels = plot.plotting_area().get_pixel_range();
                draw_clipped_polyline(area, &mapped_px, (&pixels.0, &pixels.1), colour.stroke_width(3))?;
                // The marker sits on the last sample: where the process was last seen alive.
                if let Some(&last) = mapped_px.last() {
                    draw_marker(area, last, marker, colour, 6)?;
                }
            }
        }
    }
    Ok(())
}

/// Under the legend: what the marker on each trace means.
fn draw_marker_note(area: &Area, (x_pixels, y_pixels): (&Range<i32>, &Range<i32>), legend_px: i32, entries: usize) -> DrawResult<()> {
    let note_font = font(VALUE_FONT_PX);
    let note_top_px = y_pixels.start + 2 * LEGEND_PAD_PX + (entries as i32 + 1) * LEGEND_ROW_PX + 16;
    let note = "marker: last sample before exit";
    let note_left_px = x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX;
    for (index, line) in wrap(note, legend_px - 8, &note_font).iter().enumerate() {
        let top_px = note_top_px + index as i32 * (text_height(&note_font) + 4);
        put_text(area, line, (note_left_px + 4, top_px), &note_font, MUTED_TEXT, HPos::Left, VPos::Top)?;
    }
    Ok(())
}

/// CPU utilisation between consecutive samples, Δcpu/Δt·100 in % of one core, as steps: each
/// interval's average holds from its start to its end. Intervals without time are skipped, and a
/// decrease (which cumulative CPU time cannot do) counts as zero.
fn cpu_utilisation_percent(samples: &[(f64, u64, f64)]) -> Vec<(f64, f64)> {
    let mut steps = Vec::with_capacity(2 * samples.len());
    for pair in samples.windows(2) {
        let ((start, _, cpu_start), (end, _, cpu_end)) = (pair[0], pair[1]);
        let elapsed = end - start;
        let busy = cpu_end - cpu_start;
        let percent = (busy / elapsed * 100.0).max(0.0);
        // Finite times can still make an infinite slope (1e308 s of CPU in a sample).
        if elapsed > 0.0 && percent.is_finite() {
            steps.push((start, percent));
            steps.push((end, percent));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_utilisation_is_the_slope_of_cpu_time() {
        let samples = [(0.0, 0, 0.0), (0.010, 0, 0.010), (0.020, 0, 0.030), (0.020, 0, 0.031), (0.030, 0, 0.029)];
        let steps = cpu_utilisation_percent(&samples);
        let rounded: Vec<(f64, f64)> = steps.iter().map(|&(t, percent)| (t, percent.round())).collect();
        assert_eq!(rounded, [(0.0, 100.0), (0.010, 100.0), (0.010, 200.0), (0.020, 200.0), (0.020, 0.0), (0.030, 0.0)]);
        assert_eq!(cpu_utilisation_percent(&[(0.0, 0, 0.0), (1e-3, 0, 1e308)]), [], "an infinite slope is no step");
    }
}
