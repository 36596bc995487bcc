//! The ordinary-least-squares optimum in closed form: the exact answer gradient descent converges
//! to, used to show how far a given number of epochs got.

/// The least-squares line and its mean squared error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ols {
    pub w: f64,
    pub b: f64,
    pub mse: f64,
}

/// w = Σ(x−x̄)(y−ȳ) / Σ(x−x̄)², b = ȳ − w·x̄, with centred sums (the naive Σx² − n·x̄² cancels
/// catastrophically when x̄ is large next to the spread). `None` when x has no spread (all equal)
/// or the lengths differ or are zero.
pub fn ols(x: &[f64], y: &[f64]) -> Option<Ols> {
    if x.len() != y.len() || x.is_empty() {
        return None;
    }
    let n = x.len() as f64;
    let x_mean = x.iter().sum::<f64>() / n;
    let y_mean = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (&xi, &yi) in x.iter().zip(y) {
        let dx = xi - x_mean;
        sxy += dx * (yi - y_mean);
        sxx += dx * dx;
    }
    if sxx == 0.0 || !sxx.is_finite() {
        return None;
    }
    let w = sxy / sxx;
    let b = y_mean - w * x_mean;
    Some(Ols { w, b, mse: crate::fit::mse(x, y, w, b) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_seed_data_is_an_exact_line() {
        let o = ols(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap();
        assert_eq!((o.w, o.b, o.mse), (2.0, 0.0, 0.0));
    }

    #[test]
    fn no_spread_has_no_line() {
        assert!(ols(&[3.0, 3.0], &[1.0, 2.0]).is_none());
        assert!(ols(&[], &[]).is_none());
    }

    #[test]
    fn centred_sums_survive_a_large_offset() {
        // x around 1e8 with unit spread: Σx² − n·x̄² loses every digit here.
        let x: Vec<f64> = (0..100).map(|i| 1e8 + i as f64).collect();
        let y: Vec<f64> = x.iter().map(|x| 3.0 * (x - 1e8) + 1.0).collect();
        let o = ols(&x, &y).unwrap();
        assert!((o.w - 3.0).abs() < 1e-9, "w = {}", o.w);
    }

    proptest! {
        #[test]
        fn recovers_a_known_line(
            w in -100i32..100, b in -100i32..100,
            xs in prop::collection::btree_set(-1000i32..1000, 2..100),
        ) {
            // Small integers: every product and sum is exact in f64, so the line is recovered exactly
            // up to the final division.
            let x: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
            let y: Vec<f64> = x.iter().map(|&v| w as f64 * v + b as f64).collect();
            let o = ols(&x, &y).unwrap();
            prop_assert!((o.w - w as f64).abs() <= 1e-12 * (w.abs() as f64).max(1.0), "w {} want {}", o.w, w);
            prop_assert!((o.b - b as f64).abs() <= 1e-9 * (b.abs() as f64).max(1.0), "b {} want {}", o.b, b);
        }
    }
}
