//! Grouped bars: groups along x (one per scenario point, say), one bar per implementation in
//! each, with an error bar for its CI and its value written above it.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::{axis_description, draw_axes, y_area_width};
use super::first_appearances;
use super::legend::{draw_legend, legend_width, LegendEntry, Swatch};
use super::marks::draw_error_bar;
use super::scale::{linear_bounds, log_bounds, max_of, min_of, round_down_125, wants_log, Scale, TickedAxis};
use super::text::{draw_text, ellipsize, font, put_text, text_height, text_width, wrap, Direction, Font};
use super::{
    draw_no_data, draw_title, render, Area, Chart, ChartError, DrawResult, Palette, Plot, AXIS_DESC_FONT_PX, HEIGHT_PX, LEGEND_GAP_PX,
    MARGIN_PX, MUTED_TEXT, PLOT_RIGHT_PAD_PX, PLOT_TOP_PAD_PX, TEXT, TICK_FONT_PX, TITLE_BAND_PX, VALUE_FONT_PX, WIDTH_PX,
};
use crate::format::ValueFormat;

/// Grouped bars: groups along x (e.g. one per scenario point), one bar per implementation in each.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupedBars {
    pub(crate) title: String,
    /// What the groups are, e.g. "scenario point"; empty for none.
    pub(crate) x_label: String,
    /// What the bars measure, with its unit, e.g. "median wall time (s)".
    pub(crate) y_label: String,
    pub(crate) groups: Vec<BarGroup>,
    /// `None` chooses by itself: log when the largest value is more than 30× the smallest.
    /// On a log axis, bars whose value is zero or negative are not drawn; their label remains.
    pub(crate) log_y: Option<bool>,
    pub(crate) value_format: ValueFormat,
    /// What the bars of a group are, the legend's title: "Implementation", or "Machine".
    pub(crate) legend_title: &'static str,
    /// Bars (and the legend) in the order the groups give them, as a start-up anatomy's chain
    /// steps must be; otherwise in the palette's order, the same on every chart of a report.
    pub(crate) in_given_order: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BarGroup {
    pub(crate) label: String,
    pub(crate) bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub(crate) implementation: String,
    /// NaN draws no bar and the label "n/a".
    pub(crate) value: f64,
    /// Confidence interval (low, high), drawn as an error bar.
    pub(crate) ci: Option<(f64, f64)>,
}

/// Draws grouped bars, with error bars for confidence intervals and a value above each bar.
pub(crate) fn grouped_bars(path: &Path, chart: &GroupedBars, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_grouped_bars(area, chart, palette))
}

impl Chart for GroupedBars {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError> {
        grouped_bars(path, self, palette)
    }
}

/// Sizes that depend on each other: the y labels' width sets the plot width, which sets how group
/// labels wrap, which sets the plot height, which sets the y range.
struct BarsLayout {
    y: Scale,
    y_area_px: i32,
    x_area_px: i32,
    group_font: Font,
    group_lines: Vec<Vec<String>>,
    rotate_values: bool,
}

fn draw_grouped_bars(area: &Area, chart: &GroupedBars, palette: &Palette) -> DrawResult<()> {
    let implementations = bar_order(chart, palette);
    let all_values: Vec<f64> = chart
        .groups
        .iter()
        .flat_map(|group| &group.bars)
        .flat_map(|bar| std::iter::once(bar.value).chain(bar.ci.into_iter().flat_map(|(low, high)| [low, high])))
        .filter(|value| value.is_finite())
        .collect();
    let log = chart.log_y.unwrap_or_else(|| wants_log(&all_values));
    let placeable: Vec<f64> = all_values.iter().copied().filter(|&value| !log || value > 0.0).collect();
    let (Some(min), Some(max)) = (min_of(&placeable), max_of(&placeable)) else {
        return draw_no_data(area, &chart.title, "no finite values to draw");
    };

    draw_title(area, &chart.title)?;
    let entries: Vec<LegendEntry> = implementations
        .iter()
        .map(|name| LegendEntry { label: name.clone(), colour: palette.colour(name), swatch: Swatch::Block })
        .collect();
    let legend_px = legend_width(&entries, chart.legend_title);

    let value_labels: Vec<String> =
        chart.groups.iter().flat_map(|group| &group.bars).map(|bar| chart.value_format.format(bar.value)).collect();
    let mut layout = bars_layout(chart, implementations.len(), &value_labels, (min, max), log, legend_px, 90);
    let needed_y_area_px = y_area_width(&layout.y);
    if needed_y_area_px > layout.y_area_px {
        layout = bars_layout(chart, implementations.len(), &value_labels, (min, max), log, legend_px, needed_y_area_px);
    }

    let chart_area = area.margin(TITLE_BAND_PX, MARGIN_PX, MARGIN_PX, MARGIN_PX + legend_px + LEGEND_GAP_PX);
    let group_count = chart.groups.len() as f64;
    let mut plot = ChartBuilder::on(&chart_area)
        .margin_top(PLOT_TOP_PAD_PX)
        .margin_right(PLOT_RIGHT_PAD_PX)
        .x_label_area_size(layout.x_area_px)
        .y_label_area_size(layout.y_area_px)
        // Value labels carry the numbers, so the minor log grid would only add clutter here.
        .build_cartesian_2d(TickedAxis::new(0.0..group_count, Vec::new()), TickedAxis { minor_ticks: Vec::new(), ..layout.y.coord() })?;
    let y_desc = axis_description(&chart.y_label, log);
    draw_axes(area, &mut plot, (None, &chart.x_label, layout.x_area_px), (Some(&layout.y), &y_desc, layout.y_area_px))?;

    let (x_pixels, y_pixels) = plot.plotting_area().get_pixel_range();
    let bar_base = if log { layout.y.axis_range().start } else { layout.y.clamped(0.0) };
    draw_bars(area, &mut plot, chart, palette, &implementations, &layout, bar_base)?;
    draw_group_labels(area, &plot, &layout, bar_base)?;
    draw_legend(area, x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX, y_pixels.start, legend_px, chart.legend_title, &entries)
}

/// The implementations of the bars, each once, in the order their slots and legend take.
fn bar_order(chart: &GroupedBars, palette: &Palette) -> Vec<String> {
    let names = chart.groups.iter().flat_map(|group| &group.bars).map(|bar| bar.implementation.as_str());
    if chart.in_given_order {
        first_appearances(names)
    } else {
        palette.ordered(names)
    }
}

/// Each bar in its group's slot for its implementation, with its error bar and value label.
fn draw_bars(
    area: &Area,
    plot: &mut Plot,
    chart: &GroupedBars,
    palette: &Palette,
    implementations: &[String],
    layout: &BarsLayout,
    bar_base: f64,
) -> DrawResult<()> {
    let y_pixels = plot.plotting_area().get_pixel_range().1;
    let slot_width = 0.8 / implementations.len().max(1) as f64;
    let value_font = font(VALUE_FONT_PX);
    for (group_index, group) in chart.groups.iter().enumerate() {
        for bar in &group.bars {
            let slot = implementations.iter().position(|name| *name == bar.implementation).unwrap_or(0);
            let left = group_index as f64 + 0.1 + (slot as f64 + 0.06) * slot_width;
            let right = group_index as f64 + 0.1 + (slot as f64 + 0.94) * slot_width;
            let centre_px = plot.backend_coord(&((left + right) / 2.0, bar_base)).0;
            let label = chart.value_format.format(bar.value);
            let Some(top) = layout.y.to_axis(bar.value) else {
                // Nothing to stand on a log axis or NaN: say so where the bar would start.
                put_text(area, &label, (centre_px, y_pixels.end - 6), &value_font, MUTED_TEXT, HPos::Center, VPos::Bottom)?;
                continue;
            };
            let colour = palette.colour(&bar.implementation);
            plot.draw_series(std::iter::once(Rectangle::new([(left, bar_base), (right, top)], colour.filled())))?;

            // Above the bar, or above the baseline for a negative bar hanging below it.
            let mut label_bottom_px = plot.backend_coord(&(left, top)).1.min(plot.backend_coord(&(left, bar_base)).1);
            if let Some((low, high)) = bar.ci.filter(|(low, high)| low.is_finite() && high.is_finite()) {
                let low_px = plot.backend_coord(&(left, layout.y.clamped(low))).1;
                let high_px = plot.backend_coord(&(left, layout.y.clamped(high))).1;
                let bar_px = plot.backend_coord(&(right, top)).0 - plot.backend_coord(&(left, top)).0;
                draw_error_bar(area, centre_px, low_px, high_px, (bar_px / 4).clamp(3, 12))?;
                label_bottom_px = label_bottom_px.min(high_px);
            }
            draw_value_label(area, &label, (centre_px, label_bottom_px - 6), layout.rotate_values)?;
        }
    }
    Ok(())
}

fn draw_group_labels(area: &Area, plot: &Plot, layout: &BarsLayout, bar_base: f64) -> DrawResult<()> {
    let y_pixels = plot.plotting_area().get_pixel_range().1;
    // Group labels are drawn by hand so that long ones wrap within their group instead of colliding.
    let line_px = text_height(&layout.group_font) + 4;
    for (group_index, lines) in layout.group_lines.iter().enumerate() {
        let centre_px = plot.backend_coord(&(group_index as f64 + 0.5, bar_base)).0;
        for (line_index, line) in lines.iter().enumerate() {
            let top_px = y_pixels.end + 10 + line_index as i32 * line_px;
            put_text(area, line, (centre_px, top_px), &layout.group_font, TEXT, HPos::Center, VPos::Top)?;
        }
    }
    Ok(())
}

fn bars_layout(
    chart: &GroupedBars,
    slots: usize,
    value_labels: &[String],
    (min, max): (f64, f64),
    log: bool,
    legend_px: i32,
    y_area_px: i32,
) -> BarsLayout {
    let plot_width_px = WIDTH_PX - 2 * MARGIN_PX - legend_px - LEGEND_GAP_PX - PLOT_RIGHT_PAD_PX - y_area_px;
    let group_px = plot_width_px / chart.groups.len().max(1) as i32;
    let bar_px = (f64::from(group_px) * 0.8 * 0.88 / slots.max(1) as f64) as i32;

    // Shrink the group labels until every one wraps into at most three lines.
    let labels: Vec<&str> = chart.groups.iter().map(|group| group.label.as_str()).collect();
    let mut group_font = font(TICK_FONT_PX);
    let mut group_lines: Vec<Vec<String>> = labels.iter().map(|label| wrap(label, group_px - 8, &group_font)).collect();
    for size_px in [15.0, 14.0, 13.0, 12.0, 11.0] {
        if group_lines.iter().all(|lines| lines.len() <= 3) {
            break;
        }
        group_font = font(size_px);
        group_lines = labels.iter().map(|label| wrap(label, group_px - 8, &group_font)).collect();
    }
    // Hundreds of groups would still not fit: cut each label after three lines.
    for lines in &mut group_lines {
        if lines.len() > 3 {
            lines.truncate(3);
            let last = format!("{}…", lines[2]);
            lines[2] = ellipsize(&last, group_px - 8, &group_font);
        }
    }
    let line_count = group_lines.iter().map(Vec::len).max().unwrap_or(1) as i32;
    let description_px = if chart.x_label.is_empty() { 0 } else { 12 + text_height(&font(AXIS_DESC_FONT_PX)) };
    let x_area_px = 10 + line_count * (text_height(&group_font) + 4) + description_px + 6;

    let value_font = font(VALUE_FONT_PX);
    let widest_value_px = value_labels.iter().map(|label| text_width(&value_font, label)).max().unwrap_or(0);
    let rotate_values = widest_value_px > bar_px + 6;
    let headroom_px = if rotate_values { widest_value_px + 12 } else { text_height(&value_font) + 12 };
    let plot_height_px = HEIGHT_PX - TITLE_BAND_PX - MARGIN_PX - PLOT_TOP_PAD_PX - x_area_px;
    // The tallest bar plus its label must end below the top of the plot.
    let top_share = (f64::from(headroom_px) / f64::from(plot_height_px.max(1))).min(0.5);
    let pad_high = top_share / (1.0 - top_share);
    let y = if log {
        let (low, high) = log_bounds(min, max, 0.0, pad_high);
        // Bars stand on the axis' bottom, so it sits on a round value a little under the shortest bar.
        Scale::logarithmic(round_down_125(low / 10f64.powf(0.08 * (high / low).log10())), high, chart.value_format)
    } else {
        let (low, high) = linear_bounds(min.min(0.0), max.max(0.0), 0.0, pad_high);
        Scale::linear(low, high, chart.value_format, 6)
    };
    BarsLayout { y, y_area_px, x_area_px, group_font, group_lines, rotate_values }
}

/// A value above its bar; turned to read upwards when bars are too narrow for it.
fn draw_value_label(area: &Area, label: &str, (centre_px, bottom_px): (i32, i32), rotate: bool) -> DrawResult<()> {
    let value_font = font(VALUE_FONT_PX);
    if rotate {
        draw_text(area, label, (centre_px, bottom_px), &value_font, TEXT, (HPos::Center, VPos::Bottom), Direction::Upward)
    } else {
        put_text(area, label, (centre_px, bottom_px), &value_font, TEXT, HPos::Center, VPos::Bottom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::ValueFormat;

    #[test]
    fn bars_follow_the_palette_unless_the_chart_keeps_its_own_order() {
        let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        // The report's palette puts the whole (python-numpy) before the steps that make it up.
        let palette = Palette::new(&names(&["python-numpy", "exec-only", "bin-true"]));
        let bar = |name: &str| Bar { implementation: name.to_string(), value: 1.0, ci: None };
        let mut chart = GroupedBars {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            groups: vec![BarGroup { label: String::new(), bars: vec![bar("exec-only"), bar("bin-true"), bar("python-numpy")] }],
            log_y: None,
            value_format: ValueFormat::Seconds,
            legend_title: "Implementation",
            in_given_order: false,
        };
        assert_eq!(bar_order(&chart, &palette), names(&["python-numpy", "exec-only", "bin-true"]));
        chart.in_given_order = true;
        assert_eq!(bar_order(&chart, &palette), names(&["exec-only", "bin-true", "python-numpy"]));
    }
}
