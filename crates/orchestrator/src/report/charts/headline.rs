//! The headline chart, the report's first picture: for each figure (wall time, peak memory) one
//! panel, and in it per implementation the claimed range as a band beside the measured median
//! with its 95% CI, so the gap between claim and measurement is seen before it is read.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{draw_axes, y_area_width};
use super::marks::draw_error_bar;
use super::scale::{log_bounds, max_of, min_of, Scale, TickedAxis};
use super::text::{bold_font, ellipsize, font, put_text, text_height, text_width};
use super::{
    draw_title, render_sized, tint, Area, Chart, ChartError, DrawResult, Palette, AXIS, AXIS_DESC_FONT_PX, LEGEND_FONT_PX, MARGIN_PX,
    MUTED_TEXT, TEXT, TICK_FONT_PX, TITLE_BAND_PX, VALUE_FONT_PX, WIDTH, WIDTH_PX,
};
use crate::format::ValueFormat;

/// Height of the headline chart: wider than tall, so that it sits on a report's first screen.
pub const HEADLINE_HEIGHT: u32 = 520;

const PANEL_GAP_PX: i32 = 40;
const PANEL_TITLE_FONT_PX: f64 = 20.0;
const KEY_BAND_PX: i32 = 34;
const MEASURED_RADIUS_PX: i32 = 8;

/// One panel per figure, side by side.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeadlineChart {
    pub(crate) title: String,
    pub(crate) panels: Vec<HeadlinePanel>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeadlinePanel {
    /// e.g. "Wall time, whole process".
    pub(crate) title: String,
    pub(crate) value_format: ValueFormat,
    pub(crate) rows: Vec<ClaimedAndMeasured>,
}

/// One implementation in a panel: what was claimed for it (if anything) and what was measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClaimedAndMeasured {
    pub(crate) implementation: String,
    /// The claimed bounds; a missing bound runs to the edge of the plot.
    pub(crate) claimed: Option<(Option<f64>, Option<f64>)>,
    /// Written beside the band, e.g. "claimed 0.3–0.8 ms".
    pub(crate) claimed_label: String,
    /// (median, CI low, CI high).
    pub(crate) measured: Option<(f64, f64, f64)>,
}

/// Draws the headline chart, `WIDTH` × [`HEADLINE_HEIGHT`].
pub(crate) fn headline(path: &Path, chart: &HeadlineChart, palette: &Palette) -> Result<(), ChartError> {
    render_sized(path, (WIDTH, HEADLINE_HEIGHT), |area| draw_headline(area, chart, palette))
}

impl Chart for HeadlineChart {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError> {
        headline(path, self, palette)
    }
}

fn draw_headline(area: &Area, chart: &HeadlineChart, palette: &Palette) -> DrawResult<()> {
    let height_px = HEADLINE_HEIGHT as i32;
    draw_title(area, &chart.title)?;
    if chart.panels.iter().all(|panel| panel.rows.iter().all(|row| row.measured.is_none())) {
        let centre = (WIDTH_PX / 2, height_px / 2);
        return put_text(area, "no data", centre, &bold_font(36.0), MUTED_TEXT, HPos::Center, VPos::Center);
    }
    let panels = chart.panels.len().max(1) as i32;
    let panel_width_px = (WIDTH_PX - 2 * MARGIN_PX - (panels - 1) * PANEL_GAP_PX) / panels;
    for (index, panel) in chart.panels.iter().enumerate() {
        let left_px = MARGIN_PX + index as i32 * (panel_width_px + PANEL_GAP_PX);
        let panel_area =
            area.clone().shrink((left_px, TITLE_BAND_PX), (panel_width_px as u32, (height_px - TITLE_BAND_PX - KEY_BAND_PX) as u32));
        draw_panel(area, &panel_area, panel, palette)?;
    }
    let claimed = chart.panels.iter().any(|panel| panel.rows.iter().any(|row| row.claimed.is_some()));
    draw_key(area, height_px - KEY_BAND_PX / 2, claimed)
}

fn draw_panel(area: &Area, panel_area: &Area, panel: &HeadlinePanel, palette: &Palette) -> DrawResult<()> {
    let rows: Vec<&ClaimedAndMeasured> = panel.rows.iter().filter(|row| row.measured.is_some() || row.claimed.is_some()).collect();
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|row| {
            let claimed = row.claimed.into_iter().flat_map(|(low, high)| low.into_iter().chain(high));
            let measured = row.measured.into_iter().flat_map(|(median, low, high)| [median, low, high]);
            claimed.chain(measured).collect::<Vec<_>>()
        })
        .filter(|value| value.is_finite() && *value > 0.0)
        .collect();
    let (origin_x, origin_y) = panel_area.get_base_pixel();
    let (width_px, _) = panel_area.dim_in_pixel();
    let title_centre = (origin_x + width_px as i32 / 2, origin_y + 14);
    put_text(area, &panel.title, title_centre, &bold_font(PANEL_TITLE_FONT_PX), TEXT, HPos::Center, VPos::Center)?;
    let (Some(min), Some(max)) = (min_of(&values), max_of(&values)) else {
        return Ok(());
    };
    let (low, high) = log_bounds(min, max, 0.12, 0.12);
    let y = Scale::logarithmic(low, high, panel.value_format);
    let y_area_px = y_area_width(&y) - text_height(&font(AXIS_DESC_FONT_PX)) - 8;
    // Two lines under each slot: the implementation, and what was claimed for it.
    let x_area_px = 12 + text_height(&font(TICK_FONT_PX)) + 6 + text_height(&font(VALUE_FONT_PX)) + 8;
    let mut plot = ChartBuilder::on(panel_area)
        .margin_top(36)
        .margin_right(8)
        .x_label_area_size(x_area_px)
        .y_label_area_size(y_area_px)
        .build_cartesian_2d(TickedAxis::new(0.0..rows.len().max(1) as f64, Vec::new()), y.coord())?;
    draw_axes(area, &mut plot, (None, "", x_area_px), (Some(&y), "", y_area_px))?;
    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();
    let range = y.axis_range();
    let slot_px = (x_pixels.end - x_pixels.start) / rows.len().max(1) as i32;
    let label_font = font(VALUE_FONT_PX);
    let value_font = bold_font(VALUE_FONT_PX + 1.0);
    for (slot, row) in rows.iter().enumerate() {
        let colour = palette.colour(&row.implementation);
        let centre = slot as f64 + 0.5;
        let centre_px = plot.backend_coord(&(centre, range.start)).0;
        let name = ellipsize(&row.implementation, slot_px - 6, &font(TICK_FONT_PX));
        put_text(area, &name, (centre_px, y_pixels.end + 10), &font(TICK_FONT_PX), TEXT, HPos::Center, VPos::Top)?;
        if let Some((claimed_low, claimed_high)) = row.claimed {
            let bottom = claimed_low.and_then(|v| y.to_axis(v)).unwrap_or(range.start).clamp(range.start, range.end);
            let top = claimed_high.and_then(|v| y.to_axis(v)).unwrap_or(range.end).clamp(range.start, range.end);
            let corners = [(slot as f64 + 0.12, bottom), (slot as f64 + 0.88, top)];
            plot.draw_series(std::iter::once(Rectangle::new(corners, tint(colour, 0.72).filled())))?;
            plot.draw_series(std::iter::once(Rectangle::new(corners, colour.stroke_width(2))))?;
            // The claim is written under the implementation's name, where no mark can cover it.
            let label = ellipsize(&row.claimed_label, slot_px - 6, &label_font);
            let label_top_px = y_pixels.end + 12 + text_height(&font(TICK_FONT_PX));
            put_text(area, &label, (centre_px, label_top_px), &label_font, MUTED_TEXT, HPos::Center, VPos::Top)?;
        }
        if let Some((median, low, high)) = row.measured {
            let Some(median_axis) = y.to_axis(median) else { continue };
            let median_px = plot.backend_coord(&(centre, median_axis)).1;
            let low_px = plot.backend_coord(&(centre, y.clamped(low))).1;
            let high_px = plot.backend_coord(&(centre, y.clamped(high))).1;
            draw_error_bar(area, centre_px, low_px, high_px, 10)?;
            area.draw(&Circle::new((centre_px, median_px), MEASURED_RADIUS_PX + 2, WHITE.filled()))?;
            area.draw(&Circle::new((centre_px, median_px), MEASURED_RADIUS_PX, AXIS.filled()))?;
            // Centred above the CI (below it when the plot ends too soon), on a white backdrop so
            // that a band behind it does not hide it.
            // "measured 1.80 ms" when the slot has room, else the value alone (the key says what a dot is).
            let value = panel.value_format.format(median);
            let worded = format!("measured {value}");
            let label = if text_width(&value_font, &worded) <= slot_px - 12 { worded } else { value };
            let (label_width_px, label_height_px) = (text_width(&value_font, &label), text_height(&value_font));
            let above_px = high_px.min(median_px - MEASURED_RADIUS_PX) - 6 - label_height_px;
            let top_px = if above_px > y_pixels.start { above_px } else { low_px.max(median_px + MEASURED_RADIUS_PX) + 6 };
            let left_px =
                (centre_px - label_width_px / 2).clamp(x_pixels.start + 6, (x_pixels.end - label_width_px - 6).max(x_pixels.start + 6));
            let backdrop = [(left_px - 4, top_px - 2), (left_px + label_width_px + 4, top_px + label_height_px + 2)];
            area.draw(&Rectangle::new(backdrop, WHITE.mix(0.85).filled()))?;
            put_text(area, &label, (left_px, top_px), &value_font, TEXT, HPos::Left, VPos::Top)?;
        }
    }
    Ok(())
}

/// What the marks mean, in one line under the panels (the band only when there are claims).
fn draw_key(area: &Area, centre_y_px: i32, claimed: bool) -> DrawResult<()> {
    let key_font = font(LEGEND_FONT_PX);
    let (band, dot) = ("claimed range", "measured median, 95% CI");
    let band_px = if claimed { 30 + 8 + text_width(&key_font, band) + 40 } else { 0 };
    let mut left_px = (WIDTH_PX - band_px - 2 * MEASURED_RADIUS_PX - 8 - text_width(&key_font, dot)) / 2;
    if claimed {
        let swatch = [(left_px, centre_y_px - 9), (left_px + 30, centre_y_px + 9)];
        area.draw(&Rectangle::new(swatch, tint(MUTED_TEXT, 0.72).filled()))?;
        area.draw(&Rectangle::new(swatch, MUTED_TEXT.stroke_width(2)))?;
        put_text(area, band, (left_px + 38, centre_y_px), &key_font, TEXT, HPos::Left, VPos::Center)?;
        left_px += band_px;
    }
    left_px += MEASURED_RADIUS_PX;
    area.draw(&Circle::new((left_px, centre_y_px), MEASURED_RADIUS_PX, AXIS.filled()))?;
    put_text(area, dot, (left_px + MEASURED_RADIUS_PX + 8, centre_y_px), &key_font, TEXT, HPos::Left, VPos::Center)
}
