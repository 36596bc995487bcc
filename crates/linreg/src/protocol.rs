//! The one JSON line every implementation prints on stdout (docs/protocol.md), shared by the
//! `linreg` binary, which writes it, and the orchestrator, which parses and checks it.

use serde::{Deserialize, Serialize};

use crate::fit::{Fit, FitStatus};
use crate::fit_times::FitStats;

/// The result line. Non-finite floats travel as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultLine {
    pub implementation: String,
    pub n: u64,
    pub epochs: u64,
    pub learning_rate: f64,
    pub w: Option<f64>,
    pub b: Option<f64>,
    pub mse: Option<f64>,
    pub status: ResultStatus,
    pub epochs_run: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverged_at_epoch: Option<u64>,
    pub load_seconds: f64,
    pub train_seconds: f64,
    /// Extra (optional, docs/protocol.md): the code that summed, e.g. `simd/avx512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Extra (optional): how many threads summed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Extra (optional): of a fit whose threads' shares are past their L2s (a pool's, or one
    /// thread's), how many threads chose to sum with software prefetches; absent where none tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetching_threads: Option<u64>,
    /// Extra (optional), beside `prefetching_threads`: how many of the threads that tried refused
    /// the prefetch (the rest had not chosen when the fit ended), and the most pairs of epochs any
    /// of them timed to choose (or until the fit ended); absent where none tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch_refused_threads: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch_pairs: Option<u64>,
    /// With `--fits K` (docs/protocol.md): the count, the first fit's time and the warm fits'
    /// statistics; absent without it.
    #[serde(flatten)]
    pub per_fit: FitStats,
}

/// What the implementation says of its own fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    Ok,
    Diverged,
}

impl ResultLine {
    /// The line for `fit` of `n` points: its w, b, mse (null where not finite), status and epochs.
    /// Who fitted, with what, and how long it took are left for the caller to fill in:
    /// `ResultLine { implementation, load_seconds, train_seconds, ..ResultLine::of_fit(..) }`.
    pub fn of_fit(fit: &Fit, n: usize, epochs: u64, learning_rate: f64) -> ResultLine {
        let finite = |v: f64| v.is_finite().then_some(v);
        let (status, diverged_at_epoch) = match fit.status {
            FitStatus::Ok => (ResultStatus::Ok, None),
            FitStatus::Diverged { at_epoch } => (ResultStatus::Diverged, Some(at_epoch)),
        };
        ResultLine {
            implementation: String::new(),
            n: n as u64,
            epochs,
            learning_rate,
            w: finite(fit.w),
            b: finite(fit.b),
            mse: finite(fit.mse),
            status,
            epochs_run: fit.epochs_run,
            diverged_at_epoch,
            load_seconds: 0.0,
            train_seconds: 0.0,
            kernel: None,
            threads: None,
            prefetching_threads: None,
            prefetch_refused_threads: None,
            prefetch_pairs: None,
            per_fit: FitStats::default(),
        }
    }

    /// The line as printed: one JSON object, no trailing newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a ResultLine always serialises")
    }

    /// Parses a line and checks what serde cannot: non-negative times, `diverged_at_epoch`
    /// present exactly when diverged, finite w/b/mse when ok, the per-fit fields consistent.
    pub fn parse(line: &str) -> Result<Self, String> {
        let parsed: ResultLine = serde_json::from_str(line.trim()).map_err(|e| format!("not a valid result line: {e}"))?;
        parsed.check()?;
        Ok(parsed)
    }

    fn check(&self) -> Result<(), String> {
        for (name, v) in [("load_seconds", self.load_seconds), ("train_seconds", self.train_seconds)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} must be a finite number ≥ 0, got {v}"));
            }
        }
        self.per_fit.check()?;
        match (self.status, self.diverged_at_epoch) {
            (ResultStatus::Ok, Some(_)) => Err("diverged_at_epoch is given but status is \"ok\"".into()),
            (ResultStatus::Diverged, None) => Err("status is \"diverged\" but diverged_at_epoch is missing".into()),
            (ResultStatus::Ok, None) if [self.w, self.b, self.mse].iter().any(|v| !v.is_some_and(f64::is_finite)) => {
                Err("status is \"ok\" but w, b or mse is missing or not finite".into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_becomes_a_line_that_parses() {
        let ok = Fit { w: 2.0, b: 0.5, mse: 1e-3, epochs_run: 10, status: FitStatus::Ok };
        let line = ResultLine { implementation: "x".into(), ..ResultLine::of_fit(&ok, 5, 10, 0.01) };
        assert_eq!(ResultLine::parse(&line.to_json()), Ok(line));

        let diverged = Fit { w: f64::INFINITY, b: 3.0, mse: f64::NAN, epochs_run: 4, status: FitStatus::Diverged { at_epoch: 4 } };
        let line = ResultLine::of_fit(&diverged, 5, 10, 0.01);
        assert_eq!((line.w, line.b, line.mse), (None, Some(3.0), None));
        assert_eq!((line.status, line.diverged_at_epoch, line.epochs_run), (ResultStatus::Diverged, Some(4), 4));
        assert!(ResultLine::parse(&line.to_json()).is_ok());
    }

    fn line() -> ResultLine {
        ResultLine {
            implementation: "rust-scalar".into(),
            n: 5,
            epochs: 1000,
            learning_rate: 0.01,
            w: Some(1.995180350672),
            b: Some(0.1 + 0.2),
            mse: Some(1e-300),
            status: ResultStatus::Ok,
            epochs_run: 1000,
            diverged_at_epoch: None,
            load_seconds: 1e-5,
            train_seconds: 2e-6,
            kernel: None,
            threads: None,
            prefetching_threads: None,
            prefetch_refused_threads: None,
            prefetch_pairs: None,
            per_fit: FitStats::default(),
        }
    }

    #[test]
    fn the_prefetching_threads_travel_when_known_and_are_left_out_when_not() {
        let with = ResultLine {
            kernel: Some("parallel/avx512".into()),
            threads: Some(2),
            prefetching_threads: Some(1),
            prefetch_refused_threads: Some(0),
            prefetch_pairs: Some(14),
            ..line()
        };
        let json = with.to_json();
        assert!(json.contains(r#""threads":2,"prefetching_threads":1,"prefetch_refused_threads":0,"prefetch_pairs":14"#), "{json}");
        assert_eq!(ResultLine::parse(&json), Ok(with));
        assert!(!line().to_json().contains("prefetch"), "{}", line().to_json());
    }

    #[test]
    fn floats_round_trip_exactly() {
        let l = line();
        let text = l.to_json();
        assert!(!text.contains('\n'));
        assert_eq!(ResultLine::parse(&text).unwrap(), l);
        assert!(text.contains("0.30000000000000004"), "{text}");
    }

    #[test]
    fn every_float_parses_back_to_the_same_bits() {
        // serde_json's default float parser may be 1 ulp off; the accuracy report compares fits to
        // 1e-9 and must not see errors the parser made. This value came back 1 ulp off without
        // the `float_roundtrip` feature: w of the test vector, as `linreg` prints it.
        let mut l = line();
        l.w = Some(1.9951803506719779);
        assert_eq!(ResultLine::parse(&l.to_json()).unwrap().w.map(f64::to_bits), l.w.map(f64::to_bits));
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state >> 2).abs();
            if !v.is_finite() {
                continue;
            }
            l.w = Some(v);
            let back = ResultLine::parse(&l.to_json()).unwrap().w.unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v:e} came back as {back:e}");
        }
    }

    #[test]
    fn diverged_lines_carry_nulls_and_the_epoch() {
        let mut l = line();
        l.status = ResultStatus::Diverged;
        l.diverged_at_epoch = Some(42);
        l.w = None;
        let text = l.to_json();
        assert!(text.contains("\"w\":null") && text.contains("\"status\":\"diverged\""), "{text}");
        assert_eq!(ResultLine::parse(&text).unwrap(), l);
    }

    #[test]
    fn inconsistent_lines_are_rejected() {
        let mut l = line();
        l.diverged_at_epoch = Some(3);
        assert!(ResultLine::parse(&l.to_json()).unwrap_err().contains("diverged_at_epoch"));
        let mut l = line();
        l.mse = None;
        assert!(ResultLine::parse(&l.to_json()).is_err());
        assert!(ResultLine::parse("{\"w\": 1}").unwrap_err().contains("missing field"));
        assert!(ResultLine::parse("garbage").is_err());
        let extra = line().to_json().replace("{", "{\"cores\": 2, ");
        assert!(ResultLine::parse(&extra).is_ok(), "extra fields are allowed");
    }

    #[test]
    fn kernel_and_threads_are_optional() {
        let plain = line().to_json();
        assert!(!plain.contains("kernel") && !plain.contains("threads"), "{plain}");
        assert_eq!(ResultLine::parse(&plain).unwrap().threads, None);
        let mut l = line();
        l.kernel = Some("parallel/avx2-fma".into());
        l.threads = Some(2);
        let text = l.to_json();
        assert!(text.contains("\"kernel\":\"parallel/avx2-fma\"") && text.contains("\"threads\":2"), "{text}");
        assert_eq!(ResultLine::parse(&text).unwrap(), l);
    }

    #[test]
    fn per_fit_fields_are_absent_without_fits_and_round_trip_with_them() {
        let plain = line().to_json();
        assert!(!plain.contains("fit"), "{plain}");
        let mut times = crate::FitTimes::new();
        for nanos in [5_000, 1_234_567, 1_000, 3_000] {
            times.record(std::time::Duration::from_nanos(nanos));
        }
        let l = ResultLine { per_fit: times.stats(), ..line() };
        let text = l.to_json();
        for field in [
            "fits\":4",
            "fit_first_seconds",
            "fit_warm_min_seconds",
            "fit_warm_median_seconds",
            "fit_warm_p99_seconds",
            "fit_warm_max_seconds",
            "fit_warm_mean_seconds",
        ] {
            assert!(text.contains(field), "{field} in {text}");
        }
        assert_eq!(ResultLine::parse(&text).unwrap(), l);
        // A line whose per-fit fields contradict each other is not a result.
        let broken = text.replace("\"fits\":4", "\"fits\":1");
        assert!(ResultLine::parse(&broken).unwrap_err().contains("fits is 1"), "{broken}");
    }
}
