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
