//! Gradient descent: the fit loop shared by every kernel, and the `Kernel` choice.
//!
//! A kernel (in `crate::kernels`) computes the two gradient sums of one epoch, Σ e_i·x_i and Σ e_i;
//! the loop around it (update, divergence check, final MSE) is the same for all kernels so they
//! differ only in how they sum.

use std::fmt;

use crate::kernels::isa_choice::{IsaChoice, Picker};
use crate::kernels::parallel::{self, Descent, Threads};
use crate::kernels::prefetch_choice::Prefetching;
use crate::kernels::scalar;
use crate::kernels::simd;
use crate::kernels::squared_errors::squared_errors;
pub use crate::kernels::Ran;

/// How the per-epoch gradient sums are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The plain loop: the same algorithm as the NumPy reference, one pass, no tricks.
    Scalar,
    /// One pass with independent accumulators, as explicit SIMD on this instruction set.
    Simd(IsaChoice),
    /// The simd kernel over blocks of points on a pool of threads that lives for the whole fit.
    Parallel { threads: Threads, isa: IsaChoice },
}

impl Ran {
    /// `kernel`'s name with the instruction set its sums ran on: "scalar", "simd/avx2",
    /// "parallel/portable".
    pub fn label(&self, kernel: Kernel) -> String {
        match self.isa {
            Some(isa) => format!("{}/{}", kernel.name(), isa.name()),
            None => kernel.name().to_string(),
        }
    }
}

impl Kernel {
    /// The names `--kernel` accepts.
    pub const NAMES: [&'static str; 3] = ["scalar", "simd", "parallel"];

    /// The kernel called `name` as this machine runs it by default: the fastest of the CPU's vector
    /// instruction sets on the fit's data (see [`IsaChoice::Fastest`]) and, for `parallel`,
    /// `--threads auto`.
    pub fn by_name(name: &str) -> Option<Kernel> {
        match name {
            "scalar" => Some(Kernel::Scalar),
            "simd" => Some(Kernel::Simd(IsaChoice::Fastest)),
            "parallel" => Some(Kernel::Parallel { threads: Threads::Auto, isa: IsaChoice::Fastest }),
            _ => None,
        }
    }

    /// This kernel on instruction set `isa` (or `auto`); None for the scalar kernel, which has no
    /// choice.
    pub fn with_isa(self, isa: IsaChoice) -> Option<Kernel> {
        match self {
            Kernel::Scalar => None,
            Kernel::Simd(_) => Some(Kernel::Simd(isa)),
            Kernel::Parallel { threads, .. } => Some(Kernel::Parallel { threads, isa }),
        }
    }

    /// This kernel on `threads` threads; None for the kernels that sum on one.
    pub fn with_threads(self, threads: Threads) -> Option<Kernel> {
        match self {
            Kernel::Scalar | Kernel::Simd(_) => None,
            Kernel::Parallel { isa, .. } => Some(Kernel::Parallel { threads, isa }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Simd(_) => "simd",
            Kernel::Parallel { .. } => "parallel",
        }
    }

    /// The name with the instruction set as asked: "scalar", "simd/avx512", "parallel/auto"
    /// (what `auto` chose is in [`Ran::label`]).
    pub fn label(self) -> String {
        match self {
            Kernel::Scalar => self.name().to_string(),
            Kernel::Simd(isa) | Kernel::Parallel { isa, .. } => format!("{}/{}", self.name(), isa.name()),
        }
    }

    /// How many threads may sum a dataset of `n` points (the parallel kernel's `auto` may settle
    /// on one: [`Kernel::with_gradient_sums_ran`] says what it used).
    pub fn threads_used(self, n: usize) -> usize {
        match self {
            Kernel::Scalar | Kernel::Simd(_) => 1,
            Kernel::Parallel { threads, .. } => parallel::threads_used(n, threads),
        }
    }

    /// Runs `body` with this kernel's gradient sums over `x` and `y`: a function from (w, b) to
    /// (Σ e_i·x_i, Σ e_i) with e_i = w·x_i + b − y_i. Whatever the kernel needs for the whole fit
    /// (the parallel kernel's threads) is ready before `body` starts and lives exactly as long as
    /// it, so a caller that starts its clock inside `body` times the epochs alone.
    ///
    /// `epochs` is how many times `body` will call the sums (`u64::MAX` when unknown): `auto`'s
    /// choice of instruction set is timed for a share of the fit that long.
    pub fn with_gradient_sums<R>(
        self,
        x: &[f64],
        y: &[f64],
        epochs: u64,
        body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
    ) -> R {
        self.with_gradient_sums_ran(x, y, epochs, body).0
    }

    /// [`Kernel::with_gradient_sums`], and what the epochs ran on: the threads and instruction set
    /// that `auto` chose by timing the first epochs are known only afterwards. What the choosing
    /// takes is inside those epochs, so a caller's clock counts it.
    pub fn with_gradient_sums_ran<R>(
        self,
        x: &[f64],
        y: &[f64],
        epochs: u64,
        body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
    ) -> (R, Ran) {
        match self {
            Kernel::Parallel { threads, isa } if parallel::splits(x.len()) => {
                parallel::with_gradient_sums(x, y, threads, isa, epochs, body)
            }
            // One pass on the calling thread: the simd kernel, and the parallel one on data of one
            // block, said here and not only inside `parallel` so that `body` is inlined with the
            // sums: at 100 points (~30 ns an epoch) going through the pool's function cost ~60% more.
            _ => {
                let mut alone = Alone::new(self, x, y, epochs, Prefetching::for_points(x.len().min(y.len())));
                (body(&mut |w, b| alone.sums(w, b)), alone.ran())
            }
        }
    }

    /// Runs `body` with a function from (epochs, learning rate) to a fit of `x` and `y` by this
    /// kernel and what the fits so far ran on: [`descend`] with the kernel's sums, or, on the
    /// parallel kernel's pool, a descent every thread takes (each adds up every epoch and takes
    /// the step itself, so no thread waits for another's message to start an epoch: the same w
    /// and b, bit for bit). The threads live as in [`Kernel::with_gradient_sums`], and `epochs` is
    /// as there. Returns what `body` returned and what the fits ran on.
    pub fn with_fits<R>(
        self,
        x: &[f64],
        y: &[f64],
        epochs: u64,
        body: impl FnOnce(&mut dyn FnMut(u64, f64) -> (Fit, Ran)) -> R,
    ) -> (R, Ran) {
        self.with_fits_carrying(x, y, epochs, &mut Prefetching::for_points(x.len().min(y.len())), body)
    }

    /// [`Kernel::with_fits`], a fit on one thread taking its prefetch choice from `prefetching`
    /// and leaving it there for the next call: a `Trainer`'s fits go on with the choice its first
    /// fits made, as `linreg --fits K`'s do, rather than choose again each fit. (A pool's threads
    /// keep theirs in the pool: a `Trainer` keeps its pool.)
    pub(crate) fn with_fits_carrying<R>(
        self,
        x: &[f64],
        y: &[f64],
        epochs: u64,
        prefetching: &mut Option<Prefetching>,
        body: impl FnOnce(&mut dyn FnMut(u64, f64) -> (Fit, Ran)) -> R,
    ) -> (R, Ran) {
        match self {
            Kernel::Parallel { threads, isa } if parallel::splits(x.len()) => {
                parallel::with_descent(x, y, threads, isa, epochs, step, prefetching, |descent| {
                    body(&mut |epochs, learning_rate| {
                        let (end, ran) = descent(epochs, learning_rate);
                        (of_descent(x, y, end, epochs), ran)
                    })
                })
            }
            _ => {
                // On the calling thread alone.
                let mut alone = Alone::new(self, x, y, epochs, prefetching.take());
                let result = body(&mut |epochs, learning_rate| {
                    let fit = descend(x, y, epochs, learning_rate, &mut |w, b| alone.sums(w, b));
                    (fit, alone.ran())
                });
                let ran = alone.ran();
                if let Alone::Simd { prefetching: kept, .. } = alone {
                    *prefetching = kept;
                }
                (result, ran)
            }
        }
    }
}

/// The sums of a kernel on the calling thread alone: the scalar loop, or the simd kernel on the
/// instruction set its picker chooses (timed on what a thread of the parallel kernel sums: one
/// block), with software prefetches where its epochs measure them faster (data past the core's
/// L2 only: [`Prefetching`]).
enum Alone<'a> {
    Scalar { x: &'a [f64], y: &'a [f64] },
    Simd { x: &'a [f64], y: &'a [f64], picker: Picker<'a>, prefetching: Option<Prefetching> },
}

impl<'a> Alone<'a> {
    /// `prefetching`: the simd kernel's choice (None: it never tries), for data past the L2.
    fn new(kernel: Kernel, x: &'a [f64], y: &'a [f64], epochs: u64, prefetching: Option<Prefetching>) -> Alone<'a> {
        match kernel {
            Kernel::Scalar => {
                // The vector kernels ask the CPU what it has while choosing; the final MSE's pass
                // asks too, and must not do it first inside the clock.
                crate::kernels::detect_cpu_features();
                Alone::Scalar { x, y }
            }
            Kernel::Simd(isa) | Kernel::Parallel { isa, .. } => {
                let picker = Picker::new(isa, x, y, parallel::BLOCK_POINTS, epochs);
                Alone::Simd { x, y, picker, prefetching }
            }
        }
    }

    #[inline]
    fn sums(&mut self, w: f64, b: f64) -> (f64, f64) {
        match self {
            Alone::Scalar { x, y } => scalar::gradient_sums(x, y, w, b),
            Alone::Simd { x, y, picker, prefetching: None } => simd::gradient_sums(picker.isa(w, b), x, y, w, b),
            Alone::Simd { x, y, picker, prefetching: Some(prefetching) } => prefetching.sums(picker.isa(w, b), x, y, w, b),
        }
    }

    fn ran(&self) -> Ran {
        match self {
            Alone::Scalar { .. } => Ran { threads: 1, isa: None, prefetching: None },
            Alone::Simd { picker, prefetching, .. } => {
                Ran { threads: 1, isa: Some(picker.used()), prefetching: prefetching.as_ref().map(Prefetching::choices) }
            }
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
    kernel.with_fits(x, y, epochs, |fit| fit(epochs, learning_rate).0).0
}

/// The loop every kernel shares: update, divergence check, final MSE, with `gradient_sums` from
/// a kernel ([`Kernel::with_gradient_sums`]). The parallel kernel's pool runs the same loop on
/// every thread ([`Kernel::with_fits`]).
pub fn descend(x: &[f64], y: &[f64], epochs: u64, learning_rate: f64, gradient_sums: &mut dyn FnMut(f64, f64) -> (f64, f64)) -> Fit {
    let n = x.len() as f64;
    let (mut w, mut b) = (0.0_f64, 0.0_f64);
    for epoch in 1..=epochs {
        (w, b) = step(w, b, gradient_sums(w, b), n, learning_rate);
        if !(w.is_finite() && b.is_finite()) {
            return diverged(x, y, w, b, epoch);
        }
    }
    finish(x, y, w, b, epochs)
}

/// Whether `learning_rate` is one a fit takes: finite and > 0. The one rule behind every entry
/// point's check (`--learning-rate`, `linreg_py`, [`crate::Trainer::fit`]), each with its own
/// message.
pub fn is_valid_learning_rate(learning_rate: f64) -> bool {
    learning_rate.is_finite() && learning_rate > 0.0
}

/// One gradient-descent step from an epoch's (Σ e·x, Σ e) over `n` points: 2·(Σ/n), the order
/// `2 * np.mean(...)` rounds in, so every implementation overflows at the same epoch. b is kept in
/// a register of its own (`kernels::unpaired`): w and b packed in one cost a small fit
/// ~10% of its time.
pub fn step(w: f64, b: f64, (sum_ex, sum_e): (f64, f64), n: f64, learning_rate: f64) -> (f64, f64) {
    (w - learning_rate * (2.0 * (sum_ex / n)), crate::kernels::unpaired(b - learning_rate * (2.0 * (sum_e / n))))
}

/// The fit stopped after `epoch`, where w or b stopped being finite.
pub fn diverged(x: &[f64], y: &[f64], w: f64, b: f64, epoch: u64) -> Fit {
    Fit { w, b, mse: mse(x, y, w, b), epochs_run: epoch, status: FitStatus::Diverged { at_epoch: epoch } }
}

/// The fit after its last epoch: its final MSE, and diverged if that is not finite.
pub fn finish(x: &[f64], y: &[f64], w: f64, b: f64, epochs: u64) -> Fit {
    ended(w, b, mse(x, y, w, b), epochs)
}

/// The fit a descent of `epochs` epochs on the parallel kernel's pool ended in.
pub(crate) fn of_descent(x: &[f64], y: &[f64], end: Descent, epochs: u64) -> Fit {
    match end.squared_errors {
        Some(sum) if !end.diverged => ended(end.w, end.b, sum / x.len() as f64, epochs),
        _ => diverged(x, y, end.w, end.b, end.epochs_run),
    }
}

/// The fit after its last epoch, its final MSE known: diverged if that is not finite.
fn ended(w: f64, b: f64, final_mse: f64, epochs: u64) -> Fit {
    let status = if final_mse.is_finite() { FitStatus::Ok } else { FitStatus::Diverged { at_epoch: epochs } };
    Fit { w, b, mse: final_mse, epochs_run: epochs, status }
}

/// Mean squared error (1/n)·Σ (w·x_i + b − y_i)²: the sum in [`squared_errors`], the same bits on
/// every machine.
pub fn mse(x: &[f64], y: &[f64], w: f64, b: f64) -> f64 {
    squared_errors(x, y, w, b) / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::simd::Isa;
    use proptest::prelude::*;

    const X: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
    const Y: [f64; 5] = [2.0, 4.0, 6.0, 8.0, 10.0];

    fn rel_err(got: f64, want: f64) -> f64 {
        (got - want).abs() / want.abs().max(f64::MIN_POSITIVE)
    }

    fn parallel(threads: usize, isa: Isa) -> Kernel {
        Kernel::Parallel { threads: Threads::Exactly(std::num::NonZeroUsize::new(threads).unwrap()), isa: IsaChoice::Only(isa) }
    }

    fn simd(isa: Isa) -> Kernel {
        Kernel::Simd(IsaChoice::Only(isa))
    }

    /// Every kernel on every instruction set, the parallel one on 1, 2 and 3 threads.
    fn every_kernel() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::Scalar];
        for isa in Isa::available() {
            kernels.push(simd(isa));
            kernels.extend((1..=3).map(|t| parallel(t, isa)));
        }
        kernels
    }

    fn describe(kernel: Kernel) -> String {
        format!(
            "{} ({} threads asked)",
            kernel.label(),
            if let Kernel::Parallel { threads: Threads::Exactly(t), .. } = kernel { t.get() } else { 1 }
        )
    }

    /// w and b of `kernel` within 1e-9 relative of the scalar kernel's; the same status and epochs.
    fn agrees_with_scalar(x: &[f64], y: &[f64], epochs: u64, learning_rate: f64, kernel: Kernel) -> Result<(), String> {
        let want = fit(x, y, epochs, learning_rate, Kernel::Scalar);
        let got = fit(x, y, epochs, learning_rate, kernel);
        let what = || format!("{}, n = {}: got {got:?}, scalar {want:?}", describe(kernel), x.len());
        if got.status != want.status || got.epochs_run != want.epochs_run {
            return Err(format!("status differs: {}", what()));
        }
        if rel_err(got.w, want.w) > 1e-9 || rel_err(got.b, want.b) > 1e-9 {
            return Err(format!("w or b differ by more than 1e-9 relative: {}", what()));
        }
        // The parallel kernel sums the final MSE's squared errors on its pool, block by block.
        if rel_err(got.mse, want.mse) > 1e-9 && (got.mse - want.mse).abs() > 1e-12 {
            return Err(format!("the final MSE differs by more than 1e-9 relative: {}", what()));
        }
        Ok(())
    }

    /// A line with noise, x spread over [-10, 10]: lr 0.005 is stable, and w, b stay away from 0.
    fn noisy_line(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut uniform = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let x: Vec<f64> = (0..n).map(|_| 20.0 * uniform() - 10.0).collect();
        let y = x.iter().map(|&xi| 1.5 * xi + 3.0 + uniform() - 0.5).collect();
        (x, y)
    }

    #[test]
    fn the_vector_paths_are_tested_where_the_cpu_has_them() {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                assert!(every_kernel().iter().any(|k| k.label() == "simd/avx2"));
            }
            if is_x86_feature_detected!("avx512f") {
                assert!(every_kernel().iter().any(|k| k.label() == "simd/avx512"));
                assert!(every_kernel().iter().any(|k| k.label() == "parallel/avx512"));
            }
        }
        assert!(every_kernel().iter().any(|k| k.label() == "simd/portable"));
    }

    #[test]
    fn kernels_are_found_by_name() {
        for name in Kernel::NAMES {
            let kernel = Kernel::by_name(name).unwrap();
            assert_eq!(kernel.name(), name);
            assert_eq!(kernel.to_string(), name);
        }
        assert_eq!(Kernel::by_name("fast"), None);
        assert_eq!(Kernel::Scalar.label(), "scalar");
        assert_eq!(simd(Isa::PORTABLE).label(), "simd/portable");
        assert_eq!(Kernel::by_name("parallel").map(Kernel::label).as_deref(), Some("parallel/auto"));
        assert_eq!(parallel(2, Isa::PORTABLE).label(), "parallel/portable");
    }

    #[test]
    fn auto_sums_the_same_bits_as_the_instruction_set_it_reports() {
        for n in [5, 1003, 10_000, 3 * parallel::BLOCK_POINTS + 7] {
            let (x, y) = noisy_line(n, 11);
            for kernel in [Kernel::by_name("simd").unwrap(), Kernel::by_name("parallel").unwrap()] {
                let (got, ran) = kernel.with_gradient_sums_ran(&x, &y, 30, |sums| descend(&x, &y, 30, 0.005, sums));
                let isa = ran.isa.expect("a vector kernel names its instruction set");
                let named = kernel.with_isa(IsaChoice::Only(isa)).unwrap().with_threads(Threads::Exactly(ran.threads.try_into().unwrap()));
                let want = fit(&x, &y, 30, 0.005, named.unwrap_or(simd(isa)));
                assert_eq!((got.w.to_bits(), got.b.to_bits()), (want.w.to_bits(), want.b.to_bits()), "{}, n = {n}", ran.label(kernel));
            }
        }
    }

    /// The same with two candidates on any CPU (its widest vectors and the portable code), so that
    /// a choice is really timed and made here, not only on a CPU with two vector sets.
    #[test]
    fn a_timed_choice_sums_the_bits_of_the_set_it_chose() {
        let (x, y) = noisy_line(20_000, 5);
        for _ in 0..3 {
            let mut picker = Picker::among(vec![Isa::detect(), Isa::PORTABLE], &x, &y, parallel::BLOCK_POINTS, 20);
            let got = descend(&x, &y, 20, 0.005, &mut |w, b| simd::gradient_sums(picker.isa(w, b), &x, &y, w, b));
            let isa = picker.used();
            let want = fit(&x, &y, 20, 0.005, simd(isa));
            assert_eq!((got.w.to_bits(), got.b.to_bits()), (want.w.to_bits(), want.b.to_bits()), "{isa}");
        }
    }

    /// The simd kernel past the core's L2 tries prefetching, chooses, and
    /// gives the bits of the loop that never prefetches; within the L2 it never tries.
    #[test]
    fn the_simd_kernel_tries_prefetching_past_the_l2_and_sums_the_same_bits() {
        use crate::kernels::prefetch_choice::{PREFETCH_SETTLING_EPOCHS, PREFETCH_TRIALS};
        let epochs = PREFETCH_SETTLING_EPOCHS + 2 * PREFETCH_TRIALS as u64 + 10;
        let isa = Isa::detect();
        for n in [1_000, 600_000] {
            let (x, y) = noisy_line(n, 3);
            let want = descend(&x, &y, epochs, 1e-3, &mut |w, b| simd::gradient_sums(isa, &x, &y, w, b));
            let (got, ran) = simd(isa).with_fits(&x, &y, epochs, |fit| fit(epochs, 1e-3).0);
            assert_eq!((got.w.to_bits(), got.b.to_bits()), (want.w.to_bits(), want.b.to_bits()), "n = {n}");
            // 16 KB is within every L2 (and one block, where sysfs names no L2); 9.6 MB past every
            // L2 met.
            let tries = n == 600_000;
            // Tried: the choice made, either way, after 5-16 pairs; not tried: None.
            assert_eq!(ran.prefetching.is_some(), tries, "n = {n}: {ran:?}");
            assert!(ran.prefetching.is_none_or(|c| c.kept + c.refused == 1 && c.hold_together(1)), "{ran:?}");
        }
    }

    /// So does the parallel kernel on one thread, summing its blocks in the pool's order: the
    /// bits of its loop that never prefetches.
    #[test]
    fn the_parallel_kernel_on_one_thread_tries_prefetching_past_the_l2_too() {
        use crate::kernels::prefetch_choice::{PREFETCH_SETTLING_EPOCHS, PREFETCH_TRIALS};
        let epochs = PREFETCH_SETTLING_EPOCHS + 2 * PREFETCH_TRIALS as u64 + 10;
        let (isa, one) = (IsaChoice::Only(Isa::detect()), Threads::Exactly(std::num::NonZeroUsize::MIN));
        for n in [40_000, 600_000] {
            let (x, y) = noisy_line(n, 3);
            let fits = |prefetching: &mut Option<Prefetching>| {
                parallel::with_descent(&x, &y, one, isa, epochs, step, prefetching, |descend| descend(epochs, 1e-3))
            };
            let ((want, _), never) = fits(&mut None);
            let (got, ran) = Kernel::Parallel { threads: one, isa }.with_fits(&x, &y, epochs, |fit| fit(epochs, 1e-3).0);
            assert_eq!((got.w.to_bits(), got.b.to_bits()), (want.w.to_bits(), want.b.to_bits()), "n = {n}");
            assert_eq!((ran.threads, never.prefetching), (1, None), "n = {n}: {ran:?}");
            // 640 KB is past a 512 KiB L2 (Zen 1, Zen 3) and within the larger ones; 9.6 MB past
            // every L2 met.
            let tries = Prefetching::for_points(n).is_some();
            assert!(tries || n < 600_000, "past every L2 met: {n}");
            assert_eq!(ran.prefetching.is_some(), tries, "n = {n}: {ran:?}");
            assert!(ran.prefetching.is_none_or(|c| c.kept + c.refused == 1 && c.hold_together(1)), "{ran:?}");
        }
    }

    #[test]
    fn reproduces_the_test_vector() {
        for kernel in every_kernel() {
            let f = fit(&X, &Y, 1000, 0.01, kernel);
            let what = describe(kernel);
            assert_eq!(f.status, FitStatus::Ok, "{what}");
            assert!(rel_err(f.w, 1.995180350672) < 1e-9, "{what}: w = {}", f.w);
            assert!(rel_err(f.b, 0.017400463341) < 1e-9, "{what}: b = {}", f.b);
            assert_eq!(f.epochs_run, 1000);
            assert!(f.mse > 0.0 && f.mse < 1e-3, "{what}: mse = {}", f.mse);
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
    fn every_kernel_diverges_at_the_same_epoch_as_scalar() {
        let want = fit(&X, &Y, 100_000, 1.0, Kernel::Scalar).status;
        for kernel in every_kernel() {
            assert_eq!(fit(&X, &Y, 100_000, 1.0, kernel).status, want, "{}", describe(kernel));
        }
        // Larger data, where the AVX2 path sums whole blocks with FMA.
        for (n, seed) in [(37, 1), (1000, 2), (4099, 3)] {
            let (x, y) = noisy_line(n, seed);
            let want = fit(&x, &y, 100_000, 0.5, Kernel::Scalar).status;
            assert!(matches!(want, FitStatus::Diverged { .. }));
            for kernel in every_kernel() {
                assert_eq!(fit(&x, &y, 100_000, 0.5, kernel).status, want, "{}, n = {n}", describe(kernel));
            }
        }
    }

    #[test]
    fn the_gradient_divides_by_n_before_doubling() {
        // Σ e·x = 1.2e308 is finite but 2·Σ is not: 2·(Σ/n) keeps the first epoch finite and the fit
        // diverges at epoch 2, as NumPy's `2 * np.mean(...)` does; (2·Σ)/n would stop at epoch 1.
        let (x, y) = ([1e154, 0.0], [-1.2e154, 0.0]);
        for kernel in every_kernel() {
            assert_eq!(fit(&x, &y, 10, 1e-10, kernel).status, FitStatus::Diverged { at_epoch: 2 }, "{}", describe(kernel));
        }
    }

    #[test]
    fn a_single_point_fits() {
        for kernel in every_kernel() {
            let f = fit(&[3.0], &[7.0], 5000, 0.01, kernel);
            assert_eq!(f.status, FitStatus::Ok);
            assert!((f.w * 3.0 + f.b - 7.0).abs() < 1e-9, "{}", describe(kernel));
        }
    }

    #[test]
    fn every_kernel_agrees_with_scalar_at_small_lengths() {
        // 1, 3 and every length around the vector width (4), the AVX2 block (16) and the portable
        // block (8), where the remainder handling lives.
        for n in 1..=40 {
            let (x, y) = noisy_line(n, n as u64);
            for kernel in every_kernel() {
                agrees_with_scalar(&x, &y, 300, 0.005, kernel).unwrap();
            }
        }
    }

    #[test]
    fn every_kernel_agrees_with_scalar_at_large_n() {
        let (x, y) = noisy_line(100_003, 7);
        for kernel in every_kernel() {
            agrees_with_scalar(&x, &y, 20, 0.005, kernel).unwrap();
        }
    }

    proptest! {
        #[test]
        fn a_fit_is_deterministic(xs in prop::collection::vec(-100.0f64..100.0, 1..200), seed in 0u64..1000) {
            let ys: Vec<f64> = xs.iter().map(|x| 0.5 * x + (seed as f64).sin()).collect();
            for kernel in every_kernel().into_iter().filter(|k| !matches!(k, Kernel::Parallel { .. })) {
                let a = fit(&xs, &ys, 50, 1e-4, kernel);
                let b = fit(&xs, &ys, 50, 1e-4, kernel);
                prop_assert_eq!(a.w.to_bits(), b.w.to_bits());
                prop_assert_eq!(a.b.to_bits(), b.b.to_bits());
            }
        }

        #[test]
        fn the_simd_kernel_agrees_with_scalar(
            points in prop::collection::vec((-10.0f64..10.0, -1.0f64..1.0), 1..300),
            slope in prop_oneof![-5.0f64..-0.5, 0.5f64..5.0],
            intercept in prop_oneof![-5.0f64..-0.5, 0.5f64..5.0],
            epochs in 20u64..300,
        ) {
            let x: Vec<f64> = points.iter().map(|p| p.0).collect();
            let y: Vec<f64> = points.iter().map(|p| slope * p.0 + intercept + p.1).collect();
            for isa in Isa::available() {
                agrees_with_scalar(&x, &y, epochs, 0.005, simd(isa)).map_err(TestCaseError::fail)?;
            }
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

    proptest! {
        // Each case starts and stops pools: fewer cases keep the suite quick.
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn the_parallel_kernel_agrees_with_scalar(
            points in prop::collection::vec((-10.0f64..10.0, -1.0f64..1.0), 1..3000),
            slope in prop_oneof![-5.0f64..-0.5, 0.5f64..5.0],
            intercept in prop_oneof![-5.0f64..-0.5, 0.5f64..5.0],
            threads in 1usize..=3,
        ) {
            let x: Vec<f64> = points.iter().map(|p| p.0).collect();
            let y: Vec<f64> = points.iter().map(|p| slope * p.0 + intercept + p.1).collect();
            for isa in Isa::available() {
                let kernel = parallel(threads, isa);
                agrees_with_scalar(&x, &y, 40, 0.005, kernel).map_err(TestCaseError::fail)?;
                let (a, b) = (fit(&x, &y, 40, 0.005, kernel), fit(&x, &y, 40, 0.005, kernel));
                prop_assert_eq!((a.w.to_bits(), a.b.to_bits()), (b.w.to_bits(), b.b.to_bits()), "not deterministic");
            }
        }
    }
}
