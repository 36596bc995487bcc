//! The `simd` kernel: Σ e·x and Σ e in one pass with independent accumulators, as explicit AVX2+FMA
//! vectors when the CPU has them (detected at run time) and as plain Rust everywhere else.
//!
//! The independent accumulators matter as much as the vector width. A single running sum is a chain
//! of dependent adds, one per 3–4 cycles, however wide each add is, and the compiler may not
//! reassociate float sums to split the chain for us. So the sums are spread over 4 vectors of 4 lanes
//! (AVX2) or 8 scalars (portable) and combined once, in a fixed order, at the end: the result depends
//! only on the data and the instruction set, never on timing.

/// The environment variable that, set to anything but "" or "0", makes [`Isa::detect`] pick the
/// portable code even on a CPU with AVX2, so tests and benchmarks can run both paths on one machine.
pub const FORCE_PORTABLE_ENV: &str = "LINREG_FORCE_PORTABLE";

/// Which code the `simd` kernel sums with. An `Isa` that says AVX2+FMA can only be made on a CPU
/// that has both (see [`Isa::avx2_fma`]): that is what makes calling the AVX2 code sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Isa(IsaKind);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IsaKind {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

impl Isa {
    /// Plain Rust with 8 independent accumulators; runs anywhere.
    pub const PORTABLE: Isa = Isa(IsaKind::Portable);

    /// The best this CPU offers, unless [`FORCE_PORTABLE_ENV`] asks for the portable code.
    pub fn detect() -> Isa {
        let forced = std::env::var_os(FORCE_PORTABLE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
        if forced {
            Isa::PORTABLE
        } else {
            Isa::avx2_fma().unwrap_or(Isa::PORTABLE)
        }
    }

    /// Every instruction set this CPU can run, the portable one first: what tests and benchmarks
    /// compare.
    pub fn available() -> Vec<Isa> {
        [Some(Isa::PORTABLE), Isa::avx2_fma()].into_iter().flatten().collect()
    }

    /// AVX2 with FMA, if this CPU has both.
    pub fn avx2_fma() -> Option<Isa> {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Some(Isa(IsaKind::Avx2Fma));
        }
        None
    }

    /// "avx2-fma" or "portable".
    pub fn name(self) -> &'static str {
        match self.0 {
            IsaKind::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            IsaKind::Avx2Fma => "avx2-fma",
        }
    }
}

/// (Σ e_i·x_i, Σ e_i) with e_i = w·x_i + b − y_i. With AVX2+FMA, w·x_i + b and the products are
/// fused multiply-adds (one rounding instead of two), so the sums differ from the scalar kernel's in
/// the last bits, as they do anyway from summing in a different order.
pub fn gradient_sums(isa: Isa, x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    match isa.0 {
        IsaKind::Portable => portable_sums(x, y, w, b),
        // SAFETY: an `Isa` of this kind is only made by `Isa::avx2_fma`, after the CPU reported both
        // AVX2 and FMA; the lengths are equal (asserted above).
        #[cfg(target_arch = "x86_64")]
        IsaKind::Avx2Fma => unsafe { avx2::gradient_sums(x, y, w, b) },
    }
}

/// Independent accumulators of the portable code: enough to hide the add latency. Measured on
/// x86_64 (rustc 1.95, baseline SSE2): LLVM does not turn the lanes into vectors, it pairs each
/// lane's two sums in one register instead, so this runs at ~2 cycles a point (bound by the adds:
/// 4 a point on 2 ports), 1.5·10^9 points/s here against 8.4·10^9 for AVX2, but still ~1.4× the
/// scalar kernel and close to one core's memory bandwidth on data that does not fit in cache.
const PORTABLE_LANES: usize = 8;

fn portable_sums(x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
    let mut sum_ex = [0.0f64; PORTABLE_LANES];
    let mut sum_e = [0.0f64; PORTABLE_LANES];
    let mut x_blocks = x.chunks_exact(PORTABLE_LANES);
    let mut y_blocks = y.chunks_exact(PORTABLE_LANES);
    for (xb, yb) in (&mut x_blocks).zip(&mut y_blocks) {
        for k in 0..PORTABLE_LANES {
            let e = w * xb[k] + b - yb[k];
            sum_ex[k] += e * xb[k];
            sum_e[k] += e;
        }
    }
    let (tail_ex, tail_e) = super::scalar::gradient_sums(x_blocks.remainder(), y_blocks.remainder(), w, b);
    (pairwise_sum(sum_ex) + tail_ex, pairwise_sum(sum_e) + tail_e)
}

/// ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)): a fixed order, so a fixed result.
fn pairwise_sum(a: [f64; PORTABLE_LANES]) -> f64 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// f64 lanes in one AVX2 vector.
    const WIDTH: usize = 4;
    /// Independent vector accumulators for each sum: 4 hide the 3–4 cycle latency of the adds at two
    /// vector ops a cycle; 8 of the 16 ymm registers hold them, leaving room for x, y and e.
    const ACCUMULATORS: usize = 4;
    const BLOCK: usize = WIDTH * ACCUMULATORS;

    /// The AVX2+FMA sums: blocks of 16 points into 4+4 accumulators, then the remaining whole vectors
    /// into the first pair, then fewer than 4 points with the scalar code.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA, and `x` and `y` must have the same length.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gradient_sums(x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
        debug_assert_eq!(x.len(), y.len());
        let w_v = _mm256_set1_pd(w);
        let b_v = _mm256_set1_pd(b);
        let mut sum_ex = [_mm256_setzero_pd(); ACCUMULATORS];
        let mut sum_e = [_mm256_setzero_pd(); ACCUMULATORS];

        let mut x_blocks = x.chunks_exact(BLOCK);
        let mut y_blocks = y.chunks_exact(BLOCK);
        for (xb, yb) in (&mut x_blocks).zip(&mut y_blocks) {
            for k in 0..ACCUMULATORS {
                // SAFETY: both blocks hold BLOCK = ACCUMULATORS·WIDTH values, so the WIDTH values
                // from k·WIDTH are in bounds; loadu has no alignment requirement.
                let (x_v, y_v) = unsafe { (_mm256_loadu_pd(xb.as_ptr().add(k * WIDTH)), _mm256_loadu_pd(yb.as_ptr().add(k * WIDTH))) };
                let e = _mm256_sub_pd(_mm256_fmadd_pd(w_v, x_v, b_v), y_v);
                sum_ex[k] = _mm256_fmadd_pd(e, x_v, sum_ex[k]);
                sum_e[k] = _mm256_add_pd(sum_e[k], e);
            }
        }

        let mut x_vectors = x_blocks.remainder().chunks_exact(WIDTH);
        let mut y_vectors = y_blocks.remainder().chunks_exact(WIDTH);
        for (xv, yv) in (&mut x_vectors).zip(&mut y_vectors) {
            // SAFETY: both chunks hold exactly WIDTH values.
            let (x_v, y_v) = unsafe { (_mm256_loadu_pd(xv.as_ptr()), _mm256_loadu_pd(yv.as_ptr())) };
            let e = _mm256_sub_pd(_mm256_fmadd_pd(w_v, x_v, b_v), y_v);
            sum_ex[0] = _mm256_fmadd_pd(e, x_v, sum_ex[0]);
            sum_e[0] = _mm256_add_pd(sum_e[0], e);
        }

        let (tail_ex, tail_e) = super::super::scalar::gradient_sums(x_vectors.remainder(), y_vectors.remainder(), w, b);
        (horizontal_sum(sum_ex) + tail_ex, horizontal_sum(sum_e) + tail_e)
    }

    /// The accumulators folded pairwise, then the 4 lanes as (l0 + l1) + (l2 + l3).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn horizontal_sum(acc: [__m256d; ACCUMULATORS]) -> f64 {
        let v = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
        let mut lanes = [0.0f64; WIDTH];
        // SAFETY: `lanes` has room for exactly WIDTH f64; storeu has no alignment requirement.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), v) };
        (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::scalar;
    use proptest::prelude::*;

    /// |got − want| against what reordering and fusing can change: a few ulps of Σ|term| per term.
    fn assert_close(got: (f64, f64), want: (f64, f64), x: &[f64], y: &[f64], w: f64, b: f64) {
        let magnitude_ex: f64 = x.iter().zip(y).map(|(&xi, &yi)| ((w * xi).abs() + b.abs() + yi.abs()) * xi.abs()).sum();
        let magnitude_e: f64 = x.iter().zip(y).map(|(&xi, &yi)| (w * xi).abs() + b.abs() + yi.abs()).sum();
        let tolerance = 4.0 * f64::EPSILON * x.len() as f64;
        assert!((got.0 - want.0).abs() <= tolerance * magnitude_ex, "Σe·x {} vs {}", got.0, want.0);
        assert!((got.1 - want.1).abs() <= tolerance * magnitude_e, "Σe {} vs {}", got.1, want.1);
    }

    #[test]
    fn the_avx2_path_is_found_on_a_cpu_that_has_it() {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            assert_eq!(Isa::avx2_fma().map(Isa::name), Some("avx2-fma"));
        }
        assert_eq!(Isa::PORTABLE.name(), "portable");
    }

    #[test]
    fn every_length_around_the_block_sizes_sums_like_scalar() {
        for n in 0..=70 {
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
            let y: Vec<f64> = x.iter().enumerate().map(|(i, &xi)| 2.0 * xi - 1.0 + (i as f64).cos()).collect();
            let want = scalar::gradient_sums(&x, &y, 0.7, -0.2);
            for isa in Isa::available() {
                assert_close(gradient_sums(isa, &x, &y, 0.7, -0.2), want, &x, &y, 0.7, -0.2);
            }
        }
    }

    #[test]
    fn exact_sums_are_exact() {
        // Small integers: every product and partial sum is exact, so any order gives the same.
        let x: Vec<f64> = (0..37).map(|i| (i % 7) as f64).collect();
        let y: Vec<f64> = (0..37).map(|i| (i % 5) as f64).collect();
        let want = scalar::gradient_sums(&x, &y, 2.0, 1.0);
        for isa in Isa::available() {
            assert_eq!(gradient_sums(isa, &x, &y, 2.0, 1.0), want, "{}", isa.name());
        }
    }

    proptest! {
        #[test]
        fn sums_agree_with_scalar(
            points in prop::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 0..300),
            w in -10.0f64..10.0, b in -10.0f64..10.0,
        ) {
            let (x, y): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
            let want = scalar::gradient_sums(&x, &y, w, b);
            for isa in Isa::available() {
                assert_close(gradient_sums(isa, &x, &y, w, b), want, &x, &y, w, b);
            }
        }
    }
}
