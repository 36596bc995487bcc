//! Every chart of the report, drawn from plain data into 1200×800 PNG files with plotters (the
//! headline chart, in charts/headline.rs, is 1200×520). The report fills the input types below;
//! this module depends on nothing else in the crate.

use std::error::Error as StdError;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{point, Font as _, FontRef, GlyphId, PxScaleFont, ScaleFont as _};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

mod headline;
pub use headline::{headline, ClaimedAndMeasured, HeadlineChart, HeadlinePanel, HEADLINE_HEIGHT};

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 1200;
/// Height of every chart, in pixels.
pub const HEIGHT: u32 = 800;

// Fonts ship inside the binary so that drawing needs nothing from the system (no fontconfig).
const REGULAR_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const WIDTH_PX: i32 = WIDTH as i32;
const HEIGHT_PX: i32 = HEIGHT as i32;
const MARGIN_PX: i32 = 20;
const TITLE_BAND_PX: i32 = 60;
const TITLE_FONT_PX: f64 = 28.0;
const AXIS_DESC_FONT_PX: f64 = 18.0;
const TICK_FONT_PX: f64 = 16.0;
const LEGEND_FONT_PX: f64 = 16.0;
const VALUE_FONT_PX: f64 = 14.0;
/// Space between the plot and the legend panel on its right.
const LEGEND_GAP_PX: i32 = 16;
const LEGEND_MIN_WIDTH_PX: i32 = 170;
const LEGEND_MAX_WIDTH_PX: i32 = 340;
const LEGEND_SWATCH_PX: i32 = 34;
const LEGEND_ROW_PX: i32 = 28;
const LEGEND_PAD_PX: i32 = 12;
/// Room above the plot and right of it, so the top and last tick labels are not cut.
const PLOT_TOP_PAD_PX: i32 = 12;
const PLOT_RIGHT_PAD_PX: i32 = 28;
/// Ratio of largest to smallest value above which bar charts switch to a log axis by themselves.
const AUTO_LOG_RATIO: f64 = 30.0;

const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED_TEXT: RGBColor = RGBColor(0x66, 0x66, 0x66);
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
const MINOR_GRID: RGBColor = RGBColor(0xF0, 0xF0, 0xF0);
const AXIS: RGBColor = RGBColor(0x44, 0x44, 0x44);
const REFERENCE_LINE: RGBColor = RGBColor(0x55, 0x55, 0x55);
const UNKNOWN_IMPLEMENTATION: RGBColor = RGBColor(0x88, 0x88, 0x88);

/// Okabe–Ito, the colour-blind-safe palette, in an order that keeps the first four far apart.
/// Its yellow (#F0E442) is left out: thin lines and labels in it vanish on white.
const IMPLEMENTATION_COLOURS: [RGBColor; 12] = [
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x00, 0x00), // black
    // A run of every scenario has a dozen implementations: five more of Paul Tol's muted scheme,
    // dark enough on white, so no two implementations share a colour.
    RGBColor(0x88, 0x22, 0x55), // wine
    RGBColor(0x33, 0x22, 0x88), // indigo
    RGBColor(0x99, 0x99, 0x33), // olive
    RGBColor(0x44, 0xAA, 0x99), // teal
    RGBColor(0xAA, 0x44, 0x99), // purple
];

/// Why a chart could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("chart {}: the embedded font {font} could not be loaded", .path.display())]
    Font { path: PathBuf, font: &'static str },
    #[error("drawing chart {}: {source}", .path.display())]
    Draw {
        path: PathBuf,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// How a number is written on an axis or a value label, in human units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    /// Seconds, written as s, ms, µs or ns, whichever reads best.
    Seconds,
    /// Bytes, written in binary units: B, KiB, MiB, GiB, TiB.
    Bytes,
    /// A percentage already scaled to 0–100.
    Percent,
    /// A bare number; 10 000 and above shortened to k, M, G.
    Plain,
}

impl ValueFormat {
    /// The divisor and suffix of the unit that suits a value of this magnitude.
    fn unit(self, magnitude: f64) -> (f64, &'static str) {
        // A hair of tolerance so that 1e-6 computed as 0.999…e-6 still reads "1 µs", not "1000 ns".
        let m = magnitude.abs() * (1.0 + 1e-9);
        const KIB: f64 = 1024.0;
        match self {
            Self::Seconds if m >= 1.0 => (1.0, " s"),
            Self::Seconds if m >= 1e-3 => (1e-3, " ms"),
            Self::Seconds if m >= 1e-6 => (1e-6, " µs"),
            Self::Seconds => (1e-9, " ns"),
            Self::Bytes if m >= KIB.powi(4) => (KIB.powi(4), " TiB"),
            Self::Bytes if m >= KIB.powi(3) => (KIB.powi(3), " GiB"),
            Self::Bytes if m >= KIB.powi(2) => (KIB.powi(2), " MiB"),
            Self::Bytes if m >= KIB => (KIB, " KiB"),
            Self::Bytes => (1.0, " B"),
            Self::Percent => (1.0, "%"),
            Self::Plain if m >= 1e9 => (1e9, "G"),
            Self::Plain if m >= 1e6 => (1e6, "M"),
            Self::Plain if m >= 1e4 => (1e3, "k"),
            Self::Plain => (1.0, ""),
        }
    }

    /// A value label with three significant digits in the value's own unit: "1.02 ms", "110 ms", "28.6 MiB".
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "n/a".to_string();
        }
        if value == 0.0 {
            return "0".to_string();
        }
        let (divisor, suffix) = self.unit(value);
        format!("{}{suffix}", significant_digits(value / divisor, 3))
    }

    /// A tick label: as few digits as the value needs, in its own unit: "1 ms", "2.5 ms", "10M".
    fn format_short(self, value: f64) -> String {
        if value == 0.0 {
            return "0".to_string();
        }
        let (divisor, suffix) = self.unit(value);
        if (value / divisor).abs() < 0.01 {
            // Too small for two decimals (distances from an optimum, say): 1e-3, 2.5e-7.
            let text = format!("{:.1e}", value / divisor).replace(".0e", "e");
            return format!("{text}{suffix}");
        }
        let digits = format!("{:.2}", value / divisor);
        let digits = if digits.contains('.') { digits.trim_end_matches('0').trim_end_matches('.') } else { &digits };
        format!("{digits}{suffix}")
    }
}

fn significant_digits(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    format!("{value:.decimals$}")
}

/// One colour (and marker shape) per implementation, the same in every chart of a run.
#[derive(Debug, Clone, Default)]
pub struct Palette {
    names: Vec<String>,
}

impl Palette {
    /// Colours are handed out in the order of `names`; pass every implementation of the whole run
    /// so that all charts agree. Repeated names are ignored.
    pub fn new(names: &[String]) -> Self {
        let mut unique: Vec<String> = Vec::with_capacity(names.len());
        for name in names {
            if !unique.contains(name) {
                unique.push(name.clone());
            }
        }
        Self { names: unique }
    }

    /// The implementation's colour; a name the palette was not given gets neutral grey.
    pub fn colour(&self, name: &str) -> RGBColor {
        self.position(name).map_or(UNKNOWN_IMPLEMENTATION, |index| IMPLEMENTATION_COLOURS[index % IMPLEMENTATION_COLOURS.len()])
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|known| known == name)
    }

    /// Line charts also vary the marker, so that series stay apart even in greyscale print.
    fn marker(&self, name: &str) -> Marker {
        self.position(name).map_or(Marker::Circle, |index| Marker::ALL[index % Marker::ALL.len()])
    }

    /// Distinct names in palette order; names the palette does not know follow in order of appearance.
    fn ordered<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut unique: Vec<&str> = Vec::new();
        for name in names {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        unique.sort_by_key(|name| self.position(name).unwrap_or(usize::MAX));
        unique.into_iter().map(str::to_string).collect()
    }
}

/// Grouped bars: groups along x (e.g. one per scenario point), one bar per implementation in each.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedBars {
    pub title: String,
    /// What the groups are, e.g. "scenario point"; empty for none.
    pub x_label: String,
    /// What the bars measure, with its unit, e.g. "median wall time (s)".
    pub y_label: String,
    pub groups: Vec<BarGroup>,
    /// `None` chooses by itself: log when the largest value is more than 30× the smallest.
    /// On a log axis, bars whose value is zero or negative are not drawn; their label remains.
    pub log_y: Option<bool>,
    pub value_format: ValueFormat,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    pub label: String,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub implementation: String,
    /// NaN draws no bar and the label "n/a".
    pub value: f64,
    /// Confidence interval (low, high), drawn as an error bar.
    pub ci: Option<(f64, f64)>,
}

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

/// Memory and CPU over time for one scenario point: one representative run per implementation.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    pub title: String,
    pub runs: Vec<RunSamples>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSamples {
    pub implementation: String,
    /// (seconds since spawn, resident set size in bytes, cumulative CPU seconds).
    pub samples: Vec<(f64, u64, f64)>,
}

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

/// Draws grouped bars, with error bars for confidence intervals and a value above each bar.
pub fn grouped_bars(path: &Path, chart: &GroupedBars, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_grouped_bars(area, chart, palette))
}

/// Draws one line with markers per implementation, and the reference lines.
pub fn lines(path: &Path, chart: &LineChart, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_lines(area, chart, palette))
}

/// Draws resident memory (top) and CPU utilisation (bottom) against time since spawn.
pub fn time_series(path: &Path, chart: &TimeSeries, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_time_series(area, chart, palette))
}

/// Draws one horizontal 100% bar per row, split into start-up, load and train.
pub fn phases(path: &Path, chart: &PhaseChart, palette: &Palette) -> Result<(), ChartError> {
    render(path, |area| draw_phases(area, chart, palette))
}

type DrawResult<T> = Result<T, Box<dyn StdError + Send + Sync>>;
type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Plot<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<TickedAxis, TickedAxis>>;

fn render(path: &Path, draw: impl FnOnce(&Area) -> DrawResult<()>) -> Result<(), ChartError> {
    render_sized(path, (WIDTH, HEIGHT), draw)
}

fn render_sized(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area) -> DrawResult<()>) -> Result<(), ChartError> {
    register_fonts().and(faces().map(|_| ())).map_err(|font| ChartError::Font { path: path.to_path_buf(), font })?;
    let area = BitMapBackend::new(path, size).into_drawing_area();
    let drawn = (|| {
        area.fill(&WHITE)?;
        draw(&area)?;
        area.present()?;
        Ok(())
    })();
    drawn.map_err(|source| ChartError::Draw { path: path.to_path_buf(), source })
}

/// Registers the embedded fonts with plotters as "sans-serif" once per process; the error names the
/// font file. Our text does not use it, but plotters' mesh still sends its (empty) tick labels
/// through its own text path, which fails without a font.
fn register_fonts() -> Result<(), &'static str> {
    static REGISTERED: OnceLock<Result<(), &'static str>> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, REGULAR_FONT).map_err(|_| "DejaVuSans.ttf")?;
        plotters::style::register_font("sans-serif", FontStyle::Bold, BOLD_FONT).map_err(|_| "DejaVuSans-Bold.ttf")
    })
}

// ---------------------------------------------------------------------------------------------
// Grouped bars

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
    let implementations = palette.ordered(chart.groups.iter().flat_map(|group| &group.bars).map(|bar| bar.implementation.as_str()));
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
    let legend_px = legend_width(&entries, "Implementation");

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

    // Group labels are drawn by hand so that long ones wrap within their group instead of colliding.
    let line_px = text_height(&layout.group_font) + 4;
    for (group_index, lines) in layout.group_lines.iter().enumerate() {
        let centre_px = plot.backend_coord(&(group_index as f64 + 0.5, bar_base)).0;
        for (line_index, line) in lines.iter().enumerate() {
            let top_px = y_pixels.end + 10 + line_index as i32 * line_px;
            put_text(area, line, (centre_px, top_px), &layout.group_font, TEXT, HPos::Center, VPos::Top)?;
        }
    }
    draw_legend(area, x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX, y_pixels.start, legend_px, "Implementation", &entries)
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

fn draw_error_bar(area: &Area, centre_px: i32, low_px: i32, high_px: i32, cap_half_px: i32) -> DrawResult<()> {
    let style = AXIS.stroke_width(2);
    area.draw(&PathElement::new(vec![(centre_px, low_px), (centre_px, high_px)], style))?;
    for y_px in [low_px, high_px] {
        area.draw(&PathElement::new(vec![(centre_px - cap_half_px, y_px), (centre_px + cap_half_px, y_px)], style))?;
    }
    Ok(())
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

// ---------------------------------------------------------------------------------------------
// Lines

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

    let mut drawn_px: Vec<(i32, i32)> = Vec::new();
    for name in &implementations {
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

    // Labels go on top, where they hide the fewest drawn pixels.
    let label_font = font(VALUE_FONT_PX);
    for (reference, level_px) in levels_px {
        let label = ellipsize(&reference.label, x_pixels.end - x_pixels.start - 16, &label_font);
        let size_px = (text_width(&label_font, &label), text_height(&label_font));
        let (left_px, top_px) = reference_label_place(level_px, (&x_pixels, &y_pixels), size_px, &drawn_px);
        let backdrop = [(left_px - 4, top_px - 2), (left_px + size_px.0 + 4, top_px + size_px.1 + 2)];
        area.draw(&Rectangle::new(backdrop, WHITE.mix(0.85).filled()))?;
        put_text(area, &label, (left_px, top_px), &label_font, REFERENCE_LINE, HPos::Left, VPos::Top)?;
    }
    draw_legend(area, x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX, y_pixels.start, legend_px, "Implementation", &entries)
}

/// Draws a polyline as separate segments, each clipped to the plot's pixel ranges: a series never
/// leaves its plot area, and without joins a thick line grows no miter spikes where it turns
/// sharply (a memory trace sampled every millisecond turns sharply all the time).
fn draw_clipped_polyline(area: &Area, polyline_px: &[(i32, i32)], clip: (&Range<i32>, &Range<i32>), style: ShapeStyle) -> DrawResult<()> {
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
fn clip_segment(a: (i32, i32), b: (i32, i32), (x_range, y_range): (&Range<i32>, &Range<i32>)) -> Option<((i32, i32), (i32, i32))> {
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

// ---------------------------------------------------------------------------------------------
// Memory and CPU over time

/// A run's samples with the time axis' rules applied: finite, in time order.
struct RunTrace {
    implementation: String,
    memory: Vec<(f64, f64)>,
    cpu_percent: Vec<(f64, f64)>,
}

fn draw_time_series(area: &Area, chart: &TimeSeries, palette: &Palette) -> DrawResult<()> {
    let traces: Vec<RunTrace> = chart
        .runs
        .iter()
        .map(|run| {
            let mut samples: Vec<(f64, u64, f64)> = run.samples.iter().copied().filter(|(t, _, _)| t.is_finite() && *t >= 0.0).collect();
            samples.sort_by(|a, b| a.0.total_cmp(&b.0));
            RunTrace {
                implementation: run.implementation.clone(),
                memory: samples.iter().map(|&(t, rss_bytes, _)| (t, rss_bytes as f64)).collect(),
                cpu_percent: cpu_utilisation_percent(&samples),
            }
        })
        .filter(|trace| !trace.memory.is_empty())
        .collect();
    let ends: Vec<f64> = traces.iter().filter_map(|trace| trace.memory.last()).map(|point| point.0).collect();
    let positive_times: Vec<f64> = traces.iter().flat_map(|trace| &trace.memory).map(|point| point.0).filter(|&t| t > 0.0).collect();
    let (Some(shortest_end), Some(longest_end)) = (min_of(&ends), max_of(&ends)) else {
        return draw_no_data(area, &chart.title, "no samples to draw");
    };

    // Python runs last ~100 ms and Rust ~1 ms: on a linear axis the Rust run would be a sliver at
    // the left edge. A log time axis gives every decade the same width, so both runs read in full;
    // runs of similar length keep the more familiar linear axis.
    let log_time = longest_end > AUTO_LOG_RATIO * shortest_end.max(f64::MIN_POSITIVE) && !positive_times.is_empty();
    let time = match min_of(&positive_times) {
        Some(first) if log_time => {
            let (low, high) = log_bounds(first, longest_end, 0.03, 0.03);
            Scale::logarithmic(low, high, ValueFormat::Seconds)
        }
        _ => Scale::linear(0.0, if longest_end > 0.0 { longest_end * 1.03 } else { 1e-3 }, ValueFormat::Seconds, 8),
    };
    let memory_max = traces.iter().flat_map(|trace| &trace.memory).map(|point| point.1).fold(0.0, f64::max);
    let memory = Scale::linear(0.0, if memory_max > 0.0 { memory_max * 1.08 } else { 1024.0 * 1024.0 }, ValueFormat::Bytes, 5);
    // Several busy threads exceed one core, so the axis grows past 100% when the data does.
    let cpu_max = traces.iter().flat_map(|trace| &trace.cpu_percent).map(|point| point.1).fold(100.0, f64::max);
    let cpu = Scale::linear(0.0, cpu_max * 1.1, ValueFormat::Percent, 5);

    draw_title(area, &chart.title)?;
    let implementations = palette.ordered(traces.iter().map(|trace| trace.implementation.as_str()));
    let entries: Vec<LegendEntry> = implementations
        .iter()
        .map(|name| LegendEntry { label: name.clone(), colour: palette.colour(name), swatch: Swatch::Line(palette.marker(name)) })
        .collect();
    let legend_px = legend_width(&entries, "Implementation");

    let chart_area = area.margin(TITLE_BAND_PX, MARGIN_PX, MARGIN_PX, MARGIN_PX + legend_px + LEGEND_GAP_PX);
    let y_area_px = y_area_width(&memory).max(y_area_width(&cpu));
    let bottom_x_area_px = x_area_height(true);
    const TOP_X_AREA_PX: i32 = 6;
    const PANEL_GAP_PX: i32 = 24;
    // Both panels get plots of the same height; only the bottom one carries the time labels.
    let (_, chart_height_px) = chart_area.dim_in_pixel();
    let top_panel_px = (chart_height_px as i32 - bottom_x_area_px + TOP_X_AREA_PX + PANEL_GAP_PX) / 2;
    let (top_area, bottom_area) = chart_area.split_vertically(top_panel_px);

    let time_description = axis_description("time since spawn", log_time);
    let mut plots = Vec::with_capacity(2);
    for (panel, scale, description, x_area_px) in
        [(&top_area, &memory, "resident memory (RSS)", TOP_X_AREA_PX), (&bottom_area, &cpu, "CPU (% of one core)", bottom_x_area_px)]
    {
        let mut plot = ChartBuilder::on(panel)
            .margin_top(PLOT_TOP_PAD_PX)
            .margin_right(PLOT_RIGHT_PAD_PX)
            .margin_bottom(if x_area_px == TOP_X_AREA_PX { PANEL_GAP_PX } else { 0 })
            .x_label_area_size(x_area_px)
            .y_label_area_size(y_area_px)
            .build_cartesian_2d(time.coord(), scale.coord())?;
        let time_labels = if x_area_px == TOP_X_AREA_PX { (None, "") } else { (Some(&time), time_description.as_str()) };
        draw_axes(area, &mut plot, (time_labels.0, time_labels.1, x_area_px), (Some(scale), description, y_area_px))?;
        plots.push(plot);
    }

    for name in &implementations {
        let colour = palette.colour(name);
        let marker = palette.marker(name);
        for trace in traces.iter().filter(|trace| trace.implementation == *name) {
            for (plot, values, scale) in plots
                .iter_mut()
                .zip([(&trace.memory, &memory), (&trace.cpu_percent, &cpu)])
                .map(|(plot, (values, scale))| (plot, values, scale))
            {
                let mapped_px: Vec<(i32, i32)> =
                    values.iter().filter_map(|&(t, value)| Some(plot.backend_coord(&(time.to_axis(t)?, scale.to_axis(value)?)))).collect();
                let pixels = plot.plotting_area().get_pixel_range();
                draw_clipped_polyline(area, &mapped_px, (&pixels.0, &pixels.1), colour.stroke_width(3))?;
                // The marker sits on the last sample: where the process was last seen alive.
                if let Some(&last) = mapped_px.last() {
                    draw_marker(area, last, marker, colour, 6)?;
                }
            }
        }
    }
    let (x_pixels, y_pixels) = plots[0].plotting_area().get_pixel_range();
    draw_legend(area, x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX, y_pixels.start, legend_px, "Implementation", &entries)?;
    let note_font = font(VALUE_FONT_PX);
    let note_top_px = y_pixels.start + 2 * LEGEND_PAD_PX + (entries.len() as i32 + 1) * LEGEND_ROW_PX + 16;
    let note = "marker: last sample before exit";
    let note_left_px = x_pixels.end + PLOT_RIGHT_PAD_PX + LEGEND_GAP_PX;
    for (index, line) in wrap(note, legend_px - 8, &note_font).iter().enumerate() {
        let top_px = note_top_px + index as i32 * (text_height(&note_font) + 4);
        put_text(area, line, (note_left_px + 4, top_px), &note_font, MUTED_TEXT, HPos::Left, VPos::Top)?;
    }
    Ok(())
}

/// CPU utilisation between consecutive samples, Δcpu/Δt·100 in % of one core, as steps: each
/// interval's average holds from its start to its end. Intervals without time are skipped, and a
/// decrease (which cumulative CPU time cannot do) counts as zero.
fn cpu_utilisation_percent(samples: &[(f64, u64, f64)]) -> Vec<(f64, f64)> {
    let mut steps = Vec::with_capacity(2 * samples.len());
    for pair in samples.windows(2) {
        let ((start, _, cpu_start), (end, _, cpu_end)) = (pair[0], pair[1]);
        let elapsed = end - start;
        let busy = cpu_end - cpu_start;
        if elapsed > 0.0 && busy.is_finite() {
            let percent = (busy / elapsed * 100.0).max(0.0);
            steps.push((start, percent));
            steps.push((end, percent));
        }
    }
    steps
}

// ---------------------------------------------------------------------------------------------
// Phases

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

/// Mixes `colour` with white; `white_share` 0 keeps the colour, 1 gives white.
fn tint(colour: RGBColor, white_share: f64) -> RGBColor {
    let mix = |channel: u8| (f64::from(channel) * (1.0 - white_share) + 255.0 * white_share).round() as u8;
    RGBColor(mix(colour.0), mix(colour.1), mix(colour.2))
}

/// Perceived brightness, 0–255, to pick dark or light text on a fill.
fn luminance(colour: RGBColor) -> f64 {
    0.299 * f64::from(colour.0) + 0.587 * f64::from(colour.1) + 0.114 * f64::from(colour.2)
}

// ---------------------------------------------------------------------------------------------
// Axes

/// One axis: its range, its ticks and how they are written. On a log axis the plot's coordinate
/// is log10 of the value, so that ticks are ours (1 ms, 10 ms, …) rather than plotters' defaults.
#[derive(Debug, Clone)]
struct Scale {
    log: bool,
    low: f64,
    high: f64,
    ticks: Vec<f64>,
    format: ValueFormat,
    /// Linear axes write every tick in one unit ("0 ms, 20 ms, 40 ms"), chosen from the range.
    tick_unit: (f64, &'static str),
    tick_decimals: usize,
}

impl Scale {
    fn linear(low: f64, high: f64, format: ValueFormat, tick_target: usize) -> Scale {
        let tick_unit = format.unit(low.abs().max(high.abs()));
        let step_in_unit = nice_step((high - low) / tick_unit.0, tick_target.max(1) as f64);
        let step = step_in_unit * tick_unit.0;
        let first = (low / step - 1e-9).ceil() as i64;
        let last = (high / step + 1e-9).floor() as i64;
        let ticks = if step > 0.0 && step.is_finite() { (first..=last).map(|k| k as f64 * step).collect() } else { Vec::new() };
        let tick_decimals = (-step_in_unit.log10() - 1e-6).ceil().max(0.0) as usize;
        Scale { log: false, low, high, ticks, format, tick_unit, tick_decimals }
    }

    /// Bounds are kept positive and finite, whatever padding did to them at the edges of f64.
    fn logarithmic(low: f64, high: f64, format: ValueFormat) -> Scale {
        let low = if low.is_finite() && low > 0.0 { low.max(f64::MIN_POSITIVE) } else { f64::MIN_POSITIVE };
        let high = if high.is_finite() && high > low { high } else { (low * 10.0).min(f64::MAX) };
        let mut ticks = log_ticks(low, high, format);
        if ticks.len() < 2 {
            // Less than a factor of ~2 between the ends: plain linear steps read better.
            ticks = Scale::linear(low, high, format, 4).ticks.into_iter().filter(|&tick| tick > 0.0).collect();
        }
        let tick_unit = format.unit(high);
        Scale { log: true, low, high, ticks, format, tick_unit, tick_decimals: 0 }
    }

    /// Where `value` sits on the plot's coordinate; `None` for NaN, and for zero or less on a log axis.
    fn to_axis(&self, value: f64) -> Option<f64> {
        match (value.is_finite(), self.log) {
            (false, _) => None,
            (true, true) if value <= 0.0 => None,
            (true, true) => Some(value.log10()),
            (true, false) => Some(value),
        }
    }

    /// Like `to_axis`, but anything outside the range (or not placeable) is pulled onto its edge.
    fn clamped(&self, value: f64) -> f64 {
        let range = self.axis_range();
        self.to_axis(value).map_or(range.start, |axis| axis.clamp(range.start, range.end))
    }

    fn axis_range(&self) -> Range<f64> {
        if self.log {
            self.low.log10()..self.high.log10()
        } else {
            self.low..self.high
        }
    }

    fn coord(&self) -> TickedAxis {
        TickedAxis { minor_ticks: self.minor_axis_ticks(), ..TickedAxis::new(self.axis_range(), self.axis_ticks()) }
    }

    /// Unlabelled 2…9 × 10^k on a log axis, so that values between labelled decades can be read.
    fn minor_axis_ticks(&self) -> Vec<f64> {
        // Binary byte units put the labelled ticks off the decimal 2…9 grid.
        let range = self.axis_range();
        if !self.log || self.format == ValueFormat::Bytes || range.end - range.start > 8.0 {
            return Vec::new();
        }
        let major = self.axis_ticks();
        let first = range.start.floor() as i32;
        let last = range.end.ceil() as i32;
        (first..=last)
            .flat_map(|exponent| (2..=9).map(move |mantissa| (f64::from(mantissa) * 10f64.powi(exponent)).log10()))
            .filter(|axis| range.contains(axis) && !major.iter().any(|tick| (tick - axis).abs() < 1e-9))
            .collect()
    }

    /// The ticks as plot coordinates.
    fn axis_ticks(&self) -> Vec<f64> {
        self.ticks.iter().filter_map(|&tick| self.to_axis(tick)).collect()
    }

    fn label(&self, axis_value: f64) -> String {
        if self.log {
            return self.format.format_short(10f64.powf(axis_value));
        }
        let value = axis_value / self.tick_unit.0;
        if value.abs() < 1e-9 {
            // A bare 0 reads as nothing-of-any-unit, except for a share.
            return if self.format == ValueFormat::Percent { "0%" } else { "0" }.to_string();
        }
        format!("{value:.prec$}{suffix}", prec = self.tick_decimals, suffix = self.tick_unit.1)
    }
}

/// A linear plotters axis whose grid lines sit exactly on the given ticks (and minor ticks) and
/// nowhere else. (plotters' own `WithKeyPoints` cannot take a label formatter on an f64 axis.)
struct TickedAxis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
    minor_ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self { linear: range.into(), ticks, minor_ticks: Vec::new() }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor_ticks.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }
}

/// The 1-2-5 step that cuts `span` into the count of intervals closest to `intervals`.
fn nice_step(span: f64, intervals: f64) -> f64 {
    let raw = span / intervals;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let decade = 10f64.powf(raw.log10().floor());
    let distance = |step: f64| (span / step - intervals).abs();
    [1.0, 2.0, 5.0, 10.0].map(|nice| nice * decade).into_iter().min_by(|a, b| distance(*a).total_cmp(&distance(*b))).unwrap_or(decade)
}

/// The 1-2-5 value at or below `value` (positive).
fn round_down_125(value: f64) -> f64 {
    let decade = 10f64.powf(value.log10().floor());
    let fraction = value / decade;
    let nice = if fraction >= 5.0 {
        5.0
    } else if fraction >= 2.0 {
        2.0
    } else {
        1.0
    };
    nice * decade
}

/// Ticks at powers of ten (bytes: 1, 10, 100 KiB, 1 MiB, …), with 2 and 5 between them when the
/// range is short enough to have room, and every other decade when it is very long.
fn log_ticks(low: f64, high: f64, format: ValueFormat) -> Vec<f64> {
    let decades = (high / low).log10();
    let mantissas: &[f64] = if decades <= 1.0 {
        &[1.0, 2.0, 3.0, 5.0]
    } else if decades <= 3.3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    // About eight labelled decades at most.
    let every = (decades / 8.0).ceil().max(1.0) as i32;
    let first = low.log10().floor() as i32 - 1;
    let last = high.log10().ceil() as i32 + 1;
    let mut ticks = Vec::new();
    for exponent in (first..=last).filter(|exponent| exponent.rem_euclid(every) == 0) {
        let decade = match format {
            ValueFormat::Bytes => 1024f64.powi(exponent.div_euclid(3)) * 10f64.powi(exponent.rem_euclid(3)),
            _ => 10f64.powi(exponent),
        };
        for mantissa in mantissas {
            let tick = mantissa * decade;
            if tick >= low * (1.0 - 1e-9) && tick <= high * (1.0 + 1e-9) {
                ticks.push(tick);
            }
        }
    }
    ticks.sort_by(f64::total_cmp);
    ticks
}

/// Log when the values span more than `AUTO_LOG_RATIO`, and only if all of them are positive.
fn wants_log(values: &[f64]) -> bool {
    match (min_of(values), max_of(values)) {
        (Some(min), Some(max)) if min > 0.0 => max / min > AUTO_LOG_RATIO,
        _ => false,
    }
}

/// A scale around data from `min` to `max`, a little wider so that markers are not cut.
fn fitted_scale(min: f64, max: f64, log: bool, format: ValueFormat, tick_target: usize) -> Scale {
    if log {
        let (low, high) = log_bounds(min, max, 0.05, 0.05);
        Scale::logarithmic(low, high, format)
    } else {
        let (low, high) = linear_bounds(min, max, 0.05, 0.05);
        Scale::linear(low, high, format, tick_target)
    }
}

/// Padded positive bounds, the pads as shares of the span in decades; a single value gets a decade.
fn log_bounds(min: f64, max: f64, pad_low: f64, pad_high: f64) -> (f64, f64) {
    let (mut low, mut high) = (min.log10(), max.log10());
    if high - low < 0.3 {
        let middle = (low + high) / 2.0;
        (low, high) = (middle - 0.5, middle + 0.5);
    }
    let span = high - low;
    (10f64.powf(low - pad_low * span), 10f64.powf(high + pad_high * span))
}

/// Padded bounds; a bound at zero stays there so that bars and memory start from nothing.
fn linear_bounds(min: f64, max: f64, pad_low: f64, pad_high: f64) -> (f64, f64) {
    let (mut low, mut high) = (min, max);
    if high - low <= 0.0 {
        let half = if low == 0.0 { 1.0 } else { low.abs() * 0.5 };
        (low, high) = if low >= 0.0 { ((low - half).max(0.0), high + half) } else { (low - half, (high + half).min(0.0)) };
    }
    let span = high - low;
    let low = if low == 0.0 { 0.0 } else { low - pad_low * span };
    let high = if high == 0.0 { 0.0 } else { high + pad_high * span };
    (low, high)
}

fn min_of(values: &[f64]) -> Option<f64> {
    values.iter().copied().filter(|value| value.is_finite()).reduce(f64::min)
}

fn max_of(values: &[f64]) -> Option<f64> {
    values.iter().copied().filter(|value| value.is_finite()).reduce(f64::max)
}

fn axis_description(label: &str, log: bool) -> String {
    if log && !label.is_empty() {
        format!("{label} (log scale)")
    } else {
        label.to_string()
    }
}

/// Width of the y label area: the widest tick label, a gap, and the rotated axis description.
fn y_area_width(scale: &Scale) -> i32 {
    let tick_font = font(TICK_FONT_PX);
    let widest_px = scale.ticks.iter().filter_map(|&tick| scale.to_axis(tick)).map(|axis| text_width(&tick_font, &scale.label(axis))).max();
    // Capped, so that absurd tick labels cannot squeeze the plot to nothing.
    (widest_px.unwrap_or(0) + 16 + text_height(&font(AXIS_DESC_FONT_PX)) + 14).min(WIDTH_PX / 4)
}

fn x_area_height(with_description: bool) -> i32 {
    let description_px = if with_description { text_height(&font(AXIS_DESC_FONT_PX)) + 12 } else { 0 };
    12 + text_height(&font(TICK_FONT_PX)) + description_px + 8
}

/// Axis lines and grid from plotters, then tick labels and axis descriptions with our own text.
/// A `None` scale leaves that axis unlabelled (bar groups and phase rows label themselves).
fn draw_axes(
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

// ---------------------------------------------------------------------------------------------
// Text, legend, markers

/// A size and weight of the embedded DejaVu Sans.
#[derive(Debug, Clone, Copy)]
struct Font {
    size_px: f32,
    bold: bool,
}

fn font(size_px: f64) -> Font {
    Font { size_px: size_px as f32, bold: false }
}

fn bold_font(size_px: f64) -> Font {
    Font { size_px: size_px as f32, bold: true }
}

/// Parsed glyph outlines. Text is laid out and rasterised here rather than by plotters, whose
/// ab_glyph backend drops each glyph's side bearing and so spaces letters unevenly ("scenari o").
struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

fn faces() -> Result<&'static Faces, &'static str> {
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
fn lay_out<F: ab_glyph::Font>(scaled: &PxScaleFont<&F>, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
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

fn text_width(font: &Font, text: &str) -> i32 {
    match faces() {
        Ok(faces) => lay_out(&font.face(faces).as_scaled(font.size_px), text).1.ceil() as i32,
        // Only if the font cannot be read: a generous guess keeps the layout from overlapping.
        Err(_) => (text.chars().count() as f32 * font.size_px * 0.65).ceil() as i32,
    }
}

/// Height of a line of text: ascent plus descent.
fn text_height(font: &Font) -> i32 {
    match faces() {
        Ok(faces) => {
            let scaled = font.face(faces).as_scaled(font.size_px);
            (scaled.ascent() - scaled.descent()).ceil() as i32
        }
        Err(_) => font.size_px.ceil() as i32,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    LeftToRight,
    /// Turned a quarter left, reading bottom to top: y axis descriptions, labels above narrow bars.
    Upward,
}

fn put_text(area: &Area, text: &str, at: (i32, i32), font: &Font, colour: RGBColor, horizontal: HPos, vertical: VPos) -> DrawResult<()> {
    draw_text(area, text, at, font, colour, (horizontal, vertical), Direction::LeftToRight)
}

/// Draws `text` so that its box (as seen on the page) is anchored at `at` as `anchor` says.
fn draw_text(
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
fn ellipsize(text: &str, max_width_px: i32, font: &Font) -> String {
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
fn wrap(text: &str, max_width_px: i32, font: &Font) -> Vec<String> {
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
        for character in word.chars() {
            line.push(character);
            if text_width(font, &line) > max_width_px && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, character.to_string()));
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw_title(area: &Area, title: &str) -> DrawResult<()> {
    let max_width_px = WIDTH_PX - 2 * MARGIN_PX;
    let mut title_font = bold_font(TITLE_FONT_PX);
    let mut size_px = TITLE_FONT_PX;
    while text_width(&title_font, title) > max_width_px && size_px > 16.0 {
        size_px -= 1.0;
        title_font = bold_font(size_px);
    }
    let title = ellipsize(title, max_width_px, &title_font);
    put_text(area, &title, (WIDTH_PX / 2, TITLE_BAND_PX / 2 + 2), &title_font, TEXT, HPos::Center, VPos::Center)
}

/// A chart that says there was nothing to draw, so the report's image link still shows something.
fn draw_no_data(area: &Area, title: &str, reason: &str) -> DrawResult<()> {
    draw_title(area, title)?;
    let centre = (WIDTH_PX / 2, HEIGHT_PX / 2);
    put_text(area, "no data", centre, &bold_font(36.0), MUTED_TEXT, HPos::Center, VPos::Bottom)?;
    put_text(area, reason, (centre.0, centre.1 + 12), &font(AXIS_DESC_FONT_PX), MUTED_TEXT, HPos::Center, VPos::Top)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

impl Marker {
    const ALL: [Marker; 4] = [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond];
}

fn draw_marker(area: &Area, (x, y): (i32, i32), marker: Marker, colour: RGBColor, radius_px: i32) -> DrawResult<()> {
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

struct LegendEntry {
    label: String,
    colour: RGBColor,
    swatch: Swatch,
}

enum Swatch {
    Block,
    Line(Marker),
}

fn legend_width(entries: &[LegendEntry], heading: &str) -> i32 {
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
fn draw_legend(area: &Area, left_px: i32, top_px: i32, width_px: i32, heading: &str, entries: &[LegendEntry]) -> DrawResult<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    fn palette() -> Palette {
        Palette::new(&names(&["rust", "python-numpy", "python-numpy-fast", "python-pure"]))
    }

    fn bar(implementation: &str, value: f64, ci: Option<(f64, f64)>) -> Bar {
        Bar { implementation: implementation.to_string(), value, ci }
    }

    /// The seed scenario, 5 points: median wall time with 95% confidence intervals.
    fn seed_wall_time() -> GroupedBars {
        GroupedBars {
            title: "Wall time, seed scenario (5 points)".to_string(),
            x_label: "scenario point".to_string(),
            y_label: "median wall time".to_string(),
            groups: vec![BarGroup {
                label: "n=5".to_string(),
                bars: vec![
                    bar("rust", 1.0e-3, Some((0.9e-3, 1.1e-3))),
                    bar("python-numpy", 0.110, Some((0.105, 0.118))),
                    bar("python-numpy-fast", 0.095, Some((0.091, 0.101))),
                    bar("python-pure", 0.025, Some((0.023, 0.027))),
                ],
            }],
            log_y: None,
            value_format: ValueFormat::Seconds,
        }
    }

    fn seed_peak_memory() -> GroupedBars {
        GroupedBars {
            title: "Peak resident memory, seed scenario (5 points)".to_string(),
            x_label: String::new(),
            y_label: "peak RSS".to_string(),
            groups: vec![BarGroup {
                label: "n=5".to_string(),
                bars: vec![
                    bar("rust", 1.9e6, None),
                    bar("python-numpy", 30.0e6, None),
                    bar("python-numpy-fast", 31.5e6, None),
                    bar("python-pure", 9.0e6, None),
                ],
            }],
            log_y: None,
            value_format: ValueFormat::Bytes,
        }
    }

    /// Several groups with long labels, to exercise wrapping and rotated value labels.
    fn scaling_wall_time() -> GroupedBars {
        let points = [(10.0, 0.9e-3, 0.100, 0.024), (1e5, 2.0e-3, 0.104, 0.25), (1e6, 9.0e-3, 0.130, 2.6), (1e7, 75.0e-3, 0.400, 26.0)];
        GroupedBars {
            title: "Wall time by problem size".to_string(),
            x_label: "scenario point".to_string(),
            y_label: "median wall time".to_string(),
            groups: points
                .iter()
                .map(|&(n, rust, numpy, pure)| BarGroup {
                    label: format!("n={n} epochs=10 lr=0.01"),
                    bars: vec![
                        bar("rust", rust, Some((rust * 0.95, rust * 1.07))),
                        bar("python-numpy", numpy, Some((numpy * 0.97, numpy * 1.04))),
                        bar("python-numpy-fast", numpy * 0.8, None),
                        bar("python-pure", pure, Some((pure * 0.99, pure * 1.02))),
                    ],
                })
                .collect(),
            log_y: None,
            value_format: ValueFormat::Seconds,
        }
    }

    /// Eight groups of four: narrow bars, rotated value labels, small group labels.
    fn many_groups_bars() -> GroupedBars {
        let sizes = [10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 3e6, 1e7];
        GroupedBars {
            title: "Wall time by problem size, every point".to_string(),
            groups: sizes
                .iter()
                .map(|&n: &f64| BarGroup {
                    label: format!("n={n} epochs=10 lr=0.01"),
                    bars: vec![
                        bar("rust", 0.9e-3 + n * 7e-9, None),
                        bar("python-numpy", 0.1 + n * 3e-8, None),
                        bar("python-numpy-fast", 0.09 + n * 2e-8, None),
                        bar("python-pure", 0.02 + n * 6e-7, None),
                    ],
                })
                .collect(),
            ..scaling_wall_time()
        }
    }

    fn scaling_lines() -> LineChart {
        let n = [10.0, 1e3, 1e5, 1e6, 1e7];
        let series = |implementation: &str, ns: [f64; 5]| Series {
            implementation: implementation.to_string(),
            points: n.iter().copied().zip(ns).collect(),
        };
        LineChart {
            title: "Training cost per point and epoch".to_string(),
            x_label: "points n".to_string(),
            y_label: "ns per point per epoch".to_string(),
            x_format: ValueFormat::Plain,
            y_format: ValueFormat::Plain,
            log_x: true,
            log_y: true,
            series: vec![
                series("rust", [1.0, 0.9, 0.8, 0.75, 0.7]),
                series("python-numpy", [1000.0, 40.0, 4.5, 3.4, 3.0]),
                series("python-numpy-fast", [600.0, 20.0, 2.5, 2.0, 1.8]),
                series("python-pure", [60.0, 58.0, 61.0, 60.0, 62.0]),
            ],
            references: vec![Reference { label: "memory-bandwidth limit, 1 thread: 1.9 ns/point/epoch".to_string(), y: 1.9 }],
        }
    }

    fn seed_time_series() -> TimeSeries {
        // Rust: ~20 samples over 1 ms, RSS up to 2 MB, one core busy.
        let rust: Vec<(f64, u64, f64)> = (1..=20)
            .map(|i| {
                let t = f64::from(i) * 50e-6;
                let rss = (1.2e6 + 0.8e6 * (f64::from(i) / 20.0).min(1.0)) as u64;
                (t, rss, t * 0.97)
            })
            .collect();
        // NumPy: imports for ~90 ms while RSS climbs to 30 MB, then trains briefly; sampled every ms.
        let numpy: Vec<(f64, u64, f64)> = (1..=110)
            .map(|i| {
                let t = f64::from(i) * 1e-3;
                let rss = (3.0e6 + 27.0e6 * (t / 0.09).min(1.0).powf(0.7)) as u64;
                (t, rss, t * 0.99)
            })
            .collect();
        let pure: Vec<(f64, u64, f64)> = (1..=25)
            .map(|i| {
                let t = f64::from(i) * 1e-3;
                let rss = (3.0e6 + 6.0e6 * (t / 0.02).min(1.0)) as u64;
                (t, rss, t * 0.98)
            })
            .collect();
        TimeSeries {
            title: "Memory and CPU over time, seed scenario (5 points)".to_string(),
            runs: vec![
                RunSamples { implementation: "rust".to_string(), samples: rust },
                RunSamples { implementation: "python-numpy".to_string(), samples: numpy },
                RunSamples { implementation: "python-pure".to_string(), samples: pure },
            ],
        }
    }

    fn phase_row(group: &str, implementation: &str, startup: f64, load: f64, train: f64) -> PhaseRow {
        PhaseRow {
            label: group.to_string(),
            implementation: implementation.to_string(),
            startup_seconds: startup,
            load_seconds: load,
            train_seconds: train,
        }
    }

    fn seed_and_large_phases() -> PhaseChart {
        let large = "n=10000000 epochs=10 lr=0.01";
        PhaseChart {
            title: "Where the time goes".to_string(),
            rows: vec![
                phase_row("n=5", "rust", 0.8e-3, 0.1e-3, 0.1e-3),
                phase_row("n=5", "python-numpy", 100e-3, 8e-3, 2e-3),
                phase_row("n=5", "python-numpy-fast", 92e-3, 2e-3, 1e-3),
                phase_row("n=5", "python-pure", 20e-3, 3e-3, 2e-3),
                phase_row(large, "rust", 1e-3, 150e-3, 70e-3),
                phase_row(large, "python-numpy", 100e-3, 60e-3, 300e-3),
                phase_row(large, "python-numpy-fast", 92e-3, 40e-3, 180e-3),
                phase_row(large, "python-pure", 20e-3, 8.0, 60.0),
            ],
        }
    }

    /// Five groups of four rows: one-line row labels.
    fn many_rows_phases() -> PhaseChart {
        let rows = [10.0, 1e3, 1e5, 1e6, 1e7]
            .iter()
            .flat_map(|&n: &f64| {
                let group = format!("n={n} epochs=10 lr=0.01");
                [
                    phase_row(&group, "rust", 0.8e-3, n * 15e-9, n * 7e-9),
                    phase_row(&group, "python-numpy", 0.1, n * 6e-9, 2e-3 + n * 3e-8),
                    phase_row(&group, "python-numpy-fast", 0.092, n * 4e-9, 1e-3 + n * 1.8e-8),
                    phase_row(&group, "python-pure", 0.02, n * 8e-7, n * 6e-6),
                ]
            })
            .collect();
        PhaseChart { title: "Where the time goes, every point".to_string(), rows }
    }

    /// Checks the PNG signature and the IHDR chunk's width and height.
    fn assert_png_of_chart_size(path: &Path) {
        let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        assert!(bytes.len() > 24, "{} is too short for a PNG", path.display());
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature of {}", path.display());
        assert_eq!(&bytes[12..16], b"IHDR");
        let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        assert_eq!((width, height), (WIDTH, HEIGHT));
    }

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|error| panic!("creating a temporary directory: {error}"))
    }

    #[test]
    fn grouped_bars_render_realistic_examples() {
        let dir = temp_dir();
        let charts = [
            ("wall.png", seed_wall_time()),
            ("memory.png", seed_peak_memory()),
            ("scaling.png", scaling_wall_time()),
            ("many.png", many_groups_bars()),
        ];
        for (file, chart) in charts {
            let path = dir.path().join(file);
            grouped_bars(&path, &chart, &palette()).unwrap_or_else(|error| panic!("{error}"));
            assert_png_of_chart_size(&path);
        }
    }

    #[test]
    fn lines_render_a_realistic_example() {
        let dir = temp_dir();
        let path = dir.path().join("lines.png");
        lines(&path, &scaling_lines(), &palette()).unwrap_or_else(|error| panic!("{error}"));
        assert_png_of_chart_size(&path);
    }

    #[test]
    fn time_series_renders_a_realistic_example() {
        let dir = temp_dir();
        let path = dir.path().join("time.png");
        time_series(&path, &seed_time_series(), &palette()).unwrap_or_else(|error| panic!("{error}"));
        assert_png_of_chart_size(&path);
    }

    #[test]
    fn phases_render_a_realistic_example() {
        let dir = temp_dir();
        for (file, chart) in [("phases.png", seed_and_large_phases()), ("many.png", many_rows_phases())] {
            let path = dir.path().join(file);
            phases(&path, &chart, &palette()).unwrap_or_else(|error| panic!("{error}"));
            assert_png_of_chart_size(&path);
        }
    }

    #[test]
    fn empty_inputs_draw_a_no_data_chart() {
        let dir = temp_dir();
        let empty_bars = GroupedBars { groups: Vec::new(), ..seed_wall_time() };
        let empty_lines = LineChart { series: Vec::new(), references: Vec::new(), ..scaling_lines() };
        let empty_time = TimeSeries { title: "empty".to_string(), runs: Vec::new() };
        let empty_phases = PhaseChart { title: "empty".to_string(), rows: Vec::new() };
        let results = [
            ("bars.png", grouped_bars(&dir.path().join("bars.png"), &empty_bars, &palette())),
            ("lines.png", lines(&dir.path().join("lines.png"), &empty_lines, &palette())),
            ("time.png", time_series(&dir.path().join("time.png"), &empty_time, &palette())),
            ("phases.png", phases(&dir.path().join("phases.png"), &empty_phases, &palette())),
        ];
        for (file, result) in results {
            result.unwrap_or_else(|error| panic!("{file}: {error}"));
            assert_png_of_chart_size(&dir.path().join(file));
        }
    }

    /// NaN, zero on a forced log axis, a NaN confidence interval, a long title.
    fn edge_case_bars() -> GroupedBars {
        let mut bars = seed_wall_time();
        bars.title = "Wall time with missing values, a zero on a log axis and a title long enough to need a smaller font".to_string();
        bars.groups[0].bars[0].value = f64::NAN;
        bars.groups[0].bars[1].value = 0.0;
        bars.groups[0].bars[2].ci = Some((f64::NAN, f64::INFINITY));
        bars.groups.push(BarGroup {
            label: "n=10000000 epochs=10 lr=0.01".to_string(),
            bars: vec![bar("an-implementation-with-a-very-long-name", 3.0, None)],
        });
        bars.log_y = Some(true);
        bars
    }

    /// A NaN point, a zero and a negative on log axes, a reference that cannot be placed.
    fn edge_case_lines() -> LineChart {
        let mut chart = scaling_lines();
        chart.series[0].points[1] = (1e3, f64::NAN);
        chart.series[1].points[0] = (0.0, 5.0);
        chart.series[2].points[2] = (1e5, -1.0);
        chart.references.push(Reference { label: "not placeable".to_string(), y: -3.0 });
        chart.references.push(Reference { label: "start-up noise floor: 1000 ns/point/epoch".to_string(), y: 1000.0 });
        chart
    }

    /// A NaN sample, a sample at t = 0 on a log time axis, a run without samples.
    fn edge_case_time_series() -> TimeSeries {
        let mut time = seed_time_series();
        time.runs[0].samples.push((f64::NAN, 0, f64::NAN));
        time.runs[1].samples.insert(0, (0.0, 0, 0.0));
        time.runs.push(RunSamples { implementation: "python-numpy-fast".to_string(), samples: Vec::new() });
        time
    }

    /// A NaN phase, a negative phase, an all-zero row, one group only.
    fn edge_case_phases() -> PhaseChart {
        let mut chart = seed_and_large_phases();
        chart.rows.truncate(4);
        chart.rows[0].train_seconds = f64::NAN;
        chart.rows[1].load_seconds = -1e-3;
        chart.rows[2] = phase_row("n=5", "python-numpy-fast", 0.0, 0.0, 0.0);
        chart
    }

    #[test]
    fn nan_and_non_positive_values_neither_panic_nor_fail() {
        let dir = temp_dir();
        let palette = palette();
        let all_nan_bars = GroupedBars {
            groups: vec![BarGroup { label: "n=5".to_string(), bars: vec![bar("rust", f64::NAN, None)] }],
            ..edge_case_bars()
        };
        let all_nan_lines = LineChart {
            series: vec![Series { implementation: "rust".to_string(), points: vec![(f64::NAN, 1.0), (1.0, f64::NAN)] }],
            references: Vec::new(),
            ..edge_case_lines()
        };
        let results = [
            ("bars.png", grouped_bars(&dir.path().join("bars.png"), &edge_case_bars(), &palette)),
            ("all-nan-bars.png", grouped_bars(&dir.path().join("all-nan-bars.png"), &all_nan_bars, &palette)),
            ("lines.png", lines(&dir.path().join("lines.png"), &edge_case_lines(), &palette)),
            ("all-nan-lines.png", lines(&dir.path().join("all-nan-lines.png"), &all_nan_lines, &palette)),
            ("time.png", time_series(&dir.path().join("time.png"), &edge_case_time_series(), &palette)),
            ("phases.png", phases(&dir.path().join("phases.png"), &edge_case_phases(), &palette)),
        ];
        for (file, result) in results {
            result.unwrap_or_else(|error| panic!("{file}: {error}"));
            assert_png_of_chart_size(&dir.path().join(file));
        }
    }

    #[test]
    fn extreme_sizes_do_not_panic() {
        let dir = temp_dir();
        let palette = palette();
        let crowded = GroupedBars {
            groups: (0..200)
                .map(|index| BarGroup { label: format!("n={index} epochs=10 lr=0.01"), bars: vec![bar("rust", 1e300, None)] })
                .collect(),
            ..seed_wall_time()
        };
        grouped_bars(&dir.path().join("crowded.png"), &crowded, &palette).unwrap_or_else(|error| panic!("{error}"));
        let tiny_and_huge = GroupedBars {
            groups: vec![BarGroup { label: "n=5".to_string(), bars: vec![bar("rust", 1e-300, None), bar("python-numpy", 1e300, None)] }],
            value_format: ValueFormat::Plain,
            ..seed_wall_time()
        };
        grouped_bars(&dir.path().join("range.png"), &tiny_and_huge, &palette).unwrap_or_else(|error| panic!("{error}"));
        let rows = (0..300).map(|index| phase_row(&format!("n={index}"), "rust", 1e-3, 1e-3, 1e-3)).collect();
        phases(&dir.path().join("rows.png"), &PhaseChart { title: "rows".to_string(), rows }, &palette)
            .unwrap_or_else(|error| panic!("{error}"));
        let single = LineChart {
            series: vec![Series { implementation: "rust".to_string(), points: vec![(5.0, 1.0)] }],
            references: Vec::new(),
            ..scaling_lines()
        };
        lines(&dir.path().join("single.png"), &single, &palette).unwrap_or_else(|error| panic!("{error}"));
        for file in ["crowded.png", "range.png", "rows.png", "single.png"] {
            assert_png_of_chart_size(&dir.path().join(file));
        }
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_file() {
        let dir = temp_dir();
        let path = dir.path().join("missing").join("wall.png");
        let error = grouped_bars(&path, &seed_wall_time(), &palette()).err();
        let message = error.map(|error| error.to_string()).unwrap_or_default();
        assert!(message.contains("missing/wall.png"), "message was {message:?}");
    }

    #[test]
    fn values_are_written_in_human_units() {
        assert_eq!(ValueFormat::Seconds.format(1.0e-3), "1.00 ms");
        assert_eq!(ValueFormat::Seconds.format(0.110), "110 ms");
        assert_eq!(ValueFormat::Seconds.format(2.5e-6), "2.50 µs");
        assert_eq!(ValueFormat::Seconds.format(66.0), "66.0 s");
        assert_eq!(ValueFormat::Bytes.format(30.0e6), "28.6 MiB");
        assert_eq!(ValueFormat::Bytes.format(512.0), "512 B");
        assert_eq!(ValueFormat::Plain.format(1e7), "10.0M");
        assert_eq!(ValueFormat::Plain.format(f64::NAN), "n/a");
        assert_eq!(ValueFormat::Seconds.format_short(1e-6), "1 µs");
        assert_eq!(ValueFormat::Seconds.format_short(0.1), "100 ms");
        assert_eq!(ValueFormat::Plain.format_short(1e5), "100k");
    }

    #[test]
    fn log_ticks_are_round_values_in_human_units() {
        let scale = Scale::logarithmic(0.5e-3, 0.2, ValueFormat::Seconds);
        let labels: Vec<String> = scale.ticks.iter().map(|&tick| scale.label(tick.log10())).collect();
        assert_eq!(labels, ["500 µs", "1 ms", "2 ms", "5 ms", "10 ms", "20 ms", "50 ms", "100 ms", "200 ms"]);
        let wide = Scale::logarithmic(5.0, 2e7, ValueFormat::Plain);
        let labels: Vec<String> = wide.ticks.iter().map(|&tick| wide.label(tick.log10())).collect();
        assert_eq!(labels, ["10", "100", "1000", "10k", "100k", "1M", "10M"]);
    }

    #[test]
    fn linear_ticks_share_one_unit() {
        let scale = Scale::linear(0.0, 35.0 * 1024.0 * 1024.0, ValueFormat::Bytes, 6);
        let labels: Vec<String> = scale.ticks.iter().map(|&tick| scale.label(tick)).collect();
        assert_eq!(labels, ["0", "5 MiB", "10 MiB", "15 MiB", "20 MiB", "25 MiB", "30 MiB", "35 MiB"]);
    }

    #[test]
    fn palette_follows_the_given_order_and_skips_yellow() {
        let palette = Palette::new(&names(&["rust", "python-numpy", "rust", "python-pure"]));
        assert_eq!(palette.colour("rust"), RGBColor(0xE6, 0x9F, 0x00));
        assert_eq!(palette.colour("python-numpy"), RGBColor(0x00, 0x72, 0xB2));
        assert_eq!(palette.colour("python-pure"), RGBColor(0x00, 0x9E, 0x73));
        assert_eq!(palette.colour("unknown"), UNKNOWN_IMPLEMENTATION);
        assert!(IMPLEMENTATION_COLOURS.iter().all(|colour| *colour != RGBColor(0xF0, 0xE4, 0x42)));
        assert_eq!(palette.ordered(["python-pure", "other", "rust"]), names(&["rust", "python-pure", "other"]));
    }

    #[test]
    fn cpu_utilisation_is_the_slope_of_cpu_time() {
        let samples = [(0.0, 0, 0.0), (0.010, 0, 0.010), (0.020, 0, 0.030), (0.020, 0, 0.031), (0.030, 0, 0.029)];
        let steps = cpu_utilisation_percent(&samples);
        let rounded: Vec<(f64, f64)> = steps.iter().map(|&(t, percent)| (t, percent.round())).collect();
        assert_eq!(rounded, [(0.0, 100.0), (0.010, 100.0), (0.010, 200.0), (0.020, 200.0), (0.020, 0.0), (0.030, 0.0)]);
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        register_fonts().unwrap_or_else(|font| panic!("font {font}"));
        let group_font = font(TICK_FONT_PX);
        let lines = wrap("n=10000000 epochs=10 lr=0.01", 120, &group_font);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|line| text_width(&group_font, line) <= 120), "{lines:?}");
        let cut = wrap("averyveryveryverylongwordwithoutspaces", 60, &group_font);
        assert!(cut.len() > 1 && cut.iter().all(|line| text_width(&group_font, line) <= 60), "{cut:?}");
    }

    /// Renders every example to $TMPDIR/charts-preview for a person to look at:
    /// `cargo test -p orchestrator --lib report::charts -- --ignored`.
    #[test]
    #[ignore]
    fn render_previews() {
        let dir = std::env::temp_dir().join("charts-preview");
        std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("creating {}: {error}", dir.display()));
        let palette = palette();
        let outcomes = [
            grouped_bars(&dir.join("bars-wall-seed.png"), &seed_wall_time(), &palette),
            grouped_bars(&dir.join("bars-memory-seed.png"), &seed_peak_memory(), &palette),
            grouped_bars(&dir.join("bars-wall-scaling.png"), &scaling_wall_time(), &palette),
            lines(&dir.join("lines-scaling.png"), &scaling_lines(), &palette),
            time_series(&dir.join("time-series-seed.png"), &seed_time_series(), &palette),
            phases(&dir.join("phases.png"), &seed_and_large_phases(), &palette),
            grouped_bars(&dir.join("no-data.png"), &GroupedBars { groups: Vec::new(), ..seed_wall_time() }, &palette),
            grouped_bars(&dir.join("edge-bars.png"), &edge_case_bars(), &palette),
            lines(&dir.join("edge-lines.png"), &edge_case_lines(), &palette),
            time_series(&dir.join("edge-time-series.png"), &edge_case_time_series(), &palette),
            phases(&dir.join("edge-phases.png"), &edge_case_phases(), &palette),
            grouped_bars(&dir.join("many-groups-bars.png"), &many_groups_bars(), &palette),
            phases(&dir.join("many-rows-phases.png"), &many_rows_phases(), &palette),
        ];
        for outcome in outcomes {
            outcome.unwrap_or_else(|error| panic!("{error}"));
        }
    }
}
