//! Every raw libc call of the measurement engine, each behind a small safe function, so that the
//! `unsafe` blocks and their SAFETY arguments sit in one file.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

/// Why a list of CPUs cannot be pinned to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CpuSetError {
    #[error("the list of CPUs to pin to is empty")]
    Empty,
    #[error("cannot read this process's CPU affinity: {0}")]
    Unreadable(io::Error),
    #[error("CPU {cpu} is not available to this process (it may use {})", cpu_ranges(allowed))]
    Unavailable { cpu: usize, allowed: Vec<usize> },
}

/// Checks `cpus` against the CPUs this process may use, so that a bad list is reported by name
/// before the launcher (which pins itself to the list) is started.
pub(crate) fn check_cpus(cpus: &[usize]) -> Result<(), CpuSetError> {
    if cpus.is_empty() {
        return Err(CpuSetError::Empty);
    }
    let allowed = allowed_cpus().map_err(CpuSetError::Unreadable)?;
    match cpus.iter().find(|cpu| !allowed.contains(cpu)) {
        Some(&cpu) => Err(CpuSetError::Unavailable { cpu, allowed }),
        None => Ok(()),
    }
}

/// The CPUs this process may run on (its affinity), ascending.
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes at most its size; CPU_ISSET only
    // reads the set, with indices below CPU_SETSIZE.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((0..libc::CPU_SETSIZE as usize).filter(|&cpu| libc::CPU_ISSET(cpu, &allowed)).collect())
    }
}

/// `cpus` (ascending) as a person writes them: runs of three or more as ranges, "0–3, 6, 8, 9".
pub(crate) fn cpu_ranges(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = cpus;
    while let Some(&first) = rest.first() {
        let run = rest.iter().enumerate().take_while(|&(i, &cpu)| cpu == first + i).count();
        match run {
            1 => parts.push(first.to_string()),
            2 => parts.extend([first.to_string(), (first + 1).to_string()]),
            _ => parts.push(format!("{first}–{}", first + run - 1)),
        }
        rest = &rest[run..];
    }
    parts.join(", ")
}

/// Sets the capacity of the pipe behind `fd`; failure only leaves the default size.
pub(crate) fn set_pipe_size(fd: &impl AsRawFd, bytes: libc::c_int) {
    // SAFETY: fcntl on a pipe this process owns.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, bytes) };
}

/// Makes this process a child subreaper (once; later calls do nothing).
pub(crate) fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) only sets a flag on this process. Failure is
        // tolerated: orphans then go to init, and the clean-up only waits for them to vanish.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong)
        };
    });
}

/// Sends `signal` to the process group `group`; false when the group no longer exists.
pub(crate) fn signal_group(group: libc::pid_t, signal: libc::c_int) -> bool {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(-group, signal) == 0 }
}

/// Reaps every dead member of the process group `group` that is a child of this process, without
/// waiting.
pub(crate) fn reap_dead_of_group(group: libc::pid_t) {
    let mut status: libc::c_int = 0;
    // SAFETY: waitpid only writes the status. Only members of this group are waited for.
    while unsafe { libc::waitpid(-group, &mut status, libc::WNOHANG | libc::__WALL) } > 0 {}
}

/// A file descriptor for the process `pid` (pidfd_open, Linux 5.3), immune to pid reuse.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes two integers; on success the result is a new descriptor we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = libc::c_int::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: fd was just returned by the kernel and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Waits until `fd` is readable (a pidfd: its process has ended) or `timeout` has passed (in
/// [`poll`]'s whole milliseconds, rounded up), through interruptions; false when the time ran out
/// or the wait failed.
pub(crate) fn wait_readable(fd: &OwnedFd, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let left_ms = libc::c_int::try_from(left.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX);
        let mut fds = [libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        match poll(&mut fds, left_ms) {
            Ok(ready) => return ready > 0,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// Sends `signal` to the process behind `pidfd`; false when it no longer exists.
pub(crate) fn pidfd_signal(pidfd: &OwnedFd, signal: libc::c_int) -> bool {
    // SAFETY: pidfd_send_signal with a null siginfo reads nothing of ours.
    unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), signal, std::ptr::null::<libc::siginfo_t>(), 0) == 0 }
}

/// Reaps the process behind `pidfd` if it is a dead child of this process.
pub(crate) fn reap_if_ours(pidfd: &OwnedFd) -> bool {
    // SAFETY: siginfo_t is plain data; waitid writes one into the buffer we own.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let options = libc::WEXITED | libc::WNOHANG | libc::__WALL;
    // SAFETY: as above; the pidfd is valid for the duration of the call.
    let reaped = unsafe { libc::waitid(libc::P_PIDFD, pidfd.as_raw_fd() as libc::id_t, &mut info, options) } == 0;
    // SAFETY: after a successful waitid the siginfo holds SIGCHLD fields (si_pid 0: not yet dead).
    reaped && unsafe { info.si_pid() } != 0
}

/// Waits up to `timeout_ms` for one of `fds` to be ready; the number ready.
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: poll reads and writes only the pollfd array we own, of the length given.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    usize::try_from(ready).map_err(|_| io::Error::last_os_error())
}

/// The kernel's CPU clock of the whole process `pid` (all threads, exited ones included).
pub(crate) fn process_cpu_clock(pid: libc::pid_t) -> Option<libc::clockid_t> {
    let mut cpu_clock: libc::clockid_t = 0;
    // SAFETY: clock_getcpuclockid only writes the clock id.
    (unsafe { libc::clock_getcpuclockid(pid, &mut cpu_clock) } == 0).then_some(cpu_clock)
}

/// The reading of `clock`, in nanoseconds.
pub(crate) fn clock_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    Some(u64::try_from(ts.tv_sec).ok()?.saturating_mul(1_000_000_000).saturating_add(u64::try_from(ts.tv_nsec).ok()?))
}

/// CPU time used so far by the calling thread.
pub(crate) fn thread_cpu_seconds() -> f64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID).map_or(0.0, |ns| ns as f64 * 1e-9)
}

pub(crate) fn page_size() -> u64 {
    static PAGE_SIZE: OnceLock<u64> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE_SIZE.get_or_init(|| u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096))
}

pub(crate) fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *TICKS.get_or_init(|| u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok().filter(|&t| t > 0).unwrap_or(100))
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::*;

    fn pidfd_of(child: &std::process::Child) -> OwnedFd {
        pidfd_open(libc::pid_t::try_from(child.id()).expect("a pid")).expect("pidfd_open (Linux 5.3)")
    }

    #[test]
    fn a_pidfd_is_readable_once_its_process_has_ended_and_not_before() {
        let mut alive = Command::new("/bin/sleep").arg("30").stdin(Stdio::null()).spawn().expect("sleep starts");
        let alive_fd = pidfd_of(&alive);
        assert!(!wait_readable(&alive_fd, Duration::from_millis(20)), "a sleeping process has not ended");
        alive.kill().expect("kill");
        assert!(wait_readable(&alive_fd, Duration::from_secs(10)), "a killed process has ended");
        alive.wait().expect("reaped");

        let mut done = Command::new("/bin/true").stdin(Stdio::null()).spawn().expect("true starts");
        let done_fd = pidfd_of(&done);
        // Unreaped (a zombie) or not, its end is there to be seen.
        assert!(wait_readable(&done_fd, Duration::from_secs(10)));
        done.wait().expect("reaped");
        assert!(wait_readable(&done_fd, Duration::from_millis(1)), "and stays readable once reaped");
    }

    #[test]
    fn cpu_lists_are_written_as_runs() {
        assert_eq!(cpu_ranges(&[]), "");
        assert_eq!(cpu_ranges(&[0]), "0");
        assert_eq!(cpu_ranges(&[0, 1]), "0, 1");
        assert_eq!(cpu_ranges(&[0, 1, 2, 3]), "0–3");
        assert_eq!(cpu_ranges(&[0, 1, 2, 3, 6, 8, 9, 12, 13, 14]), "0–3, 6, 8, 9, 12–14");
    }

    #[test]
    fn a_cpu_outside_the_affinity_is_refused_with_the_ones_allowed() {
        let allowed = allowed_cpus().expect("affinity readable");
        let outside = (0..).find(|cpu| !allowed.contains(cpu)).expect("some CPU number is outside");
        let error = check_cpus(&[outside]).expect_err("refused").to_string();
        assert_eq!(error, format!("CPU {outside} is not available to this process (it may use {})", cpu_ranges(&allowed)));
        assert!(matches!(check_cpus(&[]), Err(CpuSetError::Empty)));
        assert!(check_cpus(&allowed).is_ok());
    }
}
