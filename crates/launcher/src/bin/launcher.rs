//! `launcher --exit` does nothing and exits 0 (the static no-op of the spawn-floor probe).
//!
//! `launcher PARENT_PID [CPUS]`, with a socket as standard input: the child's command line comes on
//! it (NUL-separated arguments, until the orchestrator shuts its side down); the launcher pins
//! itself to CPUS (a comma-separated list, which the child inherits), starts the command as the
//! measured child with /dev/null as its standard input, times it and reaps it, and reports back on
//! the socket (the protocol is in the library, `launcher::Report`). The command line travels on
//! the socket so that the launcher's own is not mistaken for the program's; the reports too, so
//! that the orchestrator can start the launcher with posix_spawn (Rust's `Command` does when no
//! code has to run between fork and exec): no descriptor beyond stdio to hand over, no affinity to
//! set in a forked copy of the orchestrator. Measured on an Emerald Rapids guest (family 6 model
//! 207, 2 vCPUs, 300 MiB L3; /bin/true pinned to one CPU, 16 rotated rounds of 50 runs): one run's
//! start to the next's 1.20 ms against 1.50 ms forking the orchestrator; the measured time itself
//! the same (1.010 of the fork's, median of the rounds, faster in 6 of 16).
//!
//! Why a separate process: the orchestrator is large and multi-threaded, so creating the child from
//! it costs time that would be counted, and the kernel would carry its high-water mark into the
//! child's ru_maxrss (it carries the old image's mark across exec). This process is small: built
//! without the standard library (`no_std`, glibc linked statically), its whole resident set is
//! about 0.6 MiB. It creates the child as posix_spawn does, sharing this process's memory and
//! suspended until the child's exec (CLONE_VM | CLONE_VFORK): no address space is copied, and the
//! exec has none of its own to tear down, which a fork's child would do inside the measured
//! interval (measured: 4% of a 1.1 ms /bin/true on an Emerald Rapids VM). The mark the exec
//! carries is then this process's, measured by the child just before its execve and reported as
//! `carried_hwm_kib`. The child takes the clock immediately before execve, and the launcher takes
//! it again when wait4 returns. Nothing but the program and its reaping lies between the two.
//!
//! The child gets a process group of its own (its pid), SIGPIPE at its default disposition and an
//! empty signal mask; it inherits this process's environment, working directory and standard
//! output and error, which the orchestrator set up, and CPU affinity (CPUS), and no other
//! descriptor (standard input is /dev/null): whatever the
//! orchestrator's caller left open is closed at the exec. The orchestrator's death (even by
//! SIGKILL) reaches this process as SIGTERM (PR_SET_PDEATHSIG), which kills the child's process
//! group before exiting; the child itself gets SIGKILL if the launcher dies.
//!
//! Built only with the `bin` feature (`make build` does), in a profile that aborts on panic: a
//! `no_std` binary cannot unwind.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt::Write as _;
use core::sync::atomic::{AtomicI32, Ordering};

use launcher::{monotonic_ns, Exited, Report, Started};

/// The measured child's pid once it exists: the signal handler kills its group.
static CHILD: AtomicI32 = AtomicI32::new(0);

/// Exit codes of the launcher itself (the child's own status travels in the report).
const EXIT_REPORTED: c_int = 0;
const EXIT_USAGE: c_int = 2;
const EXIT_PARENT_GONE: c_int = 3;

/// The child's stack until its exec: it runs `exec_child` only (the 2 KiB status buffer and a few
/// libc frames).
const CHILD_STACK_BYTES: usize = 64 * 1024;

/// A failure of the launcher's own: its exit code and what to report.
type Failure = (c_int, String);

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: argv holds argc NUL-terminated strings, as the C runtime passes them.
    let args: Vec<&CStr> = (1..argc.max(1) as usize).map(|i| unsafe { CStr::from_ptr(*argv.add(i)) }).collect();
    // A static program that does nothing: the spawn-floor probe times it beside /bin/true, which
    // also loads libc dynamically.
    if args.len() == 1 && args[0].to_bytes() == b"--exit" {
        return 0;
    }
    // A closed report socket must be an error the launcher acts on (EPIPE: it then kills the child's
    // process group), not its death by SIGPIPE, which the orchestrator's spawn resets to default.
    // (Rust's runtime did this while the launcher had one; the child gets the default back.)
    // SAFETY: signal() with SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let (parent, report_fd, argv) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            write_all(2, format_line(format_args!("launcher: {message}")).as_bytes());
            write_all(2, b"usage: launcher PARENT_PID [CPUS] <> socket: NUL-separated command line in, reports out\n");
            return EXIT_USAGE;
        }
    };
    let outcome = close_on_exec_above_stderr().and_then(|()| run(parent, &argv, report_fd));
    let (code, report) = match outcome {
        Ok(report) => (EXIT_REPORTED, report),
        Err((code, message)) => (code, Report::Error { message }),
    };
    write_all(report_fd, format_line(format_args!("{report}")).as_bytes());
    code
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort has no preconditions. Nothing in this program is expected to panic; if it
    // does, the orchestrator sees the launcher killed by SIGABRT and says so.
    unsafe { libc::abort() }
}

/// The unwinder's personality routine, which code inlined from the prebuilt `core` and `alloc`
/// (built to unwind) refers to. This binary aborts on panic, so nothing ever unwinds into it.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

/// glibc's malloc for `alloc` (Vec, String): the launcher allocates a few hundred bytes.
struct Malloc;

// SAFETY: memalign and free are glibc's allocator; alignments are powers of two.
unsafe impl core::alloc::GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        libc::memalign(layout.align().max(core::mem::size_of::<usize>()), layout.size()).cast()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _: core::alloc::Layout) {
        libc::free(ptr.cast())
    }
}

#[global_allocator]
static ALLOCATOR: Malloc = Malloc;

/// `args` formatted, with a newline.
fn format_line(args: core::fmt::Arguments) -> String {
    let mut line = String::new();
    let _ = line.write_fmt(args);
    line.push('\n');
    line
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes; false when it could not.
fn write_all(fd: c_int, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: writes from a live slice.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if written < 0 && errno() == libc::EINTR {
            continue;
        }
        if written <= 0 {
            return false;
        }
        bytes = &bytes[written as usize..];
    }
    true
}

fn errno() -> c_int {
    // SAFETY: glibc's thread-local errno.
    unsafe { *libc::__errno_location() }
}

/// What `errno` means, as strerror says it.
fn describe_errno(errno: c_int) -> String {
    // SAFETY: strerror returns a NUL-terminated string (this process has one thread).
    let text = unsafe { CStr::from_ptr(libc::strerror(errno)) };
    let mut out = String::from(text.to_str().unwrap_or("unknown error"));
    let _ = write!(out, " (os error {errno})");
    out
}

/// PARENT_PID, the CPUs pinned to, the command line read from standard input; then the report
/// descriptor (standard input's socket, moved above the standard streams and closed on exec, so the
/// child never inherits it) and /dev/null as standard input. Returns the parent, the report
/// descriptor and the command line.
fn parse_args(args: &[&CStr]) -> Result<(libc::pid_t, c_int, Vec<CString>), String> {
    let text = |index: usize| args.get(index).and_then(|a| a.to_str().ok());
    let parent_text = text(0).ok_or("missing PARENT_PID")?;
    let parent: libc::pid_t = parent_text.parse().map_err(|_| alloc::format!("PARENT_PID {parent_text:?} is not a number"))?;
    if args.len() > 2 {
        return Err("the command line comes on standard input, not as arguments".into());
    }
    if let Some(cpus) = text(1) {
        pin_to(cpus)?;
    }
    let line = read_to_end(0).map_err(|errno| alloc::format!("reading the command line: {}", describe_errno(errno)))?;
    let argv: Vec<CString> =
        line.split(|&b| b == 0).filter(|a| !a.is_empty()).map(|a| CString::new(a).expect("split at every NUL")).collect();
    if argv.is_empty() {
        return Err("the command line on standard input is empty".into());
    }
    // SAFETY: fcntl duplicates a descriptor of this process.
    let report_fd = unsafe { libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3) };
    if report_fd < 0 {
        return Err(alloc::format!("standard input as the report socket: {}", describe_errno(errno())));
    }
    // The child's standard input is /dev/null, as for any measured program.
    // SAFETY: open of a NUL-terminated path; dup2 onto descriptor 0, which is read to its end.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null < 0 {
            return Err(alloc::format!("/dev/null: {}", describe_errno(errno())));
        }
        if libc::dup2(null, 0) < 0 {
            return Err(alloc::format!("/dev/null as standard input: {}", describe_errno(errno())));
        }
        libc::close(null);
    }
    Ok((parent, report_fd, argv))
}

/// Pins this process (and so the child) to CPUS, a comma-separated list of CPU numbers.
fn pin_to(cpus: &str) -> Result<(), String> {
    // SAFETY: cpu_set_t is plain data.
    let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    for cpu in cpus.split(',') {
        let cpu: usize = cpu.parse().map_err(|_| alloc::format!("CPUS {cpus:?} is not a comma-separated list of CPU numbers"))?;
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(alloc::format!("CPU {cpu} is beyond the {} this system can name", libc::CPU_SETSIZE));
        }
        // SAFETY: CPU_SET writes the bit of a CPU below CPU_SETSIZE (checked above) into the set.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: sched_setaffinity reads the set we own, of the size given.
    if unsafe { libc::sched_setaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
        return Err(alloc::format!("pinning to CPUs {cpus}: {}", describe_errno(errno())));
    }
    Ok(())
}

/// Everything `fd` holds until its end; the errno of a failed read.
fn read_to_end(fd: c_int) -> Result<Vec<u8>, c_int> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // SAFETY: reads into a live buffer of its length.
        let got = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        match got {
            0 => return Ok(bytes),
            n if n > 0 => bytes.extend_from_slice(&chunk[..n as usize]),
            _ if errno() == libc::EINTR => {}
            _ => return Err(errno()),
        }
    }
}

/// Marks every descriptor but the standard streams close-on-exec, so the measured program starts
/// with those three only, whatever the orchestrator's caller left open (the write end of a pipe
/// would keep its reader waiting until the program ends). close_range(2) does it in one call
/// (Linux 5.11); before that, each descriptor listed in /proc/self/fd gets FD_CLOEXEC.
fn close_on_exec_above_stderr() -> Result<(), Failure> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on this process's descriptors
    // (the system call, not glibc's wrapper, which needs glibc 2.34).
    if unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) } == 0 {
        return Ok(());
    }
    // SAFETY: opendir/readdir/closedir on a NUL-terminated path; each entry's name is
    // NUL-terminated; fcntl(F_SETFD) only changes a descriptor's flags (the listing's own
    // descriptor is close-on-exec already).
    unsafe {
        let listing = libc::opendir(c"/proc/self/fd".as_ptr());
        if listing.is_null() {
            return Err((EXIT_USAGE, alloc::format!("/proc/self/fd: {}", describe_errno(errno()))));
        }
        loop {
            let entry = libc::readdir(listing);
            if entry.is_null() {
                break;
            }
            let name = CStr::from_ptr((*entry).d_name.as_ptr());
            if let Some(fd) = name.to_str().ok().and_then(|n| n.parse::<c_int>().ok()).filter(|&fd| fd > 2) {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        libc::closedir(listing);
    }
    Ok(())
}

/// What the child leaves for the launcher before (or instead of) its exec: the two share memory
/// until then.
#[repr(C)]
struct Handoff {
    t0_ns: u64,
    carried_hwm_kib: u64,
    exec_errno: c_int,
    /// The child's own rusage just before its execve: the clone's aftermath and the steps above,
    /// which are the launcher's work, not the program's, and are subtracted from what wait4 says.
    before_exec: libc::rusage,
}

/// What the child needs, prepared before it exists: it only makes system calls on these.
struct ChildPlan<'a> {
    launcher: libc::pid_t,
    program: &'a CString,
    argv: &'a [*const c_char],
    handoff: *mut Handoff,
    held: &'a libc::sigset_t,
}

/// Starts, waits and measures; returns the last report, or an exit code and message.
fn run(parent: libc::pid_t, argv: &[CString], report_fd: c_int) -> Result<Report, Failure> {
    tie_to_parent(parent)?;
    let program = resolve_program(&argv[0]);
    let mut argv_ptrs: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(core::ptr::null());
    let stack = ChildStack::new().map_err(|errno| (EXIT_USAGE, alloc::format!("mmap: {}", describe_errno(errno))))?;
    // SAFETY: rusage is plain data.
    let mut handoff = Handoff { t0_ns: 0, carried_hwm_kib: 0, exec_errno: 0, before_exec: unsafe { core::mem::zeroed() } };

    // The handler must see the child's pid before it can act: hold its signals until then.
    let held = block_termination_signals();
    // SAFETY: getpid has no preconditions.
    let launcher = unsafe { libc::getpid() };
    let mut plan = ChildPlan { launcher, program: &program, argv: &argv_ptrs, handoff: &mut handoff, held: &held };
    // SAFETY: posix_spawn's way: the child shares this (single-threaded) process's memory, on a
    // stack of its own, and this process is suspended until the child's exec or exit
    // (CLONE_VFORK), so nothing here changes under it. The child only makes system calls on the
    // plan, writes the handoff, then execs or exits.
    let pid = unsafe {
        libc::clone(child_main, stack.top(), libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD, (&mut plan as *mut ChildPlan).cast())
    };
    let spawned_ns = monotonic_ns();
    if pid < 0 {
        let errno = errno();
        restore_signal_mask(&held);
        return Ok(Report::SpawnFailed { errno: if errno == 0 { libc::EAGAIN } else { errno } });
    }
    drop(stack);
    // SAFETY: the child has exec'd or exited: nothing writes the handoff any more.
    let Handoff { t0_ns, carried_hwm_kib, exec_errno, before_exec } = unsafe { core::ptr::read_volatile(&handoff) };
    if exec_errno != 0 {
        restore_signal_mask(&held);
        let _ = wait_for(pid);
        return Ok(Report::SpawnFailed { errno: exec_errno });
    }
    CHILD.store(pid, Ordering::Release);
    restore_signal_mask(&held);
    let started = Started { pid, t0_ns, spawn_ns: spawned_ns.saturating_sub(t0_ns), carried_hwm_kib };
    // A failed write means the orchestrator is gone: then the child goes too.
    if !write_all(report_fd, format_line(format_args!("{}", Report::Started(started))).as_bytes()) {
        kill_child_group();
        return Err((EXIT_PARENT_GONE, "the report socket is closed".into()));
    }

    let (status, usage) = wait_for(pid).map_err(|errno| {
        kill_child_group();
        (EXIT_USAGE, alloc::format!("wait4 on pid {pid}: {}", describe_errno(errno)))
    })?;
    let wall_ns = monotonic_ns().saturating_sub(t0_ns);
    CHILD.store(0, Ordering::Release);
    // What the child spent before its execve was the launcher's doing: only the program's own.
    let own = |after: libc::c_long, before: libc::c_long| after.saturating_sub(before).max(0) as u64;
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

extern "C" fn child_main(plan: *mut c_void) -> c_int {
    // SAFETY: the plan lives in the launcher's frame, which is suspended until this child execs.
    unsafe {
        let plan = &*(plan as *const ChildPlan);
        exec_child(plan.launcher, plan.program, plan.argv, plan.handoff, plan.held)
    }
}

/// The child, between the clone and its exec: its own process group, tied to the launcher's life,
/// signals as a fresh process has them; then the clock, then execve.
///
/// Only libc calls, kept together. Whatever the last steps touch is touched once beforehand (an
/// execve of an empty path fails at once), so the high-water mark read just before the clock is
/// the one the exec carries over: the launcher's own, since the two share their memory.
unsafe fn exec_child(launcher: libc::pid_t, program: &CString, argv: &[*const c_char], handoff: *mut Handoff, held: &libc::sigset_t) -> ! {
    libc::setpgid(0, 0);
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    if libc::getppid() != launcher {
        libc::_exit(EXIT_PARENT_GONE);
    }
    // The launcher's handlers and its ignored SIGPIPE are its own (an ignored signal stays ignored
    // across exec): a signal before the exec acts as on a fresh process. The child has a copy of
    // the handler table (no CLONE_SIGHAND).
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGPIPE] {
        libc::signal(signal, libc::SIG_DFL);
    }
    libc::sigprocmask(libc::SIG_SETMASK, held, core::ptr::null_mut());
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
/// regular file of that name in PATH (the name itself when there is none, so execve reports
/// ENOENT).
fn resolve_program(program: &CString) -> CString {
    let name = program.as_bytes();
    if name.contains(&b'/') {
        return program.clone();
    }
    // SAFETY: getenv returns a NUL-terminated string or null; nothing in this process sets the
    // environment.
    let path = unsafe { libc::getenv(c"PATH".as_ptr()) };
    let path = if path.is_null() { b"/usr/local/bin:/usr/bin:/bin".as_slice() } else { unsafe { CStr::from_ptr(path) }.to_bytes() };
    for dir in path.split(|&b| b == b':') {
        // An empty entry is the working directory, as for execvp.
        let dir = if dir.is_empty() { b".".as_slice() } else { dir };
        let mut candidate = Vec::with_capacity(dir.len() + 1 + name.len());
        candidate.extend_from_slice(dir);
        candidate.push(b'/');
        candidate.extend_from_slice(name);
        let Ok(candidate) = CString::new(candidate) else { continue };
        // SAFETY: a NUL-terminated path; stat writes into plain data.
        let is_executable_file = unsafe {
            let mut meta: libc::stat = core::mem::zeroed();
            libc::access(candidate.as_ptr(), libc::X_OK) == 0
                && libc::stat(candidate.as_ptr(), &mut meta) == 0
                && meta.st_mode & libc::S_IFMT == libc::S_IFREG
        };
        if is_executable_file {
            return candidate;
        }
    }
    program.clone()
}

/// The child's stack: an anonymous mapping, of which it touches a few pages.
struct ChildStack(*mut c_void);

impl ChildStack {
    fn new() -> Result<Self, c_int> {
        // SAFETY: an anonymous private mapping, zero-filled by the kernel on first touch.
        let stack = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                CHILD_STACK_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if stack == libc::MAP_FAILED {
            return Err(errno());
        }
        Ok(ChildStack(stack))
    }

    /// The top of the stack (it grows down), 16-byte aligned as the ABI wants.
    fn top(&self) -> *mut c_void {
        // SAFETY: one past the end of the mapping, which is page-aligned.
        unsafe { self.0.cast::<u8>().add(CHILD_STACK_BYTES).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new(), no longer used once the child has exec'd or exited.
        unsafe { libc::munmap(self.0, CHILD_STACK_BYTES) };
    }
}

/// SIGTERM when the parent dies, and a handler that takes the child's process group down with us.
fn tie_to_parent(parent: libc::pid_t) -> Result<(), Failure> {
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        // SAFETY: the handler only makes async-signal-safe calls (kill, _exit).
        unsafe { libc::signal(signal, on_termination as *const () as libc::sighandler_t) };
    }
    // SAFETY: prctl(PR_SET_PDEATHSIG) sets a flag on this process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) };
    // The parent may have died before the flag was set: then no signal will ever come.
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } != parent {
        return Err((EXIT_PARENT_GONE, alloc::format!("the orchestrator (pid {parent}) is gone")));
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
        // SAFETY: kill is async-signal-safe; the group is the child's own (it calls setpgid(0, 0) before its exec).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

fn block_termination_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = core::mem::zeroed();
        let mut old: libc::sigset_t = core::mem::zeroed();
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
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, old, core::ptr::null_mut()) };
}

/// Waits until the child has ended. A job-control stop (SIGSTOP, SIGTSTP, …) is undone at once
/// with SIGCONT to its group: a stopped child measures nothing, and the wall clock runs on.
fn wait_for(pid: libc::pid_t) -> Result<(c_int, libc::rusage), c_int> {
    loop {
        let mut status: c_int = 0;
        // SAFETY: rusage is plain data; wait4 writes only the status and the rusage.
        let mut usage: libc::rusage = unsafe { core::mem::zeroed() };
        if unsafe { libc::wait4(pid, &mut status, libc::WUNTRACED, &mut usage) } == pid {
            if libc::WIFSTOPPED(status) {
                // SAFETY: signals the child's own process group.
                unsafe { libc::kill(-pid, libc::SIGCONT) };
                continue;
            }
            return Ok((status, usage));
        }
        if errno() != libc::EINTR {
            return Err(errno());
        }
    }
}

fn timeval_us(tv: libc::timeval) -> u64 {
    (tv.tv_sec.max(0) as u64) * 1_000_000 + tv.tv_usec.max(0) as u64
}
