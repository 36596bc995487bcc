//! The `parallel` kernel: the `simd` kernel over fixed blocks of points, shared out among threads
//! that live for the whole fit and, in a fit, each take every step of the descent themselves.
//!
//! **Blocks, not halves.** The data is cut into blocks of about [`BLOCK_POINTS`], their count a
//! multiple of the cores (see [`block_count`]); each thread owns a contiguous run of them (so a block
//! stays in the same core's L2 from one epoch to the next) and claims its own first, then any left
//! in the others' runs. A thread, once nothing is left to claim, waits about one block's time for
//! blocks still in flight and then sums any still missing itself. So a thread that the hypervisor
//! or another process keeps off its CPU costs the epoch about one block, not its share: on a busy
//! 2-vCPU VM the kernel falls back to about the single-thread speed instead of waiting for a
//! descheduled thread. A block sums to the same bits whoever sums it, and the blocks are added in
//! one order (block order within a group of consecutive blocks a core, then the groups in order;
//! see `group_len`), so the result depends on n and the machine alone (the CPUs this process may
//! use, by its affinity and cgroup quota, and the L1d's size: see [`block_count`]): not on the thread
//! count asked for, nor on which thread summed what, nor on timing.
//!
//! **Every other epoch backwards.** Even epochs claim each run's blocks in ascending order, odd
//! ones in descending order ([`block_at`]), so that an epoch starts on the blocks the last one
//! read last: the ones its core's L2 still holds. Read forward every epoch, a thread's half larger
//! than its L2 misses on every line (a cyclic read defeats LRU), and one that just fits misses on
//! every set that one of the pool's own lines pushes over its ways; read back and forth, it misses
//! only on what the L2 cannot hold. The sums are the same bits either way (added in block order
//! whoever summed them, see below). Measured on an Emerald Rapids (family 6 model 207, 2 MiB L2 a
//! core; `linreg --threads 2` processes of the kernel before and after, 7 alternating rounds of
//! 2·10^9 point-epochs, median ratio of times): 0.884× at 2.6·10^5 points (each half 0.99 of its
//! L2), 0.627× at 3·10^5, 0.526× at 4·10^5, 0.705× at 6·10^5, 0.813× at 10^6, 0.988× at 10^7,
//! level below the L2 (10^4–2.46·10^5). The two-thread limit's probe reads its chunks the same way
//! (the orchestrator's `bandwidth::pool_pass`).
//!
//! **Prefetching where a share is past the L2.** A thread whose share of the data is a little
//! larger than its core's L2 finds, read back and forth (in a descent: [`with_descent`] and
//! [`StandingPool`]; [`with_gradient_sums`] never prefetches), lines missing from all over its share
//! (this L2 does not evict the least recently used line alone), which no hardware prefetcher
//! predicts; the gradient loop, four vector operations waiting on each vector of points, keeps
//! fewer such misses in flight than the bandwidth probe's loop of two, and reached 84–89% of the
//! two-thread limit at 2.7–3·10^5 points on the Emerald Rapids. Each thread times its epochs with
//! and without a software prefetch 32 lines ahead and keeps it only where it was the faster in 12
//! or more of 16 pairs, a test that stops once settled ([`PrefetchChoice`]): the fit 0.92× the time
//! at 2.8–2.9·10^5 points, level from 3.5·10^5 on. On a Zen 4 (1 MiB L2) it pays nowhere it was
//! tried (0–23% slower), and no thread keeps it there. The same bits either way.
//!
//! **Every thread takes every step.** In a fit ([`with_descent`]) the calling thread publishes a
//! run of epochs once: where it starts, how many, the learning rate. Then each thread, every epoch,
//! sums its blocks, records their sums tagged with the epoch (and its group's total, when it
//! summed the whole group), adds up all the blocks' sums in that order (the same bits on every
//! thread) and takes the step itself. An epoch costs a thread one look
//! at the others' records, one cache line crossing between cores on the critical path, where an
//! epoch driven by the calling thread costs several in a row: it publishes (w, b), the worker
//! fetches them, sums, records, the calling thread fetches the record, and only then can the next
//! epoch start. Measured on an Emerald Rapids (family 6 model 207, 2-vCPU KVM guest,
//! `benches/standalone.py`, medians of 7–11 repetitions, % of the two-thread limit probed before
//! each): driven by the calling thread 64% at 10^4 points and 73% at 2·10^4; every thread
//! stepping 96% and 94% (`reference_kernel --symmetric`, two halves and nothing else, 101% and
//! 94% in the same run).
//!
//! No thread is told that an epoch began: cursors and records carry their epoch. The first thread
//! to claim from a run in a new epoch rewinds it (forward only), and a thread reads a record only
//! when its tag is the epoch it adds up. A thread kept off its CPU finds, back on it, a later
//! epoch's tag on a cursor or a record, and catches up from the progress (epoch, w, b) of the
//! thread furthest on, which every thread publishes before it claims anything of an epoch. Each
//! thread keeps two records a block, by the epoch's parity: a thread is at most one epoch ahead of
//! any thread still reading its records, unless it summed that thread's blocks itself, and then
//! the reader sees the tag change under it (a seqlock) and catches up. The final MSE's squared
//! errors are one more numbered pass over the blocks.
//!
//! [`with_gradient_sums`] keeps an epoch driven by the calling thread, for callers that are not a
//! gradient descent (the criterion bench, the tests): a run of one epoch without a step, published
//! every epoch, whose blocks the calling thread adds up.
//!
//! The pool of [`with_descent`] lives for one call (its threads are scoped); a [`StandingPool`]
//! owns its data and keeps its workers until dropped, for a fitting service (`crate::trainer`),
//! each descent's calling thread its thread 0 as there.
//!
//! **Waiting.** Inside a run of epochs no thread sleeps: every wait is for a block in flight,
//! bounded by one block's time. Between runs (and between driven epochs) a worker spins on the
//! run's number for [`SPIN_WAIT`] and only then parks (a futex on Linux; after [`TIMED_PARKS`]
//! of them with nothing to do, until woken); the calling
//! thread checks its flag and unparks it when it publishes a run (for driven epochs, only if
//! epochs are long enough for that to pay, [`WAKE_WORTH`]), so in the steady state an epoch makes
//! no system call.
//!
//! Why spin at all, and why so briefly: on this Firecracker/KVM guest a parked thread's vCPU halts,
//! and waking it is a futex wake plus an IPI through the hypervisor: 11–70 µs an epoch measured for
//! the old barrier (two futex crossings an epoch), more than a whole epoch's work below ~10^5
//! points. Spinning without bound is no better: when the other vCPU is busy with another process,
//! a waiter that spins burns the time slice its partner needs, and a long `pause` loop makes KVM's
//! pause filter exit to the host and give the vCPU away, which is the likely reason an earlier
//! spin of 16k `pause`s (~0.7 ms here) then a condvar was erratic (26–115 ms at 10^4 points, 1000
//! epochs). A bound of ~20 µs covers the wait of an epoch where both threads run, and gives the
//! CPU up soon when they do not.

use std::num::NonZeroUsize;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use super::back_and_forth::block_at;
use super::isa_choice::{budget_for, IsaChoice, Picker, SHARE};
use super::prefetch_choice::{pool_tries, PrefetchChoice, Prefetching};
use super::simd::{self, Isa};
use super::squared_errors::squared_errors;
use super::{PrefetchChoices, Ran};
use crate::dataset::Columns;

/// Points in a block, about (see [`block_count`]): 256 KiB of x and y, 1–2 µs of summing in cache,
/// 4–8 µs from memory. Large
/// enough that claiming a block (one compare-and-swap on the thread's own cache line) and storing
/// its sums cost < 1% of summing it; small enough that 10^6 points make 62 blocks, so the last
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
/// On an Emerald Rapids (family 6 model 207, 2 MiB L2 a core; `linreg` processes, 15 alternating
/// rounds) 32 768 and 65 536 were within 2% of 16 384 at 5·10^4, 10^5 and 10^6 points on two
/// threads.
pub const BLOCK_POINTS: usize = 16_384;

/// `--threads auto` decides between one thread and every core by measuring, at the start of each
/// fit: with two blocks or more, the pool starts, and its first epochs alternate between the pool
/// and the calling thread alone ([`CALIBRATION_EPOCHS`] of each, fewer alone once they cannot
/// lead, in rounds while one thread leads: see `Chooser`); the faster by median wins for the rest
/// of the fit. The sums are the same bits
/// either way (blocks added in the pool's order, `Work::add_in_order`).
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

/// How long a waiting worker spins before it parks: more than the calling thread's end of an
/// epoch (about one block plus adding the blocks) when both threads run. See the module comment
/// for why the bound is short. Spun in `pause`s, as many as fit in it ([`pauses_in`]).
const SPIN_WAIT: Duration = Duration::from_micros(20);

/// Bits of a cursor (a block index) or of a `summed_by` word (a thread index) below the epoch
/// number (mod 2^40) that tags them, so that a thread that slept through an epoch can neither claim
/// a block of a later one with the parameters of an earlier one, nor have its late sums read.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
/// At most 2^24 − 1 blocks, so that an index one past the last still fits: [`block_count`]
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
/// once a process: the answer takes ~20 system calls. The orchestrator counts the CPUs it may use
/// with it too (its probes' threads, its sampler, its analysis), so that a limit is probed on as
/// many threads as the kernel runs on, under the same mask and quota.
pub fn default_threads() -> NonZeroUsize {
    static THREADS: OnceLock<NonZeroUsize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
}

/// How many blocks `n` points are cut into: about `nominal_len` points each ([`BLOCK_POINTS`];
/// see also [`NOMINAL_PER_SMALLEST`] for less data than that), their count a multiple of this
/// machine's cores, and each within one vector block of an even share ([`block_range`]), so
/// that no thread sums a whole block while another has a short one or none: cut at the nominal
/// length, 20 000 points made blocks of 16 384 and 3 616, and two threads took 1.45× the time of
/// two threads on halves (Zen 3, `standalone.py`, 7 interleaved runs). Longer blocks only when n
/// would make more than [`MAX_BLOCKS`]; fewer than a multiple of the cores only where that many
/// would be shorter than the smallest block (more cores than blocks of 2 048 points). Depends on n
/// and the machine alone (the CPUs this process may use, [`default_threads`], and below one
/// nominal block the L1d's size), never on the threads asked for, so every thread count sums the
/// same blocks, the same bits; the same machine under another affinity mask or CPU quota may cut
/// the data otherwise, and add it otherwise.
fn block_count(n: usize, nominal_len: usize) -> usize {
    block_count_on(n, nominal_len, default_threads().get())
}

/// [`block_count`] on a machine of `cores` cores.
fn block_count_on(n: usize, nominal_len: usize, cores: usize) -> usize {
    let smallest = (nominal_len / NOMINAL_PER_SMALLEST).max(1);
    let nominal_blocks = n.div_ceil(nominal_len);
    if nominal_blocks <= 1 {
        // Less than one nominal block: a block a core, none shorter than the smallest, and two
        // at least once the data leaves one core's L1d.
        let blocks = (n / smallest).min(cores);
        let blocks = if blocks < 2 && leaves_one_l1d(n) { cores.min(2) } else { blocks };
        return blocks.max(1);
    }
    let most = (n / smallest).clamp(1, MAX_BLOCKS);
    match nominal_blocks.next_multiple_of(cores) {
        blocks if blocks <= most => blocks,
        _ if most >= cores => most - most % cores,
        _ => most,
    }
}

/// Block `block`'s points when `n` points are cut into `blocks`: from its share's start, `block ·
/// n / blocks`, back to a whole vector block ([`VECTOR_BLOCK_POINTS`], or the largest power of two
/// in a share where a share is shorter, as in tests), to the next block's start. Every block is
/// then within one vector block of `n / blocks` points, and none is empty. A single length
/// rounded up to whole vector blocks could not promise that: from ~5·10^6 points (300 blocks and
/// more, each up to 31 points longer than its share) the last block of 10^7 points on one core was
/// 5 760 points of 16 384, and 9.6·10^6 on two cores made 587 blocks instead of 588.
fn block_range(n: usize, blocks: usize, block: usize) -> std::ops::Range<usize> {
    let blocks = blocks.max(1);
    let align = VECTOR_BLOCK_POINTS.min(1 << (n / blocks).max(1).ilog2());
    let start = |k: usize| {
        if k >= blocks {
            return n;
        }
        // k · n < 2^24 · n fits in 128 bits for every n.
        let share = (k as u128 * n as u128 / blocks as u128) as usize;
        share - share % align
    };
    start(block)..start(block + 1)
}

/// Blocks start on a whole vector block of the widest instruction set (AVX-512: 4 × 8 points).
const VECTOR_BLOCK_POINTS: usize = 32;

/// The bytes of `n` points: an f64 of x and one of y each.
pub(crate) fn data_bytes(n: usize) -> u64 {
    (n as u64).saturating_mul(2 * std::mem::size_of::<f64>() as u64)
}

/// Whether `n` points (16 bytes each) no longer fit one core's L1 data cache, by sysfs
/// (`caches::cpu0_l1d_bytes`; unknown: no): there the data is cut in two blocks at least (one a
/// core, below [`NOMINAL_PER_SMALLEST`]'s floor too), so that each half is summed from its own
/// core's L1 while one thread would read the whole from its L2. Measured on a Zen 4 (family 25
/// model 17, 32 KiB L1d, 2 cores; `linreg --kernel parallel --threads 2` of a build cutting from
/// 1 024 points against the simd kernel, 9 rounds of 10^9 point-epochs): two threads took 1.25×
/// the time at 1 500 points (24 KiB, in one L1), 1.02× at 2 000 (31 KiB), **0.61×** at 3 000 and
/// **0.56×** at 4 000 (47 and 62 KiB: each half in its L1), where with the floor alone (blocks of
/// 2 048 points at least) they had run on one thread. More than two blocks still wait for the
/// floor: how many threads a meeting of more can pay for there is unmeasured (every CPU measured
/// has 2). Fewer points than an 8 KiB L1d holds never ask sysfs: `linreg` does not read it for
/// the seed's 5 points.
fn leaves_one_l1d(n: usize) -> bool {
    leaves_l1d(n, crate::caches::cpu0_l1d_bytes)
}

/// [`leaves_one_l1d`] with the L1d's size in bytes from `l1d`, asked only where it could matter.
fn leaves_l1d(n: usize, l1d: impl FnOnce() -> Option<u64>) -> bool {
    // No x86 CPU of this century has a smaller L1d.
    const SMALLEST_L1D_BYTES: u64 = 8 << 10;
    let bytes = data_bytes(n);
    bytes >= SMALLEST_L1D_BYTES && l1d().is_some_and(|l1d| l1d >= SMALLEST_L1D_BYTES && bytes >= l1d)
}

/// Data of less than one block is still cut, a block a core, down to blocks of 1/8 of
/// [`BLOCK_POINTS`] (2 048 points, 32 KiB: ~0.3 µs of summing in L1, about what one meeting of two
/// spinning threads costs; two blocks from one L1d's worth, see [`leaves_one_l1d`]), so that
/// `auto` measures whether the cores pay there: at 10^4 points two
/// threads took 0.119 ns a point against one thread's 0.161, at 6 000 points 0.141 against 0.162
/// (Zen 3, 9 paired rounds of 10^9 point-epochs); with one block up to 16 384 points every fit
/// below ran on one thread. Below two of the smallest a split pays only once the data leaves one
/// core's L1d ([`leaves_one_l1d`]: two blocks, one a core); smaller data stays one block.
const NOMINAL_PER_SMALLEST: usize = 8;

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
    threads_on(block_count(n, nominal_block_len), threads)
}

/// How many threads a fit on `blocks` blocks may use (see [`threads_used`]).
fn threads_on(blocks: usize, threads: Threads) -> usize {
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

/// `Threads::Auto`'s choice, epoch by epoch, in rounds: [`CALIBRATION_EPOCHS`] on the pool, then
/// as many on the calling thread alone (fewer where enough of them are too slow to lead, see
/// [`Chooser::alone_cannot_lead`]). The first [`SETTLING_EPOCHS`] of each are not counted:
/// they bring the data into the caches the other way round (alternating epoch by epoch measured
/// neither way: each alone epoch evicted the pool's halves from the L2s, and `auto` chose one
/// thread at 66 000 points, where two are 1.8× faster). After a round the pool stays unless one
/// thread's best round (by median) is [`ALONE_MARGIN`] faster than the pool's; while it is, the
/// rounds go on until they have taken a share of the fit's estimated time alone (the instruction
/// set choice's share, `isa_choice::budget_for`), since the pool, like the widest vectors, can
/// be slow only at first: its worker's core brings its vector units up to speed once they are in
/// use, so the worker keeps them busy while it waits during the calibration ([`Pool::warm_up`]).
/// One round of two threads then ran no faster than one (6–9 µs against 6.0–6.4 µs an
/// epoch at 5·10^4 points, 3.5 µs once warm) and `auto` kept one thread in 6–10 of 20 fits at
/// 2·10^4 and 5·10^4 points (Emerald Rapids, family 6 model 207, AVX-512). An epoch of the
/// pool that takes [`LONG_EPOCH`] or more settles it on the pool at once.
#[derive(Debug, Clone)]
struct Chooser {
    /// Epochs recorded while calibrating.
    epochs: usize,
    /// This round's counted epochs.
    pool: Vec<Duration>,
    alone: Vec<Duration>,
    /// The best round's median of each, so far.
    best_pool: Duration,
    best_alone: Duration,
    /// The calibration's time so far, and the fit's epochs (its budget is a share of them).
    spent: Duration,
    fit_epochs: u64,
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
    /// For a fit of `fit_epochs` epochs (`u64::MAX` when unknown).
    fn new(fit_epochs: u64) -> Chooser {
        Chooser {
            epochs: 0,
            pool: Vec::with_capacity(CALIBRATION_EPOCHS),
            alone: Vec::with_capacity(CALIBRATION_EPOCHS),
            best_pool: Duration::MAX,
            best_alone: Duration::MAX,
            spent: Duration::ZERO,
            fit_epochs,
            chosen: None,
        }
    }

    /// A choice made already (`Threads::Exactly`: the pool, always).
    fn settled(mode: Mode) -> Chooser {
        Chooser { chosen: Some(mode), ..Chooser::new(0) }
    }

    /// `Threads::Auto` measures, in a fit long enough to pay for it; an exact count is the pool,
    /// always.
    ///
    /// One round of the calibration runs [`CALIBRATION_EPOCHS`] epochs alone, each about twice a
    /// pool epoch wherever two threads pay: ~8 epochs of the fit's time, more than its share
    /// (the instruction set choice's, [`SHARE`]) in a fit of fewer than 400 epochs, which then
    /// runs on the pool without trying one thread. Such fits are what a service calling the kernel
    /// once a request makes (python-rust, a pool and a choice a call): at 10^5 points and 100
    /// epochs the calibration was 9% of the fit (893 µs a call with `auto` against 815 µs with two
    /// threads named, Emerald Rapids, family 6 model 207). A fit whose length is unknown measures.
    fn for_threads(threads: Threads, fit_epochs: u64) -> Chooser {
        let pays = fit_epochs as f64 * SHARE >= CALIBRATION_EPOCHS as f64;
        if threads == Threads::Auto && pays {
            Chooser::new(fit_epochs)
        } else {
            Chooser::settled(Mode::Pool)
        }
    }

    /// While calibrating: the epochs to run before the next is recorded. On the pool, the epochs
    /// left before the mode [`Chooser::next`] gives changes (a run of epochs on the pool is
    /// published once); alone, one, so that the round can end early ([`Chooser::alone_cannot_lead`]).
    fn epochs_left_in_mode(&self) -> u64 {
        match self.next() {
            Mode::Pool => (CALIBRATION_EPOCHS - self.epochs % CALIBRATION_EPOCHS) as u64,
            Mode::Alone => 1,
        }
    }

    fn next(&self) -> Mode {
        match self.chosen {
            Some(mode) => mode,
            None if (self.epochs / CALIBRATION_EPOCHS).is_multiple_of(2) => Mode::Pool,
            None => Mode::Alone,
        }
    }

    fn record(&mut self, mode: Mode, took: Duration) {
        if self.chosen.is_some() {
            return;
        }
        let counted = self.epochs % CALIBRATION_EPOCHS >= SETTLING_EPOCHS;
        self.epochs += 1;
        self.spent += took;
        match mode {
            Mode::Pool if took >= LONG_EPOCH => self.chosen = Some(Mode::Pool),
            Mode::Pool if counted => self.pool.push(took),
            Mode::Alone if counted => self.alone.push(took),
            _ => {}
        }
        if mode == Mode::Alone && self.alone_cannot_lead() {
            self.chosen = Some(Mode::Pool);
        }
        if self.chosen.is_none() && self.epochs.is_multiple_of(2 * CALIBRATION_EPOCHS) {
            self.best_pool = self.best_pool.min(median(&mut self.pool));
            self.best_alone = self.best_alone.min(median(&mut self.alone));
            self.pool.clear();
            self.alone.clear();
            let alone_leads = self.best_alone.as_secs_f64() < ALONE_MARGIN * self.best_pool.as_secs_f64();
            if !alone_leads {
                self.chosen = Some(Mode::Pool);
            } else if self.spent >= budget_for(self.best_alone, self.fit_epochs as f64) {
                self.chosen = Some(Mode::Alone);
            }
        }
    }

    /// Whether this round's epochs alone, not all timed yet, can no longer make one thread lead:
    /// enough of them are too slow for their median to beat the pool's by [`ALONE_MARGIN`], and
    /// no earlier round's best alone beats that bar either. The round would end on the pool; it ends now, with the epochs alone
    /// it has left untried. Where one thread's data is past its L2 and each thread's share is in
    /// its own, an epoch alone takes ~10 times one on the pool (Emerald Rapids, 2.6·10^5 points:
    /// ~115 µs against ~11), and a round's 8 of them were 2% of a fit of ~3 800 epochs; now 5:
    /// `auto` against two threads named, 7 alternating rounds of `linreg` processes at 2.6·10^5
    /// points, 1.028× the time before, 1.009× after (the same choice, the pool, every time).
    fn alone_cannot_lead(&self) -> bool {
        let counted = CALIBRATION_EPOCHS - SETTLING_EPOCHS;
        let pool = self.best_pool.min(median(&mut self.pool.clone()));
        let bar = ALONE_MARGIN * pool.as_secs_f64();
        let too_slow = self.alone.iter().filter(|t| t.as_secs_f64() >= bar).count();
        self.best_alone.as_secs_f64() >= bar && too_slow >= counted - counted / 2
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

/// One gradient-descent step: from (w, b), an epoch's (Σ e·x, Σ e), n and the learning rate to the
/// next (w, b). The fit's own (`fit::step`), given to the pool so that every thread takes it.
pub type Step = fn(f64, f64, (f64, f64), f64, f64) -> (f64, f64);

/// How a descent on the pool ended: (w, b) after its last epoch, how many epochs ran, whether
/// w or b stopped being finite after the last of them, and, if they did not, Σ (w·x + b − y)² at
/// the end (the final MSE's sum, summed by the pool too: blocks added in the pool's order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Descent {
    pub w: f64,
    pub b: f64,
    pub epochs_run: u64,
    pub diverged: bool,
    pub squared_errors: Option<f64>,
}

/// Runs `body` with a function from (w, b) to one epoch's (Σ e_i·x_i, Σ e_i), computed by
/// `threads_used(n, threads)` threads that are started and running before `body` is called (so a
/// caller that times inside `body` times the epochs alone) and stopped after it returns. Returns
/// what `body` returned and what the epochs ran on (with `Threads::Auto`, one thread when its
/// first epochs measured the calling thread alone faster; with `IsaChoice::Fastest`, the
/// instruction set its first epoch measured fastest on one block).
///
/// The calling thread drives every epoch (see the module comment): for a caller that is not a
/// gradient descent. A fit is faster through [`with_descent`].
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

/// Runs `body` with a function from (epochs, learning rate) to a gradient descent of that many
/// epochs from w = b = 0 by `step`, every thread of the pool taking every step (see the module
/// comment), and what the descents so far ran on; the threads as in [`with_gradient_sums`], and
/// the same sums, the same bits. `epochs` is how many epochs all the descents take together
/// (`u64::MAX` when unknown). A descent on one thread takes its prefetch choice from
/// `prefetching` (where its data is past the L2: [`Prefetching::for_points`]) and leaves it there
/// for the next call, as a `Trainer`'s fits do.
#[allow(clippy::too_many_arguments)]
pub(crate) fn with_descent<R>(
    x: &[f64],
    y: &[f64],
    threads: Threads,
    isa: IsaChoice,
    epochs: u64,
    step: Step,
    prefetching: &mut Option<Prefetching>,
    body: impl FnOnce(&mut dyn FnMut(u64, f64) -> (Descent, Ran)) -> R,
) -> (R, Ran) {
    descend_blocks(prepare(x, y, threads, isa, BLOCK_POINTS, default_threads().get(), epochs), step, prefetching, body)
}

/// The data cut into blocks of about `nominal_block_len` points (see [`block_count`]; small blocks
/// let the tests run many threads on little data) and grouped by `cores` (see [`group_len`]:
/// this machine's, or more in tests, so that many threads each sum a group), the instruction
/// set's picker, and how many threads it may use.
struct Prepared<'a> {
    work: Work<'a>,
    picker: Picker<'a>,
    threads: usize,
    requested: Threads,
    /// The fit's epochs, all its descents together (`u64::MAX` when unknown).
    epochs: u64,
}

fn prepare<'a>(
    x: &'a [f64],
    y: &'a [f64],
    threads: Threads,
    isa: IsaChoice,
    nominal_block_len: usize,
    cores: usize,
    epochs: u64,
) -> Prepared<'a> {
    assert_eq!(x.len(), y.len(), "x and y must have the same length");
    let work = Work::new(x, y, OnceLock::new(), block_count(x.len(), nominal_block_len), cores);
    // Timed on one block, what each thread sums at a time.
    let first_block = work.block(0).0.len();
    let allowed = threads_on(work.blocks(), threads);
    Prepared { work, picker: Picker::new(isa, x, y, first_block, epochs), threads: allowed, requested: threads, epochs }
}

fn with_blocks<R>(
    x: &[f64],
    y: &[f64],
    threads: Threads,
    isa: IsaChoice,
    nominal_block_len: usize,
    epochs: u64,
    body: impl FnOnce(&mut dyn FnMut(f64, f64) -> (f64, f64)) -> R,
) -> (R, Ran) {
    let Prepared { work, mut picker, threads, requested, epochs } =
        prepare(x, y, threads, isa, nominal_block_len, default_threads().get(), epochs);
    if work.blocks() == 1 {
        // The simd kernel itself, with not even the block loop around it: at 100 points an epoch
        // is ~40 ns, and a few ns of bookkeeping would show.
        let result = body(&mut |w, b| simd::gradient_sums(picker.isa(w, b), x, y, w, b));
        return (result, Ran { threads: 1, isa: Some(picker.used()), prefetching: None });
    }
    if threads == 1 {
        let result = body(&mut |w, b| {
            work.isa.get_or_init(|| picker.isa(w, b));
            work.sum_in_order(w, b)
        });
        return (result, Ran { threads: 1, isa: Some(picker.used()), prefetching: None });
    }
    let mut chooser = Chooser::for_threads(requested, epochs);
    let (result, threads) = on_pool(&work, threads, None, picker.used(), |pool, workers, stop| {
        let mut epoch = 0u64;
        // What parked workers have cost the calling thread since it last woke them: the time it
        // summed blocks itself in pool epochs that found a worker parked (see [`WAKE_WORTH`]).
        // The first epoch always wakes a parked worker: nothing is known yet.
        let mut owed = Duration::MAX;
        // The calling thread's time a block (from the last epoch it timed) and its sums.
        let mut mine = Mine::new(work.blocks());
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
                    let span = Span { first: epoch, epochs: 1, w, b, learning_rate: None, then_squared_errors: false };
                    let any_parked = pool.publish(&span, workers, wake, chooser.chosen.is_none());
                    // Timed where a parked worker's cost is added up, and every RETIME_EPOCHS
                    // to keep its time a block current; else the two clock reads would be ~7% of an
                    // epoch at 10^4 points.
                    let summing_start = (any_parked || epoch % RETIME_EPOCHS == 1).then(Instant::now);
                    // The calling thread publishes every epoch: no thread is ever ahead of it.
                    let at = At { pass: Pass::Gradient, epoch, w, b };
                    let summed_here = pool.sum_blocks(0, &mut mine, at).unwrap_or(0);
                    let own_share = summing_start.map(|start| start.elapsed());
                    owed = match own_share {
                        Some(share) if any_parked && !wake => owed.saturating_add(share),
                        _ => Duration::ZERO,
                    };
                    if let Some(share) = own_share.filter(|_| summed_here > 0) {
                        mine.block_time = share / summed_here;
                    }
                    // About one block's time: what a worker that is running needs at most to
                    // finish the block it holds.
                    pool.total(0, &mut mine, at).unwrap_or_else(|Behind| work.sum_in_order(w, b))
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
    (result, Ran { threads, isa: Some(picker.used()), prefetching: None })
}

/// `prefetching`: the choice of a fit on one thread over several blocks, which sums them in the
/// pool's order with or without prefetches as the simd kernel's one thread does (the same bits).
fn descend_blocks<R>(
    prepared: Prepared,
    step: Step,
    prefetching: &mut Option<Prefetching>,
    body: impl FnOnce(&mut dyn FnMut(u64, f64) -> (Descent, Ran)) -> R,
) -> (R, Ran) {
    let Prepared { work, mut picker, threads, requested, epochs: fit_epochs } = prepared;
    let (x, y) = (work.x, work.y);
    let n = x.len() as f64;
    if work.blocks() == 1 || threads == 1 {
        let mut choice = prefetching.take().filter(|_| work.blocks() > 1);
        let ran =
            |isa, choice: &Option<Prefetching>| Ran { threads: 1, isa: Some(isa), prefetching: choice.as_ref().map(Prefetching::choices) };
        let result = body(&mut |epochs, learning_rate| {
            let isa = *work.isa.get_or_init(|| picker.isa(0.0, 0.0));
            let sums = |w, b| match choice.as_mut() {
                _ if work.blocks() == 1 => simd::gradient_sums(isa, x, y, w, b),
                Some(choice) => choice.sums_with(|prefetch| work.sum_in_order_with(w, b, prefetch)),
                None => work.sum_in_order(w, b),
            };
            let end = descend_alone(sums, (0.0, 0.0), epochs, |w, b, sums| step(w, b, sums, n, learning_rate), None);
            (work.with_squared_errors(end), ran(isa, &choice))
        });
        let ran = ran(picker.used(), &choice);
        *prefetching = choice;
        return (result, ran);
    }
    let warm_isa = picker.used();
    on_pool(&work, threads, Some(step), warm_isa, |pool, workers, _stop| {
        let mut descender = Descender::new(picker, requested, fit_epochs, step, threads, work.blocks());
        let result = body(&mut |epochs, learning_rate| descender.descend(pool, workers, epochs, learning_rate));
        (result, descender.ran(pool))
    })
}

/// What a fit's descents on a pool carry from one to the next: the instruction set's picker,
/// `auto`'s choice of threads, the calling thread's record of its blocks, and the numbering of
/// the pool's epochs (the numbers tag cursors and records).
struct Descender<'a> {
    picker: Picker<'a>,
    chooser: Chooser,
    mine: Mine,
    next_epoch: u64,
    step: Step,
    /// The pool's threads, the calling thread's included.
    threads: usize,
}

impl<'a> Descender<'a> {
    fn new(picker: Picker<'a>, requested: Threads, fit_epochs: u64, step: Step, threads: usize, blocks: usize) -> Descender<'a> {
        Descender { picker, chooser: Chooser::for_threads(requested, fit_epochs), mine: Mine::new(blocks), next_epoch: 1, step, threads }
    }

    /// A descent of `epochs` epochs from w = b = 0, the calling thread as `pool`'s thread 0 and
    /// `workers` its others, and what the descents so far ran on.
    fn descend(&mut self, pool: &Pool, workers: &[Thread], epochs: u64, learning_rate: f64) -> (Descent, Ran) {
        let (work, step) = (pool.work, self.step);
        let n = work.x.len() as f64;
        // A descent's first epoch is at w = b = 0, where `descend` would have chosen.
        work.isa.get_or_init(|| self.picker.isa(0.0, 0.0));
        let mut at = Descent { w: 0.0, b: 0.0, epochs_run: 0, diverged: false, squared_errors: None };
        loop {
            let chooser = &mut self.chooser;
            let mode = chooser.next();
            let mut times = chooser.chosen.is_none().then(Vec::new);
            // While `auto` calibrates, a run of epochs ends where its mode does.
            let left = epochs - at.epochs_run;
            let len = if times.is_some() { chooser.epochs_left_in_mode().min(left) } else { left };
            // The last run of epochs ends with the final MSE's pass.
            let last = len == left;
            let ran = match mode {
                Mode::Pool => {
                    let span = Span {
                        first: self.next_epoch,
                        epochs: len,
                        w: at.w,
                        b: at.b,
                        learning_rate: Some(learning_rate),
                        then_squared_errors: last,
                    };
                    // The pass after the last epoch takes the next number.
                    self.next_epoch += len + 1;
                    pool.publish(&span, workers, true, chooser.chosen.is_none());
                    pool.descend_span(0, &span, &mut self.mine, times.as_mut())
                }
                Mode::Alone => {
                    let end = descend_alone(
                        |w, b| work.sum_in_order(w, b),
                        (at.w, at.b),
                        len,
                        |w, b, sums| step(w, b, sums, n, learning_rate),
                        times.as_mut(),
                    );
                    if last {
                        work.with_squared_errors(end)
                    } else {
                        end
                    }
                }
            };
            at = Descent { epochs_run: at.epochs_run + ran.epochs_run, ..ran };
            for took in times.into_iter().flatten() {
                chooser.record(mode, took);
            }
            if chooser.chosen == Some(Mode::Alone) {
                // As in `with_blocks`: the workers return rather than wake for nothing.
                stop_workers(pool, workers);
            }
            if last || at.diverged {
                return (at, self.ran(pool));
            }
        }
    }

    fn ran(&self, pool: &Pool) -> Ran {
        let on_pool = self.chooser.chosen != Some(Mode::Alone);
        Ran {
            threads: self.chooser.threads(self.threads),
            isa: Some(self.picker.used()),
            prefetching: pool.prefetch_choices().filter(|_| on_pool),
        }
    }
}

/// Whether a fit of `n` points with `threads` runs on a pool (else on the calling thread alone).
pub(crate) fn runs_on_a_pool(n: usize, threads: Threads) -> bool {
    threads_used(n, threads) > 1
}

/// A pool over data it holds, whose workers live until it is dropped: a fitting service's (see
/// `crate::trainer`), where [`with_descent`]'s live for one call. Each descent's calling thread is
/// the pool's thread 0, as there, so a request is never handed to another thread to run: what a
/// fit costs a service is what it costs the `linreg` binary between its `--fits`.
pub(crate) struct StandingPool {
    // Dropped before `standing`: the picker in it borrows the data there.
    descender: Descender<'static>,
    workers: Vec<Thread>,
    handles: Vec<JoinHandle<()>>,
    standing: Arc<Standing>,
}

/// What the workers share with the calling thread. Fields drop in order: the pool borrows the
/// work, and both borrow the data.
struct Standing {
    pool: Pool<'static>,
    /// Held, not read: what the pool borrows.
    _work: Arc<Work<'static>>,
    running: AtomicUsize,
    /// Held, not read: what the work and the descender's picker borrow.
    _data: Arc<Columns>,
}

impl StandingPool {
    /// Starts `threads` on `data` (at least two: see [`runs_on_a_pool`]) as [`with_descent`] does,
    /// for descents of `epochs` epochs together (`u64::MAX` when unknown); returns once the
    /// workers run, or the error of a thread that could not start.
    pub(crate) fn start(data: Arc<Columns>, threads: Threads, isa: IsaChoice, epochs: u64, step: Step) -> std::io::Result<StandingPool> {
        // SAFETY: the slices point into `data`'s buffer, which nothing mutates (an `Arc<Columns>`
        // lends no `&mut`) and which lives as long as what borrows it: the pool and the work in
        // `Standing`, dropped before its `data`, and the descender's picker, dropped before the
        // `standing` that holds `data`.
        let (x, y): (&'static [f64], &'static [f64]) = unsafe { (extended(data.x()), extended(data.y())) };
        let Prepared { work, picker, threads, requested, epochs } =
            prepare(x, y, threads, isa, BLOCK_POINTS, default_threads().get(), epochs);
        let blocks = work.blocks();
        let work = Arc::new(work);
        // SAFETY: the work lives in `Standing` after the pool that borrows it, never moved (an Arc).
        let work_ref: &'static Work<'static> = unsafe { &*Arc::as_ptr(&work) };
        let pool = Pool::new(work_ref, threads, Some(step), picker.used());
        let standing = Arc::new(Standing { pool, _work: work, running: AtomicUsize::new(0), _data: data });
        let descender = Descender::new(picker, requested, epochs, step, threads, blocks);
        let mut started = StandingPool { descender, workers: Vec::new(), handles: Vec::new(), standing };
        let caller_cpu = current_cpu();
        for t in 1..threads {
            let shared = Arc::clone(&started.standing);
            let spawned = std::thread::Builder::new()
                .name("linreg-pool".into())
                .spawn(move || shared.pool.serve_off(caller_cpu, &shared.running, t))?;
            started.workers.push(spawned.thread().clone());
            started.handles.push(spawned);
        }
        wait_for_workers(&started.standing.running, threads - 1);
        Ok(started)
    }

    /// A descent of `epochs` epochs from w = b = 0, the calling thread the pool's thread 0, and
    /// what the descents so far ran on.
    pub(crate) fn descend(&mut self, epochs: u64, learning_rate: f64) -> (Descent, Ran) {
        self.descender.descend(&self.standing.pool, &self.workers, epochs, learning_rate)
    }
}

impl Drop for StandingPool {
    fn drop(&mut self) {
        stop_workers(&self.standing.pool, &self.workers);
        for handle in self.handles.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

/// `values` as borrowed for ever.
///
/// # Safety
/// The caller keeps the memory alive and unmutated for as long as the result is used.
unsafe fn extended(values: &[f64]) -> &'static [f64] {
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(values.as_ptr(), values.len()) }
}

/// `epochs` steps from (w, b) on the calling thread alone, each epoch's time pushed to `times`.
fn descend_alone(
    mut sums: impl FnMut(f64, f64) -> (f64, f64),
    (mut w, mut b): (f64, f64),
    epochs: u64,
    step: impl Fn(f64, f64, (f64, f64)) -> (f64, f64),
    mut times: Option<&mut Vec<Duration>>,
) -> Descent {
    for epoch in 1..=epochs {
        let start = times.is_some().then(Instant::now);
        (w, b) = step(w, b, sums(w, b));
        if let (Some(times), Some(start)) = (times.as_deref_mut(), start) {
            times.push(start.elapsed());
        }
        if !(w.is_finite() && b.is_finite()) {
            return Descent { w, b, epochs_run: epoch, diverged: true, squared_errors: None };
        }
    }
    Descent { w, b, epochs_run: epochs, diverged: false, squared_errors: None }
}

/// Starts a pool of `threads` over `work` (the calling thread is thread 0), runs `run` with it
/// once every worker runs, and stops the workers when `run` returns or unwinds.
fn on_pool<R>(work: &Work, threads: usize, step: Option<Step>, warm_isa: Isa, run: impl FnOnce(&Pool, &[Thread], &StopOnDrop) -> R) -> R {
    let pool = Pool::new(work, threads, step, warm_isa);
    let running = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let caller_cpu = current_cpu();
        let workers: Vec<Thread> = (1..threads)
            .map(|t| {
                let (pool, running) = (&pool, &running);
                scope.spawn(move || pool.serve_off(caller_cpu, running, t)).thread().clone()
            })
            .collect();
        wait_for_workers(&running, threads - 1);
        // Dropped after `run` returns (or unwinds): tells the workers to return and wakes them.
        let stop = StopOnDrop { pool: &pool, workers: &workers };
        run(&pool, &workers, &stop)
    })
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
/// 2-vCPU Zen 3, 4 fits each). Checked on a 2-vCPU Emerald Rapids KVM guest (Intel family 6 model
/// 207, the 260 MiB L3 host, 2026-12-07, a scratch program of 1000–2000 round trips): 7.7–11.4 µs
/// to the waker and 5.6–8.1 µs until the worker runs after 10 ms parked, 2.5–5.3 and 1.5–3.5 µs
/// after 0.3 ms (the guest's `haltpoll` idle driver polls before it halts a vCPU): the same order,
/// so the bound holds there too (a wake at most ~11 µs in every 50 µs summed alone).
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

/// How long a thread looks at a missing record, a `pause` between looks, before it does
/// anything else (see [`await_sums`]): before it looks at another's cursor to steal, before it
/// reads a group's blocks one by one, before it starts its clock. About half a block's time at
/// 10^5 points; measured (Emerald Rapids, family 6 model 207, `linreg` processes at 10^5 points on
/// two threads, 21 alternating rounds): waits of 0.2 µs and 0.8 µs level, 3.4 µs 3.5% slower.
/// A time, not a count: a `pause` takes 11 ns on that CPU and 42 ns on a Zen 5, and the 64 looks
/// this once was waited 0.8 µs on the one and ~3 µs on the other.
const QUICK_WAIT: Duration = Duration::from_nanos(800);

/// `pause`s a round and rounds of them timed, the fastest counting (see [`pause_time`]).
const PAUSES_A_ROUND: u32 = 128;
const PAUSE_ROUNDS: usize = 3;

/// One `pause` (`std::hint::spin_loop`) on this CPU, measured once a process, when the first pool
/// starts: the fastest of a few rounds (4–16 µs in all), so that a round cut by an interrupt does
/// not count. Waits are given as times ([`QUICK_WAIT`], [`SPIN_WAIT`]) and looked or spun in
/// pauses, a count that depends on the CPU by a factor of four.
fn pause_time() -> Duration {
    static PAUSE: OnceLock<Duration> = OnceLock::new();
    *PAUSE.get_or_init(|| {
        let round = || {
            let start = Instant::now();
            for _ in 0..PAUSES_A_ROUND {
                std::hint::spin_loop();
            }
            start.elapsed()
        };
        (0..PAUSE_ROUNDS).map(|_| round()).min().unwrap_or_default() / PAUSES_A_ROUND
    })
}

/// The `pause`s that fit in `wait` on this CPU, one at least.
fn pauses_in(wait: Duration) -> u32 {
    let pauses = wait.as_nanos() / pause_time().as_nanos().max(1);
    u32::try_from(pauses).unwrap_or(u32::MAX).max(1)
}

/// The data and how it is cut into blocks, and the blocks into groups.
struct Work<'a> {
    x: &'a [f64],
    y: &'a [f64],
    /// Set by the calling thread in the first epoch, before it publishes it (see [`IsaChoice`]).
    isa: OnceLock<Isa>,
    /// Where each block starts, and the data's end (see [`block_count`], [`block_range`]):
    /// computed once, not at each block's every pass.
    starts: Vec<usize>,
    /// Blocks a group (see [`group_len`]).
    group_len: usize,
}

/// Blocks a group: the pool adds the blocks' sums in block order within each group of
/// consecutive blocks, then the groups' totals in order. One group a core when the blocks divide
/// evenly among the cores (their count is a multiple of them from two nominal blocks on, see
/// [`block_count`]), else a group a block. Like the blocks, a property of n and the machine alone,
/// so every thread count adds the same way, to the same bits. Why groups: a thread that sums a
/// whole group itself, as each does when the pool has a thread a core, records the group's total
/// too, and the others read that one record instead of each of its blocks': at 5·10^4–10^5 points
/// on two threads (4–8 blocks) the blocks' records cost the kernel 4–6% of an epoch against
/// the same fit with a block a thread (Emerald Rapids, family 6 model 207, `reference_kernel
/// --best-of`).
fn group_len(blocks: usize, cores: usize) -> usize {
    if blocks > cores && blocks.is_multiple_of(cores) {
        blocks / cores
    } else {
        1
    }
}

impl<'a> Work<'a> {
    fn new(x: &'a [f64], y: &'a [f64], isa: OnceLock<Isa>, blocks: usize, cores: usize) -> Work<'a> {
        let (n, blocks) = (x.len(), blocks.clamp(1, x.len().max(1)));
        let starts = (0..blocks).map(|block| block_range(n, blocks, block).start).chain([n]).collect();
        Work { x, y, isa, starts, group_len: group_len(blocks, cores) }
    }

    fn blocks(&self) -> usize {
        self.starts.len() - 1
    }

    fn groups(&self) -> usize {
        self.blocks() / self.group_len
    }

    fn group_blocks(&self, group: usize) -> std::ops::Range<usize> {
        group * self.group_len..(group + 1) * self.group_len
    }

    /// The blocks' sums, `sums(block)`, added in the pool's order: in block order within each
    /// group, then the groups' totals in order.
    fn add_in_order(&self, mut sums: impl FnMut(usize) -> (f64, f64)) -> (f64, f64) {
        (0..self.groups()).map(|group| self.group_blocks(group).map(&mut sums).fold((0.0, 0.0), add)).fold((0.0, 0.0), add)
    }

    fn block_sums(&self, block: usize, w: f64, b: f64) -> (f64, f64) {
        let (x, y) = self.block(block);
        simd::gradient_sums(self.isa(), x, y, w, b)
    }

    fn isa(&self) -> Isa {
        *self.isa.get().expect("the instruction set is chosen before the first epoch is published")
    }

    fn block(&self, block: usize) -> (&[f64], &[f64]) {
        let points = self.starts[block]..self.starts[block + 1];
        (&self.x[points.clone()], &self.y[points])
    }

    /// What a pass sums over a block: the gradient sums (with software prefetches if `prefetch`,
    /// the same bits either way), or the squared errors (and a zero).
    fn pass_sums(&self, pass: Pass, block: usize, w: f64, b: f64, prefetch: bool) -> (f64, f64) {
        match pass {
            Pass::Gradient if prefetch => {
                let (x, y) = self.block(block);
                simd::gradient_sums_prefetching(self.isa(), x, y, w, b)
            }
            Pass::Gradient => self.block_sums(block, w, b),
            Pass::SquaredErrors => {
                let (x, y) = self.block(block);
                (squared_errors(x, y, w, b), 0.0)
            }
        }
    }

    /// `end` with its squared errors summed on the calling thread alone, block by block in
    /// order as the pool sums them, unless it diverged.
    fn with_squared_errors(&self, end: Descent) -> Descent {
        let sum = || self.add_in_order(|block| self.pass_sums(Pass::SquaredErrors, block, end.w, end.b, false)).0;
        Descent { squared_errors: (!end.diverged).then(sum), ..end }
    }

    /// What the pool computes, on the calling thread alone: block sums added in the pool's order.
    fn sum_in_order(&self, w: f64, b: f64) -> (f64, f64) {
        self.sum_in_order_with(w, b, false)
    }

    /// [`Work::sum_in_order`], with software prefetches if `prefetch` (the same bits either way).
    fn sum_in_order_with(&self, w: f64, b: f64, prefetch: bool) -> (f64, f64) {
        self.add_in_order(|block| self.pass_sums(Pass::Gradient, block, w, b, prefetch))
    }
}

/// What a numbered pass over the blocks sums: an epoch's gradient sums, or the squared errors at
/// the end of a descent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Gradient,
    SquaredErrors,
}

fn add((ex, e): (f64, f64), (more_ex, more_e): (f64, f64)) -> (f64, f64) {
    (ex + more_ex, e + more_e)
}

/// A value alone on its pair of cache lines (the adjacent-line prefetcher pulls lines in pairs), so
/// that one thread's writes do not slow another thread's reads of its neighbour.
#[repr(align(128))]
struct Padded<T>(T);

/// A run of epochs the calling thread gives the pool: one epoch of sums it drives, or a descent
/// every thread takes.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// The pool's number of its first epoch.
    first: u64,
    epochs: u64,
    /// At the first epoch.
    w: f64,
    b: f64,
    /// None: the workers sum their blocks of one epoch and the calling thread adds them up
    /// ([`with_gradient_sums`]); Some: every thread adds up every epoch and takes the step.
    learning_rate: Option<f64>,
    /// After the last epoch of a descent that stayed finite, a pass of squared errors,
    /// numbered [`Span::end`].
    then_squared_errors: bool,
}

impl Span {
    fn end(&self) -> u64 {
        self.first + self.epochs
    }
}

/// A sequence number for values written by one thread and read by others (a seqlock): odd while
/// they are being written, so that a reader retries a read that overlapped a write.
#[derive(Default)]
struct Seq(AtomicU64);

impl Seq {
    /// Writer only: `store` (relaxed stores) between the two steps of the number, the last one
    /// with `published` (`SeqCst` where a parked reader's flag is checked after it).
    fn write(&self, published: Ordering, store: impl FnOnce()) {
        let seq = self.0.load(Ordering::Relaxed);
        self.0.store(seq + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        store();
        self.0.store(seq + 2, published);
    }

    /// What `load` (relaxed loads) read while no write overlapped it, and the sequence number.
    fn read<T>(&self, load: impl Fn() -> T) -> (u64, T) {
        loop {
            let seq = self.0.load(Ordering::Acquire);
            if seq.is_multiple_of(2) {
                let value = load();
                fence(Ordering::Acquire);
                if self.0.load(Ordering::Relaxed) == seq {
                    return (seq, value);
                }
            }
            std::hint::spin_loop();
        }
    }
}

/// The calling thread's last span, behind the sequence number the workers wait on.
#[derive(Default)]
struct Go {
    seq: Seq,
    first: AtomicU64,
    epochs: AtomicU64,
    w: AtomicU64,
    b: AtomicU64,
    learning_rate: AtomicU64,
    steps: AtomicBool,
    then_squared_errors: AtomicBool,
    stop: AtomicBool,
    /// Whether a waiting worker warms up ([`Pool::warm_up`]): until the first span, and while
    /// `auto` calibrates.
    warm: AtomicBool,
}

impl Go {
    /// Calling thread only.
    fn write(&self, span: &Span) {
        // Sequentially consistent: see `wait_until`.
        self.seq.write(Ordering::SeqCst, || {
            self.first.store(span.first, Ordering::Relaxed);
            self.epochs.store(span.epochs, Ordering::Relaxed);
            self.w.store(span.w.to_bits(), Ordering::Relaxed);
            self.b.store(span.b.to_bits(), Ordering::Relaxed);
            self.learning_rate.store(span.learning_rate.unwrap_or(0.0).to_bits(), Ordering::Relaxed);
            self.steps.store(span.learning_rate.is_some(), Ordering::Relaxed);
            self.then_squared_errors.store(span.then_squared_errors, Ordering::Relaxed);
        });
    }

    /// The last span published, whole, and its sequence number.
    fn read(&self) -> (u64, Span) {
        self.seq.read(|| Span {
            first: self.first.load(Ordering::Relaxed),
            epochs: self.epochs.load(Ordering::Relaxed),
            w: f64::from_bits(self.w.load(Ordering::Relaxed)),
            b: f64::from_bits(self.b.load(Ordering::Relaxed)),
            learning_rate: self.steps.load(Ordering::Relaxed).then(|| f64::from_bits(self.learning_rate.load(Ordering::Relaxed))),
            then_squared_errors: self.then_squared_errors.load(Ordering::Relaxed),
        })
    }
}

/// Where a thread is in a descent: the epoch it sums and the (w, b) it sums it at, published
/// before it claims or records anything of that epoch, so a thread that finds a later epoch's
/// mark can catch up from here. One writer, its thread.
#[derive(Default)]
struct Progress {
    seq: Seq,
    epoch: AtomicU64,
    w: AtomicU64,
    b: AtomicU64,
}

impl Progress {
    fn write(&self, epoch: u64, w: f64, b: f64) {
        self.seq.write(Ordering::Release, || {
            self.epoch.store(epoch, Ordering::Relaxed);
            self.w.store(w.to_bits(), Ordering::Relaxed);
            self.b.store(b.to_bits(), Ordering::Relaxed);
        });
    }

    fn read(&self) -> (u64, f64, f64) {
        let load = |value: &AtomicU64| f64::from_bits(value.load(Ordering::Relaxed));
        self.seq.read(|| (self.epoch.load(Ordering::Relaxed), load(&self.w), load(&self.b))).1
    }
}

/// One block's sums of one epoch, in the row of the thread that summed it, tagged with the epoch.
/// Written by that thread alone; [`Record::BUSY`] while it writes, so a reader that overlaps a
/// rewrite sees the tag change and does not use the values.
#[repr(align(32))]
#[derive(Default)]
struct Record {
    epoch: AtomicU64,
    sum_ex: AtomicU64,
    sum_e: AtomicU64,
}

/// Records on one pair of cache lines (the adjacent-line prefetcher's unit, as [`Padded`]).
const RECORDS_A_PAIR: usize = 128 / std::mem::size_of::<Record>();

#[repr(align(128))]
#[derive(Default)]
struct RecordPair([Record; RECORDS_A_PAIR]);

/// What a record holds for the epoch asked about.
enum Seen {
    Sums((f64, f64)),
    /// An earlier epoch's, or none yet.
    Earlier,
    /// A later epoch's: its writer is ahead of the reader.
    Later,
}

impl Record {
    const BUSY: u64 = u64::MAX;

    fn write(&self, epoch: u64, (sum_ex, sum_e): (f64, f64)) {
        self.epoch.store(Record::BUSY, Ordering::Relaxed);
        fence(Ordering::Release);
        self.sum_ex.store(sum_ex.to_bits(), Ordering::Relaxed);
        self.sum_e.store(sum_e.to_bits(), Ordering::Relaxed);
        self.epoch.store(epoch, Ordering::Release);
    }

    fn read(&self, epoch: u64) -> Seen {
        let tag = self.epoch.load(Ordering::Acquire);
        if tag == Record::BUSY || tag < epoch {
            return Seen::Earlier;
        }
        if tag > epoch {
            return Seen::Later;
        }
        let sums = (f64::from_bits(self.sum_ex.load(Ordering::Relaxed)), f64::from_bits(self.sum_e.load(Ordering::Relaxed)));
        fence(Ordering::Acquire);
        // Rewritten while read: only ever for a later epoch.
        if self.epoch.load(Ordering::Relaxed) == epoch {
            Seen::Sums(sums)
        } else {
            Seen::Later
        }
    }
}

/// A thread found a later epoch's mark (a record or a cursor): it fell behind the others.
struct Behind;

/// What claiming a block found.
enum Claim {
    Block(usize),
    /// Every block of the run is claimed for this epoch.
    Done,
    /// The run's cursor is at a later epoch.
    Later,
}

/// Which pass over the blocks, which epoch, at which (w, b): what a block is summed for.
#[derive(Debug, Clone, Copy)]
struct At {
    pass: Pass,
    epoch: u64,
    w: f64,
    b: f64,
}

/// What a thread keeps to itself: its time to sum one block, retimed every [`RETIME_EPOCHS`]
/// (how long it waits for a block in flight before it sums the block itself), the sums of the
/// blocks it summed, tagged with the epoch, so that it adds them up without reading its own
/// records back (3% of an epoch at 10^4 points on two threads, Emerald Rapids), whether its
/// last look at another's run found blocks left to take (see [`Pool::sum_blocks`]), and whether
/// its last wait for a missing block ended in taking it (see [`Pool::await_any`]).
struct Mine {
    block_time: Duration,
    epochs: u64,
    sums: Vec<(u64, (f64, f64))>,
    steal_at_once: bool,
    take_at_once: bool,
    /// Whether this epoch's blocks are summed with software prefetches, and the choice of it.
    prefetching: bool,
    prefetch: PrefetchChoice,
}

impl Mine {
    fn new(blocks: usize) -> Mine {
        // Epoch 0 is never run.
        Mine {
            block_time: Duration::ZERO,
            epochs: 0,
            sums: vec![(0, (0.0, 0.0)); blocks],
            steal_at_once: false,
            take_at_once: false,
            prefetching: false,
            prefetch: PrefetchChoice::default(),
        }
    }

    fn patience(&self) -> Duration {
        self.block_time + PATIENCE_SLACK
    }

    /// `blocks`' sums added in block order, if this thread summed every one of them in `epoch`.
    fn group_total(&self, blocks: std::ops::Range<usize>, epoch: u64) -> Option<(f64, f64)> {
        self.sums[blocks].iter().try_fold((0.0, 0.0), |total, &(tag, sums)| (tag == epoch).then(|| add(total, sums)))
    }

    /// Whether this thread summed any of `blocks` in `epoch`.
    fn summed_any(&self, blocks: std::ops::Range<usize>, epoch: u64) -> bool {
        self.sums[blocks].iter().any(|&(tag, _)| tag == epoch)
    }
}

/// What the threads share. Thread 0 is the calling thread.
struct Pool<'a> {
    work: &'a Work<'a>,
    step: Option<Step>,
    /// The instruction set a worker sums with while it waits for the first span (see
    /// [`Pool::warm_up`]): the one the fit will most likely use, the widest unless one is named.
    warm_isa: Isa,
    go: Padded<Go>,
    /// Per thread: the next block of its own run, tagged with the epoch (see [`INDEX_BITS`]).
    /// Rewound by the first thread to claim from it in a later epoch.
    cursors: Vec<Padded<AtomicU64>>,
    /// Per thread: where its run of blocks ends.
    run_ends: Vec<usize>,
    /// Per block: the thread whose run it is in.
    owners: Vec<usize>,
    /// Per thread: whether it is parked, waiting for a span.
    parked: Vec<Padded<AtomicBool>>,
    /// Per thread, per epoch's parity, per block. A thread is at most one epoch ahead of any
    /// thread still reading its records, unless it summed that thread's blocks itself; then the
    /// reader sees the tag change. Each row a whole number of [`RecordPair`]s, so that no line
    /// (nor pair of lines) holds two threads' records, wherever the allocator puts the rows.
    records: Vec<RecordPair>,
    /// Per thread, per epoch's parity, per group: the group's total, recorded by a thread that
    /// summed every block of the group itself (see [`group_len`]); laid out as `records`.
    group_records: Vec<RecordPair>,
    /// Per thread, in a descent.
    progress: Vec<Padded<Progress>>,
    /// Looks a thread waits for a record ([`QUICK_WAIT`]) and rounds a waiting worker spins
    /// before it parks ([`SPIN_WAIT`]), in `pause`s on this CPU.
    quick_looks: u32,
    spin_rounds: u32,
    /// Whether a thread's share of the data is larger than its core's L2 (or the L2 is unknown):
    /// where a thread of a descent tries prefetching ([`PrefetchChoice`]).
    prefetch_may_pay: bool,
    /// The threads' prefetch choices, for the result line ([`Ran::prefetching`]), on a line of
    /// their own: the threads update them as they time their first epochs, while the others read
    /// the pool's other fields.
    choices: Padded<Choices>,
}

/// What a pool's threads chose about prefetching ([`PrefetchChoices`]), counted as they choose.
#[derive(Default)]
struct Choices {
    kept: AtomicUsize,
    refused: AtomicUsize,
    most_pairs: AtomicUsize,
}

impl Choices {
    /// A thread's choice after its latest timed epoch: counted once, when it chooses (a thread
    /// times epochs only until then). The pairs go first, and the count releases them: a reader
    /// that sees a choice sees the pairs that made it.
    fn update(&self, choice: &PrefetchChoice) {
        self.most_pairs.fetch_max(choice.pairs(), Ordering::Relaxed);
        match choice.chosen {
            Some(true) => self.kept.fetch_add(1, Ordering::Release),
            Some(false) => self.refused.fetch_add(1, Ordering::Release),
            None => 0,
        };
    }

    /// The counts so far, over the pool's life (a standing pool's threads keep their choices from
    /// fit to fit).
    fn read(&self) -> PrefetchChoices {
        let (kept, refused) = (self.kept.load(Ordering::Acquire), self.refused.load(Ordering::Acquire));
        PrefetchChoices { kept, refused, most_pairs: self.most_pairs.load(Ordering::Relaxed) }
    }
}

fn cursor_word(epoch: u64, block: usize) -> u64 {
    (epoch << INDEX_BITS) | block as u64
}

/// How the epoch in a cursor's word (its low 64 − [`INDEX_BITS`] bits) stands to `epoch`.
fn cursor_epoch_order(word: u64, epoch: u64) -> std::cmp::Ordering {
    const EPOCH_BITS: u32 = 64 - INDEX_BITS;
    let ahead = (word >> INDEX_BITS).wrapping_sub(epoch) & ((1 << EPOCH_BITS) - 1);
    match ahead {
        0 => std::cmp::Ordering::Equal,
        a if a < 1 << (EPOCH_BITS - 1) => std::cmp::Ordering::Greater,
        _ => std::cmp::Ordering::Less,
    }
}

/// In `rows` (per thread, per epoch's parity, `len` records each, a whole number of
/// [`RecordPair`]s), thread `t`'s record `index` of `epoch`.
fn row_record(rows: &[RecordPair], len: usize, t: usize, epoch: u64, index: usize) -> &Record {
    let row = (t * 2 + (epoch % 2) as usize) * len.div_ceil(RECORDS_A_PAIR);
    &rows[row + index / RECORDS_A_PAIR].0[index % RECORDS_A_PAIR]
}

/// Sums looked for up to `looks` times (`look`: a record's [`Record::read`] for the epoch, or a
/// few), a `pause` between looks: the wait of most epochs, for the other thread's last block.
/// One line a look and no clock, so that the record is seen as soon as it lands. None if they
/// are still missing; [`Behind`] if a later epoch's are there.
fn await_sums(looks: u32, look: impl Fn() -> Seen) -> Result<Option<(f64, f64)>, Behind> {
    for _ in 0..looks {
        match look() {
            Seen::Sums(sums) => return Ok(Some(sums)),
            Seen::Later => return Err(Behind),
            Seen::Earlier => std::hint::spin_loop(),
        }
    }
    Ok(None)
}

impl<'a> Pool<'a> {
    fn new(work: &'a Work<'a>, threads: usize, step: Option<Step>, warm_isa: Isa) -> Pool<'a> {
        let blocks = work.blocks();
        let run_end = |t: usize| blocks * (t + 1) / threads;
        let run_ends: Vec<usize> = (0..threads).map(run_end).collect();
        Pool {
            work,
            step,
            warm_isa,
            go: Padded(Go { warm: AtomicBool::new(true), ..Go::default() }),
            // Epoch 0 is never run: every run starts exhausted.
            cursors: run_ends.iter().map(|&end| Padded(AtomicU64::new(cursor_word(0, end)))).collect(),
            owners: (0..blocks).map(|block| run_ends.partition_point(|&end| end <= block)).collect(),
            run_ends,
            parked: (0..threads).map(|_| Padded(AtomicBool::new(false))).collect(),
            records: (0..threads * 2 * blocks.div_ceil(RECORDS_A_PAIR)).map(|_| RecordPair::default()).collect(),
            group_records: (0..threads * 2 * work.groups().div_ceil(RECORDS_A_PAIR)).map(|_| RecordPair::default()).collect(),
            progress: (0..threads).map(|_| Padded(Progress::default())).collect(),
            quick_looks: pauses_in(QUICK_WAIT),
            spin_rounds: pauses_in(SPIN_WAIT),
            prefetch_may_pay: pool_tries(work.x.len(), threads),
            choices: Padded(Choices::default()),
        }
    }

    fn threads(&self) -> usize {
        self.cursors.len()
    }

    /// The threads' prefetch choices so far, where they try (see [`PrefetchChoice`]).
    fn prefetch_choices(&self) -> Option<PrefetchChoices> {
        self.prefetch_may_pay.then(|| self.choices.0.read())
    }

    fn run_start(&self, t: usize) -> usize {
        if t == 0 {
            0
        } else {
            self.run_ends[t - 1]
        }
    }

    fn record(&self, t: usize, epoch: u64, block: usize) -> &Record {
        row_record(&self.records, self.owners.len(), t, epoch, block)
    }

    fn group_record(&self, t: usize, epoch: u64, group: usize) -> &Record {
        row_record(&self.group_records, self.work.groups(), t, epoch, group)
    }

    /// Calling thread: publishes `span` and wakes the workers that parked if `wake`; returns
    /// whether any had.
    fn publish(&self, span: &Span, workers: &[Thread], wake: bool, calibrating: bool) -> bool {
        self.go.0.warm.store(calibrating, Ordering::Relaxed);
        self.go.0.write(span);
        let mut any_parked = false;
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

    /// Claims and sums blocks: thread `t`'s own run, then, when runs are longer than a block,
    /// what is left of the others' (a run of one block is in flight by the time another thread
    /// could take it). Returns how many it summed.
    ///
    /// Before it looks at another's cursor, a thread waits a few looks ([`await_sums`]) for the
    /// record of that run's last block (its group's, where it has one), unless its last look at a
    /// run found blocks to take: a look at the cursor shares its line, and the owner's next
    /// claim must then take it back from the other core, on its way through the epoch. Stealing
    /// at once cost 4% of an epoch at 5·10^4 points on two threads (two blocks a run, a run
    /// rarely a block behind the other), yet at 10^6 (31 blocks a run) waiting first cost 2–3%:
    /// there a run often has blocks left when the other finishes. Measured on an Emerald Rapids
    /// (family 6 model 207, `reference_kernel --best-of`, ratio to the symmetric reference,
    /// 10–15 alternating rounds of four builds): 0.93 → 0.97 at 5·10^4 with groups and this
    /// wait, 0.98 → 0.99 at 10^5, level at 10^6.
    fn sum_blocks(&self, t: usize, mine: &mut Mine, at: At) -> Result<u32, Behind> {
        let threads = self.threads();
        let own = self.run_start(t);
        if self.run_ends[t] - own == 1 {
            // A run of one block is its owner's without a claim (a locked instruction an epoch,
            // up to 4% of one at 10^4 points): another thread takes it only after its patience,
            // and then both sum it, to the same bits.
            self.sum_block(t, mine, own, at);
            return Ok(1);
        }
        let others = if self.owners.len() >= 2 * threads { threads } else { 1 };
        let mut summed = 0;
        for victim in (t..threads).chain(0..t).take(others) {
            if victim != t
                && !mine.steal_at_once
                && await_sums(self.quick_looks, || self.run_record(victim, at.epoch).read(at.epoch))?.is_some()
            {
                continue;
            }
            let mut stole = false;
            loop {
                match self.claim(victim, at.epoch) {
                    Claim::Block(block) => {
                        self.sum_block(t, mine, block, at);
                        summed += 1;
                        stole = victim != t;
                    }
                    Claim::Done => break,
                    Claim::Later => return Err(Behind),
                }
            }
            if victim != t {
                mine.steal_at_once = stole;
            }
        }
        Ok(summed)
    }

    /// The record a thread adding up reads for the last block of `victim`'s run in `epoch`: its
    /// group's, when the group of the run's last block in the epoch's order lies in the run, else
    /// the block's own. Claims go in that order ([`block_at`]), so once it holds that epoch's
    /// sums nothing of the run is left to claim.
    fn run_record(&self, victim: usize, epoch: u64) -> &Record {
        let (start, end) = (self.run_start(victim), self.run_ends[victim]);
        let last = block_at(epoch, start..end, end - 1);
        let group = last / self.work.group_len;
        let blocks = self.work.group_blocks(group);
        if self.work.group_len > 1 && blocks.start >= start && blocks.end <= end {
            self.group_record(victim, epoch, group)
        } else {
            self.record(victim, epoch, last)
        }
    }

    /// Thread `t` sums `block`, records the sums and keeps them; and records its group's total
    /// when `block` is at an end of the group (where a thread claiming in either order finishes
    /// it) and `t` has summed every block of the group in this epoch.
    fn sum_block(&self, t: usize, mine: &mut Mine, block: usize, at: At) -> (f64, f64) {
        let sums = self.work.pass_sums(at.pass, block, at.w, at.b, mine.prefetching);
        self.record(t, at.epoch, block).write(at.epoch, sums);
        mine.sums[block] = (at.epoch, sums);
        let group = block / self.work.group_len;
        let blocks = self.work.group_blocks(group);
        if self.work.group_len > 1 && (block == blocks.start || block + 1 == blocks.end) {
            if let Some(total) = mine.group_total(blocks, at.epoch) {
                self.group_record(t, at.epoch, group).write(at.epoch, total);
            }
        }
        sums
    }

    /// The next unclaimed block of thread `victim`'s run in `epoch`, in the epoch's order
    /// ([`block_at`]: the cursor counts positions, ascending either way). The first claim of an
    /// epoch rewinds the run (forward only: a thread that fell behind never rewinds a later
    /// epoch's).
    fn claim(&self, victim: usize, epoch: u64) -> Claim {
        let cursor = &self.cursors[victim].0;
        let (start, end) = (self.run_start(victim), self.run_ends[victim]);
        let mut current = cursor.load(Ordering::Acquire);
        loop {
            let block = match cursor_epoch_order(current, epoch) {
                std::cmp::Ordering::Greater => return Claim::Later,
                std::cmp::Ordering::Less => start,
                std::cmp::Ordering::Equal => (current & INDEX_MASK) as usize,
            };
            if block >= end {
                return Claim::Done;
            }
            match cursor.compare_exchange_weak(current, cursor_word(epoch, block + 1), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Claim::Block(block_at(epoch, start..end, block)),
                Err(actual) => current = actual,
            }
        }
    }

    /// `block`'s sums of `epoch`, as recorded by a thread other than `t` (which keeps its own,
    /// [`Mine`]): from its run's owner's row or, if another thread summed it, from that one's. On
    /// two threads, one record: the other thread's.
    fn read_others(&self, t: usize, block: usize, epoch: u64) -> Seen {
        let owner = self.owners[block];
        let mut later = false;
        for row in std::iter::once(owner).chain((0..self.threads()).filter(|&row| row != owner)).filter(|&row| row != t) {
            match self.record(row, epoch, block).read(epoch) {
                Seen::Sums(sums) => return Seen::Sums(sums),
                Seen::Later => later = true,
                Seen::Earlier => {}
            }
        }
        if later {
            Seen::Later
        } else {
            Seen::Earlier
        }
    }

    /// Thread `t`, once nothing is left to claim: the blocks' sums added in the pool's order
    /// (see [`Work::add_in_order`]), whoever summed each: a group's total from its own sums or
    /// from its owner's group record, else block by block. A block still missing after the
    /// thread's patience (its thread is off its CPU) is claimed, or summed again if in flight,
    /// here.
    ///
    /// A group that `t` summed in part, with another thread (one took blocks of the other's run),
    /// has no total recorded, and is read block by block at once. Before, both threads waited
    /// their quick looks for a group total nobody writes, and the owner looked for the block
    /// taken from it in its own row: a steal left its victim further behind, so that the next
    /// epoch's look found it late again. 400–3 000 steals a fit of 10^4 epochs at 10^5 points on
    /// two threads, 30–330 since, and the fit 5–8% faster (Emerald Rapids, family 6 model 207,
    /// `linreg` processes, 15–21 alternating rounds).
    fn total(&self, t: usize, mine: &mut Mine, at: At) -> Result<(f64, f64), Behind> {
        let mut total = (0.0, 0.0);
        let mut deadline = None;
        for group in 0..self.work.groups() {
            let blocks = self.work.group_blocks(group);
            let whole = if self.work.group_len == 1 {
                None
            } else if let Some(sums) = mine.group_total(blocks.clone(), at.epoch) {
                Some(sums)
            } else if mine.summed_any(blocks.clone(), at.epoch) {
                // Shared between this thread and another: nobody records the group's total.
                None
            } else {
                await_sums(self.quick_looks, || self.group_record(self.owners[blocks.start], at.epoch, group).read(at.epoch))?
            };
            let sums = match whole {
                Some(sums) => sums,
                None => {
                    let mut sums = (0.0, 0.0);
                    for block in blocks {
                        sums = add(sums, self.block_total(t, mine, block, at, &mut deadline)?);
                    }
                    sums
                }
            };
            total = add(total, sums);
        }
        Ok(total)
    }

    /// `block`'s sums of `at`'s epoch, whoever summed them: the thread's own, or another's
    /// record (see [`Pool::read_others`], [`Pool::await_any`]). A block of the thread's own run
    /// that it did not sum was taken by another: on two threads, the one row it looks at.
    fn block_total(&self, t: usize, mine: &mut Mine, block: usize, at: At, deadline: &mut Option<Instant>) -> Result<(f64, f64), Behind> {
        match mine.sums[block] {
            (epoch, sums) if epoch == at.epoch => Ok(sums),
            _ => match await_sums(self.quick_looks, || self.read_others(t, block, at.epoch))? {
                Some(sums) => {
                    mine.take_at_once = false;
                    Ok(sums)
                }
                None => self.await_any(t, mine, block, at, deadline),
            },
        }
    }

    /// `block`'s sums from another's row, waited for until `deadline` (set at the first block that
    /// needs it, the thread's patience from then), then taken.
    ///
    /// A thread that took a block in its last such wait takes the next at once (after its quick
    /// looks, which find the record if its thread is back and on time, and end this): a thread
    /// kept off its CPU is off for milliseconds, thousands of short epochs, and waiting out the
    /// patience in each made them 3–6 times an epoch alone. Beside a CPU hog on the other vCPU,
    /// `auto` at 10^4 points read 0.133 → 0.125 ns a point an epoch (simd: 0.122), at 2·10^4
    /// 0.118 → 0.097 (simd: 0.119); level on a quiet machine (Emerald Rapids, family 6 model 207,
    /// `linreg` processes, 11–15 alternating rounds).
    fn await_any(&self, t: usize, mine: &mut Mine, block: usize, at: At, deadline: &mut Option<Instant>) -> Result<(f64, f64), Behind> {
        let patience = if mine.take_at_once { Duration::ZERO } else { mine.patience() };
        let deadline = *deadline.get_or_insert_with(|| Instant::now() + patience);
        loop {
            match self.read_others(t, block, at.epoch) {
                Seen::Sums(sums) => return Ok(sums),
                Seen::Later => return Err(Behind),
                Seen::Earlier => {}
            }
            if Instant::now() >= deadline {
                mine.take_at_once = true;
                return self.take(t, mine, block, at);
            }
            std::hint::spin_loop();
        }
    }

    /// Thread `t` claims and sums what is left of `block`'s run, and then `block` itself if it
    /// is still missing (in flight on a thread off its CPU); returns `block`'s sums.
    fn take(&self, t: usize, mine: &mut Mine, block: usize, at: At) -> Result<(f64, f64), Behind> {
        loop {
            let claimed = match self.claim(self.owners[block], at.epoch) {
                Claim::Block(claimed) => claimed,
                Claim::Done => match self.read_others(t, block, at.epoch) {
                    Seen::Sums(sums) => return Ok(sums),
                    Seen::Later => return Err(Behind),
                    Seen::Earlier => block,
                },
                Claim::Later => return Err(Behind),
            };
            let sums = self.sum_block(t, mine, claimed, at);
            if claimed == block {
                return Ok(sums);
            }
        }
    }

    /// Thread `t`'s part in `span`, a descent: every epoch it sums blocks, adds up all of them and
    /// takes the step, as every other thread does; the result is the same bits on every thread.
    /// A thread that finds itself behind (it was off its CPU while the others went on) catches up
    /// from the furthest thread's progress. Pushes each epoch's time to `times` if given.
    fn descend_span(&self, t: usize, span: &Span, mine: &mut Mine, mut times: Option<&mut Vec<Duration>>) -> Descent {
        let (Some(learning_rate), Some(step)) = (span.learning_rate, self.step) else {
            unreachable!("a descent's span has a learning rate and its pool a step");
        };
        let n = self.work.x.len() as f64;
        let (mut epoch, mut w, mut b) = (span.first, span.w, span.b);
        let mut diverged = false;
        while epoch < span.end() {
            self.progress[t].0.write(epoch, w, b);
            let epoch_start = times.is_some().then(Instant::now);
            mine.epochs += 1;
            let (prefetch, trying) =
                if self.prefetch_may_pay { mine.prefetch.for_epoch(mine.epochs, epoch - span.first) } else { (false, false) };
            mine.prefetching = prefetch;
            let summing_start = (trying || mine.epochs % RETIME_EPOCHS == 1).then(Instant::now);
            let at = At { pass: Pass::Gradient, epoch, w, b };
            let summed = self.sum_blocks(t, mine, at);
            if let (Some(start), Ok(summed @ 1..)) = (summing_start, &summed) {
                let per_block = start.elapsed() / *summed;
                if trying {
                    mine.prefetch.record(prefetch, per_block);
                    // A thread tries only until it has chosen: its choice is counted once.
                    self.choices.0.update(&mine.prefetch);
                }
                if mine.epochs % RETIME_EPOCHS == 1 {
                    mine.block_time = per_block;
                }
            }
            match summed.and_then(|_| self.total(t, mine, at)) {
                Ok(sums) => {
                    (w, b) = step(w, b, sums, n, learning_rate);
                    epoch += 1;
                    if let (Some(times), Some(start)) = (times.as_deref_mut(), epoch_start) {
                        times.push(start.elapsed());
                    }
                    diverged = !(w.is_finite() && b.is_finite());
                }
                Err(Behind) => {
                    let (furthest, at_w, at_b) = self.furthest(t);
                    if furthest > span.end() {
                        // The others are in a later span: this one is over.
                        break;
                    }
                    if furthest > epoch {
                        (epoch, w, b) = (furthest, at_w, at_b);
                        diverged = !(w.is_finite() && b.is_finite());
                    }
                }
            }
            if diverged {
                break;
            }
        }
        self.progress[t].0.write(epoch, w, b);
        let end = Descent { w, b, epochs_run: epoch.min(span.end()) - span.first, diverged, squared_errors: None };
        if diverged || epoch != span.end() || !span.then_squared_errors {
            return end;
        }
        // Numbered `span.end()`, as every thread finds it: a thread behind here is behind a later
        // span, which only a worker can be; the calling thread then sums it alone.
        let at = At { pass: Pass::SquaredErrors, epoch, w, b };
        let sum = self.sum_blocks(t, mine, at).and_then(|_| self.total(t, mine, at)).map(|(sum, _)| sum);
        match sum {
            Ok(sum) => Descent { squared_errors: Some(sum), ..end },
            Err(Behind) => self.work.with_squared_errors(end),
        }
    }

    /// The progress of the thread furthest on, other than `t`.
    fn furthest(&self, t: usize) -> (u64, f64, f64) {
        (0..self.threads())
            .filter(|&other| other != t)
            .map(|other| self.progress[other].0.read())
            .max_by_key(|&(epoch, _, _)| epoch)
            .unwrap_or((0, 0.0, 0.0))
    }

    /// Worker `t`, while it waits for the span after `seen` before the first span and while
    /// `auto` calibrates (for [`START_PATIENCE`] at most): sums the first block of its run over
    /// and over, the sums unused, so that its core's vector units are up to speed when the pool's
    /// epochs are timed and it is awake, not parked, when they start. The calling thread is
    /// meanwhile choosing the instruction set (in the first epoch, see [`IsaChoice`]) or summing
    /// epochs alone. Without it, the pool's first epochs ran in the worker core's AVX-512 warm-up,
    /// no faster than the calling thread alone (6–9 µs against 6.0–6.4 µs at 5·10^4 points; 3.5 µs
    /// once warm), and a worker parked during the calibration's epochs alone missed the next
    /// epochs on the pool (a wake takes longer than eight of them), so `auto` kept one thread in
    /// 6–15 of 20 fits at 2·10^4 and 5·10^4 points (Emerald Rapids, family 6 model 207).
    fn warm_up(&self, t: usize, seen: u64) {
        let start = Instant::now();
        let (x, y) = self.work.block(self.run_start(t));
        let go = &self.go.0;
        while go.seq.0.load(Ordering::Acquire) == seen && go.warm.load(Ordering::Relaxed) && start.elapsed() < START_PATIENCE {
            std::hint::black_box(simd::gradient_sums(self.warm_isa, x, y, 0.0, 0.0));
        }
    }

    /// Worker `t`'s life on a thread of its own, started by a thread that ran on `caller_cpu`:
    /// off that CPU, counted in `running`, then [`Pool::serve`].
    fn serve_off(&self, caller_cpu: Option<usize>, running: &AtomicUsize, t: usize) {
        // Linux often starts a new thread on its parent's CPU (6 of 12 fits at 10^4 points here):
        // it then takes turns with the calling thread until the load balancer moves it,
        // milliseconds later. See `leave_cpu`.
        leave_cpu(caller_cpu);
        running.fetch_add(1, Ordering::Release);
        self.serve(t);
    }

    /// Worker `t`'s life: wait for a span, take part in it, again.
    fn serve(&self, t: usize) {
        let mut seen = 0u64;
        let mut mine = Mine::new(self.owners.len());
        loop {
            self.warm_up(t, seen);
            wait_until(&self.parked[t].0, self.spin_rounds, || self.go.0.seq.0.load(Ordering::SeqCst) != seen);
            let (seq, span) = self.go.0.read();
            seen = seq;
            if self.go.0.stop.load(Ordering::Acquire) {
                return;
            }
            if span.learning_rate.is_some() {
                self.descend_span(t, &span, &mut mine, None);
            } else {
                // Found behind: the calling thread has gone on to a later epoch and sums this
                // one's blocks itself.
                let _ = self.sum_blocks(t, &mut mine, At { pass: Pass::Gradient, epoch: span.first, w: span.w, b: span.b });
            }
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

/// Timed parks ([`PARK_TIMEOUT`]) a waiting worker takes before it parks until woken: after ~16 ms
/// with nothing to do it is idle, not between epochs, and its wake-ups would cost CPU for nothing.
/// Whoever has work for it wakes it anyway (a span always, an epoch once the calling thread has
/// summed [`WAKE_WORTH`] alone), and so does the pool's end. An idle `Trainer` at 10^5 points
/// took 64 ms of CPU a second with timed parks alone (Emerald Rapids, 3 s idle after a fit), a
/// wake-up and a [`SPIN_WAIT`] every millisecond.
const TIMED_PARKS: u32 = 16;

/// Spins on `ready` for `rounds` `pause`s ([`SPIN_WAIT`]), then parks until it holds, waking
/// every [`PARK_TIMEOUT`] to look again, [`TIMED_PARKS`] times, then only when woken. `parked`
/// is the waiter's flag: set (sequentially consistent) before its last look, so that whoever
/// makes `ready` true either is seen by that look or sees the flag and may unpark the waiter.
fn wait_until(parked: &AtomicBool, rounds: u32, ready: impl Fn() -> bool) {
    for _ in 0..rounds {
        if ready() {
            return;
        }
        std::hint::spin_loop();
    }
    let mut parks = 0u32;
    loop {
        parked.store(true, Ordering::SeqCst);
        if ready() {
            parked.store(false, Ordering::Relaxed);
            return;
        }
        if parks < TIMED_PARKS {
            parks += 1;
            std::thread::park_timeout(PARK_TIMEOUT);
        } else {
            std::thread::park();
        }
        parked.store(false, Ordering::Relaxed);
        // Spin again before parking again: epochs may be running that nobody wakes us for.
        for _ in 0..rounds {
            if ready() {
                return;
            }
            std::hint::spin_loop();
        }
    }
}

/// Tells the workers to return and wakes them.
struct StopOnDrop<'a> {
    pool: &'a Pool<'a>,
    workers: &'a [Thread],
}

impl StopOnDrop<'_> {
    fn now(&self) {
        stop_workers(self.pool, self.workers);
    }
}

/// Tells `pool`'s workers to return and wakes them; once is enough, again is harmless.
fn stop_workers(pool: &Pool, workers: &[Thread]) {
    let go = &pool.go.0;
    go.stop.store(true, Ordering::Release);
    // A new sequence number, even: the workers wake, read the span and see `stop`.
    go.seq.0.fetch_add(2, Ordering::SeqCst);
    for worker in workers {
        worker.unpark();
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
    use crate::kernels::prefetch_choice::{PREFETCH_SETTLING_EPOCHS, PREFETCH_TRIALS};

    fn exactly(n: usize) -> Threads {
        Threads::Exactly(NonZeroUsize::new(n).unwrap())
    }

    #[test]
    fn data_that_leaves_one_l1d_is_cut_in_two() {
        let never = || -> Option<u64> { panic!("sysfs asked for too few points to matter") };
        assert!(!leaves_l1d(511, never), "less than the smallest L1d");
        let l1d = || Some(32 << 10);
        assert_eq!((leaves_l1d(2047, l1d), leaves_l1d(2048, l1d), leaves_l1d(3000, || Some(48 << 10))), (false, true, false));
        assert!(!leaves_l1d(100_000, || None), "no L1d named: the floor alone");
        assert!(!leaves_l1d(100_000, || Some(0)), "a nonsense size: the floor alone");
        // Where this machine's L1d is known, the cut follows it: one block below, two from it (on
        // two cores or more), never more than two below the floor's 2 · 2 048 points.
        if let Some(bytes) = crate::caches::cpu0_l1d_bytes().filter(|b| (8 << 10..64 << 10).contains(b)) {
            let points = (bytes / 16) as usize;
            let cores = default_threads().get();
            assert_eq!(block_count(points - 1, BLOCK_POINTS), 1);
            assert_eq!(block_count(points, BLOCK_POINTS), cores.min(2));
            assert_eq!(threads_used(points, Threads::Auto), cores.min(2));
        }
    }

    #[test]
    fn small_data_uses_fewer_threads_and_auto_at_most_every_core() {
        let cores = default_threads().get();
        let smallest = BLOCK_POINTS / NOMINAL_PER_SMALLEST;
        assert_eq!(threads_used(5, exactly(3)), 1);
        // Below the floor's two blocks, one, unless the data leaves one core's L1d (see
        // `data_that_leaves_one_l1d_is_cut_in_two`).
        let below_floor = if leaves_one_l1d(2 * smallest - 1) { cores.min(2) } else { 1 };
        assert_eq!(threads_used(2 * smallest - 1, exactly(2)), below_floor);
        assert_eq!(splits(2 * smallest - 1), below_floor > 1);
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

    /// Feeds rounds of `(pool, alone)` epoch times to a chooser for a fit of `fit_epochs`, in the
    /// order it asks for them.
    fn choose(fit_epochs: u64, rounds: &[(&[u64], &[u64])]) -> Chooser {
        let mut chooser = Chooser::new(fit_epochs);
        for &(pool, alone) in rounds {
            let (mut pool, mut alone) = (micros(pool).into_iter(), micros(alone).into_iter());
            for _ in 0..2 * CALIBRATION_EPOCHS {
                if chooser.chosen.is_some() {
                    break;
                }
                let mode = chooser.next();
                let took = match mode {
                    Mode::Pool => pool.next(),
                    Mode::Alone => alone.next(),
                };
                chooser.record(mode, took.expect("the chooser asks for no more than it said"));
            }
        }
        chooser
    }

    #[test]
    fn auto_times_the_pool_then_one_thread_and_keeps_the_faster_by_median() {
        let mut chooser = Chooser::new(1000);
        for _ in 0..CALIBRATION_EPOCHS {
            assert_eq!((chooser.next(), chooser.chosen), (Mode::Pool, None), "the pool first");
            chooser.record(Mode::Pool, Duration::from_micros(10));
        }
        assert_eq!(chooser.next(), Mode::Alone);
        // The pool faster in most epochs, one outlier each way, its settling epochs slow: the pool.
        let faster_pool = choose(1000, &[(&[80, 80, 5, 6, 90, 5, 6, 5], &[9, 9, 2, 9, 10, 9, 9, 9])]);
        assert_eq!((faster_pool.chosen, faster_pool.threads(2)), (Some(Mode::Pool), 2));
        // A busy second CPU: the pool waits for its worker in most epochs. A short fit's share
        // (1 000 epochs of ~9 µs: 180 µs) is spent in one round.
        let busy = (&[30, 40, 8, 35, 50, 30, 45, 33][..], &[30, 30, 9, 10, 9, 9, 8, 9][..]);
        let chooser = choose(1000, &[busy]);
        assert_eq!((chooser.chosen, chooser.next(), chooser.threads(2)), (Some(Mode::Alone), Mode::Alone, 1));
    }

    #[test]
    fn a_round_alone_too_slow_to_lead_ends_as_soon_as_its_median_is_known() {
        // 8 on the pool (median 10 µs), then alone: 2 settling, and 3 of the 6 counted at or past
        // 0.9 × 10 µs make the median so: the pool, after 5 epochs alone instead of 8.
        let mut chooser = choose(u64::MAX, &[(&[30, 30, 10, 10, 10, 10, 10, 10], &[500, 500, 100, 100, 100, 8, 8, 8])]);
        assert_eq!((chooser.chosen, chooser.epochs), (Some(Mode::Pool), CALIBRATION_EPOCHS + 5));
        // One fast among them: the third slow one comes an epoch later.
        chooser = choose(u64::MAX, &[(&[30, 30, 10, 10, 10, 10, 10, 10], &[500, 500, 100, 100, 8, 100, 100, 100])]);
        assert_eq!((chooser.chosen, chooser.epochs), (Some(Mode::Pool), CALIBRATION_EPOCHS + 6));
        // Two of the three slow: not known yet, and a fast rest makes one thread lead.
        chooser = choose(u64::MAX, &[(&[30, 30, 10, 10, 10, 10, 10, 10], &[500, 500, 100, 100, 5, 5, 5, 5])]);
        assert_eq!((chooser.chosen, chooser.epochs), (None, 2 * CALIBRATION_EPOCHS), "another round");
        assert!(chooser.best_alone < chooser.best_pool);
        // A round after one that led goes to its end, whatever its first epochs alone take.
        let led = (&[30, 30, 10, 10, 10, 10, 10, 10][..], &[9, 9, 5, 5, 5, 5, 5, 5][..]);
        let slow = (&[10, 10, 10, 10, 10, 10, 10, 10][..], &[90, 90, 90, 90, 90, 90, 90, 90][..]);
        chooser = choose(u64::MAX, &[led, slow]);
        assert_eq!((chooser.chosen, chooser.epochs), (None, 4 * CALIBRATION_EPOCHS));
    }

    #[test]
    fn while_one_thread_leads_auto_times_more_rounds_within_its_share_of_the_fit() {
        let slow_pool = (&[30, 30, 10, 10, 11, 10, 10, 10][..], &[9, 9, 6, 6, 6, 6, 6, 6][..]);
        let warm_pool = (&[5, 5, 3, 3, 3, 3, 3, 3][..], &[6, 6, 6, 6, 6, 6, 6, 6][..]);
        // A long fit: one thread leads after the first round, so another is timed, and the pool,
        // warm by then, is kept.
        let chooser = choose(1_000_000, &[slow_pool]);
        assert_eq!((chooser.chosen, chooser.next()), (None, Mode::Pool), "another round");
        let chooser = choose(1_000_000, &[slow_pool, warm_pool]);
        assert_eq!(chooser.chosen, Some(Mode::Pool));
        // Rounds go on only while one thread leads, up to the share: 2% of 10^6 epochs of 6 µs
        // is 120 ms, more than the longest, 20 ms: 115 rounds of 175 µs.
        let mut rounds = vec![slow_pool; 114];
        let chooser = choose(1_000_000, &rounds);
        assert_eq!(chooser.chosen, None);
        rounds.push(slow_pool);
        let chooser = choose(1_000_000, &rounds);
        assert_eq!(chooser.chosen, Some(Mode::Alone), "{:?} spent", chooser.spent);
    }

    #[test]
    fn auto_measures_only_a_fit_long_enough_to_pay_for_it() {
        let calibrates = |threads, epochs| Chooser::for_threads(threads, epochs).chosen.is_none();
        assert!(!calibrates(Threads::Auto, 399), "8 epochs alone would be more than 2% of the fit");
        assert!(calibrates(Threads::Auto, 400));
        assert!(calibrates(Threads::Auto, u64::MAX), "a fit of unknown length measures");
        assert!(!calibrates(exactly(2), u64::MAX), "a count named is the pool");
        assert_eq!(Chooser::for_threads(Threads::Auto, 100).next(), Mode::Pool);
    }

    #[test]
    fn a_long_epoch_on_the_pool_settles_it_at_once() {
        let mut chooser = Chooser::new(u64::MAX);
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
            let (got, used) = with_blocks(&x, &y, Threads::Auto, IsaChoice::Only(isa), 32, u64::MAX, epochs);
            assert_eq!(got, want, "{isa}");
            assert_eq!(one, Ran { threads: 1, isa: Some(isa), prefetching: None });
            assert!(used.threads == 1 || used.threads == default_threads().get(), "{used:?}");
        }
    }

    #[test]
    fn blocks_are_cut_evenly_and_in_a_multiple_of_the_cores() {
        // 5 115 926 and 9 615 521 points: where blocks of one length rounded up to whole vector
        // blocks left the last one short (one core) or one block fewer (two cores).
        let sizes = [16_385, 20_000, 33_000, 100_000, 1_000_000, 5_115_926, 9_615_521, 10_000_000, 40_000_000];
        for cores in [1, 2, 3, 4, 8, 64, default_threads().get()] {
            for n in sizes {
                let blocks = block_count_on(n, BLOCK_POINTS, cores);
                // A multiple of the cores, unless that many would be shorter than the smallest.
                let smallest_fit = n / (BLOCK_POINTS / NOMINAL_PER_SMALLEST);
                assert!(blocks.is_multiple_of(cores) || blocks == smallest_fit, "{n} points: {blocks} blocks for {cores} cores");
                let lens: Vec<usize> = (0..blocks).map(|block| block_range(n, blocks, block).len()).collect();
                let share = n as f64 / blocks as f64;
                for &len in &lens {
                    let off = (len as f64 - share).abs();
                    assert!(off < VECTOR_BLOCK_POINTS as f64, "{n} points, {cores} cores: a block of {len} for a share of {share}");
                    assert!(len < BLOCK_POINTS + VECTOR_BLOCK_POINTS, "{n} points, {cores} cores: a block of {len}");
                }
                assert_eq!(lens.iter().sum::<usize>(), n, "{n} points, {cores} cores: every point in one block");
                for block in 0..blocks {
                    let points = block_range(n, blocks, block);
                    assert!(points.start.is_multiple_of(VECTOR_BLOCK_POINTS), "{n}, block {block}: starts at {}", points.start);
                    assert_eq!(points.end, block_range(n, blocks, block + 1).start, "{n}, block {block}: blocks touch");
                }
            }
        }
    }

    #[test]
    fn more_cores_than_smallest_blocks_cut_into_as_many_as_fit() {
        let smallest = BLOCK_POINTS / NOMINAL_PER_SMALLEST;
        // 16 385 points hold 8 blocks of the smallest: on 1 024 cores, 8 blocks, not 1 024.
        assert_eq!(block_count_on(16_385, BLOCK_POINTS, 1024), 16_385 / smallest);
        // 10 of the smallest on 16 cores: 10; on 8, 8.
        assert_eq!(block_count_on(10 * smallest + 5, BLOCK_POINTS, 16), 10);
        assert_eq!(block_count_on(10 * smallest + 5, BLOCK_POINTS, 8), 8);
        assert_eq!(block_count_on(3 * BLOCK_POINTS, BLOCK_POINTS, 2), 4);
    }

    #[test]
    fn blocks_grow_past_the_index_bits() {
        assert_eq!(block_count(1000, BLOCK_POINTS), 1, "too little to cut");
        let huge = MAX_BLOCKS * BLOCK_POINTS * 3;
        for cores in [1, 2, 3] {
            let blocks = block_count_on(huge, BLOCK_POINTS, cores);
            assert!(blocks <= MAX_BLOCKS && blocks.is_multiple_of(cores), "{blocks} blocks for {cores} cores");
            let last = block_range(huge, blocks, blocks - 1);
            assert_eq!(last.end, huge);
        }
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
                assert_eq!(used, Ran { threads: t, isa: Some(isa), prefetching: None }, "an exact count is never second-guessed");
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

    fn step(w: f64, b: f64, (sum_ex, sum_e): (f64, f64), n: f64, learning_rate: f64) -> (f64, f64) {
        (w - learning_rate * (2.0 * (sum_ex / n)), b - learning_rate * (2.0 * (sum_e / n)))
    }

    /// `descents` of (epochs, learning rate) one after another on a pool, and the same on the
    /// calling thread alone, summing the pool's blocks in order.
    fn descents_on(x: &[f64], y: &[f64], threads: Threads, block: usize, descents: &[(u64, f64)]) -> (Vec<Descent>, Vec<Descent>, Ran) {
        descents_grouped_by(default_threads().get(), x, y, threads, block, descents)
    }

    /// [`descents_on`] with the blocks grouped by `cores` cores.
    fn descents_grouped_by(
        cores: usize,
        x: &[f64],
        y: &[f64],
        threads: Threads,
        block: usize,
        descents: &[(u64, f64)],
    ) -> (Vec<Descent>, Vec<Descent>, Ran) {
        let isa = IsaChoice::Only(Isa::PORTABLE);
        // Of unknown length, so that `auto` calibrates.
        let prepared = prepare(x, y, threads, isa, block, cores, u64::MAX);
        let (got, ran): (Vec<(Descent, Ran)>, Ran) =
            descend_blocks(prepared, step, &mut None, |descend| descents.iter().map(|&(e, lr)| descend(e, lr)).collect());
        assert_eq!(got.last().map(|&(_, last)| last), Some(ran), "the last descent ran on what the whole did");
        let got = got.into_iter().map(|(descent, _)| descent).collect();
        let work = Work::new(x, y, OnceLock::from(Isa::PORTABLE), block_count(x.len(), block), cores);
        let n = x.len() as f64;
        let want = descents
            .iter()
            .map(|&(epochs, lr)| {
                work.with_squared_errors(descend_alone(
                    |w, b| work.sum_in_order(w, b),
                    (0.0, 0.0),
                    epochs,
                    |w, b, s| step(w, b, s, n, lr),
                    None,
                ))
            })
            .collect();
        (got, want, ran)
    }

    fn bits(descents: &[Descent]) -> Vec<(u64, u64, u64, bool, Option<u64>)> {
        descents.iter().map(|d| (d.w.to_bits(), d.b.to_bits(), d.epochs_run, d.diverged, d.squared_errors.map(f64::to_bits))).collect()
    }

    #[test]
    fn every_thread_of_a_descent_takes_the_steps_one_thread_takes() {
        let (x, y) = data(1003);
        // Repeated descents on one pool, one of no epochs and one of one.
        let descents = [(300, 1e-3), (0, 1e-3), (1, 1e-3), (57, 2e-3)];
        for threads in [2, 3, 4] {
            let (got, want, ran) = descents_on(&x, &y, exactly(threads), 32, &descents);
            assert_eq!(bits(&got), bits(&want), "{threads} threads");
            assert_eq!(ran.threads, threads);
            // A block a thread.
            let n = 32 * threads.next_multiple_of(default_threads().get());
            let (got, want, _) = descents_on(&x[..n], &y[..n], exactly(threads), 32, &descents);
            assert_eq!(bits(&got), bits(&want), "{threads} threads, {n} points");
        }
        let (got, want, _) = descents_on(&x, &y, Threads::Auto, 32, &descents);
        assert_eq!(bits(&got), bits(&want), "auto");
    }

    #[test]
    fn a_descent_diverges_at_the_same_epoch_on_every_pool() {
        let (x, y) = data(1003);
        let descents = [(10_000, 0.5), (20, 1e-3)];
        for threads in [2, 4] {
            let (got, want, _) = descents_on(&x, &y, exactly(threads), 32, &descents);
            assert!(want[0].diverged && want[0].epochs_run < 10_000 && want[0].squared_errors.is_none(), "{:?}", want[0]);
            assert!(want[1].squared_errors.is_some_and(f64::is_finite), "{:?}", want[1]);
            assert_eq!(bits(&got), bits(&want), "{threads} threads");
        }
    }

    #[test]
    fn threads_that_fall_behind_catch_up_and_every_descent_keeps_its_bits() {
        // Oversubscribed: 8 threads on few CPUs are often off them, so threads fall epochs
        // behind, find later marks, catch up from the others' progress, and sum blocks of
        // threads that are away; 1-µs epochs make it happen thousands of times.
        let (x, y) = data(640);
        let descents = [(3000, 1e-3), (2000, 1e-3), (5, 1e-3)];
        for _ in 0..3 {
            let (got, want, _) = descents_on(&x, &y, exactly(8), 16, &descents);
            assert_eq!(bits(&got), bits(&want));
            // A block a thread: every run is its owner's without a claim, taken only by patience.
            let (got, want, ran) = descents_on(&x[..128], &y[..128], exactly(8), 16, &descents);
            assert_eq!(ran.threads, 8);
            assert_eq!(bits(&got), bits(&want), "a block a thread");
            // A group a thread (40 blocks grouped by 8 cores): the threads read the others'
            // group records, written and overwritten while they fall behind and catch up.
            let (got, want, _) = descents_grouped_by(8, &x, &y, exactly(8), 16, &descents);
            assert_eq!(bits(&got), bits(&want), "a group a thread");
        }
    }

    #[test]
    fn blocks_are_grouped_a_core_when_they_divide_evenly() {
        assert_eq!(group_len(8, 2), 4);
        assert_eq!(group_len(40, 8), 5);
        assert_eq!(group_len(3, 1), 3, "one core: one group");
        assert_eq!(group_len(2, 2), 1, "a block a core");
        assert_eq!(group_len(6, 4), 1, "uneven: a group a block");
        let (x, y) = data(1003);
        let work = Work::new(&x, &y, OnceLock::from(Isa::PORTABLE), 32, 2);
        assert_eq!((work.blocks(), work.groups(), work.group_blocks(1)), (32, 2, 16..32));
        let block = |k: usize| work.block_sums(k, 0.5, -0.25);
        let half = |blocks: std::ops::Range<usize>| blocks.map(block).fold((0.0, 0.0), add);
        assert_eq!(work.sum_in_order(0.5, -0.25), add(add((0.0, 0.0), half(0..16)), half(16..32)));
    }

    /// A pool of two threads (not started) over `n` points in blocks of `block`, grouped by two
    /// cores, its quick looks `quick_looks` if given: for tests that play its threads' parts by
    /// hand. Leaked with its data, so that a part can run on a thread of its own.
    fn pool_of_two(n: usize, block: usize, quick_looks: Option<u32>) -> &'static Pool<'static> {
        let (x, y) = data(n);
        let work = Box::leak(Box::new(Work::new(x.leak(), y.leak(), OnceLock::from(Isa::PORTABLE), n.div_ceil(block), 2)));
        let mut pool = Pool::new(work, 2, None, Isa::PORTABLE);
        pool.quick_looks = quick_looks.unwrap_or(pool.quick_looks);
        Box::leak(Box::new(pool))
    }

    /// `part`'s result, run on a thread of its own and given 10 s: a wait that does not end fails
    /// the test (`expecting` says what should have come) instead of hanging it.
    fn within_10_s<T: Send + 'static>(expecting: &str, part: impl FnOnce() -> T + Send + 'static) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(part()).ok());
        receiver.recv_timeout(Duration::from_secs(10)).expect(expecting)
    }

    #[test]
    fn odd_epochs_claim_a_run_backwards_and_every_block_once() {
        let pool = pool_of_two(128, 16, None);
        assert_eq!(&pool.run_ends[..], &[4, 8][..]);
        let claims = |epoch| {
            std::iter::from_fn(|| match pool.claim(1, epoch) {
                Claim::Block(block) => Some(block),
                Claim::Done | Claim::Later => None,
            })
            .collect::<Vec<usize>>()
        };
        assert_eq!(claims(1), [7, 6, 5, 4]);
        assert_eq!(claims(2), [4, 5, 6, 7]);
        assert_eq!(claims(3), [7, 6, 5, 4]);
        assert!(matches!(pool.claim(1, 2), Claim::Later), "an earlier epoch's claim finds it behind");
    }

    #[test]
    fn a_run_claimed_backwards_says_it_is_done_by_its_group_total_after_its_first_block() {
        // Two runs of four blocks, a group each. In an odd epoch thread 1 claims 7, 6, 5, 4: the
        // record a thief looks at holds nothing until block 4, then the group's total; in an even
        // epoch the same after block 7.
        let pool = pool_of_two(128, 16, None);
        let work = pool.work;
        assert_eq!((work.group_len, &pool.run_ends[..]), (4, &[4, 8][..]));
        for (epoch, last) in [(1, 4), (2, 7)] {
            let at = At { pass: Pass::Gradient, epoch, w: 0.5, b: -0.25 };
            assert!(std::ptr::eq(pool.run_record(1, epoch), pool.group_record(1, epoch, 1)), "epoch {epoch}");
            let mut mine = Mine::new(8);
            while let Claim::Block(block) = pool.claim(1, epoch) {
                let before = pool.run_record(1, epoch).read(epoch);
                assert!(matches!(before, Seen::Earlier), "epoch {epoch}: a total before block {block}");
                pool.sum_block(1, &mut mine, block, at);
                if block == last {
                    let total = (4..8).map(|b| work.block_sums(b, at.w, at.b)).fold((0.0, 0.0), add);
                    assert!(matches!(pool.run_record(1, epoch).read(epoch), Seen::Sums(s) if s == total), "epoch {epoch}");
                }
            }
        }
    }

    #[test]
    fn a_group_two_threads_shared_is_added_from_its_blocks_without_waiting_for_a_total() {
        // Two runs of four blocks, a group each; thread 1 takes the last block of thread 0's run.
        // Nobody then records group 0's total: each thread reads its blocks at once, thread 0
        // its own taken block from thread 1's row. Looks without end, so that a wait for a
        // record that never comes would not end either; it is run apart and given 10 s.
        let pool = pool_of_two(128, 16, Some(u32::MAX));
        let work = pool.work;
        assert_eq!((work.blocks(), work.group_len, &pool.run_ends[..]), (8, 4, &[4, 8][..]));
        let at = At { pass: Pass::Gradient, epoch: 1, w: 0.5, b: -0.25 };
        let (mut zero, mut one) = (Mine::new(8), Mine::new(8));
        for block in 0..3 {
            pool.sum_block(0, &mut zero, block, at);
        }
        for block in 3..8 {
            pool.sum_block(1, &mut one, block, at);
        }
        let totals = within_10_s("the totals come without waiting for a group's", move || {
            (pool.total(0, &mut zero, at).ok(), pool.total(1, &mut one, at).ok())
        });
        let want = Some(work.sum_in_order(at.w, at.b));
        assert_eq!(totals, (want, want));
    }

    #[test]
    fn a_thread_that_took_a_missing_block_takes_the_next_at_once_until_its_owner_is_back() {
        // Two runs of one block; thread 1 is away. Thread 0's first wait is its patience with
        // nothing timed yet (2 µs); once it has taken the block, it takes the next at once even
        // with an hour's patience, until a quick look finds thread 1's record again. Run apart
        // and given 10 s, as a wait of an hour would not end.
        let pool = pool_of_two(64, 32, None);
        let work = pool.work;
        assert_eq!((work.blocks(), &pool.run_ends[..]), (2, &[1, 2][..]));
        let at = |epoch| At { pass: Pass::Gradient, epoch, w: 0.5, b: -0.25 };
        let epochs = within_10_s("a block taken once is taken at once after", move || {
            let (mut zero, mut one) = (Mine::new(2), Mine::new(2));
            let epoch = |zero: &mut Mine, epoch| {
                pool.sum_block(0, zero, 0, at(epoch));
                (pool.total(0, zero, at(epoch)).ok(), zero.take_at_once)
            };
            let first = epoch(&mut zero, 1);
            zero.block_time = Duration::from_secs(3600);
            let second = epoch(&mut zero, 2);
            pool.sum_block(1, &mut one, 1, at(3));
            let back = epoch(&mut zero, 3);
            [first, second, back]
        });
        let sums = Some(work.sum_in_order(0.5, -0.25));
        assert_eq!(epochs, [(sums, true), (sums, true), (sums, false)]);
    }

    #[test]
    fn a_descent_that_tries_then_keeps_prefetching_sums_the_bits_of_one_that_never_does() {
        // One thread on a pool, the widest instruction set (whose loop has the prefetches), past
        // the settling epochs and the trials: whichever way the timing goes, the same bits.
        let (x, y) = data(1003);
        let isa = Isa::detect();
        let work = Work::new(&x, &y, OnceLock::from(isa), 32, 1);
        let epochs = PREFETCH_SETTLING_EPOCHS + 2 * PREFETCH_TRIALS as u64 + 20;
        let span = Span { first: 1, epochs, w: 0.0, b: 0.0, learning_rate: Some(1e-3), then_squared_errors: true };
        let n = x.len() as f64;
        let want = work.with_squared_errors(descend_alone(
            |w, b| work.sum_in_order(w, b),
            (0.0, 0.0),
            epochs,
            |w, b, s| step(w, b, s, n, 1e-3),
            None,
        ));
        for may_pay in [false, true] {
            // A pool each: a pool's epochs are numbered once.
            let mut pool = Pool::new(&work, 1, Some(step), isa);
            pool.prefetch_may_pay = may_pay;
            let mut mine = Mine::new(work.blocks());
            let got = pool.descend_span(0, &span, &mut mine, None);
            assert_eq!(bits(&[got]), bits(&[want]), "prefetching tried: {may_pay}");
            assert_eq!(mine.prefetch.chosen.is_some(), may_pay, "{:?}", mine.prefetch);
            // What the result line says, where they try: the one thread's choice counted once
            // (the epochs after it are not timed), and the pairs it timed to make it.
            assert_eq!(pool.prefetch_choices(), may_pay.then(|| mine.prefetch.choices()));
            if let Some(choices) = pool.prefetch_choices() {
                assert_eq!(choices.kept + choices.refused, 1, "{choices:?}");
                assert!(choices.hold_together(1), "{choices:?}");
            }
        }
    }

    #[test]
    fn two_threads_past_their_l2s_try_prefetching_and_sum_the_bits_of_one() {
        // Each thread's share 4.8 MB, past any L2 these tests meet (or the L2 unknown: then every
        // pool tries): both threads settle, take turns, choose, and go on, stealing and taking
        // where the other is off its CPU; the widest instruction set, whose loop prefetches.
        let (x, y) = data(600_000);
        let isa = IsaChoice::Only(Isa::detect());
        let epochs = PREFETCH_SETTLING_EPOCHS + 2 * PREFETCH_TRIALS as u64 + 24;
        let fit = |threads| {
            with_descent(&x, &y, threads, isa, epochs, step, &mut Prefetching::for_points(x.len()), |descend| descend(epochs, 1e-3))
        };
        let ((want, _), _) = fit(exactly(1));
        let ((got, ran), _) = fit(exactly(2));
        assert_eq!(bits(&[got]), bits(&[want]));
        let tries = pool_tries(x.len(), 2);
        assert_eq!(ran.prefetching.is_some(), tries, "{ran:?}");
        assert!(ran.prefetching.is_none_or(|c| c.hold_together(2)), "{ran:?}");
    }

    #[test]
    fn many_short_epochs_with_more_threads_than_cpus_finish() {
        // Oversubscribed: workers are often off-CPU, so epochs run with late and parked workers.
        let (x, y) = data(640);
        let want =
            Work::new(&x, &y, OnceLock::from(Isa::PORTABLE), block_count(x.len(), 16), default_threads().get()).sum_in_order(0.3, 0.2);
        let (got, _) =
            with_blocks(&x, &y, exactly(8), IsaChoice::Only(Isa::PORTABLE), 16, 1, |sums| (0..2000).map(|_| sums(0.3, 0.2)).last());
        assert_eq!(got, Some(want));
    }
}
