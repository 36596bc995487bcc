//! One epoch's gradient sums for every kernel at n = 10^3 … 10^7, in process: the view beside the
//! orchestrator's whole-process one. `cargo bench -p linreg`; throughput is points a second. The
//! standalone runs of the same kernels, and the two-thread reference, are benches/standalone.py.
//!
//! 10^3 points (16 KB) live in L1, 10^4 (160 KB) in L2, 10^5 (1.6 MB) in a 2 MiB L2 (an Emerald
//! Rapids) or in two 1 MiB ones when split over two cores (a Zen 5) and in L3 otherwise, 10^6
//! (16 MB) in L3, 10^7 (160 MB) in memory beyond an L3 of 32 MiB or less, where every kernel that
//! keeps up is bounded by the memory bandwidth (16 bytes a point); a VM shown 260–300 MiB of L3
//! keeps part of it cached (`make bench-kernels`' `mem` size goes beyond).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use linreg::kernels::parallel;
use linreg::{Columns, Isa, IsaChoice, Kernel, Threads};

const SIZES: [usize; 5] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Every kernel worth comparing on this machine: the simd and parallel kernels on each instruction
/// set the CPU has, parallel on every core; and where the CPU has two vector sets, `--isa auto`
/// beside them, which should match the faster of the two at each size.
fn kernels() -> Vec<Kernel> {
    let threads = Threads::Exactly(parallel::default_threads());
    let mut kernels = vec![Kernel::Scalar];
    let mut choices: Vec<IsaChoice> = Isa::available().into_iter().rev().map(IsaChoice::Only).collect();
    if Isa::avx512().is_some() {
        choices.push(IsaChoice::Fastest);
    }
    for isa in choices {
        kernels.push(Kernel::Simd(isa));
        kernels.push(Kernel::Parallel { threads, isa });
    }
    kernels
}

/// A noisy line, x in [-1, 1), from a fixed LCG so every run sums the same data; laid out as
/// `linreg` lays out a dataset (`linreg::placement`: from a cache line, on whole huge pages from a
/// third of the L2 up).
fn data(n: usize) -> Columns {
    let mut state = 0x853c_49e6_748f_ea9bu64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f64> = (0..n).map(|_| 2.0 * uniform() - 1.0).collect();
    let y: Vec<f64> = x.iter().map(|&xi| 3.0 * xi + 0.5 + 0.1 * (uniform() - 0.5)).collect();
    Columns::copied(&x, &y).expect("finite values of equal length")
}

fn gradient_sums(c: &mut Criterion) {
    let mut group = c.benchmark_group("gradient_sums");
    for n in SIZES {
        let data = data(n);
        let (x, y) = (data.x(), data.y());
        group.throughput(Throughput::Elements(n as u64));
        // An epoch at 10^7 takes ~10 ms: 10 samples are plenty and keep the whole run to minutes.
        group.sample_size(if n >= 10_000_000 { 10 } else { 30 });
        for kernel in kernels() {
            let id = BenchmarkId::new(format!("{}/{}t", kernel.label(), kernel.threads_used(n)), n);
            kernel.with_gradient_sums(x, y, u64::MAX, |sums| {
                group.bench_function(id, |bencher| bencher.iter(|| sums(black_box(0.4), black_box(0.1))));
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = gradient_sums
}
criterion_main!(benches);
