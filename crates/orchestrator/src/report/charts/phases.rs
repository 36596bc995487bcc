//! Where the time goes: one horizontal 100% bar per row, split into start-up, load and train in
//! lighter to darker shades of the implementation's colour, with the median wall time beside it.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{draw_axes, x_area_height};
use super::scale::{Scale, TickedAxis};
use super::text::{bold_font, ellipsize, font, put_text, text_width, Font};
use super::{
    draw_no_data, draw_title, luminance, render, tint, Area, Chart, ChartError, DrawResult, Palette, Plot, HEIGHT_PX, LEGEND_FONT_PX,
    MARGIN_PX, MUTED_TEXT, PLOT_RIGHT_PAD_PX, PLOT_TOP_PAD_PX, TEXT, TITLE_BAND_PX, VALUE_FONT_PX, WIDTH_PX,
};
use crate::format::ValueFormat;

/// Where the time goes: one 100% bar per row, split into start-up, load and train.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhaseChart {
    pub(crate) title: String,
    pub(crate) rows: Vec<PhaseRow>,
}

/// One (group, implementation) row. The three phases add up to the wall time written beside the bar;
/// a negative phase (noise in a difference of medians) counts as zero.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhaseRow {
    /// The group, e.g. "n=5"; shown only when the chart has more than one group.
    pub(crate) label: String,
    pub(crate) implementation: String,
    pub(crate) startup_seconds: f64,
    pub(crate) load_seconds: f64,
    pub(crate) train_seconds: f64,
}

/// Draws one horizontal 100% bar per row, split into start-up, load and train.
pub(crate) fn phases(path: &Path, chart: &PhaseChart, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_phases(area, chart, palette))
}

impl Chart for PhaseChart {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError> {
        phases(path, self, palette)
    }
}

/// Shares of white mixed into the implementation's colour: train is the full colour, load lighter,
/// start-up lightest, so a row keeps its implementation's hue in every phase.
const LOAD_WHITE_SHARE: f64 = 0.5;
const STARTUP_WHITE_SHARE: f64 = 0.78;
const PHASE_LEGEND_COLOUR: RGBColor = RGBColor(0x4D, 0x4D, 0x4D);
const MAX_PHASE_BAR_PX: i32 = 64;

/// The phases in the order they are drawn, and the share of white in each one's shade.
const PHASE_NAMES: [&str; 3] = ["start-up", "load", "train"];
const WHITE_SHARES: [f64; 3] = [STARTUP_WHITE_SHARE, LOAD_WHITE_SHARE, 0.0];
const SWATCH_PX: i32 = 14;

/// The rows' sizes and labels, which depend on how many rows share the plot's height.
struct RowsLayout {
    show_group: bool,
    row_px: i32,
    top_px: i32,
    x_area_px: i32,
    name_font: Font,
    group_font: Font,
    /// Per row: the implementation (with the group on one line when there is no room for two)
    /// and the group on a second line, or "".
    row_labels: Vec<(String, String)>,
    label_area_px: i32,
}

/// The median wall column right of the plot.
struct WallColumn {
    left_px: i32,
    font: Font,
}

fn draw_phases(area: &Area, chart: &PhaseChart, palette: &Palette) -> DrawResult<()> {
    let shares = row_phases(chart);
    if shares.iter().all(Option::is_none) {
        return draw_no_data(area, &chart.title, "no row with a finite, positive wall time");
    }
    draw_title(area, &chart.title)?;
    draw_phase_legend(area)?;
    let layout = rows_layout(chart);
    let row_count = chart.rows.len();

    let wall_font = font(LEGEND_FONT_PX);
    let wall_header = "median wall";
    let wall_area_px = text_width(&bold_font(VALUE_FONT_PX), wall_header).max(text_width(&wall_font, "999 ms")) + 24;

    let chart_area = area.margin(layout.top_px, MARGIN_PX, MARGIN_PX, MARGIN_PX + wall_area_px);
    let share = Scale::linear(0.0, 100.0, ValueFormat::Percent, 6);
    let mut plot = ChartBuilder::on(&chart_area)
        .margin_top(PLOT_TOP_PAD_PX)
        .margin_right(PLOT_RIGHT_PAD_PX)
        .x_label_area_size(layout.x_area_px)
        .y_label_area_size(layout.label_area_px)
        .build_cartesian_2d(share.coord(), TickedAxis::new(0.0..row_count as f64, Vec::new()))?;
    draw_axes(area, &mut plot, (Some(&share), "share of median wall time", layout.x_area_px), (None, "", layout.label_area_px))?;
    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();

    let wall = WallColumn { left_px: x_pixels.end + PLOT_RIGHT_PAD_PX / 2, font: wall_font };
    put_text(area, wall_header, (wall.left_px, y_pixels.start - 4), &bold_font(VALUE_FONT_PX), TEXT, HPos::Left, VPos::Bottom)?;
    for (index, (row, phases)) in chart.rows.iter().zip(&shares).enumerate() {
        // Rows read top-down in the order given.
        let row_top = (row_count - index) as f64;
        draw_row_label(area, &plot, chart, &layout, index, row_top, palette)?;
        draw_row_bar(area, &mut plot, phases.as_ref(), (row_top, layout.row_px), palette.colour(&row.implementation), &wall)?;
    }
    Ok(())
}

/// Each row's phases, negative ones counted as zero; `None` for a row with a NaN phase or without
/// a finite, positive total, shown as "n/a" (checked before clamping: f64::max would quietly
/// turn NaN into zero).
fn row_phases(chart: &PhaseChart) -> Vec<Option<[f64; 3]>> {
    chart
        .rows
        .iter()
        .map(|row| {
            let phases = [row.startup_seconds, row.load_seconds, row.train_seconds];
            if phases.iter().any(|seconds| seconds.is_nan()) {
                return None;
            }
            let phases = phases.map(|seconds| seconds.max(0.0));
            let total: f64 = phases.iter().sum();
            (total.is_finite() && total > 0.0).then_some(phases)
        })
        .collect()
}

/// The legend explains the shading on neutral grey, above the plot where it covers nothing.
fn draw_phase_legend(area: &Area) -> DrawResult<()> {
    let legend_font = font(LEGEND_FONT_PX);
    let legend_text = "(lighter to darker shade of each implementation's colour)";
    let legend_items_px: i32 = PHASE_NAMES.iter().map(|name| 22 + text_width(&legend_font, name) + 20).sum();
    let legend_total_px = legend_items_px + text_width(&legend_font, legend_text);
    let mut legend_x_px = (WIDTH_PX - legend_total_px).max(2 * MARGIN_PX) / 2;
    let legend_y_px = TITLE_BAND_PX + 12;
    for (name, white_share) in PHASE_NAMES.iter().zip(WHITE_SHARES) {
        let swatch = tint(PHASE_LEGEND_COLOUR, white_share);
        area.draw(&Rectangle::new([(legend_x_px, legend_y_px - 8), (legend_x_px + 16, legend_y_px + 8)], swatch.filled()))?;
        area.draw(&Rectangle::new(
            [(legend_x_px, legend_y_px - 8), (legend_x_px + 16, legend_y_px + 8)],
            PHASE_LEGEND_COLOUR.stroke_width(1),
        ))?;
        put_text(area, name, (legend_x_px + 22, legend_y_px), &legend_font, TEXT, HPos::Left, VPos::Center)?;
        legend_x_px += 22 + text_width(&legend_font, name) + 20;
    }
    put_text(area, legend_text, (legend_x_px, legend_y_px), &legend_font, MUTED_TEXT, HPos::Left, VPos::Center)
}

fn rows_layout(chart: &PhaseChart) -> RowsLayout {
    let mut groups: Vec<&str> = Vec::new();
    for row in &chart.rows {
        if !groups.contains(&row.label.as_str()) {
            groups.push(&row.label);
        }
    }
    let show_group = groups.len() > 1;
    let row_count = chart.rows.len();
    let top_px = TITLE_BAND_PX + 40;
    let x_area_px = x_area_height(true);
    let plot_height_px = HEIGHT_PX - top_px - MARGIN_PX - PLOT_TOP_PAD_PX - x_area_px;
    let row_px = plot_height_px / row_count.max(1) as i32;
    let two_lines = show_group && row_px >= 44;
    let name_font = font(if row_px >= 30 { LEGEND_FONT_PX } else { 13.0 });
    let group_font = font(if two_lines { VALUE_FONT_PX } else { 13.0 });
    let row_labels: Vec<(String, String)> = chart
        .rows
        .iter()
        .map(|row| match (show_group, two_lines) {
            (true, true) => (row.implementation.clone(), row.label.clone()),
            (true, false) => (format!("{} · {}", row.implementation, row.label), String::new()),
            (false, _) => (row.implementation.clone(), String::new()),
        })
        .collect();
    let widest_label_px =
        row_labels.iter().map(|(name, group)| text_width(&name_font, name).max(text_width(&group_font, group))).max().unwrap_or(0);
    let label_area_px = (widest_label_px + SWATCH_PX + 24).clamp(120, WIDTH_PX * 2 / 5);
    RowsLayout { show_group, row_px, top_px, x_area_px, name_font, group_font, row_labels, label_area_px }
}

/// Left of the plot: the implementation's swatch and the row's label; above a row that starts a
/// new group, a line between the groups.
fn draw_row_label(
    area: &Area,
    plot: &Plot,
    chart: &PhaseChart,
    layout: &RowsLayout,
    index: usize,
    row_top: f64,
    palette: &Palette,
) -> DrawResult<()> {
    let row = &chart.rows[index];
    let x_pixels = plot.plotting_area().get_pixel_range().0;
    let centre_px = plot.backend_coord(&(0.0, row_top - 0.5)).1;
    let colour = palette.colour(&row.implementation);

    let swatch_left_px = x_pixels.start - layout.label_area_px + 6;
    area.draw(&Rectangle::new(
        [(swatch_left_px, centre_px - SWATCH_PX / 2), (swatch_left_px + SWATCH_PX, centre_px + SWATCH_PX / 2)],
        colour.filled(),
    ))?;
    let text_left_px = swatch_left_px + SWATCH_PX + 8;
    let label_room_px = x_pixels.start - text_left_px - 8;
    let (name, group) = &layout.row_labels[index];
    let (name_font, group_font) = (&layout.name_font, &layout.group_font);
    let name = ellipsize(name, label_room_px, name_font);
    if group.is_empty() {
        put_text(area, &name, (text_left_px, centre_px), name_font, TEXT, HPos::Left, VPos::Center)?;
    } else {
        put_text(area, &name, (text_left_px, centre_px - 1), name_font, TEXT, HPos::Left, VPos::Bottom)?;
        let group = ellipsize(group, label_room_px, group_font);
        put_text(area, &group, (text_left_px, centre_px + 3), group_font, MUTED_TEXT, HPos::Left, VPos::Top)?;
    }

    // A line between groups, when there are several.
    if layout.show_group && index > 0 && chart.rows[index - 1].label != row.label {
        let boundary_px = plot.backend_coord(&(0.0, row_top)).1;
        area.draw(&PathElement::new(vec![(swatch_left_px, boundary_px), (x_pixels.end, boundary_px)], MUTED_TEXT.stroke_width(1)))?;
    }
    Ok(())
}

/// A row's 100% bar, each phase in its shade with its share written in when it fits, and the
/// median wall time beside it; "n/a" for a row without phases.
fn draw_row_bar(
    area: &Area,
    plot: &mut Plot,
    phases: Option<&[f64; 3]>,
    (row_top, row_px): (f64, i32),
    colour: RGBColor,
    wall: &WallColumn,
) -> DrawResult<()> {
    let x_pixels = plot.plotting_area().get_pixel_range().0;
    let centre_px = plot.backend_coord(&(0.0, row_top - 0.5)).1;
    let segment_font = font(VALUE_FONT_PX);
    let Some(phases) = phases else {
        put_text(area, "n/a", (x_pixels.start + 8, centre_px), &segment_font, MUTED_TEXT, HPos::Left, VPos::Center)?;
        return put_text(area, "n/a", (wall.left_px, centre_px), &wall.font, MUTED_TEXT, HPos::Left, VPos::Center);
    };
    let total: f64 = phases.iter().sum();
    // Bars fill most of their row, but stay bars rather than slabs when there are few rows.
    let half_bar = (0.32f64).min(f64::from(MAX_PHASE_BAR_PX) / 2.0 / f64::from(row_px.max(1)));
    let (bar_bottom, bar_top) = (row_top - 0.5 - half_bar, row_top - 0.5 + half_bar);
    let mut start = 0.0;
    for (seconds, white_share) in phases.iter().zip(WHITE_SHARES) {
        let percent = seconds / total * 100.0;
        let end = (start + percent).min(100.0);
        let fill = tint(colour, white_share);
        plot.draw_series(std::iter::once(Rectangle::new([(start, bar_bottom), (end, bar_top)], fill.filled())))?;
        // White edges keep adjacent shades apart.
        plot.draw_series(std::iter::once(Rectangle::new([(start, bar_bottom), (end, bar_top)], WHITE.stroke_width(1))))?;
        let label = crate::format::whole_percent(percent);
        let left_px = plot.backend_coord(&(start, bar_top)).0;
        let right_px = plot.backend_coord(&(end, bar_top)).0;
        if right_px - left_px >= text_width(&segment_font, &label) + 8 {
            let text_colour = if luminance(fill) > 140.0 { TEXT } else { WHITE };
            put_text(area, &label, ((left_px + right_px) / 2, centre_px), &segment_font, text_colour, HPos::Center, VPos::Center)?;
        }
        start = end;
    }
    plot.draw_series(std::iter::once(Rectangle::new([(0.0, bar_bottom), (100.0, bar_top)], colour.stroke_width(1))))?;
    put_text(area, &ValueFormat::Seconds.format(total), (wall.left_px, centre_px), &wall.font, TEXT, HPos::Left, VPos::Center)
}
