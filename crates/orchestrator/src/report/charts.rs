//! TEMP STUB
use std::path::Path;
#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub struct ChartError;
pub struct Palette;
impl Palette {
    pub fn new(_n: &[String]) -> Self {
        Palette
    }
}
#[derive(Clone, Copy)]
pub enum ValueFormat {
    Seconds,
    Bytes,
    Plain,
}
pub struct GroupedBars {
    pub title: String,
    pub y_label: String,
    pub groups: Vec<BarGroup>,
    pub log_y: Option<bool>,
    pub value_format: ValueFormat,
}
pub struct BarGroup {
    pub label: String,
    pub bars: Vec<Bar>,
}
pub struct Bar {
    pub implementation: String,
    pub value: f64,
    pub ci: Option<(f64, f64)>,
}
pub fn grouped_bars(_p: &Path, _c: &GroupedBars, _pal: &Palette) -> Result<(), ChartError> {
    Ok(())
}
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
    pub references: Vec<Reference>,
}
pub struct Series {
    pub implementation: String,
    pub points: Vec<(f64, f64)>,
}
pub struct Reference {
    pub label: String,
    pub y: f64,
}
pub fn lines(_p: &Path, _c: &LineChart, _pal: &Palette) -> Result<(), ChartError> {
    Ok(())
}
pub struct TimeSeries {
    pub title: String,
    pub runs: Vec<RunSamples>,
}
pub struct RunSamples {
    pub implementation: String,
    pub samples: Vec<(f64, u64, f64)>,
}
pub fn time_series(_p: &Path, _c: &TimeSeries, _pal: &Palette) -> Result<(), ChartError> {
    Ok(())
}
pub struct PhaseChart {
    pub title: String,
    pub rows: Vec<PhaseRow>,
}
pub struct PhaseRow {
    pub label: String,
    pub implementation: String,
    pub startup_seconds: f64,
    pub load_seconds: f64,
    pub train_seconds: f64,
}
pub fn phases(_p: &Path, _c: &PhaseChart, _pal: &Palette) -> Result<(), ChartError> {
    Ok(())
}
