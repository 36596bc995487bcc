//! The machine's limit for one epoch over n points (a roofline): an epoch can go no faster than its
//! data streams from wherever a working set of 16·n bytes lives (the bandwidth curve at that size),
//! nor faster than its arithmetic runs (the compute ceiling) — for the threads the implementation
//! used. Pure arithmetic over what the probes measured.

use serde::{Deserialize, Serialize};

use super::bandwidth::{BandwidthAtSize, BandwidthCurve, PointBandwidth};
use super::compute::ComputeCeiling;
use super::BYTES_PER_POINT;

/// Which of the two limits binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LimitBound {
    /// Moving the data: the bandwidth at the working set's size.
    Bandwidth,
    /// The arithmetic: the compute ceiling.
    Compute,
}

impl LimitBound {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LimitBound::Bandwidth => "bandwidth",
            LimitBound::Compute => "compute",
        }
    }
}

/// The least an epoch can cost a point, and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limit {
    pub ns_per_point_epoch: f64,
    pub bound: LimitBound,
}

/// What was measured of the machine; any part may be missing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MachineLimits<'a> {
    pub bandwidth: Option<&'a BandwidthCurve>,
    pub compute: Option<&'a ComputeCeiling>,
    /// The bandwidth at the point's own working set, measured right before it ran: used instead
    /// of the curve when present.
    pub at_point: Option<&'a PointBandwidth>,
}

impl MachineLimits<'_> {
    /// The read bandwidth (best sample) for a working set of this many bytes on `threads` threads:
    /// one thread's curve for 1, the all-threads curve for all of them; for a count in between, t
    /// times one thread's bandwidth but never more than all threads draw. Several threads are
    /// never held to less than one thread reaches: on a busy machine the all-threads probe can
    /// read lower than the one-thread probe, and a limit must not be slower than what one thread
    /// showed it can do.
    pub(crate) fn bytes_per_second(&self, working_set_bytes: f64, threads: usize) -> Option<f64> {
        if let Some(point) = self.at_point {
            let single = Some(point.single_thread.bytes_per_second.best);
            let all = point.all_threads.as_ref().map(|a| a.bytes_per_second.best);
            return between_thread_counts(threads, point.threads, single, all);
        }
        let curve = self.bandwidth?;
        let single = interpolate(&curve.single_thread, working_set_bytes);
        let all = interpolate(&curve.all_threads, working_set_bytes);
        between_thread_counts(threads, curve.threads, single, all)
    }

    /// Floating-point operations a second (best sample) on `threads` threads, scaled the same way.
    pub(crate) fn flops_per_second(&self, threads: usize) -> Option<f64> {
        let ceiling = self.compute?;
        let single = Some(ceiling.single_thread_flops_per_second.best);
        let all = Some(ceiling.all_threads_flops_per_second.best);
        between_thread_counts(threads, ceiling.threads, single, all)
    }

    /// The arithmetic of a point at the compute ceiling on `threads` threads, scaled as
    /// [`MachineLimits::flops_per_second`] scales it: what [`MachineLimits::at`] sets beside the bandwidth.
    pub(crate) fn compute_ns(&self, threads: usize) -> Option<f64> {
        let flops_per_point = self.compute.map(|c| c.flops_per_point);
        self.flops_per_second(threads).zip(flops_per_point).filter(|(f, _)| *f > 0.0).map(|(f, per)| per / f * 1e9)
    }

    /// The limit for an epoch over `n` points on `threads` threads: the larger of the time to read
    /// [`BYTES_PER_POINT`] a point at the bandwidth of a 16·n-byte working set and the time of the
    /// arithmetic at the compute ceiling. None when neither was measured.
    pub(crate) fn at(&self, n: u64, threads: usize) -> Option<Limit> {
        let bytes = n as f64 * BYTES_PER_POINT as f64;
        let bandwidth_ns = self.bytes_per_second(bytes, threads).filter(|b| *b > 0.0).map(super::ns_per_point);
        let compute_ns = self.compute_ns(threads);
        match (bandwidth_ns, compute_ns) {
            (Some(b), Some(c)) if c > b => Some(Limit { ns_per_point_epoch: c, bound: LimitBound::Compute }),
            (Some(b), _) => Some(Limit { ns_per_point_epoch: b, bound: LimitBound::Bandwidth }),
            (None, Some(c)) => Some(Limit { ns_per_point_epoch: c, bound: LimitBound::Compute }),
            (None, None) => None,
        }
    }
}

/// A rate on `threads` of `all` threads from the one-thread and all-threads rates.
fn between_thread_counts(threads: usize, all: usize, single: Option<f64>, everything: Option<f64>) -> Option<f64> {
    let every = match (single, everything) {
        (Some(one), Some(every)) => Some(every.max(one)),
        (one, every) => every.or(one),
    };
    match threads {
        0 | 1 => single,
        t if t >= all => every,
        t => match (single, every) {
            (Some(one), Some(every)) => Some((one * t as f64).min(every)),
            (one, every) => every.or(one),
        },
    }
}

/// The bandwidth the limit is read from at each measured size: the best sample there, or the best
/// at any larger size when that is higher. Interference only ever slows a sample down, and a
/// working set is never slower to read than a larger one that holds it (whatever cache holds the
/// larger holds the smaller), so a dip below a larger size's figure is the machine being busy, not
/// its limit. Ascending by size.
pub(crate) fn envelope(curve: &[BandwidthAtSize]) -> Vec<(f64, f64)> {
    let mut fastest_beyond = 0.0f64;
    let mut points: Vec<(f64, f64)> = curve
        .iter()
        .rev()
        .map(|s| {
            fastest_beyond = fastest_beyond.max(s.bytes_per_second.best);
            (s.working_set_bytes as f64, fastest_beyond)
        })
        .collect();
    points.reverse();
    points
}

/// The bandwidth at `working_set_bytes` from the [`envelope`]: linear in log(bytes) and log(rate)
/// between the two measured sizes around it, and the nearest measured size's beyond either end.
/// None for an empty curve.
pub(crate) fn interpolate(curve: &[BandwidthAtSize], working_set_bytes: f64) -> Option<f64> {
    let points = envelope(curve);
    let (first, last) = (points.first()?, points.last()?);
    if working_set_bytes <= first.0 {
        return Some(first.1);
    }
    if working_set_bytes >= last.0 {
        return Some(last.1);
    }
    let upper = points.iter().position(|p| p.0 >= working_set_bytes)?;
    let ((x0, y0), (x1, y1)) = (points[upper - 1], points[upper]);
    if x1 == working_set_bytes {
        return Some(y1);
    }
    let t = (working_set_bytes.ln() - x0.ln()) / (x1.ln() - x0.ln());
    Some((y0.ln() + t * (y1.ln() - y0.ln())).exp())
}

/// Where a working set lies on a cache's edge: the curve's bandwidth at half the size and at twice
/// it, as ns a point, when they are [`EDGE_RATIO`] or more apart (None elsewhere, or without a
/// curve). There an epoch streams as fast as the share of its data the cache holds at that moment,
/// and that share has a history: it builds up over the passes a process makes over the data, and
/// whatever ran before or runs beside takes it back. On an Emerald Rapids (family 6 model 207,
/// 2-vCPU KVM guest, 260 MiB L3 reported; 2026-12-05) the curve fell from 0.59 ns a point at 80 MiB
/// to 0.89 ns at 320 MiB, and at 10^7 points (153 MiB) a fresh `linreg` process's passes sped up
/// from 10.4 ms to 6.4–8.5 ms over its first 40 (at 640 MiB: 44 ms every pass); its first fit of
/// 20 epochs took 1.11–1.19× (one thread) and 1.43–1.53× (two) the time of its next three on the
/// same data, against 1.00–1.02× at 4·10^7 points and 1.03–1.10× at 10^6 (8 processes each,
/// medians, two batches); and `orchestrator limit 10000000` read 0.93–0.99 ns (one thread) in a
/// process of its own, 0.60 after probing 16 and 64 MB first, 0.76–0.79 in its own process again
/// half an hour later. So at such a point neither the probes nor the runs are the machine's
/// one speed there, and a fit of few epochs in a fresh process reads low against the probe's best.
pub(crate) fn cache_edge(curve: &[BandwidthAtSize], working_set_bytes: f64) -> Option<CacheEdge> {
    let below = interpolate(curve, working_set_bytes / 2.0)?;
    let beyond = interpolate(curve, working_set_bytes * 2.0)?;
    (beyond > 0.0 && below >= EDGE_RATIO * beyond)
        .then(|| CacheEdge { half_size_ns: super::ns_per_point(below), twice_size_ns: super::ns_per_point(beyond) })
}

/// How much faster the curve must read at half a working set than at twice it for the working set
/// to count as on a cache's edge. At the default scenarios' points on the three machines of the
/// gallery the ratio is 1.5–3.9 where a cache ends within the factor of four (the Emerald Rapids'
/// L1 on two threads at 10^4 points, its L2 at 10^5 and its L3 at 10^7, the Zen 3's L3 at 10^6,
/// the Zen 1's at 10^6 on two threads) and 1.00–1.26 elsewhere: a plateau's own unevenness.
const EDGE_RATIO: f64 = 1.3;

/// The curve around a working set on a cache's edge ([`cache_edge`]), ns a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CacheEdge {
    pub half_size_ns: f64,
    pub twice_size_ns: f64,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::environment::probes::harness::Spread;
    use crate::environment::probes::isa::Isa;

    fn at(bytes: u64, rate: f64) -> BandwidthAtSize {
        BandwidthAtSize {
            working_set_bytes: bytes,
            passes_per_sample: 1,
            samples: 1,
            bytes_per_second: Spread { best: rate, median: rate, worst: rate },
            meets_every_pass: false,
            blocks_back_and_forth: false,
        }
    }

    /// A machine with a 1 MiB cache at 100 GB/s (one thread) and memory at 16 GB/s beyond 4 MiB;
    /// two threads draw twice as much from cache and 24 GB/s from memory. The arithmetic runs
    /// 6 GFLOP/s a thread: 1 ns a point.
    pub(crate) fn machine() -> (BandwidthCurve, ComputeCeiling) {
        let curve = BandwidthCurve {
            instruction_set: Isa::Portable,
            threads: 2,
            single_thread: vec![at(1 << 20, 100e9), at(4 << 20, 16e9)],
            all_threads: vec![at(1 << 20, 200e9), at(4 << 20, 24e9)],
        };
        let flops = |f: f64| Spread { best: f, median: f, worst: f };
        let ceiling = ComputeCeiling {
            instruction_set: Isa::Portable,
            flops_per_point: 6.0,
            threads: 2,
            samples: 1,
            single_thread_flops_per_second: flops(6e9),
            all_threads_flops_per_second: flops(12e9),
            cores: None,
        };
        (curve, ceiling)
    }

    #[test]
    fn bytes_per_point_are_x_and_y_in_float64() {
        assert_eq!(BYTES_PER_POINT, 16);
    }

    #[test]
    fn bandwidth_is_interpolated_in_log_log_and_clamped_at_the_ends() {
        let (curve, _) = machine();
        let one = &curve.single_thread;
        assert_eq!(interpolate(one, 1000.0), Some(100e9), "below the smallest size: the smallest's");
        assert_eq!(interpolate(one, (1u64 << 30) as f64), Some(16e9), "beyond the largest: the largest's");
        assert_eq!(interpolate(one, (1u64 << 20) as f64), Some(100e9));
        // 2 MiB is halfway between 1 and 4 MiB in log(bytes): the geometric mean of the rates.
        let mid = interpolate(one, (2u64 << 20) as f64).unwrap();
        assert!((mid - (100e9f64 * 16e9).sqrt()).abs() < 1e-3 * mid, "{mid}");
        assert_eq!(interpolate(&[], 1.0), None);
    }

    #[test]
    fn a_working_set_between_two_plateaus_is_on_a_cache_edge_and_one_on_a_plateau_is_not() {
        let (curve, _) = machine();
        let one = &curve.single_thread;
        // 2 MiB: half of it on the 1 MiB cache plateau (100 GB/s), twice it in memory (16 GB/s).
        let edge = cache_edge(one, (2u64 << 20) as f64).expect("between the plateaus");
        assert!((edge.half_size_ns - 0.16).abs() < 1e-9 && (edge.twice_size_ns - 1.0).abs() < 1e-9, "{edge:?}");
        assert_eq!(cache_edge(one, (64u64 << 20) as f64), None, "in memory: 16 GB/s either side");
        assert_eq!(cache_edge(one, (256u64 << 10) as f64), None, "in the cache: 100 GB/s either side");
        assert_eq!(cache_edge(&[], 1e6), None);
    }

    #[test]
    fn a_dip_below_a_larger_size_is_lifted_to_it() {
        let curve = [at(1 << 10, 100e9), at(2 << 10, 50e9), at(4 << 10, 80e9), at(8 << 10, 10e9)];
        let rates: Vec<f64> = envelope(&curve).iter().map(|p| p.1).collect();
        assert_eq!(rates, [100e9, 80e9, 80e9, 10e9]);
        assert_eq!(interpolate(&curve, (2u64 << 10) as f64), Some(80e9));
    }

    #[test]
    fn the_limit_is_the_larger_of_moving_the_data_and_the_arithmetic() {
        let (curve, ceiling) = machine();
        let limits = MachineLimits { bandwidth: Some(&curve), compute: Some(&ceiling), at_point: None };
        // 10^4 points = 160 kB, in cache: 16 B at 100 GB/s = 0.16 ns, but the arithmetic needs 1 ns.
        let small = limits.at(10_000, 1).unwrap();
        assert_eq!(small.bound, LimitBound::Compute);
        assert!((small.ns_per_point_epoch - 1.0).abs() < 1e-12);
        // 10^7 points = 160 MB, from memory: 16 B at 16 GB/s = 1 ns on one thread … a tie, and on
        // two threads 16 B at 24 GB/s = 0.667 ns against 0.5 ns of arithmetic.
        let large = limits.at(10_000_000, 2).unwrap();
        assert_eq!(large.bound, LimitBound::Bandwidth);
        assert!((large.ns_per_point_epoch - 16.0 / 24.0).abs() < 1e-12);
        // Only one part measured: that part.
        let only_bandwidth = MachineLimits { bandwidth: Some(&curve), compute: None, at_point: None };
        assert_eq!(only_bandwidth.at(10_000, 1).unwrap().bound, LimitBound::Bandwidth);
        assert!((only_bandwidth.at(10_000, 1).unwrap().ns_per_point_epoch - 0.16).abs() < 1e-12);
        let only_compute = MachineLimits { bandwidth: None, compute: Some(&ceiling), at_point: None };
        assert_eq!(only_compute.at(10_000_000, 2).map(|l| l.bound), Some(LimitBound::Compute));
        assert!(MachineLimits::default().at(5, 1).is_none());
    }

    #[test]
    fn a_thread_count_between_one_and_all_scales_one_thread_up_to_all() {
        assert_eq!(between_thread_counts(1, 8, Some(10.0), Some(50.0)), Some(10.0));
        assert_eq!(between_thread_counts(0, 8, Some(10.0), Some(50.0)), Some(10.0));
        assert_eq!(between_thread_counts(8, 8, Some(10.0), Some(50.0)), Some(50.0));
        assert_eq!(between_thread_counts(16, 8, Some(10.0), Some(50.0)), Some(50.0));
        assert_eq!(between_thread_counts(3, 8, Some(10.0), Some(50.0)), Some(30.0));
        assert_eq!(between_thread_counts(6, 8, Some(10.0), Some(50.0)), Some(50.0));
        assert_eq!(between_thread_counts(8, 8, Some(10.0), None), Some(10.0));
        // All threads measured slower than one (a busy machine): one thread's rate holds.
        assert_eq!(between_thread_counts(2, 2, Some(10.0), Some(8.0)), Some(10.0));
        assert_eq!(between_thread_counts(2, 4, Some(10.0), Some(8.0)), Some(10.0));
    }

    #[test]
    fn a_point_measured_right_before_it_ran_is_held_to_its_own_bandwidth() {
        use super::super::bandwidth::PointBandwidth;
        let (curve, _) = machine();
        let at = |rate: f64| BandwidthAtSize {
            working_set_bytes: 16_000,
            passes_per_sample: 1,
            samples: 7,
            bytes_per_second: Spread { best: rate, median: rate / 2.0, worst: rate / 4.0 },
            meets_every_pass: false,
            blocks_back_and_forth: false,
        };
        let point =
            PointBandwidth { threads: 2, single_thread: at(16e9), all_threads: Some(at(32e9)), huge_page_share: None, compute: None };
        let limits = MachineLimits { bandwidth: Some(&curve), compute: None, at_point: Some(&point) };
        // 16 bytes a point at the best sample: 1 ns on one thread, 0.5 ns on two.
        assert!((limits.at(1000, 1).unwrap().ns_per_point_epoch - 1.0).abs() < 1e-12);
        assert!((limits.at(1000, 2).unwrap().ns_per_point_epoch - 0.5).abs() < 1e-12);
        let without = MachineLimits { at_point: None, ..limits };
        assert_ne!(without.at(1000, 1), limits.at(1000, 1), "the curve otherwise");
    }
}
