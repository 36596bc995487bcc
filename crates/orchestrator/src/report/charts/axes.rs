//! The axes of a plot: the grid and axis lines from plotters' mesh, the tick labels and axis
//! descriptions in the charts' own text (see text.rs), and the room they take.
//!
//! The mesh is plotters' own, but it is handed label formatters that return "" and the labels
//! and descriptions are drawn here: the mesh would write them with plotters' text, whose glyph
//! placement and line height text.rs explains and avoids.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::scale::Scale;
use super::text::{draw_text, ellipsize, font, put_text, text_height, text_width, Direction};
use super::{Area, DrawResult, Plot, AXIS, AXIS_DESC_FONT_PX, GRID, MINOR_GRID, TEXT, TICK_FONT_PX, WIDTH_PX};

pub(super) fn axis_description(label: &str, log: bool) -> String {
    if log && !label.is_empty() {
        format!("{label} (log scale)")
    } else {
        label.to_string()
    }
}

/// Width of the y label area: the widest tick label, a gap, and the rotated axis description.
pub(super) fn y_area_width(scale: &Scale) -> i32 {
    let tick_font = font(TICK_FONT_PX);
    let widest_px = scale.ticks.iter().filter_map(|&tick| scale.to_axis(tick)).map(|axis| text_width(&tick_font, &scale.label(axis))).max();
    // Capped, so that absurd tick labels cannot squeeze the plot to nothing.
    (widest_px.unwrap_or(0) + 16 + text_height(&font(AXIS_DESC_FONT_PX)) + 14).min(WIDTH_PX / 4)
}

pub(super) fn x_area_height(with_description: bool) -> i32 {
    let description_px = if with_description { text_height(&font(AXIS_DESC_FONT_PX)) + 12 } else { 0 };
    12 + text_height(&font(TICK_FONT_PX)) + description_px + 8
}

/// Axis lines and grid from plotters, then tick labels and axis descriptions with our own text.
/// A `None` scale leaves that axis unlabelled (bar groups and phase rows label themselves).
pub(super) fn draw_axes(
    area: &Area,
    plot: &mut Plot,
    (x, x_desc, x_area_px): (Option<&Scale>, &str, i32),
    (y, y_desc, y_area_px): (Option<&Scale>, &str, i32),
) -> DrawResult<()> {
    let no_label = |_: &f64| String::new();
    plot.configure_mesh()
        .x_label_formatter(&no_label)
        .y_label_formatter(&no_label)
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(MINOR_GRID.stroke_width(1))
        .axis_style(AXIS.stroke_width(1))
        .draw()?;
    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();
    let origin = (plot.x_range().start, plot.y_range().start);
    let tick_font = font(TICK_FONT_PX);
    let description_font = font(AXIS_DESC_FONT_PX);
    if let Some(x) = x {
        for tick in x.axis_ticks() {
            let tick_px = plot.backend_coord(&(tick, origin.1)).0;
            put_text(area, &x.label(tick), (tick_px, y_pixels.end + 10), &tick_font, TEXT, HPos::Center, VPos::Top)?;
        }
    }
    if let Some(y) = y {
        for tick in y.axis_ticks() {
            let tick_px = plot.backend_coord(&(origin.0, tick)).1;
            put_text(area, &y.label(tick), (x_pixels.start - 10, tick_px), &tick_font, TEXT, HPos::Right, VPos::Center)?;
        }
    }
    if !x_desc.is_empty() {
        let x_desc = ellipsize(x_desc, x_pixels.end - x_pixels.start, &description_font);
        let at = ((x_pixels.start + x_pixels.end) / 2, y_pixels.end + x_area_px - 4);
        put_text(area, &x_desc, at, &description_font, TEXT, HPos::Center, VPos::Bottom)?;
    }
    if !y_desc.is_empty() {
        let y_desc = ellipsize(y_desc, y_pixels.end - y_pixels.start, &description_font);
        let at = (x_pixels.start - y_area_px + 4, (y_pixels.start + y_pixels.end) / 2);
        draw_text(area, &y_desc, at, &description_font, TEXT, (HPos::Left, VPos::Center), Direction::Upward)?;
    }
    Ok(())
}
