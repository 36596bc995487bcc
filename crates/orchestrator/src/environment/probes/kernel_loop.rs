//! The kernels' own loop against the probe's, in one process: on the buffer a point's probe reads,
//! on its threads and their chunks, meeting after every pass as both a parallel epoch and the probe
//! do, samples of the two loops alternating. Where a fit reads below its point's limit, this tells
//! the loop (the gradient's arithmetic over the same loads) from everything a fit adds around it
//! (its exchange of sums, its step, its blocks, its process), on whatever CPU runs it:
//! `orchestrator limit --kernel-loop N...`.

use std::hint::black_box;

use serde::Serialize;

use super::bandwidth::{read_sum, PointBuffer};
use super::harness::time_meeting_every_pass;
use super::isa::Isa;
use super::ProbeError;
use crate::measure::CancelToken;

/// Pairs of samples (one of each loop, their order turned every pair) a thread count.
pub(crate) const DEFAULT_PAIRS: usize = 7;

/// Any parameters do: the loop's time does not depend on the values (no branch, no subnormal
/// from these and the probe's small integers).
const W: f64 = 0.5;
const B: f64 = 0.25;

/// The two loops at one point on one thread count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopComparison {
    pub threads: usize,
    pub pairs: usize,
    /// ns a point a pass, the median sample: the probe's read loop (one FMA and one add a point)
    /// and `linreg::kernels::simd::gradient_sums` (two FMAs, a subtract and an add), on the same
    /// instruction set.
    pub probe_loop_ns_median: f64,
    pub kernel_loop_ns_median: f64,
    /// The kernel's sample time over the probe's in the same pair: what the kernel's loop itself
    /// costs beside the probe's, free of the host's drift between pairs. 1.0 is level.
    pub kernel_over_probe_median: f64,
    pub kernel_over_probe_min: f64,
    pub kernel_over_probe_max: f64,
}

/// The comparison at `points` (rounded as the point's probe rounds it) on one thread and on every
/// thread: `pairs` pairs each. Empty for a working set too small to time.
pub(crate) fn compare_at_point(points: usize, pairs: usize, cancel: &CancelToken) -> Result<Vec<LoopComparison>, ProbeError> {
    let Some(point) = PointBuffer::new(points)? else { return Ok(Vec::new()) };
    let kernel_isa = kernel_isa(point.isa);
    let thread_counts = if point.threads > 1 { vec![1, point.threads] } else { vec![1] };
    let mut compared = Vec::new();
    for t in thread_counts {
        super::stop_if_cancelled(cancel)?;
        let Some(passes) = point.passes(t) else { continue };
        let sample = |kernel: bool| -> Result<f64, ProbeError> {
            let seconds = time_meeting_every_pass(t, 1, passes, |i| {
                let (x, y) = point.chunk(i, t);
                let (x, y) = (black_box(x), black_box(y));
                if kernel {
                    let (sum_ex, sum_e) = linreg::kernels::simd::gradient_sums(kernel_isa, x, y, W, B);
                    sum_ex + sum_e
                } else {
                    read_sum(point.isa, x, y, 1)
                }
            })?;
            Ok(seconds.first().copied().unwrap_or(f64::NAN))
        };
        let (mut probe, mut kernel) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
        for pair in 0..pairs {
            // The order turned every pair: neither loop always follows the other.
            if pair % 2 == 0 {
                probe.push(sample(false)?);
                kernel.push(sample(true)?);
            } else {
                kernel.push(sample(true)?);
                probe.push(sample(false)?);
            }
        }
        if let Some(comparison) = summarise(t, point.points() as f64 * passes as f64, &probe, &kernel) {
            compared.push(comparison);
        }
    }
    Ok(compared)
}

/// The kernels' instruction set of the same kind as the probe's: like for like.
fn kernel_isa(isa: Isa) -> linreg::Isa {
    let same = match isa {
        Isa::Avx512 => linreg::Isa::avx512(),
        Isa::Avx2Fma => linreg::Isa::avx2_fma(),
        Isa::Portable => None,
    };
    same.unwrap_or(linreg::Isa::PORTABLE)
}

/// Samples of `point_passes` point-passes each, in pairs, as a [`LoopComparison`]; None without a pair.
fn summarise(threads: usize, point_passes: f64, probe_seconds: &[f64], kernel_seconds: &[f64]) -> Option<LoopComparison> {
    let ns = |seconds: &[f64]| crate::stats::median(seconds).map(|s| s / point_passes * 1e9);
    let ratios: Vec<f64> = kernel_seconds.iter().zip(probe_seconds).map(|(k, p)| k / p).filter(|r| r.is_finite()).collect();
    Some(LoopComparison {
        threads,
        pairs: ratios.len(),
        probe_loop_ns_median: ns(probe_seconds)?,
        kernel_loop_ns_median: ns(kernel_seconds)?,
        kernel_over_probe_median: crate::stats::median(&ratios)?,
        kernel_over_probe_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        kernel_over_probe_max: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_give_the_median_ratio_and_its_range() {
        // 1 000 point-passes: 1 µs is 1 ns a point a pass.
        let got = summarise(2, 1000.0, &[1e-6, 2e-6, 1e-6], &[1.1e-6, 2.0e-6, 1.3e-6]).expect("three pairs");
        assert_eq!((got.threads, got.pairs), (2, 3));
        assert!((got.probe_loop_ns_median - 1.0).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_loop_ns_median - 1.3).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_over_probe_median - 1.1).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_over_probe_min - 1.0).abs() < 1e-9 && (got.kernel_over_probe_max - 1.3).abs() < 1e-9, "{got:?}");
        assert_eq!(summarise(1, 1000.0, &[], &[]), None);
        // A sample the clock could not time leaves its pair out.
        assert_eq!(summarise(1, 1000.0, &[0.0, 1e-6], &[1e-6, 1e-6]).map(|c| c.pairs), Some(1));
    }

    #[test]
    fn the_kernel_loop_runs_on_the_probes_instruction_set() {
        let widest = Isa::widest();
        assert_eq!(
            kernel_isa(widest).name(),
            match widest {
                Isa::Avx512 => "avx512",
                Isa::Avx2Fma => "avx2",
                Isa::Portable => "portable",
            }
        );
        assert_eq!(kernel_isa(Isa::Portable), linreg::Isa::PORTABLE);
    }

    #[test]
    fn a_small_point_is_compared_on_every_thread_count() {
        let compared = compare_at_point(16_384, 2, &CancelToken::new()).expect("a small comparison runs");
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let counts: Vec<usize> = compared.iter().map(|c| c.threads).collect();
        assert_eq!(counts, if threads > 1 { vec![1, threads] } else { vec![1] });
        for c in &compared {
            assert_eq!(c.pairs, 2, "{c:?}");
            assert!(c.probe_loop_ns_median > 0.0 && c.kernel_loop_ns_median > 0.0, "{c:?}");
            assert!(
                c.kernel_over_probe_min <= c.kernel_over_probe_median && c.kernel_over_probe_median <= c.kernel_over_probe_max,
                "{c:?}"
            );
        }
        assert!(compare_at_point(100, 2, &CancelToken::new()).expect("too small is no error").is_empty());
    }
}
