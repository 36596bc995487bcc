//! The marks several charts draw: markers, error bars, and polylines clipped to their plot.

use std::ops::Range;

use plotters::prelude::*;

use super::{Area, DrawResult, AXIS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

impl Marker {
    pub(super) const ALL: [Marker; 4] = [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond];
}

pub(super) fn draw_marker(area: &Area, (x, y): (i32, i32), marker: Marker, colour: RGBColor, radius_px: i32) -> DrawResult<()> {
    let r = radius_px;
    let style = colour.filled();
    match marker {
        Marker::Circle => area.draw(&Circle::new((x, y), r, style))?,
        Marker::Square => area.draw(&Rectangle::new([(x - r + 1, y - r + 1), (x + r - 1, y + r - 1)], style))?,
        Marker::Triangle => area.draw(&Polygon::new(vec![(x, y - r - 1), (x + r + 1, y + r - 1), (x - r - 1, y + r - 1)], style))?,
        Marker::Diamond => area.draw(&Polygon::new(vec![(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)], style))?,
    }
    Ok(())
}

pub(super) fn draw_error_bar(area: &Area, centre_px: i32, low_px: i32, high_px: i32, cap_half_px: i32) -> DrawResult<()> {
    let style = AXIS.stroke_width(2);
    area.draw(&PathElement::new(vec![(centre_px, low_px), (centre_px, high_px)], style))?;
    for y_px in [low_px, high_px] {
        area.draw(&PathElement::new(vec![(centre_px - cap_half_px, y_px), (centre_px + cap_half_px, y_px)], style))?;
    }
    Ok(())
}

/// Draws a polyline as separate segments, each clipped to the plot's pixel ranges: a series never
/// leaves its plot area, and without joins a thick line grows no miter spikes where it turns
/// sharply (a memory trace sampled every millisecond turns sharply all the time).
pub(super) fn draw_clipped_polyline(
    area: &Area,
    polyline_px: &[(i32, i32)],
    clip: (&Range<i32>, &Range<i32>),
    style: ShapeStyle,
) -> DrawResult<()> {
    let mut points: Vec<(i32, i32)> = polyline_px.to_vec();
    points.dedup();
    for pair in points.windows(2) {
        if let Some((start, end)) = clip_segment(pair[0], pair[1], clip) {
            area.draw(&PathElement::new(vec![start, end], style))?;
        }
    }
    Ok(())
}

/// The part of the segment from `a` to `b` inside the rectangle (Liang–Barsky), if any.
pub(super) fn clip_segment(
    a: (i32, i32),
    b: (i32, i32),
    (x_range, y_range): (&Range<i32>, &Range<i32>),
) -> Option<((i32, i32), (i32, i32))> {
    let (x0, y0) = (f64::from(a.0), f64::from(a.1));
    let (dx, dy) = (f64::from(b.0) - x0, f64::from(b.1) - y0);
    let (mut enter, mut leave) = (0.0_f64, 1.0_f64);
    let edges = [
        (-dx, x0 - f64::from(x_range.start)),
        (dx, f64::from(x_range.end) - x0),
        (-dy, y0 - f64::from(y_range.start)),
        (dy, f64::from(y_range.end) - y0),
    ];
    for (p, q) in edges {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else if p < 0.0 {
            enter = enter.max(q / p);
        } else {
            leave = leave.min(q / p);
        }
    }
    if enter > leave {
        return None;
    }
    let at = |share: f64| ((x0 + share * dx).round() as i32, (y0 + share * dy).round() as i32);
    Some((at(enter), at(leave)))
}
