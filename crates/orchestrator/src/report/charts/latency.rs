//! Per-fit latency on a log scale: for each scenario point a group, in it one column per
//! implementation — a whisker from the fastest to the slowest warm fit of any run, a box from
//! the median warm fit to the 99th percentile (medians over the runs), and a diamond for the
//! first fit, which pays for what is cold or compiled.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{axis_description, draw_axes, x_area_height, y_area_width};
use super::legend::{draw_legend, legend_width, LegendEntry, Swatch};
use super::marks::{draw_marker, Marker};
use super::scale::{fitted_scale, max_of, min_of, TickedAxis};
use super::text::{ellipsize, font, put_text};
use super::{
    draw_no_data, draw_title, render, tint, Area, Chart, ChartError, DrawResult, Palette, AXIS, LEGEND_GAP_PX, LEGEND_PAD_PX,
    LEGEND_ROW_PX, MARGIN_PX, MUTED_TEXT, PLOT_RIGHT_PAD_PX, PLOT_TOP_PAD_PX, TEXT, TICK_FONT_PX, TITLE_BAND_PX, VALUE_FONT_PX, WIDTH_PX,
};
use crate::format::ValueFormat;

/// What the chart shows, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LatencyChart {
    pub(crate) title: String,
    pub(crate) groups: Vec<LatencyGroup>,
}

/// One scenario point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LatencyGroup {
    pub(crate) label: String,
    pub(crate) columns: Vec<Latency>,
}

/// One implementation at one point; NaN where it has no such figure (one fit: nothing warm).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Latency {
    pub(crate) implementation: String,
    pub(crate) fastest: f64,
    pub(crate) median: f64,
    pub(crate) p99: f64,
    pub(crate) slowest: f64,
    pub(crate) first: f64,
}

impl Chart for LatencyChart {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError> {
        render(path, |area| draw_latency(area, self, palette))
    }
}

/// The legend's key to the marks, under the list of implementations.
const KEY: [&str; 4] = ["fastest to slowest warm fit", "median to p99 of the warm fits", "first fit", "(medians over the runs)"];

fn draw_latency(area: &Area, chart: &LatencyChart, palette: &Palette) -> DrawResult<()> {
    let columns = || chart.groups.iter().flat_map(|group| &group.columns);
    let values: Vec<f64> = columns().flat_map(|c| [c.fastest, c.median, c.p99, c.slowest, c.first]).filter(|v| *v > 0.0).collect();
    let (Some(min), Some(max)) = (min_of(&values), max_of(&values)) else {
        return draw_no_data(area, &chart.title, "no fit has a time to draw");
    };
    draw_title(area, &chart.title)?;
    let implementations = palette.ordered(columns().map(|c| c.implementation.as_str()));
    let entries: Vec<LegendEntry> = implementations
        .iter()
        .map(|name| LegendEntry { label: name.clone(), colour: palette.colour(name), swatch: Swatch::Block })
        .collect();
    let legend_px = legend_width(&entries, KEY[1]);
    let y = fitted_scale(min, max, true, ValueFormat::Seconds, 7);
    let (x_area_px, y_area_px) = (x_area_height(true), y_area_width(&y));
    let chart_area = area.margin(TITLE_BAND_PX, MARGIN_PX, MARGIN_PX, MARGIN_PX + legend_px + LEGEND_GAP_PX);
    let mut plot = ChartBuilder::on(&chart_area)
        .margin_top(PLOT_TOP_PAD_PX)
        .margin_right(PLOT_RIGHT_PAD_PX)
        .x_label_area_size(x_area_px)
        .y_label_area_size(y_area_px)
        .build_cartesian_2d(TickedAxis::new(0.0..chart.groups.len() as f64, Vec::new()), y.coord())?;
    let y_desc = axis_description("time of one fit", true);
    draw_axes(area, &mut plot, (None, "scenario point", x_area_px), (Some(&y), &y_desc, y_area_px))?;
    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();
    let slot_width = 0.8 / implementations.len().max(1) as f64;
    let group_px = (x_pixels.end - x_pixels.start) / chart.groups.len().max(1) as i32;
    for (index, group) in chart.groups.iter().enumerate() {
        for column in &group.columns {
            let slot = implementations.iter().position(|name| *name == column.implementation).unwrap_or(0);
            let centre = index as f64 + 0.1 + (slot as f64 + 0.5) * slot_width;
            let width_px = (plot.backend_coord(&(slot_width, 1.0)).0 - plot.backend_coord(&(0.0, 1.0)).0).max(4);
            let to_px = |value: f64| y.to_axis(value).map(|axis| plot.backend_coord(&(centre, axis)));
            draw_column(area, column, palette.colour(&column.implementation), width_px, &to_px)?;
        }
        let label = ellipsize(&group.label, group_px - 8, &font(TICK_FONT_PX));
        let centre_px = x_pixels.start + group_px * index as i32 + group_px / 2;
        put_text(area, &label, (centre_px, y_pixels.end + 10), &font(TICK_FONT_PX), TEXT, HPos::Center, VPos::Top)?;
    }
    let legend_left_px = x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX;
    draw_legend(area, legend_left_px, y_pixels.start, legend_px, "Implementation", &entries)?;
    let key_top_px = y_pixels.start + 2 * LEGEND_PAD_PX + (entries.len() as i32 + 1) * LEGEND_ROW_PX + 24;
    draw_key(area, (legend_left_px, key_top_px))
}

/// One implementation's marks, `to_px` placing a value at the column's centre.
fn draw_column(
    area: &Area,
    column: &Latency,
    colour: RGBColor,
    width_px: i32,
    to_px: &dyn Fn(f64) -> Option<(i32, i32)>,
) -> DrawResult<()> {
    let half_px = (width_px * 3 / 10).clamp(2, 18);
    if let (Some(low), Some(high)) = (to_px(column.fastest), to_px(column.slowest)) {
        area.draw(&PathElement::new(vec![low, high], colour.stroke_width(2)))?;
        for (x, y) in [low, high] {
            area.draw(&PathElement::new(vec![(x - half_px / 2, y), (x + half_px / 2, y)], colour.stroke_width(2)))?;
        }
    }
    if let (Some(median), Some(p99)) = (to_px(column.median), to_px(column.p99)) {
        let (x, top, bottom) = (median.0, p99.1.min(median.1 - 2), median.1);
        area.draw(&Rectangle::new([(x - half_px, top), (x + half_px, bottom)], tint(colour, 0.35).filled()))?;
        area.draw(&Rectangle::new([(x - half_px, top), (x + half_px, bottom)], colour.stroke_width(1)))?;
        area.draw(&PathElement::new(vec![(x - half_px - 3, bottom), (x + half_px + 3, bottom)], AXIS.stroke_width(3)))?;
    }
    if let Some(first) = to_px(column.first) {
        draw_marker(area, first, Marker::Diamond, AXIS, 7)?;
        draw_marker(area, first, Marker::Diamond, colour, 5)?;
    }
    Ok(())
}

/// How to read the marks, drawn with the marks themselves.
fn draw_key(area: &Area, (left_px, top_px): (i32, i32)) -> DrawResult<()> {
    let key_font = font(VALUE_FONT_PX);
    let grey = RGBColor(0x77, 0x77, 0x77);
    let x = left_px + LEGEND_PAD_PX + 12;
    let text_px = left_px + LEGEND_PAD_PX + 34;
    let row = |k: i32| top_px + k * LEGEND_ROW_PX;
    area.draw(&PathElement::new(vec![(x, row(0) - 9), (x, row(0) + 9)], grey.stroke_width(2)))?;
    area.draw(&Rectangle::new([(x - 7, row(1) - 9), (x + 7, row(1) + 9)], tint(grey, 0.35).filled()))?;
    area.draw(&PathElement::new(vec![(x - 10, row(1) + 9), (x + 10, row(1) + 9)], AXIS.stroke_width(3)))?;
    draw_marker(area, (x, row(2)), Marker::Diamond, AXIS, 7)?;
    draw_marker(area, (x, row(2)), Marker::Diamond, grey, 5)?;
    for (k, line) in KEY.iter().enumerate() {
        let colour = if k == 3 { MUTED_TEXT } else { TEXT };
        let line = ellipsize(line, WIDTH_PX - text_px - 4, &key_font);
        put_text(area, &line, (text_px, row(k as i32)), &key_font, colour, HPos::Left, VPos::Center)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(implementation: &str, median: f64) -> Latency {
        Latency {
            implementation: implementation.into(),
            fastest: median * 0.8,
            median,
            p99: median * 1.6,
            slowest: median * 4.0,
            first: median * 30.0,
        }
    }

    /// Four sizes, three implementations: per-fit latency from microseconds to a second.
    pub(crate) fn example() -> LatencyChart {
        let groups = [(5.0, "n=5"), (1e3, "n=10^3"), (1e5, "n=10^5"), (1e6, "n=10^6")]
            .iter()
            .map(|&(n, label)| LatencyGroup {
                label: label.into(),
                columns: vec![
                    column("rust", 2e-6 + n * 1e-9),
                    column("python-numpy", 3e-4 + n * 4e-9),
                    Latency { first: 0.9, ..column("python-jax", 5e-5 + n * 1.5e-9) },
                ],
            })
            .collect();
        LatencyChart { title: "production: time of one fit".into(), groups }
    }

    #[test]
    fn it_draws_every_size_and_says_when_there_is_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let palette = Palette::new(&["rust".to_string(), "python-numpy".to_string(), "python-jax".to_string()]);
        example().draw(&dir.path().join("latency.png"), &palette).unwrap();
        let mut one_fit = example();
        // One fit a run: nothing warm, only the first fit to draw.
        for column in one_fit.groups.iter_mut().flat_map(|g| &mut g.columns) {
            (column.fastest, column.median, column.p99, column.slowest) = (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
        }
        one_fit.draw(&dir.path().join("first-only.png"), &palette).unwrap();
        let empty = LatencyChart { title: "nothing".into(), groups: Vec::new() };
        empty.draw(&dir.path().join("empty.png"), &palette).unwrap();
        for name in ["latency.png", "first-only.png", "empty.png"] {
            assert!(std::fs::metadata(dir.path().join(name)).unwrap().len() > 1000, "{name}");
        }
    }

    /// `cargo test -p orchestrator --lib latency -- --ignored`: $TMPDIR/charts-preview/latency.png.
    #[test]
    #[ignore]
    fn render_preview() {
        let dir = std::env::temp_dir().join("charts-preview");
        std::fs::create_dir_all(&dir).unwrap();
        let palette = Palette::new(&["rust".to_string(), "python-numpy".to_string(), "python-jax".to_string()]);
        example().draw(&dir.join("latency.png"), &palette).unwrap();
    }
}
