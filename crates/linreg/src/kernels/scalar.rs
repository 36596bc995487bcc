//! The `scalar` kernel: the plain loop, the same algorithm as the NumPy reference, one pass, no
//! tricks but one that changes no result (`unpaired`: how the compiler may lay out the two sums).
//! Its sums are the reference the other kernels are tested against.

use super::unpaired;

/// (Σ e_i·x_i, Σ e_i) with e_i = w·x_i + b − y_i, summed left to right.
pub fn gradient_sums(x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
    let mut sum_ex = 0.0;
    let mut sum_e = 0.0;
    for (&xi, &yi) in x.iter().zip(y) {
        let e = w * xi + b - yi;
        sum_ex += e * xi;
        // The two sums in two registers, not one (see `unpaired`).
        sum_e = unpaired(sum_e + e);
    }
    (sum_ex, sum_e)
}
