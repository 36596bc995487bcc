//! `launcher --exit` does nothing and exits 0 (the static no-op of the spawn-floor probe).
//!
//! `launcher PARENT_PID REPORT_FD`, with the child's command line on standard input (NUL-separated
//! arguments): starts it as the measured child with /dev/null as its standard input, times it and
//! reaps it, and reports on REPORT_FD (the protocol is in the library, `launcher::Report`). The
//! command line travels on stdin so that the launcher's own is not mistaken for the program's.
//!
//! Why a separate process: the orchestrator is large and multi-threaded, so creating the child from
//! it costs time that would be counted, and the kernel would carry its high-water mark into the
//! child's ru_maxrss (it carries the old image's mark across exec). This process is small: it
//! forks itself (suspended until the child's exec, CLONE_VFORK, but without sharing memory, so
//! the child's memory before exec is only its few private pages, measured and reported as
//! `carried_hwm_kib`); the child takes the clock immediately before execve, and the launcher takes
//! it again when wait4 returns. Nothing but the program and its reaping lies between the two.
//!
//! The child gets a process group of its own (its pid), SIGPIPE at its default disposition (Rust's
//! runtime ignores it) and an empty signal mask; it inherits this process's environment, working
//! directory, CPU affinity and standard streams, which the orchestrator set up, and no other
//! descriptor: whatever the orchestrator's caller left open is closed at the exec. The orchestrator's
//! death (even by SIGKILL) reaches this process as SIGTERM (PR_SET_PDEATHSIG), which kills the
//! child's process group before exiting; the child itself gets SIGKILL if the launcher dies.

use std::ffi::{CString, OsString};
use std::io::Write;
use std::os::fd::FromRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicI32, Ordering};

use launcher::{monotonic_ns, Exited, Report, Started};

/// The measured child's pid once it exists: the signal handler kills its group.
static CHILD: AtomicI32 = AtomicI32::new(0);

/// Exit codes of the launcher itself (the child's own status travels in the report).
const EXIT_REPORTED: i32 = 0;
const EXIT_USAGE: i32 = 2;
const EXIT_PARENT_GONE: i32 = 3;

fn main() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // A static program that does nothing: the spawn-floor probe times it beside /bin/true, which
    // also loads libc dynamically.
    if args.len() == 1 && args[0] == "--exit" {
        return;
    }
    let (parent, report_fd, argv) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("launcher: {message}");
            eprintln!("usage: launcher PARENT_PID REPORT_FD < NUL-separated command line");
            std::process::exit(EXIT_USAGE);
        }
    };
    // SAFETY: the orchestrator passed this descriptor open for us alone; from here on it is owned
    // by `report` and closed on exec, so the child never inherits it.
    let mut report = unsafe { std::fs::File::from_raw_fd(report_fd) };
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(report_fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    let closed = close_on_exec_above_stderr();
    let code = match closed.and_then(|()| run(parent, &argv, &mut report)) {
        Ok(line) => {
            let _ = writeln!(report, "{line}");
            EXIT_REPORTED
        }
        Err((code, message)) => {
            let _ = writeln!(report, "{}", Report::Error { message });
            code
        }
    };
    std::process::exit(code);
}

fn parse_args(args: &[OsString]) -> Result<(libc::pid_t, libc::c_int, Vec<CString>), String> {
    let number = |index: usize, what: &str| -> Result<i32, String> {
        let text = args.get(index).and_then(|a| a.to_str()).ok_or_else(|| format!("missing {what}"))?;
        text.parse().map_err(|_| format!("{what} {text:?} is not a number"))
    };
    let parent = number(0, "PARENT_PID")?;
    let report_fd = number(1, "REPORT_FD")?;
    if args.len() > 2 {
        return Err("the command line comes on standard input, not as arguments".into());
    }
    let mut line = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut line).map_err(|e| format!("reading the command line: {e}"))?;
    let argv: Vec<CString> = line
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| CString::new(a).map_err(|_| "an argument holds a NUL byte".to_string()))
        .collect::<Result<_, _>>()?;
    if argv.is_empty() {
        return Err("the command line on standard input is empty".into());
    }
    // The child's standard input is /dev/null, as for any measured program.
    let null = std::fs::File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    // SAFETY: dup2 onto descriptor 0, which this process no longer needs.
    if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0) } < 0 {
        return Err(format!("/dev/null as standard input: {}", std::io::Error::last_os_error()));
    }
    Ok((parent, report_fd, argv))
}

/// Marks every descriptor but the standard streams close-on-exec, so the measured program starts
/// with those three only, whatever the orchestrator's caller left open (the write end of a pipe
/// would keep its reader waiting until the program ends). close_range(2) does it in one call
/// (Linux 5.11); before that, each descriptor listed in /proc/self/fd gets FD_CLOEXEC.
fn close_on_exec_above_stderr() -> Result<(), (i32, String)> {
    // The system call, not glibc's wrapper (2.34): the launcher is linked statically.
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on this process's descriptors.
    if unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) } == 0 {
        return Ok(());
    }
    let listing = std::fs::read_dir("/proc/self/fd").map_err(|e| (EXIT_USAGE, format!("/proc/self/fd: {e}")))?;
    for fd in listing.flatten().filter_map(|e| e.file_name().to_str()?.parse::<libc::c_int>().ok()).filter(|&fd| fd > 2) {
        // SAFETY: fcntl(F_SETFD) only changes a descriptor's flags (the listing's own descriptor
        // is close-on-exec already).
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// What the child tells the launcher through a shared page before (or instead of) its exec.
#[repr(C)]
struct Handoff {
    t0_ns: u64,
    carried_hwm_kib: u64,
    exec_errno: i32,
    /// The child's own rusage just before its execve: the fork's aftermath and the steps above,
    /// which are the launcher's work, not the program's, and are subtracted from what wait4 says.
    before_exec: libc::rusage,
}

/// Starts, waits and measures; returns the last report line, or an exit code and message.
fn run(parent: libc::pid_t, argv: &[CString], report: &mut std::fs::File) -> Result<Report, (i32, String)> {
    tie_to_parent(parent)?;
    let program = resolve_program(&argv[0]);
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let handoff = SharedPage::new().map_err(|e| (EXIT_USAGE, format!("mmap: {e}")))?;

    // The handler must see the child's pid before it can act: hold its signals until then.
    let held = block_termination_signals();
    let launcher = std::process::id() as libc::pid_t;
    // SAFETY: a fork of this single-threaded process (no CLONE_VM: the child has its own copy of
    // the memory), with the parent suspended until the child's exec or exit (CLONE_VFORK). The
    // child only makes system calls on data prepared above, then execs or exits.
    let pid =
        unsafe { libc::syscall(libc::SYS_clone, (libc::CLONE_VFORK | libc::SIGCHLD) as libc::c_ulong, 0usize, 0usize, 0usize, 0usize) };
    if pid == 0 {
        // SAFETY: in the child, see above; never returns.
        unsafe { exec_child(launcher, &program, &argv_ptrs, handoff.get(), &held) };
    }
    let spawned_ns = monotonic_ns();
    if pid < 0 {
        let error = std::io::Error::last_os_error();
        restore_signal_mask(&held);
        return Ok(Report::SpawnFailed { errno: error.raw_os_error().unwrap_or(libc::EAGAIN) });
    }
    let pid = pid as libc::pid_t;
    // SAFETY: the child has exec'd or exited: nothing writes the page any more.
    let (t0_ns, carried_hwm_kib, exec_errno, before_exec) = unsafe {
        let h = handoff.get();
        ((*h).t0_ns, (*h).carried_hwm_kib, (*h).exec_errno, (*h).before_exec)
    };
    if exec_errno != 0 {
        restore_signal_mask(&held);
        let _ = wait_for(pid);
        return Ok(Report::SpawnFailed { errno: exec_errno });
    }
    CHILD.store(pid, Ordering::Release);
    restore_signal_mask(&held);
    let started = Started { pid, t0_ns, spawn_ns: spawned_ns.saturating_sub(t0_ns), carried_hwm_kib };
    // A failed write means the orchestrator is gone: then the child goes too.
    if writeln!(report, "{}", Report::Started(started)).is_err() {
        kill_child_group();
        return Err((EXIT_PARENT_GONE, "the report pipe is closed".into()));
    }

    let (status, usage) = wait_for(pid).map_err(|e| {
        kill_child_group();
        (EXIT_USAGE, format!("wait4 on pid {pid}: {e}"))
    })?;
    let wall_ns = monotonic_ns().saturating_sub(t0_ns);
    CHILD.store(0, Ordering::Release);
    // What the child spent before its execve was the launcher's doing: only the program's own.
    let own = |after: i64, before: i64| after.saturating_sub(before).max(0) as u64;
    Ok(Report::Exited(Exited {
        wall_ns,
        status,
        user_us: timeval_us(usage.ru_utime).saturating_sub(timeval_us(before_exec.ru_utime)),
        system_us: timeval_us(usage.ru_stime).saturating_sub(timeval_us(before_exec.ru_stime)),
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
        minor_faults: own(usage.ru_minflt, before_exec.ru_minflt),
        major_faults: own(usage.ru_majflt, before_exec.ru_majflt),
        voluntary_switches: own(usage.ru_nvcsw, before_exec.ru_nvcsw),
        involuntary_switches: own(usage.ru_nivcsw, before_exec.ru_nivcsw),
    }))
}

/// The child, between the fork and its exec: its own process group, tied to the launcher's life,
/// signals as a fresh process has them; then the clock, then execve.
///
/// Only libc calls, kept together, so the child touches few pages of this binary: each one it
/// touches is resident in it and carried into the program's peak. Everything the last steps touch
/// is touched once beforehand (an execve of an empty path fails at once), so the high-water mark
/// read just before the clock is the one the exec carries over.
unsafe fn exec_child(
    launcher: libc::pid_t,
    program: &CString,
    argv: &[*const libc::c_char],
    handoff: *mut Handoff,
    held: &libc::sigset_t,
) -> ! {
    libc::setpgid(0, 0);
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    if libc::getppid() != launcher {
        libc::_exit(EXIT_PARENT_GONE);
    }
    // Rust's runtime ignores SIGPIPE, and an ignored signal stays ignored across exec.
    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    libc::sigprocmask(libc::SIG_SETMASK, held, std::ptr::null_mut());
    let env = environ_ptr();
    let mut status = [0u8; 2048];
    (*handoff).carried_hwm_kib = raw_vm_hwm_kib(&mut status);
    libc::getrusage(libc::RUSAGE_SELF, &mut (*handoff).before_exec);
    (*handoff).t0_ns = monotonic_ns();
    (*handoff).exec_errno = 0;
    libc::execve(c"".as_ptr(), argv.as_ptr(), env);
    (*handoff).carried_hwm_kib = raw_vm_hwm_kib(&mut status);
    libc::getrusage(libc::RUSAGE_SELF, &mut (*handoff).before_exec);
    (*handoff).t0_ns = monotonic_ns();
    libc::execve(program.as_ptr(), argv.as_ptr(), env);
    (*handoff).exec_errno = *libc::__errno_location();
    libc::_exit(127);
}

/// VmHWM in KiB from /proc/self/status with libc calls only (u64::MAX when it cannot be read, so
/// that no peak is then taken for the program's own).
unsafe fn raw_vm_hwm_kib(buffer: &mut [u8; 2048]) -> u64 {
    let fd = libc::open(c"/proc/self/status".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return u64::MAX;
    }
    let length = libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len());
    libc::close(fd);
    if length <= 0 {
        return u64::MAX;
    }
    let text = &buffer[..length as usize];
    let key = b"VmHWM:";
    let Some(start) = text.windows(key.len()).position(|w| w == key) else { return u64::MAX };
    let mut kib: u64 = 0;
    let mut digits = 0;
    for &byte in &text[start + key.len()..] {
        match byte {
            b'0'..=b'9' => {
                kib = kib * 10 + u64::from(byte - b'0');
                digits += 1;
            }
            b' ' | b'\t' if digits == 0 => {}
            _ => break,
        }
    }
    if digits == 0 {
        u64::MAX
    } else {
        kib
    }
}

fn environ_ptr() -> *const *const libc::c_char {
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    // SAFETY: glibc's environment pointer, read once; nothing in this process changes it.
    unsafe { environ }
}

/// PROGRAM as execvp would find it: a name with a slash as it is, otherwise the first executable
/// file of that name in PATH (the name itself when there is none, so execve reports ENOENT).
fn resolve_program(program: &CString) -> CString {
    let bytes = program.as_bytes();
    if bytes.contains(&b'/') {
        return program.clone();
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(std::ffi::OsStr::from_bytes(bytes));
        let Ok(c_candidate) = CString::new(candidate.into_os_string().into_vec()) else { continue };
        // SAFETY: a NUL-terminated path.
        if unsafe { libc::access(c_candidate.as_ptr(), libc::X_OK) } == 0
            && std::fs::metadata(std::ffi::OsStr::from_bytes(c_candidate.as_bytes())).is_ok_and(|m| m.is_file())
        {
            return c_candidate;
        }
    }
    program.clone()
}

/// One page of memory shared with the child across the fork.
struct SharedPage(*mut Handoff);

const _: () = assert!(std::mem::size_of::<Handoff>() <= 4096, "the handoff fits in the shared page");

impl SharedPage {
    fn new() -> Result<Self, std::io::Error> {
        // SAFETY: an anonymous shared mapping of one page, zero-filled by the kernel.
        let page = unsafe {
            libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_ANONYMOUS, -1, 0)
        };
        if page == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(SharedPage(page.cast()))
    }

    fn get(&self) -> *mut Handoff {
        self.0
    }
}

/// SIGTERM when the parent dies, and a handler that takes the child's process group down with us.
fn tie_to_parent(parent: libc::pid_t) -> Result<(), (i32, String)> {
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        // SAFETY: the handler only makes async-signal-safe calls (kill, _exit).
        unsafe { libc::signal(signal, on_termination as *const () as libc::sighandler_t) };
    }
    // SAFETY: prctl(PR_SET_PDEATHSIG) sets a flag on this process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) };
    // The parent may have died before the flag was set: then no signal will ever come.
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } != parent {
        return Err((EXIT_PARENT_GONE, format!("the orchestrator (pid {parent}) is gone")));
    }
    Ok(())
}

extern "C" fn on_termination(_signal: libc::c_int) {
    kill_child_group();
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(EXIT_PARENT_GONE) };
}

fn kill_child_group() {
    let pid = CHILD.load(Ordering::Acquire);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe; the group is the child's own (POSIX_SPAWN_SETPGROUP).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

fn block_termination_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
            libc::sigaddset(&mut set, signal);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        old
    }
}

fn restore_signal_mask(old: &libc::sigset_t) {
    // SAFETY: `old` came from sigprocmask.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
}

/// Waits until the child has ended. A job-control stop (SIGSTOP, SIGTSTP, …) is undone at once
/// with SIGCONT to its group: a stopped child measures nothing, and the wall clock runs on.
fn wait_for(pid: libc::pid_t) -> Result<(libc::c_int, libc::rusage), std::io::Error> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain data; wait4 writes only the status and the rusage.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::wait4(pid, &mut status, libc::WUNTRACED, &mut usage) } == pid {
            if libc::WIFSTOPPED(status) {
                // SAFETY: signals the child's own process group.
                unsafe { libc::kill(-pid, libc::SIGCONT) };
                continue;
            }
            return Ok((status, usage));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

fn timeval_us(tv: libc::timeval) -> u64 {
    (tv.tv_sec.max(0) as u64) * 1_000_000 + tv.tv_usec.max(0) as u64
}
