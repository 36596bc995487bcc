//! The `simd` kernel: Σ e·x and Σ e in one pass with independent accumulators, as explicit AVX-512
//! or AVX2+FMA vectors when the CPU has them (detected at run time) and as plain Rust everywhere
//! else.
//!
//! The independent accumulators matter as much as the vector width. A single running sum is a chain
//! of dependent adds, one per 3–4 cycles, however wide each add is, and the compiler may not
//! reassociate float sums to split the chain for us. So the sums are spread over 4 vectors of 8
//! lanes (AVX-512), 4 vectors of 4 lanes (AVX2) or 8 scalars (portable) and combined once, in a
//! fixed order, at the end: the result depends only on the data and the instruction set, never on
//! timing.

use std::fmt;

use crate::placement::LINE_VALUES;

/// Which code the `simd` kernel sums with. An `Isa` that names vector instructions can only be made
/// on a CPU that has them (see [`Isa::avx512`], [`Isa::avx2_fma`]): that is what makes calling the
/// vector code sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Isa(IsaKind);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IsaKind {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// `--isa` named an instruction set this CPU cannot run, or none at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsaError {
    #[error("unknown instruction set '{0}' (known: {known})", known = Isa::NAMES.join(", "))]
    Unknown(String),
    /// As `Unknown`, where "auto" is accepted too (`--isa`, see `IsaChoice`).
    #[error("unknown instruction set '{0}' (known: auto, {known})", known = Isa::NAMES.join(", "))]
    UnknownChoice(String),
    #[error("this CPU cannot run {0} (it has: {have})", have = Isa::available().iter().map(|isa| isa.name()).collect::<Vec<_>>().join(", "))]
    Unsupported(&'static str),
}

impl Isa {
    /// Plain Rust with 8 independent accumulators; runs anywhere.
    pub const PORTABLE: Isa = Isa(IsaKind::Portable);

    /// The names [`Isa::by_name`] accepts, widest first.
    pub const NAMES: [&'static str; 3] = ["avx512", "avx2", "portable"];

    /// The widest instruction set this CPU offers: AVX-512, else AVX2+FMA, else portable.
    pub fn detect() -> Isa {
        Isa::avx512().or_else(Isa::avx2_fma).unwrap_or(Isa::PORTABLE)
    }

    /// The instruction set called `name` ("avx512", "avx2" or "portable"), if this CPU can run it.
    pub fn by_name(name: &str) -> Result<Isa, IsaError> {
        let isa = match name {
            "portable" => Some(Isa::PORTABLE),
            "avx2" => Isa::avx2_fma(),
            "avx512" => Isa::avx512(),
            _ => return Err(IsaError::Unknown(name.to_string())),
        };
        isa.ok_or(match name {
            "avx2" => IsaError::Unsupported("avx2 (AVX2 with FMA)"),
            _ => IsaError::Unsupported("avx512 (AVX-512F)"),
        })
    }

    /// Every instruction set this CPU can run, the portable one first: what tests and benchmarks
    /// compare.
    pub fn available() -> Vec<Isa> {
        [Some(Isa::PORTABLE), Isa::avx2_fma(), Isa::avx512()].into_iter().flatten().collect()
    }

    /// AVX2 with FMA, if this CPU has both.
    pub fn avx2_fma() -> Option<Isa> {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Some(Isa(IsaKind::Avx2Fma));
        }
        None
    }

    /// AVX-512 Foundation (512-bit vectors, FMA included), if this CPU has it.
    pub fn avx512() -> Option<Isa> {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx512f") {
            return Some(Isa(IsaKind::Avx512));
        }
        None
    }

    /// Points in one vector of this set (for the portable code, one round of its lanes): fewer
    /// than that past the head, and the vector code has nothing to sum.
    fn lanes(self) -> usize {
        match self.0 {
            IsaKind::Portable => PORTABLE_LANES,
            #[cfg(target_arch = "x86_64")]
            IsaKind::Avx2Fma => avx2::WIDTH,
            #[cfg(target_arch = "x86_64")]
            IsaKind::Avx512 => avx512::WIDTH,
        }
    }

    /// "avx512", "avx2" (AVX2 with FMA) or "portable": the name `--isa` takes.
    pub fn name(self) -> &'static str {
        match self.0 {
            IsaKind::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            IsaKind::Avx2Fma => "avx2",
            #[cfg(target_arch = "x86_64")]
            IsaKind::Avx512 => "avx512",
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// (Σ e_i·x_i, Σ e_i) with e_i = w·x_i + b − y_i. With AVX-512 or AVX2+FMA, w·x_i + b and the
/// products are fused multiply-adds (one rounding instead of two), so the sums differ from the
/// scalar kernel's in the last bits, as they do anyway from summing in a different order.
///
/// The vector code starts where x reaches a cache-line (64-byte) boundary, the points before it go
/// to the scalar code: a load that straddles two lines costs two, and the allocator's 16-byte
/// alignment would make every 64-byte load straddle one, and every other 32-byte one. Measured on
/// Zen 5, x and y both 16 bytes past a line: AVX2 at 10^4 points 0.089 → 0.075 ns a point; AVX-512
/// at 10^3 (in L1) 0.058 → 0.040. The `linreg` binary reads its data as [`crate::Columns`], where x
/// and y both start on a line (no head); where a caller's y does not share x's offset within a
/// line, its loads straddle and only speed suffers. So the sums also depend on where x lies modulo
/// 64 bytes, in the last bits (as they depend on the instruction set), except in a `Columns`.
///
/// Data that leaves not one whole vector past the head (fewer than 8 points with AVX-512 or the
/// portable code, 4 with AVX2, wherever they lie) is the scalar kernel's: the same loop, the same
/// bits. The vector code would sum nothing and still pay its set-up and its reduction, a chain of
/// adds on every epoch's path: at 5 points (Emerald Rapids, family 6 model 207, `linreg --fits
/// 300`, 5 alternating processes) 25.1 ns an epoch with AVX-512 against the scalar loop's 16.4.
pub fn gradient_sums(isa: Isa, x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
    sums_with(isa, x, y, w, b, false)
}

/// [`gradient_sums`], to the same bits, with a software prefetch of each line of x and y
/// [`PREFETCH_AHEAD_POINTS`] ahead of the loads: the first 32 lines of a call (in the parallel
/// kernel, a block) are not prefetched, and the prefetches of its last 32 land past its end. The
/// portable code has none: it is [`gradient_sums`] itself. For data the L2 holds only in part, as
/// the parallel kernel's halves a little larger than a core's L2, read back and forth: lines
/// missing from all over the L2, which no hardware prefetcher predicts, and each miss waits with
/// the four vector operations a vector of points that depend on it, where a lighter loop (the
/// bandwidth probe's two) keeps more misses in flight. A thread of the parallel kernel chooses it
/// by timing (see `parallel::PrefetchChoice`). Measured on an Emerald Rapids (family 6 model 207, 2 MiB L2 a
/// core), two threads each summing its half in blocks back and forth, 5 alternating rounds of 10^9
/// point-epochs: 0.87× the time at 2.8·10^5 points, 0.91× at 3·10^5, level at 4·10^5 and 10^6, but
/// 1.05–1.08× at 10^5, where every line is in the L2 and a prefetch is an instruction more a line.
pub fn gradient_sums_prefetching(isa: Isa, x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
    sums_with(isa, x, y, w, b, true)
}

/// How far ahead of the loads [`gradient_sums_prefetching`] prefetches: 32 lines of each column.
/// Measured as there, at 2.8·10^5 points: 4 lines ahead 0.98× the time without prefetching, 8
/// lines 0.95×, 16 0.91×, 32 and 64 0.89× (the bandwidth probe's loop, which prefetching does not
/// speed up, 0.88×).
pub const PREFETCH_AHEAD_POINTS: usize = 32 * LINE_VALUES;

// Where no vector code is compiled in (any CPU but x86_64), every `Isa` is the portable one and
// the match below always returns: what follows it is then unreachable, by design.
#[cfg_attr(not(target_arch = "x86_64"), allow(unreachable_code, unused_variables))]
fn sums_with(isa: Isa, x: &[f64], y: &[f64], w: f64, b: f64, prefetch: bool) -> (f64, f64) {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    let vector_sums: SumsFn = match (isa.0, prefetch) {
        (IsaKind::Portable, _) => return portable_sums(x, y, w, b),
        // SAFETY: an `Isa` of this kind is only made by `Isa::avx2_fma`, after the CPU reported both
        // AVX2 and FMA; the lengths are equal (asserted above, and split at the same index below).
        #[cfg(target_arch = "x86_64")]
        (IsaKind::Avx2Fma, false) => |x, y, w, b| unsafe { avx2::gradient_sums::<false>(x, y, w, b) },
        #[cfg(target_arch = "x86_64")]
        (IsaKind::Avx2Fma, true) => |x, y, w, b| unsafe { avx2::gradient_sums::<true>(x, y, w, b) },
        // SAFETY: as above, made only by `Isa::avx512` after the CPU reported AVX-512F.
        #[cfg(target_arch = "x86_64")]
        (IsaKind::Avx512, false) => |x, y, w, b| unsafe { avx512::gradient_sums::<false>(x, y, w, b) },
        #[cfg(target_arch = "x86_64")]
        (IsaKind::Avx512, true) => |x, y, w, b| unsafe { avx512::gradient_sums::<true>(x, y, w, b) },
    };
    let head = x.as_ptr().align_offset(CACHE_LINE_BYTES).min(x.len());
    if x.len() - head < isa.lanes() {
        return super::scalar::gradient_sums(x, y, w, b);
    }
    let (head_ex, head_e) = super::scalar::gradient_sums(&x[..head], &y[..head], w, b);
    let (body_ex, body_e) = vector_sums(&x[head..], &y[head..], w, b);
    (head_ex + body_ex, head_e + body_e)
}

const CACHE_LINE_BYTES: usize = 64;

/// A summing function of one instruction set: (x, y, w, b) → (Σ e·x, Σ e).
type SumsFn = fn(&[f64], &[f64], f64, f64) -> (f64, f64);

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

/// Prefetches, into the L1, the lines of x and y [`PREFETCH_AHEAD_POINTS`] past the start of a
/// block of `POINTS` of each (`POINTS` a whole number of lines: the vector loops' blocks). A
/// prefetch never faults, so the addresses may lie past the data's end; `wrapping_add` computes
/// them without claiming they lie inside it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch_ahead<const POINTS: usize>(x: &[f64], y: &[f64]) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    for line in 0..POINTS.div_ceil(LINE_VALUES) {
        let ahead = PREFETCH_AHEAD_POINTS + line * LINE_VALUES;
        // SAFETY: a prefetch is a hint: it reads nothing into the program and never faults.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(x.as_ptr().wrapping_add(ahead).cast());
            _mm_prefetch::<_MM_HINT_T0>(y.as_ptr().wrapping_add(ahead).cast());
        }
    }
}

/// One vector instruction set's sums, written once for both widths: blocks of `ACCUMULATORS`
/// vectors of points into as many pairs of accumulators, then the remaining whole vectors into
/// the first pair, then fewer points than a vector holds with the scalar code; at the end the
/// accumulators folded pairwise and the lanes pairwise (`lanes`, spelled out per width so that
/// the compiler keeps the order): a fixed order, so a fixed result. Each module's `gradient_sums`
/// may be called only where the CPU has the module's `features` (see [`Isa`]), with `x` and `y`
/// of the same length.
#[cfg(target_arch = "x86_64")]
macro_rules! vector_sums {
    (
        $(#[$doc:meta])*
        mod $name:ident {
            features: $features:literal,
            vector: $vector:ident,
            $(#[$width_doc:meta])*
            width: $width:literal,
            $(#[$accumulators_doc:meta])*
            accumulators: $accumulators:literal,
            intrinsics: [$set1:ident, $zero:ident, $load:ident, $store:ident, $fmadd:ident, $add:ident, $sub:ident],
            lanes: |$lanes:ident| $fold:expr $(,)?
        }
    ) => {
        $(#[$doc])*
        mod $name {
            use std::arch::x86_64::*;

            $(#[$width_doc])*
            pub(super) const WIDTH: usize = $width;
            $(#[$accumulators_doc])*
            const ACCUMULATORS: usize = $accumulators;
            const BLOCK: usize = WIDTH * ACCUMULATORS;
            const _: () = assert!(ACCUMULATORS == 4, "horizontal_sum folds four accumulators");

            /// # Safety
            /// The CPU must support this module's instruction set, and `x` and `y` must have the
            /// same length.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn gradient_sums<const PREFETCH: bool>(x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
                debug_assert_eq!(x.len(), y.len());
                let w_v = $set1(w);
                let b_v = $set1(b);
                let mut sum_ex = [$zero(); ACCUMULATORS];
                let mut sum_e = [$zero(); ACCUMULATORS];

                let mut x_blocks = x.chunks_exact(BLOCK);
                let mut y_blocks = y.chunks_exact(BLOCK);
                for (xb, yb) in (&mut x_blocks).zip(&mut y_blocks) {
                    if PREFETCH {
                        super::prefetch_ahead::<BLOCK>(xb, yb);
                    }
                    for k in 0..ACCUMULATORS {
                        // SAFETY: both blocks hold BLOCK = ACCUMULATORS·WIDTH values, so the WIDTH
                        // values from k·WIDTH are in bounds; loadu has no alignment requirement.
                        let (x_v, y_v) = unsafe { ($load(xb.as_ptr().add(k * WIDTH)), $load(yb.as_ptr().add(k * WIDTH))) };
                        let e = $sub($fmadd(w_v, x_v, b_v), y_v);
                        sum_ex[k] = $fmadd(e, x_v, sum_ex[k]);
                        sum_e[k] = $add(sum_e[k], e);
                    }
                }

                let mut x_vectors = x_blocks.remainder().chunks_exact(WIDTH);
                let mut y_vectors = y_blocks.remainder().chunks_exact(WIDTH);
                for (xv, yv) in (&mut x_vectors).zip(&mut y_vectors) {
                    // SAFETY: both chunks hold exactly WIDTH values.
                    let (x_v, y_v) = unsafe { ($load(xv.as_ptr()), $load(yv.as_ptr())) };
                    let e = $sub($fmadd(w_v, x_v, b_v), y_v);
                    sum_ex[0] = $fmadd(e, x_v, sum_ex[0]);
                    sum_e[0] = $add(sum_e[0], e);
                }

                let (tail_ex, tail_e) = super::super::scalar::gradient_sums(x_vectors.remainder(), y_vectors.remainder(), w, b);
                (horizontal_sum(sum_ex) + tail_ex, horizontal_sum(sum_e) + tail_e)
            }

            /// The accumulators folded pairwise, then the lanes in the module's fixed order (not a
            /// reduce intrinsic, whose order is the compiler's).
            #[target_feature(enable = $features)]
            fn horizontal_sum(acc: [$vector; ACCUMULATORS]) -> f64 {
                let v = $add($add(acc[0], acc[1]), $add(acc[2], acc[3]));
                let mut $lanes = [0.0f64; WIDTH];
                // SAFETY: the array has room for exactly WIDTH f64; storeu has no alignment
                // requirement.
                unsafe { $store($lanes.as_mut_ptr(), v) };
                $fold
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
vector_sums! {
    /// The AVX2+FMA sums: blocks of 16 points into 4+4 accumulators.
    mod avx2 {
        features: "avx2,fma",
        vector: __m256d,
        /// f64 lanes in one AVX2 vector.
        width: 4,
        /// Independent vector accumulators for each sum: 4 hide the 3–4 cycle latency of the adds
        /// at two vector ops a cycle; 8 of the 16 ymm registers hold them, leaving room for x, y
        /// and e.
        accumulators: 4,
        intrinsics: [_mm256_set1_pd, _mm256_setzero_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_add_pd, _mm256_sub_pd],
        lanes: |lanes| (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]),
    }
}

#[cfg(target_arch = "x86_64")]
vector_sums! {
    /// The AVX-512 sums, shaped as the AVX2 ones: blocks of 32 points into 4+4 accumulators.
    mod avx512 {
        features: "avx512f",
        vector: __m512d,
        /// f64 lanes in one AVX-512 vector.
        width: 8,
        /// Independent vector accumulators for each sum. Zen 5 issues two 512-bit FMAs and two
        /// adds a cycle, so one vector of points a cycle (2 FMA + sub + add) with a 4-cycle FMA
        /// latency needs 4 chains in flight; 8 of the 32 zmm registers hold them.
        accumulators: 4,
        intrinsics: [_mm512_set1_pd, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_sub_pd],
        lanes: |lanes| ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])),
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
    fn the_vector_paths_are_found_on_a_cpu_that_has_them() {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                assert_eq!(Isa::avx2_fma().map(Isa::name), Some("avx2"));
                assert!(Isa::available().iter().any(|isa| isa.name() == "avx2"));
            }
            if is_x86_feature_detected!("avx512f") {
                assert_eq!(Isa::avx512().map(Isa::name), Some("avx512"));
                assert_eq!(Isa::detect().name(), "avx512", "the widest is the default");
            }
        }
        assert_eq!(Isa::PORTABLE.name(), "portable");
    }

    #[test]
    fn isas_are_found_by_name_or_refused() {
        for isa in Isa::available() {
            assert_eq!(Isa::by_name(isa.name()), Ok(isa));
        }
        assert_eq!(Isa::by_name("portable"), Ok(Isa::PORTABLE));
        assert_eq!(Isa::by_name("sse9"), Err(IsaError::Unknown("sse9".into())));
        assert!(Isa::by_name("sse9").unwrap_err().to_string().contains("known: avx512, avx2, portable"));
        if Isa::avx512().is_none() {
            assert!(matches!(Isa::by_name("avx512"), Err(IsaError::Unsupported(_))));
        }
    }

    #[test]
    fn every_length_around_the_block_sizes_sums_like_scalar() {
        for n in 0..=140 {
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
            let y: Vec<f64> = x.iter().enumerate().map(|(i, &xi)| 2.0 * xi - 1.0 + (i as f64).cos()).collect();
            let want = scalar::gradient_sums(&x, &y, 0.7, -0.2);
            for isa in Isa::available() {
                assert_close(gradient_sums(isa, &x, &y, 0.7, -0.2), want, &x, &y, 0.7, -0.2);
            }
        }
    }

    #[test]
    fn data_shorter_than_a_vector_sums_the_scalar_bits_wherever_it_lies() {
        // Offsets 0..8 points into a buffer put the data at every position within a cache line,
        // so before the head and after it; values that round differently summed in two parts.
        let values: Vec<f64> = (0..24).map(|i| (i as f64 * 0.731).sin() * 1e3 + 0.1).collect();
        for isa in Isa::available() {
            for offset in 0..8 {
                for n in 1..isa.lanes() {
                    let (x, y) = (&values[offset..offset + n], &values[offset + 8..offset + 8 + n]);
                    let want = scalar::gradient_sums(x, y, 0.3, -0.7);
                    assert_eq!(gradient_sums(isa, x, y, 0.3, -0.7), want, "{} n={n} offset={offset}", isa.name());
                }
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
        /// A prefetch is a hint: the same loads, the same arithmetic, the same bits, at lengths
        /// around and past the vector blocks and offsets of x within a line (the head), drawn at
        /// random.
        #[test]
        fn prefetching_sums_the_same_bits(
            points in prop::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 0..700),
            offset in 0usize..8,
            w in -10.0f64..10.0, b in -10.0f64..10.0,
        ) {
            let (x, y): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
            let (x, y) = (&x[offset.min(x.len())..], &y[offset.min(y.len())..]);
            for isa in Isa::available() {
                let plain = gradient_sums(isa, x, y, w, b);
                let prefetching = gradient_sums_prefetching(isa, x, y, w, b);
                prop_assert_eq!(plain.0.to_bits(), prefetching.0.to_bits(), "{}", isa.name());
                prop_assert_eq!(plain.1.to_bits(), prefetching.1.to_bits(), "{}", isa.name());
            }
        }

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
