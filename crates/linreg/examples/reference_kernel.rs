//! The yardstick for the parallel kernel: the same epochs on two halves of the data, two threads
//! that spin on each other without ever sleeping, and nothing else (no blocks, no stealing). What
//! two well-synchronised threads can do on this machine when they have it to themselves; it loses
//! badly when they do not, which is why the real kernel does not spin forever.
//!
//! Prints the protocol's result line (implementation "reference-spin"), so the standalone bench
//! (benches/standalone.py) times it like `linreg`:
//!
//!     cargo run --profile measured -p linreg --example reference_kernel -- DATA.npy EPOCHS LEARNING_RATE [ISA]
//!
//! With `--symmetric` first, the fit itself runs on the two threads ("reference-symmetric"): each
//! sums its half, the two exchange their sums, and each adds them in the same order and takes the
//! same step, so an epoch costs one meeting and no message from a caller — the synchronisation of
//! the bandwidth probe's threads meeting after every pass, which `orchestrator limit` measures.
//! The spinning pair is driven by the fit on the calling thread, as the parallel kernel's epochs
//! were until it took the symmetric way: the caller sends (w, b), waits for the other half's sums,
//! and only then can send the next (w, b).
//!
//! With `--best-of ROUNDS N...`, it compares both references in process with the simd and
//! parallel kernels (see [`best_of`]).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use linreg::fit::{diverged, finish, step, Fit};
use linreg::kernels::simd;
use linreg::protocol::ResultLine;
use linreg::{Columns, Isa, IsaChoice, Kernel, Threads};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("reference_kernel: error: {message}");
            ExitCode::from(2)
        }
    }
}

#[repr(align(128))]
struct Padded(AtomicU64);

/// Where both references cut the data: half, rounded up to a whole AVX-512 block (32 points).
fn half_of(n: usize) -> usize {
    (n / 2).next_multiple_of(32).min(n)
}

/// Runs `body` with the reference's gradient sums over `x` and `y`: halves on two threads that spin.
fn with_spinning_pair<R>(x: &[f64], y: &[f64], isa: Isa, body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R) -> R {
    let half = half_of(x.len());
    let (own_x, other_x) = x.split_at(half);
    let (own_y, other_y) = y.split_at(half);
    let go = Padded(AtomicU64::new(0));
    let params = [AtomicU64::new(0), AtomicU64::new(0)];
    let done = Padded(AtomicU64::new(0));
    let partial = [AtomicU64::new(0), AtomicU64::new(0)];
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut seen = 0;
            loop {
                let epoch = loop {
                    let epoch = go.0.load(Ordering::Acquire);
                    if epoch != seen {
                        break epoch;
                    }
                    std::hint::spin_loop();
                };
                if epoch == u64::MAX {
                    return;
                }
                seen = epoch;
                let (w, b) = (f64::from_bits(params[0].load(Ordering::Relaxed)), f64::from_bits(params[1].load(Ordering::Relaxed)));
                let (ex, e) = simd::gradient_sums(isa, other_x, other_y, w, b);
                partial[0].store(ex.to_bits(), Ordering::Relaxed);
                partial[1].store(e.to_bits(), Ordering::Relaxed);
                done.0.store(epoch, Ordering::Release);
            }
        });
        let mut epoch = 0;
        let result = body(&mut |w: f64, b: f64| {
            epoch += 1;
            params[0].store(w.to_bits(), Ordering::Relaxed);
            params[1].store(b.to_bits(), Ordering::Relaxed);
            go.0.store(epoch, Ordering::Release);
            let (ex, e) = simd::gradient_sums(isa, own_x, own_y, w, b);
            while done.0.load(Ordering::Acquire) != epoch {
                std::hint::spin_loop();
            }
            (ex + f64::from_bits(partial[0].load(Ordering::Relaxed)), e + f64::from_bits(partial[1].load(Ordering::Relaxed)))
        });
        go.0.store(u64::MAX, Ordering::Release);
        result
    })
}

/// The two halves' sums of one epoch, and the epoch: one thread's post to the other.
#[repr(align(128))]
struct Post {
    sum_ex: AtomicU64,
    sum_e: AtomicU64,
    epoch: AtomicU64,
}

impl Post {
    fn new() -> Post {
        Post { sum_ex: AtomicU64::new(0), sum_e: AtomicU64::new(0), epoch: AtomicU64::new(0) }
    }

    fn publish(&self, (sum_ex, sum_e): (f64, f64), epoch: u64) {
        self.sum_ex.store(sum_ex.to_bits(), Ordering::Relaxed);
        self.sum_e.store(sum_e.to_bits(), Ordering::Relaxed);
        self.epoch.store(epoch, Ordering::Release);
    }

    fn wait_for(&self, epoch: u64) -> (f64, f64) {
        while self.epoch.load(Ordering::Acquire) != epoch {
            std::hint::spin_loop();
        }
        (f64::from_bits(self.sum_ex.load(Ordering::Relaxed)), f64::from_bits(self.sum_e.load(Ordering::Relaxed)))
    }
}

/// The fit on two threads that both take every step (see the module comment); returns it and the
/// seconds of its epochs and final MSE, the helper thread already running when the clock starts.
/// The halves are added half 0 first, as the spinning pair adds them: the same w and b, bit for bit.
fn symmetric_pair_fit(x: &[f64], y: &[f64], isa: Isa, epochs: u64, learning_rate: f64) -> (Fit, f64) {
    let half = half_of(x.len());
    let halves = [(&x[..half], &y[..half]), (&x[half..], &y[half..])];
    let n = x.len() as f64;
    // Per thread, per epoch's parity: a thread is at most one epoch ahead of the other (it waits
    // for the other's post of each epoch), so two slots are never both in use.
    let posts = [[Post::new(), Post::new()], [Post::new(), Post::new()]];
    let ready = Padded(AtomicU64::new(0));
    // (w, b) after the last epoch run, and the epoch they stopped being finite after, if any.
    let descend_half = |t: usize| -> (f64, f64, Option<u64>) {
        let (xs, ys) = halves[t];
        let (mut w, mut b) = (0.0_f64, 0.0_f64);
        for epoch in 1..=epochs {
            let mine = simd::gradient_sums(isa, xs, ys, w, b);
            let slot = (epoch % 2) as usize;
            posts[t][slot].publish(mine, epoch);
            let other = posts[1 - t][slot].wait_for(epoch);
            let ((ex0, e0), (ex1, e1)) = if t == 0 { (mine, other) } else { (other, mine) };
            (w, b) = step(w, b, (ex0 + ex1, e0 + e1), n, learning_rate);
            if !(w.is_finite() && b.is_finite()) {
                return (w, b, Some(epoch));
            }
        }
        (w, b, None)
    };
    std::thread::scope(|scope| {
        scope.spawn(|| {
            ready.0.store(1, Ordering::Release);
            descend_half(1)
        });
        while ready.0.load(Ordering::Acquire) == 0 {
            std::hint::spin_loop();
        }
        let start = Instant::now();
        let fit = match descend_half(0) {
            (w, b, Some(epoch)) => diverged(x, y, w, b, epoch),
            (w, b, None) => finish(x, y, w, b, epochs),
        };
        (fit, start.elapsed().as_secs_f64())
    })
}

fn run() -> Result<(), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--best-of") {
        return best_of(&args[1..]);
    }
    let symmetric = args.first().map(String::as_str) == Some("--symmetric");
    if symmetric {
        args.remove(0);
    }
    let [data, epochs, learning_rate, rest @ ..] = args.as_slice() else {
        return Err(USAGE.into());
    };
    let epochs: u64 = epochs.parse().map_err(|_| format!("bad epochs '{epochs}'"))?;
    let learning_rate: f64 = learning_rate.parse().map_err(|_| format!("bad learning rate '{learning_rate}'"))?;
    let isa = match rest.first() {
        Some(name) => Isa::by_name(name).map_err(|e| e.to_string())?,
        None => Isa::detect(),
    };
    let load_start = Instant::now();
    let data = Columns::read(std::path::Path::new(data)).map_err(|e| e.to_string())?;
    let load_seconds = load_start.elapsed().as_secs_f64();

    let (fit, train_seconds) = if symmetric {
        symmetric_pair_fit(data.x(), data.y(), isa, epochs, learning_rate)
    } else {
        with_spinning_pair(data.x(), data.y(), isa, |sums| {
            let start = Instant::now();
            let fit = linreg::fit::descend(data.x(), data.y(), epochs, learning_rate, sums);
            (fit, start.elapsed().as_secs_f64())
        })
    };

    let line = ResultLine {
        implementation: if symmetric { "reference-symmetric" } else { "reference-spin" }.into(),
        kernel: Some(format!("reference/{isa}")),
        threads: Some(2),
        load_seconds,
        train_seconds,
        ..ResultLine::of_fit(&fit, data.len(), epochs, learning_rate)
    };
    println!("{}", line.to_json());
    Ok(())
}

const USAGE: &str = "usage: reference_kernel [--symmetric] DATA.npy EPOCHS LEARNING_RATE [ISA] | reference_kernel --best-of ROUNDS N...";

/// `--best-of ROUNDS N...`: in one process, for each n, batches of epochs of every variant
/// interleaved ROUNDS times; prints the best and the median batch in ns per point per epoch. The
/// best batch is what the machine does when nothing else runs, even on a busy machine: the figure
/// to compare kernels by when a quiet machine is not to be had.
fn best_of(args: &[String]) -> Result<(), String> {
    let [rounds, sizes @ ..] = args else {
        return Err(USAGE.into());
    };
    let rounds: usize = rounds.parse().map_err(|_| format!("bad rounds '{rounds}'"))?;
    let isa = Isa::detect();
    let two = Threads::Exactly(std::num::NonZeroUsize::new(2).ok_or("2 is not zero")?);
    // None is the reference.
    let only = IsaChoice::Only(isa);
    let mut variants: Vec<(String, Option<Kernel>)> = vec![(format!("simd/{isa}"), Some(Kernel::Simd(only)))];
    if let Some(avx2) = Isa::avx2_fma().filter(|&avx2| avx2 != isa) {
        // Two vector sets: `--isa auto` beside each, to check that it picks the faster.
        variants.push(("simd/avx2".into(), Some(Kernel::Simd(IsaChoice::Only(avx2)))));
        variants.push(("simd/auto".into(), Some(Kernel::Simd(IsaChoice::Fastest))));
    }
    variants.push(("parallel/auto".into(), Some(Kernel::Parallel { threads: Threads::Auto, isa: only })));
    variants.push(("parallel/2".into(), Some(Kernel::Parallel { threads: two, isa: only })));
    variants.push(("reference/2".into(), None));
    variants.push(("reference-symmetric/2".into(), None));
    println!("n,variant,threads,best_ns,median_ns");
    for size in sizes {
        let n: usize = size.parse::<f64>().map_err(|_| format!("bad n '{size}'"))? as usize;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.618).fract() * 10.0).collect();
        let y: Vec<f64> = x.iter().enumerate().map(|(i, &xi)| 2.0 * xi + 0.5 + ((i as f64 * 0.37).sin() * 0.1)).collect();
        // Laid out as `linreg` lays out a dataset (from a cache line, on whole huge pages from a
        // third of the L2 up), not as two vectors wherever the allocator puts them.
        let data = Columns::copied(&x, &y)?;
        let (x, y) = (data.x(), data.y());
        // A batch of ~2 ms of single-thread work, at least 3 epochs.
        let epochs = ((2e-3 / (n as f64 * 0.1e-9)) as u64).clamp(3, 200_000);
        let per_point_epoch = |seconds: f64| seconds / (n as f64 * epochs as f64) * 1e9;
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        for _ in 0..rounds {
            for (k, (name, kernel)) in variants.iter().enumerate() {
                // Each a whole fit (its final MSE included), its threads started before the clock.
                let seconds = match kernel {
                    Some(kernel) => {
                        kernel
                            .with_fits(x, y, epochs, |fit| {
                                let start = Instant::now();
                                fit(epochs, 1e-4);
                                start.elapsed().as_secs_f64()
                            })
                            .0
                    }
                    None if name.starts_with("reference-symmetric") => symmetric_pair_fit(x, y, isa, epochs, 1e-4).1,
                    None => with_spinning_pair(x, y, isa, |sums| {
                        let start = Instant::now();
                        linreg::fit::descend(x, y, epochs, 1e-4, sums);
                        start.elapsed().as_secs_f64()
                    }),
                };
                times[k].push(per_point_epoch(seconds));
            }
        }
        for (k, (name, kernel)) in variants.iter().enumerate() {
            let mut t = times[k].clone();
            t.sort_by(f64::total_cmp);
            let threads = kernel.map_or(2, |k| k.threads_used(n));
            println!("{n},{name},{threads},{:.4},{:.4}", t[0], t[t.len() / 2]);
        }
    }
    Ok(())
}
