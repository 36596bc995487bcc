//! The machine's own limits, measured at the start of every run so the report can set each result
//! beside them: the memory read bandwidth (the fastest an epoch over data that no longer fits in
//! cache can go) and the spawn floor (the whole-process time of a program that does nothing,
//! measured exactly as the implementations are).

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{mpsc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::runner::{self, CancelToken, ChildCommand, RunLimits, Termination};
use crate::stats;

/// What one point costs an epoch once the data lives in memory: x_i and y_i, one f64 each, read
/// once. The bandwidth probe streams the same two arrays the same way, so bytes a second divided
/// by this is the most points a second any kernel can reach.
pub const BYTES_PER_POINT: usize = 2 * std::mem::size_of::<f64>();

/// 256 MiB an array, 512 MiB a pass: 16× the 32 MiB L3 of the EPYC this was written on and well
/// beyond any desktop or server L3 of today, so no pass is served from cache.
pub const DEFAULT_BYTES_PER_ARRAY: usize = 256 << 20;

/// Timed passes at each thread count. On the 2-vCPU EPYC VM this was written on, a 512 MiB pass
/// takes ~14 ms on one thread and ~7 ms on two, and touching the pages ~0.2 s: about 1 s in all
/// when the machine is quiet, 2–3 s when other work shares the cores. Many short passes rather
/// than a few long ones give the best-of more chances to catch a moment without interference.
pub const DEFAULT_PASSES: usize = 30;

/// Whole-process runs the spawn floor is the median of, after [`SPAWN_FLOOR_WARMUP_RUNS`].
pub const DEFAULT_SPAWN_FLOOR_RUNS: usize = 50;

/// Untimed runs first, so the program's pages are in the page cache and the first fork of a large
/// orchestrator does not count.
const SPAWN_FLOOR_WARMUP_RUNS: usize = 3;

/// `true` takes a millisecond; anything near this means something is badly wrong.
const SPAWN_FLOOR_TIMEOUT: Duration = Duration::from_secs(10);

/// Each thread's chunk starts on a multiple of this many points, as the parallel kernel's chunks
/// do: one AVX2 block, so every thread runs the same whole-block loop and only the last has a tail.
const CHUNK_ALIGN_POINTS: usize = 16;

/// Multiplies x in the streaming sum: any value works, the loop only has to read every element.
const STREAM_SCALE: f64 = 0.5;

#[derive(Debug, Error)]
pub enum ProbeError {
    #[error("the bandwidth probe needs at least one thread and one pass (got {threads} threads, {passes} passes)")]
    NothingToMeasure { threads: usize, passes: usize },
    #[error("the bandwidth probe needs at least {min_bytes} bytes an array to give each of {threads} threads a chunk (got {bytes})")]
    ArraysTooSmall { bytes: usize, min_bytes: usize, threads: usize },
    #[error("cannot allocate {bytes} bytes for the bandwidth probe")]
    Allocation { bytes: usize },
    #[error("cannot start a bandwidth probe thread: {0}")]
    ThreadStart(#[source] std::io::Error),
    #[error("a bandwidth probe thread panicked")]
    ThreadPanicked,
    #[error("the spawn floor needs at least one run")]
    NoRuns,
    #[error("spawn floor: {program} did not exit with status 0 (run {run}): {termination:?}")]
    SpawnFloorRun { program: String, run: usize, termination: Termination },
}

/// The memory read bandwidth at one thread count, over several timed passes.
///
/// `best_bytes_per_second` is the figure to compare against: it is the STREAM convention, and on a
/// shared machine interference (other processes, frequency dips, a page-cache flush) only ever
/// slows a pass down, so the fastest pass is the closest estimate of what the hardware can do.
/// The median and the slowest pass show how far the machine was from that while probed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandwidthResult {
    pub threads: usize,
    /// Both arrays: `BYTES_PER_POINT` × points.
    pub bytes_per_pass: u64,
    pub passes: usize,
    pub best_bytes_per_second: f64,
    pub median_bytes_per_second: f64,
    pub worst_bytes_per_second: f64,
    /// The loop that streamed: "avx2-fma" or "portable".
    pub instruction_set: String,
}

impl BandwidthResult {
    /// The least an epoch can cost a point when every point comes from memory, at the best pass's
    /// bandwidth: what the report sets beside each implementation's training ns a point an epoch.
    pub fn floor_ns_per_point(&self) -> f64 {
        BYTES_PER_POINT as f64 / self.best_bytes_per_second * 1e9
    }
}

/// The bandwidth one core can draw, and what all the cores this process may use draw together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bandwidth {
    /// The thread count of `all_threads`: `available_parallelism` (affinity and cgroup quota
    /// included).
    pub threads: usize,
    pub single_thread: BandwidthResult,
    pub all_threads: BandwidthResult,
}

impl Bandwidth {
    pub fn single_thread_bytes_per_second(&self) -> f64 {
        self.single_thread.best_bytes_per_second
    }

    pub fn all_threads_bytes_per_second(&self) -> f64 {
        self.all_threads.best_bytes_per_second
    }
}

/// The memory read bandwidth on one thread and on every thread this process may use, with the
/// default sizes (about 1 s on a quiet machine). One pair of arrays serves both, so the pages are
/// touched once.
pub fn measure_bandwidth() -> Result<Bandwidth, ProbeError> {
    measure_bandwidth_with(DEFAULT_BYTES_PER_ARRAY)
}

/// [`measure_bandwidth`] with arrays of `bytes_per_array` each: they must be well above the
/// largest cache to measure memory, and a machine with a huge L3 (or little memory) may need
/// another size than the default.
pub fn measure_bandwidth_with(bytes_per_array: usize) -> Result<Bandwidth, ProbeError> {
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let arrays = StreamArrays::allocate(bytes_per_array)?;
    let single_thread = arrays.stream(1, DEFAULT_PASSES)?;
    let all_threads = if threads == 1 { single_thread.clone() } else { arrays.stream(threads, DEFAULT_PASSES)? };
    Ok(Bandwidth { threads, single_thread, all_threads })
}

/// Allocates two f64 arrays of `bytes_per_array` bytes each (rounded down to whole f64), touches
/// every page, then times `passes` read-only passes over both, split over `threads` threads in
/// contiguous chunks. The memory is returned to the system before this returns.
pub fn memory_read_bandwidth(threads: usize, bytes_per_array: usize, passes: usize) -> Result<BandwidthResult, ProbeError> {
    // Checked before allocating, so a bad request costs nothing.
    check_settings(bytes_per_array / std::mem::size_of::<f64>(), threads, passes)?;
    StreamArrays::allocate(bytes_per_array)?.stream(threads, passes)
}

/// At least one thread and one pass, and a chunk of at least [`CHUNK_ALIGN_POINTS`] for each
/// thread.
fn check_settings(points: usize, threads: usize, passes: usize) -> Result<(), ProbeError> {
    if threads == 0 || passes == 0 {
        return Err(ProbeError::NothingToMeasure { threads, passes });
    }
    if points < threads * CHUNK_ALIGN_POINTS {
        let min_bytes = threads * CHUNK_ALIGN_POINTS * std::mem::size_of::<f64>();
        return Err(ProbeError::ArraysTooSmall { bytes: points * std::mem::size_of::<f64>(), min_bytes, threads });
    }
    Ok(())
}

/// The two columns the probe streams, like a dataset's x and y.
struct StreamArrays {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl StreamArrays {
    fn allocate(bytes_per_array: usize) -> Result<Self, ProbeError> {
        let points = bytes_per_array / std::mem::size_of::<f64>();
        Ok(StreamArrays { x: touched(points, 1.0)?, y: touched(points, 0.25)? })
    }

    fn stream(&self, threads: usize, passes: usize) -> Result<BandwidthResult, ProbeError> {
        let points = self.x.len();
        check_settings(points, threads, passes)?;
        let instruction_set = StreamIsa::detect();
        let windows = timed_passes(&self.x, &self.y, threads, passes, instruction_set)?;

        let bytes_per_pass = (points * BYTES_PER_POINT) as u64;
        // A pass is never shorter than the clock's resolution: the floor keeps a rate finite.
        let mut rates: Vec<f64> = windows.iter().map(|seconds| bytes_per_pass as f64 / seconds.max(1e-9)).collect();
        rates.sort_by(f64::total_cmp);
        Ok(BandwidthResult {
            threads,
            bytes_per_pass,
            passes,
            best_bytes_per_second: rates[rates.len() - 1],
            median_bytes_per_second: stats::median(&rates).unwrap_or(f64::NAN),
            worst_bytes_per_second: rates[0],
            instruction_set: instruction_set.name().to_owned(),
        })
    }
}

/// A vector of `points` copies of `value`, every page written: the page faults (and the kernel
/// zeroing each page) happen here rather than inside the timed passes.
fn touched(points: usize, value: f64) -> Result<Vec<f64>, ProbeError> {
    let mut values = Vec::new();
    values.try_reserve_exact(points).map_err(|_| ProbeError::Allocation { bytes: points * std::mem::size_of::<f64>() })?;
    values.resize(points, value);
    Ok(values)
}

/// The start of each thread's chunk, and `points` at the end: chunks of near-equal size, each
/// starting on a multiple of [`CHUNK_ALIGN_POINTS`] (non-empty when points ≥ threads × that).
fn chunk_bounds(points: usize, threads: usize) -> Vec<usize> {
    let per_thread = points / threads;
    (0..threads).map(|i| per_thread * i / CHUNK_ALIGN_POINTS * CHUNK_ALIGN_POINTS).chain([points]).collect()
}

/// The seconds each pass took, from the first thread starting it to the last one finishing it: the
/// slowest thread sets the pace, as it does for the parallel kernel's epochs.
fn timed_passes(x: &[f64], y: &[f64], threads: usize, passes: usize, isa: StreamIsa) -> Result<Vec<f64>, ProbeError> {
    let bounds = chunk_bounds(x.len(), threads);
    let barrier = Barrier::new(threads);
    let per_thread: Vec<Vec<(Instant, Instant)>> = thread::scope(|scope| {
        // Each thread waits for a go before it first meets the barrier: if a later thread cannot
        // be started, the senders are dropped and the started ones return instead of waiting
        // forever for a party that will never come.
        let mut goes = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for window in bounds.windows(2) {
            let (x_chunk, y_chunk) = (&x[window[0]..window[1]], &y[window[0]..window[1]]);
            let (go, wait_for_go) = mpsc::channel::<()>();
            let barrier = &barrier;
            let spawned = thread::Builder::new()
                .name("bandwidth-probe".into())
                .spawn_scoped(scope, move || wait_for_go.recv().ok().map(|()| stream_chunk(x_chunk, y_chunk, passes, barrier, isa)));
            match spawned {
                Ok(handle) => {
                    goes.push(go);
                    handles.push(handle);
                }
                Err(e) => return Err(ProbeError::ThreadStart(e)),
            }
        }
        for go in &goes {
            // A send fails only if that thread is gone already; its join below reports it.
            let _ = go.send(());
        }
        handles.into_iter().map(|h| h.join().ok().flatten().ok_or(ProbeError::ThreadPanicked)).collect()
    })?;

    Ok((0..passes)
        .map(|pass| {
            let windows = per_thread.iter().map(|w| w[pass]);
            let first_start = windows.clone().map(|(start, _)| start).min();
            let last_end = windows.map(|(_, end)| end).max();
            match (first_start, last_end) {
                (Some(start), Some(end)) => end.saturating_duration_since(start).as_secs_f64(),
                _ => 0.0,
            }
        })
        .collect())
}

/// One thread's part: an untimed pass (its first touch of the chunk from this core, and the clock
/// ramping up), then `passes` timed ones, each started together with the other threads.
fn stream_chunk(x: &[f64], y: &[f64], passes: usize, barrier: &Barrier, isa: StreamIsa) -> Vec<(Instant, Instant)> {
    let mut windows = Vec::with_capacity(passes);
    black_box(read_sum(isa, black_box(x), black_box(y)));
    for _ in 0..passes {
        barrier.wait();
        let start = Instant::now();
        // black_box on the slices and the sum: the optimiser may neither skip the loads nor hoist
        // the pass out of the loop as the same computation repeated.
        black_box(read_sum(isa, black_box(x), black_box(y)));
        windows.push((start, Instant::now()));
    }
    windows
}

/// Which loop streams: AVX2+FMA when the CPU has both (detected at run time), plain Rust with
/// independent accumulators otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamIsa {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

impl StreamIsa {
    fn detect() -> StreamIsa {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return StreamIsa::Avx2Fma;
        }
        StreamIsa::Portable
    }

    fn name(self) -> &'static str {
        match self {
            StreamIsa::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            StreamIsa::Avx2Fma => "avx2-fma",
        }
    }
}

/// Σ (x_i·c + y_i): every element of both arrays read once, with half the arithmetic of the
/// gradient kernel (one fused multiply-add and one add a point against two of each), so the loop
/// is bound by memory and never by arithmetic.
fn read_sum(isa: StreamIsa, x: &[f64], y: &[f64]) -> f64 {
    debug_assert_eq!(x.len(), y.len());
    match isa {
        StreamIsa::Portable => portable_read_sum(x, y),
        // SAFETY: `Avx2Fma` is only chosen by `StreamIsa::detect` after the CPU reported AVX2 and
        // FMA; the slices have the same length (both are the same range of equal-length arrays).
        #[cfg(target_arch = "x86_64")]
        StreamIsa::Avx2Fma => unsafe { avx2::read_sum(x, y) },
    }
}

/// Eight independent sums hide the add latency; without them one dependent chain of adds, ~4
/// cycles a point, would make this loop slower than memory on a fast machine.
const PORTABLE_LANES: usize = 8;

fn portable_read_sum(x: &[f64], y: &[f64]) -> f64 {
    let mut sums = [0.0f64; PORTABLE_LANES];
    let mut x_blocks = x.chunks_exact(PORTABLE_LANES);
    let mut y_blocks = y.chunks_exact(PORTABLE_LANES);
    for (xb, yb) in (&mut x_blocks).zip(&mut y_blocks) {
        for k in 0..PORTABLE_LANES {
            sums[k] += xb[k] * STREAM_SCALE + yb[k];
        }
    }
    let tail: f64 = x_blocks.remainder().iter().zip(y_blocks.remainder()).map(|(&xi, &yi)| xi * STREAM_SCALE + yi).sum();
    sums.iter().sum::<f64>() + tail
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// f64 lanes in one AVX2 vector.
    const WIDTH: usize = 4;
    /// Independent accumulators: 4 hide the add latency, so the core could stream several times
    /// faster than any DRAM feeds it.
    const ACCUMULATORS: usize = 4;
    const BLOCK: usize = WIDTH * ACCUMULATORS;

    /// # Safety
    /// The CPU must support AVX2 and FMA, and `x` and `y` must have the same length.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn read_sum(x: &[f64], y: &[f64]) -> f64 {
        let scale = _mm256_set1_pd(super::STREAM_SCALE);
        let mut sums = [_mm256_setzero_pd(); ACCUMULATORS];
        let mut x_blocks = x.chunks_exact(BLOCK);
        let mut y_blocks = y.chunks_exact(BLOCK);
        for (xb, yb) in (&mut x_blocks).zip(&mut y_blocks) {
            for (k, sum) in sums.iter_mut().enumerate() {
                // SAFETY: both blocks hold BLOCK = ACCUMULATORS·WIDTH values, so the WIDTH values
                // from k·WIDTH are in bounds; loadu has no alignment requirement.
                let (x_v, y_v) = unsafe { (_mm256_loadu_pd(xb.as_ptr().add(k * WIDTH)), _mm256_loadu_pd(yb.as_ptr().add(k * WIDTH))) };
                *sum = _mm256_add_pd(*sum, _mm256_fmadd_pd(x_v, scale, y_v));
            }
        }
        let total = _mm256_add_pd(_mm256_add_pd(sums[0], sums[1]), _mm256_add_pd(sums[2], sums[3]));
        let mut lanes = [0.0f64; WIDTH];
        // SAFETY: `lanes` has room for exactly WIDTH f64; storeu has no alignment requirement.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), total) };
        lanes.iter().sum::<f64>() + super::portable_read_sum(x_blocks.remainder(), y_blocks.remainder())
    }
}

/// The whole-process wall time of a program that does nothing: the least any implementation's
/// wall time can be, measured through [`runner::run_measured`] exactly as implementations are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpawnFloor {
    /// What was run: /bin/true, or `true` from PATH.
    pub program: String,
    pub runs: usize,
    pub median_wall_seconds: f64,
    pub min_wall_seconds: f64,
    pub max_wall_seconds: f64,
    /// The median time from the child's execve until the launcher resumed (the exec replacing the
    /// image; an upper bound, as the launcher may wait for a CPU).
    pub median_spawn_seconds: Option<f64>,
    /// The median peak RSS (the upper of the middle two for an even count): a check of the memory
    /// method, since `true` needs ~1 MiB.
    pub median_peak_rss_bytes: Option<u64>,
    /// Every run's peak was the program's own ru_maxrss rather than sampled.
    pub peak_rss_exact: bool,
    /// The same for a statically linked program that does nothing (`launcher --exit`): exec and
    /// exit without the dynamic loader. `median_wall_seconds` minus this is what loading libc
    /// dynamically costs /bin/true.
    #[serde(default)]
    pub static_noop_median_wall_seconds: Option<f64>,
}

/// Runs `true` a few times untimed, then `runs` times through the runner with the given sample
/// interval (pass the one the real runs use: sampling costs the child a little) and summarises
/// the wall times. Any run that does not exit with status 0 is an error.
pub fn spawn_floor(runs: usize, sample_interval: Option<Duration>) -> Result<SpawnFloor, ProbeError> {
    if runs == 0 {
        return Err(ProbeError::NoRuns);
    }
    let program = if Path::new("/bin/true").exists() { "/bin/true" } else { "true" };
    let command = ChildCommand::new([program], "/");
    let limits = RunLimits::with_timeout(SPAWN_FLOOR_TIMEOUT);
    let cancel = CancelToken::new();

    let mut measured = Vec::with_capacity(runs);
    for run in 0..SPAWN_FLOOR_WARMUP_RUNS + runs {
        let result = runner::run_measured(&command, &limits, sample_interval, &cancel);
        if result.termination != Termination::Exited(0) {
            return Err(ProbeError::SpawnFloorRun { program: program.to_owned(), run, termination: result.termination });
        }
        if run >= SPAWN_FLOOR_WARMUP_RUNS {
            measured.push(result);
        }
    }

    let mut wall_seconds: Vec<f64> = measured.iter().map(|m| m.wall_seconds).collect();
    wall_seconds.sort_by(f64::total_cmp);
    let mut spawn_seconds: Vec<f64> = measured.iter().filter_map(|m| m.spawn_seconds).collect();
    spawn_seconds.sort_by(f64::total_cmp);
    let mut peak_rss_bytes: Vec<u64> = measured.iter().filter_map(|m| m.peak_rss_bytes).collect();
    peak_rss_bytes.sort_unstable();
    Ok(SpawnFloor {
        program: program.to_owned(),
        runs,
        median_wall_seconds: stats::median(&wall_seconds).unwrap_or(f64::NAN),
        min_wall_seconds: wall_seconds[0],
        max_wall_seconds: wall_seconds[wall_seconds.len() - 1],
        median_spawn_seconds: (spawn_seconds.len() == runs).then(|| stats::median(&spawn_seconds)).flatten(),
        median_peak_rss_bytes: peak_rss_bytes.get(peak_rss_bytes.len() / 2).copied(),
        peak_rss_exact: measured.iter().all(|m| m.peak_rss_exact),
        static_noop_median_wall_seconds: static_noop_median(runs, sample_interval, &limits, &cancel),
    })
}

/// The median wall time of `launcher --exit` run `runs` times (after the same warm-up), when the
/// launcher is found and every run exits 0.
fn static_noop_median(runs: usize, sample_interval: Option<Duration>, limits: &RunLimits, cancel: &CancelToken) -> Option<f64> {
    let launcher = runner::launcher_path().ok()?;
    let command = ChildCommand::new([launcher.display().to_string(), "--exit".to_string()], "/");
    let mut walls = Vec::with_capacity(runs);
    for run in 0..SPAWN_FLOOR_WARMUP_RUNS + runs {
        let result = runner::run_measured(&command, limits, sample_interval, cancel);
        if result.termination != Termination::Exited(0) {
            return None;
        }
        if run >= SPAWN_FLOOR_WARMUP_RUNS {
            walls.push(result.wall_seconds);
        }
    }
    walls.sort_by(f64::total_cmp);
    stats::median(&walls)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's resident memory now, from /proc/self/status.
    fn vm_rss_bytes() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable on Linux");
        let line = status.lines().find_map(|line| line.strip_prefix("VmRSS:")).expect("VmRSS is in /proc/self/status");
        let kibibytes: u64 = line.trim().trim_end_matches("kB").trim().parse().expect("VmRSS is a number of kB");
        kibibytes * 1024
    }

    #[test]
    fn bandwidth_is_positive_and_finite_on_one_and_two_threads() {
        for threads in [1, 2] {
            // 1 MiB + 8 bytes: an odd number of points, so both the vector tail and the chunk
            // split get exercised.
            let result = memory_read_bandwidth(threads, (1 << 20) + 8, 3).expect("a small probe runs");
            assert_eq!(result.threads, threads);
            assert_eq!(result.bytes_per_pass, 2 * ((1 << 20) + 8));
            for rate in [result.best_bytes_per_second, result.median_bytes_per_second, result.worst_bytes_per_second] {
                assert!(rate.is_finite() && rate > 0.0, "{threads} threads: {rate} bytes/s");
            }
            assert!(result.worst_bytes_per_second <= result.median_bytes_per_second);
            assert!(result.median_bytes_per_second <= result.best_bytes_per_second);
            assert!(result.floor_ns_per_point().is_finite() && result.floor_ns_per_point() > 0.0);
        }
    }

    #[test]
    fn the_probe_gives_its_memory_back() {
        // 64 MiB an array: above glibc's largest mmap threshold (32 MiB), so the arrays are mapped
        // on their own and unmapped on drop, as the default 256 MiB ones are.
        let bytes_per_array = 64 << 20;
        let before = vm_rss_bytes();
        memory_read_bandwidth(2, bytes_per_array, 1).expect("the probe runs");
        let after = vm_rss_bytes();
        // Other tests run in this process at the same time; they hold a few MiB at most.
        assert!(after < before + bytes_per_array as u64 / 4, "VmRSS {before} bytes before, {after} after");
    }

    #[test]
    fn nothing_to_measure_is_an_error() {
        assert!(matches!(memory_read_bandwidth(0, 1 << 20, 1), Err(ProbeError::NothingToMeasure { .. })));
        assert!(matches!(memory_read_bandwidth(1, 1 << 20, 0), Err(ProbeError::NothingToMeasure { .. })));
        assert!(matches!(memory_read_bandwidth(4, 64, 1), Err(ProbeError::ArraysTooSmall { .. })));
        assert!(matches!(spawn_floor(0, None), Err(ProbeError::NoRuns)));
    }

    #[test]
    fn chunks_cover_every_point_once_on_aligned_starts() {
        for (points, threads) in [(16, 1), (32, 2), (1000, 2), (1001, 3), (4096, 7)] {
            let bounds = chunk_bounds(points, threads);
            assert_eq!(bounds.len(), threads + 1);
            assert_eq!((bounds[0], bounds[threads]), (0, points));
            for pair in bounds.windows(2) {
                assert!(pair[0] < pair[1], "{points} points on {threads} threads: {bounds:?}");
                assert_eq!(pair[0] % CHUNK_ALIGN_POINTS, 0);
            }
        }
    }

    #[test]
    fn every_loop_sums_the_same() {
        // Small integers and halves: every partial sum is exact, so the order does not matter.
        let x: Vec<f64> = (0..1003).map(|i| (i % 7) as f64).collect();
        let y: Vec<f64> = (0..1003).map(|i| (i % 5) as f64).collect();
        let want: f64 = x.iter().zip(&y).map(|(&xi, &yi)| xi * STREAM_SCALE + yi).sum();
        assert_eq!(portable_read_sum(&x, &y), want);
        assert_eq!(read_sum(StreamIsa::detect(), &x, &y), want);
    }

    #[test]
    fn spawn_floor_of_true_is_small_and_measured_like_a_real_run() {
        let floor = spawn_floor(5, Some(Duration::from_millis(crate::plan::DEFAULT_SAMPLE_INTERVAL_MS))).expect("true runs");
        assert_eq!(floor.runs, 5);
        for seconds in [floor.min_wall_seconds, floor.median_wall_seconds, floor.max_wall_seconds] {
            assert!(seconds.is_finite() && seconds > 0.0, "{seconds} s");
        }
        assert!(floor.min_wall_seconds <= floor.median_wall_seconds && floor.median_wall_seconds <= floor.max_wall_seconds);
        // Not a timing claim: `true` needs ~1 MiB, and the runner must not report the
        // orchestrator's own high-water mark inherited across fork (hyperfine issue #86).
        let peak = floor.median_peak_rss_bytes.expect("a peak RSS for every run");
        assert!(peak > 0 && peak <= 2 << 20, "peak RSS of true: {peak} bytes");
    }

    /// The figures for this machine, for a person to read:
    /// `cargo test -p orchestrator --release --lib probes::tests::print_this_machines_limits -- --ignored --nocapture`.
    #[test]
    #[ignore = "takes seconds and prints measurements; run by hand"]
    fn print_this_machines_limits() {
        let rss_before = vm_rss_bytes();
        let started = Instant::now();
        let bandwidth = measure_bandwidth().expect("the probe runs");
        let probe_seconds = started.elapsed().as_secs_f64();
        println!("bandwidth probe: {probe_seconds:.2} s, VmRSS {} MiB before, {} MiB after", rss_before >> 20, vm_rss_bytes() >> 20);
        for result in [&bandwidth.single_thread, &bandwidth.all_threads] {
            println!(
                "  {} thread(s), {}: best {:.2} GB/s, median {:.2}, worst {:.2} ({} passes of {} MiB) -> floor {:.3} ns/point",
                result.threads,
                result.instruction_set,
                result.best_bytes_per_second / 1e9,
                result.median_bytes_per_second / 1e9,
                result.worst_bytes_per_second / 1e9,
                result.passes,
                result.bytes_per_pass >> 20,
                result.floor_ns_per_point(),
            );
        }
        // The same loop on one thread over arrays that fit in L2: if this is not far above the
        // one-thread figure above, the loop, not memory, is the limit. (On several threads a pass
        // this short would mostly time the barrier's wake-ups.)
        let cached = memory_read_bandwidth(1, 512 << 10, 200).expect("the probe runs");
        println!("  cache-resident (2 × 512 KiB), 1 thread: best {:.2} GB/s", cached.best_bytes_per_second / 1e9);
        let sample_interval = Some(Duration::from_millis(crate::plan::DEFAULT_SAMPLE_INTERVAL_MS));
        let floor = spawn_floor(DEFAULT_SPAWN_FLOOR_RUNS, sample_interval).expect("true runs");
        println!(
            "spawn floor ({}, {} runs): median {:.3} ms, min {:.3}, max {:.3}, spawn part {:?} ms, peak RSS {:?} bytes (exact: {})",
            floor.program,
            floor.runs,
            floor.median_wall_seconds * 1e3,
            floor.min_wall_seconds * 1e3,
            floor.max_wall_seconds * 1e3,
            floor.median_spawn_seconds.map(|s| s * 1e3),
            floor.median_peak_rss_bytes,
            floor.peak_rss_exact,
        );
    }
}
