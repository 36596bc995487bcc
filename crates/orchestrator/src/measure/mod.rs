//! The runner: starts one implementation as a child process and measures it from outside — wall
//! time, CPU time and peak memory from the kernel's rusage, page faults and context switches, its
//! output, and samples of its process tree — while enforcing the timeout, the memory limit and
//! cancellation.
//!
//! The child is not created by this (large, multi-threaded) process but by the `launcher` binary
//! (crates/launcher), started afresh for every run: the launcher creates the child as posix_spawn
//! does (sharing its memory until the exec), the child takes the clock immediately before its
//! execve, and the launcher reaps it with wait4 and takes the clock again. So the measured interval
//! holds the program and its reaping only, and wait4's ru_maxrss is the program's own peak: the
//! kernel carries the old image's high-water mark across exec (hyperfine issue #86), and the
//! launcher (static, without Rust's standard library) holds about 0.7 MiB, which it measures and
//! reports (`carried_hwm_kib`): a peak above it is exact, and is flagged when it is not. No ptrace
//! is involved.
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
//!
//! The files, one concern each: [`command`] (what to run, under which limits), [`huge_pages`]
//! (where the child's memory lies, looked at once it settles), [`launcher`]
//! (starting the launcher, reading its reports), [`watchdog`] (the helper thread that enforces the
//! limits), [`sampler`] (the samples it keeps), [`procfs`] (reading the process tree), [`output`]
//! (capturing stdout and stderr), [`cleanup`] (killing and reaping what is left), [`measured`] (the
//! result), [`cancel`] and [`sys`] (every raw syscall). This file runs the steps in order.

mod cancel;
mod cleanup;
mod command;
mod huge_pages;
mod launcher;
mod measured;
mod output;
mod procfs;
mod sampler;
mod sys;
mod watchdog;

use std::io::{self, BufRead, BufReader};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, ScopedJoinHandle};
use std::time::{Duration, Instant};

use ::launcher::{Report, Started};

pub use cancel::CancelToken;
pub use command::{ChildCommand, RunLimits};
pub use huge_pages::AnonMemory;
pub(crate) use launcher::launcher_path;
pub use measured::{Measured, Termination};
pub(crate) use procfs::smaps_field_bytes;
pub use sampler::{Sample, Sampling, CROWDED_SPACING, DEFAULT_LONGEST_SAMPLE_INTERVAL, DEFAULT_SAMPLE_INTERVAL, DENSE_SAMPLES};
pub(crate) use sys::{allowed_cpus, check_cpus, cpu_ranges};

use output::{Output, OutputPipes};
use watchdog::{WatchReport, WatchSettings};

/// How long after handing the command line to the launcher this process stays off its pipes,
/// unless the launcher ends sooner: it then reads the launcher's first report and starts
/// watching, and the output thread starts reading. The timeout and cancellation are enforced
/// 2 ms late at most; the output pipes are enlarged to [`PIPE_BYTES`] so a chatty child does not
/// block meanwhile.
///
/// Off the pipes, because a thread blocked on one is woken by the launcher's first report as the
/// child starts, and competes with it: /bin/true took 0.70 ms through the orchestrator then,
/// 0.56 ms with this pause, against 0.50 ms under hyperfine (2-vCPU VM). Unless the launcher
/// ends sooner, because time between runs slows the run that follows: with a plain 2 ms sleep,
/// every run of a short program came after such a pause. Measured on an Emerald Rapids guest
/// (family 6 model 207, 2 vCPUs, 300 MiB L3) by tests/benchmarks/idle_before_run.sh (a minimal
/// spawner, /bin/true pinned to one CPU, 6 rounds of 60 runs a mode; medians of the rounds'
/// ratios to runs back to back): idle 0.1 ms before each run 1.10, 1 ms 1.18, 2 ms 1.31; 1 ms
/// spent busy 1.15, 2 MiB written 1.19 (a reading that fits, not checked further: whatever runs
/// meanwhile, here or elsewhere on the host, takes the caches). The launcher exits right after
/// its last report, so the wait ends then: on the same host the orchestrator's /bin/true read
/// 0.959 of its time with the sleep (16 rotated rounds, faster in 11), one run's start to the
/// next's 1.50 ms instead of 3.78.
const QUIET_START: Duration = Duration::from_millis(2);
/// The output pipes' capacity (F_SETPIPE_SZ; the kernel's default limit for unprivileged users).
const PIPE_BYTES: libc::c_int = 1 << 20;

/// Runs `cmd` to completion under `limits` and measures it; see the module documentation.
///
/// `sampling`: when to record a [`Sample`] of the process tree (None: no samples; the timeout,
/// memory limit and cancellation are still enforced every few milliseconds). Never panics: every
/// failure is a [`Termination`].
pub fn run_measured(cmd: &ChildCommand, limits: &RunLimits, sampling: Option<Sampling>, cancel: &CancelToken) -> Measured {
    let prepared = match prepare(cmd, limits, cancel) {
        Ok(prepared) => prepared,
        Err(termination) => return Measured::not_started(termination, 0.0),
    };
    let settings = WatchSettings {
        sampling,
        timeout: limits.timeout,
        kill_grace: limits.kill_grace,
        memory_limit_bytes: limits.memory_limit_bytes,
        look_at_huge_pages: limits.look_at_huge_pages,
    };
    let flags = RunFlags::default();
    thread::scope(|scope| match Helpers::start(scope, prepared.program, &settings, cancel, limits.max_capture_bytes, &flags) {
        Ok(helpers) => run_through_launcher(prepared, helpers, &flags),
        Err(termination) => Measured::not_started(termination, 0.0),
    })
}

/// A run ready to start: the launcher's command, this side of its report socket and what it is to
/// be sent.
struct Prepared<'a> {
    program: &'a str,
    cwd: &'a Path,
    launcher: &'static Path,
    command: Command,
    report: UnixStream,
    command_line: Vec<u8>,
}

/// Checks what can be checked before anything starts (cancellation, the command line, the working
/// directory, the CPUs, the launcher) and builds the launcher's command.
fn prepare<'a>(cmd: &'a ChildCommand, limits: &RunLimits, cancel: &CancelToken) -> Result<Prepared<'a>, Termination> {
    if cancel.is_cancelled() {
        return Err(Termination::Cancelled);
    }
    let Some(program) = cmd.argv.first() else {
        return Err(Termination::SpawnFailed("empty command line".into()));
    };
    if let Err(e) = check_directory(&cmd.cwd) {
        return Err(Termination::SpawnFailed(format!("{program}: working directory {}: {e}", cmd.cwd.display())));
    }
    // The launcher pins itself; the list is checked here, where a bad one can be said clearly.
    let cpus = limits.cpus.as_deref();
    if let Some(Err(error)) = cpus.map(sys::check_cpus) {
        return Err(Termination::SpawnFailed(format!("{program}: {error}")));
    }
    let launcher = launcher_path().map_err(|error| Termination::SpawnFailed(error.to_string()))?;
    sys::become_subreaper();
    let (report, launchers_end) =
        UnixStream::pair().map_err(|e| Termination::SpawnFailed(format!("{program}: cannot create the launcher's report socket: {e}")))?;
    let command = launcher::command(launcher, cmd, launchers_end, cpus);
    Ok(Prepared { program, cwd: &cmd.cwd, launcher, command, report, command_line: launcher::command_line(&cmd.argv) })
}

fn check_directory(path: &Path) -> io::Result<()> {
    if std::fs::metadata(path)?.is_dir() {
        Ok(())
    } else {
        Err(io::Error::other("not a directory"))
    }
}

/// What the helper threads are told: the run is over (the watchdog stops), and the output may
/// stop (the reader gives the pipes a last grace).
#[derive(Default)]
struct RunFlags {
    run_over: AtomicBool,
    output_over: AtomicBool,
}

/// The child's pid (also its process group) and the instant just before its execve.
struct StartedChild {
    pid: libc::pid_t,
    start: Instant,
}

/// The run's two helper threads, the watchdog and the output reader, and the channels that hand
/// them the child once it exists.
struct Helpers<'scope> {
    started: mpsc::Sender<StartedChild>,
    pipes: mpsc::Sender<OutputPipes>,
    watchdog: ScopedJoinHandle<'scope, WatchReport>,
    reader: ScopedJoinHandle<'scope, Output>,
}

impl<'scope> Helpers<'scope> {
    /// Starts both threads. They exist before the child does, so they are not started while it
    /// runs.
    fn start<'env>(
        scope: &'scope thread::Scope<'scope, 'env>,
        program: &str,
        settings: &'env WatchSettings,
        cancel: &'env CancelToken,
        max_capture_bytes: usize,
        flags: &'env RunFlags,
    ) -> Result<Self, Termination> {
        let (started, started_rx) = mpsc::channel::<StartedChild>();
        let (pipes, pipes_rx) = mpsc::channel::<OutputPipes>();
        let watchdog = thread::Builder::new().name("run-sampler".into()).spawn_scoped(scope, move || match started_rx.recv() {
            Ok(child) => watchdog::watch(child.pid, child.start, settings, cancel, &flags.run_over),
            Err(_) => WatchReport::default(),
        });
        let watchdog = match watchdog {
            Ok(handle) => handle,
            Err(e) => return Err(Termination::SpawnFailed(format!("{program}: cannot start the sampler thread: {e}"))),
        };
        let reader = thread::Builder::new().name("run-output".into()).spawn_scoped(scope, move || match pipes_rx.recv() {
            Ok(pipes) => {
                watchdog::sleep_until(Instant::now() + QUIET_START, &flags.output_over);
                output::drain_output(pipes, max_capture_bytes, &flags.output_over)
            }
            Err(_) => Default::default(),
        });
        let reader = match reader {
            Ok(handle) => handle,
            Err(e) => {
                drop(started);
                let _ = watchdog.join();
                return Err(Termination::SpawnFailed(format!("{program}: cannot start the output thread: {e}")));
            }
        };
        Ok(Helpers { started, pipes, watchdog, reader })
    }
}

/// Starts the launcher, hands its output to the reader and the child to the watchdog, and waits
/// for the run to end.
fn run_through_launcher(prepared: Prepared<'_>, helpers: Helpers<'_>, flags: &RunFlags) -> Measured {
    let Prepared { program, cwd, launcher: launcher_path, mut command, mut report, command_line } = prepared;
    let Helpers { started: started_tx, pipes: pipes_tx, watchdog, reader } = helpers;
    let spawned = command.spawn();
    // The command held the launcher's end of the socket: now the launcher's alone, so the
    // reports end when the launcher does.
    drop(command);
    let mut launcher = match spawned {
        Ok(child) => child,
        Err(e) => {
            drop((started_tx, pipes_tx));
            let _ = (watchdog.join(), reader.join());
            return Measured::not_started(Termination::SpawnFailed(format!("{}: {e}", launcher_path.display())), 0.0);
        }
    };
    hand_over_output(&mut launcher, pipes_tx);
    // The command line, then end-of-file on it. A launcher that died at once fails the write: its
    // end is read below.
    let _ = io::Write::write_all(&mut report, &command_line);
    let _ = report.shutdown(Shutdown::Write);
    let mut reports = BufReader::new(report);
    wait_out_quiet_start(&launcher);

    let started = match launcher::read_report(&mut reports) {
        Some(Report::Started(started)) => started,
        first => {
            drop(started_tx);
            let launcher_end = launcher::reap(&mut launcher);
            end_output(flags, &reader);
            let _ = (watchdog.join(), reader.join());
            let why = launcher::not_started_reason(program, cwd, first, &launcher_end);
            return Measured::not_started(Termination::SpawnFailed(why), 0.0);
        }
    };
    let _ = started_tx.send(StartedChild { pid: started.pid, start: launcher::instant_of(started.t0_ns) });
    wait_for_the_end(started, &mut reports, &mut launcher, watchdog, reader, flags)
}

/// Enlarges the launcher's output pipes (see [`PIPE_BYTES`]) and hands them to the output reader.
fn hand_over_output(launcher: &mut Child, reader: mpsc::Sender<OutputPipes>) {
    if let (Some(stdout), Some(stderr)) = (launcher.stdout.take(), launcher.stderr.take()) {
        sys::set_pipe_size(&stdout, PIPE_BYTES);
        sys::set_pipe_size(&stderr, PIPE_BYTES);
        let _ = reader.send(OutputPipes { stdout: stdout.into(), stderr: stderr.into() });
    }
}

/// Until the launcher has exited (a short program ended and was reported) or [`QUIET_START`] has
/// passed, whichever comes first; a plain sleep where pidfds are missing (Linux before 5.3).
fn wait_out_quiet_start(launcher: &Child) {
    let pidfd = libc::pid_t::try_from(launcher.id()).ok().and_then(sys::pidfd_open);
    match pidfd {
        Some(pidfd) => {
            sys::wait_readable(&pidfd, QUIET_START);
        }
        None => thread::sleep(QUIET_START),
    }
}

/// The run is over: the output thread drains what is left without waiting out the quiet start,
/// so that the next run follows at once (an idle pause before a run slows it: [`QUIET_START`]).
fn end_output(flags: &RunFlags, reader: &ScopedJoinHandle<'_, Output>) {
    flags.output_over.store(true, Ordering::Release);
    reader.thread().unpark();
}

/// Reads the launcher's last report and reaps it, stops the watchdog, kills and reaps what is left
/// of the tree, collects the output and puts the measurement together.
fn wait_for_the_end(
    started: Started,
    reports: &mut impl BufRead,
    launcher: &mut Child,
    watchdog: ScopedJoinHandle<'_, WatchReport>,
    reader: ScopedJoinHandle<'_, Output>,
    flags: &RunFlags,
) -> Measured {
    let last = launcher::read_report(reports);
    let launcher_end = launcher::reap(launcher);
    flags.run_over.store(true, Ordering::Release);
    watchdog.thread().unpark();
    let report = watchdog.join().unwrap_or_default();
    cleanup::kill_and_reap_leftovers(started.pid, &report.descendant_pidfds);
    end_output(flags, &reader);
    let output = reader.join().unwrap_or_default();
    let exited = match last {
        Some(Report::Exited(exited)) => Ok(exited),
        other => Err(launcher::lost_reason(started.pid, other, &launcher_end)),
    };
    measured::assemble(started, exited, report, output)
}
