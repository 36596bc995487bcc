//! SIGINT, SIGTERM and SIGHUP caught for the whole of `run`: the first cancels what is in
//! progress, and the command exits 128 + signal once what exists is written.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use anyhow::Context;

use crate::execute;
use crate::measure::CancelToken;

/// SIGINT, SIGTERM and SIGHUP, caught from the start of `run` to its end by a thread of their own.
/// The first one cancels whatever is in progress — the datasets being prepared, an availability
/// check, the probes or a run (its process group is killed) — and makes the command exit
/// 128 + signal once what exists is written. Later ones are caught and ignored.
pub(super) struct Signals {
    pub(super) cancel: CancelToken,
    received: Arc<AtomicI32>,
}

impl Signals {
    pub(super) fn listen() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the signal listener")?;
        // Registered here, before anything starts: a signal from now on is caught, not fatal. A
        // signal ignored on entry stays ignored (`nohup`, a background job of a script).
        let listen = |kind: SignalKind, number: i32| -> anyhow::Result<Option<tokio::signal::unix::Signal>> {
            if is_ignored(number) {
                return Ok(None);
            }
            let _entered = runtime.enter();
            Ok(Some(signal(kind).with_context(|| format!("listening for {}", execute::signal_name(number)))?))
        };
        let mut interrupt = listen(SignalKind::interrupt(), libc::SIGINT)?;
        let mut terminate = listen(SignalKind::terminate(), libc::SIGTERM)?;
        let mut hangup = listen(SignalKind::hangup(), libc::SIGHUP)?;
        let (cancel, received) = (CancelToken::new(), Arc::new(AtomicI32::new(0)));
        let (watch_cancel, watch_received) = (cancel.clone(), received.clone());
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let signal = tokio::select! {
                        _ = delivered(&mut interrupt) => libc::SIGINT,
                        _ = delivered(&mut terminate) => libc::SIGTERM,
                        _ = delivered(&mut hangup) => libc::SIGHUP,
                    };
                    watch_received.store(signal, Ordering::SeqCst);
                    errln!("\n{}: stopping what is in progress and keeping what was measured…", execute::signal_name(signal));
                    watch_cancel.cancel();
                })
            })
            .context("starting the signal listener")?;
        Ok(Signals { cancel, received })
    }

    pub(super) fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}

/// Whether `signal` is ignored (SIG_IGN), as `nohup` leaves SIGHUP.
fn is_ignored(signal: i32) -> bool {
    // SAFETY: sigaction with no new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The next delivery of a signal listened for; never, for one left ignored.
async fn delivered(listener: &mut Option<tokio::signal::unix::Signal>) {
    match listener {
        Some(listener) => {
            listener.recv().await;
        }
        None => std::future::pending().await,
    }
}
