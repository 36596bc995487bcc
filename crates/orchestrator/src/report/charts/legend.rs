//! The legend: a panel right of the plot, one swatch (a block, or a line with its marker) and
//! name per implementation, so it never covers data. Hand-written because plotters' own series
//! labels (`configure_series_labels`) are drawn inside the plotting area, over the data, and in
//! plotters' text.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::marks::{draw_marker, Marker};
use super::text::{bold_font, ellipsize, font, put_text, text_width};
use super::{
    Area, DrawResult, GRID, LEGEND_FONT_PX, LEGEND_MAX_WIDTH_PX, LEGEND_MIN_WIDTH_PX, LEGEND_PAD_PX, LEGEND_ROW_PX, LEGEND_SWATCH_PX, TEXT,
    WIDTH_PX,
};

pub(super) struct LegendEntry {
    pub(super) label: String,
    pub(super) colour: RGBColor,
    pub(super) swatch: Swatch,
}

pub(super) enum Swatch {
    Block,
    Line(Marker),
}

pub(super) fn legend_width(entries: &[LegendEntry], heading: &str) -> i32 {
    let entry_font = font(LEGEND_FONT_PX);
    let widest_px = entries
        .iter()
        .map(|entry| LEGEND_SWATCH_PX + 10 + text_width(&entry_font, &entry.label))
        .chain(std::iter::once(text_width(&bold_font(LEGEND_FONT_PX), heading)))
        .max()
        .unwrap_or(0);
    (widest_px + 2 * LEGEND_PAD_PX).clamp(LEGEND_MIN_WIDTH_PX, LEGEND_MAX_WIDTH_PX)
}

/// The legend in its own panel right of the plot, so it never covers data.
pub(super) fn draw_legend(area: &Area, left_px: i32, top_px: i32, width_px: i32, heading: &str, entries: &[LegendEntry]) -> DrawResult<()> {
    let height_px = 2 * LEGEND_PAD_PX + (entries.len() as i32 + 1) * LEGEND_ROW_PX;
    let right_px = (left_px + width_px).min(WIDTH_PX - 2);
    area.draw(&Rectangle::new([(left_px, top_px), (right_px, top_px + height_px)], GRID.stroke_width(1)))?;
    let heading_font = bold_font(LEGEND_FONT_PX);
    let heading = ellipsize(heading, right_px - left_px - 2 * LEGEND_PAD_PX, &heading_font);
    let mut row_centre_px = top_px + LEGEND_PAD_PX + LEGEND_ROW_PX / 2;
    put_text(area, &heading, (left_px + LEGEND_PAD_PX, row_centre_px), &heading_font, TEXT, HPos::Left, VPos::Center)?;
    let entry_font = font(LEGEND_FONT_PX);
    for entry in entries {
        row_centre_px += LEGEND_ROW_PX;
        let swatch_left_px = left_px + LEGEND_PAD_PX;
        match entry.swatch {
            Swatch::Block => area.draw(&Rectangle::new(
                [(swatch_left_px + 6, row_centre_px - 9), (swatch_left_px + LEGEND_SWATCH_PX - 6, row_centre_px + 9)],
                entry.colour.filled(),
            ))?,
            Swatch::Line(marker) => {
                area.draw(&PathElement::new(
                    vec![(swatch_left_px, row_centre_px), (swatch_left_px + LEGEND_SWATCH_PX, row_centre_px)],
                    entry.colour.stroke_width(3),
                ))?;
                draw_marker(area, (swatch_left_px + LEGEND_SWATCH_PX / 2, row_centre_px), marker, entry.colour, 6)?;
            }
        }
        let text_left_px = swatch_left_px + LEGEND_SWATCH_PX + 10;
        let label = ellipsize(&entry.label, right_px - text_left_px - LEGEND_PAD_PX, &entry_font);
        put_text(area, &label, (text_left_px, row_centre_px), &entry_font, TEXT, HPos::Left, VPos::Center)?;
    }
    Ok(())
}
