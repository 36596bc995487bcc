//! The kernels' own loop against the probe's, in one process: on the very buffer a point's probe
//! has just read, on its threads and their chunks, samples of the two loops alternating. Each pass
//! is a call and the threads meet after every one, as a fit's epoch and the all-threads probe do
//! (the one-thread probe instead carries its sums across passes: the comparison's one-thread
//! figures are its own). Where a fit reads below its point's limit, this tells the loop (the
//! gradient's arithmetic over the same loads) from everything a fit adds around it (its exchange
//! of sums, its step, its blocks, its process, the host's speed between the probe and the run),
//! on whatever CPU runs it: `orchestrator limit --kernel-loop N...`.

use std::hint::black_box;

use serde::Serialize;

use super::bandwidth::{one_pass, PointBuffer};
use super::harness::{alternating_pairs, time_meeting_every_pass};
use super::isa::Isa;
use super::ProbeError;
use crate::measure::CancelToken;

/// Pairs of samples a thread count, one of each loop, their order turned every pair: an even
/// number, so each loop goes first as often as the other.
pub(crate) const DEFAULT_PAIRS: usize = 8;

/// The slope the kernels' loop computes its errors with: any value does, its time does not
/// depend on the values (no branch, and no subnormal from these and the probe's small integers).
const WEIGHT: f64 = 0.5;
/// The intercept, likewise.
const BIAS: f64 = 0.25;

/// Which loop a sample runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Loop {
    /// The probe's read loop: one fused multiply-add and one add a point.
    Probe,
    /// `linreg::kernels::simd::gradient_sums`: two fused multiply-adds, a subtract and an add.
    Kernel,
}

/// The two loops at one point on one thread count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopComparison {
    pub threads: usize,
    /// Both loops': the probe's, and the kernels' of the same kind.
    pub instruction_set: Isa,
    /// Pairs whose two samples the clock timed (all of them, but for a sample too short to time).
    pub pairs: usize,
    /// ns a point a pass, the median over those pairs' samples.
    pub probe_loop_ns_median: f64,
    pub kernel_loop_ns_median: f64,
    /// The kernel's sample time over the probe's in the same pair: what the kernels' loop itself
    /// costs beside the probe's, free of the host's drift between pairs. 1.0 is level.
    pub kernel_over_probe_median: f64,
    pub kernel_over_probe_min: f64,
    pub kernel_over_probe_max: f64,
}

/// The comparison on `point`'s buffer, on one thread and on every thread, `pairs` pairs each (a
/// thread count the probe does not share the point out among is left out).
pub(crate) fn compare_on(point: &PointBuffer, pairs: usize, cancel: &CancelToken) -> Result<Vec<LoopComparison>, ProbeError> {
    let isa = point.isa();
    let kernels_isa = isa.for_kernels();
    let thread_counts = if point.threads() > 1 { vec![1, point.threads()] } else { vec![1] };
    let mut compared = Vec::new();
    for t in thread_counts {
        super::stop_if_cancelled(cancel)?;
        let Some(passes) = point.passes(t) else { continue };
        let chunks = point.chunks(t);
        let sample = |which: Loop| -> Result<f64, ProbeError> {
            let seconds = time_meeting_every_pass(t, 1, passes, |i| match which {
                Loop::Probe => one_pass(isa, chunks[i]),
                Loop::Kernel => {
                    let (x, y) = chunks[i];
                    let (sum_ex, sum_e) = linreg::kernels::simd::gradient_sums(kernels_isa, black_box(x), black_box(y), WEIGHT, BIAS);
                    sum_ex + sum_e
                }
            })?;
            Ok(seconds.first().copied().unwrap_or(f64::NAN))
        };
        let timed = alternating_pairs(pairs, || sample(Loop::Probe), || sample(Loop::Kernel))?;
        if let Some(comparison) = summarise(t, isa, point.points() as f64 * passes as f64, &timed) {
            compared.push(comparison);
        }
    }
    Ok(compared)
}

/// Pairs of (probe, kernel) seconds, of `point_passes` point-passes each, as a [`LoopComparison`]:
/// every figure from the pairs whose two samples were timed; None without one.
fn summarise(threads: usize, instruction_set: Isa, point_passes: f64, timed: &[(f64, f64)]) -> Option<LoopComparison> {
    let kept: Vec<(f64, f64)> = timed.iter().copied().filter(|&(p, k)| p > 0.0 && k > 0.0 && p.is_finite() && k.is_finite()).collect();
    let ns = |seconds: Vec<f64>| crate::stats::median(&seconds).map(|s| s / point_passes * 1e9);
    let ratios: Vec<f64> = kept.iter().map(|&(probe, kernel)| kernel / probe).collect();
    Some(LoopComparison {
        threads,
        instruction_set,
        pairs: kept.len(),
        probe_loop_ns_median: ns(kept.iter().map(|&(p, _)| p).collect())?,
        kernel_loop_ns_median: ns(kept.iter().map(|&(_, k)| k).collect())?,
        kernel_over_probe_median: crate::stats::median(&ratios)?,
        kernel_over_probe_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        kernel_over_probe_max: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_give_the_median_ratio_and_its_range_from_the_timed_pairs_only() {
        // 1 000 point-passes: 1 µs is 1 ns a point a pass.
        let got = summarise(2, Isa::Portable, 1000.0, &[(1e-6, 1.1e-6), (2e-6, 2.0e-6), (1e-6, 1.3e-6)]).expect("three pairs");
        assert_eq!((got.threads, got.instruction_set, got.pairs), (2, Isa::Portable, 3));
        assert!((got.probe_loop_ns_median - 1.0).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_loop_ns_median - 1.3).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_over_probe_median - 1.1).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_over_probe_min - 1.0).abs() < 1e-9 && (got.kernel_over_probe_max - 1.3).abs() < 1e-9, "{got:?}");
        assert_eq!(summarise(1, Isa::Portable, 1000.0, &[]), None);
        // A sample the clock could not time takes its pair out of every figure, its partner too.
        let one = summarise(1, Isa::Portable, 1000.0, &[(0.0, 9e-6), (1e-6, 2e-6), (f64::NAN, 1e-6)]).expect("one pair");
        assert_eq!(one.pairs, 1);
        assert!((one.probe_loop_ns_median - 1.0).abs() < 1e-9 && (one.kernel_loop_ns_median - 2.0).abs() < 1e-9, "{one:?}");
        assert_eq!(summarise(1, Isa::Portable, 1000.0, &[(0.0, 1e-6)]), None);
    }

    #[test]
    fn the_kernels_loop_runs_on_the_probes_kind_of_instruction_set() {
        // The widest the probe finds is the kernels' own choice on this CPU.
        assert_eq!(Isa::widest().for_kernels(), linreg::Isa::detect());
        // Each kind the CPU has, to the kernels' set of that name (`linreg --isa` takes "avx2").
        for isa in Isa::available() {
            assert_eq!(isa.for_kernels().name(), isa.name().trim_end_matches("-fma"), "{isa:?}");
        }
    }

    #[test]
    fn a_point_is_compared_on_the_thread_counts_its_probe_shares_it_among() {
        let point = PointBuffer::new(16_384).expect("a buffer").expect("16 384 points are timed");
        let compared = compare_on(&point, 2, &CancelToken::new()).expect("a small comparison runs");
        let mut want = vec![1];
        if point.threads() > 1 && point.passes(point.threads()).is_some() {
            want.push(point.threads());
        }
        assert_eq!(compared.iter().map(|c| c.threads).collect::<Vec<_>>(), want);
        for c in &compared {
            assert_eq!((c.pairs, c.instruction_set), (2, Isa::widest()), "{c:?}");
            assert!(c.probe_loop_ns_median > 0.0 && c.kernel_loop_ns_median > 0.0, "{c:?}");
            assert!(
                c.kernel_over_probe_min <= c.kernel_over_probe_median && c.kernel_over_probe_median <= c.kernel_over_probe_max,
                "{c:?}"
            );
        }
        assert!(PointBuffer::new(100).expect("too small is no error").is_none());
    }
}
