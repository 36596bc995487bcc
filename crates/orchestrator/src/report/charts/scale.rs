//! The charts' scales: an axis' range and ticks in human units (1-2-5 steps in the unit of the
//! range, log decades with 2 and 5 between them, binary decades for bytes) and the plot
//! coordinate of a value.
//!
//! Hand-written because plotters' own ticks do not serve here: `RangedCoordf64` picks decimal
//! round key points unaware of units (5 000 000 where the axis wants 5 MiB), and `LogCoord`
//! offers only powers of one base with unlabelled fill-ins, no labelled 2 and 5, and no 1024-based
//! decades. What plotters does serve is kept: the mesh draws the grid, on our ticks (see
//! [`TickedAxis`]).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::AUTO_LOG_RATIO;
use crate::format::ValueFormat;

/// One axis: its range, its ticks and how they are written. On a log axis the plot's coordinate
/// is log10 of the value, so that ticks are ours (1 ms, 10 ms, …) rather than plotters' defaults.
#[derive(Debug, Clone)]
pub(super) struct Scale {
    log: bool,
    low: f64,
    high: f64,
    pub(super) ticks: Vec<f64>,
    format: ValueFormat,
    /// Linear axes write every tick in one unit ("0 ms, 20 ms, 40 ms"), chosen from the range.
    tick_unit: (f64, &'static str),
    tick_decimals: usize,
}

/// More ticks than an axis can show: what asks for them is no axis a chart can draw.
const MAX_TICKS: i64 = 1_000;

impl Scale {
    pub(super) fn linear(low: f64, high: f64, format: ValueFormat, tick_target: usize) -> Scale {
        let tick_unit = format.unit(low.abs().max(high.abs()));
        let step_in_unit = nice_step((high - low) / tick_unit.0, tick_target.max(1) as f64);
        let step = step_in_unit * tick_unit.0;
        let first = (low / step - 1e-9).ceil() as i64;
        let last = (high / step + 1e-9).floor() as i64;
        // Bounds of f64's edges (a sent samples.csv's cpu_seconds of 1e308 makes a slope of inf)
        // can leave a step of 1 over a range of 2^63: no ticks then, never a list of that size.
        let placeable = step > 0.0 && step.is_finite() && low.is_finite() && high.is_finite();
        let ticks = if placeable && last.saturating_sub(first) <= MAX_TICKS {
            (first..=last).map(|k| k as f64 * step).collect()
        } else {
            Vec::new()
        };
        let tick_decimals = (-step_in_unit.log10() - 1e-6).ceil().max(0.0) as usize;
        Scale { log: false, low, high, ticks, format, tick_unit, tick_decimals }
    }

    /// Bounds are kept positive and finite, whatever padding did to them at the edges of f64.
    pub(super) fn logarithmic(low: f64, high: f64, format: ValueFormat) -> Scale {
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
    pub(super) fn to_axis(&self, value: f64) -> Option<f64> {
        match (value.is_finite(), self.log) {
            (false, _) => None,
            (true, true) if value <= 0.0 => None,
            (true, true) => Some(value.log10()),
            (true, false) => Some(value),
        }
    }

    /// Like `to_axis`, but anything outside the range (or not placeable) is pulled onto its edge.
    pub(super) fn clamped(&self, value: f64) -> f64 {
        let range = self.axis_range();
        self.to_axis(value).map_or(range.start, |axis| axis.clamp(range.start, range.end))
    }

    pub(super) fn axis_range(&self) -> Range<f64> {
        if self.log {
            self.low.log10()..self.high.log10()
        } else {
            self.low..self.high
        }
    }

    pub(super) fn coord(&self) -> TickedAxis {
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
    pub(super) fn axis_ticks(&self) -> Vec<f64> {
        self.ticks.iter().filter_map(|&tick| self.to_axis(tick)).collect()
    }

    pub(super) fn label(&self, axis_value: f64) -> String {
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
/// nowhere else. plotters' own `RangedCoordf64::with_key_points` would do the same, but its
/// `WithKeyPoints` implements no `ValueFormatter` and RangedCoordf64 opts out of the default one,
/// so `configure_mesh` is not available on it.
pub(super) struct TickedAxis {
    pub(super) linear: RangedCoordf64,
    pub(super) ticks: Vec<f64>,
    pub(super) minor_ticks: Vec<f64>,
}

impl TickedAxis {
    pub(super) fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
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
pub(super) fn nice_step(span: f64, intervals: f64) -> f64 {
    let raw = span / intervals;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let decade = 10f64.powf(raw.log10().floor());
    let distance = |step: f64| (span / step - intervals).abs();
    [1.0, 2.0, 5.0, 10.0].map(|nice| nice * decade).into_iter().min_by(|a, b| distance(*a).total_cmp(&distance(*b))).unwrap_or(decade)
}

/// The 1-2-5 value at or below `value` (positive).
pub(super) fn round_down_125(value: f64) -> f64 {
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
pub(super) fn log_ticks(low: f64, high: f64, format: ValueFormat) -> Vec<f64> {
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
pub(super) fn wants_log(values: &[f64]) -> bool {
    match (min_of(values), max_of(values)) {
        (Some(min), Some(max)) if min > 0.0 => max / min > AUTO_LOG_RATIO,
        _ => false,
    }
}

/// A scale around data from `min` to `max`, a little wider so that markers are not cut.
pub(super) fn fitted_scale(min: f64, max: f64, log: bool, format: ValueFormat, tick_target: usize) -> Scale {
    if log {
        let (low, high) = log_bounds(min, max, 0.05, 0.05);
        Scale::logarithmic(low, high, format)
    } else {
        let (low, high) = linear_bounds(min, max, 0.05, 0.05);
        Scale::linear(low, high, format, tick_target)
    }
}

/// Padded positive bounds, the pads as shares of the span in decades; a single value gets a decade.
pub(super) fn log_bounds(min: f64, max: f64, pad_low: f64, pad_high: f64) -> (f64, f64) {
    let (mut low, mut high) = (min.log10(), max.log10());
    if high - low < 0.3 {
        let middle = (low + high) / 2.0;
        (low, high) = (middle - 0.5, middle + 0.5);
    }
    let span = high - low;
    (10f64.powf(low - pad_low * span), 10f64.powf(high + pad_high * span))
}

/// Padded bounds; a bound at zero stays there so that bars and memory start from nothing.
pub(super) fn linear_bounds(min: f64, max: f64, pad_low: f64, pad_high: f64) -> (f64, f64) {
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

pub(super) fn min_of(values: &[f64]) -> Option<f64> {
    values.iter().copied().filter(|value| value.is_finite()).reduce(f64::min)
}

pub(super) fn max_of(values: &[f64]) -> Option<f64> {
    values.iter().copied().filter(|value| value.is_finite()).reduce(f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_at_the_edges_of_f64_give_an_axis_without_ticks_not_a_crash() {
        for (low, high) in [(0.0, f64::INFINITY), (0.0, f64::MAX), (-f64::MAX, f64::MAX), (f64::NAN, 1.0)] {
            let scale = Scale::linear(low, high, ValueFormat::Seconds, 5);
            assert!(scale.ticks.len() <= MAX_TICKS as usize + 1, "{low}..{high}: {} ticks", scale.ticks.len());
        }
        assert_eq!(Scale::linear(0.0, 1.0, ValueFormat::Seconds, 5).ticks.len(), 6, "an ordinary axis keeps its ticks");
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
}
