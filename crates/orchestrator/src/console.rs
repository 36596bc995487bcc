//! Printing that never panics: a reader that went away (`| head`, a closed terminal) loses the
//! lines, never the run (println!/eprintln! panic on EPIPE).

use std::io::Write;

/// One line on stderr; write errors are ignored.
pub fn errln(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{args}");
}
