//! The child's output: both pipes read to end-of-file by a thread of their own, the first bytes of
//! each kept and the rest read and discarded, so the child never blocks on a full pipe.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::sys;

/// After the run, how long to wait for the output pipes to reach end-of-file (they stay open only
/// if a descendant escaped the process group and still holds them).
const OUTPUT_GRACE: Duration = Duration::from_millis(250);
const READ_CHUNK_BYTES: usize = 64 << 10;

/// The launcher's standard output and standard error, which its child inherits.
pub(crate) struct OutputPipes {
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// What was kept of one output stream.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

impl Captured {
    fn keep(&mut self, chunk: &[u8], max_bytes: usize) {
        let room = max_bytes.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.truncated |= chunk.len() > room;
    }
}

/// What was kept of both streams.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub stdout: Captured,
    pub stderr: Captured,
}

/// Reads both pipes until end-of-file, keeping the first `max_bytes` of each. Once `run_over` is
/// set, gives the pipes [`OUTPUT_GRACE`] more to close (a descendant that escaped the process group
/// could hold them open forever).
pub(crate) fn drain_output(pipes: OutputPipes, max_bytes: usize, run_over: &AtomicBool) -> Output {
    let mut files = [pipes.stdout, pipes.stderr].map(|fd| Some(File::from(fd)));
    let mut captured: [Captured; 2] = Default::default();
    let mut chunk = vec![0u8; READ_CHUNK_BYTES];
    let mut give_up_at: Option<Instant> = None;
    while files.iter().any(Option::is_some) {
        let now = Instant::now();
        let mut timeout = Duration::from_millis(50);
        if run_over.load(Ordering::Acquire) {
            let at = *give_up_at.get_or_insert(now + OUTPUT_GRACE);
            if now >= at {
                break;
            }
            timeout = timeout.min(at - now);
        }
        let mut poll_fds: Vec<libc::pollfd> =
            files.iter().flatten().map(|f| libc::pollfd { fd: f.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
        let timeout_ms = libc::c_int::try_from(timeout.as_millis().max(1)).unwrap_or(50);
        if let Err(e) = sys::poll(&mut poll_fds, timeout_ms) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        for (slot, kept) in files.iter_mut().zip(captured.iter_mut()) {
            let Some(file) = slot else { continue };
            let readable = poll_fds.iter().any(|p| p.fd == file.as_raw_fd() && p.revents != 0);
            if !readable {
                continue;
            }
            match file.read(&mut chunk) {
                Ok(0) => *slot = None,
                Ok(n) => kept.keep(&chunk[..n], max_bytes),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => *slot = None,
            }
        }
    }
    let [stdout, stderr] = captured;
    Output { stdout, stderr }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_the_first_bytes_and_flags_the_rest() {
        let mut kept = Captured::default();
        kept.keep(b"hello ", 8);
        assert!(!kept.truncated);
        kept.keep(b"world", 8);
        assert_eq!(kept.bytes, b"hello wo");
        assert!(kept.truncated);
    }
}
