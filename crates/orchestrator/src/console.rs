//! Printing that never panics and never lets text drive the terminal. A reader that went away
//! (`| head`, a closed terminal) loses the lines, never the run (println!/eprintln! panic on
//! EPIPE; SIGPIPE is ignored by Rust programs, so a write to a closed pipe returns EPIPE rather
//! than killing the process). And whatever the tool prints may hold text from outside — a
//! child's output, a value from a scenario or a data file, a field of a run directory someone
//! sent — so every line goes through [`terminal_text`] on its way out: an escape sequence in a
//! child's error cannot recolour, retitle or rewrite the terminal, nor a carriage return overwrite
//! the line before it.

use std::borrow::Cow;
use std::io::Write;

/// One line on stderr; write errors are ignored.
pub(crate) fn errln(args: std::fmt::Arguments<'_>) {
    write_to(&mut std::io::stderr(), args, true);
}

/// `args` formatted, made [`terminal_text`] and written to `to` in one write (with a newline if
/// `line`); write errors are ignored.
pub(crate) fn write_to(to: &mut dyn Write, args: std::fmt::Arguments<'_>, line: bool) {
    let text = std::fmt::format(args);
    let mut text = terminal_text(&text).into_owned();
    if line {
        text.push('\n');
    }
    let _ = to.write_all(text.as_bytes());
}

/// `text` with every character that would act on a terminal rather than show written as its
/// escape (`\u{1b}`): control characters but the newline and the tab (ESC, which starts colour,
/// title and cursor sequences; the carriage return and the backspace, which let text overwrite
/// what precedes it; the C1 controls, U+0080–U+009F, which some terminals read as ESC and a
/// letter), the bidirectional controls ([`reorders_text`]), which reorder what follows on the line,
/// and the line and paragraph separators (U+2028, U+2029). Borrowed where nothing needs escaping,
/// as nearly always.
pub(crate) fn terminal_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if acts_on_terminal(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || reorders_text(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates
/// (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C), which could make a figure or a name
/// read backwards; shown escaped on the terminal and as U+FFFD in the reports.
pub(crate) fn reorders_text(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `print!` that ignores write errors, its text made [`terminal_text`].
macro_rules! out {
    ($($arg:tt)*) => {{ $crate::console::write_to(&mut std::io::stdout(), format_args!($($arg)*), false); }};
}
/// `println!` that ignores write errors, its text made [`terminal_text`].
macro_rules! outln {
    ($($arg:tt)*) => {{ $crate::console::write_to(&mut std::io::stdout(), format_args!($($arg)*), true); }};
}
/// `eprintln!` that ignores write errors, its text made [`terminal_text`].
macro_rules! errln {
    ($($arg:tt)*) => {{ $crate::console::write_to(&mut std::io::stderr(), format_args!($($arg)*), true); }};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_would_drive_a_terminal_is_shown_escaped_and_the_rest_untouched() {
        let plain = "rust-simd · 10⁶ points\tok: w = 2.0\nnext line";
        assert!(matches!(terminal_text(plain), Cow::Borrowed(_)), "nothing to escape, nothing copied");
        // A title (OSC), a colour (CSI), an overwrite, a C1 CSI and a right-to-left override.
        let hostile = "a\u{1b}]0;PWNED\u{7}\u{1b}[41mRED\rb\u{8}\u{9b}31m\u{202E}exe.gnp\u{2066}!\u{200F}\u{2028}";
        let shown = terminal_text(hostile);
        assert_eq!(shown, "a\\u{1b}]0;PWNED\\u{7}\\u{1b}[41mRED\\u{d}b\\u{8}\\u{9b}31m\\u{202e}exe.gnp\\u{2066}!\\u{200f}\\u{2028}");
        assert!(!shown.chars().any(acts_on_terminal));
        let mut written = Vec::new();
        write_to(&mut written, format_args!("child said: {hostile}"), true);
        assert_eq!(String::from_utf8(written).unwrap(), format!("child said: {shown}\n"));
    }
}
