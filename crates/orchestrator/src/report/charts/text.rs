//! The charts' text: the embedded DejaVu Sans laid out with ab_glyph (kerning and each glyph's
//! side bearing), drawn pixel by pixel, across or turned to read upwards, anchored by its box;
//! and the fitting of text into a width (ellipsis, word wrap).
//!
//! Hand-written because plotters' text does not serve: its ab_glyph backend places each glyph at
//! the pen position truncated to a whole pixel without the glyph's left side bearing, so letters
//! space unevenly ("scenari o"); it measures a line as size/1.24 high rather than ascent plus
//! descent, so a box-anchored label sits off; and it has no wrapping or ellipsis.

use std::sync::OnceLock;

use ab_glyph::{point, Font as _, FontRef, GlyphId, PxScaleFont, ScaleFont as _};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{Area, DrawResult, BOLD_FONT, REGULAR_FONT};

/// A size and weight of the embedded DejaVu Sans.
#[derive(Debug, Clone, Copy)]
pub(super) struct Font {
    size_px: f32,
    bold: bool,
}

pub(super) fn font(size_px: f64) -> Font {
    Font { size_px: size_px as f32, bold: false }
}

pub(super) fn bold_font(size_px: f64) -> Font {
    Font { size_px: size_px as f32, bold: true }
}

/// Parsed glyph outlines. Text is laid out and rasterised here rather than by plotters, whose
/// ab_glyph backend drops each glyph's side bearing and so spaces letters unevenly ("scenari o").
pub(super) struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

pub(super) fn faces() -> Result<&'static Faces, &'static str> {
    static FACES: OnceLock<Result<Faces, &'static str>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Ok(Faces {
                regular: FontRef::try_from_slice(REGULAR_FONT).map_err(|_| "DejaVuSans.ttf")?,
                bold: FontRef::try_from_slice(BOLD_FONT).map_err(|_| "DejaVuSans-Bold.ttf")?,
            })
        })
        .as_ref()
        .map_err(|font| *font)
}

impl Font {
    fn face(self, faces: &Faces) -> &FontRef<'static> {
        if self.bold {
            &faces.bold
        } else {
            &faces.regular
        }
    }
}

/// Each glyph with its pen position along the baseline, and the advance of the whole text.
pub(super) fn lay_out<F: ab_glyph::Font>(scaled: &PxScaleFont<&F>, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
    let mut glyphs = Vec::with_capacity(text.len());
    let mut pen_px = 0.0;
    let mut previous: Option<GlyphId> = None;
    for character in text.chars() {
        let id = scaled.glyph_id(character);
        if let Some(previous) = previous {
            pen_px += scaled.kern(previous, id);
        }
        glyphs.push((id, pen_px));
        pen_px += scaled.h_advance(id);
        previous = Some(id);
    }
    (glyphs, pen_px)
}

pub(super) fn text_width(font: &Font, text: &str) -> i32 {
    match faces() {
        Ok(faces) => lay_out(&font.face(faces).as_scaled(font.size_px), text).1.ceil() as i32,
        // Only if the font cannot be read: a generous guess keeps the layout from overlapping.
        Err(_) => (text.chars().count() as f32 * font.size_px * 0.65).ceil() as i32,
    }
}

/// Height of a line of text: ascent plus descent.
pub(super) fn text_height(font: &Font) -> i32 {
    match faces() {
        Ok(faces) => {
            let scaled = font.face(faces).as_scaled(font.size_px);
            (scaled.ascent() - scaled.descent()).ceil() as i32
        }
        Err(_) => font.size_px.ceil() as i32,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    LeftToRight,
    /// Turned a quarter left, reading bottom to top: y axis descriptions, labels above narrow bars.
    Upward,
}

pub(super) fn put_text(
    area: &Area,
    text: &str,
    at: (i32, i32),
    font: &Font,
    colour: RGBColor,
    horizontal: HPos,
    vertical: VPos,
) -> DrawResult<()> {
    draw_text(area, text, at, font, colour, (horizontal, vertical), Direction::LeftToRight)
}

/// Draws `text` so that its box (as seen on the page) is anchored at `at` as `anchor` says.
pub(super) fn draw_text(
    area: &Area,
    text: &str,
    at: (i32, i32),
    font: &Font,
    colour: RGBColor,
    anchor: (HPos, VPos),
    direction: Direction,
) -> DrawResult<()> {
    let faces = faces()?;
    let face = font.face(faces);
    let scaled = face.as_scaled(font.size_px);
    let (glyphs, advance_px) = lay_out(&scaled, text);
    let (width_px, height_px) = (advance_px.ceil() as i32, (scaled.ascent() - scaled.descent()).ceil() as i32);
    let (box_width_px, box_height_px) = match direction {
        Direction::LeftToRight => (width_px, height_px),
        Direction::Upward => (height_px, width_px),
    };
    let left_px = match anchor.0 {
        HPos::Left => at.0,
        HPos::Center => at.0 - box_width_px / 2,
        HPos::Right => at.0 - box_width_px,
    };
    let top_px = match anchor.1 {
        VPos::Top => at.1,
        VPos::Center => at.1 - box_height_px / 2,
        VPos::Bottom => at.1 - box_height_px,
    };
    for (id, pen_px) in glyphs {
        let glyph = id.with_scale_and_position(font.size_px, point(pen_px, scaled.ascent()));
        let Some(outline) = face.outline_glyph(glyph) else { continue };
        let bounds = outline.px_bounds();
        let mut drawn = Ok(());
        outline.draw(|glyph_x, glyph_y, coverage| {
            if coverage < 0.02 || drawn.is_err() {
                return;
            }
            // (u, v): position inside the unturned text box, u along the line, v down.
            let u = bounds.min.x as i32 + glyph_x as i32;
            let v = bounds.min.y as i32 + glyph_y as i32;
            let pixel = match direction {
                Direction::LeftToRight => (left_px + u, top_px + v),
                Direction::Upward => (left_px + v, top_px + width_px - 1 - u),
            };
            drawn = area.draw_pixel(pixel, &colour.mix(f64::from(coverage.min(1.0))));
        });
        drawn?;
    }
    Ok(())
}

/// `text` shortened with "…" until it fits `max_width_px`.
pub(super) fn ellipsize(text: &str, max_width_px: i32, font: &Font) -> String {
    if text_width(font, text) <= max_width_px {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate = format!("{}…", chars.iter().collect::<String>().trim_end());
        if text_width(font, &candidate) <= max_width_px {
            return candidate;
        }
    }
    "…".to_string()
}

/// Greedy word wrap to `max_width_px`; a word wider than a whole line is cut between characters.
pub(super) fn wrap(text: &str, max_width_px: i32, font: &Font) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if text_width(font, &candidate) <= max_width_px {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than the line is cut after its last hyphen that fits ("learning-" /
        // "rate"), else between two characters.
        for character in word.chars() {
            line.push(character);
            if text_width(font, &line) > max_width_px && line.chars().count() > 1 {
                line.pop();
                let rest = match line.rfind('-') {
                    Some(at) if at + 1 < line.len() => line.split_off(at + 1),
                    _ => String::new(),
                };
                lines.push(std::mem::replace(&mut line, rest));
                line.push(character);
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::{register_fonts, TICK_FONT_PX};

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        register_fonts().unwrap_or_else(|font| panic!("font {font}"));
        let group_font = font(TICK_FONT_PX);
        let lines = wrap("n=10000000 epochs=10 lr=0.01", 120, &group_font);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|line| text_width(&group_font, line) <= 120), "{lines:?}");
        let cut = wrap("averyveryveryverylongwordwithoutspaces", 60, &group_font);
        assert!(cut.len() > 1 && cut.iter().all(|line| text_width(&group_font, line) <= 60), "{cut:?}");
        let width = text_width(&group_font, "learning-ra");
        assert_eq!(wrap("learning-rate lr=0.01", width, &group_font), ["learning-", "rate", "lr=0.01"]);
    }
}
