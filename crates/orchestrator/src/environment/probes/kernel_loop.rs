//! The kernels' own loop against the probe's, in one process: on the very buffer a point's probe
//! has just read, on its threads and their chunks, samples of the loops taking turns. Each pass
//! is a call and the threads meet after every one, as a fit's epoch and the all-threads probe do
//! (the one-thread probe instead carries its sums across passes: the comparison's one-thread
//! figures are its own). On every thread each thread reads its chunk in the order the
//! all-threads probe and the parallel kernel read theirs (blocks, ascending one pass and
//! descending the next, [`in_pool_order`]); on one thread, forward, as the simd kernel reads. The
//! kernels' loop is timed twice, without and with the software prefetch a thread of either kernel
//! may choose where its data is past its L2 (`linreg::kernels::simd::gradient_sums_prefetching`). Where a fit reads below its point's limit, this tells the loop (the gradient's
//! arithmetic over the same loads, in the same order) from everything a fit adds around it (its
//! exchange of sums, its step, its process, the host's speed between the probe and the run), on
//! whatever CPU runs it: `orchestrator limit --kernel-loop N...`. Read forward, as it once was on
//! every thread, it could not show what the gradient's loop loses just past each thread's L2 read
//! back and forth (docs/limits.md: 1.12× the probe's loop there on an Emerald Rapids, and
//! 0.995–1.02× forward).

use std::hint::black_box;

use serde::Serialize;

use super::bandwidth::{in_pool_order, one_pass, PassCounts, PointBuffer};
use super::harness::{rotating_triples, time_meeting_every_pass, timed_ok};
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

/// Which loop a sample runs (here and in `spells`, whose turns hold a timing of each at its
/// number).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Loop {
    /// The probe's read loop: one fused multiply-add and one add a point.
    Probe = 0,
    /// `linreg::kernels::simd::gradient_sums`: two fused multiply-adds, a subtract and an add.
    Kernel = 1,
    /// The same with a software prefetch ahead of the loads
    /// (`linreg::kernels::simd::gradient_sums_prefetching`).
    KernelPrefetching = 2,
}

/// The loops compared, on one instruction set: the probe's, and the kernels' of the same kind.
#[derive(Debug, Clone, Copy)]
pub(super) struct Loops {
    isa: Isa,
    kernels_isa: linreg::Isa,
}

impl Loops {
    pub(super) fn on(isa: Isa) -> Loops {
        Loops { isa, kernels_isa: isa.for_kernels() }
    }

    /// One pass of `which` over a thread's chunk: forward where `order` is None (one thread, as
    /// the simd kernel reads), else in the parallel kernel's order of blocks for pass number
    /// `order` ([`in_pool_order`]).
    pub(super) fn pass(self, which: Loop, chunk: (&[f64], &[f64]), order: Option<u64>) -> f64 {
        let one = |(x, y): (&[f64], &[f64])| {
            let (x, y) = (black_box(x), black_box(y));
            let (sum_ex, sum_e) = match which {
                Loop::Probe => return one_pass(self.isa, (x, y)),
                Loop::Kernel => linreg::kernels::simd::gradient_sums(self.kernels_isa, x, y, WEIGHT, BIAS),
                Loop::KernelPrefetching => linreg::kernels::simd::gradient_sums_prefetching(self.kernels_isa, x, y, WEIGHT, BIAS),
            };
            sum_ex + sum_e
        };
        match order {
            None => one(chunk),
            Some(pass) => in_pool_order(chunk, pass, one),
        }
    }
}

/// The two loops at one point on one thread count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopComparison {
    pub threads: usize,
    /// Both loops': the probe's, and the kernels' of the same kind.
    pub instruction_set: Isa,
    /// Rounds (a sample of each loop) whose samples the clock timed (all of them, but for a sample
    /// too short to time).
    pub pairs: usize,
    /// ns a point a pass, the median over those pairs' samples.
    pub probe_loop_ns_median: f64,
    /// The kernels' loop (its fields side by side with the probe's in the JSON line).
    #[serde(flatten)]
    pub kernel: KernelLoop,
    /// The kernels' loop with the software prefetch, in the same rounds.
    pub prefetching: KernelLoop,
}

/// A round's seconds: the probe's loop, the kernels', and the kernels' with the prefetch.
type Round = (f64, f64, f64);

/// One of the kernels' loops against the probe's in the same rounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelLoop {
    /// ns a point a pass, the median over the rounds' samples.
    pub kernel_loop_ns_median: f64,
    /// The kernels' sample time over the probe's in the same round: what the loop itself costs
    /// beside the probe's, free of the host's drift between rounds. 1.0 is level.
    pub kernel_over_probe_median: f64,
    pub kernel_over_probe_min: f64,
    pub kernel_over_probe_max: f64,
}

/// The comparison on `point`'s buffer, on one thread and on every thread, `pairs` rounds each (a
/// thread count the probe does not share the point out among is left out).
pub(crate) fn compare_on(point: &PointBuffer, pairs: usize, cancel: &CancelToken) -> Result<Vec<LoopComparison>, ProbeError> {
    let isa = point.isa();
    let loops = Loops::on(isa);
    let mut compared = Vec::new();
    for t in point.thread_counts() {
        super::stop_if_cancelled(cancel)?;
        let Some(passes) = point.passes(t) else { continue };
        let chunks = point.chunks(t);
        // One count of passes for every sample, so that each sample starts where the last left
        // the caches, whichever loop it ran.
        let order = PassCounts::new(t);
        let sample = |which: Loop| -> Result<f64, ProbeError> {
            let seconds = time_meeting_every_pass(t, 1, passes, |i| loops.pass(which, chunks[i], (t > 1).then(|| order.next(i))))?;
            Ok(seconds.first().copied().unwrap_or(f64::NAN))
        };
        let timed: Vec<Round> =
            rotating_triples(pairs, || sample(Loop::Probe), || sample(Loop::Kernel), || sample(Loop::KernelPrefetching))?;
        if let Some(comparison) = summarise(t, isa, point.points() as f64 * passes as f64, &timed) {
            compared.push(comparison);
        }
    }
    Ok(compared)
}

/// Rounds of (probe, kernel, kernel with prefetches) seconds, of `point_passes`
/// point-passes each, as a [`LoopComparison`]: every figure from the rounds whose samples were
/// all timed; None without one.
fn summarise(threads: usize, instruction_set: Isa, point_passes: f64, timed: &[Round]) -> Option<LoopComparison> {
    let kept: Vec<Round> = timed.iter().copied().filter(|&(p, k, f)| timed_ok(p) && timed_ok(k) && timed_ok(f)).collect();
    let ns = |seconds: Vec<f64>| crate::stats::median(&seconds).map(|s| s / point_passes * 1e9);
    let against_probe = |of: &dyn Fn(&Round) -> f64| -> Option<KernelLoop> {
        let seconds: Vec<f64> = kept.iter().map(of).collect();
        let ratios: Vec<f64> = kept.iter().zip(&seconds).map(|(&(probe, _, _), s)| s / probe).collect();
        Some(KernelLoop {
            kernel_loop_ns_median: ns(seconds)?,
            kernel_over_probe_median: crate::stats::median(&ratios)?,
            kernel_over_probe_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
            kernel_over_probe_max: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    };
    Some(LoopComparison {
        threads,
        instruction_set,
        pairs: kept.len(),
        probe_loop_ns_median: ns(kept.iter().map(|&(p, _, _)| p).collect())?,
        kernel: against_probe(&|&(_, k, _)| k)?,
        prefetching: against_probe(&|&(_, _, f)| f)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_give_the_median_ratio_and_its_range_from_the_timed_pairs_only() {
        // 1 000 point-passes: 1 µs is 1 ns a point a pass. The prefetching loop timed as the
        // kernels' in each round here: its figures are the same.
        let pairs = |timed: &[(f64, f64)]| timed.iter().map(|&(p, k)| (p, k, k)).collect::<Vec<_>>();
        let got = summarise(2, Isa::Portable, 1000.0, &pairs(&[(1e-6, 1.1e-6), (2e-6, 2.0e-6), (1e-6, 1.3e-6)])).expect("three pairs");
        assert_eq!(got.prefetching, got.kernel);
        assert_eq!((got.threads, got.instruction_set, got.pairs), (2, Isa::Portable, 3));
        assert!((got.probe_loop_ns_median - 1.0).abs() < 1e-9, "{got:?}");
        let kernel = &got.kernel;
        assert!((kernel.kernel_loop_ns_median - 1.3).abs() < 1e-9, "{got:?}");
        assert!((kernel.kernel_over_probe_median - 1.1).abs() < 1e-9, "{got:?}");
        assert!((kernel.kernel_over_probe_min - 1.0).abs() < 1e-9 && (kernel.kernel_over_probe_max - 1.3).abs() < 1e-9, "{got:?}");
        assert_eq!(summarise(1, Isa::Portable, 1000.0, &[]), None);
        // A sample the clock could not time takes its pair out of every figure, its partner too.
        let one = summarise(1, Isa::Portable, 1000.0, &pairs(&[(0.0, 9e-6), (1e-6, 2e-6), (f64::NAN, 1e-6)])).expect("one pair");
        assert_eq!(one.pairs, 1);
        assert!((one.probe_loop_ns_median - 1.0).abs() < 1e-9 && (one.kernel.kernel_loop_ns_median - 2.0).abs() < 1e-9, "{one:?}");
        assert_eq!(summarise(1, Isa::Portable, 1000.0, &pairs(&[(0.0, 1e-6)])), None);
    }

    #[test]
    fn rounds_of_three_give_the_prefetching_loop_against_the_probe_in_the_same_rounds() {
        let rounds = [(1e-6, 1.2e-6, 1.0e-6), (2e-6, 2.2e-6, 2.2e-6), (1e-6, 1.1e-6, 0.9e-6), (1e-6, 5e-6, 0.0)];
        let got = summarise(2, Isa::Portable, 1000.0, &rounds).expect("three rounds timed");
        // The last round's prefetching sample was not timed: the round is out of every figure.
        assert_eq!(got.pairs, 3);
        assert!((got.kernel.kernel_over_probe_median - 1.1).abs() < 1e-9, "{got:?}");
        let prefetching = got.prefetching;
        assert!((prefetching.kernel_loop_ns_median - 1.0).abs() < 1e-9, "{prefetching:?}");
        assert!((prefetching.kernel_over_probe_median - 1.0).abs() < 1e-9, "{prefetching:?}");
        assert!(
            (prefetching.kernel_over_probe_min - 0.9).abs() < 1e-9 && (prefetching.kernel_over_probe_max - 1.1).abs() < 1e-9,
            "{prefetching:?}"
        );
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
        assert_eq!(compared.iter().map(|c| c.threads).collect::<Vec<_>>(), point.thread_counts());
        for c in &compared {
            assert_eq!((c.pairs, c.instruction_set), (2, Isa::widest()), "{c:?}");
            let k = &c.kernel;
            assert!(c.probe_loop_ns_median > 0.0 && k.kernel_loop_ns_median > 0.0, "{c:?}");
            assert!(
                k.kernel_over_probe_min <= k.kernel_over_probe_median && k.kernel_over_probe_median <= k.kernel_over_probe_max,
                "{c:?}"
            );
            // The prefetching loop on every thread count, as either kernel may run it.
            let f = &c.prefetching;
            assert!(f.kernel_loop_ns_median > 0.0 && f.kernel_over_probe_min <= f.kernel_over_probe_max, "{c:?}");
        }
        assert!(PointBuffer::new(100).expect("too small is no error").is_none());
    }
}
