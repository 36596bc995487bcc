//! Warm repeated fits (`--fits K`, docs/protocol.md): each fit's time recorded as it ends, and
//! the statistics the result line carries (first fit apart, then min, median, p99, max and mean
//! of the warm fits 2..K).
//!
//! The warm times go into a log-linear histogram, not a list: a list costs 8 bytes a fit, which
//! at the K that fills a second at 5 points (~10^5 fits) would add ~45% to the peak memory of the
//! `linreg` binary that the report measures. Min, max, mean and the sum are exact; the median and
//! p99 are their bucket's midpoint, within 2^-10 (0.1%) of the exact order statistic and exact
//! below 1024 ns. `python_impl/linreg_common.py` buckets the same way, to the nanosecond.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Bits of a value kept exactly: buckets are 1 ns wide below 2^10 ns, then 2^-10 of their value.
const EXACT_BITS: u32 = 10;

/// The start of the bucket `nanos` falls in: `nanos` itself below 2^EXACT_BITS, else `nanos`
/// with all but its top EXACT_BITS bits cleared.
pub fn bucket_floor(nanos: u64) -> u64 {
    let shift = bucket_shift(nanos);
    (nanos >> shift) << shift
}

fn bucket_shift(nanos: u64) -> u32 {
    (u64::BITS - nanos.leading_zeros()).saturating_sub(EXACT_BITS)
}

/// The value a bucket stands for: the middle of the whole nanoseconds it holds.
fn bucket_middle(floor: u64) -> f64 {
    floor as f64 + ((1u64 << bucket_shift(floor)) - 1) as f64 / 2.0
}

/// Each fit's time as the fits run: the first one apart, the warm ones bucketed.
#[derive(Debug, Clone, Default)]
pub struct FitTimes {
    first_nanos: Option<u64>,
    warm_count: u64,
    warm_sum_nanos: u128,
    warm_min_nanos: u64,
    warm_max_nanos: u64,
    warm_buckets: BTreeMap<u64, u64>,
}

impl FitTimes {
    pub fn new() -> FitTimes {
        FitTimes::default()
    }

    /// Records the next fit's time.
    pub fn record(&mut self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        if self.first_nanos.is_none() {
            self.first_nanos = Some(nanos);
            return;
        }
        if self.warm_count == 0 {
            (self.warm_min_nanos, self.warm_max_nanos) = (nanos, nanos);
        }
        self.warm_count += 1;
        self.warm_sum_nanos += u128::from(nanos);
        self.warm_min_nanos = self.warm_min_nanos.min(nanos);
        self.warm_max_nanos = self.warm_max_nanos.max(nanos);
        *self.warm_buckets.entry(bucket_floor(nanos)).or_insert(0) += 1;
    }

    /// How many fits were recorded.
    pub fn count(&self) -> u64 {
        u64::from(self.first_nanos.is_some()) + self.warm_count
    }

    /// The sum of every fit's time, in seconds: the protocol's `train_seconds`.
    pub fn total_seconds(&self) -> f64 {
        (u128::from(self.first_nanos.unwrap_or(0)) + self.warm_sum_nanos) as f64 / 1e9
    }

    /// The result line's per-fit fields (all absent when nothing was recorded).
    pub fn stats(&self) -> FitStats {
        let Some(first) = self.first_nanos else {
            return FitStats::default();
        };
        let mut stats = FitStats { fits: Some(self.count()), fit_first_seconds: Some(first as f64 / 1e9), ..FitStats::default() };
        let m = self.warm_count;
        if m == 0 {
            return stats;
        }
        let median_nanos =
            if m % 2 == 1 { self.warm_rank(m.div_ceil(2)) } else { (self.warm_rank(m / 2) + self.warm_rank(m / 2 + 1)) / 2.0 };
        stats.fit_warm_min_seconds = Some(self.warm_min_nanos as f64 / 1e9);
        stats.fit_warm_median_seconds = Some(median_nanos / 1e9);
        stats.fit_warm_p99_seconds = Some(self.warm_rank((99 * m).div_ceil(100)) / 1e9);
        stats.fit_warm_max_seconds = Some(self.warm_max_nanos as f64 / 1e9);
        stats.fit_warm_mean_seconds = Some(self.warm_sum_nanos as f64 / m as f64 / 1e9);
        stats
    }

    /// The `rank`-th smallest warm time (1-based), in nanoseconds: its bucket's middle, kept
    /// within the exact min and max.
    fn warm_rank(&self, rank: u64) -> f64 {
        let mut seen = 0;
        let floor = self.warm_buckets.iter().find_map(|(&floor, &count)| {
            seen += count;
            (seen >= rank).then_some(floor)
        });
        let middle = floor.map_or(self.warm_max_nanos as f64, bucket_middle);
        middle.clamp(self.warm_min_nanos as f64, self.warm_max_nanos as f64)
    }
}

/// The per-fit fields of the result line: all absent without `--fits`; `fits` and
/// `fit_first_seconds` with it; the warm statistics from K = 2 on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FitStats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fits: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_first_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_warm_min_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_warm_median_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_warm_p99_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_warm_max_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_warm_mean_seconds: Option<f64>,
}

impl FitStats {
    fn warm(&self) -> [(&'static str, Option<f64>); 5] {
        [
            ("fit_warm_min_seconds", self.fit_warm_min_seconds),
            ("fit_warm_median_seconds", self.fit_warm_median_seconds),
            ("fit_warm_p99_seconds", self.fit_warm_p99_seconds),
            ("fit_warm_max_seconds", self.fit_warm_max_seconds),
            ("fit_warm_mean_seconds", self.fit_warm_mean_seconds),
        ]
    }

    /// What serde cannot check: the fields present together as the protocol says, every time a
    /// finite number ≥ 0, and min ≤ median ≤ p99 ≤ max.
    pub fn check(&self) -> Result<(), String> {
        let warm = self.warm();
        let warm_given = warm.iter().filter(|(_, v)| v.is_some()).count();
        match (self.fits, self.fit_first_seconds) {
            (None, None) if warm_given == 0 => return Ok(()),
            (None, _) => return Err("per-fit times are given but `fits` is missing".into()),
            (Some(0), _) => return Err("fits must be ≥ 1, got 0".into()),
            (Some(_), None) => return Err("fits is given but fit_first_seconds is missing".into()),
            (Some(1), _) if warm_given > 0 => return Err("fits is 1 but warm-fit statistics are given".into()),
            (Some(k), _) if k >= 2 && warm_given < warm.len() => {
                let missing: Vec<&str> = warm.iter().filter(|(_, v)| v.is_none()).map(|(name, _)| *name).collect();
                return Err(format!("fits is {k} but {} missing", missing.join(", ")));
            }
            _ => {}
        }
        for (name, value) in [("fit_first_seconds", self.fit_first_seconds)].into_iter().chain(warm) {
            if let Some(v) = value.filter(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(format!("{name} must be a finite number ≥ 0, got {v}"));
            }
        }
        let order = [self.fit_warm_min_seconds, self.fit_warm_median_seconds, self.fit_warm_p99_seconds, self.fit_warm_max_seconds];
        if order.windows(2).any(|pair| matches!(pair, [Some(a), Some(b)] if a > b)) {
            return Err("the warm-fit statistics must satisfy min ≤ median ≤ p99 ≤ max".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(nanos: &[u64]) -> FitTimes {
        let mut times = FitTimes::new();
        for &n in nanos {
            times.record(Duration::from_nanos(n));
        }
        times
    }

    #[test]
    fn nothing_recorded_gives_no_fields() {
        let stats = FitTimes::new().stats();
        assert_eq!(stats, FitStats::default());
        assert_eq!(serde_json::to_string(&stats).unwrap(), "{}");
        assert!(stats.check().is_ok());
    }

    #[test]
    fn one_fit_gives_count_and_first_only() {
        let t = times(&[1500]);
        let stats = t.stats();
        assert_eq!((stats.fits, stats.fit_first_seconds), (Some(1), Some(1.5e-6)));
        assert_eq!(stats.warm().iter().filter(|(_, v)| v.is_some()).count(), 0);
        assert_eq!(t.total_seconds(), 1.5e-6);
        assert!(stats.check().is_ok());
    }

    #[test]
    fn warm_statistics_leave_the_first_fit_out() {
        // Below 1024 ns every bucket is one nanosecond: the statistics are exact.
        let t = times(&[900, 10, 40, 20, 30]);
        let stats = t.stats();
        assert_eq!(stats.fits, Some(5));
        assert_eq!(stats.fit_first_seconds, Some(900e-9));
        assert_eq!(stats.fit_warm_min_seconds, Some(10e-9));
        assert_eq!(stats.fit_warm_median_seconds, Some(25e-9), "mean of the two middle values");
        assert_eq!(stats.fit_warm_p99_seconds, Some(40e-9), "nearest rank: ceil(0.99·4) = 4th");
        assert_eq!(stats.fit_warm_max_seconds, Some(40e-9));
        assert_eq!(stats.fit_warm_mean_seconds, Some(25e-9));
        assert!((t.total_seconds() - 1000e-9).abs() < 1e-18);
        assert!(stats.check().is_ok());
    }

    #[test]
    fn p99_is_the_nearest_rank() {
        // 200 warm fits of 1..=200 ns: ceil(0.99·200) = 198th smallest; the median (100 + 101)/2.
        let mut nanos = vec![5000];
        nanos.extend((1..=200).rev());
        let stats = times(&nanos).stats();
        assert_eq!(stats.fit_warm_p99_seconds, Some(198e-9));
        assert_eq!(stats.fit_warm_median_seconds, Some(100.5e-9));
        // 101 warm fits: the median is the 51st, p99 the ceil(99.99) = 100th.
        let mut nanos = vec![5000];
        nanos.extend(1..=101);
        let stats = times(&nanos).stats();
        assert_eq!(stats.fit_warm_median_seconds, Some(51e-9));
        assert_eq!(stats.fit_warm_p99_seconds, Some(100e-9));
    }

    #[test]
    fn large_times_are_within_a_thousandth_and_within_min_and_max() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut nanos: Vec<u64> = (0..1001)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                20_000 + state % 5_000_000
            })
            .collect();
        let stats = times(&nanos).stats();
        let mut warm = nanos.split_off(1);
        warm.sort_unstable();
        let exact_median = (warm[499] + warm[500]) as f64 / 2.0;
        let exact_p99 = warm[(99 * 1000usize).div_ceil(100) - 1] as f64;
        let close = |got: Option<f64>, want: f64| (got.unwrap() * 1e9 - want).abs() <= want / 1024.0;
        assert!(close(stats.fit_warm_median_seconds, exact_median), "{stats:?} vs {exact_median}");
        assert!(close(stats.fit_warm_p99_seconds, exact_p99), "{stats:?} vs {exact_p99}");
        assert_eq!(stats.fit_warm_min_seconds, Some(warm[0] as f64 / 1e9));
        assert_eq!(stats.fit_warm_max_seconds, Some(warm[999] as f64 / 1e9));
        assert!(stats.check().is_ok());
        // One warm fit: median, p99, min and max are that fit, exactly, though its bucket is wide.
        let stats = times(&[1, 123_456_789]).stats();
        assert_eq!(stats.fit_warm_median_seconds, Some(0.123456789));
        assert_eq!(stats.fit_warm_p99_seconds, Some(0.123456789));
    }

    #[test]
    fn buckets_keep_the_top_ten_bits() {
        assert_eq!(bucket_floor(0), 0);
        assert_eq!(bucket_floor(1023), 1023);
        assert_eq!(bucket_floor(1025), 1024);
        assert_eq!(bucket_floor(1026), 1026);
        assert_eq!(bucket_floor(123_456_789), 123_338_752);
        assert_eq!(bucket_middle(1024), 1024.5);
        assert_eq!(bucket_middle(1023), 1023.0);
        assert_eq!(bucket_floor(u64::MAX), u64::MAX >> 54 << 54);
    }

    #[test]
    fn inconsistent_fields_are_refused() {
        let good = times(&[30, 10, 20]).stats();
        assert!(good.check().is_ok());
        let bad = [
            (FitStats { fits: None, ..good.clone() }, "`fits` is missing"),
            (FitStats { fits: Some(0), ..good.clone() }, "≥ 1"),
            (FitStats { fit_first_seconds: None, ..good.clone() }, "fit_first_seconds is missing"),
            (FitStats { fits: Some(1), ..good.clone() }, "fits is 1"),
            (FitStats { fit_warm_p99_seconds: None, ..good.clone() }, "fit_warm_p99_seconds"),
            (FitStats { fit_warm_min_seconds: Some(-1.0), ..good.clone() }, "finite number ≥ 0"),
            (FitStats { fit_warm_min_seconds: Some(1.0), ..good.clone() }, "min ≤ median"),
        ];
        for (stats, want) in bad {
            let error = stats.check().unwrap_err();
            assert!(error.contains(want), "{error}");
        }
    }
}
