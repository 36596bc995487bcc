//! The `parallel` kernel: the `simd` kernel over fixed blocks of points, shared out among threads
//! that live for the whole fit and meet once an epoch at a barrier that spins briefly, then sleeps.
//!
//! **Blocks, not halves.** The data is cut into blocks of [`BLOCK_POINTS`]; each thread owns a
//! contiguous run of them (so a block stays in the same core's L2 from one epoch to the next) and
//! claims its own first, then any left in the others' runs. A thread the hypervisor or another
//! process keeps off its CPU therefore costs the epoch at most the block it is in, not its whole
//! share: on a shared 2-vCPU VM the kernel degrades to the single-thread speed instead of waiting.
//! Each block's sums go to a slot of their own and the calling thread adds the slots in block order,
//! so the result depends on n alone — not on the thread count, nor on which thread summed what.
//!
//! **One meeting an epoch.** The calling thread publishes (w, b) and an epoch number, sums blocks
//! itself, then waits until every block of the epoch is counted done; the workers wait for the next
//! epoch number. No second barrier: a worker that finishes early simply waits for the next epoch.
//! Every wait spins on one atomic for [`SPIN_ROUNDS`] rounds and only then parks (a futex on
//! Linux); whoever publishes checks the sleeper's flag and unparks it only if it sleeps, so in the
//! steady state an epoch makes no system call at all.
//!
//! Why spin at all, and why so briefly: on this Firecracker/KVM guest a parked thread's vCPU halts,
//! and waking it is a futex wake plus an IPI through the hypervisor: 11–70 µs an epoch measured for
//! the old two-futex barrier, more than a whole epoch's work below ~10^5 points. Spinning forever is
//! no better: when the other vCPU is busy with another process, a waiter that spins burns the time
//! slice its partner needs, and a long `pause` loop makes KVM's pause filter exit to the host and
//! yield the vCPU, which is what made an earlier spin of 16k `pause`s then a condvar erratic (26–115
//! ms at 10^4 points, 1000 epochs). A bound of a few microseconds covers the wait of an epoch where
//! both threads run, and gives the CPU up soon when they do not.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, OnceLock};
use std::thread::Thread;

use super::simd::{self, Isa};

/// Points in a block: 256 KiB of x and y, 1–2 µs of summing in cache, 4–8 µs from memory. Large
/// enough that claiming a block (one compare-and-swap on the thread's own cache line) and storing
/// its sums cost < 1% of summing it; small enough that 10^6 points make 61 blocks, so the last
/// block of an epoch leaves the other thread idle for a few percent of it at most. A multiple of
/// every vector block (32 points for AVX-512).
pub const BLOCK_POINTS: usize = 16_384;

/// `--threads auto` uses one thread below this many points, every core from it on. Measured on the
/// 2-vCPU EPYC (Zen 5) VM, 2 threads against 1, standalone `linreg` runs (see the table in the
/// commit that set it and the bench `reference` group): below 2 blocks there is nothing to share;
/// at 10^5 points (7 blocks, L2-resident) two threads already pay.
pub const AUTO_MIN_POINTS: usize = 4 * BLOCK_POINTS;

/// Rounds of a wait that spin (one `pause` each, ~40 ns on Zen 5) before the thread parks: ~10 µs.
/// See the module comment for why the bound is short.
const SPIN_ROUNDS: u32 = 256;

/// Bits of a cursor or a progress word that hold a block index or count; the rest hold the epoch
/// number (mod 2^40), so that a thread that slept through a whole epoch cannot claim a block of a
/// later one with the parameters of an earlier one.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
/// At most 2^24 − 1 blocks, so that an index or count one past the last still fits: [`block_len`]
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
        body(&mut |w, b| {
            epoch += 1;
            pool.start_epoch(epoch, w, b, &workers);
            let done_here = pool.sum_blocks(0, epoch, w, b, &work);
            pool.wait_for_epoch(epoch, done_here);
            pool.total()
        })
    })
}

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
        (0..self.blocks()).map(|block| self.block_sums(block, w, b)).fold((0.0, 0.0), |(ex, e), (bex, be)| (ex + bex, e + be))
    }
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
    /// Per thread: blocks it finished this epoch, tagged; and whether it is parked.
    progress: Vec<Padded<Progress>>,
    /// Per block: its (Σ e·x, Σ e) of the current epoch.
    partials: Vec<[AtomicU64; 2]>,
    /// The calling thread parks while waiting for the last blocks; the worker that finishes them
    /// wakes it.
    caller: Thread,
    caller_parked: Padded<AtomicBool>,
}

struct Go {
    epoch: AtomicU64,
    w: AtomicU64,
    b: AtomicU64,
    stop: AtomicBool,
}

#[derive(Default)]
struct Progress {
    done: AtomicU64,
    parked: AtomicBool,
}

fn tag(epoch: u64) -> u64 {
    epoch << INDEX_BITS
}

fn tag_of(word: u64) -> u64 {
    word & !INDEX_MASK
}

impl Pool {
    fn new(blocks: usize, threads: usize) -> Pool {
        let run_start = |t: usize| blocks * t / threads;
        Pool {
            go: Padded(Go { epoch: AtomicU64::new(0), w: AtomicU64::new(0), b: AtomicU64::new(0), stop: AtomicBool::new(false) }),
            // Epoch 0 is never run: every run starts exhausted.
            cursors: (0..threads).map(|t| Padded(AtomicU64::new(run_start(t + 1) as u64))).collect(),
            run_ends: (0..threads).map(|t| run_start(t + 1)).collect(),
            progress: (0..threads).map(|_| Padded(Progress::default())).collect(),
            partials: (0..blocks).map(|_| [AtomicU64::new(0), AtomicU64::new(0)]).collect(),
            caller: std::thread::current(),
            caller_parked: Padded(AtomicBool::new(false)),
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
    /// that parked. The runs are rewound first: a worker that sees the new (w, b) also sees the
    /// new cursors, so it cannot claim a block of this epoch with stale parameters or vice versa.
    fn start_epoch(&self, epoch: u64, w: f64, b: f64, workers: &[Thread]) {
        for (t, cursor) in self.cursors.iter().enumerate() {
            cursor.0.store(tag(epoch) | self.run_start(t) as u64, Ordering::Relaxed);
        }
        self.go.0.w.store(w.to_bits(), Ordering::Release);
        self.go.0.b.store(b.to_bits(), Ordering::Release);
        self.go.0.epoch.store(epoch, Ordering::SeqCst);
        for (progress, worker) in self.progress[1..].iter().zip(workers) {
            if progress.0.parked.load(Ordering::SeqCst) {
                worker.unpark();
            }
        }
    }

    /// Claims and sums blocks of `epoch`, thread `t`'s own run first, then what is left of the
    /// others'; returns how many it summed.
    fn sum_blocks(&self, t: usize, epoch: u64, w: f64, b: f64, work: &Work) -> u64 {
        let threads = self.cursors.len();
        let mut done = 0u64;
        for victim in (t..threads).chain(0..t) {
            while let Some(block) = self.claim(victim, epoch) {
                let (sum_ex, sum_e) = work.block_sums(block, w, b);
                self.partials[block][0].store(sum_ex.to_bits(), Ordering::Relaxed);
                self.partials[block][1].store(sum_e.to_bits(), Ordering::Relaxed);
                done += 1;
                if t != 0 {
                    // Publishes the partials above to the calling thread (it reads `done` first).
                    self.progress[t].0.done.store(tag(epoch) | done, Ordering::SeqCst);
                }
            }
        }
        done
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

    /// Blocks of `epoch` finished so far, the calling thread's `done_here` included.
    fn done(&self, epoch: u64, done_here: u64) -> u64 {
        let by_workers: u64 = self.progress[1..]
            .iter()
            .map(|p| p.0.done.load(Ordering::SeqCst))
            .filter(|&word| tag_of(word) == tag(epoch))
            .map(|word| word & INDEX_MASK)
            .sum();
        done_here + by_workers
    }

    /// Calling thread: waits until every block of `epoch` is summed.
    fn wait_for_epoch(&self, epoch: u64, done_here: u64) {
        let blocks = self.partials.len() as u64;
        wait_until(&self.caller_parked.0, || self.done(epoch, done_here) == blocks);
    }

    /// Calling thread, after [`Pool::wait_for_epoch`]: the block sums added in block order.
    fn total(&self) -> (f64, f64) {
        self.partials.iter().fold((0.0, 0.0), |(ex, e), [pex, pe]| {
            (ex + f64::from_bits(pex.load(Ordering::Relaxed)), e + f64::from_bits(pe.load(Ordering::Relaxed)))
        })
    }

    /// Worker `t`'s life: wait for an epoch, help sum it, wake the calling thread if it sleeps.
    fn serve(&self, t: usize, work: &Work) {
        let mut seen = 0u64;
        loop {
            wait_until(&self.progress[t].0.parked, || self.go.0.epoch.load(Ordering::SeqCst) != seen);
            seen = self.go.0.epoch.load(Ordering::Acquire);
            if self.go.0.stop.load(Ordering::Acquire) {
                return;
            }
            let w = f64::from_bits(self.go.0.w.load(Ordering::Acquire));
            let b = f64::from_bits(self.go.0.b.load(Ordering::Acquire));
            // A worker that woke late may read a later epoch's (w, b) than `seen`: then the cursors
            // it sees are that epoch's too (rewound before (w, b) were stored), tagged other than
            // `seen`, and it claims nothing.
            if self.sum_blocks(t, seen, w, b, work) > 0 && self.caller_parked.0.load(Ordering::SeqCst) {
                self.caller.unpark();
            }
        }
    }
}

/// Spins on `ready` for [`SPIN_ROUNDS`], then parks until it holds. `parked` is the waiter's flag:
/// set (sequentially consistent) before its last look, so that whoever makes `ready` true either is
/// seen by that look or sees the flag and unparks the waiter.
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
        std::thread::park();
        parked.store(false, Ordering::Relaxed);
        if ready() {
            return;
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

    #[test]
    fn many_short_epochs_with_more_threads_than_cpus_finish() {
        // Oversubscribed: workers are often off-CPU, so epochs run with late and parked workers.
        let (x, y) = data(640);
        let want = Work { x: &x, y: &y, isa: Isa::PORTABLE, block_len: 16 }.sum_in_order(0.3, 0.2);
        let got = with_blocks(&x, &y, exactly(8), Isa::PORTABLE, 16, |sums| (0..2000).map(|_| sums(0.3, 0.2)).last());
        assert_eq!(got, Some(want));
    }
}
