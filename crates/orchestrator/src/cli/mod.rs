//! The command line: `run`, `validate`, `report`, `merge`, `machines`, `compare` and `limit`, each wired
//! from its arguments to library calls in a file of its own (scenario → plan → execute → records
//! → report). Errors a user can cause end here as one message; this file alone turns outcomes
//! and errors into exit codes, and nothing already measured is lost on the way.

// First, so that its printing macros (out!, outln!, errln!) are in scope in every file below.

mod args;
mod between;
mod compare;
mod limit;
mod lock;
mod machines;
mod merge;
mod probe;
pub mod progress;
mod project;
mod report;
mod run;
mod signals;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use args::{Cli, Command};

/// Exit codes: 0 done, 1 a claim or comparison failed (--check, compare), 2 bad input or a
/// setup problem found before anything ran, 3 stopped after runs had started (the results could
/// not be written: a full disk), 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Plain text through the console's filter: an argument clap quotes back (`invalid
            // value '…'`) cannot drive the terminal, whatever was pasted into it.
            let text = e.render().to_string();
            if e.use_stderr() {
                errln!("{}", text.trim_end());
            } else {
                outln!("{}", text.trim_end());
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {}", error_text(&e));
            ExitCode::from(if e.downcast_ref::<StoppedPartWay>().is_some() { 3 } else { 2 })
        }
    }
}

/// The context of an error after the first run started (exit code 3): the results are
/// incomplete, unlike an error of exit code 2, found before anything ran.
#[derive(Debug)]
struct StoppedPartWay(PathBuf);

impl std::fmt::Display for StoppedPartWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped after runs had started ({} keeps what was written)", self.0.display())
    }
}

/// The error and its causes, each said once: a library error that shows its source in its own
/// message (a path and its I/O error) is not followed by that source again.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // Only `run` and `validate` read the project (its scenarios and catalogue).
    let root = |root: Option<PathBuf>| -> anyhow::Result<PathBuf> {
        let root = match root {
            Some(root) => root,
            None => project::find_root()?,
        };
        root.canonicalize().with_context(|| format!("project root {}", root.display()))
    };
    match cli.command {
        Command::Run(args) => run::run(&root(cli.root)?, args),
        Command::Validate { files } => validate::validate(&root(cli.root)?, files),
        Command::Report { run_dir, check } => report::report(&run_dir, check),
        Command::Merge(args) => merge::merge(&args),
        Command::Machines { runs, out, check } => machines::machines(&runs, &out, check),
        Command::Compare { old_run, new_run, threshold } => compare::compare(&old_run, &new_run, threshold),
        Command::Limit { points, kernel_loop, spells } => limit::limit(&points, kernel_loop, spells),
    }
}

/// What a command that rendered a report prints: what the records held that the report left out
/// (stderr), the short table and where the report is.
fn show_rendered(rendered: &crate::report::Rendered, run_dir: &std::path::Path) {
    for warning in &rendered.warnings {
        errln!("{warning}");
    }
    out!("{}", rendered.terminal_summary);
    outln!("report: {}", run_dir.join(crate::report::REPORT_MD).display());
}

/// --check fails when a claim did not hold, and when one could not be judged at all (an
/// implementation it names has no measurement): a claim nobody checked is not a claim that held.
fn check_exit(check: bool, rendered: &crate::report::Rendered) -> ExitCode {
    if !check || rendered.claims_not_held + rendered.claims_without_data == 0 {
        return ExitCode::SUCCESS;
    }
    if rendered.claims_not_held > 0 {
        errln!("--check: {} claim(s) did not hold (see the Claims section of the report)", rendered.claims_not_held);
    }
    if rendered.claims_without_data > 0 {
        errln!(
            "--check: {} claim(s) without data: an implementation they name has no figure there (no ok or diverged run, or, in a scenario of warm fits, no one-off process that ended ok; see the Claims section of the report and raw.csv)",
            rendered.claims_without_data
        );
    }
    ExitCode::from(1)
}

/// 1 when a claim did not hold on every machine (`machines --check`) or a comparison found a
/// regression (`compare`).
fn failure_exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
fn interrupted_exit(signal: i32) -> ExitCode {
    ExitCode::from(u8::try_from(128 + signal).unwrap_or(255))
}
