//! The sampler: keeps a [`Sample`] of the process tree's readings on absolute deadlines (multiples
//! of the interval since the start, so ticks do not drift), every [`Sampling::first`] for a run's
//! first [`DENSE_SAMPLES`] samples and then less often: the interval doubles each time the run's
//! length does, up to [`Sampling::longest`]. A millisecond program is seen in detail, a long run in
//! about 500 samples an octave of its length, and the sampler's wake-ups — what it costs a child
//! that keeps every CPU busy (`environment::probes::sampler_cost`) — fall as the run goes on.
//!
//! While the tree keeps every CPU this process may use busy (its CPU time over the last
//! [`CROWDED_WINDOW`] or more at least the CPUs less a half, times that wall time: the kernel
//! counts another process's CPU time in whole scheduler ticks, 4 ms at 250 Hz, so a shorter
//! window would see a single thread run at 0 or 4 CPUs), each wake-up takes a
//! CPU from one of its threads, and a parallel fit then waits at its next barrier: samples are
//! then spaced [`CROWDED_SPACING`] times wider (never wider than [`Sampling::longest`]), back to the
//! interval of the moment as soon as the tree leaves a CPU free. A one-thread program on a
//! two-CPU machine keeps the dense start; a two-thread fit pays an eighth of the wake-ups.

use std::time::{Duration, Instant};

use super::procfs::TreeReading;

/// The first sampling interval when a scenario does not choose one.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_millis(1);
/// The longest sampling interval when a scenario does not choose one (the first, if longer).
pub const DEFAULT_LONGEST_SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// Shorter intervals are raised to this: below it the sampler would cost more than it tells.
pub(crate) const MIN_SAMPLE_INTERVAL: Duration = Duration::from_micros(100);
/// A run is sampled at the first interval until it has lasted this many of them; from then on the
/// interval is the largest power-of-two multiple of the first that the run's length is at least
/// this many times (so each octave of the run's length holds half as many samples).
pub const DENSE_SAMPLES: u32 = 1000;
/// How many times wider samples are spaced while the tree keeps every CPU busy (see the module).
pub const CROWDED_SPACING: u32 = 8;
/// The least wall time over which the tree's CPU rate is judged: three ticks of a 100 Hz kernel,
/// so that counting in ticks moves a rate by a third of a CPU at most.
pub const CROWDED_WINDOW: Duration = Duration::from_millis(30);

/// How often a run is sampled: every `first` at its start, then less often as it lasts (see the
/// module), never less often than every `longest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    pub first: Duration,
    pub longest: Duration,
}

impl Sampling {
    /// Every `first` at the start, sparser later, to at most [`DEFAULT_LONGEST_SAMPLE_INTERVAL`]
    /// (or `first`, if longer).
    pub fn thinning(first: Duration) -> Self {
        Sampling { first, longest: first.max(DEFAULT_LONGEST_SAMPLE_INTERVAL) }
    }

    /// Every `every`, however long the run.
    pub fn fixed(every: Duration) -> Self {
        Sampling { first: every, longest: every }
    }

    /// The interval both ends are raised to [`MIN_SAMPLE_INTERVAL`], `longest` at least `first`.
    fn bounded(self) -> Self {
        let first = self.first.max(MIN_SAMPLE_INTERVAL);
        Sampling { first, longest: self.longest.max(first) }
    }

    /// The interval after a run has lasted `elapsed` (both ends raised to [`MIN_SAMPLE_INTERVAL`]).
    pub fn interval_after(&self, elapsed: Duration) -> Duration {
        let Sampling { first, longest } = self.bounded();
        let mut interval = first;
        while interval < longest && elapsed >= interval.saturating_mul(DENSE_SAMPLES) {
            interval = interval.saturating_mul(2).min(longest);
        }
        interval
    }

    /// The interval after `elapsed` while the tree keeps every CPU busy: [`CROWDED_SPACING`] times
    /// [`Sampling::interval_after`], at most `longest` (so a fixed interval stays fixed).
    pub fn crowded_interval_after(&self, elapsed: Duration) -> Duration {
        let interval = self.interval_after(elapsed);
        interval.saturating_mul(CROWDED_SPACING).min(self.bounded().longest).max(interval)
    }
}

impl Default for Sampling {
    /// Every [`DEFAULT_SAMPLE_INTERVAL`] at the start, to at most
    /// [`DEFAULT_LONGEST_SAMPLE_INTERVAL`].
    fn default() -> Self {
        Sampling::thinning(DEFAULT_SAMPLE_INTERVAL)
    }
}

/// The whole process tree of one run at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Since the child's execve (the start of the measured interval).
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
    sampling: Option<Sampling>,
    next_at: Instant,
    samples: Vec<Sample>,
    /// The tree's CPU rate (CPU seconds a second) from which it leaves the sampler no CPU of its
    /// own: the CPUs this process may use, less a half.
    crowded_from: f64,
    /// The tree kept every CPU busy over the last [`CROWDED_WINDOW`] or more.
    crowded: bool,
}

impl Sampler {
    /// Samples as `sampling` says (both intervals raised to [`MIN_SAMPLE_INTERVAL`]) from `start`,
    /// room reserved for the samples of a run's dense start, or of a run that lasts until
    /// `timeout` if sooner.
    pub(crate) fn new(start: Instant, sampling: Option<Sampling>, timeout: Duration) -> Self {
        let sampling = sampling.map(Sampling::bounded);
        let mut samples = Vec::new();
        if let Some(sampling) = sampling {
            let until_timeout = timeout.as_secs_f64() / sampling.first.as_secs_f64();
            let expected = if until_timeout.is_finite() { until_timeout.min(f64::from(DENSE_SAMPLES) * 2.0) } else { 1024.0 };
            samples.reserve(expected as usize);
        }
        // The CPUs this process may run on (affinity and cgroup quota), asked once a process.
        Sampler::with_cpus(start, sampling, samples, linreg::default_threads().get())
    }

    fn with_cpus(start: Instant, sampling: Option<Sampling>, samples: Vec<Sample>, cpus: usize) -> Self {
        Sampler { start, sampling, next_at: start, samples, crowded_from: cpus as f64 - 0.5, crowded: false }
    }

    /// The sample interval `now`, when samples are wanted: wider while the tree keeps every CPU busy.
    fn interval(&self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.start);
        self.sampling.map(|sampling| if self.crowded { sampling.crowded_interval_after(elapsed) } else { sampling.interval_after(elapsed) })
    }

    /// How often the watchdog is to look, `now`: at the sample interval while that is shorter than
    /// `watch_every`, else every `watch_every`, the samples then taken at the first look on or
    /// after their deadlines (up to `watch_every` late: [`Sampler::wake_by`] adds no wake-up of its
    /// own).
    pub(crate) fn tick(&self, now: Instant, watch_every: Duration) -> Duration {
        self.interval(now).map_or(watch_every, |interval| interval.min(watch_every))
    }

    /// The first sample is due at `at`.
    pub(crate) fn first_due_at(&mut self, at: Instant) {
        self.next_at = at;
    }

    /// Keeps `reading`, taken at `now`, when a sample is due; a reading that found no process is
    /// no sample, but its deadline passes all the same (else the watchdog would wake at once,
    /// again and again, for a sample it cannot take).
    pub(crate) fn offer(&mut self, reading: &TreeReading, now: Instant) {
        if self.sampling.is_none() || now < self.next_at {
            return;
        }
        if reading.processes > 0 {
            let sample = Sample {
                t_seconds: now.duration_since(self.start).as_secs_f64(),
                rss_bytes: reading.rss_bytes,
                cpu_seconds: reading.cpu_seconds,
            };
            self.crowded = self.crowded_at(&sample);
            self.samples.push(sample);
        }
        // The next deadline at the interval the sample just taken decides.
        if let Some(every) = self.interval(now) {
            self.next_at = next_multiple(self.start, every, now);
        }
    }

    /// Whether the tree kept every CPU busy from the last sample at least [`CROWDED_WINDOW`]
    /// before `sample` to it; not while the run is younger than that.
    fn crowded_at(&self, sample: &Sample) -> bool {
        let window_start = sample.t_seconds - CROWDED_WINDOW.as_secs_f64();
        let before = self.samples.partition_point(|s| s.t_seconds <= window_start);
        before.checked_sub(1).map(|i| &self.samples[i]).is_some_and(|from| {
            let rate = (sample.cpu_seconds - from.cpu_seconds) / (sample.t_seconds - from.t_seconds);
            rate >= self.crowded_from
        })
    }

    /// `wake`, or the next sample's deadline when that is earlier (never before `now`) while the
    /// sample interval is within `watch_every`; past it the watchdog's own looks take the samples.
    pub(crate) fn wake_by(&self, wake: Instant, now: Instant, watch_every: Duration) -> Instant {
        match self.interval(now) {
            Some(interval) if interval <= watch_every => wake.min(self.next_at.max(now)),
            _ => wake,
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

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_interval_doubles_as_the_run_lasts_up_to_the_longest() {
        let sampling = Sampling::default();
        let after = |ms: u64| sampling.interval_after(Duration::from_millis(ms));
        assert_eq!([after(0), after(999), after(1000), after(1999), after(2000), after(4000)], [MS, MS, 2 * MS, 2 * MS, 4 * MS, 8 * MS]);
        // 512 ms from 256 s on, then the longest (1 s) from 512 s, however long the run.
        assert_eq!([after(255_999), after(256_000), after(512_000), after(u64::MAX / 4)], [256 * MS, 512 * MS, 1000 * MS, 1000 * MS]);
        let fixed = Sampling::fixed(3 * MS);
        assert_eq!([fixed.interval_after(Duration::ZERO), fixed.interval_after(Duration::from_secs(86_400))], [3 * MS, 3 * MS]);
        // A first interval above the default longest is kept throughout.
        assert_eq!(Sampling::thinning(Duration::from_secs(2)).interval_after(Duration::from_secs(86_400)), Duration::from_secs(2));
        // A zero interval is raised to the least the sampler takes (it never doubles zero forever).
        let zero = Sampling { first: Duration::ZERO, longest: Duration::ZERO };
        assert_eq!(zero.interval_after(Duration::from_secs(60)), MIN_SAMPLE_INTERVAL);
        assert_eq!(Sampling { first: Duration::ZERO, longest: MS }.interval_after(Duration::from_secs(60)), MS);
    }

    /// The watchdog looks at the sample interval while it is within its own, then at its own,
    /// and the samples then wait for its looks: no wake-up of theirs.
    #[test]
    fn the_watchdog_ticks_at_the_sample_interval_up_to_its_own_and_then_takes_the_samples() {
        let start = Instant::now();
        let watch = 5 * MS;
        let sampler = |first: Duration| Sampler::new(start, Some(Sampling::thinning(first)), Duration::from_secs(60));
        let tick = |first: Duration, at_ms: u64| sampler(first).tick(start + Duration::from_millis(at_ms), watch);
        assert_eq!([tick(MS, 0), tick(MS, 1500), tick(MS, 3000), tick(MS, 5000), tick(MS, 60_000)], [MS, 2 * MS, 4 * MS, watch, watch]);
        assert_eq!([tick(3 * MS, 0), tick(3 * MS, 10_000), tick(10 * MS, 0)], [3 * MS, watch, watch]);
        assert_eq!(Sampler::new(start, None, Duration::from_secs(60)).tick(start, watch), watch);
        let (early, late) = (start + MS / 2, start + Duration::from_secs(10));
        let wake = |now: Instant| now + watch;
        assert_eq!(sampler(MS).wake_by(wake(early), early, watch), early, "the first sample is due at the start");
        assert_eq!(sampler(MS).wake_by(wake(late), late, watch), wake(late), "16 ms samples wait for the watchdog's look");
    }

    /// A tree that keeps every CPU busy is sampled 8× less often, judged over 30 ms or more, and
    /// densely again once it leaves a CPU free; a tree on fewer CPUs than there are keeps the
    /// dense start, even as its CPU time comes in whole ticks; a fixed interval stays fixed.
    #[test]
    fn a_tree_that_keeps_every_cpu_busy_is_sampled_less_often() {
        let start = Instant::now();
        let reading = |cpu_ms: u64| TreeReading { rss_bytes: 1, cpu_seconds: cpu_ms as f64 / 1e3, processes: 1 };
        let at = |ms: u64| start + Duration::from_millis(ms);
        // Offered a reading every ms to `to_ms`, CPU time `cpu(ms)` at each; the tick after it.
        let run = |cpus: usize, sampling: Sampling, to_ms: u64, cpu: &dyn Fn(u64) -> u64| {
            let mut sampler = Sampler::with_cpus(start, Some(sampling), Vec::new(), cpus);
            for ms in 0..=to_ms {
                sampler.offer(&reading(cpu(ms)), at(ms));
            }
            sampler
        };
        let both_busy = |ms: u64| 2 * ms;
        assert_eq!(run(2, Sampling::default(), 29, &both_busy).tick(at(29), 50 * MS), MS, "under 30 ms: too soon to tell");
        let crowded = run(2, Sampling::default(), 30, &both_busy);
        assert_eq!((crowded.tick(at(30), 50 * MS), crowded.wake_by(at(100), at(30), 50 * MS)), (8 * MS, at(32)));
        // One thread on two CPUs, its CPU time counted in 4 ms ticks (0 or 4 ms in a 1 ms interval):
        // never crowded.
        let in_ticks = |ms: u64| ms / 4 * 4;
        assert_eq!(run(2, Sampling::default(), 200, &in_ticks).tick(at(200), 50 * MS), MS);
        // The same thread alone on one CPU: crowded.
        assert_eq!(run(1, Sampling::default(), 200, &in_ticks).tick(at(200), 50 * MS), 8 * MS);
        // Busy on both CPUs for 100 ms, then on one: dense again within the window.
        let then_one = |ms: u64| if ms <= 100 { 2 * ms } else { 200 + (ms - 100) };
        assert_eq!(run(2, Sampling::default(), 100, &then_one).tick(at(100), 50 * MS), 8 * MS);
        assert_eq!(run(2, Sampling::default(), 160, &then_one).tick(at(160), 50 * MS), MS);
        // A fixed interval is what the scenario asked for: kept however busy the tree.
        assert_eq!(run(2, Sampling::fixed(MS), 100, &both_busy).tick(at(100), 50 * MS), MS);
        // Late in a run, wider still, but never past the longest.
        assert_eq!(Sampling::default().crowded_interval_after(Duration::from_secs(300)), Duration::from_secs(1));
        assert_eq!(Sampling::default().crowded_interval_after(Duration::from_secs(2)), 32 * MS);
    }

    /// A reading that found no process (the child reaped, its /proc gone) is no sample, but the
    /// deadline passes: the watchdog does not wake at once again for it.
    #[test]
    fn a_reading_of_no_process_is_no_sample_but_its_deadline_passes() {
        let start = Instant::now();
        let mut sampler = Sampler::new(start, Some(Sampling::default()), Duration::from_secs(60));
        let now = start + 3 * MS / 2;
        sampler.offer(&TreeReading { rss_bytes: 0, cpu_seconds: 0.0, processes: 0 }, now);
        assert_eq!(sampler.wake_by(now + 5 * MS, now, 5 * MS), start + 2 * MS);
        assert!(sampler.into_samples().is_empty());
    }

    /// Offered a reading every 1 ms for 10 s, the sampler keeps every one of the first second and
    /// then 500 an octave of the run's length (16 ms apart from 8 s): ~2 625 samples, not 10 000,
    /// in time order.
    #[test]
    fn a_long_run_keeps_about_500_samples_an_octave_of_its_length() {
        let start = Instant::now();
        let mut sampler = Sampler::new(start, Some(Sampling::default()), Duration::from_secs(60));
        sampler.first_due_at(start + MS);
        let reading = TreeReading { rss_bytes: 1, cpu_seconds: 0.0, processes: 1 };
        for k in 1..=10_000u64 {
            let now = start + Duration::from_millis(k);
            sampler.offer(&reading, now);
        }
        let samples = sampler.into_samples();
        let times: Vec<f64> = samples.iter().map(|s| s.t_seconds).collect();
        assert!(times.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(times.iter().filter(|&&t| t < 1.0).count(), 999);
        let (from_1_to_2, from_8_to_10) =
            (times.iter().filter(|&&t| (1.0..2.0).contains(&t)).count(), times.iter().filter(|&&t| t >= 8.0).count());
        assert_eq!((from_1_to_2, from_8_to_10), (500, 126));
        assert!((2600..2700).contains(&samples.len()), "{}", samples.len());
    }
}
