//! The cancellation of a run: a flag set from any thread and read by the run's watchdog.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set from any thread (a signal handler task, a UI) to stop a run early: the child's process
/// group gets SIGTERM within one sampler tick, then SIGKILL after the grace period.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
