//! The yardstick for the parallel kernel: the same epochs on two halves of the data, two threads
//! that spin on each other without ever sleeping, and nothing else (no blocks, no stealing). What
//! two well-synchronised threads can do on this machine when they have it to themselves; it loses
//! badly when they do not, which is why the real kernel does not spin forever.
//!
//! Prints the protocol's result line (implementation "reference-spin"), so the standalone bench
//! (benches/standalone.py) times it like `linreg`:
//!
//!     cargo run --release -p linreg --example reference_kernel -- DATA.npy EPOCHS LEARNING_RATE [ISA]

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use linreg::kernels::simd;
use linreg::protocol::{ResultLine, ResultStatus};
use linreg::{Dataset, FitStatus, Isa};

fn main() -> ExitCode {
    match run() {
        Ok(line) => {
            println!("{}", line.to_json());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("reference_kernel: error: {message}");
            ExitCode::from(2)
        }
    }
}

#[repr(align(128))]
struct Padded(AtomicU64);

fn run() -> Result<ResultLine, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, epochs, learning_rate, rest @ ..] = args.as_slice() else {
        return Err("usage: reference_kernel DATA.npy EPOCHS LEARNING_RATE [ISA]".into());
    };
    let epochs: u64 = epochs.parse().map_err(|_| format!("bad epochs '{epochs}'"))?;
    let learning_rate: f64 = learning_rate.parse().map_err(|_| format!("bad learning rate '{learning_rate}'"))?;
    let isa = match rest.first() {
        Some(name) => Isa::by_name(name).map_err(|e| e.to_string())?,
        None => Isa::detect(),
    };
    let load_start = Instant::now();
    let data = Dataset::read(std::path::Path::new(data)).map_err(|e| e.to_string())?;
    let load_seconds = load_start.elapsed().as_secs_f64();

    let half = (data.len() / 2).next_multiple_of(32).min(data.len());
    let (own_x, other_x) = data.x.split_at(half);
    let (own_y, other_y) = data.y.split_at(half);
    let go = Padded(AtomicU64::new(0));
    let params = [AtomicU64::new(0), AtomicU64::new(0)];
    let done = Padded(AtomicU64::new(0));
    let partial = [AtomicU64::new(0), AtomicU64::new(0)];

    let (fit, train_seconds) = std::thread::scope(|scope| {
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
        let mut sums = |w: f64, b: f64| {
            epoch += 1;
            params[0].store(w.to_bits(), Ordering::Relaxed);
            params[1].store(b.to_bits(), Ordering::Relaxed);
            go.0.store(epoch, Ordering::Release);
            let (ex, e) = simd::gradient_sums(isa, own_x, own_y, w, b);
            while done.0.load(Ordering::Acquire) != epoch {
                std::hint::spin_loop();
            }
            (ex + f64::from_bits(partial[0].load(Ordering::Relaxed)), e + f64::from_bits(partial[1].load(Ordering::Relaxed)))
        };
        let start = Instant::now();
        let fit = linreg::fit::descend(&data.x, &data.y, epochs, learning_rate, &mut sums);
        let seconds = start.elapsed().as_secs_f64();
        go.0.store(u64::MAX, Ordering::Release);
        (fit, seconds)
    });

    let (status, diverged_at_epoch) = match fit.status {
        FitStatus::Ok => (ResultStatus::Ok, None),
        FitStatus::Diverged { at_epoch } => (ResultStatus::Diverged, Some(at_epoch)),
    };
    let finite = |v: f64| v.is_finite().then_some(v);
    Ok(ResultLine {
        implementation: "reference-spin".into(),
        kernel: Some(format!("reference/{isa}")),
        threads: Some(2),
        n: data.len() as u64,
        epochs,
        learning_rate,
        w: finite(fit.w),
        b: finite(fit.b),
        mse: finite(fit.mse),
        status,
        epochs_run: fit.epochs_run,
        diverged_at_epoch,
        load_seconds,
        train_seconds,
    })
}
