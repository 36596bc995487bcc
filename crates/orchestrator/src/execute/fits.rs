//! The per-fit fields of a result line (`--fits K`, docs/protocol.md) and its `device`: read from
//! the same JSON line as the rest, and refused when they cannot be true — a count other than the
//! one asked for, a time negative or missing, warm statistics out of order, fits that add up to
//! more than the training time they are the parts of.

use serde::Deserialize;

use crate::records::check;

/// The longest `device` kept: a name such as `cpu:0` or `cuda:0`, not a document.
const MAX_DEVICE_CHARS: usize = 100;

/// The fields as printed, each optional here; [`read`] says which a run needs.
#[derive(Debug, Default, Deserialize)]
struct Printed {
    fits: Option<u64>,
    fit_first_seconds: Option<f64>,
    fit_warm_min_seconds: Option<f64>,
    fit_warm_median_seconds: Option<f64>,
    fit_warm_p99_seconds: Option<f64>,
    fit_warm_max_seconds: Option<f64>,
    fit_warm_mean_seconds: Option<f64>,
    device: Option<String>,
}

/// A run's K fits, as the implementation timed them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PerFit {
    pub(crate) fits: u64,
    pub(crate) first_seconds: f64,
    /// Over fits 2..K; None when K = 1.
    pub(crate) warm: Option<WarmFits>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WarmFits {
    pub(crate) min_seconds: f64,
    pub(crate) median_seconds: f64,
    pub(crate) p99_seconds: f64,
    pub(crate) max_seconds: f64,
    pub(crate) mean_seconds: f64,
}

/// What a result line says beyond the fit: its per-fit figures (when the run asked for them) and
/// where it ran (when it says).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Extras {
    pub(crate) per_fit: Option<PerFit>,
    pub(crate) device: Option<String>,
}

/// Why the per-fit fields of a line cannot be true.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum FitsProblem {
    #[error("the per-fit fields do not parse: {0}")]
    Invalid(String),
    #[error("the run asked for --fits {asked} but the result line has no `fits` field: does the program take --fits (docs/protocol.md)?")]
    NotReported { asked: u64 },
    #[error("the result line reports fits = {reported}, but the run asked for --fits {asked}")]
    OtherCount { reported: u64, asked: u64 },
    #[error(
        "the result line reports fits = {reported}, but the run asked for one fit (no --fits): its times are not one fit's \
         (does the command's template hold --fits?)"
    )]
    NotAsked { reported: u64 },
    #[error("fits = {fits} but {field} is missing")]
    Missing { fits: u64, field: &'static str },
    #[error("fits = 1 has no warm fits, but {field} is given")]
    WarmOfOne { field: &'static str },
    #[error("{field} must be a finite number ≥ 0, got {value}")]
    NotATime { field: &'static str, value: f64 },
    #[error(
        "the warm fits' statistics are out of order: min {min} s, median {median} s, p99 {p99} s, max {max} s, mean {mean} s \
         (expected min ≤ median ≤ p99 ≤ max, and the mean between min and max)"
    )]
    OutOfOrder { min: f64, median: f64, p99: f64, max: f64, mean: f64 },
    #[error(
        "the fits take at least {fits_seconds:.6} s by the line's own figures (the first fit and the warm ones), more than \
         train_seconds = {train_seconds} s, which is their sum"
    )]
    LongerThanTraining { fits_seconds: f64, train_seconds: f64 },
}

/// The per-fit fields and device of `line` (a result line that parsed), checked against the fits
/// the run asked for (None: no `--fits`: one fit, so a `fits` field other than 1 is refused, and
/// any other per-fit field is ignored) and its training time.
pub(crate) fn read(line: &str, asked: Option<u64>, train_seconds: f64) -> Result<Extras, FitsProblem> {
    let printed: Printed = serde_json::from_str(line.trim()).map_err(|e| FitsProblem::Invalid(e.to_string()))?;
    let device = printed.device.as_deref().map(|d| d.chars().take(MAX_DEVICE_CHARS).collect());
    let per_fit = match asked {
        Some(asked) => Some(per_fit(&printed, asked, train_seconds)?),
        None => match printed.fits {
            Some(reported) if reported != 1 => return Err(FitsProblem::NotAsked { reported }),
            _ => None,
        },
    };
    Ok(Extras { per_fit, device })
}

fn per_fit(printed: &Printed, asked: u64, train_seconds: f64) -> Result<PerFit, FitsProblem> {
    let fits = printed.fits.ok_or(FitsProblem::NotReported { asked })?;
    if fits != asked {
        return Err(FitsProblem::OtherCount { reported: fits, asked });
    }
    let time = |field: &'static str, value: Option<f64>| -> Result<f64, FitsProblem> {
        let value = value.ok_or(FitsProblem::Missing { fits, field })?;
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(FitsProblem::NotATime { field, value })
        }
    };
    let first_seconds = time("fit_first_seconds", printed.fit_first_seconds)?;
    let warm_fields = [
        ("fit_warm_min_seconds", printed.fit_warm_min_seconds),
        ("fit_warm_median_seconds", printed.fit_warm_median_seconds),
        ("fit_warm_p99_seconds", printed.fit_warm_p99_seconds),
        ("fit_warm_max_seconds", printed.fit_warm_max_seconds),
        ("fit_warm_mean_seconds", printed.fit_warm_mean_seconds),
    ];
    let warm = if fits == 1 {
        if let Some((field, _)) = warm_fields.iter().find(|(_, value)| value.is_some()) {
            return Err(FitsProblem::WarmOfOne { field });
        }
        None
    } else {
        let [min, median, p99, max, mean] = warm_fields.map(|(field, value)| time(field, value));
        let warm = WarmFits { min_seconds: min?, median_seconds: median?, p99_seconds: p99?, max_seconds: max?, mean_seconds: mean? };
        check_order(&warm)?;
        Some(warm)
    };
    // The fits are the parts of train_seconds: together they cannot take longer.
    let fits_seconds = check::fits_seconds(fits, first_seconds, warm.map(|w| (w.mean_seconds, w.max_seconds)));
    if check::fits_exceed_training(fits_seconds, train_seconds) {
        return Err(FitsProblem::LongerThanTraining { fits_seconds, train_seconds });
    }
    Ok(PerFit { fits, first_seconds, warm })
}

fn check_order(w: &WarmFits) -> Result<(), FitsProblem> {
    let ordered = w.min_seconds <= w.median_seconds && w.median_seconds <= w.p99_seconds && w.p99_seconds <= w.max_seconds;
    let mean_inside = w.min_seconds <= w.mean_seconds && w.mean_seconds <= w.max_seconds;
    if ordered && mean_inside {
        return Ok(());
    }
    Err(FitsProblem::OutOfOrder {
        min: w.min_seconds,
        median: w.median_seconds,
        p99: w.p99_seconds,
        max: w.max_seconds,
        mean: w.mean_seconds,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A line of 5 fits whose training took 0.01 s: the first 3 ms, four warm ones 1–2 ms.
    pub(crate) const FIVE_FITS: &str = r#""fits":5,"fit_first_seconds":0.003,"fit_warm_min_seconds":0.001,"fit_warm_median_seconds":0.0015,"fit_warm_p99_seconds":0.002,"fit_warm_max_seconds":0.002,"fit_warm_mean_seconds":0.00155"#;

    fn line(fields: &str) -> String {
        format!("{{\"w\":1.0,{fields}}}")
    }

    #[test]
    fn the_per_fit_fields_are_read_when_asked_for() {
        let extras = read(&line(FIVE_FITS), Some(5), 0.01).unwrap();
        let per_fit = extras.per_fit.unwrap();
        assert_eq!((per_fit.fits, per_fit.first_seconds), (5, 0.003));
        let warm = per_fit.warm.unwrap();
        assert_eq!(
            (warm.min_seconds, warm.median_seconds, warm.p99_seconds, warm.max_seconds, warm.mean_seconds),
            (0.001, 0.0015, 0.002, 0.002, 0.00155)
        );
        // One fit: the first alone.
        let one = read(&line(r#""fits":1,"fit_first_seconds":0.004"#), Some(1), 0.004).unwrap().per_fit.unwrap();
        assert_eq!((one.fits, one.first_seconds, one.warm), (1, 0.004, None));
        // Without --fits the run makes one fit: the per-fit fields of one are ignored, the device
        // is kept; a line of five fits is not one fit's (a template holding --fits).
        let extras = read(&line(r#""fits":1,"fit_first_seconds":0.004,"device":"cpu:0""#), None, 0.004).unwrap();
        assert_eq!(extras, Extras { per_fit: None, device: Some("cpu:0".into()) });
        assert_eq!(read(&line(FIVE_FITS), None, 0.01), Err(FitsProblem::NotAsked { reported: 5 }));
    }

    #[test]
    fn impossible_per_fit_values_are_refused_with_the_reason() {
        let refused = |fields: &str, asked: u64, train: f64| read(&line(fields), Some(asked), train).unwrap_err().to_string();
        let five = |from: &str, to: &str| FIVE_FITS.replace(from, to);
        for (fields, asked, train, want) in [
            (r#""n":5"#.to_string(), 5, 0.01, "has no `fits` field"),
            (FIVE_FITS.to_string(), 6, 0.01, "reports fits = 5, but the run asked for --fits 6"),
            (five("\"fits\":5", "\"fits\":0"), 5, 0.01, "reports fits = 0"),
            (five("\"fits\":5", "\"fits\":2.5"), 5, 0.01, "do not parse"),
            (five("\"fits\":5", "\"fits\":-5"), 5, 0.01, "do not parse"),
            (five(r#","fit_warm_p99_seconds":0.002"#, ""), 5, 0.01, "fits = 5 but fit_warm_p99_seconds is missing"),
            (five("\"fit_first_seconds\":0.003", "\"fit_first_seconds\":null"), 5, 0.01, "fit_first_seconds is missing"),
            (five("\"fit_first_seconds\":0.003", "\"fit_first_seconds\":-0.003"), 5, 0.01, "fit_first_seconds must be a finite number ≥ 0"),
            (five("\"fit_warm_min_seconds\":0.001", "\"fit_warm_min_seconds\":0.0016"), 5, 0.01, "out of order"),
            (five("\"fit_warm_p99_seconds\":0.002", "\"fit_warm_p99_seconds\":0.0025"), 5, 0.01, "out of order"),
            (five("\"fit_warm_mean_seconds\":0.00155", "\"fit_warm_mean_seconds\":0.0021"), 5, 0.01, "out of order"),
            (FIVE_FITS.to_string(), 5, 0.008, "more than train_seconds = 0.008 s"),
            (r#""fits":1,"fit_first_seconds":0.004,"fit_warm_median_seconds":0.001"#.to_string(), 1, 0.01, "fits = 1 has no warm fits"),
            (r#""fits":1,"fit_first_seconds":0.02"#.to_string(), 1, 0.01, "more than train_seconds"),
            // The slowest warm fit alone is longer than what the mean says all four took.
            (five("\"fit_warm_max_seconds\":0.002", "\"fit_warm_max_seconds\":0.0099"), 5, 0.0101, "at least 0.012900 s"),
            (r#""fits":3,"fit_first_seconds":1e999"#.to_string(), 3, 0.01, "do not parse"),
            (format!(r#"{FIVE_FITS},"device":7"#), 5, 0.01, "do not parse"),
        ] {
            let message = refused(&fields, asked, train);
            assert!(message.contains(want), "{fields}: {message}");
        }
    }

    #[test]
    fn rounding_between_the_fits_and_their_sum_is_not_a_problem() {
        // 0.003 + 4 × 0.00155 = 0.0092: a train_seconds a hair below it is rounding.
        assert!(read(&line(FIVE_FITS), Some(5), 0.0092 * (1.0 - 1e-9)).is_ok());
        // Loop overhead between the fits may make train_seconds longer than their sum.
        assert!(read(&line(FIVE_FITS), Some(5), 0.05).is_ok());
    }

    #[test]
    fn a_long_device_name_is_cut() {
        let long = "d".repeat(500);
        let extras = read(&line(&format!(r#""device":"{long}""#)), None, 0.0).unwrap();
        assert_eq!(extras.device.map(|d| d.chars().count()), Some(MAX_DEVICE_CHARS));
    }
}
