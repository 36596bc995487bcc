//! Printing that never panics: a reader that went away (`| head`, a closed terminal) loses the
//! lines, never the run (println!/eprintln! panic on EPIPE). SIGPIPE is ignored by Rust
//! programs, so a write to a closed pipe returns EPIPE rather than killing the process.

use std::io::Write;

/// One line on stderr; write errors are ignored.
pub(crate) fn errln(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{args}");
}

/// `print!` that ignores write errors.
macro_rules! out {
    ($($arg:tt)*) => {{ use std::io::Write as _; let _ = write!(std::io::stdout(), $($arg)*); }};
}
/// `println!` that ignores write errors.
macro_rules! outln {
    ($($arg:tt)*) => {{ use std::io::Write as _; let _ = writeln!(std::io::stdout(), $($arg)*); }};
}
/// `eprintln!` that ignores write errors.
macro_rules! errln {
    ($($arg:tt)*) => {{ use std::io::Write as _; let _ = writeln!(std::io::stderr(), $($arg)*); }};
}

/// A long task's progress on stderr, said only when it takes long: nothing for its first
/// [`Progress::QUIET`], then a line at most every [`Progress::EVERY`] ("statistics: 1234 of
/// 5678 point-implementations (21%), 12 s so far…"). Safe to advance from several threads.
pub(crate) struct Progress {
    what: &'static str,
    unit: &'static str,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    started: std::time::Instant,
    /// When the last line was written, if one was.
    said: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Progress {
    /// How long a task goes without a word.
    pub(crate) const QUIET: std::time::Duration = std::time::Duration::from_secs(2);
    /// The least time between two lines.
    pub(crate) const EVERY: std::time::Duration = std::time::Duration::from_secs(5);

    pub(crate) fn new(what: &'static str, total: usize, unit: &'static str) -> Progress {
        Progress {
            what,
            unit,
            total,
            done: std::sync::atomic::AtomicUsize::new(0),
            started: std::time::Instant::now(),
            said: std::sync::Mutex::new(None),
        }
    }

    /// One more of the total is done.
    pub(crate) fn advance(&self) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let elapsed = self.started.elapsed();
        if elapsed < Self::QUIET {
            return;
        }
        let Ok(mut said) = self.said.try_lock() else { return };
        if said.is_some_and(|at| at.elapsed() < Self::EVERY) {
            return;
        }
        *said = Some(std::time::Instant::now());
        let percent = done as f64 * 100.0 / self.total.max(1) as f64;
        errln(format_args!(
            "{}: {done} of {} {} ({percent:.0}%), {:.0} s so far…",
            self.what,
            self.total,
            self.unit,
            elapsed.as_secs_f64()
        ));
    }
}
