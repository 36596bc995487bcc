//! What a run measured: how it ended ([`Termination`]) and its figures ([`Measured`]), put
//! together from what the launcher, the watchdog and the output reader each saw.

use launcher::{Exited, Started};

use super::huge_pages::AnonMemory;
use super::output::Output;
use super::sampler::Sample;
use super::watchdog::{Intervention, WatchReport};

/// How a run ended, from the runner's point of view. When the runner intervened (timeout, memory
/// limit, cancellation) that is what is reported; [`Measured::exit_code`] and [`Measured::signal`]
/// still say how the process itself ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// Exited by itself with this code.
    Exited(i32),
    /// Killed by this signal, not sent by the runner.
    Signaled(i32),
    TimedOut,
    MemoryLimit,
    Cancelled,
    /// Could not be started: the program and the OS error (not found, not executable, bad cwd…).
    SpawnFailed(String),
    /// Started, but its end could not be measured (the launcher died or could not wait for it).
    /// Times and memory are then unknown.
    WaitFailed(String),
}

/// Everything measured about one run.
#[derive(Debug, Clone)]
pub struct Measured {
    pub termination: Termination,
    /// The child's pid, which is also its process group id; None when it was not started.
    pub pid: Option<i32>,
    /// The exit code, when the process exited (even if the runner had intervened).
    pub exit_code: Option<i32>,
    /// The signal that killed the process, when one did (even one the runner sent).
    pub signal: Option<i32>,
    /// Monotonic clock, from immediately before the child's execve to the child being reaped.
    pub wall_seconds: f64,
    /// From the start of `wall_seconds` until the launcher resumed after the child's exec had
    /// replaced its image (an upper bound of the exec's own cost: the launcher may wait for a CPU).
    pub spawn_seconds: Option<f64>,
    /// From the kernel (wait4 rusage): the child and the descendants it waited for.
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// The child's own high-water mark (ru_maxrss), or the largest sampled tree RSS; see the
    /// module documentation.
    pub peak_rss_bytes: Option<u64>,
    /// True when `peak_rss_bytes` is the kernel's ru_maxrss and above what the launcher
    /// carried into it; false when it is only sampled or could be the launcher's.
    pub peak_rss_exact: bool,
    /// From the kernel (wait4 rusage), like the CPU times; None when the run did not end normally.
    pub minor_faults: Option<u64>,
    pub major_faults: Option<u64>,
    pub voluntary_switches: Option<u64>,
    pub involuntary_switches: Option<u64>,
    /// Processes other than the child were seen in its tree: the peak then includes their sampled
    /// RSS.
    pub descendants_seen: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// One per sampler tick while the child ran (empty without a sample interval).
    pub samples: Vec<Sample>,
    /// CPU time the sampler thread itself used (CLOCK_THREAD_CPUTIME_ID): the cost of measuring.
    pub sampler_cpu_seconds: f64,
    /// The child's anonymous memory and how much of it lay on huge pages, when looked at
    /// ([`super::RunLimits::look_at_huge_pages`]) and the run lasted long enough to settle.
    pub anon_memory: Option<AnonMemory>,
}

impl Measured {
    /// A run that never started (or was never tried): no pid, no figures.
    pub(crate) fn not_started(termination: Termination, wall_seconds: f64) -> Self {
        Measured {
            termination,
            pid: None,
            exit_code: None,
            signal: None,
            wall_seconds,
            spawn_seconds: None,
            user_seconds: 0.0,
            system_seconds: 0.0,
            peak_rss_bytes: None,
            peak_rss_exact: false,
            minor_faults: None,
            major_faults: None,
            voluntary_switches: None,
            involuntary_switches: None,
            descendants_seen: false,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            samples: Vec::new(),
            sampler_cpu_seconds: 0.0,
            anon_memory: None,
        }
    }
}

/// The record of a run that was started, from what the launcher, the sampler and the output thread
/// each saw.
pub(crate) fn assemble(started: Started, exited: Result<Exited, String>, report: WatchReport, output: Output) -> Measured {
    let Output { stdout, stderr } = output;
    let pid = started.pid;
    let mut measured = Measured::not_started(Termination::WaitFailed(String::new()), 0.0);
    measured.pid = Some(pid);
    measured.spawn_seconds = Some(started.spawn_ns as f64 * 1e-9);
    match exited {
        Ok(exited) => {
            let status = exited.status;
            let (exit_code, signal) =
                if libc::WIFEXITED(status) { (Some(libc::WEXITSTATUS(status)), None) } else { (None, Some(libc::WTERMSIG(status))) };
            measured.termination = match (report.intervention, exit_code, signal) {
                (Some(Intervention::TimedOut), _, _) => Termination::TimedOut,
                (Some(Intervention::MemoryLimit), _, _) => Termination::MemoryLimit,
                (Some(Intervention::Cancelled), _, _) => Termination::Cancelled,
                (None, Some(code), _) => Termination::Exited(code),
                (None, _, Some(signal)) => Termination::Signaled(signal),
                (None, None, None) => Termination::WaitFailed("no exit status".into()),
            };
            measured.exit_code = exit_code;
            measured.signal = signal;
            measured.wall_seconds = exited.wall_ns as f64 * 1e-9;
            measured.user_seconds = exited.user_us as f64 * 1e-6;
            measured.system_seconds = exited.system_us as f64 * 1e-6;
            let own = exited.peak_is_programs_own(&started);
            let kernel_peak = exited.max_rss_kib.saturating_mul(1024);
            let sampled = report.max_rss_bytes.unwrap_or(0);
            (measured.peak_rss_bytes, measured.peak_rss_exact) = match (own, report.descendants_seen) {
                // The tree's sampled sum above the kernel's figure is the peak, but a sampled one
                // (shared pages counted once a process, moments between samples missed): not exact.
                (true, true) if sampled > kernel_peak => (Some(sampled), false),
                (true, _) => (Some(kernel_peak), true),
                // The program stayed below what the launcher carried: only the samples are its own.
                (false, _) => (report.max_rss_bytes.or(Some(kernel_peak)), false),
            };
            measured.minor_faults = Some(exited.minor_faults);
            measured.major_faults = Some(exited.major_faults);
            measured.voluntary_switches = Some(exited.voluntary_switches);
            measured.involuntary_switches = Some(exited.involuntary_switches);
        }
        Err(why) => {
            measured.termination = Termination::WaitFailed(why);
            measured.peak_rss_bytes = report.max_rss_bytes;
        }
    }
    measured.descendants_seen = report.descendants_seen;
    measured.stdout = stdout.bytes;
    measured.stderr = stderr.bytes;
    measured.stdout_truncated = stdout.truncated;
    measured.stderr_truncated = stderr.truncated;
    measured.samples = report.samples;
    measured.sampler_cpu_seconds = report.sampler_cpu_seconds;
    measured.anon_memory = report.anon_memory;
    measured
}
