//! Starting a run through the launcher binary (crates/launcher): where it is, its command line,
//! reading its reports (the child started, the child exited) and saying why a run has no figures
//! when it reported something else.

use std::io::{self, BufRead};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use launcher::Report;

use super::command::ChildCommand;

/// The environment variable naming the launcher binary, overriding the search next to this
/// executable.
const LAUNCHER_ENV: &str = "ORCHESTRATOR_LAUNCHER";

/// Why the launcher binary cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum LauncherError {
    #[error("{}={} is not a file", LAUNCHER_ENV, .0.display())]
    NotAFile(PathBuf),
    #[error("cannot locate this executable to find the launcher: {0}")]
    NoExecutable(Arc<io::Error>),
    #[error("the launcher binary that starts every measured run is missing (looked for launcher-static and launcher in {}): build it with `make build`", .0.display())]
    Missing(PathBuf),
}

/// Where the launcher is: `$ORCHESTRATOR_LAUNCHER`, else `launcher-static` (what `make build`
/// installs) or `launcher` next to this executable or in its parent directory (where cargo puts
/// binaries for test executables in `deps/`). Looked up once.
pub(crate) fn launcher_path() -> Result<&'static Path, LauncherError> {
    static FOUND: OnceLock<Result<PathBuf, LauncherError>> = OnceLock::new();
    FOUND.get_or_init(find_launcher).as_ref().map(PathBuf::as_path).map_err(Clone::clone)
}

fn find_launcher() -> Result<PathBuf, LauncherError> {
    if let Some(path) = std::env::var_os(LAUNCHER_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(LauncherError::NotAFile(path)) };
    }
    let exe = std::env::current_exe().map_err(|e| LauncherError::NoExecutable(Arc::new(e)))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates: Vec<PathBuf> =
        [Some(dir), dir.parent()].into_iter().flatten().flat_map(|d| ["launcher-static", "launcher"].map(|name| d.join(name))).collect();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| LauncherError::Missing(dir.to_path_buf()))
}

/// The launcher's command for `cmd`: it is told this process's pid and the CPUs to pin itself (and
/// so the child) to, and gets its end of the report socket as its standard input, the command line
/// coming on it and the reports going back. No code runs between fork and exec, so the standard
/// library starts it with posix_spawn: the child shares this process's memory until its exec
/// instead of copying its page tables, which the exec would then tear down.
pub(crate) fn command(launcher: &Path, cmd: &ChildCommand, socket: UnixStream, cpus: Option<&[usize]>) -> Command {
    let mut command = Command::new(launcher);
    command.arg(std::process::id().to_string());
    if let Some(cpus) = cpus {
        command.arg(cpus.iter().map(usize::to_string).collect::<Vec<_>>().join(","));
    }
    command.envs(&cmd.env).current_dir(&cmd.cwd);
    // The launcher has a process group of its own, so a Ctrl-C at the terminal reaches only the
    // orchestrator, which then stops the run in order.
    command.stdin(Stdio::from(OwnedFd::from(socket))).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    command
}

/// The command line as the launcher reads it on its standard input: each argument ended by a NUL.
pub(crate) fn command_line(argv: &[String]) -> Vec<u8> {
    argv.iter().flat_map(|a| a.bytes().chain([0])).collect()
}

/// The next report line; None at end of file or for a line that is not a report.
pub(crate) fn read_report(reports: &mut impl BufRead) -> Option<Report> {
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

/// How the launcher itself ended, when that was not a normal exit.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LauncherFailed {
    #[error("the launcher (pid {pid}) {}", describe_exit(*.status))]
    Ended { pid: u32, status: ExitStatus },
    #[error("cannot wait for the launcher (pid {pid}): {error}")]
    Unwaitable { pid: u32, error: io::Error },
}

/// Waits for the launcher itself; says how it ended when that was not a normal exit.
pub(crate) fn reap(launcher: &mut Child) -> Result<(), LauncherFailed> {
    match launcher.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(LauncherFailed::Ended { pid: launcher.id(), status }),
        Err(error) => Err(LauncherFailed::Unwaitable { pid: launcher.id(), error }),
    }
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => "ended".to_string(),
    }
}

/// Why the program never ran, from the launcher's first report.
pub(crate) fn not_started_reason(program: &str, cwd: &Path, first: Option<Report>, launcher_end: &Result<(), LauncherFailed>) -> String {
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
pub(crate) fn lost_reason(pid: libc::pid_t, last: Option<Report>, launcher_end: &Result<(), LauncherFailed>) -> String {
    let how = match (last, launcher_end) {
        (Some(Report::Error { message }), _) => format!("the launcher failed: {message}"),
        (_, Err(how)) => how.to_string(),
        (_, Ok(())) => "the launcher reported no end".to_string(),
    };
    format!("{how} while pid {pid} ran; it was killed, and its times and memory are lost")
}

/// The Instant of a CLOCK_MONOTONIC reading (std's Instant is that clock on Linux).
pub(crate) fn instant_of(monotonic_ns: u64) -> Instant {
    let now = Instant::now();
    let ago = launcher::monotonic_ns().saturating_sub(monotonic_ns);
    now.checked_sub(Duration::from_nanos(ago)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::*;

    /// The launcher as the runs use it (`make build`'s static one under `make test`).
    fn launcher() -> &'static Path {
        launcher_path().expect("the launcher binary (make build)")
    }

    #[test]
    fn a_launcher_whose_report_socket_is_closed_kills_the_child_and_exits_by_itself() {
        // Kept until the end: the child, were it left alive, would write into it.
        let dir = tempfile::Builder::new().prefix("launcher-epipe-").tempdir().unwrap();
        let alive = dir.path().join("alive");
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        let mut child =
            Command::new(launcher()).arg(std::process::id().to_string()).stdin(Stdio::from(OwnedFd::from(theirs))).spawn().unwrap();
        // A child that, left alive, leaves a file behind after a second.
        let script = format!("sleep 1; echo alive > {}", alive.display());
        ours.write_all(&command_line(&["sh".into(), "-c".into(), script])).unwrap();
        drop(ours);
        let status = child.wait().unwrap();
        // Its first report could not be written: it says so by its exit code (EXIT_PARENT_GONE),
        // not by dying of SIGPIPE, and it has killed what it started.
        assert_eq!((status.code(), status.signal()), (Some(3), None), "{status:?}");
        std::thread::sleep(Duration::from_secs(2));
        assert!(!alive.exists(), "the child outlived its launcher");
        dir.close().unwrap();
    }
}
