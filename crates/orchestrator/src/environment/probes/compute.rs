//! The compute ceiling of the gradient-descent epoch: how many points a second the arithmetic of
//! one epoch can go through when no data has to be fetched at all, with the widest vectors the CPU
//! has. Per point the epoch computes e = w·x + b − y, then Σ e·x and Σ e: two fused multiply-adds
//! (w·x + b, and e·x added to its sum) and two adds (− y, and e added to its sum).

use std::hint::black_box;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::harness::{time_together, Spread};
use super::isa::Isa;
use super::ProbeError;

/// Fused multiply-adds a point an epoch: w·x + b, and Σ e·x.
pub(crate) const FMAS_PER_POINT: u32 = 2;
/// Adds (and subtractions) a point an epoch: − y, and Σ e.
pub(crate) const ADDS_PER_POINT: u32 = 2;
/// Floating-point operations a point an epoch, an FMA counting as two.
pub(crate) const FLOPS_PER_POINT: f64 = (2 * FMAS_PER_POINT + ADDS_PER_POINT) as f64;

/// Timed samples at each thread count.
pub(crate) const DEFAULT_SAMPLES: usize = 9;

/// Timed samples at each thread count in a point's probe (`bandwidth::measure_on`), whose ceiling
/// only says whether the CPUs ran at once then: ~0.1 s on top of the bandwidth's samples.
pub(crate) const POINT_SAMPLES: usize = 5;

/// How long each sample lasts, about: long beside the skew between threads starting a sample
/// (their wake-ups from the barrier, up to a millisecond or so on a busy VM), which a sample's
/// window includes.
const TARGET_SAMPLE_SECONDS: f64 = 1e-2;

/// The compute ceiling on one thread and on all threads, in floating-point operations a second
/// (divide by [`FLOPS_PER_POINT`] for points a second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputeCeiling {
    pub instruction_set: Isa,
    pub flops_per_point: f64,
    /// The thread count of `all_threads`.
    pub threads: usize,
    pub samples: usize,
    pub single_thread_flops_per_second: Spread,
    pub all_threads_flops_per_second: Spread,
    /// The distinct cores among the CPUs this process may use, as Linux lists them
    /// (`topology/core_cpus_list`): fewer than `threads` where some are SMT siblings, which share
    /// the units this arithmetic runs on. Absent where unreadable, and in older runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<usize>,
}

impl ComputeCeiling {
    /// The least an epoch's arithmetic can cost a point, at the best sample, in ns.
    pub(crate) fn ns_per_point(&self, all_threads: bool) -> f64 {
        let flops = if all_threads { self.all_threads_flops_per_second.best } else { self.single_thread_flops_per_second.best };
        self.flops_per_point / flops * 1e9
    }

    /// How many times one thread's arithmetic all threads did together (best samples): near the
    /// count of cores when the CPUs ran at once, near 1 when they did not (seen on a 2-vCPU guest
    /// in spells: two pinned copies of a vector loop each taking twice their time alone). None
    /// unless both rates are finite and positive (a probe without samples, or a damaged record).
    pub(crate) fn speedup(&self) -> Option<f64> {
        let (one, all) = (self.single_thread_flops_per_second.best, self.all_threads_flops_per_second.best);
        (one.is_finite() && all.is_finite() && one > 0.0 && all > 0.0).then(|| all / one)
    }

    /// The cores the all-threads samples ran on: the threads where the cores are unknown.
    pub(crate) fn cores_used(&self) -> usize {
        self.cores.unwrap_or(self.threads).min(self.threads)
    }

    /// False where the speed-up got less than halfway from 1 to the cores the threads ran on (the
    /// threads where the cores are unknown): then the CPUs were likely not all running at once
    /// during the probe, and figures on all threads may be slower than this machine can do. True
    /// where nothing is expected of several threads (one core) or the speed-up is unknown.
    pub(crate) fn threads_ran_at_once(&self) -> bool {
        let cores = self.cores_used();
        let halfway = 1.0 + (cores as f64 - 1.0) / 2.0;
        cores <= 1 || self.speedup().is_none_or(|s| s >= halfway)
    }
}

/// Measures the ceiling with `samples` samples on one thread and on every thread this process may
/// use; each thread works on its own registers, nothing is shared.
pub(crate) fn measure_ceiling(samples: usize) -> Result<ComputeCeiling, ProbeError> {
    let threads = linreg::default_threads().get();
    let isa = Isa::widest();
    let iterations = calibrate(isa);
    let points_per_sample = (iterations * points_per_iteration(isa)) as f64;
    let flops_per_sample = points_per_sample * FLOPS_PER_POINT;
    let run = |t: usize| -> Result<Spread, ProbeError> {
        let seconds = time_together(t, samples, |i| {
            black_box(gradient_arithmetic(isa, black_box(iterations), i as f64));
        })?;
        // Every thread did a sample's work in the window.
        Ok(Spread::of_rates(flops_per_sample * t as f64, &seconds))
    };
    let single_thread_flops_per_second = run(1)?;
    let all_threads_flops_per_second = if threads == 1 { single_thread_flops_per_second } else { run(threads)? };
    Ok(ComputeCeiling {
        instruction_set: isa,
        flops_per_point: FLOPS_PER_POINT,
        threads,
        samples,
        single_thread_flops_per_second,
        all_threads_flops_per_second,
        cores: cores_of_allowed_cpus(),
    })
}

/// The distinct cores among the CPUs this process may use: CPUs listing the same
/// `core_cpus_list` (or, on older kernels, `thread_siblings_list`) in sysfs are one core's SMT
/// threads. None when the affinity or any CPU's topology cannot be read.
fn cores_of_allowed_cpus() -> Option<usize> {
    let cpus = crate::measure::allowed_cpus().ok()?;
    let mut cores = std::collections::BTreeSet::new();
    for cpu in cpus {
        let topology = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
        let siblings = std::fs::read_to_string(format!("{topology}/core_cpus_list"))
            .or_else(|_| std::fs::read_to_string(format!("{topology}/thread_siblings_list")))
            .ok()?;
        cores.insert(siblings.trim().to_owned());
    }
    (!cores.is_empty()).then_some(cores.len())
}

/// Iterations that take about [`TARGET_SAMPLE_SECONDS`] on this thread.
fn calibrate(isa: Isa) -> u64 {
    let mut iterations = 1u64 << 10;
    loop {
        let start = Instant::now();
        black_box(gradient_arithmetic(isa, black_box(iterations), 1.0));
        let seconds = start.elapsed().as_secs_f64();
        if seconds >= TARGET_SAMPLE_SECONDS / 4.0 || iterations >= 1 << 40 {
            let scaled = iterations as f64 * TARGET_SAMPLE_SECONDS / seconds.max(1e-9);
            return (scaled as u64).max(1);
        }
        iterations *= 4;
    }
}

/// Points one iteration of [`gradient_arithmetic`] computes.
fn points_per_iteration(isa: Isa) -> u64 {
    match isa {
        Isa::Portable => PORTABLE_LANES as u64,
        Isa::Avx2Fma => 4 * AVX2_CHAINS as u64,
        Isa::Avx512 => 8 * AVX512_CHAINS as u64,
    }
}

/// Independent accumulator pairs (Σ e·x, Σ e): enough to hide the latency of the FMA and the add
/// on each chain, few enough that x, y, w, b and the sums all stay in the 16 (AVX2) or 32
/// (AVX-512) vector registers.
const PORTABLE_LANES: usize = 8;
const AVX2_CHAINS: usize = 4;
const AVX512_CHAINS: usize = 8;

/// The epoch's arithmetic on points held in registers, `iterations` times over; returns the sums so
/// nothing can be discarded. w and b pass through an empty asm statement every iteration, so the
/// compiler cannot hoist e = w·x + b − y out of the loop, and adds no instruction doing it.
fn gradient_arithmetic(isa: Isa, iterations: u64, seed: f64) -> f64 {
    match isa {
        Isa::Portable => portable_gradient_arithmetic(iterations, seed),
        // SAFETY: `Isa::widest` chose these only after the CPU reported the features.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { x86::avx2_gradient_arithmetic(iterations, seed) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { x86::avx512_gradient_arithmetic(iterations, seed) },
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Avx2Fma | Isa::Avx512 => portable_gradient_arithmetic(iterations, seed),
    }
}

/// The start values: x differs per lane (so no two lanes can be merged), small enough that the
/// sums stay far from overflow over any number of iterations a probe runs.
const W: f64 = 0.5;
const B: f64 = 0.25;
const Y: f64 = 1.0;
fn x_of(lane: usize, seed: f64) -> f64 {
    1e-3 * (lane as f64 + 1.0 + seed)
}

fn portable_gradient_arithmetic(iterations: u64, seed: f64) -> f64 {
    let x: [f64; PORTABLE_LANES] = std::array::from_fn(|k| x_of(k, seed));
    let (mut w, mut b) = (W, B);
    let mut dw = [0.0f64; PORTABLE_LANES];
    let mut db = [0.0f64; PORTABLE_LANES];
    for _ in 0..iterations {
        // black_box costs a store and a load here: the portable figure is a floor, not a ceiling.
        (w, b) = black_box((w, b));
        for k in 0..PORTABLE_LANES {
            let e = w.mul_add(x[k], b) - Y;
            dw[k] = e.mul_add(x[k], dw[k]);
            db[k] += e;
        }
    }
    dw.iter().sum::<f64>() + db.iter().sum::<f64>()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::asm;
    use std::arch::x86_64::*;

    use super::{x_of, AVX2_CHAINS, AVX512_CHAINS, B, W, Y};

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2_gradient_arithmetic(iterations: u64, seed: f64) -> f64 {
        let x: [__m256d; AVX2_CHAINS] =
            std::array::from_fn(|k| _mm256_setr_pd(x_of(4 * k, seed), x_of(4 * k + 1, seed), x_of(4 * k + 2, seed), x_of(4 * k + 3, seed)));
        let y = _mm256_set1_pd(Y);
        let (mut w, mut b) = (_mm256_set1_pd(W), _mm256_set1_pd(B));
        let mut dw = [_mm256_setzero_pd(); AVX2_CHAINS];
        let mut db = [_mm256_setzero_pd(); AVX2_CHAINS];
        for _ in 0..iterations {
            // SAFETY: an empty template: no instruction, no memory, no stack; the compiler only
            // loses track of w's and b's values.
            unsafe { asm!("/* {0} {1} */", inout(ymm_reg) w, inout(ymm_reg) b, options(nomem, nostack, preserves_flags)) };
            for k in 0..AVX2_CHAINS {
                let e = _mm256_sub_pd(_mm256_fmadd_pd(w, x[k], b), y);
                dw[k] = _mm256_fmadd_pd(e, x[k], dw[k]);
                db[k] = _mm256_add_pd(db[k], e);
            }
        }
        let mut total = _mm256_setzero_pd();
        for k in 0..AVX2_CHAINS {
            total = _mm256_add_pd(total, _mm256_add_pd(dw[k], db[k]));
        }
        let mut lanes = [0.0f64; 4];
        // SAFETY: `lanes` has room for exactly 4 f64; storeu has no alignment requirement.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), total) };
        lanes.iter().sum()
    }

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512_gradient_arithmetic(iterations: u64, seed: f64) -> f64 {
        let x: [__m512d; AVX512_CHAINS] = std::array::from_fn(|k| {
            let lane = |j: usize| x_of(8 * k + j, seed);
            _mm512_setr_pd(lane(0), lane(1), lane(2), lane(3), lane(4), lane(5), lane(6), lane(7))
        });
        let y = _mm512_set1_pd(Y);
        let (mut w, mut b) = (_mm512_set1_pd(W), _mm512_set1_pd(B));
        let mut dw = [_mm512_setzero_pd(); AVX512_CHAINS];
        let mut db = [_mm512_setzero_pd(); AVX512_CHAINS];
        for _ in 0..iterations {
            // SAFETY: an empty template: no instruction, no memory, no stack; the compiler only
            // loses track of w's and b's values.
            unsafe { asm!("/* {0} {1} */", inout(zmm_reg) w, inout(zmm_reg) b, options(nomem, nostack, preserves_flags)) };
            for k in 0..AVX512_CHAINS {
                let e = _mm512_sub_pd(_mm512_fmadd_pd(w, x[k], b), y);
                dw[k] = _mm512_fmadd_pd(e, x[k], dw[k]);
                db[k] = _mm512_add_pd(db[k], e);
            }
        }
        let mut total = 0.0;
        for k in 0..AVX512_CHAINS {
            total += _mm512_reduce_add_pd(_mm512_add_pd(dw[k], db[k]));
        }
        total
    }
}

#[cfg(test)]
impl ComputeCeiling {
    /// A ceiling whose samples all read `one` FLOP/s on one thread and `all` on `threads`, for
    /// tests of what is made of it.
    pub(crate) fn of_rates(one: f64, all: f64, threads: usize, cores: Option<usize>) -> ComputeCeiling {
        ComputeCeiling {
            instruction_set: Isa::Avx2Fma,
            flops_per_point: FLOPS_PER_POINT,
            threads,
            samples: 5,
            single_thread_flops_per_second: Spread { best: one, median: one, worst: one },
            all_threads_flops_per_second: Spread { best: all, median: all, worst: all },
            cores,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_fma_counts_as_two_flops() {
        assert_eq!(FLOPS_PER_POINT, 6.0);
    }

    #[test]
    fn every_instruction_set_does_the_same_arithmetic() {
        for isa in Isa::available() {
            let points = points_per_iteration(isa) as usize;
            let (mut dw, mut db) = (0.0, 0.0);
            for _ in 0..50 {
                for lane in 0..points {
                    let e = W * x_of(lane, 0.0) + B - Y;
                    dw += e * x_of(lane, 0.0);
                    db += e;
                }
            }
            // The same sums, up to the rounding of another summation order.
            let (got, want) = (gradient_arithmetic(isa, 50, 0.0), dw + db);
            assert!((got - want).abs() <= 1e-9 * want.abs(), "{isa:?}: {got} against {want}");
        }
    }

    #[test]
    fn the_ceiling_is_positive_and_finite() {
        let ceiling = measure_ceiling(2).expect("the probe runs");
        for spread in [ceiling.single_thread_flops_per_second, ceiling.all_threads_flops_per_second] {
            assert!(spread.worst > 0.0 && spread.worst <= spread.median && spread.median <= spread.best, "{spread:?}");
        }
        assert!(ceiling.ns_per_point(false).is_finite() && ceiling.ns_per_point(false) > 0.0);
    }
}
