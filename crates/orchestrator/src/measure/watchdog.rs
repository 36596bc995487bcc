//! The run's watchdog, the body of its one helper thread besides the output reader: it reads the
//! child's process tree every tick, hands the readings to the sampler, and enforces the timeout,
//! cancellation and the memory limit by signalling the child's process group. Its own CPU time is
//! measured and reported with every run.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::cancel::CancelToken;
use super::huge_pages::{AnonMemory, HugePageLooks};
use super::procfs::{ProcessTree, TreeReading};
use super::sampler::{next_multiple, Sample, Sampler, Sampling};
use super::sys;

/// How often the watchdog looks (timeout, cancellation, memory limit) when samples are rarer or not wanted.
pub(crate) const WATCHDOG_INTERVAL: Duration = Duration::from_millis(5);

/// What the watchdog is to enforce for one run.
#[derive(Debug, Clone)]
pub(crate) struct WatchSettings {
    /// Record samples so; None: only watch (every [`WATCHDOG_INTERVAL`]).
    pub sampling: Option<Sampling>,
    pub timeout: Duration,
    pub kill_grace: Duration,
    pub memory_limit_bytes: Option<u64>,
    /// Look at the child's huge pages when its RSS settles ([`HugePageLooks`]), whose data takes
    /// this many bytes.
    pub look_at_huge_pages: Option<u64>,
}

/// Why the watchdog signalled the process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intervention {
    TimedOut,
    MemoryLimit,
    Cancelled,
}

/// What the sampler thread hands back once the run is over.
#[derive(Debug, Default)]
pub(crate) struct WatchReport {
    pub samples: Vec<Sample>,
    /// Highest tree RSS seen at any tick (recorded or not).
    pub max_rss_bytes: Option<u64>,
    pub descendants_seen: bool,
    /// Descendants alive at the last tick, to be killed with the rest of the run.
    pub descendant_pidfds: Vec<OwnedFd>,
    pub intervention: Option<Intervention>,
    /// CPU time of the sampler thread itself.
    pub sampler_cpu_seconds: f64,
    /// The look at the child's anonymous memory that found the most huge pages, when looked.
    pub anon_memory: Option<AnonMemory>,
}

/// The sampler thread's body: reads the tree of `pid` (a process group leader) every tick (the
/// sample interval while it is shorter than [`WATCHDOG_INTERVAL`], that after: see
/// [`Sampler::tick`]) until `finished` is set (the runner then unparks this thread), enforcing
/// `settings` on the way and keeping a sample when one is due.
///
/// Timeout and cancellation send SIGTERM to the group, then SIGKILL after the grace period; the
/// memory limit sends SIGKILL at once (a process over its budget gets no time to grow further).
pub(crate) fn watch(
    pid: libc::pid_t,
    start: Instant,
    settings: &WatchSettings,
    cancel: &CancelToken,
    finished: &AtomicBool,
) -> WatchReport {
    let cpu_at_start = sys::thread_cpu_seconds();
    let mut sampler = Sampler::new(start, settings.sampling, settings.timeout);
    // The watchdog looks at least every WATCHDOG_INTERVAL however rare the samples: the memory
    // limit and a cancellation must not wait for the next sample.
    let tick = sampler.tick(start, WATCHDOG_INTERVAL);
    let mut watchdog = Watchdog::new(pid, start, settings);
    let mut report = WatchReport::default();
    // The first look waits one tick: opening another process's /proc files while it execs and
    // loads contends with it (measured: a /bin/true looked at from its first microsecond took
    // 0.13 ms longer), and a program that ends within a tick has nothing to sample.
    let first_look = next_multiple(start, tick, start);
    sleep_until(first_look, finished);
    if finished.load(Ordering::Acquire) {
        report.sampler_cpu_seconds = (sys::thread_cpu_seconds() - cpu_at_start).max(0.0);
        return report;
    }
    let mut tree = ProcessTree::new(pid, pid);
    let mut looks = settings.look_at_huge_pages.map(|data_bytes| HugePageLooks::new(pid, data_bytes));
    sampler.first_due_at(first_look);
    while !finished.load(Ordering::Acquire) {
        let reading = tree.read();
        let now = Instant::now();
        sampler.offer(&reading, now);
        if reading.processes > 0 {
            report.max_rss_bytes = Some(report.max_rss_bytes.unwrap_or(0).max(reading.rss_bytes));
            if let Some(looks) = looks.as_mut() {
                looks.offer(&reading, now);
            }
        }
        watchdog.enforce(&reading, &mut tree, cancel, now);
        // Sleep to the next multiple of the tick since start (no drift; ticks missed while the
        // machine was busy are skipped, not made up in a burst), or to an earlier deadline.
        let tick = sampler.tick(now, WATCHDOG_INTERVAL);
        let wake = watchdog.wake_by(sampler.wake_by(next_multiple(start, tick, now), now, WATCHDOG_INTERVAL));
        sleep_until(wake, finished);
    }
    report.samples = sampler.into_samples();
    report.anon_memory = looks.and_then(|l| l.found());
    report.intervention = watchdog.intervention;
    report.descendants_seen = tree.descendants_seen();
    report.descendant_pidfds = tree.into_descendant_pidfds();
    report.sampler_cpu_seconds = (sys::thread_cpu_seconds() - cpu_at_start).max(0.0);
    report
}

/// The limits of one run and what has been done to enforce them.
struct Watchdog {
    group: libc::pid_t,
    timeout_at: Option<Instant>,
    kill_grace: Duration,
    memory_limit_bytes: Option<u64>,
    intervention: Option<Intervention>,
    /// When the SIGTERM of a timeout or a cancellation is to be followed by SIGKILL.
    sigkill_at: Option<Instant>,
}

impl Watchdog {
    fn new(group: libc::pid_t, start: Instant, settings: &WatchSettings) -> Self {
        Watchdog {
            group,
            timeout_at: start.checked_add(settings.timeout),
            kill_grace: settings.kill_grace,
            memory_limit_bytes: settings.memory_limit_bytes,
            intervention: None,
            sigkill_at: None,
        }
    }

    /// Signals the process group when `reading` (taken at `now`) breaks a limit, the run is
    /// cancelled, or the grace after a SIGTERM is over.
    fn enforce(&mut self, reading: &TreeReading, tree: &mut ProcessTree, cancel: &CancelToken, now: Instant) {
        if self.intervention.is_none() {
            // An RSS sum counts the pages processes share once per process (200 forked children of
            // one parent would "use" 200 times its libraries): over the limit with several
            // processes, the proportional set size decides.
            let over_memory = self.memory_limit_bytes.is_some_and(|limit| {
                reading.rss_bytes > limit && (reading.processes <= 1 || tree.pss_bytes().is_none_or(|pss| pss > limit))
            });
            if over_memory && sys::signal_group(self.group, libc::SIGKILL) {
                self.intervention = Some(Intervention::MemoryLimit);
            } else if cancel.is_cancelled() || self.timeout_at.is_some_and(|at| now >= at) {
                let why = if cancel.is_cancelled() { Intervention::Cancelled } else { Intervention::TimedOut };
                if sys::signal_group(self.group, libc::SIGTERM) {
                    self.intervention = Some(why);
                    self.sigkill_at = Some(now.checked_add(self.kill_grace).unwrap_or(now));
                }
            }
        } else if self.sigkill_at.is_some_and(|at| now >= at) {
            sys::signal_group(self.group, libc::SIGKILL);
            self.sigkill_at = None;
        }
    }

    /// `wake`, or the timeout or the SIGKILL due when that is earlier.
    fn wake_by(&self, mut wake: Instant) -> Instant {
        if self.intervention.is_none() {
            if let Some(at) = self.timeout_at {
                wake = wake.min(at);
            }
        }
        if let Some(at) = self.sigkill_at {
            wake = wake.min(at);
        }
        wake
    }
}

/// Parks until `wake` or until `finished` is set (the runner unparks this thread when it sets it).
pub(crate) fn sleep_until(wake: Instant, finished: &AtomicBool) {
    loop {
        if finished.load(Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        if now >= wake {
            return;
        }
        std::thread::park_timeout(wake - now);
    }
}
