//! The sum of squared errors Σ (w·x_i + b − y_i)² behind every fit's final MSE: one code for
//! every machine, in lanes so that it runs at the speed of an epoch's sums.

/// Interleaved partial sums of [`squared_errors`]: two AVX-512 registers, four AVX2 ones, eight
/// SSE2 ones, enough independent additions to hide their latency on any of them.
const MSE_LANES: usize = 16;

/// Σ (w·x_i + b − y_i)², the sum of a fit's final MSE (`fit::mse`), and of each block's share
/// of it on the parallel kernel's pool.
///
/// Summed in [`MSE_LANES`] interleaved partial sums, added in a fixed order at the end, compiled
/// for the widest vector set the CPU has: the same operations in the same order on every machine,
/// so the same bits (no fused multiply-add: Rust never contracts). One running sum waited on every
/// addition's latency, which made this pass — part of every fit's time, after its last epoch
/// (docs/protocol.md) — slower than an epoch of the vector kernels. On an Emerald Rapids (family
/// 6 model 207, AVX-512), one process timing each in turn: 0.70–0.96 ns a point at 10^4 against
/// 0.20–0.23 for an epoch of rust-simd; summed in lanes, 0.30. At 10^7, where memory is the limit,
/// 1.41 → 1.30 ns against 0.95–0.97 an epoch: there the pass stays (a fit of 20 epochs is 21 passes
/// over the data, which the report's limit counts).
pub fn squared_errors(x: &[f64], y: &[f64], w: f64, b: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return unsafe { squared_errors_avx512(x, y, w, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { squared_errors_avx2(x, y, w, b) };
        }
    }
    in_lanes(x, y, w, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn squared_errors_avx512(x: &[f64], y: &[f64], w: f64, b: f64) -> f64 {
    in_lanes(x, y, w, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn squared_errors_avx2(x: &[f64], y: &[f64], w: f64, b: f64) -> f64 {
    in_lanes(x, y, w, b)
}

#[inline(always)]
fn in_lanes(x: &[f64], y: &[f64], w: f64, b: f64) -> f64 {
    let squared_error = |xi: f64, yi: f64| {
        let e = w * xi + b - yi;
        e * e
    };
    let mut partial = [0.0_f64; MSE_LANES];
    let (x_chunks, y_chunks) = (x.chunks_exact(MSE_LANES), y.chunks_exact(MSE_LANES));
    let (x_tail, y_tail) = (x_chunks.remainder(), y_chunks.remainder());
    for (xc, yc) in x_chunks.zip(y_chunks) {
        for lane in 0..MSE_LANES {
            partial[lane] += squared_error(xc[lane], yc[lane]);
        }
    }
    let tail: f64 = x_tail.iter().zip(y_tail).map(|(&xi, &yi)| squared_error(xi, yi)).sum();
    // Halves added pairwise, lane i with lane i + width: a fixed tree.
    let mut width = MSE_LANES / 2;
    while width > 0 {
        for lane in 0..width {
            partial[lane] += partial[lane + width];
        }
        width /= 2;
    }
    partial[0] + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sum_has_the_same_bits_on_every_instruction_set_and_the_plain_sum_s_value() {
        let x: Vec<f64> = (0..1037).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
        let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| 2.0 * v + 0.5 + (i as f64 * 0.11).cos()).collect();
        for len in [1, 7, 15, 16, 17, 33, 1037] {
            let (x, y) = (&x[..len], &y[..len]);
            let portable = in_lanes(x, y, 1.9, 0.4);
            assert_eq!(squared_errors(x, y, 1.9, 0.4).to_bits(), portable.to_bits(), "n = {len}");
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2.
                    assert_eq!(unsafe { squared_errors_avx2(x, y, 1.9, 0.4) }.to_bits(), portable.to_bits(), "avx2, n = {len}");
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F.
                    assert_eq!(unsafe { squared_errors_avx512(x, y, 1.9, 0.4) }.to_bits(), portable.to_bits(), "avx512, n = {len}");
                }
            }
            let plain = x.iter().zip(y).map(|(&xi, &yi)| (1.9 * xi + 0.4 - yi).powi(2)).sum::<f64>();
            assert!(rel_err(portable, plain) < 1e-13, "n = {len}: {portable} vs {plain}");
        }
    }

    fn rel_err(got: f64, want: f64) -> f64 {
        (got - want).abs() / want.abs().max(f64::MIN_POSITIVE)
    }
}
