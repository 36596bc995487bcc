//! Lines with markers, one per implementation, over dashed horizontal reference lines (a
//! hardware limit, say) whose labels go where they hide the fewest drawn pixels.

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{axis_description, draw_axes, x_area_height, y_area_width};
use super::legend::{draw_legend, legend_width, LegendEntry, Swatch};
use super::marks::{draw_clipped_polyline, draw_marker};
use super::scale::{fitted_scale, max_of, min_of, Scale};
use super::text::{ellipsize, font, put_text, text_height, text_width};
use super::{
    draw_no_data, draw_title, render, Area, Chart, ChartError, DrawResult, Palette, Plot, LEGEND_GAP_PX, MARGIN_PX, PLOT_RIGHT_PAD_PX,
    PLOT_TOP_PAD_PX, REFERENCE_LINE, TITLE_BAND_PX, VALUE_FONT_PX,
};
use crate::format::ValueFormat;

/// Lines with markers, one per implementation, plus dashed horizontal reference lines.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_format: ValueFormat,
    pub y_format: ValueFormat,
    /// On a log axis, points with a zero or negative coordinate are skipped (the line breaks there).
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    pub references: Vec<Reference>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub implementation: String,
    /// (x, y); drawn in order of x. Non-finite points break the line.
    pub points: Vec<(f64, f64)>,
}

/// A horizontal dashed line with its label written on it, e.g. a hardware limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub label: String,
    pub y: f64,
}

/// Draws one line with markers per implementation, and the reference lines.
pub fn lines(path: &Path, chart: &LineChart, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_lines(area, chart, palette))
}

impl Chart for LineChart {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError> {
        lines(path, self, palette)
    }
}

fn draw_lines(area: &Area, chart: &LineChart, palette: &Palette) -> DrawResult<()> {
    let placeable = |value: f64, log: bool| value.is_finite() && (!log || value > 0.0);
    let point_ok = |(x, y): (f64, f64)| placeable(x, chart.log_x) && placeable(y, chart.log_y);
    let xs: Vec<f64> =
        chart.series.iter().flat_map(|series| &series.points).filter(|point| point_ok(**point)).map(|point| point.0).collect();
    let ys: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|series| &series.points)
        .filter(|point| point_ok(**point))
        .map(|point| point.1)
        .chain(chart.references.iter().map(|reference| reference.y).filter(|&y| placeable(y, chart.log_y)))
        .collect();
    let (Some(x_min), Some(x_max), Some(y_min), Some(y_max)) = (min_of(&xs), max_of(&xs), min_of(&ys), max_of(&ys)) else {
        return draw_no_data(area, &chart.title, "no finite points to draw");
    };

    draw_title(area, &chart.title)?;
    let implementations = palette.ordered(chart.series.iter().map(|series| series.implementation.as_str()));
    let entries: Vec<LegendEntry> = implementations
        .iter()
        .map(|name| LegendEntry { label: name.clone(), colour: palette.colour(name), swatch: Swatch::Line(palette.marker(name)) })
        .collect();
    let legend_px = legend_width(&entries, "Implementation");

    let x = fitted_scale(x_min, x_max, chart.log_x, chart.x_format, 8);
    let y = fitted_scale(y_min, y_max, chart.log_y, chart.y_format, 7);
    let chart_area = area.margin(TITLE_BAND_PX, MARGIN_PX, MARGIN_PX, MARGIN_PX + legend_px + LEGEND_GAP_PX);
    let (x_area_px, y_area_px) = (x_area_height(!chart.x_label.is_empty()), y_area_width(&y));
    let mut plot = ChartBuilder::on(&chart_area)
        .margin_top(PLOT_TOP_PAD_PX)
        .margin_right(PLOT_RIGHT_PAD_PX)
        .x_label_area_size(x_area_px)
        .y_label_area_size(y_area_px)
        .build_cartesian_2d(x.coord(), y.coord())?;
    let (x_desc, y_desc) = (axis_description(&chart.x_label, chart.log_x), axis_description(&chart.y_label, chart.log_y));
    draw_axes(area, &mut plot, (Some(&x), &x_desc, x_area_px), (Some(&y), &y_desc, y_area_px))?;
    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();

    // Reference lines go under the data, so a series that crosses one stays visible.
    let levels_px: Vec<(&Reference, i32)> = chart
        .references
        .iter()
        .filter_map(|reference| Some((reference, plot.backend_coord(&(x.axis_range().start, y.to_axis(reference.y)?)).1)))
        .collect();
    for (_, level_px) in &levels_px {
        draw_dashed_line(area, (x_pixels.start, x_pixels.end), *level_px)?;
    }

    let mut drawn_px = draw_series(area, &plot, chart, palette, &implementations, (&x, &y))?;

    // Labels go on top, where they hide the fewest drawn pixels.
    let label_font = font(VALUE_FONT_PX);
    for (reference, level_px) in levels_px {
        let label = ellipsize(&reference.label, x_pixels.end - x_pixels.start - 16, &label_font);
        let size_px = (text_width(&label_font, &label), text_height(&label_font));
        let (left_px, top_px) = reference_label_place(level_px, (&x_pixels, &y_pixels), size_px, &drawn_px);
        // A label placed is drawn pixels too: the next one (two limits a few pixels apart) goes
        // elsewhere rather than over it.
        drawn_px.extend(box_pixels((left_px, top_px), size_px));
        let backdrop = [(left_px - 4, top_px - 2), (left_px + size_px.0 + 4, top_px + size_px.1 + 2)];
        area.draw(&Rectangle::new(backdrop, WHITE.mix(0.85).filled()))?;
        put_text(area, &label, (left_px, top_px), &label_font, REFERENCE_LINE, HPos::Left, VPos::Top)?;
    }
    draw_legend(area, x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX, y_pixels.start, legend_px, "Implementation", &entries)
}

/// Each implementation's series as lines with markers, broken where a point cannot be placed;
/// returns the pixels drawn, for placing the reference labels.
fn draw_series(
    area: &Area,
    plot: &Plot,
    chart: &LineChart,
    palette: &Palette,
    implementations: &[String],
    (x, y): (&Scale, &Scale),
) -> DrawResult<Vec<(i32, i32)>> {
    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();
    let mut drawn_px: Vec<(i32, i32)> = Vec::new();
    for name in implementations {
        let colour = palette.colour(name);
        let marker = palette.marker(name);
        for series in chart.series.iter().filter(|series| series.implementation == *name) {
            let mut points = series.points.clone();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mapped: Vec<Option<(f64, f64)>> = points.iter().map(|&(px, py)| Some((x.to_axis(px)?, y.to_axis(py)?))).collect();
            for segment in mapped.split(Option::is_none) {
                let segment: Vec<(f64, f64)> = segment.iter().flatten().copied().collect();
                let segment_px: Vec<(i32, i32)> = segment.iter().map(|point| plot.backend_coord(point)).collect();
                draw_clipped_polyline(area, &segment_px, (&x_pixels, &y_pixels), colour.stroke_width(3))?;
                for &point_px in &segment_px {
                    draw_marker(area, point_px, marker, colour, 6)?;
                }
                drawn_px.extend(trace_pixels(&segment_px));
            }
        }
    }
    Ok(drawn_px)
}

/// Pixels along a polyline, a few apart: enough to tell whether a label would hide it.
fn trace_pixels(polyline_px: &[(i32, i32)]) -> Vec<(i32, i32)> {
    let mut traced: Vec<(i32, i32)> = polyline_px.first().copied().into_iter().collect();
    for pair in polyline_px.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()) / 3).max(1);
        traced.extend((1..=steps).map(|step| (x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)));
    }
    traced
}

/// Top-left corner for a reference line's label: at the right or left end of the line, above or
/// below it, whichever covers the fewest `drawn_px` (right and above win ties).
fn reference_label_place(
    level_px: i32,
    (x_pixels, y_pixels): (&Range<i32>, &Range<i32>),
    (width_px, height_px): (i32, i32),
    drawn_px: &[(i32, i32)],
) -> (i32, i32) {
    let right = x_pixels.end - 8 - width_px;
    let left = x_pixels.start + 8;
    let above = level_px - height_px - 6;
    let below = level_px + 6;
    let fits = |top: i32| top - 2 > y_pixels.start && top + height_px + 2 < y_pixels.end;
    // Lines are 3 px wide and markers 6 px in radius, so a near miss still hides them.
    let covered = |(left, top): (i32, i32)| {
        drawn_px.iter().filter(|(x, y)| (left - 8..=left + width_px + 8).contains(x) && (top - 8..=top + height_px + 8).contains(y)).count()
    };
    [(right, above), (left, above), (right, below), (left, below)]
        .into_iter()
        .filter(|(_, top)| fits(*top))
        .min_by_key(|place| covered(*place))
        .unwrap_or((right, above.max(y_pixels.start + 2)))
}

/// Pixels every 2 px over a box of `size_px` at `(left_px, top_px)`: as many as a line drawn
/// through it would leave, and more, so a label avoids another before any series.
fn box_pixels((left_px, top_px): (i32, i32), (width_px, height_px): (i32, i32)) -> impl Iterator<Item = (i32, i32)> {
    (0..=width_px / 2).flat_map(move |i| (0..=height_px / 2).map(move |j| (left_px + 2 * i, top_px + 2 * j)))
}

fn draw_dashed_line(area: &Area, (left_px, right_px): (i32, i32), y_px: i32) -> DrawResult<()> {
    const DASH_PX: i32 = 10;
    const GAP_PX: i32 = 6;
    let style = REFERENCE_LINE.stroke_width(2);
    let mut start_px = left_px;
    while start_px < right_px {
        let end_px = (start_px + DASH_PX).min(right_px);
        area.draw(&PathElement::new(vec![(start_px, y_px), (end_px, y_px)], style))?;
        start_px = end_px + GAP_PX;
    }
    Ok(())
}
