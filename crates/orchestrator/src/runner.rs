//! The runner: starts one implementation as a child process and measures it from outside — wall
//! time, CPU time from the kernel's rusage, the child's own peak memory, its output, and samples of
//! its process tree — while enforcing the timeout, the memory limit and cancellation.
//!
//! [`run_measured`] blocks until the child is reaped; call it from a dedicated thread (for example
//! tokio's `spawn_blocking`). Caveats for the caller, all consequences of measuring from outside:
//!
//! - The child is traced (ptrace) by the thread that calls [`run_measured`], so that thread stays
//!   inside the call until the child is gone, and nothing else in the process may wait for
//!   arbitrary children (`waitpid(-1, …)`): it could steal the child's exit status.
//! - The process becomes a child subreaper (PR_SET_CHILD_SUBREAPER) on the first call, so that
//!   descendants orphaned by a child are re-parented to it and can be killed and reaped here: at
//!   the end of a run, the child's process group and every descendant the sampler saw are killed.
//!   Only a descendant that left the process group (setsid) before the sampler ever saw it can
//!   escape; the output pipes it may hold are then abandoned after a short grace period.
//! - Job-control stops (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) are not honoured while a child is
//!   measured: a traced child in a group-stop could not be woken by SIGCONT, and a stopped child
//!   would measure nothing useful anyway. Every other signal reaches the child unchanged.
//!
//! Peak memory: `ru_maxrss` from wait4 cannot be used, because the kernel carries the high-water
//! mark of the forking process across exec (hyperfine issue #86): a 200 MB parent starting
//! /bin/true reads ≈ 205 MB. So the child is made to stop at its exit (PTRACE_EVENT_EXIT), where
//! its own VmHWM is read from /proc/PID/status. When ptrace is not permitted, or the exit stop is
//! not reported (some kernels skip it when a fatal signal is pending, e.g. when another thread
//! began the exit), the peak falls back to the largest sampled tree RSS and `peak_rss_exact` is
//! false. When the child has descendants, the peak is the
//! larger of its VmHWM and the largest sampled RSS of the whole tree (a sum over processes, which
//! counts shared pages once per process and misses what happens between samples). The same
//! applies when the child execs another program (a wrapper script, `env`, a pyenv shim): VmHWM
//! belongs to the last image, so the samples of the earlier ones are taken into account.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Once};
use std::thread;
use std::time::{Duration, Instant};

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
    /// Started, but its exit status could not be collected (wait4 failed: something else in the
    /// process waited for it). Times and memory are then unreliable.
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
    /// Monotonic clock, from just before spawn to the child being reaped.
    pub wall_seconds: f64,
    /// The part of `wall_seconds` before the child's own program started: fork (whose cost grows
    /// with this process's memory), exec, and the tracer letting the new image run. None when the
    /// child was not traced. `wall_seconds − spawn_seconds` is the program's own run time.
    pub spawn_seconds: Option<f64>,
    /// From the kernel (wait4 rusage): the child and the descendants it waited for.
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// The child's own high-water mark (VmHWM at exit), or the largest sampled tree RSS; see the
    /// module documentation.
    pub peak_rss_bytes: Option<u64>,
    /// True when `peak_rss_bytes` includes the child's VmHWM read at its exit; false when it is
    /// only the largest sampled RSS (ptrace not permitted, or no exit stop, e.g. after SIGKILL).
    pub peak_rss_exact: bool,
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

/// After the run, how long to wait for the output pipes to reach end-of-file (they stay open only
/// if a descendant escaped the process group and still holds them).
const OUTPUT_GRACE: Duration = Duration::from_millis(250);
/// After the run, how long to wait for the killed leftovers of the process group to disappear.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);
const READ_CHUNK_BYTES: usize = 64 << 10;

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
    become_subreaper();

    let mut command = Command::new(program);
    command.args(&cmd.argv[1..]).envs(&cmd.env).current_dir(&cmd.cwd);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    // SAFETY: the closure runs between fork and exec, so it may only make async-signal-safe calls:
    // sched_setaffinity and ptrace are plain syscalls, and the cpu set was built before the fork.
    unsafe {
        command.pre_exec(move || {
            if let Some(set) = &cpu_set {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // Not fatal when refused (EPERM: ptrace forbidden here, or this process is itself
            // traced): the child then runs untraced and its peak memory comes from sampling.
            libc::ptrace(libc::PTRACE_TRACEME, 0, std::ptr::null_mut::<libc::c_void>(), std::ptr::null_mut::<libc::c_void>());
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
        // The helper threads exist before the child does, so nothing but the spawn itself sits
        // between the start of the clock and the child running.
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
            Ok((stdout, stderr)) => drain_output([stdout, stderr], max_capture_bytes, output_over),
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

        let start = Instant::now();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let wall_seconds = start.elapsed().as_secs_f64();
                drop((started_tx, pipes_tx));
                let _ = (sampler.join(), drainer.join());
                // ENOENT for a file that exists: the kernel could not find its #! interpreter.
                let exists = program.contains('/') && cmd.cwd.join(program).is_file();
                let why = if e.kind() == io::ErrorKind::NotFound && exists {
                    " (the file exists: is the interpreter on its #! line missing?)"
                } else {
                    ""
                };
                return Measured::not_started(Termination::SpawnFailed(format!("{program}: {e}{why}")), wall_seconds);
            }
        };
        // The child is now stopped at its exec (when traced) or running. Pids fit in pid_t.
        let pid = child.id() as libc::pid_t;
        let status_file = File::open(format!("/proc/{pid}/status")).ok();
        let _ = started_tx.send((pid, start));
        if let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) {
            let _ = pipes_tx.send((stdout.into(), stderr.into()));
        }
        drop(pipes_tx);

        let reaped = trace_until_reaped(pid, status_file.as_ref());
        let wall_seconds = start.elapsed().as_secs_f64();
        run_over.store(true, Ordering::Release);
        sampler.thread().unpark();
        let report = sampler.join().unwrap_or_default();
        kill_and_reap_leftovers(pid, &report.descendant_pidfds);
        output_over.store(true, Ordering::Release);
        let output = drainer.join().unwrap_or_default();
        // `child` is dropped without std's wait: it was reaped above with wait4.
        drop(child);

        assemble(program, pid, start, wall_seconds, reaped, report, output)
    })
}

/// The record of a run that was started, from what the tracer, the sampler and the output thread
/// each saw.
fn assemble(
    program: &str,
    pid: libc::pid_t,
    start: Instant,
    wall_seconds: f64,
    reaped: io::Result<Reaped>,
    report: WatchReport,
    [stdout, stderr]: [Captured; 2],
) -> Measured {
    let spawn_seconds = reaped.as_ref().ok().and_then(|r| r.program_started_at).map(|at| at.duration_since(start).as_secs_f64());
    let later_exec_seen = reaped.as_ref().is_ok_and(|r| r.later_exec_seen);
    let (termination, exit_code, signal, rusage, vm_hwm_bytes) = match reaped {
        Ok(r) => {
            let (exit_code, signal) = if libc::WIFEXITED(r.wait_status) {
                (Some(libc::WEXITSTATUS(r.wait_status)), None)
            } else {
                (None, Some(libc::WTERMSIG(r.wait_status)))
            };
            let termination = match (report.intervention, exit_code, signal) {
                (Some(Intervention::TimedOut), _, _) => Termination::TimedOut,
                (Some(Intervention::MemoryLimit), _, _) => Termination::MemoryLimit,
                (Some(Intervention::Cancelled), _, _) => Termination::Cancelled,
                (None, Some(code), _) => Termination::Exited(code),
                (None, _, Some(signal)) => Termination::Signaled(signal),
                (None, None, None) => Termination::WaitFailed("no exit status".into()),
            };
            (termination, exit_code, signal, Some(r.rusage), r.vm_hwm_bytes)
        }
        Err(e) => (Termination::WaitFailed(format!("waiting for {program} (pid {pid}): {e}")), None, None, None, None),
    };
    let (peak_rss_bytes, peak_rss_exact) = match vm_hwm_bytes {
        Some(hwm) if report.descendants_seen || later_exec_seen => (Some(hwm.max(report.max_rss_bytes.unwrap_or(0))), true),
        Some(hwm) => (Some(hwm), true),
        None => (report.max_rss_bytes, false),
    };
    Measured {
        termination,
        pid: Some(pid),
        exit_code,
        signal,
        wall_seconds,
        spawn_seconds,
        user_seconds: rusage.map_or(0.0, |r| timeval_seconds(r.ru_utime)),
        system_seconds: rusage.map_or(0.0, |r| timeval_seconds(r.ru_stime)),
        peak_rss_bytes,
        peak_rss_exact,
        descendants_seen: report.descendants_seen,
        stdout: stdout.bytes,
        stderr: stderr.bytes,
        stdout_truncated: stdout.truncated,
        stderr_truncated: stderr.truncated,
        samples: report.samples,
        sampler_cpu_seconds: report.sampler_cpu_seconds,
    }
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

/// The child's end, as seen by its tracer.
struct Reaped {
    wait_status: libc::c_int,
    rusage: libc::rusage,
    /// VmHWM read at the exit stop, when there was one.
    vm_hwm_bytes: Option<u64>,
    /// When the child was let go from its stop after exec: its program starts running then.
    program_started_at: Option<Instant>,
    /// The program exec'd another (a wrapper script): VmHWM is then the last image's only.
    later_exec_seen: bool,
}

/// Waits for the child (traced by this thread, or not) until it is reaped, handling its ptrace
/// stops on the way: options at the first stop, the exec SIGTRAP swallowed, later exec events
/// noted, VmHWM read at the exit stop, every other signal passed on (job-control stops excepted,
/// see the module docs).
fn trace_until_reaped(pid: libc::pid_t, status_file: Option<&File>) -> io::Result<Reaped> {
    let mut options_set = false;
    let mut exec_trap_seen = false;
    let mut vm_hwm_bytes = None;
    let mut program_started_at = None;
    let mut later_exec_seen = false;
    loop {
        let mut wait_status: libc::c_int = 0;
        // SAFETY: rusage is plain data.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 writes only the status and the rusage.
        if unsafe { libc::wait4(pid, &mut wait_status, libc::__WALL, &mut rusage) } < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        if libc::WIFEXITED(wait_status) || libc::WIFSIGNALED(wait_status) {
            return Ok(Reaped { wait_status, rusage, vm_hwm_bytes, program_started_at, later_exec_seen });
        }
        if !libc::WIFSTOPPED(wait_status) {
            continue;
        }
        if !options_set {
            options_set = true;
            // TRACEEXEC turns later execs (wrapper scripts, `env`, pyenv shims) into event stops;
            // without it each would raise a SIGTRAP. Failure only loses the exact peak.
            let options = libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACEEXEC;
            ptrace(libc::PTRACE_SETOPTIONS, pid, options as usize);
        }
        let signal = libc::WSTOPSIG(wait_status);
        let event = (wait_status >> 16) & 0xff;
        let inject = if event == libc::PTRACE_EVENT_EXIT {
            vm_hwm_bytes = read_vm_hwm(pid, status_file);
            0
        } else if event != 0 {
            later_exec_seen |= event == libc::PTRACE_EVENT_EXEC;
            0
        } else if signal == libc::SIGTRAP && !exec_trap_seen {
            // PTRACE_TRACEME makes a successful exec raise SIGTRAP; it is ours, not the child's.
            exec_trap_seen = true;
            program_started_at = Some(Instant::now());
            0
        } else if is_group_stop(pid) || matches!(signal, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU) {
            0
        } else {
            signal
        };
        // ESRCH (killed meanwhile, e.g. by SIGKILL) is fine: the next wait4 reports the death.
        ptrace(libc::PTRACE_CONT, pid, inject as usize);
    }
}

fn ptrace(request: libc::c_uint, pid: libc::pid_t, data: usize) -> bool {
    // SAFETY: the requests used here (SETOPTIONS, CONT, GETSIGINFO with a valid buffer) take an
    // integer or a pointer to memory we own as data and touch nothing else of ours.
    unsafe { libc::ptrace(request, pid, std::ptr::null_mut::<libc::c_void>(), data as *mut libc::c_void) == 0 }
}

/// A stop without signal information is a group-stop (the child stopping by job control), not a
/// signal-delivery-stop.
fn is_group_stop(pid: libc::pid_t) -> bool {
    // SAFETY: siginfo_t is plain data; PTRACE_GETSIGINFO writes one into the buffer we own.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let ok = ptrace(libc::PTRACE_GETSIGINFO, pid, std::ptr::addr_of_mut!(info) as usize);
    !ok && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL)
}

/// VmHWM from /proc/PID/status, in bytes, through the handle opened at spawn when there is one.
fn read_vm_hwm(pid: libc::pid_t, status_file: Option<&File>) -> Option<u64> {
    let mut buffer = vec![0u8; 8192];
    let length = match status_file {
        Some(file) => file.read_at(&mut buffer, 0).ok()?,
        None => File::open(format!("/proc/{pid}/status")).and_then(|mut f| f.read(&mut buffer)).ok()?,
    };
    parse_vm_hwm(buffer.get(..length)?)
}

fn parse_vm_hwm(status: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(status).ok()?;
    let line = text.lines().find_map(|line| line.strip_prefix("VmHWM:"))?;
    let kibibytes: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kibibytes.checked_mul(1024)
}

fn timeval_seconds(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6
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
    fn vm_hwm_is_read_in_bytes() {
        let status = b"Name:\ttrue\nVmPeak:\t    2600 kB\nVmHWM:\t     988 kB\nVmRSS:\t     988 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(988 * 1024));
        assert_eq!(parse_vm_hwm(b"Name:\tx\n"), None);
    }

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
