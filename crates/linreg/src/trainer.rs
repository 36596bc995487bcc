//! A fitting service: the data copied in once, the kernel's threads started once, then fits on
//! request, each from w = b = 0 — what a long-lived process calling the kernel keeps between
//! requests, as the `linreg` binary keeps it between its `--fits`. Without it, each call of
//! [`crate::fit`] from a service starts and stops the parallel kernel's threads and makes `auto`'s
//! choices again inside the call.
//!
//! A fit runs on the thread that asks for it, as thread 0 of the trainer's pool where the kernel
//! has one. Handed to a thread of the trainer's own, each request and its reply cost a wake-up,
//! and the pool's worker parked between fits: from Python, on a 2-vCPU Emerald Rapids VM, a fit
//! of 10^4 points × 100 epochs took 180 µs that way against 83 µs on the calling thread (the
//! `linreg` binary's warm fits: 80 µs), and one of 5 points 31 µs against 25.

use std::sync::Arc;

use crate::dataset::Columns;
use crate::fit::{self, Fit, Kernel, Ran};
use crate::kernels::isa_choice::IsaChoice;
use crate::kernels::parallel::{self, StandingPool};
use crate::kernels::prefetch_choice::Prefetching;

/// Why a trainer could not start or fit.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrainerError {
    #[error("epochs must be at least 1")]
    NoEpochs,
    #[error("the learning rate must be a finite number > 0, got {0}")]
    LearningRate(String),
    #[error("the trainer is closed")]
    Closed,
    #[error("cannot start the trainer's threads: {0}")]
    Start(String),
}

/// Fits of one dataset by one kernel, on threads that live as long as the trainer.
pub struct Trainer {
    kernel: Kernel,
    data: Arc<Columns>,
    /// None once closed.
    engine: Option<Engine>,
}

enum Engine {
    /// A kernel without a pool (scalar, simd, parallel on one block or one thread): each fit a
    /// call of [`Kernel::with_fits`], `epochs` the first's budget for `auto`'s choice of
    /// instruction set, which the later fits then name (the same sums, the same bits).
    Calls {
        kernel: Kernel,
        epochs: u64,
        /// The prefetch choice of the simd kernel, or of the parallel kernel on one thread, carried
        /// from fit to fit (data past the L2 only).
        prefetching: Option<Prefetching>,
    },
    Pool(Box<StandingPool>),
}

impl Trainer {
    /// Starts fitting `data` with `kernel`, for fits of `epochs` epochs together (`u64::MAX` when
    /// unknown: `auto`'s choices, made in the first fit, then take their longest, 20 ms each at
    /// most, as their budget is a share of the whole). Returns once the kernel's threads run, so
    /// a caller's clock around [`Trainer::fit`] times the fit alone.
    pub fn start(data: Columns, kernel: Kernel, epochs: u64) -> Result<Trainer, TrainerError> {
        // Here rather than in the first fit, whose kernel would ask as it sets up.
        crate::kernels::detect_cpu_features();
        let data = Arc::new(data);
        let engine = match kernel {
            Kernel::Parallel { threads, isa } if parallel::runs_on_a_pool(data.len(), threads) => {
                let pool = StandingPool::start(Arc::clone(&data), threads, isa, epochs, fit::step);
                Engine::Pool(Box::new(pool.map_err(|e| TrainerError::Start(e.to_string()))?))
            }
            _ => Engine::Calls { kernel, epochs, prefetching: Prefetching::for_points(data.len()) },
        };
        Ok(Trainer { kernel, data, engine: Some(engine) })
    }

    /// One fit of `epochs` epochs from w = b = 0 at `learning_rate`, and what it ran on.
    pub fn fit(&mut self, epochs: u64, learning_rate: f64) -> Result<(Fit, Ran), TrainerError> {
        if epochs == 0 {
            return Err(TrainerError::NoEpochs);
        }
        if !fit::is_valid_learning_rate(learning_rate) {
            return Err(TrainerError::LearningRate(learning_rate.to_string()));
        }
        let (x, y) = (self.data.x(), self.data.y());
        match self.engine.as_mut().ok_or(TrainerError::Closed)? {
            Engine::Calls { kernel, epochs: budget, prefetching } => {
                let ((fit, ran), _) = kernel.with_fits_carrying(x, y, *budget, prefetching, |fit| fit(epochs, learning_rate));
                if let Some(named) = ran.isa.and_then(|isa| kernel.with_isa(IsaChoice::Only(isa))) {
                    *kernel = named;
                }
                Ok((fit, ran))
            }
            Engine::Pool(pool) => {
                let (end, ran) = pool.descend(epochs, learning_rate);
                Ok((fit::of_descent(x, y, end, epochs), ran))
            }
        }
    }

    /// Stops the trainer's threads; later fits are refused. Closing twice is harmless.
    pub fn close(&mut self) {
        self.engine = None;
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// The trainer's copy of the data: what its fits read.
    pub fn data(&self) -> &Columns {
        &self.data
    }
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer").field("kernel", &self.kernel).field("n", &self.data.len()).field("open", &self.engine.is_some()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::fit;
    use crate::kernels::isa_choice::IsaChoice;
    use crate::kernels::parallel::Threads;
    use std::num::NonZeroUsize;

    fn line(n: usize) -> Columns {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.618).fract() * 10.0).collect();
        let y: Vec<f64> = x.iter().enumerate().map(|(i, &xi)| 2.0 * xi + 0.5 + (i as f64 * 0.37).sin() * 0.1).collect();
        Columns::copied(&x, &y).expect("a valid line")
    }

    #[test]
    fn each_fit_is_the_one_fit_would_give_bit_for_bit() {
        let two = Threads::Exactly(NonZeroUsize::new(2).expect("2 > 0"));
        for kernel in [Kernel::Scalar, Kernel::Simd(IsaChoice::Fastest), Kernel::Parallel { threads: two, isa: IsaChoice::Fastest }] {
            for n in [5, 40_000] {
                let mut trainer = Trainer::start(line(n), kernel, u64::MAX).expect("starts");
                let mut ran_before = None;
                for (epochs, learning_rate) in [(50, 0.01), (7, 0.02), (50, 0.01)] {
                    let (got, ran) = trainer.fit(epochs, learning_rate).expect("fits");
                    // The same instruction set as the trainer's, for the same bits.
                    let named = ran.isa.and_then(|isa| kernel.with_isa(IsaChoice::Only(isa))).unwrap_or(kernel);
                    // On another copy of the points, elsewhere in memory: a `Columns` starts x and y
                    // on cache lines wherever it lies, so the vector sums run in the same order.
                    let elsewhere = line(n);
                    assert_ne!(elsewhere.x().as_ptr(), trainer.data().x().as_ptr());
                    assert_eq!(got, fit(elsewhere.x(), elsewhere.y(), epochs, learning_rate, named), "{kernel:?} at n = {n}");
                    assert_eq!(ran.threads, if n > 5 && matches!(kernel, Kernel::Parallel { .. }) { 2 } else { 1 });
                    assert!(ran_before.is_none_or(|before| before == ran), "a choice, once made, is kept");
                    ran_before = Some(ran);
                }
                trainer.close();
                trainer.close();
                assert_eq!(trainer.fit(1, 0.01), Err(TrainerError::Closed), "closing twice is harmless");
            }
        }
    }

    /// Past the L2 (9.6 MB, past every L2 met, or the L2 unknown) the first fit of the simd
    /// kernel, or of the parallel kernel on one thread, makes the prefetch choice and the later
    /// ones keep it, short ones too, as `linreg --fits K` does: a fit of 7 epochs choosing afresh
    /// would end before the choice and say 0.
    #[test]
    fn a_one_thread_kernels_prefetch_choice_is_made_once_and_kept_over_the_fits() {
        use crate::kernels::prefetch_choice::{PREFETCH_SETTLING_EPOCHS, PREFETCH_TRIALS};
        let choosing = PREFETCH_SETTLING_EPOCHS + 2 * PREFETCH_TRIALS as u64;
        let one = Threads::Exactly(NonZeroUsize::MIN);
        for kernel in [Kernel::Simd(IsaChoice::Fastest), Kernel::Parallel { threads: one, isa: IsaChoice::Fastest }] {
            let mut trainer = Trainer::start(line(600_000), kernel, u64::MAX).expect("starts");
            let (_, first) = trainer.fit(choosing + 2, 0.01).expect("fits");
            assert!(first.prefetching.is_some(), "past the L2 the kernel tries: {kernel:?} {first:?}");
            for epochs in [7, 1, choosing] {
                let (got, ran) = trainer.fit(epochs, 0.01).expect("fits");
                assert_eq!(ran, first, "{kernel:?} kept after {epochs} epochs");
                let named = kernel.with_isa(IsaChoice::Only(ran.isa.expect("a vector kernel"))).expect("a vector kernel");
                let elsewhere = line(600_000);
                assert_eq!(got, fit(elsewhere.x(), elsewhere.y(), epochs, 0.01, named), "{kernel:?}: the same bits either way");
            }
            let Some(Engine::Calls { prefetching: Some(carried), .. }) = &trainer.engine else { panic!("{kernel:?} carries its choice") };
            assert_eq!(carried.epochs(), choosing + 2 + 7 + 1 + choosing, "{kernel:?}: one count of epochs over every fit");
        }
    }

    /// A standing pool's threads keep their prefetch choices from fit to fit, so the counts a fit
    /// reports are the pool's so far: they never go down, and hold together as the sign test
    /// makes them (a worker may choose after the calling thread has read them, and show in the
    /// next fit's).
    #[test]
    fn a_pools_prefetch_choices_only_add_up_over_the_fits() {
        use crate::kernels::PrefetchChoices;
        let two = Threads::Exactly(NonZeroUsize::new(2).expect("2 > 0"));
        let mut trainer =
            Trainer::start(line(600_000), Kernel::Parallel { threads: two, isa: IsaChoice::Fastest }, u64::MAX).expect("starts");
        let mut before = PrefetchChoices::default();
        for epochs in [20, 7, 30, 1, 40] {
            let (_, ran) = trainer.fit(epochs, 0.01).expect("fits");
            // 9.6 MB: each half past every L2 met (or the L2 unknown), so the pool tries.
            let Some(now) = ran.prefetching else { panic!("each share past the L2: {ran:?}") };
            assert!(now.hold_together(2), "{now:?}");
            assert!(
                now.kept >= before.kept && now.refused >= before.refused && now.most_pairs >= before.most_pairs,
                "{before:?} then {now:?}"
            );
            before = now;
        }
    }

    #[test]
    fn bad_requests_are_refused_and_the_trainer_goes_on() {
        let mut trainer = Trainer::start(line(100), Kernel::Scalar, 10).expect("starts");
        assert_eq!(trainer.fit(0, 0.01), Err(TrainerError::NoEpochs));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(trainer.fit(1, bad), Err(TrainerError::LearningRate(bad.to_string())));
        }
        assert_eq!(trainer.fit(3, 0.01).map(|(fit, _)| fit.epochs_run), Ok(3));
        assert_eq!((trainer.data().len(), trainer.kernel()), (100, Kernel::Scalar));
    }

    #[test]
    fn a_pool_trainer_can_be_asked_from_another_thread_and_dropped_open() {
        let two = Threads::Exactly(NonZeroUsize::new(2).expect("2 > 0"));
        let trainer = Trainer::start(line(40_000), Kernel::Parallel { threads: two, isa: IsaChoice::Fastest }, u64::MAX).expect("starts");
        // The fits run on the thread that asks, as the pool's thread 0: any thread, one at a time.
        let asked = std::thread::spawn(move || {
            let mut trainer = trainer;
            trainer.fit(10, 0.01).map(|(fit, ran)| (fit.epochs_run, ran.threads))
        });
        assert_eq!(asked.join().expect("no panic"), Ok((10, 2)));
    }

    #[test]
    fn auto_threads_choose_in_the_first_fits_and_keep_the_choice() {
        // Fits of 200 epochs, 4 000 together: `auto` calibrates (its rule needs 400), once.
        let trainer = Trainer::start(line(40_000), Kernel::Parallel { threads: Threads::Auto, isa: IsaChoice::Fastest }, 4000);
        let mut trainer = trainer.expect("starts");
        let rans: Vec<Ran> = (0..20).map(|_| trainer.fit(200, 0.01).expect("fits").1).collect();
        // Threads and instruction set; not `prefetching`, a count the calling thread reads as it
        // finishes, which a worker choosing late in the first fits could still change.
        let used = |ran: &Ran| (ran.threads, ran.isa);
        assert!(rans.windows(2).skip(1).all(|pair| used(&pair[0]) == used(&pair[1])), "{rans:?}");
    }
}
