//! The `parallel` kernel: the `simd` kernel over fixed blocks of points, shared out among threads
//! that live for the whole fit and meet once an epoch, waiting by spinning briefly, then sleeping.
//!
//! **Blocks, not halves.** The data is cut into blocks of about [`BLOCK_POINTS`], their count a
//! multiple of the cores (see [`block_len`]); each thread owns a
//! contiguous run of them (so a block stays in the same core's L2 from one epoch to the next) and
//! claims its own first, then any left in the others' runs. The calling thread, once nothing is left
//! to claim, waits about one block's time for blocks still in flight and then sums any still
//! missing itself. So a worker that the hypervisor or another process keeps off its CPU costs the
//! epoch about one block, not its share: on a busy 2-vCPU VM the kernel falls back to about the
//! single-thread speed instead of waiting for a descheduled thread. A block sums to the same bits
//! whoever sums it, and the calling thread adds the blocks in block order, so the result depends on
//! n and the machine's core count alone: not on the thread count asked for, nor on which thread
//! summed what, nor on timing.
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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::isa_choice::{IsaChoice, Picker};
use super::simd::{self, Isa};
use super::Ran;

/// Points in a block at most (see [`block_len`]): 256 KiB of x and y, 1–2 µs of summing in cache,
/// 4–8 µs from memory. Large
/// enough that claiming a block (one compare-and-swap on the thread's own cache line) and storing
/// its sums cost < 1% of summing it; small enough that 10^6 points make 61 blocks, so the last
/// block of an epoch leaves the other thread idle for a few percent of it at most. A multiple of
/// every vector block (32 points for AVX-512).
///
/// A unit of sharing out work, not a tile sized to a cache: each thread streams its own contiguous
/// run of blocks, so what stays in a core's cache from one epoch to the next does not depend on the
/// block's size, and the size is no property of one CPU's caches. Measured (2-vCPU Zen 3, family
/// 25 model 1, 15 paired rounds of 10^9 point-epochs at 10^5, 10^6 and 10^7 points, medians of the
/// pairs' ratios against 16 384): 8 192 and 32 768 within 0.93–1.04× (8 192 then 0.98–1.00× in 41
/// more pairs at 3·10^5 and 10^6: level), 65 536 slower at 10^6 (1.04× on two threads, 1.21× with
/// `auto`): coarser blocks leave more of an epoch's end to one thread when the other is held up.
pub const BLOCK_POINTS: usize = 16_384;

/// `--threads auto` decides between one thread and every core by measuring, at the start of each
/// fit: with two blocks or more, the pool starts, and its first epochs alternate between the pool
/// and the calling thread alone ([`CALIBRATION_EPOCHS`] of each); the faster by median wins for
/// the rest of the fit. The sums are the same bits either way (blocks added in block order).
/// Measured, not a size: where a second thread starts to pay depends on the core's caches and on
/// what it costs to meet once an epoch, which differ from CPU to CPU and from a quiet machine to a
/// busy one. The size that was used before, 65 536 points (1 MiB, one core's L2 on the Zen 5 it
/// was found on), left 1.6–1.9× on the table on a 2-vCPU Zen 3 (512 KiB L2) between 26 000 and
/// 66 000 points, where two threads were already faster (`standalone.py`, 5 interleaved runs of
/// 10^9 point-epochs: 0.121 vs 0.193 ns at 26 000 points, 0.127 vs 0.236 at 33 000).
pub const CALIBRATION_EPOCHS: usize = 8;

/// An epoch that takes this long on the pool is long enough for the pool to pay whatever meeting
/// once an epoch costs (a futex wake and an IPI through the hypervisor: ~22 µs measured, see
/// [`WAKE_WORTH`]), and a worker kept off its CPU costs it one block at most (the calling thread
/// sums what is late): `auto` keeps the pool without trying one thread, so a fit of few long
/// epochs (10^6 points and more) spends none of them alone.
const LONG_EPOCH: Duration = Duration::from_micros(100);

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
    /// Every core this process may use, or one thread when the fit's first epochs measure one
    /// faster (see [`CALIBRATION_EPOCHS`]).
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

/// Points per block for `n` points: up to `nominal_len` ([`BLOCK_POINTS`]; see also
/// [`NOMINAL_PER_SMALLEST`] for less data than that), the data cut into
/// blocks of one length (to a multiple of 32 points) whose count is a multiple of this machine's
/// cores, so that no thread sums a whole block while another has a short one or none: cut at the
/// nominal length, 20 000 points made blocks of 16 384 and 3 616, and two threads took 1.45× the
/// time of two threads on halves (Zen 3, `standalone.py`, 7 interleaved runs). Longer blocks only
/// when n would make more than [`MAX_BLOCKS`]. Depends on n and the machine alone, never on the
/// threads asked for, so every thread count sums the same blocks, the same bits.
fn block_len(n: usize, nominal_len: usize) -> usize {
    let cores = default_threads().get();
    let blocks = n.div_ceil(nominal_len);
    let blocks = if blocks <= 1 {
        // Less than one nominal block: a block a core, none shorter than the smallest.
        let blocks = (n / (nominal_len / NOMINAL_PER_SMALLEST).max(1)).min(cores);
        if blocks <= 1 {
            return nominal_len;
        }
        blocks
    } else {
        blocks.next_multiple_of(cores).min(MAX_BLOCKS)
    };
    n.div_ceil(blocks).next_multiple_of(VECTOR_BLOCK_POINTS.min(nominal_len))
}

/// Blocks start on a whole vector block of the widest instruction set (AVX-512: 4 × 8 points).
const VECTOR_BLOCK_POINTS: usize = 32;

/// Data of less than one block is still cut, a block a core, down to blocks of 1/8 of
/// [`BLOCK_POINTS`] (2 048 points, 32 KiB: ~0.3 µs of summing in L1, about what one meeting of two
/// spinning threads costs), so that `auto` measures whether the cores pay there: at 10^4 points two
/// threads took 0.119 ns a point against one thread's 0.161, at 6 000 points 0.141 against 0.162
/// (Zen 3, 9 paired rounds of 10^9 point-epochs); with one block up to 16 384 points every fit
/// below ran on one thread. Below two of the smallest no split can pay what `auto`'s first
/// epochs spend finding that out.
const NOMINAL_PER_SMALLEST: usize = 8;

/// How many blocks `n` points make, with blocks of up to `nominal_len` (see [`block_len`]).
fn block_count(n: usize, nominal_len: usize) -> usize {
    n.div_ceil(block_len(n, nominal_len)).max(1)
}

/// Whether `n` points make more than one block (else the parallel kernel is the simd kernel).
pub fn splits(n: usize) -> bool {
    block_count(n, BLOCK_POINTS) > 1
}

/// How many threads a fit of `n` points may use: one per block at most (`Threads::Auto` may then
/// settle on one: [`with_gradient_sums`] says what it used).
pub fn threads_used(n: usize, threads: Threads) -> usize {
    threads_for(n, threads, BLOCK_POINTS)
}

fn threads_for(n: usize, threads: Threads, nominal_block_len: usize) -> usize {
    let blocks = block_count(n, nominal_block_len);
    if blocks == 1 {
        return 1;
    }
    let wanted = match threads {
        Threads::Auto => default_threads().get(),
        Threads::Exactly(t) => t.get(),
    };
    wanted.min(blocks)
}

/// Whether an epoch runs on the pool or on the calling thread alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pool,
    Alone,
}

/// `Threads::Auto`'s choice, epoch by epoch: [`CALIBRATION_EPOCHS`] on the pool, then as many
/// on the calling thread alone, then the faster by median stays. The first [`SETTLING_EPOCHS`] of
/// each are not counted: they bring the data into the caches the other way round (alternating
/// epoch by epoch measured neither way: each alone epoch evicted the pool's halves from the L2s,
/// and `auto` chose one thread at 66 000 points, where two are 1.8× faster). An epoch of the
/// pool that takes [`LONG_EPOCH`] or more settles it on the pool at once.
#[derive(Debug, Clone)]
struct Chooser {
    epochs: usize,
    pool: Vec<Duration>,
    alone: Vec<Duration>,
    chosen: Option<Mode>,
}

/// One thread is kept only when its median epoch is this much faster than the pool's: a few
/// calibration epochs on a 2-vCPU VM differ by more than 10% from noise alone, and with two
/// blocks or more the pool is the faster on a quiet machine (it chose one thread at 66 000
/// points in some runs without this margin).
const ALONE_MARGIN: f64 = 0.9;

/// Epochs at the start of each half of the calibration that are not counted.
const SETTLING_EPOCHS: usize = 2;

impl Chooser {
    fn new() -> Chooser {
        Chooser { epochs: 0, pool: Vec::with_capacity(CALIBRATION_EPOCHS), alone: Vec::with_capacity(CALIBRATION_EPOCHS), chosen: None }
    }

    /// A choice made already (`Threads::Exactly`: the pool, always).
    fn settled(mode: Mode) -> Chooser {
        Chooser { epochs: 0, pool: Vec::new(), alone: Vec::new(), chosen: Some(mode) }
    }

    fn next(&self) -> Mode {
        match self.chosen {
            Some(mode) => mode,
            None if self.epochs < CALIBRATION_EPOCHS => Mode::Pool,
            None => Mode::Alone,
        }
    }

    fn record(&mut self, mode: Mode, took: Duration) {
        if self.chosen.is_some() {
            return;
        }
        let counted = self.epochs % CALIBRATION_EPOCHS >= SETTLING_EPOCHS;
        self.epochs += 1;
        match mode {
            Mode::Pool if took >= LONG_EPOCH => self.chosen = Some(Mode::Pool),
            Mode::Pool if counted => self.pool.push(took),
            Mode::Alone if counted => self.alone.push(took),
            _ => {}
        }
        if self.chosen.is_none() && self.epochs >= 2 * CALIBRATION_EPOCHS {
            let (pool, alone) = (median(&mut self.pool), median(&mut self.alone));
            self.chosen = Some(if alone.as_secs_f64() < ALONE_MARGIN * pool.as_secs_f64() { Mode::Alone } else { Mode::Pool });
        }
    }

    /// The threads the fit ran on: the pool's unless it settled on the calling thread alone.
    fn threads(&self, pool_threads: usize) -> usize {
        if self.chosen == Some(Mode::Alone) {
            1
        } else {
            pool_threads
        }
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or(Duration::MAX)
}

/// Runs `body` with a function from (w, b) to one epoch's (Σ e_i·x_i, Σ e_i), computed by
/// `threads_used(n, threads)` threads that are started and running before `body` is called (so a
/// caller that times inside `body` times the epochs alone) and stopped after it returns. Returns
/// what `body` returned and what the epochs ran on (with `Threads::Auto`, one thread when its
/// first epochs measured the calling thread alone faster; with `IsaChoice::Fastest`, the
/// instruction set its first epoch measured fastest on one block).
pub fn with_gradient_sums<R>(
    x: &[f64],
    y: &[f64],
    threads: Threads,
    isa: IsaChoice,
    epochs: u64,
    body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
) -> (R, Ran) {
    with_blocks(x, y, threads, isa, BLOCK_POINTS, epochs, body)
}

/// [`with_gradient_sums`] with blocks of up to `nominal_block_len` points (see [`block_len`]):
/// small blocks let the tests run many threads on little data.
fn with_blocks<R>(
    x: &[f64],
    y: &[f64],
    threads: Threads,
    isa: IsaChoice,
    nominal_block_len: usize,
    epochs: u64,
    body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
) -> (R, Ran) {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    let block_len = block_len(x.len(), nominal_block_len);
    let requested = threads;
    let threads = threads_for(x.len(), threads, nominal_block_len);
    // Timed on one block, what each thread sums at a time.
    let mut picker = Picker::new(isa, x, y, block_len, epochs);
    let work = Work { x, y, isa: OnceLock::new(), block_len };
    if work.blocks() == 1 {
        // The simd kernel itself, with not even the block loop around it: at 100 points an epoch
        // is ~40 ns, and a few ns of bookkeeping would show.
        let result = body(&mut |w, b| simd::gradient_sums(picker.isa(w, b), x, y, w, b));
        return (result, Ran { threads: 1, isa: Some(picker.used()) });
    }
    if threads == 1 {
        let result = body(&mut |w, b| {
            work.isa.get_or_init(|| picker.isa(w, b));
            work.sum_in_order(w, b)
        });
        return (result, Ran { threads: 1, isa: Some(picker.used()) });
    }
    let mut chooser = if requested == Threads::Auto { Chooser::new() } else { Chooser::settled(Mode::Pool) };

    let pool = Pool::new(work.blocks(), threads);
    let running = AtomicUsize::new(0);
    let (result, threads) = std::thread::scope(|scope| {
        let caller_cpu = current_cpu();
        let workers: Vec<Thread> = (1..threads)
            .map(|t| {
                let (pool, work, running) = (&pool, &work, &running);
                scope
                    .spawn(move || {
                        // Linux often starts a new thread on its parent's CPU (6 of 12 fits at
                        // 10^4 points here): it then takes turns with the calling thread until
                        // the load balancer moves it, milliseconds later. See `leave_cpu`.
                        leave_cpu(caller_cpu);
                        running.fetch_add(1, Ordering::Release);
                        pool.serve(t, work);
                    })
                    .thread()
                    .clone()
            })
            .collect();
        wait_for_workers(&running, threads - 1);
        // Dropped after `body` returns (or unwinds): tells the workers to return and wakes them.
        let stop = StopOnDrop { pool: &pool, workers: &workers };
        let mut epoch = 0u64;
        // What parked workers have cost the calling thread since it last woke them: the time it
        // summed blocks itself in pool epochs that found a worker parked (see [`WAKE_WORTH`]).
        // The first epoch always wakes a parked worker: nothing is known yet.
        let mut owed = Duration::MAX;
        // The calling thread's time a block, from the last epoch it timed.
        let mut block_time = Duration::ZERO;
        let result = body(&mut |w, b| {
            // Chosen before the first epoch is published (workers read it only after), and
            // outside the epoch's clock, so that it does not sway the choice of threads.
            work.isa.get_or_init(|| picker.isa(w, b));
            let mode = chooser.next();
            // The clock is read only where something depends on it: a read costs ~35 ns here
            // (Zen 3 VM), and at 5 000 points, an epoch of ~0.8 µs, the two reads an epoch of
            // an `auto` fit settled on one thread made it 10% slower than the simd kernel.
            let calibrating = chooser.chosen.is_none();
            let epoch_start = calibrating.then(Instant::now);
            let total = match mode {
                // The workers are not called: they spin a little, then park, as between fits.
                Mode::Alone => {
                    // The workers spin a few µs, then park: the next epoch on the pool must wake
                    // them, or it waits for their own timeout (up to PARK_TIMEOUT, 1 ms) while the
                    // calling thread sums alone. Unwoken, `auto` at 10^5 points ran 27% slower
                    // than two threads in 200-epoch fits (Zen 3, `reference_kernel --best-of`).
                    owed = Duration::MAX;
                    work.sum_in_order(w, b)
                }
                Mode::Pool => {
                    epoch += 1;
                    let wake = owed >= WAKE_WORTH;
                    let any_parked = pool.start_epoch(epoch, w, b, &workers, wake);
                    // Timed where a parked worker's cost is added up, and every RETIME_EPOCHS
                    // to keep `block_time` current; else the two clock reads would be ~7% of an
                    // epoch at 10^4 points.
                    let summing_start = (any_parked || epoch % RETIME_EPOCHS == 1).then(Instant::now);
                    let summed_here = pool.sum_blocks(0, epoch, w, b, &work);
                    let own_share = summing_start.map(|start| start.elapsed());
                    owed = match own_share {
                        Some(share) if any_parked && !wake => owed.saturating_add(share),
                        _ => Duration::ZERO,
                    };
                    if let Some(share) = own_share.filter(|_| summed_here > 0) {
                        block_time = share / summed_here;
                    }
                    // About one block's time: what a worker that is running needs at most to
                    // finish the block it holds.
                    pool.total(epoch, w, b, &work, block_time + PATIENCE_SLACK)
                }
            };
            if let Some(start) = epoch_start {
                chooser.record(mode, start.elapsed());
                if chooser.chosen == Some(Mode::Alone) {
                    // Settled on the calling thread: the workers return now rather than wake every
                    // PARK_TIMEOUT for the rest of the fit to look for epochs that will not come.
                    stop.now();
                }
            }
            total
        });
        (result, chooser.threads(threads))
    });
    (result, Ran { threads, isa: Some(picker.used()) })
}

/// The calling thread wakes a parked worker once the time it summed blocks itself, over the pool
/// epochs since it last woke them that found a worker parked, reaches this, and at the first pool
/// epoch after epochs alone. A futex wake costs the waker ~8 µs here and the worker runs ~14 µs
/// after it (medians of 2000 park/unpark round trips to a parked thread, 2-vCPU Zen 5 Firecracker
/// guest, 2026-12-01), so waking costs the calling thread at most 8 µs in every 50 µs it sums
/// alone, and a worker that parked (its CPU was taken from it for longer than its spin) is back
/// within ~50 µs of work rather than at its own [`PARK_TIMEOUT`]: with 1 µs epochs (10^4 points)
/// waking only where one epoch took 50 µs left the worker asleep for ~600 epochs a park, and it
/// missed 3–13% of the epochs of a 10^5-epoch fit (1–6% with the time added up; instrumented,
/// 2-vCPU Zen 3, 4 fits each).
const WAKE_WORTH: Duration = Duration::from_micros(50);

/// A parked worker wakes by itself this often to see whether epochs are running (see
/// [`WAKE_WORTH`]); the cost, a timer interrupt, falls on its own vCPU, not the calling thread.
const PARK_TIMEOUT: Duration = Duration::from_millis(1);

/// Pool epochs the calling thread times its own blocks in, one in this many (and every epoch
/// that finds a worker parked): enough to follow a machine that slows down.
const RETIME_EPOCHS: u64 = 16;

/// Added to the calling thread's wait for blocks in flight: a few cache-line round trips between
/// cores, so that a worker finishing at the same moment is not summed over again.
const PATIENCE_SLACK: Duration = Duration::from_micros(2);

/// The data and how it is cut into blocks.
struct Work<'a> {
    x: &'a [f64],
    y: &'a [f64],
    /// Set by the calling thread in the first epoch, before it publishes it (see [`IsaChoice`]).
    isa: OnceLock<Isa>,
    block_len: usize,
}

impl Work<'_> {
    fn blocks(&self) -> usize {
        self.x.len().div_ceil(self.block_len).max(1)
    }

    fn block_sums(&self, block: usize, w: f64, b: f64) -> (f64, f64) {
        let start = block * self.block_len;
        let end = (start + self.block_len).min(self.x.len());
        let isa = *self.isa.get().expect("the instruction set is chosen before the first epoch is published");
        simd::gradient_sums(isa, &self.x[start..end], &self.y[start..end], w, b)
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
    /// that parked if `wake`; returns whether any worker was parked. The runs are rewound first: a
    /// worker that sees the new (w, b) also sees the new cursors, so it cannot claim a block of
    /// this epoch with stale parameters or vice versa.
    fn start_epoch(&self, epoch: u64, w: f64, b: f64, workers: &[Thread], wake: bool) -> bool {
        let mut any_parked = false;
        for (t, cursor) in self.cursors.iter().enumerate() {
            cursor.0.store(tag(epoch) | self.run_start(t) as u64, Ordering::Relaxed);
        }
        self.go.0.w.store(w.to_bits(), Ordering::Release);
        self.go.0.b.store(b.to_bits(), Ordering::Release);
        self.go.0.epoch.store(epoch, Ordering::SeqCst);
        for (parked, worker) in self.parked[1..].iter().zip(workers) {
            if parked.0.load(Ordering::SeqCst) {
                any_parked = true;
                if wake {
                    worker.unpark();
                }
            }
        }
        any_parked
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
        // Read the clock only once a block is found missing: in most epochs none is.
        let mut deadline = None;
        let mut patient = true;
        let mut total = (0.0, 0.0);
        for (block, summed_by) in self.summed_by.iter().enumerate() {
            let sums = loop {
                let word = summed_by.load(Ordering::Acquire);
                if tag_of(word) == tag(epoch) {
                    let [sum_ex, sum_e] = &self.partials[(word & INDEX_MASK) as usize][block];
                    break (f64::from_bits(sum_ex.load(Ordering::Relaxed)), f64::from_bits(sum_e.load(Ordering::Relaxed)));
                }
                if !patient || Instant::now() >= *deadline.get_or_insert_with(|| Instant::now() + patience) {
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

/// The calling thread spins until `workers` workers run, for [`START_PATIENCE`] at most. Behind a
/// barrier the last to arrive goes on at once while the others are still being woken (a futex
/// wake and an IPI to a halted vCPU, tens of µs here), so `auto`'s 16 calibration epochs of ~1 µs
/// could be over before the worker ran: at 5 000 points `auto` kept one thread in 11 of 15 fits
/// behind the barrier, in 1 of 15 with this wait (Zen 3, interleaved). A worker later than the
/// bound is not waited for: the kernel sums what a missing worker does not. Workers count
/// themselves running once they are off the calling thread's CPU ([`leave_cpu`]).
fn wait_for_workers(running: &AtomicUsize, workers: usize) {
    let start = Instant::now();
    while running.load(Ordering::Acquire) < workers && start.elapsed() < START_PATIENCE {
        for _ in 0..64 {
            std::hint::spin_loop();
        }
    }
}

/// The CPU the calling thread runs on, if the system says.
fn current_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: no arguments; -1 on failure.
        usize::try_from(unsafe { libc::sched_getcpu() }).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Moves the calling thread off `cpu` if it runs there and may run elsewhere, without pinning it:
/// its affinity is narrowed to the other CPUs (the kernel migrates it before the call returns),
/// then given back whole, and a running thread is not moved back while its CPU is its own. For a
/// worker started on the calling thread's CPU. Instrumented (2-vCPU Zen 3, family 25 model 1,
/// 10^4 points, 10^5 epochs on two threads), such a worker summed both blocks of the first epoch
/// (it had the CPU, the calling thread waited), then parked and woke on its timeout on the same
/// CPU again and again until the balancer moved it after 560–1 700 epochs; `auto`'s calibration,
/// its first 16 epochs, then measured two threads no faster than one, and kept one thread in 5 of
/// 31 short fits at 10^4 points and 14 of 31 at 5 000 (0 and 7 with this move; 2 000 and 4 000
/// epochs, interleaved). Elsewhere than Linux, nothing.
fn leave_cpu(cpu: Option<usize>) {
    #[cfg(target_os = "linux")]
    if let Some(cpu) = cpu.filter(|&cpu| current_cpu() == Some(cpu) && cpu < libc::CPU_SETSIZE as usize) {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: cpu_set_t is plain bits; both calls get its size and a pointer to one.
        unsafe {
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, size, &mut allowed) != 0 {
                return;
            }
            let mut elsewhere = allowed;
            libc::CPU_CLR(cpu, &mut elsewhere);
            if libc::CPU_COUNT(&elsewhere) > 0 && libc::sched_setaffinity(0, size, &elsewhere) == 0 {
                libc::sched_setaffinity(0, size, &allowed);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// How long the calling thread waits for its workers to start before the first epoch.
const START_PATIENCE: Duration = Duration::from_millis(10);

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

impl StopOnDrop<'_> {
    /// Tells the workers to return and wakes them; once is enough, again is harmless.
    fn now(&self) {
        let go = &self.pool.go.0;
        go.stop.store(true, Ordering::Release);
        go.epoch.fetch_add(1, Ordering::SeqCst);
        for worker in self.workers {
            worker.unpark();
        }
    }
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.now();
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn exactly(n: usize) -> Threads {
        Threads::Exactly(NonZeroUsize::new(n).unwrap())
    }

    #[test]
    fn small_data_uses_fewer_threads_and_auto_at_most_every_core() {
        let cores = default_threads().get();
        let smallest = BLOCK_POINTS / NOMINAL_PER_SMALLEST;
        assert_eq!(threads_used(5, exactly(3)), 1);
        assert_eq!(threads_used(2 * smallest - 1, exactly(2)), 1, "one block");
        assert!(!splits(2 * smallest - 1));
        assert_eq!(threads_used(2 * smallest, exactly(2)), cores.min(2), "a block a core");
        assert_eq!(threads_used(BLOCK_POINTS, Threads::Auto), cores.min(NOMINAL_PER_SMALLEST), "a block a core");
        assert_eq!(threads_used(BLOCK_POINTS + 1, exactly(2)), 2);
        // Three blocks' worth, cut into a multiple of the cores.
        assert_eq!(threads_used(3 * BLOCK_POINTS, exactly(8)), 3usize.next_multiple_of(default_threads().get()).min(8));
        assert_eq!(threads_used(BLOCK_POINTS + 1, Threads::Auto), cores, "two blocks, cut into a multiple of the cores");
        assert_eq!(threads_used(10_000_000, Threads::Auto), default_threads().get());
        assert_eq!(threads_for(40, exactly(3), 16), 3);
    }

    fn micros(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_micros(v)).collect()
    }

    /// Feeds `pool` and `alone` epoch times to a chooser in the order it asks for them.
    fn choose(pool: &[u64], alone: &[u64]) -> Chooser {
        let (mut pool, mut alone) = (micros(pool).into_iter(), micros(alone).into_iter());
        let mut chooser = Chooser::new();
        for _ in 0..2 * CALIBRATION_EPOCHS {
            let mode = chooser.next();
            let took = match mode {
                Mode::Pool => pool.next(),
                Mode::Alone => alone.next(),
            };
            chooser.record(mode, took.expect("the chooser asks for no more than it said"));
        }
        chooser
    }

    #[test]
    fn auto_times_the_pool_then_one_thread_and_keeps_the_faster_by_median() {
        let mut chooser = Chooser::new();
        for _ in 0..CALIBRATION_EPOCHS {
            assert_eq!((chooser.next(), chooser.chosen), (Mode::Pool, None), "the pool first");
            chooser.record(Mode::Pool, Duration::from_micros(10));
        }
        assert_eq!(chooser.next(), Mode::Alone);
        // The pool faster in most epochs, one outlier each way, its settling epochs slow: the pool.
        let faster_pool = choose(&[80, 80, 5, 6, 90, 5, 6, 5], &[9, 9, 2, 9, 10, 9, 9, 9]);
        assert_eq!((faster_pool.chosen, faster_pool.threads(2)), (Some(Mode::Pool), 2));
        // A busy second CPU: the pool waits for its worker in most epochs.
        let busy = choose(&[30, 40, 8, 35, 50, 30, 45, 33], &[30, 30, 9, 10, 9, 9, 8, 9]);
        assert_eq!((busy.chosen, busy.next(), busy.threads(2)), (Some(Mode::Alone), Mode::Alone, 1));
    }

    #[test]
    fn a_long_epoch_on_the_pool_settles_it_at_once() {
        let mut chooser = Chooser::new();
        chooser.record(Mode::Pool, LONG_EPOCH);
        assert_eq!((chooser.chosen, chooser.next()), (Some(Mode::Pool), Mode::Pool));
        chooser.record(Mode::Alone, Duration::from_nanos(1));
        assert_eq!(chooser.chosen, Some(Mode::Pool), "a choice made stays");
    }

    #[test]
    fn auto_sums_bit_for_bit_like_one_thread_through_and_after_its_calibration() {
        let (x, y) = data(1003);
        let epochs = |sums: &mut dyn FnMut(f64, f64) -> (f64, f64)| {
            (0..3 * CALIBRATION_EPOCHS).map(|i| sums(i as f64 * 0.01, 1.0)).collect::<Vec<_>>()
        };
        for isa in Isa::available() {
            let (want, one) = with_blocks(&x, &y, exactly(1), IsaChoice::Only(isa), 32, 1, epochs);
            let (got, used) = with_blocks(&x, &y, Threads::Auto, IsaChoice::Only(isa), 32, 1, epochs);
            assert_eq!(got, want, "{isa}");
            assert_eq!(one, Ran { threads: 1, isa: Some(isa) });
            assert!(used.threads == 1 || used.threads == default_threads().get(), "{used:?}");
        }
    }

    #[test]
    fn blocks_are_cut_evenly_and_in_a_multiple_of_the_cores() {
        let cores = default_threads().get();
        for n in [16_385, 20_000, 33_000, 100_000, 1_000_000, 10_000_000] {
            let len = block_len(n, BLOCK_POINTS);
            let blocks = n.div_ceil(len);
            assert!(len <= BLOCK_POINTS && len.is_multiple_of(VECTOR_BLOCK_POINTS), "{n}: {len}");
            assert!(blocks.is_multiple_of(cores), "{n} points: {blocks} blocks of {len} for {cores} cores");
            let last = n - (blocks - 1) * len;
            // Each block rounded up to whole vector blocks: the last one gives back less than one
            // vector block a block.
            assert!(last + VECTOR_BLOCK_POINTS * blocks >= len, "{n} points: blocks of {len}, the last {last}");
            // Cut at the nominal length, 20 000 points left a last block of 3 616.
            assert!(2 * last >= len, "{n} points: blocks of {len}, the last {last}");
        }
    }

    #[test]
    fn blocks_grow_past_the_index_bits() {
        assert_eq!(block_len(1000, BLOCK_POINTS), BLOCK_POINTS, "too little to cut");
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
            let (want, _) = with_blocks(&x, &y, exactly(1), IsaChoice::Only(isa), 32, 1, |sums| {
                (0..50).map(|i| sums(i as f64 * 0.01, 1.0)).collect::<Vec<_>>()
            });
            for t in 2..=4 {
                let (got, used) = with_blocks(&x, &y, exactly(t), IsaChoice::Only(isa), 32, 1, |sums| {
                    (0..50).map(|i| sums(i as f64 * 0.01, 1.0)).collect::<Vec<_>>()
                });
                assert_eq!(got, want, "{t} threads, {isa}");
                assert_eq!(used, Ran { threads: t, isa: Some(isa) }, "an exact count is never second-guessed");
            }
        }
    }

    #[test]
    fn block_order_sums_agree_with_one_pass() {
        let (x, y) = data(100_003);
        let isa = Isa::detect();
        let ((ex, e), _) = with_gradient_sums(&x, &y, exactly(2), IsaChoice::Only(isa), 1, |sums| sums(0.5, -0.25));
        let (want_ex, want_e) = super::super::scalar::gradient_sums(&x, &y, 0.5, -0.25);
        assert!((ex - want_ex).abs() <= 1e-9 * want_ex.abs(), "{ex} vs {want_ex}");
        assert!((e - want_e).abs() <= 1e-9 * want_e.abs().max(1.0), "{e} vs {want_e}");
    }

    #[test]
    fn a_body_that_never_sums_still_stops_the_workers() {
        let x = vec![1.0; 100];
        let (result, ran) = with_blocks(&x, &x, exactly(3), IsaChoice::Only(Isa::PORTABLE), 16, 1, |_| 42);
        assert_eq!((result, ran.threads), (42, 3));
    }

    #[test]
    fn a_body_that_panics_stops_the_workers_and_passes_the_panic_on() {
        let x = vec![1.0; 100];
        let outcome = std::panic::catch_unwind(|| {
            with_blocks(&x, &x, exactly(3), IsaChoice::Only(Isa::PORTABLE), 16, 1, |sums| {
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
                let (one, _) = with_blocks(&x, &y, exactly(1), IsaChoice::Only(isa), 32, 1, |sums| sums(w, b));
                let (pool, _) = with_blocks(&x, &y, exactly(threads), IsaChoice::Only(isa), 32, 1, |sums| (0..3).map(|_| sums(w, b)).last());
                proptest::prop_assert_eq!(pool, Some(one), "{} threads, {}", threads, isa);
                let tolerance = 4.0 * f64::EPSILON * x.len() as f64 * magnitude;
                proptest::prop_assert!((one.0 - scalar.0).abs() <= tolerance && (one.1 - scalar.1).abs() <= tolerance);
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_leaves_a_cpu_it_shares_and_keeps_its_affinity() {
        let mask = || {
            let size = std::mem::size_of::<libc::cpu_set_t>();
            // SAFETY: as in `leave_cpu`.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                assert_eq!(libc::sched_getaffinity(0, size, &mut set), 0);
                (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect::<Vec<_>>()
            }
        };
        std::thread::spawn(move || {
            let (before, here) = (mask(), current_cpu().expect("Linux names the CPU"));
            leave_cpu(Some(here));
            let now = current_cpu();
            assert_eq!(mask(), before, "the affinity is given back whole");
            if before.len() > 1 {
                assert_ne!(now, Some(here), "moved off CPU {here}; allowed {before:?}");
            }
            // Not on that CPU: nothing changes.
            let elsewhere = before.iter().copied().find(|&c| Some(c) != now);
            leave_cpu(elsewhere);
            assert_eq!(mask(), before);
        })
        .join()
        .expect("the test thread passes");
    }

    #[test]
    fn many_short_epochs_with_more_threads_than_cpus_finish() {
        // Oversubscribed: workers are often off-CPU, so epochs run with late and parked workers.
        let (x, y) = data(640);
        let want = Work { x: &x, y: &y, isa: OnceLock::from(Isa::PORTABLE), block_len: 16 }.sum_in_order(0.3, 0.2);
        let (got, _) =
            with_blocks(&x, &y, exactly(8), IsaChoice::Only(Isa::PORTABLE), 16, 1, |sums| (0..2000).map(|_| sums(0.3, 0.2)).last());
        assert_eq!(got, Some(want));
    }
}
