//! Gradient descent: the fit loop shared by every kernel, and the kernels themselves.
//!
//! A kernel computes the two gradient sums of one epoch, Σ e_i·x_i and Σ e_i; the loop around it
//! (update, divergence check, final MSE) is the same for all kernels so they differ only in how
//! they sum.

use std::fmt;

/// How the per-epoch gradient sums are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The plain loop: the same algorithm as the NumPy reference, one pass, no tricks.
    Scalar,
}

impl Kernel {
    pub const ALL: [Kernel; 1] = [Kernel::Scalar];

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
        }
    }

    /// (Σ e_i·x_i, Σ e_i) with e_i = w·x_i + b − y_i.
    fn gradient_sums(self, x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
        match self {
            Kernel::Scalar => scalar_sums(x, y, w, b),
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn scalar_sums(x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
    let mut sum_ex = 0.0;
    let mut sum_e = 0.0;
    for (&xi, &yi) in x.iter().zip(y) {
        let e = w * xi + b - yi;
        sum_ex += e * xi;
        sum_e += e;
    }
    (sum_ex, sum_e)
}

/// Whether the fit finished or ran away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitStatus {
    Ok,
    /// w or b stopped being finite after this epoch (1-based), or the final MSE is not finite
    /// (then the epoch is the last one).
    Diverged {
        at_epoch: u64,
    },
}

/// The outcome of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub w: f64,
    pub b: f64,
    /// (1/n)·Σ e_i² with the final w and b.
    pub mse: f64,
    pub epochs_run: u64,
    pub status: FitStatus,
}

/// Fits y = w·x + b from w = b = 0 by `epochs` full-batch gradient-descent steps.
///
/// `x` and `y` must have the same, non-zero length.
pub fn fit(x: &[f64], y: &[f64], epochs: u64, learning_rate: f64, kernel: Kernel) -> Fit {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    assert!(!x.is_empty(), "a fit needs at least one point");
    let n = x.len() as f64;
    let (mut w, mut b) = (0.0_f64, 0.0_f64);
    for epoch in 1..=epochs {
        let (sum_ex, sum_e) = kernel.gradient_sums(x, y, w, b);
        // 2·(Σ/n), the order `2 * np.mean(...)` rounds in, so every implementation overflows at
        // the same epoch.
        w -= learning_rate * (2.0 * (sum_ex / n));
        b -= learning_rate * (2.0 * (sum_e / n));
        if !(w.is_finite() && b.is_finite()) {
            return Fit { w, b, mse: mse(x, y, w, b), epochs_run: epoch, status: FitStatus::Diverged { at_epoch: epoch } };
        }
    }
    let final_mse = mse(x, y, w, b);
    let status = if final_mse.is_finite() { FitStatus::Ok } else { FitStatus::Diverged { at_epoch: epochs } };
    Fit { w, b, mse: final_mse, epochs_run: epochs, status }
}

/// Mean squared error (1/n)·Σ (w·x_i + b − y_i)².
pub fn mse(x: &[f64], y: &[f64], w: f64, b: f64) -> f64 {
    let sum: f64 = x.iter().zip(y).map(|(&xi, &yi)| (w * xi + b - yi).powi(2)).sum();
    sum / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const X: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
    const Y: [f64; 5] = [2.0, 4.0, 6.0, 8.0, 10.0];

    fn rel_err(got: f64, want: f64) -> f64 {
        (got - want).abs() / want.abs().max(f64::MIN_POSITIVE)
    }

    #[test]
    fn reproduces_the_test_vector() {
        for kernel in Kernel::ALL {
            let f = fit(&X, &Y, 1000, 0.01, kernel);
            assert_eq!(f.status, FitStatus::Ok);
            assert!(rel_err(f.w, 1.995180350672) < 1e-9, "{kernel}: w = {}", f.w);
            assert!(rel_err(f.b, 0.017400463341) < 1e-9, "{kernel}: b = {}", f.b);
            assert_eq!(f.epochs_run, 1000);
            assert!(f.mse > 0.0 && f.mse < 1e-3, "mse = {}", f.mse);
        }
    }

    #[test]
    fn too_large_a_learning_rate_diverges_and_says_when() {
        let f = fit(&X, &Y, 100_000, 1.0, Kernel::Scalar);
        match f.status {
            FitStatus::Diverged { at_epoch } => {
                assert_eq!(f.epochs_run, at_epoch);
                assert!(at_epoch > 10 && at_epoch < 1000, "diverged at {at_epoch}");
            }
            FitStatus::Ok => panic!("lr = 1 should diverge, got {f:?}"),
        }
    }

    #[test]
    fn a_single_point_fits() {
        let f = fit(&[3.0], &[7.0], 5000, 0.01, Kernel::Scalar);
        assert_eq!(f.status, FitStatus::Ok);
        assert!((f.w * 3.0 + f.b - 7.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn a_fit_is_deterministic(xs in prop::collection::vec(-100.0f64..100.0, 1..200), seed in 0u64..1000) {
            let ys: Vec<f64> = xs.iter().map(|x| 0.5 * x + (seed as f64).sin()).collect();
            let a = fit(&xs, &ys, 50, 1e-4, Kernel::Scalar);
            let b = fit(&xs, &ys, 50, 1e-4, Kernel::Scalar);
            prop_assert_eq!(a.w.to_bits(), b.w.to_bits());
            prop_assert_eq!(a.b.to_bits(), b.b.to_bits());
        }

        /// With x spread over [-1, 1] the problem is well conditioned: GD at lr 0.2 contracts fast
        /// and 4000 epochs reach the OLS optimum to near machine precision.
        #[test]
        fn gradient_descent_approaches_ols(
            xs in prop::collection::vec(-1.0f64..1.0, 8..64),
            slope in -5.0f64..5.0, intercept in -5.0f64..5.0,
            noise in prop::collection::vec(-0.1f64..0.1, 64),
        ) {
            let spread = xs.iter().cloned().fold(f64::MIN, f64::max) - xs.iter().cloned().fold(f64::MAX, f64::min);
            prop_assume!(spread > 0.5);
            let ys: Vec<f64> = xs.iter().zip(&noise).map(|(x, e)| slope * x + intercept + e).collect();
            let f = fit(&xs, &ys, 4000, 0.2, Kernel::Scalar);
            let opt = crate::ols(&xs, &ys).expect("x has spread");
            prop_assert!((f.w - opt.w).abs() < 1e-8, "w {} vs ols {}", f.w, opt.w);
            prop_assert!((f.b - opt.b).abs() < 1e-8, "b {} vs ols {}", f.b, opt.b);
            prop_assert!(f.mse >= opt.mse - 1e-12);
        }
    }
}
