//! Where the time goes: one horizontal 100% bar per row, split into start-up, load and train in
//! lighter to darker shades of the implementation's colour, with the median wall time beside it.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{draw_axes, x_area_height};
use super::scale::{Scale, TickedAxis};
use super::text::{bold_font, ellipsize, font, put_text, text_width};
use super::{
    draw_no_data, draw_title, luminance, render, tint, Area, Chart, ChartError, DrawResult, Palette, HEIGHT_PX, LEGEND_FONT_PX, MARGIN_PX,
    MUTED_TEXT, PLOT_RIGHT_PAD_PX, PLOT_TOP_PAD_PX, TEXT, TITLE_BAND_PX, VALUE_FONT_PX, WIDTH_PX,
};
use crate::format::ValueFormat;

/// Where the time goes: one 100% bar per row, split into start-up, load and train.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseChart {
    pub title: String,
    pub rows: Vec<PhaseRow>,
}

/// One (group, implementation) row. The three phases add up to the wall time written beside the bar;
/// a negative phase (noise in a difference of medians) counts as zero.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseRow {
    /// The group, e.g. "n=5"; shown only when the chart has more than one group.
    pub label: String,
    pub implementation: String,
    pub startup_seconds: f64,
    pub load_seconds: f64,
    pub train_seconds: f64,
}

/// Draws one horizontal 100% bar per row, split into start-up, load and train.
pub fn phases(path: &Path, chart: &PhaseChart, palette: &Palette) -> Result<(), ChartError> {
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

fn draw_phases(area: &Area, chart: &PhaseChart, palette: &Palette) -> DrawResult<()> {
    // Negative phases count as zero; a row with a NaN phase or without a finite, positive total
    // is shown as "n/a" (checked before clamping: f64::max would quietly turn NaN into zero).
    let shares: Vec<Option<[f64; 3]>> = chart
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
        .collect();
    if shares.iter().all(Option::is_none) {
        return draw_no_data(area, &chart.title, "no row with a finite, positive wall time");
    }
    draw_title(area, &chart.title)?;

    let phase_names = ["start-up", "load", "train"];
    let white_shares = [STARTUP_WHITE_SHARE, LOAD_WHITE_SHARE, 0.0];
    // The legend explains the shading on neutral grey, above the plot where it covers nothing.
    let legend_font = font(LEGEND_FONT_PX);
    let legend_text = "(lighter to darker shade of each implementation's colour)";
    let legend_items_px: i32 = phase_names.iter().map(|name| 22 + text_width(&legend_font, name) + 20).sum();
    let legend_total_px = legend_items_px + text_width(&legend_font, legend_text);
    let mut legend_x_px = (WIDTH_PX - legend_total_px).max(2 * MARGIN_PX) / 2;
    let legend_y_px = TITLE_BAND_PX + 12;
    for (name, white_share) in phase_names.iter().zip(white_shares) {
        let swatch = tint(PHASE_LEGEND_COLOUR, white_share);
        area.draw(&Rectangle::new([(legend_x_px, legend_y_px - 8), (legend_x_px + 16, legend_y_px + 8)], swatch.filled()))?;
        area.draw(&Rectangle::new(
            [(legend_x_px, legend_y_px - 8), (legend_x_px + 16, legend_y_px + 8)],
            PHASE_LEGEND_COLOUR.stroke_width(1),
        ))?;
        put_text(area, name, (legend_x_px + 22, legend_y_px), &legend_font, TEXT, HPos::Left, VPos::Center)?;
        legend_x_px += 22 + text_width(&legend_font, name) + 20;
    }
    put_text(area, legend_text, (legend_x_px, legend_y_px), &legend_font, MUTED_TEXT, HPos::Left, VPos::Center)?;

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
    const SWATCH_PX: i32 = 14;
    let widest_label_px =
        row_labels.iter().map(|(name, group)| text_width(&name_font, name).max(text_width(&group_font, group))).max().unwrap_or(0);
    let label_area_px = (widest_label_px + SWATCH_PX + 24).clamp(120, WIDTH_PX * 2 / 5);

    let wall_font = font(LEGEND_FONT_PX);
    let wall_header = "median wall";
    let wall_area_px = text_width(&bold_font(VALUE_FONT_PX), wall_header).max(text_width(&wall_font, "999 ms")) + 24;

    let chart_area = area.margin(top_px, MARGIN_PX, MARGIN_PX, MARGIN_PX + wall_area_px);
    let share = Scale::linear(0.0, 100.0, ValueFormat::Percent, 6);
    let mut plot = ChartBuilder::on(&chart_area)
        .margin_top(PLOT_TOP_PAD_PX)
        .margin_right(PLOT_RIGHT_PAD_PX)
        .x_label_area_size(x_area_px)
        .y_label_area_size(label_area_px)
        .build_cartesian_2d(share.coord(), TickedAxis::new(0.0..row_count as f64, Vec::new()))?;
    draw_axes(area, &mut plot, (Some(&share), "share of median wall time", x_area_px), (None, "", label_area_px))?;
    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();

    let segment_font = font(VALUE_FONT_PX);
    let wall_left_px = x_pixels.end + PLOT_RIGHT_PAD_PX / 2;
    put_text(area, wall_header, (wall_left_px, y_pixels.start - 4), &bold_font(VALUE_FONT_PX), TEXT, HPos::Left, VPos::Bottom)?;
    for (index, (row, phases)) in chart.rows.iter().zip(&shares).enumerate() {
        // Rows read top-down in the order given.
        let row_top = (row_count - index) as f64;
        let centre_px = plot.backend_coord(&(0.0, row_top - 0.5)).1;
        let colour = palette.colour(&row.implementation);

        let swatch_left_px = x_pixels.start - label_area_px + 6;
        area.draw(&Rectangle::new(
            [(swatch_left_px, centre_px - SWATCH_PX / 2), (swatch_left_px + SWATCH_PX, centre_px + SWATCH_PX / 2)],
            colour.filled(),
        ))?;
        let text_left_px = swatch_left_px + SWATCH_PX + 8;
        let label_room_px = x_pixels.start - text_left_px - 8;
        let (name, group) = &row_labels[index];
        let name = ellipsize(name, label_room_px, &name_font);
        if group.is_empty() {
            put_text(area, &name, (text_left_px, centre_px), &name_font, TEXT, HPos::Left, VPos::Center)?;
        } else {
            put_text(area, &name, (text_left_px, centre_px - 1), &name_font, TEXT, HPos::Left, VPos::Bottom)?;
            let group = ellipsize(group, label_room_px, &group_font);
            put_text(area, &group, (text_left_px, centre_px + 3), &group_font, MUTED_TEXT, HPos::Left, VPos::Top)?;
        }

        // A line between groups, when there are several.
        if show_group && index > 0 && chart.rows[index - 1].label != row.label {
            let boundary_px = plot.backend_coord(&(0.0, row_top)).1;
            area.draw(&PathElement::new(vec![(swatch_left_px, boundary_px), (x_pixels.end, boundary_px)], MUTED_TEXT.stroke_width(1)))?;
        }

        let Some(phases) = phases else {
            put_text(area, "n/a", (x_pixels.start + 8, centre_px), &segment_font, MUTED_TEXT, HPos::Left, VPos::Center)?;
            put_text(area, "n/a", (wall_left_px, centre_px), &wall_font, MUTED_TEXT, HPos::Left, VPos::Center)?;
            continue;
        };
        let total: f64 = phases.iter().sum();
        // Bars fill most of their row, but stay bars rather than slabs when there are few rows.
        let half_bar = (0.32f64).min(f64::from(MAX_PHASE_BAR_PX) / 2.0 / f64::from(row_px.max(1)));
        let (bar_bottom, bar_top) = (row_top - 0.5 - half_bar, row_top - 0.5 + half_bar);
        let mut start = 0.0;
        for (seconds, white_share) in phases.iter().zip(white_shares) {
            let percent = seconds / total * 100.0;
            let end = (start + percent).min(100.0);
            let fill = tint(colour, white_share);
            plot.draw_series(std::iter::once(Rectangle::new([(start, bar_bottom), (end, bar_top)], fill.filled())))?;
            // White edges keep adjacent shades apart.
            plot.draw_series(std::iter::once(Rectangle::new([(start, bar_bottom), (end, bar_top)], WHITE.stroke_width(1))))?;
            let label = if percent < 0.5 { "<1%".to_string() } else { format!("{percent:.0}%") };
            let left_px = plot.backend_coord(&(start, bar_top)).0;
            let right_px = plot.backend_coord(&(end, bar_top)).0;
            if right_px - left_px >= text_width(&segment_font, &label) + 8 {
                let text_colour = if luminance(fill) > 140.0 { TEXT } else { WHITE };
                put_text(area, &label, ((left_px + right_px) / 2, centre_px), &segment_font, text_colour, HPos::Center, VPos::Center)?;
            }
            start = end;
        }
        plot.draw_series(std::iter::once(Rectangle::new([(0.0, bar_bottom), (100.0, bar_top)], colour.stroke_width(1))))?;
        put_text(area, &ValueFormat::Seconds.format(total), (wall_left_px, centre_px), &wall_font, TEXT, HPos::Left, VPos::Center)?;
    }
    Ok(())
}
