//! Availability checks, made before anything runs: the program of each implementation must exist,
//! and its `check` command must exit 0 within its time, run in a process group killed with
//! everything it started. An implementation that fails them but has a `prepare` command is
//! pending: [`prepare`] runs that command later in the run, then the check again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::context::{global_values, PlanContext};
use super::{ImplementationPlan, Pending};
use crate::measure::CancelToken;
use crate::scenario::{self, ImplementationSpec};

/// How long an availability check may take unless its implementation says otherwise.
const DEFAULT_CHECK_TIMEOUT_SECONDS: f64 = 60.0;

/// The most of a check's stderr kept (its last line is quoted when it fails).
const CHECK_STDERR_BYTES: u64 = 64 << 10;

/// Longest command shown in a "checking …" line or an error, in characters.
const SHOWN_COMMAND_CHARS: usize = 80;

/// A check's command as a user reads it: whole when short; otherwise the program by its file name
/// (where the project lies decides how long its directory is, not which check this is), and an
/// inline script cut with "…" (its start says which check it was).
fn shown_command(argv: &[String]) -> String {
    let whole = argv.join(" ");
    if whole.chars().count() <= SHOWN_COMMAND_CHARS {
        return whole;
    }
    let mut parts: Vec<String> = argv.to_vec();
    if let Some(program) = parts.first_mut() {
        if let Some(name) = Path::new(program.as_str()).file_name().filter(|_| program.contains('/')) {
            *program = format!("…/{}", name.to_string_lossy());
        }
    }
    let command = parts.join(" ");
    let mut shown: String = command.chars().take(SHOWN_COMMAND_CHARS).collect();
    if shown.chars().count() < command.chars().count() {
        shown.push('…');
    }
    shown
}

/// How long a prepare command may take unless its implementation says otherwise.
const DEFAULT_PREPARE_TIMEOUT_SECONDS: f64 = 1800.0;

/// None when the implementation can run; otherwise what is missing and how to fix it.
pub(super) fn check_available(resolved: &ImplementationPlan, spec: &ImplementationSpec, ctx: &PlanContext) -> Option<String> {
    let (check, timeout_seconds) = check_of(spec, ctx);
    availability(resolved, check.as_deref(), timeout_seconds, spec.hint.as_deref(), &ctx.root, &ctx.cancel)
}

/// The implementation's check command, placeholders filled, and how long it may take.
fn check_of(spec: &ImplementationSpec, ctx: &PlanContext) -> (Option<Vec<String>>, f64) {
    let timeout_seconds = spec.check_timeout_seconds.as_ref().map_or(DEFAULT_CHECK_TIMEOUT_SECONDS, |t| t.value);
    (filled(spec.check.as_ref().map(|c| &c.value), ctx), timeout_seconds)
}

/// What [`prepare`] needs to make an unavailable implementation available later in the run, when
/// its catalogue entry has a `prepare` command.
pub(super) fn pending(why: String, spec: &ImplementationSpec, key: String, ctx: &PlanContext) -> Option<Pending> {
    let prepare = filled(spec.prepare.as_ref().map(|c| &c.value), ctx)?;
    let (check, check_timeout_seconds) = check_of(spec, ctx);
    Some(Pending {
        why,
        prepare,
        prepare_timeout_seconds: spec.prepare_timeout_seconds.as_ref().map_or(DEFAULT_PREPARE_TIMEOUT_SECONDS, |t| t.value),
        check,
        check_timeout_seconds,
        hint: spec.hint.clone(),
        key,
    })
}

/// An argv template with the run's placeholders ({python}, {root}, {bin_dir}) filled.
fn filled(template: Option<&Vec<serde_saphyr::Spanned<String>>>, ctx: &PlanContext) -> Option<Vec<String>> {
    let globals = global_values(ctx);
    template.map(|argv| argv.iter().map(|a| scenario::fill_partial(&a.value, &globals)).collect())
}

/// Runs a pending implementation's prepare command (its output shown on stderr, its time
/// limited), then checks it again: None when it can run now, otherwise why not.
pub(crate) fn prepare(implementation: &ImplementationPlan, pending: &Pending, root: &Path, cancel: &CancelToken) -> Option<String> {
    let shown = shown_command(&pending.prepare);
    let timeout_seconds = pending.prepare_timeout_seconds;
    let why = match run_command(&pending.prepare, &BTreeMap::new(), root, cancel, Duration::from_secs_f64(timeout_seconds), Output::Shown) {
        CheckEnd::Exited(status, _) if status.success() => {
            return availability(
                implementation,
                pending.check.as_deref(),
                pending.check_timeout_seconds,
                pending.hint.as_deref(),
                root,
                cancel,
            )
            .map(|why| format!("still unavailable after `{shown}`: {why}"));
        }
        CheckEnd::Exited(status, _) => format!("`{shown}` failed ({status}; its output is in the run's log)"),
        CheckEnd::TimedOut => format!("`{shown}` did not finish within {timeout_seconds} s (prepare_timeout_seconds): killed"),
        CheckEnd::Cancelled => format!("`{shown}` was interrupted"),
        CheckEnd::CouldNotStart(e) => format!("`{shown}` could not start: {e}"),
    };
    Some(format!("{why}; before it, {}", pending.why))
}

/// None when `implementation`'s program exists and its check (if any) exits 0 in time.
fn availability(
    implementation: &ImplementationPlan,
    check: Option<&[String]>,
    timeout_seconds: f64,
    hint: Option<&str>,
    root: &Path,
    cancel: &CancelToken,
) -> Option<String> {
    let hint = hint.map(|h| format!(" — {h}")).unwrap_or_default();
    let program = implementation.command.first()?;
    if let Err(why) = find_program(program, root) {
        return Some(format!("{why}{hint}"));
    }
    let argv = check?;
    let shown = shown_command(argv);
    errln!("checking {} (`{shown}`)…", implementation.name);
    match run_command(argv, &implementation.env, root, cancel, Duration::from_secs_f64(timeout_seconds), Output::Captured) {
        CheckEnd::Exited(status, _) if status.success() => None,
        CheckEnd::Exited(status, stderr) => {
            let stderr = String::from_utf8_lossy(&stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            Some(format!("availability check `{shown}` failed ({status}): {last}{hint}"))
        }
        CheckEnd::TimedOut => {
            Some(format!("availability check `{shown}` did not finish within {timeout_seconds} s (check_timeout_seconds): killed{hint}"))
        }
        CheckEnd::Cancelled => Some(format!("availability check `{shown}` was interrupted")),
        CheckEnd::CouldNotStart(e) => Some(format!("availability check `{shown}` could not start: {e}{hint}")),
    }
}

/// Where a command's output goes: a check's stderr is kept (its last line says why it failed),
/// its stdout dropped; a prepare command's both go to the orchestrator's stderr, for the user
/// to follow (stdout stays the orchestrator's own).
#[derive(Clone, Copy)]
enum Output {
    Captured,
    Shown,
}

enum CheckEnd {
    /// With the start of its stderr.
    Exited(std::process::ExitStatus, Vec<u8>),
    TimedOut,
    Cancelled,
    CouldNotStart(std::io::Error),
}

/// Runs a check or a prepare command in a process group of its own, killed with everything it
/// started when it ends, times out or the run is interrupted: a command that hangs must not hang
/// the orchestrator.
fn run_command(
    argv: &[String],
    env: &BTreeMap<String, String>,
    root: &Path,
    cancel: &CancelToken,
    timeout: Duration,
    output: Output,
) -> CheckEnd {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let Some((program, args)) = argv.split_first() else { return CheckEnd::CouldNotStart(std::io::ErrorKind::InvalidInput.into()) };
    let (stdout, stderr) = match output {
        Output::Captured => (Stdio::null(), Stdio::piped()),
        Output::Shown => (Stdio::from(std::io::stderr()), Stdio::inherit()),
    };
    let spawned = Command::new(program)
        .args(args)
        .current_dir(root)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return CheckEnd::CouldNotStart(e),
    };
    // Read on a thread of its own, so a check writing much never blocks; the rest is drained.
    let (sender, receiver) = std::sync::mpsc::channel();
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let _ = stderr.by_ref().take(CHECK_STDERR_BYTES).read_to_end(&mut kept);
            let _ = sender.send(kept);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
    }
    let deadline = Instant::now() + timeout;
    let ended = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if cancel.is_cancelled() || Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // The group is killed in every case: nothing a check started outlives it. Its id stays
    // reserved while any member lives, so this never reaches another process.
    if let Ok(group) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    let _ = child.wait();
    match ended {
        Some(status) => CheckEnd::Exited(status, receiver.recv_timeout(Duration::from_millis(250)).unwrap_or_default()),
        None if cancel.is_cancelled() => CheckEnd::Cancelled,
        None => CheckEnd::TimedOut,
    }
}

/// Why the program of a command cannot be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProgramNotFound {
    #[error("{} not found or not executable", .0.display())]
    NotExecutable(PathBuf),
    #[error("'{0}' not found on PATH")]
    NotOnPath(String),
}

/// A program given with a '/' must exist (relative to the root); a bare name must be on PATH.
fn find_program(program: &str, root: &Path) -> Result<PathBuf, ProgramNotFound> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false);
    if program.contains('/') {
        let path = root.join(program);
        return if executable(&path) { Ok(path) } else { Err(ProgramNotFound::NotExecutable(path)) };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
        .ok_or_else(|| ProgramNotFound::NotOnPath(program.to_string()))
}

#[cfg(test)]
mod tests {
    use super::shown_command;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_short_check_is_shown_whole() {
        assert_eq!(shown_command(&argv(&["/bin/check", "--quick"])), "/bin/check --quick");
    }

    #[test]
    fn a_long_project_path_does_not_hide_the_checks_arguments() {
        // A checkout under /var/tmp/ci-local.XXXXXX/… once cut the arguments off the line.
        let deep = format!("/var/tmp/ci-local.Ab12Cd/{}/target/debug/fixture-child", "project/sub".repeat(6));
        let shown = shown_command(&argv(&[&deep, "spawn-wait", "sleep", "30.0721"]));
        assert_eq!(shown, "…/fixture-child spawn-wait sleep 30.0721");
    }

    #[test]
    fn a_long_inline_script_is_cut_with_an_ellipsis() {
        let script = "import numpy; ".repeat(20);
        let shown = shown_command(&argv(&["/usr/bin/python3", "-c", &script]));
        assert_eq!(shown.chars().count(), 81, "{shown}");
        assert!(shown.starts_with("…/python3 -c import numpy;") && shown.ends_with('…'), "{shown}");
    }
}
