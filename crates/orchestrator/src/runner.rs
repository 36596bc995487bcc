//! The runner: starts one implementation as a child process and measures it from outside — wall
//! time, CPU time and peak memory from the kernel's rusage, page faults and context switches, its
//! output, and samples of its process tree — while enforcing the timeout, the memory limit and
//! cancellation.
//!
//! The child is not created by this (large, multi-threaded) process but by the `launcher` binary
//! (crates/launcher), started afresh for every run: the launcher forks itself, the child takes the
//! clock immediately before its execve, and the launcher reaps it with wait4 and takes the clock
//! again. So the measured interval holds the program and its reaping only, and wait4's ru_maxrss
//! is the program's own peak: the kernel carries the old image's high-water mark across exec
//! (hyperfine issue #86), and the launcher's fork is a few hundred KiB, which the launcher measures
//! and reports (`carried_hwm_kib`): a peak above it is exact, and is flagged when it is not. No
//! ptrace is involved.
//!
//! [`run_measured`] blocks until the run is over; call it from a dedicated thread (for example
//! tokio's `spawn_blocking`). Caveats for the caller, all consequences of measuring from outside:
//!
//! - Nothing else in the process may wait for arbitrary children (`waitpid(-1, …)`): it could steal
//!   the launcher's exit status or an orphan's.
//! - The process becomes a child subreaper (PR_SET_CHILD_SUBREAPER) on the first call, so that
//!   descendants orphaned by a child are re-parented to it and can be killed and reaped here: at
//!   the end of a run, the child's process group and every descendant the sampler saw are killed.
//!   Only a descendant that left the process group (setsid) before the sampler ever saw it can
//!   escape; the output pipes it may hold are then abandoned after a short grace period.
//! - If this process dies, even by SIGKILL, the launcher gets SIGTERM (PR_SET_PDEATHSIG) and kills
//!   the child's process group, and the child gets SIGKILL if the launcher dies.
//! - A child that stops itself (SIGSTOP, SIGTSTP) is continued at once by the launcher (SIGCONT to
//!   its group): a stopped program measures nothing.
//!
//! When the child has descendants, the peak is the larger of ru_maxrss (which covers the
//! descendants it waited for) and the largest sampled RSS of the whole tree (a sum over processes,
//! which counts shared pages once per process and misses what happens between samples).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use launcher::{Exited, Report, Started};

use crate::sampler::{self, Intervention, Sample, WatchReport, WatchSettings};

/// What to run: argv\[0\] is looked up in PATH like a shell would, but no shell is involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    pub argv: Vec<String>,
    /// Added to (or overriding) the orchestrator's own environment, which the child inherits.
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
}

impl ChildCommand {
    pub fn new(argv: impl IntoIterator<Item = impl Into<String>>, cwd: impl Into<PathBuf>) -> Self {
        ChildCommand { argv: argv.into_iter().map(Into::into).collect(), env: BTreeMap::new(), cwd: cwd.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLimits {
    /// From spawn; then SIGTERM to the process group.
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL, after a timeout or a cancellation.
    pub kill_grace: Duration,
    /// Per stream: the first bytes are kept, the rest is read and discarded so the child never
    /// blocks on a full pipe.
    pub max_capture_bytes: usize,
    /// The process tree's RSS may not exceed this: checked at every sampler tick, SIGKILL when
    /// over (not RLIMIT_AS, which breaks numpy/OpenBLAS and their large virtual reservations).
    pub memory_limit_bytes: Option<u64>,
    /// Pin the child to these CPUs (sched_setaffinity before exec; inherited by its threads).
    pub cpus: Option<Vec<usize>>,
}

impl RunLimits {
    /// The given timeout, 1 s of grace, 1 MiB of capture per stream, no memory limit, no pinning.
    pub fn with_timeout(timeout: Duration) -> Self {
        RunLimits { timeout, kill_grace: Duration::from_secs(1), max_capture_bytes: 1 << 20, memory_limit_bytes: None, cpus: None }
    }
}

/// Set from any thread (a signal handler task, a UI) to stop a run early: the child's process
/// group gets SIGTERM within one sampler tick, then SIGKILL after the grace period.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

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
    /// True when `peak_rss_bytes` is the kernel's ru_maxrss and above what the launcher's fork
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
}

impl Measured {
    /// A run that never started (or was never tried): no pid, no figures.
    pub fn not_started(termination: Termination, wall_seconds: f64) -> Self {
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
        }
    }
}

/// How long after handing the command line to the launcher this process stays off its pipes: it
/// then reads the launcher's first report and starts watching, and the output thread starts
/// reading. Measured here (2-vCPU VM): /bin/true took 0.70 ms through the orchestrator when a
/// thread blocked on the report pipe was woken as the child started, 0.56 ms with this pause,
/// against 0.50 ms under hyperfine. The timeout and cancellation are enforced 2 ms late at most;
/// the output pipes are enlarged to [`PIPE_BYTES`] so a chatty child does not block meanwhile.
const QUIET_START: Duration = Duration::from_millis(2);
/// The output pipes' capacity (F_SETPIPE_SZ; the kernel's default limit for unprivileged users).
const PIPE_BYTES: libc::c_int = 1 << 20;

/// After the run, how long to wait for the output pipes to reach end-of-file (they stay open only
/// if a descendant escaped the process group and still holds them).
const OUTPUT_GRACE: Duration = Duration::from_millis(250);
/// After the run, how long to wait for the killed leftovers of the process group to disappear.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);
const READ_CHUNK_BYTES: usize = 64 << 10;

/// The environment variable naming the launcher binary, overriding the search next to this
/// executable.
pub const LAUNCHER_ENV: &str = "ORCHESTRATOR_LAUNCHER";

/// Where the launcher is: `$ORCHESTRATOR_LAUNCHER`, else `launcher-static` (what `make build`
/// installs) or `launcher` next to this executable or in its parent directory (where cargo puts
/// binaries for test executables in `deps/`). Looked up once.
pub fn launcher_path() -> Result<&'static Path, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND.get_or_init(find_launcher).as_ref().map(PathBuf::as_path).map_err(Clone::clone)
}

fn find_launcher() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(LAUNCHER_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(format!("{LAUNCHER_ENV}={} is not a file", path.display())) };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate this executable to find the launcher: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates: Vec<PathBuf> =
        [Some(dir), dir.parent()].into_iter().flatten().flat_map(|d| ["launcher-static", "launcher"].map(|name| d.join(name))).collect();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        format!("the launcher binary that starts every measured run is missing (looked for launcher-static and launcher in {}): build it with `make build`", dir.display())
    })
}

/// Runs `cmd` to completion under `limits` and measures it; see the module documentation.
///
/// `sample_interval`: record a [`Sample`] of the process tree at this interval (None: no samples;
/// the timeout, memory limit and cancellation are still enforced every few milliseconds). Never
/// panics: every failure is a [`Termination`].
pub fn run_measured(cmd: &ChildCommand, limits: &RunLimits, sample_interval: Option<Duration>, cancel: &CancelToken) -> Measured {
    if cancel.is_cancelled() {
        return Measured::not_started(Termination::Cancelled, 0.0);
    }
    let Some(program) = cmd.argv.first() else {
        return Measured::not_started(Termination::SpawnFailed("empty command line".into()), 0.0);
    };
    if let Err(e) = check_directory(&cmd.cwd) {
        return Measured::not_started(Termination::SpawnFailed(format!("{program}: working directory {}: {e}", cmd.cwd.display())), 0.0);
    }
    let cpu_set = match limits.cpus.as_deref().map(cpu_set_for).transpose() {
        Ok(set) => set,
        Err(message) => return Measured::not_started(Termination::SpawnFailed(format!("{program}: {message}")), 0.0),
    };
    let launcher_path = match launcher_path() {
        Ok(path) => path,
        Err(message) => return Measured::not_started(Termination::SpawnFailed(message), 0.0),
    };
    become_subreaper();
    let (report_read, report_write) = match pipe() {
        Ok(ends) => ends,
        Err(e) => {
            return Measured::not_started(
                Termination::SpawnFailed(format!("{program}: cannot create the launcher's report pipe: {e}")),
                0.0,
            )
        }
    };

    let report_fd = report_write.as_raw_fd();
    let mut command = Command::new(launcher_path);
    command.arg(std::process::id().to_string()).arg(report_fd.to_string()).envs(&cmd.env).current_dir(&cmd.cwd);
    // The command line goes to the launcher's standard input (it gives the child /dev/null). The
    // launcher has a process group of its own, so a Ctrl-C at the terminal reaches only the
    // orchestrator, which then stops the run in order.
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let command_line: Vec<u8> = cmd.argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    // SAFETY: the closure runs between fork and exec, so it may only make async-signal-safe calls:
    // sched_setaffinity and fcntl are plain syscalls, and the cpu set was built before the fork.
    unsafe {
        command.pre_exec(move || {
            if let Some(set) = &cpu_set {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // The report pipe is the one descriptor the launcher inherits beyond its stdio.
            if libc::fcntl(report_fd, libc::F_SETFD, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }

    let settings = WatchSettings {
        sample_interval,
        timeout: limits.timeout,
        kill_grace: limits.kill_grace,
        memory_limit_bytes: limits.memory_limit_bytes,
    };
    let run_over = AtomicBool::new(false);
    let output_over = AtomicBool::new(false);
    let (run_over, output_over, settings) = (&run_over, &output_over, &settings);
    let max_capture_bytes = limits.max_capture_bytes;

    thread::scope(|scope| {
        // The helper threads exist before the child does, so they are not started while it runs.
        let (started_tx, started_rx) = mpsc::channel::<(libc::pid_t, Instant)>();
        let (pipes_tx, pipes_rx) = mpsc::channel::<(OwnedFd, OwnedFd)>();
        let sampler = thread::Builder::new().name("run-sampler".into()).spawn_scoped(scope, move || match started_rx.recv() {
            Ok((pid, start)) => sampler::watch(pid, start, settings, cancel, run_over),
            Err(_) => WatchReport::default(),
        });
        let sampler = match sampler {
            Ok(handle) => handle,
            Err(e) => {
                return Measured::not_started(Termination::SpawnFailed(format!("{program}: cannot start the sampler thread: {e}")), 0.0)
            }
        };
        let drainer = thread::Builder::new().name("run-output".into()).spawn_scoped(scope, move || match pipes_rx.recv() {
            Ok((stdout, stderr)) => {
                sampler::sleep_until(Instant::now() + QUIET_START, output_over);
                drain_output([stdout, stderr], max_capture_bytes, output_over)
            }
            Err(_) => Default::default(),
        });
        let drainer = match drainer {
            Ok(handle) => handle,
            Err(e) => {
                drop(started_tx);
                let _ = sampler.join();
                return Measured::not_started(Termination::SpawnFailed(format!("{program}: cannot start the output thread: {e}")), 0.0);
            }
        };

        let spawned = command.spawn();
        drop(report_write);
        let mut launcher = match spawned {
            Ok(child) => child,
            Err(e) => {
                drop((started_tx, pipes_tx));
                let _ = (sampler.join(), drainer.join());
                return Measured::not_started(Termination::SpawnFailed(format!("{}: {e}", launcher_path.display())), 0.0);
            }
        };
        if let (Some(stdout), Some(stderr)) = (launcher.stdout.take(), launcher.stderr.take()) {
            for fd in [stdout.as_raw_fd(), stderr.as_raw_fd()] {
                // SAFETY: fcntl on a pipe this process owns; failure only leaves the default size.
                unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_BYTES) };
            }
            let _ = pipes_tx.send((stdout.into(), stderr.into()));
        }
        drop(pipes_tx);
        // A launcher that died at once closes the pipe: its end is read below.
        if let Some(mut stdin) = launcher.stdin.take() {
            let _ = io::Write::write_all(&mut stdin, &command_line);
        }
        let mut reports = BufReader::new(File::from(report_read));
        // Nothing of this process waits on the launcher's pipes while a short program runs: a
        // thread blocked there would be woken by the launcher's report (or the child's exit) and
        // compete with them for a CPU. See [`QUIET_START`].
        thread::sleep(QUIET_START);

        let started = match read_report(&mut reports) {
            Some(Report::Started(started)) => started,
            first => {
                drop(started_tx);
                let launcher_end = reap(&mut launcher);
                output_over.store(true, Ordering::Release);
                let _ = (sampler.join(), drainer.join());
                return Measured::not_started(Termination::SpawnFailed(not_started_reason(program, &cmd.cwd, first, &launcher_end)), 0.0);
            }
        };
        let _ = started_tx.send((started.pid, instant_of(started.t0_ns)));
        let last = read_report(&mut reports);
        let launcher_end = reap(&mut launcher);
        run_over.store(true, Ordering::Release);
        sampler.thread().unpark();
        let report = sampler.join().unwrap_or_default();
        kill_and_reap_leftovers(started.pid, &report.descendant_pidfds);
        output_over.store(true, Ordering::Release);
        let output = drainer.join().unwrap_or_default();
        let exited = match last {
            Some(Report::Exited(exited)) => Ok(exited),
            other => Err(lost_reason(started.pid, other, &launcher_end)),
        };
        assemble(started, exited, report, output)
    })
}

/// The next report line; None at end of file or for a line that is not a report.
fn read_report(reports: &mut impl BufRead) -> Option<Report> {
    let mut line = String::new();
    loop {
        line.clear();
        match reports.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => return Report::parse(line.trim_end_matches('\n')).ok(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// Waits for the launcher itself; says how it ended when that was not a normal exit.
fn reap(launcher: &mut Child) -> Result<(), String> {
    match launcher.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("the launcher (pid {}) {}", launcher.id(), describe_exit(status))),
        Err(e) => Err(format!("cannot wait for the launcher (pid {}): {e}", launcher.id())),
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => "ended".to_string(),
    }
}

/// Why the program never ran, from the launcher's first report.
fn not_started_reason(program: &str, cwd: &Path, first: Option<Report>, launcher_end: &Result<(), String>) -> String {
    match first {
        Some(Report::SpawnFailed { errno }) => {
            let error = io::Error::from_raw_os_error(errno);
            // ENOENT for a file that exists: the kernel could not find its #! interpreter.
            let exists = program.contains('/') && cwd.join(program).is_file();
            let why = if errno == libc::ENOENT && exists { " (the file exists: is the interpreter on its #! line missing?)" } else { "" };
            format!("{program}: {error}{why}")
        }
        Some(Report::Error { message }) => format!("{program}: the launcher failed: {message}"),
        _ => match launcher_end {
            Err(how) => format!("{program}: {how} before starting it"),
            Ok(()) => format!("{program}: the launcher reported nothing"),
        },
    }
}

/// Why a started run has no figures, from the launcher's last report.
fn lost_reason(pid: libc::pid_t, last: Option<Report>, launcher_end: &Result<(), String>) -> String {
    let how = match (last, launcher_end) {
        (Some(Report::Error { message }), _) => format!("the launcher failed: {message}"),
        (_, Err(how)) => how.clone(),
        (_, Ok(())) => "the launcher reported no end".to_string(),
    };
    format!("{how} while pid {pid} ran; it was killed, and its times and memory are lost")
}

/// The Instant of a CLOCK_MONOTONIC reading (std's Instant is that clock on Linux).
fn instant_of(monotonic_ns: u64) -> Instant {
    let now = Instant::now();
    let ago = launcher::monotonic_ns().saturating_sub(monotonic_ns);
    now.checked_sub(Duration::from_nanos(ago)).unwrap_or(now)
}

/// A pipe whose ends are closed on exec (the write end is handed to the launcher explicitly).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    unsafe { Ok((std::os::fd::FromRawFd::from_raw_fd(fds[0]), std::os::fd::FromRawFd::from_raw_fd(fds[1]))) }
}

/// The record of a run that was started, from what the launcher, the sampler and the output thread
/// each saw.
fn assemble(started: Started, exited: Result<Exited, String>, report: WatchReport, [stdout, stderr]: [Captured; 2]) -> Measured {
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
                (true, true) => (Some(kernel_peak.max(sampled)), true),
                (true, false) => (Some(kernel_peak), true),
                // The program stayed below what the fork carried: only the samples are its own.
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
    measured
}

fn check_directory(path: &Path) -> io::Result<()> {
    if std::fs::metadata(path)?.is_dir() {
        Ok(())
    } else {
        Err(io::Error::other("not a directory"))
    }
}

/// The affinity mask for `cpus`, checked against the CPUs this process may use, so a bad list is
/// reported by name rather than as EINVAL from inside the fork.
fn cpu_set_for(cpus: &[usize]) -> Result<libc::cpu_set_t, String> {
    if cpus.is_empty() {
        return Err("the list of CPUs to pin to is empty".into());
    }
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes at most its size; the CPU_*
    // macros only touch the set, with indices checked below CPU_SETSIZE.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return Err(format!("cannot read this process's CPU affinity: {}", io::Error::last_os_error()));
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            if cpu >= libc::CPU_SETSIZE as usize || !libc::CPU_ISSET(cpu, &allowed) {
                return Err(format!("CPU {cpu} is not available to this process"));
            }
            libc::CPU_SET(cpu, &mut set);
        }
        Ok(set)
    }
}

fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) only sets a flag on this process. Failure is
        // tolerated: orphans then go to init, and the clean-up only waits for them to vanish.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong)
        };
    });
}

/// Kills whatever is left of the run — the child's process group, and every descendant the
/// sampler saw alive, even one that left the group — and reaps those re-parented to this process
/// (a subreaper), so a run leaves neither orphans nor zombies behind.
fn kill_and_reap_leftovers(group: libc::pid_t, descendants: &[OwnedFd]) {
    for pidfd in descendants {
        pidfd_signal(pidfd, libc::SIGKILL);
    }
    let mut group_alive = sampler::signal_group(group, libc::SIGKILL);
    let mut pending: Vec<&OwnedFd> = descendants.iter().collect();
    let deadline = Instant::now() + LEFTOVER_GRACE;
    while group_alive || !pending.is_empty() {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid only writes the status. Only members of this group are waited for.
        while unsafe { libc::waitpid(-group, &mut status, libc::WNOHANG | libc::__WALL) } > 0 {}
        pending.retain(|&pidfd| !reap_if_ours(pidfd) && pidfd_signal(pidfd, 0));
        group_alive = sampler::signal_group(group, 0);
        if Instant::now() >= deadline {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `signal` to the process behind `pidfd`; false when it no longer exists.
fn pidfd_signal(pidfd: &OwnedFd, signal: libc::c_int) -> bool {
    // SAFETY: pidfd_send_signal with a null siginfo reads nothing of ours.
    unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), signal, std::ptr::null::<libc::siginfo_t>(), 0) == 0 }
}

/// Reaps the process behind `pidfd` if it is a dead child of this process.
fn reap_if_ours(pidfd: &OwnedFd) -> bool {
    // SAFETY: siginfo_t is plain data; waitid writes one into the buffer we own.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let options = libc::WEXITED | libc::WNOHANG | libc::__WALL;
    // SAFETY: as above; the pidfd is valid for the duration of the call.
    let reaped = unsafe { libc::waitid(libc::P_PIDFD, pidfd.as_raw_fd() as libc::id_t, &mut info, options) } == 0;
    // SAFETY: after a successful waitid the siginfo holds SIGCHLD fields (si_pid 0: not yet dead).
    reaped && unsafe { info.si_pid() } != 0
}

/// What was kept of one output stream.
#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

impl Captured {
    fn keep(&mut self, chunk: &[u8], max_bytes: usize) {
        let room = max_bytes.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.truncated |= chunk.len() > room;
    }
}

/// Reads both pipes until end-of-file, keeping the first `max_bytes` of each. Once `run_over` is
/// set, gives the pipes [`OUTPUT_GRACE`] more to close (a descendant that escaped the process group
/// could hold them open forever).
fn drain_output(pipes: [OwnedFd; 2], max_bytes: usize, run_over: &AtomicBool) -> [Captured; 2] {
    let mut files = pipes.map(|fd| Some(File::from(fd)));
    let mut captured: [Captured; 2] = Default::default();
    let mut chunk = vec![0u8; READ_CHUNK_BYTES];
    let mut give_up_at: Option<Instant> = None;
    while files.iter().any(Option::is_some) {
        let now = Instant::now();
        let mut timeout = Duration::from_millis(50);
        if run_over.load(Ordering::Acquire) {
            let at = *give_up_at.get_or_insert(now + OUTPUT_GRACE);
            if now >= at {
                break;
            }
            timeout = timeout.min(at - now);
        }
        let mut poll_fds: Vec<libc::pollfd> =
            files.iter().flatten().map(|f| libc::pollfd { fd: f.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
        let timeout_ms = libc::c_int::try_from(timeout.as_millis().max(1)).unwrap_or(50);
        // SAFETY: poll reads and writes only the pollfd array we own, of the length given.
        let ready = unsafe { libc::poll(poll_fds.as_mut_ptr(), poll_fds.len() as libc::nfds_t, timeout_ms) };
        if ready < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        for (slot, kept) in files.iter_mut().zip(captured.iter_mut()) {
            let Some(file) = slot else { continue };
            let readable = poll_fds.iter().any(|p| p.fd == file.as_raw_fd() && p.revents != 0);
            if !readable {
                continue;
            }
            match file.read(&mut chunk) {
                Ok(0) => *slot = None,
                Ok(n) => kept.keep(&chunk[..n], max_bytes),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => *slot = None,
            }
        }
    }
    captured
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_the_first_bytes_and_flags_the_rest() {
        let mut kept = Captured::default();
        kept.keep(b"hello ", 8);
        assert!(!kept.truncated);
        kept.keep(b"world", 8);
        assert_eq!(kept.bytes, b"hello wo");
        assert!(kept.truncated);
    }
}
