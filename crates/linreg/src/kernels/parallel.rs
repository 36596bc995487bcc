//! The `parallel` kernel: the `simd` kernel over fixed blocks of points, shared out among threads
//! that live for the whole fit and meet once an epoch, waiting by spinning briefly, then sleeping.
//!
//! **Blocks, not halves.** The data is cut into blocks of [`BLOCK_POINTS`]; each thread owns a
//! contiguous run of them (so a block stays in the same core's L2 from one epoch to the next) and
//! claims its own first, then any left in the others' runs. The calling thread, once nothing is left
//! to claim, waits about one block's time for blocks still in flight and then sums any still
//! missing itself. So a worker that the hypervisor or another process keeps off its CPU costs the
//! epoch about one block, not its share: on a busy 2-vCPU VM the kernel falls back to about the
//! single-thread speed instead of waiting for a descheduled thread. A block sums to the same bits
//! whoever sums it, and the calling thread adds the blocks in block order, so the result depends on
//! n alone: not on the thread count, nor on which thread summed what, nor on timing.
//!
//! **One meeting an epoch.** The calling thread publishes (w, b) and an epoch number and sums
//! blocks itself; workers wait for the next epoch number. There is no second barrier and the
//! calling thread never sleeps inside an epoch. A worker spins on the epoch number for
//! [`SPIN_ROUNDS`] rounds and only then parks (a futex on Linux); the calling thread checks its
//! flag and unparks it only if it sleeps and epochs are long enough for that to pay
//! ([`WAKE_WORTH`]), so in the steady state an epoch makes no system call.
//!
//! Why spin at all, and why so briefly: on this Firecracker/KVM guest a parked thread's vCPU halts,
//! and waking it is a futex wake plus an IPI through the hypervisor: 11–70 µs an epoch measured for
//! the old barrier (two futex crossings an epoch), more than a whole epoch's work below ~10^5
//! points. Spinning without bound is no better: when the other vCPU is busy with another process,
//! a waiter that spins burns the time slice its partner needs, and a long `pause` loop makes KVM's
//! pause filter exit to the host and give the vCPU away, which is the likely reason an earlier
//! spin of 16k `pause`s (~0.7 ms here) then a condvar was erratic (26–115 ms at 10^4 points, 1000
//! epochs). A bound of ~10 µs covers the wait of an epoch where both threads run, and gives the
//! CPU up soon when they do not.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::simd::{self, Isa};

/// Points in a block: 256 KiB of x and y, 1–2 µs of summing in cache, 4–8 µs from memory. Large
/// enough that claiming a block (one compare-and-swap on the thread's own cache line) and storing
/// its sums cost < 1% of summing it; small enough that 10^6 points make 61 blocks, so the last
/// block of an epoch leaves the other thread idle for a few percent of it at most. A multiple of
/// every vector block (32 points for AVX-512).
pub const BLOCK_POINTS: usize = 16_384;

/// `--threads auto` uses one thread below this many points, every core from it on: 1 MiB of x and
/// y, one core's L2 on the Zen 5 this was measured on. Below it one core keeps the data in its L2
/// and a second thread gains at most ~25% on a quiet machine and loses on a busy one; from it on,
/// split over two cores, the data fits both L2s and two threads are ~2× faster. Measured in
/// process, best 2 ms batch of 21, interleaved (`reference_kernel --best-of 21 ...`, load average
/// 5–6 from other tenants), simd vs 2 threads, ns per point per epoch: 1.7·10^4 (2 blocks) 0.076
/// vs 0.084; 2.5·10^4 0.065 vs 0.057; 3.3·10^4 0.059 vs 0.049; 5·10^4 0.072 vs 0.052; 6.6·10^4
/// 0.096 vs 0.045; 10^5 0.119 vs 0.045. Medians of the same batches, what a busy machine gives:
/// two threads slower at 1.7·10^4, 2.5·10^4 and 3.3·10^4 (0.091 vs 0.078, 0.071 vs 0.070, 0.069 vs
/// 0.064), faster at 6.6·10^4 (0.074 vs 0.100), even at 10^5 (0.124 vs 0.127).
pub const AUTO_MIN_POINTS: usize = (1 << 20) / 16;

/// Rounds of a wait that spin (one `pause` each, 42 ns measured on Zen 5) before the thread parks:
/// ~20 µs, more than the calling thread's end of an epoch (about one block plus adding the blocks)
/// when both threads run. See the module comment for why the bound is short.
const SPIN_ROUNDS: u32 = 512;

/// Bits of a cursor (a block index) or of a `summed_by` word (a thread index) below the epoch
/// number (mod 2^40) that tags them, so that a thread that slept through an epoch can neither claim
/// a block of a later one with the parameters of an earlier one, nor have its late sums read.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
/// At most 2^24 − 1 blocks, so that an index one past the last still fits: [`block_len`]
/// grows the blocks for data larger than that many × BLOCK_POINTS.
const MAX_BLOCKS: usize = (1 << INDEX_BITS) - 1;

/// How many threads the parallel kernel may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Threads {
    /// One thread below [`AUTO_MIN_POINTS`], every core this process may use from there on.
    Auto,
    /// At most this many (fewer when there are fewer blocks than threads).
    Exactly(NonZeroUsize),
}

/// Every core this process may run on (affinity and cgroup quota included), 1 if unknown. Asked
/// once a process: the answer takes ~20 system calls.
pub fn default_threads() -> NonZeroUsize {
    static THREADS: OnceLock<NonZeroUsize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
}

/// Points per block for `n` points: [`BLOCK_POINTS`], or more when n would make more than
/// [`MAX_BLOCKS`] blocks.
fn block_len(n: usize, min_len: usize) -> usize {
    let needed = n.div_ceil(MAX_BLOCKS);
    if needed <= min_len {
        min_len
    } else {
        needed.next_multiple_of(32)
    }
}

/// How many threads a fit of `n` points uses: one per block at most. `Threads::Auto` asks
/// [`default_threads`] only when n is large enough for it to matter.
pub fn threads_used(n: usize, threads: Threads) -> usize {
    threads_for(n, threads, BLOCK_POINTS)
}

fn threads_for(n: usize, threads: Threads, min_block_len: usize) -> usize {
    let blocks = n.div_ceil(block_len(n, min_block_len)).max(1);
    let wanted = match threads {
        Threads::Auto if n < AUTO_MIN_POINTS => 1,
        Threads::Auto => default_threads().get(),
        Threads::Exactly(t) => t.get(),
    };
    wanted.min(blocks)
}

/// Runs `body` with a function from (w, b) to one epoch's (Σ e_i·x_i, Σ e_i), computed by
/// `threads_used(n, threads)` threads that are started and running before `body` is called (so a
/// caller that times inside `body` times the epochs alone) and stopped after it returns.
pub fn with_gradient_sums<R>(
    x: &[f64],
    y: &[f64],
    threads: Threads,
    isa: Isa,
    body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
) -> R {
    with_blocks(x, y, threads, isa, BLOCK_POINTS, body)
}

/// [`with_gradient_sums`] with blocks of at least `min_block_len` points: small blocks let the
/// tests run many threads on little data.
fn with_blocks<R>(
    x: &[f64],
    y: &[f64],
    threads: Threads,
    isa: Isa,
    min_block_len: usize,
    body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
) -> R {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    let block_len = block_len(x.len(), min_block_len);
    let threads = threads_for(x.len(), threads, min_block_len);
    let work = Work { x, y, isa, block_len };
    if work.blocks() == 1 {
        // The simd kernel itself, with not even the block loop around it: at 100 points an epoch
        // is ~40 ns, and a few ns of bookkeeping would show.
        return body(&mut |w, b| simd::gradient_sums(isa, x, y, w, b));
    }
    if threads == 1 {
        return body(&mut |w, b| work.sum_in_order(w, b));
    }

    let pool = Pool::new(work.blocks(), threads);
    let started = Barrier::new(threads);
    std::thread::scope(|scope| {
        let workers: Vec<Thread> = (1..threads)
            .map(|t| {
                let (pool, work, started) = (&pool, &work, &started);
                scope
                    .spawn(move || {
                        started.wait();
                        pool.serve(t, work);
                    })
                    .thread()
                    .clone()
            })
            .collect();
        started.wait();
        // Dropped after `body` returns (or unwinds): tells the workers to return and wakes them.
        let _stop = StopOnDrop { pool: &pool, workers: &workers };
        let mut epoch = 0u64;
        // The first epoch always wakes a parked worker: its length is not known yet.
        let mut last_epoch = Duration::MAX;
        body(&mut |w, b| {
            epoch += 1;
            let epoch_start = Instant::now();
            pool.start_epoch(epoch, w, b, &workers, last_epoch >= WAKE_WORTH);
            let summing_start = Instant::now();
            let summed_here = pool.sum_blocks(0, epoch, w, b, &work);
            // About one block's time: what a worker that is running needs at most to finish the
            // block it holds.
            let patience = summing_start.elapsed() / summed_here.max(1) + PATIENCE_SLACK;
            let total = pool.total(epoch, w, b, &work, patience);
            last_epoch = epoch_start.elapsed();
            total
        })
    })
}

/// The calling thread wakes a parked worker only when the last epoch took at least this long. A
/// futex wake costs the waker ~8 µs here and the worker runs ~14 µs after it (medians of 2000
/// park/unpark round trips to a parked thread, 2-vCPU Zen 5 Firecracker guest, 2026-12-01), so
/// for shorter epochs waking would cost more than the help; the worker then rejoins by itself
/// within [`PARK_TIMEOUT`].
const WAKE_WORTH: Duration = Duration::from_micros(50);

/// A parked worker wakes by itself this often to see whether epochs are running (see
/// [`WAKE_WORTH`]); the cost, a timer interrupt, falls on its own vCPU, not the calling thread.
const PARK_TIMEOUT: Duration = Duration::from_millis(1);

/// Added to the calling thread's wait for blocks in flight: a few cache-line round trips between
/// cores, so that a worker finishing at the same moment is not summed over again.
const PATIENCE_SLACK: Duration = Duration::from_micros(2);

/// The data and how it is cut into blocks.
struct Work<'a> {
    x: &'a [f64],
    y: &'a [f64],
    isa: Isa,
    block_len: usize,
}

impl Work<'_> {
    fn blocks(&self) -> usize {
        self.x.len().div_ceil(self.block_len).max(1)
    }

    fn block_sums(&self, block: usize, w: f64, b: f64) -> (f64, f64) {
        let start = block * self.block_len;
        let end = (start + self.block_len).min(self.x.len());
        simd::gradient_sums(self.isa, &self.x[start..end], &self.y[start..end], w, b)
    }

    /// What the pool computes, on the calling thread alone: block sums added in block order.
    fn sum_in_order(&self, w: f64, b: f64) -> (f64, f64) {
        (0..self.blocks()).map(|block| self.block_sums(block, w, b)).fold((0.0, 0.0), add)
    }
}

fn add((ex, e): (f64, f64), (more_ex, more_e): (f64, f64)) -> (f64, f64) {
    (ex + more_ex, e + more_e)
}

/// A value alone on its pair of cache lines (the adjacent-line prefetcher pulls lines in pairs), so
/// that one thread's writes do not slow another thread's reads of its neighbour.
#[repr(align(128))]
struct Padded<T>(T);

/// What the threads share. Thread 0 is the calling thread.
struct Pool {
    /// The epoch the calling thread last published, and its (w, b).
    go: Padded<Go>,
    /// Per thread: the next block of its own run, tagged with the epoch (see [`INDEX_BITS`]).
    cursors: Vec<Padded<AtomicU64>>,
    /// Per thread: where its run of blocks ends.
    run_ends: Vec<usize>,
    /// Per thread: whether it is parked, waiting for an epoch.
    parked: Vec<Padded<AtomicBool>>,
    /// Per block: which thread summed it, tagged with the epoch it summed it in.
    summed_by: Vec<AtomicU64>,
    /// Per thread, per block: its (Σ e·x, Σ e). Each thread writes only its own row, so a worker
    /// that wakes late and finishes a block of an epoch long gone overwrites nothing anyone reads:
    /// `summed_by` names the row to read, and is tagged.
    partials: Vec<Vec<[AtomicU64; 2]>>,
}

struct Go {
    epoch: AtomicU64,
    w: AtomicU64,
    b: AtomicU64,
    stop: AtomicBool,
}

fn tag(epoch: u64) -> u64 {
    epoch << INDEX_BITS
}

fn tag_of(word: u64) -> u64 {
    word & !INDEX_MASK
}

impl Pool {
    fn new(blocks: usize, threads: usize) -> Pool {
        let run_end = |t: usize| blocks * (t + 1) / threads;
        Pool {
            go: Padded(Go { epoch: AtomicU64::new(0), w: AtomicU64::new(0), b: AtomicU64::new(0), stop: AtomicBool::new(false) }),
            // Epoch 0 is never run: every run starts exhausted.
            cursors: (0..threads).map(|t| Padded(AtomicU64::new(run_end(t) as u64))).collect(),
            run_ends: (0..threads).map(run_end).collect(),
            parked: (0..threads).map(|_| Padded(AtomicBool::new(false))).collect(),
            summed_by: (0..blocks).map(|_| AtomicU64::new(0)).collect(),
            partials: (0..threads).map(|_| (0..blocks).map(|_| [AtomicU64::new(0), AtomicU64::new(0)]).collect()).collect(),
        }
    }

    fn run_start(&self, t: usize) -> usize {
        if t == 0 {
            0
        } else {
            self.run_ends[t - 1]
        }
    }

    /// Calling thread: rewinds every run, then publishes (w, b) and the epoch, and wakes workers
    /// that parked if `wake`. The runs are rewound first: a worker that sees the new (w, b) also sees the
    /// new cursors, so it cannot claim a block of this epoch with stale parameters or vice versa.
    fn start_epoch(&self, epoch: u64, w: f64, b: f64, workers: &[Thread], wake: bool) {
        for (t, cursor) in self.cursors.iter().enumerate() {
            cursor.0.store(tag(epoch) | self.run_start(t) as u64, Ordering::Relaxed);
        }
        self.go.0.w.store(w.to_bits(), Ordering::Release);
        self.go.0.b.store(b.to_bits(), Ordering::Release);
        self.go.0.epoch.store(epoch, Ordering::SeqCst);
        for (parked, worker) in self.parked[1..].iter().zip(workers) {
            if wake && parked.0.load(Ordering::SeqCst) {
                worker.unpark();
            }
        }
    }

    /// Claims and sums blocks of `epoch`, thread `t`'s own run first, then what is left of the
    /// others'; returns how many it summed.
    fn sum_blocks(&self, t: usize, epoch: u64, w: f64, b: f64, work: &Work) -> u32 {
        let threads = self.cursors.len();
        let mut summed = 0;
        for victim in (t..threads).chain(0..t) {
            while let Some(block) = self.claim(victim, epoch) {
                let sums = work.block_sums(block, w, b);
                self.record(t, block, epoch, sums);
                summed += 1;
            }
        }
        summed
    }

    fn record(&self, t: usize, block: usize, epoch: u64, (sum_ex, sum_e): (f64, f64)) {
        let slot = &self.partials[t][block];
        slot[0].store(sum_ex.to_bits(), Ordering::Relaxed);
        slot[1].store(sum_e.to_bits(), Ordering::Relaxed);
        // Publishes the two stores above to whoever reads this tag.
        self.summed_by[block].store(tag(epoch) | t as u64, Ordering::Release);
    }

    /// The next unclaimed block of thread `victim`'s run in `epoch`, if any.
    fn claim(&self, victim: usize, epoch: u64) -> Option<usize> {
        let cursor = &self.cursors[victim].0;
        let mut current = cursor.load(Ordering::Relaxed);
        loop {
            let block = (current & INDEX_MASK) as usize;
            if tag_of(current) != tag(epoch) || block >= self.run_ends[victim] {
                return None;
            }
            match cursor.compare_exchange_weak(current, current + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(block),
                Err(actual) => current = actual,
            }
        }
    }
    /// Calling thread, once nothing is left to claim: the block sums added in block order, each
    /// read from the row of the thread that summed it this epoch. Blocks still in flight are
    /// waited for until `patience` has passed, then summed here: their worker is off its CPU.
    fn total(&self, epoch: u64, w: f64, b: f64, work: &Work, patience: Duration) -> (f64, f64) {
        let deadline = Instant::now() + patience;
        let mut patient = true;
        let mut total = (0.0, 0.0);
        for (block, summed_by) in self.summed_by.iter().enumerate() {
            let sums = loop {
                let word = summed_by.load(Ordering::Acquire);
                if tag_of(word) == tag(epoch) {
                    let [sum_ex, sum_e] = &self.partials[(word & INDEX_MASK) as usize][block];
                    break (f64::from_bits(sum_ex.load(Ordering::Relaxed)), f64::from_bits(sum_e.load(Ordering::Relaxed)));
                }
                if !patient || Instant::now() >= deadline {
                    patient = false;
                    break work.block_sums(block, w, b);
                }
                std::hint::spin_loop();
            };
            total = add(total, sums);
        }
        total
    }

    /// Worker `t`'s life: wait for an epoch, help sum it, again.
    fn serve(&self, t: usize, work: &Work) {
        let mut seen = 0u64;
        loop {
            wait_until(&self.parked[t].0, || self.go.0.epoch.load(Ordering::SeqCst) != seen);
            seen = self.go.0.epoch.load(Ordering::Acquire);
            if self.go.0.stop.load(Ordering::Acquire) {
                return;
            }
            let w = f64::from_bits(self.go.0.w.load(Ordering::Acquire));
            let b = f64::from_bits(self.go.0.b.load(Ordering::Acquire));
            // A worker that woke late may read a later epoch's (w, b) than `seen`: then the cursors
            // it sees are that epoch's too (rewound before (w, b) were stored), tagged other than
            // `seen`, and it claims nothing.
            self.sum_blocks(t, seen, w, b, work);
        }
    }
}

/// Spins on `ready` for [`SPIN_ROUNDS`], then parks until it holds, waking every [`PARK_TIMEOUT`]
/// to look again. `parked` is the waiter's flag: set (sequentially consistent) before its last
/// look, so that whoever makes `ready` true either is seen by that look or sees the flag and may
/// unpark the waiter.
fn wait_until(parked: &AtomicBool, ready: impl Fn() -> bool) {
    for _ in 0..SPIN_ROUNDS {
        if ready() {
            return;
        }
        std::hint::spin_loop();
    }
    loop {
        parked.store(true, Ordering::SeqCst);
        if ready() {
            parked.store(false, Ordering::Relaxed);
            return;
        }
        std::thread::park_timeout(PARK_TIMEOUT);
        parked.store(false, Ordering::Relaxed);
        // Spin again before parking again: epochs may be running that nobody wakes us for.
        for _ in 0..SPIN_ROUNDS {
            if ready() {
                return;
            }
            std::hint::spin_loop();
        }
    }
}

/// Tells the workers to return and wakes them: a last epoch with `stop` set.
struct StopOnDrop<'a> {
    pool: &'a Pool,
    workers: &'a [Thread],
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let go = &self.pool.go.0;
        go.stop.store(true, Ordering::Release);
        go.epoch.fetch_add(1, Ordering::SeqCst);
        for worker in self.workers {
            worker.unpark();
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn exactly(n: usize) -> Threads {
        Threads::Exactly(NonZeroUsize::new(n).unwrap())
    }

    #[test]
    fn small_data_uses_fewer_threads_and_auto_one_below_the_threshold() {
        assert_eq!(threads_used(5, exactly(3)), 1);
        assert_eq!(threads_used(BLOCK_POINTS, exactly(2)), 1, "one block");
        assert_eq!(threads_used(BLOCK_POINTS + 1, exactly(2)), 2);
        assert_eq!(threads_used(3 * BLOCK_POINTS, exactly(8)), 3);
        assert_eq!(threads_used(AUTO_MIN_POINTS - 1, Threads::Auto), 1);
        assert_eq!(threads_used(10_000_000, Threads::Auto), default_threads().get());
        assert_eq!(threads_for(40, exactly(3), 16), 3);
    }

    #[test]
    fn blocks_grow_past_the_index_bits() {
        assert_eq!(block_len(1000, BLOCK_POINTS), BLOCK_POINTS);
        let huge = MAX_BLOCKS * BLOCK_POINTS * 3;
        assert!(huge.div_ceil(block_len(huge, BLOCK_POINTS)) <= MAX_BLOCKS);
    }

    /// Noisy, not exactly summable data: the pool must still match the one-thread order bit for
    /// bit, since each block is summed the same way whoever sums it.
    fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.731).sin() * 7.0).collect();
        let y = x.iter().enumerate().map(|(i, &xi)| 1.3 * xi - 0.4 + (i as f64 * 1.7).cos()).collect();
        (x, y)
    }

    #[test]
    fn any_thread_count_sums_bit_for_bit_like_one() {
        let (x, y) = data(1003);
        for isa in Isa::available() {
            let want = with_blocks(&x, &y, exactly(1), isa, 32, |sums| (0..50).map(|i| sums(i as f64 * 0.01, 1.0)).collect::<Vec<_>>());
            for t in 2..=4 {
                let got = with_blocks(&x, &y, exactly(t), isa, 32, |sums| (0..50).map(|i| sums(i as f64 * 0.01, 1.0)).collect::<Vec<_>>());
                assert_eq!(got, want, "{t} threads, {isa}");
            }
        }
    }

    #[test]
    fn block_order_sums_agree_with_one_pass() {
        let (x, y) = data(100_003);
        let isa = Isa::detect();
        let (ex, e) = with_gradient_sums(&x, &y, exactly(2), isa, |sums| sums(0.5, -0.25));
        let (want_ex, want_e) = super::super::scalar::gradient_sums(&x, &y, 0.5, -0.25);
        assert!((ex - want_ex).abs() <= 1e-9 * want_ex.abs(), "{ex} vs {want_ex}");
        assert!((e - want_e).abs() <= 1e-9 * want_e.abs().max(1.0), "{e} vs {want_e}");
    }

    #[test]
    fn a_body_that_never_sums_still_stops_the_workers() {
        let x = vec![1.0; 100];
        assert_eq!(with_blocks(&x, &x, exactly(3), Isa::PORTABLE, 16, |_| 42), 42);
    }

    #[test]
    fn a_body_that_panics_stops_the_workers_and_passes_the_panic_on() {
        let x = vec![1.0; 100];
        let outcome = std::panic::catch_unwind(|| {
            with_blocks(&x, &x, exactly(3), Isa::PORTABLE, 16, |sums| {
                sums(1.0, 1.0);
                panic!("in the body")
            })
        });
        assert!(outcome.is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Random data and lengths on pools of 1–4 threads with small blocks: the same bits as one
        /// thread, and the scalar kernel's sums within what reordering can change.
        #[test]
        fn pools_agree_with_one_thread_and_with_scalar(
            points in proptest::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 1..2000),
            w in -10.0f64..10.0, b in -10.0f64..10.0, threads in 2usize..=4,
        ) {
            let (x, y): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
            let scalar = super::super::scalar::gradient_sums(&x, &y, w, b);
            let magnitude: f64 = x.iter().zip(&y).map(|(&xi, &yi)| ((w * xi).abs() + b.abs() + yi.abs()) * (1.0 + xi.abs())).sum();
            for isa in Isa::available() {
                let one = with_blocks(&x, &y, exactly(1), isa, 32, |sums| sums(w, b));
                let pool = with_blocks(&x, &y, exactly(threads), isa, 32, |sums| (0..3).map(|_| sums(w, b)).last());
                proptest::prop_assert_eq!(pool, Some(one), "{} threads, {}", threads, isa);
                let tolerance = 4.0 * f64::EPSILON * x.len() as f64 * magnitude;
                proptest::prop_assert!((one.0 - scalar.0).abs() <= tolerance && (one.1 - scalar.1).abs() <= tolerance);
            }
        }
    }

    #[test]
    fn many_short_epochs_with_more_threads_than_cpus_finish() {
        // Oversubscribed: workers are often off-CPU, so epochs run with late and parked workers.
        let (x, y) = data(640);
        let want = Work { x: &x, y: &y, isa: Isa::PORTABLE, block_len: 16 }.sum_in_order(0.3, 0.2);
        let got = with_blocks(&x, &y, exactly(8), Isa::PORTABLE, 16, |sums| (0..2000).map(|_| sums(0.3, 0.2)).last());
        assert_eq!(got, Some(want));
    }
}
