//! The `parallel` kernel: the `simd` kernel over contiguous chunks, one per thread, on threads that
//! live for the whole fit.
//!
//! The pool is `std::thread::scope` plus one `Barrier`, crossed twice an epoch: once after the
//! calling thread has published (w, b), once after every thread has written its partial sums. The
//! calling thread sums the first chunk itself, so `threads` threads run in all and a one-thread pool
//! spawns nothing. Partial sums are combined in chunk order, so the result depends on the thread
//! count but not on timing.
//!
//! Cost: two barrier crossings an epoch, each a futex wake of a parked thread: ~11–13 µs an epoch
//! measured on a 2-vCPU EPYC VM. That is more than the summing itself for small data, so there the
//! simd kernel on one thread is faster: 10^3 points take 11 µs an epoch here against 0.12 µs, and
//! even at 10^5 (24 µs against 20 µs) and 10^6 the pool loses. It pays off once the data lives in
//! memory and one core cannot draw the machine's bandwidth on its own: at 10^7 points, 0.45 against
//! 0.67 ns a point. The pool is kept for every n all the same (small chunks are what the tests run
//! it on); a spin-then-park barrier would be the lever for small n.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, OnceLock};

use super::simd::{self, Isa};

/// Chunks are whole multiples of this many points: one AVX2 block, two cache lines of each column,
/// so that only the last chunk has a ragged end.
const CHUNK_ALIGN: usize = 16;

/// Every core this process may run on (affinity and cgroup quota included), 1 if unknown. Asked
/// once a process: the answer takes ~20 system calls.
pub fn default_threads() -> NonZeroUsize {
    static THREADS: OnceLock<NonZeroUsize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
}

/// Points per chunk: n split evenly over the threads, rounded up to a multiple of [`CHUNK_ALIGN`].
/// `threads: None` means [`default_threads`], which is only asked when n could fill more than one
/// chunk: finding it costs ~20 system calls (affinity, cgroup files), noticeable next to a tiny fit.
fn chunk_len(n: usize, threads: Option<NonZeroUsize>) -> usize {
    if n <= CHUNK_ALIGN {
        return CHUNK_ALIGN;
    }
    let threads = threads.unwrap_or_else(default_threads);
    n.div_ceil(threads.get()).div_ceil(CHUNK_ALIGN) * CHUNK_ALIGN
}

/// How many threads a fit of `n` points actually uses: fewer than asked when n is too small to give
/// each thread a chunk of its own.
pub fn threads_used(n: usize, threads: Option<NonZeroUsize>) -> usize {
    n.div_ceil(chunk_len(n, threads)).max(1)
}

/// Runs `body` with a function from (w, b) to one epoch's (Σ e_i·x_i, Σ e_i), computed by
/// `threads_used(n, threads)` threads that are started before `body` and stopped after it returns.
pub fn with_gradient_sums<R>(
    x: &[f64],
    y: &[f64],
    threads: Option<NonZeroUsize>,
    isa: Isa,
    body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
) -> R {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    let chunk_len = chunk_len(x.len(), threads);
    let mut chunks = x.chunks(chunk_len).zip(y.chunks(chunk_len));
    let Some((own_x, own_y)) = chunks.next() else {
        return body(&mut |_, _| (0.0, 0.0));
    };
    let others: Vec<(&[f64], &[f64])> = chunks.collect();
    if others.is_empty() {
        return body(&mut |w, b| simd::gradient_sums(isa, own_x, own_y, w, b));
    }

    let pool = Pool::new(others.len());
    std::thread::scope(|scope| {
        for ((chunk_x, chunk_y), slot) in others.into_iter().zip(&pool.partials) {
            let pool = &pool;
            scope.spawn(move || loop {
                pool.barrier.wait();
                if pool.stop.load(Ordering::Acquire) {
                    return;
                }
                let (w, b) = pool.params();
                slot.store(simd::gradient_sums(isa, chunk_x, chunk_y, w, b));
                pool.barrier.wait();
            });
        }
        // Dropped after `body` returns (or unwinds): releases the workers from their wait.
        let _stop = StopOnDrop(&pool);
        body(&mut |w, b| {
            pool.publish(w, b);
            pool.barrier.wait();
            let (mut sum_ex, mut sum_e) = simd::gradient_sums(isa, own_x, own_y, w, b);
            pool.barrier.wait();
            for slot in &pool.partials {
                let (ex, e) = slot.load();
                sum_ex += ex;
                sum_e += e;
            }
            (sum_ex, sum_e)
        })
    })
}

/// What the calling thread and the workers share. The barrier orders every access: (w, b) are
/// written before the first crossing of an epoch and read after it, partials written before the
/// second and read after it; the atomics only make that expressible without locks.
struct Pool {
    barrier: Barrier,
    stop: AtomicBool,
    w: AtomicU64,
    b: AtomicU64,
    partials: Vec<Partial>,
}

impl Pool {
    fn new(workers: usize) -> Self {
        Pool {
            barrier: Barrier::new(workers + 1),
            stop: AtomicBool::new(false),
            w: AtomicU64::new(0),
            b: AtomicU64::new(0),
            partials: (0..workers).map(|_| Partial::default()).collect(),
        }
    }

    fn publish(&self, w: f64, b: f64) {
        self.w.store(w.to_bits(), Ordering::Release);
        self.b.store(b.to_bits(), Ordering::Release);
    }

    fn params(&self) -> (f64, f64) {
        (f64::from_bits(self.w.load(Ordering::Acquire)), f64::from_bits(self.b.load(Ordering::Acquire)))
    }
}

/// One worker's (Σ e·x, Σ e), on a cache line of its own so that writing it does not disturb the
/// other workers.
#[derive(Default)]
#[repr(align(64))]
struct Partial {
    sum_ex: AtomicU64,
    sum_e: AtomicU64,
}

impl Partial {
    fn store(&self, (sum_ex, sum_e): (f64, f64)) {
        self.sum_ex.store(sum_ex.to_bits(), Ordering::Release);
        self.sum_e.store(sum_e.to_bits(), Ordering::Release);
    }

    fn load(&self) -> (f64, f64) {
        (f64::from_bits(self.sum_ex.load(Ordering::Acquire)), f64::from_bits(self.sum_e.load(Ordering::Acquire)))
    }
}

/// Tells the workers to return and lets them see it, by crossing the barrier with `stop` set.
struct StopOnDrop<'a>(&'a Pool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Release);
        self.0.barrier.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: usize) -> Option<NonZeroUsize> {
        Some(NonZeroUsize::new(n).unwrap())
    }

    #[test]
    fn chunks_cover_the_data_and_small_data_uses_fewer_threads() {
        for n in [1, 3, 15, 16, 17, 33, 100, 1000, 100_003] {
            for t in 1..=5 {
                let len = chunk_len(n, nz(t));
                assert_eq!(len % CHUNK_ALIGN, 0);
                assert!(len * t >= n, "n {n}, {t} threads: chunks of {len} do not cover");
                assert!(threads_used(n, nz(t)) <= t);
            }
        }
        assert_eq!(threads_used(5, nz(3)), 1);
        assert_eq!(threads_used(40, nz(3)), 3);
        assert_eq!(threads_used(100_003, nz(2)), 2);
        assert_eq!(threads_used(16, None), 1, "one chunk, whatever the machine");
        assert!(threads_used(100_003, None) >= 1);
    }

    #[test]
    fn the_pool_sums_what_one_thread_sums_and_stops() {
        let x: Vec<f64> = (0..1003).map(|i| (i % 17) as f64).collect();
        let y: Vec<f64> = (0..1003).map(|i| (i % 11) as f64).collect();
        for t in 1..=4 {
            // Small integers: exact in any order, so the pool must match bit for bit.
            let got = with_gradient_sums(&x, &y, nz(t), Isa::PORTABLE, |sums| (0..5).map(|i| sums(i as f64, 1.0)).collect::<Vec<_>>());
            let want: Vec<_> = (0..5).map(|i| simd::gradient_sums(Isa::PORTABLE, &x, &y, i as f64, 1.0)).collect();
            assert_eq!(got, want, "{t} threads");
        }
    }

    #[test]
    fn a_body_that_never_sums_still_stops_the_workers() {
        let x = vec![1.0; 100];
        assert_eq!(with_gradient_sums(&x, &x, nz(3), Isa::PORTABLE, |_| 42), 42);
    }
}
