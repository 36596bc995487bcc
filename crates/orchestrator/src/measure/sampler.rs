//! The sampler: keeps a [`Sample`] of the process tree's readings once per sample interval, on
//! absolute deadlines (multiples of the interval since the start) so ticks do not drift.

use std::time::{Duration, Instant};

use super::procfs::TreeReading;

/// The sampling interval when a scenario does not choose one.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_millis(1);
/// Shorter intervals are raised to this: below it the sampler would cost more than it tells.
pub(crate) const MIN_SAMPLE_INTERVAL: Duration = Duration::from_micros(100);

/// The whole process tree of one run at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Since the instant just before spawn.
    pub t_seconds: f64,
    /// Sum of the resident set sizes of the tree's live processes (shared pages count once per
    /// process, as in every RSS sum).
    pub rss_bytes: u64,
    /// Cumulative CPU time of the tree: live processes plus what departed ones had used when last
    /// seen. Never decreases.
    pub cpu_seconds: f64,
}

/// The samples of one run, and when the next one is due.
pub(crate) struct Sampler {
    start: Instant,
    /// None: no samples are wanted.
    every: Option<Duration>,
    next_at: Instant,
    samples: Vec<Sample>,
}

impl Sampler {
    /// Samples every `interval` (raised to [`MIN_SAMPLE_INTERVAL`]) from `start`, room reserved for
    /// a run that lasts until `timeout`.
    pub(crate) fn new(start: Instant, interval: Option<Duration>, timeout: Duration) -> Self {
        let every = interval.map(|i| i.max(MIN_SAMPLE_INTERVAL));
        let mut samples = Vec::new();
        if let Some(every) = every {
            let expected = timeout.as_secs_f64() / every.as_secs_f64();
            samples.reserve(if expected.is_finite() { expected.min(65_536.0) as usize } else { 1024 });
        }
        Sampler { start, every, next_at: start, samples }
    }

    /// The sample interval; None when no samples are wanted.
    pub(crate) fn every(&self) -> Option<Duration> {
        self.every
    }

    /// The first sample is due at `at`.
    pub(crate) fn first_due_at(&mut self, at: Instant) {
        self.next_at = at;
    }

    /// Keeps `reading`, taken at `now`, when a sample is due.
    pub(crate) fn offer(&mut self, reading: &TreeReading, now: Instant) {
        if let Some(every) = self.every.filter(|_| now >= self.next_at) {
            self.samples.push(Sample {
                t_seconds: now.duration_since(self.start).as_secs_f64(),
                rss_bytes: reading.rss_bytes,
                cpu_seconds: reading.cpu_seconds,
            });
            self.next_at = next_multiple(self.start, every, now);
        }
    }

    /// `wake`, or the next sample's deadline when that is earlier (never before `now`).
    pub(crate) fn wake_by(&self, wake: Instant, now: Instant) -> Instant {
        if self.every.is_some() {
            wake.min(self.next_at.max(now))
        } else {
            wake
        }
    }

    pub(crate) fn into_samples(self) -> Vec<Sample> {
        self.samples
    }
}

/// The first instant after `now` that is a whole number of `every` since `start`.
pub(crate) fn next_multiple(start: Instant, every: Duration, now: Instant) -> Instant {
    let periods = now.saturating_duration_since(start).as_nanos() / every.as_nanos().max(1) + 1;
    let after = u32::try_from(periods).ok().and_then(|k| every.checked_mul(k)).and_then(|d| start.checked_add(d));
    after.or_else(|| now.checked_add(every)).unwrap_or(now)
}
