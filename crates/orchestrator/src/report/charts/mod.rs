//! Every chart of the report, drawn from plain data into PNG files with plotters. What all
//! charts share — sizes, fonts, colours, the palette, the error type, the `Chart` trait and the
//! writing of a file — lives here; each chart kind is one file beside it, with its input type, so
//! a new kind is one new file (and its `mod` line). This module depends on nothing in the crate
//! but `format` (and the roofline on the probes' bytes per point).

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::ImageEncoder as _;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

mod axes;
mod bars;
mod headline;
mod latency;
mod legend;
mod lines;
mod marks;
mod phases;
mod roofline;
mod scale;
mod text;
mod timeline;

/// The charts' input types carry it, so it is part of what `charts` offers.
pub use crate::format::ValueFormat;
pub(crate) use bars::{grouped_bars, Bar, BarGroup, GroupedBars};
pub use headline::HEADLINE_HEIGHT;
pub(crate) use headline::{ClaimedAndMeasured, HeadlineChart, HeadlinePanel};
pub(crate) use latency::{Latency, LatencyChart, LatencyGroup};
pub use lines::{lines, LineChart, Reference, Series};
pub(crate) use phases::{PhaseChart, PhaseRow};
pub(crate) use roofline::{ComputeLine, Costs, LimitLine, Roofline};
pub use timeline::{time_series, RunSamples, TimeSeries};

use marks::Marker;
use scale::TickedAxis;
use text::{bold_font, ellipsize, faces, font, put_text, text_width};

/// One chart kind: its input, drawn into a PNG file at `path` in the run's colours.
pub(crate) trait Chart {
    fn draw(&self, path: &Path, palette: &Palette) -> Result<(), ChartError>;
}

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 1200;
/// Height of every chart, in pixels.
pub const HEIGHT: u32 = 800;

// Fonts ship inside the binary so that drawing needs nothing from the system (no fontconfig).
const REGULAR_FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD_FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
/// The family name plotters knows the embedded faces by.
const PLOTTERS_FONT: &str = "sans-serif";

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
const IMPLEMENTATION_COLOURS: [RGBColor; 15] = [
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x00, 0x00), // black
    // A run of every scenario has a dozen implementations and more: Paul Tol's muted scheme,
    // dark enough on white, so no two implementations share a colour.
    RGBColor(0x88, 0x22, 0x55), // wine
    RGBColor(0x33, 0x22, 0x88), // indigo
    RGBColor(0x99, 0x99, 0x33), // olive
    RGBColor(0x44, 0xAA, 0x99), // teal
    RGBColor(0xAA, 0x44, 0x99), // purple
    // With the production scenario a run has fourteen (python-rust and python-jax): three more of
    // the same scheme.
    RGBColor(0x11, 0x77, 0x33), // green
    RGBColor(0xCC, 0x66, 0x77), // rose
    RGBColor(0x66, 0x11, 0x00), // brown
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
    /// Drawn, but not written (a full disk): the records error names the file.
    #[error("writing chart: {0}")]
    Write(#[source] crate::records::RecordsError),
}

/// One colour (and marker shape) per implementation, the same in every chart of a run.
#[derive(Debug, Clone, Default)]
pub struct Palette {
    names: Vec<String>,
    /// Each name's colour and marker, by index into the lists (taken modulo their lengths).
    slots: Vec<usize>,
}

impl Palette {
    /// Colours are handed out in the order of `names`; repeated names are ignored.
    pub fn new(names: &[String]) -> Self {
        Self::by_group(&[names.to_vec()])
    }

    /// One colour per name across all `groups` (a run's scenarios), so that all charts agree, and
    /// distinct within each group (what one chart shows): each name, in order of first
    /// appearance, takes the first colour no name it shares a group with has taken. A run of
    /// every scenario names more implementations (17) than there are colours (15), but no
    /// scenario more than 10: handed out in turn, python-rust and python-jax had rust's and
    /// python-numpy's colours in the same production chart.
    pub fn by_group(groups: &[Vec<String>]) -> Self {
        let names = first_appearances(groups.iter().flatten().map(String::as_str));
        let mut slots: Vec<usize> = Vec::with_capacity(names.len());
        for name in &names {
            let taken: Vec<usize> = names[..slots.len()]
                .iter()
                .zip(&slots)
                .filter(|(other, _)| groups.iter().any(|group| group.contains(name) && group.contains(other)))
                .map(|(_, slot)| *slot)
                .collect();
            slots.push((0..).find(|slot| !taken.contains(slot)).unwrap_or_default());
        }
        Self { names, slots }
    }

    /// The implementation's colour; a name the palette was not given gets neutral grey.
    pub fn colour(&self, name: &str) -> RGBColor {
        self.slot(name).map_or(UNKNOWN_IMPLEMENTATION, |slot| IMPLEMENTATION_COLOURS[slot % IMPLEMENTATION_COLOURS.len()])
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|known| known == name)
    }

    fn slot(&self, name: &str) -> Option<usize> {
        self.position(name).map(|index| self.slots[index])
    }

    /// Line charts also vary the marker, so that series stay apart even in greyscale print.
    fn marker(&self, name: &str) -> Marker {
        self.slot(name).map_or(Marker::Circle, |slot| Marker::ALL[slot % Marker::ALL.len()])
    }

    /// Distinct names in palette order; names the palette does not know follow in order of appearance.
    fn ordered<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut unique = first_appearances(names);
        unique.sort_by_key(|name| self.position(name).unwrap_or(usize::MAX));
        unique
    }
}

/// Distinct names, in the order they first appear.
fn first_appearances<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if !unique.iter().any(|seen| seen == name) {
            unique.push(name.to_string());
        }
    }
    unique
}

type DrawResult<T> = Result<T, Box<dyn StdError + Send + Sync>>;
type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Plot<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<TickedAxis, TickedAxis>>;

fn render(path: &Path, draw: impl FnOnce(&Area) -> DrawResult<()>) -> Result<(), ChartError> {
    render_sized(path, (WIDTH, HEIGHT), draw)
}

/// Draws into memory, then writes the PNG at `path` whole or not at all, never through a link
/// (`records::write_atomic`): a run directory someone sent, re-rendered, cannot make a chart
/// overwrite a file outside it, and a full disk leaves no empty chart behind.
fn render_sized(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area) -> DrawResult<()>) -> Result<(), ChartError> {
    register_fonts().and(faces().map(|_| ())).map_err(|font| ChartError::Font { path: path.to_path_buf(), font })?;
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    let drawn = (|| -> DrawResult<Vec<u8>> {
        {
            let area = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
            area.fill(&WHITE)?;
            draw(&area)?;
            area.present()?;
        }
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png).write_image(&pixels, size.0, size.1, image::ColorType::Rgb8)?;
        Ok(png)
    })();
    let png = drawn.map_err(|source| ChartError::Draw { path: path.to_path_buf(), source })?;
    crate::records::write_atomic(path, &png).map_err(ChartError::Write)
}

/// Registers the embedded fonts with plotters as "sans-serif" once per process; the error names the
/// font file. Our text does not use it, but plotters' mesh still sends its (empty) tick labels
/// through its own text path, which fails without a font.
fn register_fonts() -> Result<(), &'static str> {
    static REGISTERED: OnceLock<Result<(), &'static str>> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        plotters::style::register_font(PLOTTERS_FONT, FontStyle::Normal, REGULAR_FONT).map_err(|_| "DejaVuSans.ttf")?;
        plotters::style::register_font(PLOTTERS_FONT, FontStyle::Bold, BOLD_FONT).map_err(|_| "DejaVuSans-Bold.ttf")
    })
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

/// Mixes `colour` with white; `white_share` 0 keeps the colour, 1 gives white.
fn tint(colour: RGBColor, white_share: f64) -> RGBColor {
    let mix = |channel: u8| (f64::from(channel) * (1.0 - white_share) + 255.0 * white_share).round() as u8;
    RGBColor(mix(colour.0), mix(colour.1), mix(colour.2))
}

/// Perceived brightness, 0–255, to pick dark or light text on a fill.
fn luminance(colour: RGBColor) -> f64 {
    0.299 * f64::from(colour.0) + 0.587 * f64::from(colour.1) + 0.114 * f64::from(colour.2)
}

#[cfg(test)]
mod tests {
    use super::phases::phases;
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
            legend_title: "Implementation",
            in_given_order: false,
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
            legend_title: "Implementation",
            in_given_order: false,
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
            legend_title: "Implementation",
            in_given_order: false,
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
            legend_title: "Implementation",
            in_given_order: false,
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
    fn implementations_of_one_scenario_never_share_a_colour_and_keep_theirs_across_scenarios() {
        // Two scenarios of 10 and one of 9 (a run of every scenario): 22 names, 15 colours.
        let group = |prefix: &str, count: usize| -> Vec<String> { (0..count).map(|k| format!("{prefix}{k}")).collect() };
        let (first, second) = (group("a", 10), [group("b", 8), names(&["a0", "a1"])].concat());
        let third = [group("c", 4), names(&["b0", "a2", "a3", "python-x", "python-y"])].concat();
        let groups = [first, second, third];
        let palette = Palette::by_group(&groups);
        for group in &groups {
            let colours: Vec<RGBColor> = group.iter().map(|name| palette.colour(name)).collect();
            for (k, colour) in colours.iter().enumerate() {
                assert!(!colours[..k].contains(colour), "{} shares a colour in {group:?}", group[k]);
            }
        }
        let sequential = Palette::new(&groups.concat());
        assert!(groups[0].iter().all(|name| sequential.colour(name) == palette.colour(name)), "the first group's are the sequence's");
        assert_eq!(sequential.colour("c0"), sequential.colour("a3"), "handed out in turn, the 19th name had the 4th's colour");
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
