//! The machine's own limits, measured at the start of every run so the report can set each result
//! beside them: read bandwidth against working-set size (from L1 to memory) and the compute ceiling
//! of the epoch's arithmetic — together the least an epoch can cost a point at any n ([`limits`]) —
//! what the sampler costs a child that uses every CPU, and the spawn floor (the whole-process time
//! of a program that does nothing, measured exactly as the implementations are).

pub(crate) mod bandwidth;
pub(crate) mod compute;
pub(crate) mod cpuid;
mod harness;
pub(crate) mod huge_pages;
pub(crate) mod isa;
pub(crate) mod kernel_loop;
pub(crate) mod limits;
pub mod sampler_cost;
pub(crate) mod spells;

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub(crate) use bandwidth::measure_at_point;
pub(crate) use bandwidth::CurveSettings;
pub use bandwidth::{BandwidthAtSize, BandwidthCurve, PointBandwidth};
pub use compute::ComputeCeiling;
pub use cpuid::CpuidCost;
pub use harness::Spread;
pub use isa::Isa;
pub(crate) use limits::{cache_edge, LimitBound, MachineLimits};
pub use sampler_cost::SamplerCost;

use crate::measure::{self, CancelToken, ChildCommand, RunLimits, Sampling, Termination};
use crate::stats;

/// What one point costs an epoch once the data lives in memory: x_i and y_i, one f64 each, read
/// once. The bandwidth probe streams the same two arrays the same way, so bytes a second divided
/// by this is the most points a second any kernel can reach.
pub(crate) const BYTES_PER_POINT: usize = 2 * std::mem::size_of::<f64>();

/// The least time a point an epoch can take, in ns, reading its [`BYTES_PER_POINT`] at this rate.
pub(crate) fn ns_per_point(bytes_per_second: f64) -> f64 {
    BYTES_PER_POINT as f64 / bytes_per_second * 1e9
}

/// 256 MiB an array, 512 MiB both: the least largest working set of the bandwidth curve (16× the
/// 32 MiB L3 of the EPYC this was written on); [`default_array_mib`] grows it on a machine with a
/// larger last-level cache.
pub(crate) const DEFAULT_BYTES_PER_ARRAY: usize = 256 << 20;

/// The size of each of the bandwidth curve's two arrays at its largest working set when a run
/// names none (`--probe-array-mib`), in MiB: twice the last-level cache this machine reports, a
/// power of two, so that the largest working set is at least four times the cache; never less than
/// [`DEFAULT_BYTES_PER_ARRAY`], never more than an eighth of the memory (unless that is less than
/// the default). Found on an Emerald Rapids VM whose L3 is 300 MiB: with the fixed 512 MiB the
/// curve (one thread) still fell from 0.871 to 0.911 ns a point between 362 and 512 MiB, and
/// probes up to 2 GiB read 512 MiB 5–6% faster than 2 GiB (1.118 against 1.181 ns and 1.219
/// against 1.290, a busy hour; 2026-12-05). The curve's two more octaves cost ~2.6 s of probing.
pub(crate) fn default_array_mib(last_level_cache_bytes: Option<u64>, memory_bytes: u64) -> u64 {
    let least = DEFAULT_BYTES_PER_ARRAY as u64;
    let wanted =
        last_level_cache_bytes.map_or(least, |llc| llc.saturating_mul(2).checked_next_power_of_two().unwrap_or(u64::MAX)).max(least);
    wanted.min((memory_bytes / 8).max(least)) >> 20
}

/// Whole-process runs the spawn floor is the median of, after [`SPAWN_FLOOR_WARMUP_RUNS`]: ~0.1 s
/// each for /bin/true and the static no-op. With 50 the median of two probes a minute apart
/// differed by 12% on a quiet 2-vCPU VM (0.513 and 0.577 ms), more than the instrument's own
/// excess that the floor is there to show.
pub(crate) const DEFAULT_SPAWN_FLOOR_RUNS: usize = 200;

/// Untimed runs first, so the program's pages are in the page cache and the first fork of a large
/// orchestrator does not count.
const SPAWN_FLOOR_WARMUP_RUNS: usize = 3;

/// `true` takes a millisecond; anything near this means something is badly wrong.
const SPAWN_FLOOR_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum ProbeError {
    #[error("the probe needs at least one thread and one sample (got {threads} threads, {passes} samples)")]
    NothingToMeasure { threads: usize, passes: usize },
    #[error("the bandwidth probe needs a working set of at least {min_bytes} bytes (got {bytes})")]
    WorkingSetTooSmall { bytes: usize, min_bytes: usize },
    #[error("cannot allocate {bytes} bytes for the bandwidth probe")]
    Allocation { bytes: usize },
    #[error("{points} points are more than one buffer can hold on this machine (x and y take 16 bytes a point)")]
    TooManyPoints { points: usize },
    #[error("cannot start a probe thread: {0}")]
    ThreadStart(#[source] std::io::Error),
    #[error("a probe thread panicked")]
    ThreadPanicked,
    #[error("the probe needs at least one run")]
    NoRuns,
    #[error("spawn floor: {program} did not exit with status 0 (run {run}): {termination:?}")]
    SpawnFloorRun { program: String, run: usize, termination: Termination },
    #[error("sampler cost: {program} did not exit with status 0: {termination:?}")]
    SamplerCostRun { program: String, termination: Termination },
    #[error("sampler cost: {program} printed {output:?}, not its seconds of work")]
    SamplerCostOutput { program: String, output: String },
    #[error("interrupted")]
    Interrupted,
}

/// Stops a probe between two of its steps once the run is interrupted (SIGINT, SIGTERM, SIGHUP).
pub(crate) fn stop_if_cancelled(cancel: &CancelToken) -> Result<(), ProbeError> {
    if cancel.is_cancelled() {
        return Err(ProbeError::Interrupted);
    }
    Ok(())
}

/// The bandwidth curve up to two arrays of `bytes_per_array` each, with the default sizes and
/// samples: about 1.5 s on a quiet machine. The largest working set must be well beyond the
/// largest cache; a machine with a huge cache (or little memory) may need another than the default.
pub(crate) fn measure_bandwidth_curve(bytes_per_array: usize, cancel: &CancelToken) -> Result<BandwidthCurve, ProbeError> {
    bandwidth::measure_curve(&CurveSettings::up_to(2 * bytes_per_array), cancel)
}

/// The compute ceiling of the epoch's arithmetic, with the default samples: a few tens of ms.
pub(crate) fn measure_compute_ceiling(cancel: &CancelToken) -> Result<ComputeCeiling, ProbeError> {
    stop_if_cancelled(cancel)?;
    compute::measure_ceiling(compute::DEFAULT_SAMPLES)
}

/// What sampling as `sampling` says costs a child using every CPU, against sparse sampling:
/// [`sampler_cost::DEFAULT_PAIRS`] pairs of ~0.05 s runs of `fixture_child spin` (its first
/// interval: the dearest).
pub(crate) fn measure_sampler_cost(fixture_child: &Path, sampling: Sampling, cancel: &CancelToken) -> Result<SamplerCost, ProbeError> {
    sampler_cost::measure_sampler_cost(fixture_child, sampling, sampler_cost::DEFAULT_PAIRS, cancel)
}

/// The whole-process wall time of a program that does nothing: the least any implementation's
/// wall time can be, measured through [`measure::run_measured`] exactly as implementations are.
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
/// the wall times. Any run that does not exit with status 0 is an error; `cancel` stops it.
pub(crate) fn spawn_floor(runs: usize, sampling: Option<Sampling>, cancel: &CancelToken) -> Result<SpawnFloor, ProbeError> {
    if runs == 0 {
        return Err(ProbeError::NoRuns);
    }
    let program = if Path::new("/bin/true").exists() { "/bin/true" } else { "true" };
    let command = ChildCommand::new([program], "/");
    let limits = RunLimits::with_timeout(SPAWN_FLOOR_TIMEOUT);
    let measured = run_after_warmup(&command, runs, sampling, &limits, cancel).map_err(|FailedRun { run, termination }| {
        if termination == Termination::Cancelled {
            ProbeError::Interrupted
        } else {
            ProbeError::SpawnFloorRun { program: program.to_owned(), run, termination }
        }
    })?;

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
        static_noop_median_wall_seconds: static_noop_median(runs, sampling, &limits, cancel),
    })
    .and_then(|floor| stop_if_cancelled(cancel).map(|()| floor))
}

/// The median wall time of `launcher --exit` run `runs` times (after the same warm-up), when the
/// launcher is found and every run exits 0.
fn static_noop_median(runs: usize, sampling: Option<Sampling>, limits: &RunLimits, cancel: &CancelToken) -> Option<f64> {
    let launcher = measure::launcher_path().ok()?;
    let command = ChildCommand::new([launcher.display().to_string(), "--exit".to_string()], "/");
    let measured = run_after_warmup(&command, runs, sampling, limits, cancel).ok()?;
    let mut walls: Vec<f64> = measured.iter().map(|m| m.wall_seconds).collect();
    walls.sort_by(f64::total_cmp);
    stats::median(&walls)
}

/// The first run of a probe's program that did not exit 0: its index (warm-up runs counted) and
/// how it ended.
struct FailedRun {
    run: usize,
    termination: Termination,
}

/// Runs `command` [`SPAWN_FLOOR_WARMUP_RUNS`] times untimed, then `runs` times, through the
/// runner; the counted runs, or the first run that did not exit 0.
fn run_after_warmup(
    command: &ChildCommand,
    runs: usize,
    sampling: Option<Sampling>,
    limits: &RunLimits,
    cancel: &CancelToken,
) -> Result<Vec<measure::Measured>, FailedRun> {
    let mut measured = Vec::with_capacity(runs);
    for run in 0..SPAWN_FLOOR_WARMUP_RUNS + runs {
        let result = measure::run_measured(command, limits, sampling, cancel);
        if result.termination != Termination::Exited(0) {
            return Err(FailedRun { run, termination: result.termination });
        }
        if run >= SPAWN_FLOOR_WARMUP_RUNS {
            measured.push(result);
        }
    }
    Ok(measured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// This process's resident memory now, from /proc/self/status.
    fn vm_rss_bytes() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable on Linux");
        let line = status.lines().find_map(|line| line.strip_prefix("VmRSS:")).expect("VmRSS is in /proc/self/status");
        let kibibytes: u64 = line.trim().trim_end_matches("kB").trim().parse().expect("VmRSS is a number of kB");
        kibibytes * 1024
    }

    #[test]
    fn the_probe_gives_its_memory_back() {
        // 64 MiB an array: above glibc's largest mmap threshold (32 MiB), so the arrays are mapped
        // on their own and unmapped on drop, as the default 256 MiB ones are. One size only.
        let bytes = 128 << 20;
        let settings =
            CurveSettings { min_working_set_bytes: bytes, max_working_set_bytes: bytes, samples: 1, ..CurveSettings::up_to(bytes) };
        // Other tests run in this process at the same time and may hold memory for a moment:
        // a leak shows in every attempt, another test's allocation in one at most.
        let growth: Vec<u64> = (0..3)
            .map(|_| {
                let before = vm_rss_bytes();
                bandwidth::measure_curve(&settings, &CancelToken::new()).expect("the probe runs");
                vm_rss_bytes().saturating_sub(before)
            })
            .collect();
        assert!(growth.iter().any(|g| *g < bytes as u64 / 4), "VmRSS grew by {growth:?} bytes");
    }

    #[test]
    fn nothing_to_measure_is_an_error() {
        let no_samples = CurveSettings { samples: 0, ..CurveSettings::up_to(1 << 20) };
        let go = CancelToken::new();
        assert!(matches!(bandwidth::measure_curve(&no_samples, &go), Err(ProbeError::NothingToMeasure { .. })));
        assert!(matches!(bandwidth::measure_curve(&CurveSettings::up_to(64), &go), Err(ProbeError::WorkingSetTooSmall { .. })));
        assert!(matches!(spawn_floor(0, None, &go), Err(ProbeError::NoRuns)));
    }

    #[test]
    fn the_largest_working_set_is_four_times_the_last_level_cache() {
        const MIB: u64 = 1 << 20;
        const GIB: u64 = 1 << 30;
        assert_eq!(default_array_mib(Some(32 * MIB), 24 * GIB), 256, "a 32 MiB L3: the default");
        assert_eq!(default_array_mib(None, 24 * GIB), 256, "no cache known: the default");
        assert_eq!(default_array_mib(Some(300 * MIB), 24 * GIB), 1024, "300 MiB: 600 rounded up");
        assert_eq!(default_array_mib(Some(256 * MIB), 24 * GIB), 512, "a power of two already");
        assert_eq!(default_array_mib(Some(2 * GIB), 8 * GIB), 1024, "at most an eighth of the memory");
        assert_eq!(default_array_mib(Some(300 * MIB), GIB), 256, "a small machine keeps the default");
        assert_eq!(default_array_mib(Some(u64::MAX), u64::MAX), (u64::MAX / 8) >> 20, "no overflow");
    }

    #[test]
    fn spawn_floor_of_true_is_small_and_measured_like_a_real_run() {
        let floor = spawn_floor(5, Some(Sampling::default()), &CancelToken::new()).expect("true runs");
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
    /// `cargo test -p orchestrator --release --lib environment::probes::tests::print_this_machines_limits -- --ignored --nocapture`.
    #[test]
    #[ignore = "takes seconds and prints measurements; run by hand"]
    fn print_this_machines_limits() {
        let rss_before = vm_rss_bytes();
        let started = Instant::now();
        let go = CancelToken::new();
        let curve = measure_bandwidth_curve(DEFAULT_BYTES_PER_ARRAY, &go).expect("the bandwidth probe runs");
        let curve_seconds = started.elapsed().as_secs_f64();
        println!(
            "bandwidth curve ({}): {curve_seconds:.2} s, VmRSS {} MiB before, {} MiB after",
            curve.instruction_set.name(),
            rss_before >> 20,
            vm_rss_bytes() >> 20
        );
        println!("  working set | 1 thread best / median / worst GB/s | {} threads best / median / worst GB/s", curve.threads);
        for one in &curve.single_thread {
            let all = curve.all_threads.iter().find(|a| a.working_set_bytes == one.working_set_bytes);
            let gb = |s: &Spread| format!("{:.1} / {:.1} / {:.1}", s.best / 1e9, s.median / 1e9, s.worst / 1e9);
            println!(
                "  {:>10} KiB | {} | {}",
                one.working_set_bytes >> 10,
                gb(&one.bytes_per_second),
                all.map_or("—".into(), |a| gb(&a.bytes_per_second))
            );
        }
        let started = Instant::now();
        let ceiling = measure_compute_ceiling(&go).expect("the compute probe runs");
        println!(
            "compute ceiling ({}, {} flops a point): {:.1} GFLOP/s on 1 thread ({:.3} ns/point), {:.1} on {} ({:.3} ns/point); {:.2} s",
            ceiling.instruction_set.name(),
            ceiling.flops_per_point,
            ceiling.single_thread_flops_per_second.best / 1e9,
            ceiling.ns_per_point(false),
            ceiling.all_threads_flops_per_second.best / 1e9,
            ceiling.threads,
            ceiling.ns_per_point(true),
            started.elapsed().as_secs_f64()
        );
        let floor = spawn_floor(DEFAULT_SPAWN_FLOOR_RUNS, Some(Sampling::default()), &go).expect("true runs");
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
        // The fixture child is built beside the test binary's directory (target/release/deps/..).
        let fixture_child = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.join("fixture-child")));
        match fixture_child.filter(|path| path.is_file()) {
            Some(child) => {
                let started = Instant::now();
                let cost = measure_sampler_cost(&child, Sampling::default(), &go).expect("the busy child runs");
                let ratios: Vec<String> = cost.pairs.iter().map(|p| format!("{:.3}", p.ratio())).collect();
                println!(
                    "sampler cost on {} busy threads: {:+.1}% (median of {} pairs: {}), {:.2} s",
                    cost.threads,
                    cost.slowdown_fraction() * 100.0,
                    cost.pairs.len(),
                    ratios.join(", "),
                    started.elapsed().as_secs_f64()
                );
            }
            None => println!("sampler cost: build fixture-child first (cargo build --release --bins)"),
        }
    }
}
