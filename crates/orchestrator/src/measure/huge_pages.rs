//! How much of a running child's anonymous memory Linux backs with huge pages, looked at from
//! outside in /proc/PID/smaps_rollup: where an implementation's data lay while it trained (its
//! layout decides its speed near the L2's size, docs/limits.md), seen in the measured process
//! itself rather than assumed from its policy. `linreg` puts its data on whole huge pages from a
//! third of the L2 up, NumPy madvises arrays of 4 MiB or more, and a fault may get 4 KiB pages all
//! the same when memory is fragmented.
//!
//! A look walks the child's page tables under its memory map's read lock, so an mmap or munmap of
//! the child's waits for it: 32 µs for `linreg` holding 640 MB on huge pages, 2.2 ms for the same on
//! 4 KiB pages (medians of 50 reads, Emerald Rapids family 6 model 207, 2026-12-05). So a look is
//! taken only in runs whose data could lie on huge pages at all, and only when the tree's RSS has
//! stopped growing (the same for [`SETTLED_FOR`]): the first time it does, and again each time it
//! has grown by half the data's size (at least [`MIN_GROWTH`]) since the last look, or has grown at all and then stayed the
//! same for [`LONG_SETTLED_FOR`] (a look in a pause of the loading, with less than half the data
//! still to come, is followed by one once the epochs run); [`MAX_LOOKS`] at most. The first look may
//! come before the data is loaded (an interpreter pausing between imports); a later one comes
//! after it, and the look that found the most huge pages is kept. The looks' cost grows with the
//! process and falls with the step: a few looks at a few hundred MB, a few dozen small ones where
//! an interpreter's imports outweigh the data. A run that ends less than [`SETTLED_FOR`] after
//! loading its data is not looked at (the report names it).

use std::time::{Duration, Instant};

use super::procfs::{smaps_field_bytes, smaps_rollup, TreeReading};

/// Between two looks at a settled RSS, it must have grown by half the data or by this much: an
/// interpreter's imports grow it in many small steps with pauses between (python-numpy at 10^5
/// points, 1.6 MB of data: the sampler's CPU 16–24 ms a run with a step of 0.8 MB, 12 ms with
/// 4 MiB, 2 runs each, Emerald Rapids).
const MIN_GROWTH: u64 = 4 << 20;
/// At most this many looks a run (each costs the child a wait if it maps or unmaps meanwhile).
const MAX_LOOKS: u32 = 64;
/// The RSS has settled when it has not changed for this long: a program filling its data may
/// pause between two 1 ms ticks (a fault zeroing a huge page, a moment off its CPU), and a look
/// then would see part of it (seen in a test: 62 of 64 MiB). Ticks are 1 ms apart in a run's
/// first second only (the sampler's); by 4 s they are 5 ms apart and a settling is seen 5–10 ms
/// after it began.
const SETTLED_FOR: Duration = Duration::from_millis(5);
/// Settled this long after any growth since the last look, the RSS is looked at again: a pause of
/// 5 ms in the middle of loading is possible on a busy machine (seen in a test: a look at 62 of
/// 64 MiB), one of 50 ms rare, and the epochs after it keep the RSS still for longer.
const LONG_SETTLED_FOR: Duration = Duration::from_millis(50);

/// What one look found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnonMemory {
    /// Anonymous memory resident (smaps' `Anonymous`).
    pub anonymous_bytes: u64,
    /// Of it, backed by transparent huge pages (`AnonHugePages`).
    pub huge_bytes: u64,
}

/// The looks of one run at one process.
pub(crate) struct HugePageLooks {
    pid: libc::pid_t,
    growth_bytes: u64,
    looks: u32,
    /// The RSS last read and since when it has had that value.
    unchanged: Option<(u64, Instant)>,
    looked_at_rss: Option<u64>,
    found: Option<AnonMemory>,
}

impl HugePageLooks {
    /// Looks at `pid`, whose data takes `data_bytes`.
    pub(crate) fn new(pid: libc::pid_t, data_bytes: u64) -> Self {
        HugePageLooks { pid, growth_bytes: (data_bytes / 2).max(MIN_GROWTH), looks: 0, unchanged: None, looked_at_rss: None, found: None }
    }

    /// Looks when `reading`, taken at `now`, says the tree's RSS has settled after growing (see
    /// the module).
    pub(crate) fn offer(&mut self, reading: &TreeReading, now: Instant) {
        if self.due(reading, now) {
            if let Some(seen) = read_rollup(self.pid) {
                self.keep(seen);
            }
        }
    }

    /// Whether a look is due now, counted as taken when it is.
    fn due(&mut self, reading: &TreeReading, now: Instant) -> bool {
        let rss = reading.rss_bytes;
        let since = match self.unchanged {
            Some((same, since)) if same == rss => since,
            _ => now,
        };
        self.unchanged = Some((rss, since));
        let still_for = now.saturating_duration_since(since);
        let grown = self.looked_at_rss.is_none_or(|at| rss >= at.saturating_add(self.growth_bytes));
        let grown_at_all = self.looked_at_rss.is_none_or(|at| rss > at);
        let settled = (still_for >= SETTLED_FOR && grown) || (still_for >= LONG_SETTLED_FOR && grown_at_all);
        let due = reading.processes > 0 && settled && self.looks < MAX_LOOKS;
        if due {
            self.looks += 1;
            self.looked_at_rss = Some(rss);
        }
        due
    }

    /// Keeps `seen` when it found at least as many huge pages as any look before.
    fn keep(&mut self, seen: AnonMemory) {
        if self.found.is_none_or(|best| seen.huge_bytes >= best.huge_bytes) {
            self.found = Some(seen);
        }
    }

    pub(crate) fn found(&self) -> Option<AnonMemory> {
        self.found
    }
}

/// /proc/PID/smaps_rollup's anonymous memory, None where it cannot be read ([`smaps_rollup`]).
fn read_rollup(pid: libc::pid_t) -> Option<AnonMemory> {
    parse_rollup(&smaps_rollup(pid)?)
}

/// `Anonymous:  N kB` and `AnonHugePages:  N kB` from smaps_rollup's text; None when either is
/// missing.
fn parse_rollup(text: &str) -> Option<AnonMemory> {
    Some(AnonMemory { anonymous_bytes: smaps_field_bytes(text, "Anonymous:")?, huge_bytes: smaps_field_bytes(text, "AnonHugePages:")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLLUP: &str = "\
55d0c0a00000-7ffd1c3fe000 ---p 00000000 00:00 0                          [rollup]\n\
Rss:              167424 kB\n\
Pss:              166650 kB\n\
Anonymous:        163840 kB\n\
LazyFree:              0 kB\n\
AnonHugePages:    159744 kB\n\
ShmemPmdMapped:        0 kB\n";

    #[test]
    fn the_rollup_gives_anonymous_memory_and_its_huge_pages() {
        assert_eq!(parse_rollup(ROLLUP), Some(AnonMemory { anonymous_bytes: 163_840 << 10, huge_bytes: 159_744 << 10 }));
        assert_eq!(parse_rollup("Rss: 4 kB\nAnonymous: 4 kB\n"), None, "no AnonHugePages line");
        assert_eq!(parse_rollup(""), None);
    }

    fn reading(rss_mib: u64) -> TreeReading {
        TreeReading { rss_bytes: rss_mib << 20, cpu_seconds: 0.0, processes: 1 }
    }

    #[test]
    fn looks_are_due_when_the_rss_has_settled_after_growing_by_half_the_data() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut looks = HugePageLooks::new(1, 10 << 20);
        assert!(!looks.due(&reading(10), at(0)));
        assert!(!looks.due(&reading(12), at(1)), "still growing");
        assert!(!looks.due(&reading(12), at(5)), "the same for 4 ms: not settled yet");
        assert!(looks.due(&reading(12), at(6)), "the same for 5 ms: the first look");
        assert!(!looks.due(&reading(12), at(20)), "looked at this RSS already");
        assert!(!looks.due(&reading(16), at(21)));
        assert!(!looks.due(&reading(16), at(30)), "settled, but grown by 4 MiB, less than half the data");
        assert!(!looks.due(&reading(17), at(31)));
        assert!(looks.due(&reading(17), at(36)), "grown by half the data and settled: another look");
        assert!(!looks.due(&reading(18), at(40)));
        assert!(!looks.due(&reading(18), at(89)), "grown by 1 MiB, still for 49 ms");
        assert!(looks.due(&reading(18), at(90)), "grown at all and still for 50 ms: another look");
        assert!(!looks.due(&reading(18), at(200)), "nothing new since");

        let mut capped = HugePageLooks::new(1, 2);
        let due: usize = (0..2 * MAX_LOOKS as u64)
            .filter(|&k| capped.due(&reading(4 * k), at(6 * k)) || capped.due(&reading(4 * k), at(6 * k + 5)))
            .count();
        assert_eq!(due, MAX_LOOKS as usize, "never more than MAX_LOOKS looks a run");
    }

    #[test]
    fn the_look_with_the_most_huge_pages_is_kept() {
        let mut looks = HugePageLooks::new(1, 1 << 20);
        let seen = |anonymous: u64, huge: u64| AnonMemory { anonymous_bytes: anonymous << 20, huge_bytes: huge << 20 };
        looks.keep(seen(20, 0));
        looks.keep(seen(40, 16));
        looks.keep(seen(45, 12));
        assert_eq!(looks.found(), Some(seen(40, 16)), "a later look with fewer huge pages does not replace it");
    }

    #[test]
    fn this_process_can_be_looked_at() {
        // This test process's own rollup stands in for a child's.
        let me = read_rollup(std::process::id() as libc::pid_t).expect("smaps_rollup of this process");
        assert!(me.anonymous_bytes > 0 && me.huge_bytes <= me.anonymous_bytes, "{me:?}");
    }

    #[test]
    fn a_process_that_is_gone_is_not_looked_at() {
        let mut looks = HugePageLooks::new(i32::MAX, 1 << 30);
        let start = Instant::now();
        looks.offer(&reading(100), start);
        looks.offer(&reading(100), start + Duration::from_millis(10));
        assert_eq!(looks.found(), None);
    }
}
