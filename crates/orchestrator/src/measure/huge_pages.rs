//! How much of a running child's anonymous memory Linux backs with huge pages, looked at from
//! outside in /proc/PID/smaps_rollup: where an implementation's data lay while it trained (its
//! layout decides its speed near the L2's size, docs/limits.md), seen in the measured process
//! itself rather than assumed from its policy. `linreg` puts its data on whole huge pages from a
//! third of the L2 up, NumPy madvises arrays of 4 MiB or more, and a fault may get 4 KiB pages all
//! the same when memory is fragmented.
//!
//! A look walks the child's page tables under its memory map's read lock, so an mmap or munmap of
//! the child's waits for it: 32 µs for `linreg` holding 640 MB on huge pages, 2.2 ms for the same on
//! 4 KiB pages (medians of 50 reads, Emerald Rapids family 6 model 207, 2026-12-05). Taken only in
//! runs whose data
//! could lie on huge pages at all, and only when the tree's RSS has stopped growing (the same for
//! [`SETTLED_FOR`]) after growing by half the data's size (at most [`GROWTH_BETWEEN_LOOKS`]) since the last
//! look: the data loaded, the epochs running. A handful of looks a run; the one that found the most
//! huge pages is kept.

use std::fs::File;
use std::io::Read;
use std::time::{Duration, Instant};

use super::procfs::TreeReading;

/// A new look only after the RSS has grown by half the data or this much since the last, whichever
/// is less (an interpreter's imports grow it in steps; the data is one more, and may be smaller).
const GROWTH_BETWEEN_LOOKS: u64 = 4 << 20;
/// The RSS has settled when it has not changed for this long: a program filling its data may
/// pause between two 1 ms ticks (a fault zeroing a huge page, a moment off its CPU), and a look
/// then would see part of it (seen in a test: 62 of 64 MiB).
const SETTLED_FOR: Duration = Duration::from_millis(5);

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
    /// The RSS last read and since when it has had that value.
    unchanged: Option<(u64, Instant)>,
    looked_at_rss: Option<u64>,
    found: Option<AnonMemory>,
}

impl HugePageLooks {
    /// Looks at `pid`, whose data takes `data_bytes`.
    pub(crate) fn new(pid: libc::pid_t, data_bytes: u64) -> Self {
        let growth_bytes = (data_bytes / 2).clamp(1, GROWTH_BETWEEN_LOOKS);
        HugePageLooks { pid, growth_bytes, unchanged: None, looked_at_rss: None, found: None }
    }

    /// Looks when `reading`, taken at `now`, says the tree's RSS has settled after growing (see
    /// the module).
    pub(crate) fn offer(&mut self, reading: &TreeReading, now: Instant) {
        let rss = reading.rss_bytes;
        let since = match self.unchanged {
            Some((same, since)) if same == rss => since,
            _ => now,
        };
        self.unchanged = Some((rss, since));
        let settled = now.saturating_duration_since(since) >= SETTLED_FOR;
        let grown = self.looked_at_rss.is_none_or(|at| rss >= at.saturating_add(self.growth_bytes));
        if reading.processes > 0 && settled && grown {
            self.looked_at_rss = Some(rss);
            if let Some(now) = read_rollup(self.pid) {
                if self.found.is_none_or(|best| now.huge_bytes >= best.huge_bytes) {
                    self.found = Some(now);
                }
            }
        }
    }

    pub(crate) fn found(&self) -> Option<AnonMemory> {
        self.found
    }
}

/// /proc/PID/smaps_rollup's anonymous memory, None where it cannot be read (the process gone, a
/// kernel without it, another user's process).
fn read_rollup(pid: libc::pid_t) -> Option<AnonMemory> {
    let mut text = String::new();
    File::open(format!("/proc/{pid}/smaps_rollup")).ok()?.read_to_string(&mut text).ok()?;
    parse_rollup(&text)
}

/// `Anonymous:  N kB` and `AnonHugePages:  N kB` from smaps_rollup's text; None when either is
/// missing.
fn parse_rollup(text: &str) -> Option<AnonMemory> {
    let kib = |field: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|number| number.trim().parse::<u64>().ok())
            .map(|k| k * 1024)
    };
    Some(AnonMemory { anonymous_bytes: kib("Anonymous:")?, huge_bytes: kib("AnonHugePages:")? })
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

    /// Offers `rss_mib` at `at_ms` after `start`.
    fn offer(looks: &mut HugePageLooks, start: Instant, at_ms: u64, rss_mib: u64) {
        looks.offer(&reading(rss_mib), start + Duration::from_millis(at_ms));
    }

    #[test]
    fn looks_come_when_the_rss_has_settled_after_growing() {
        // This test process's own rollup stands in for a child's.
        let me = std::process::id() as libc::pid_t;
        let start = Instant::now();
        let mut looks = HugePageLooks::new(me, 100 << 20);
        offer(&mut looks, start, 0, 10);
        offer(&mut looks, start, 1, 12);
        offer(&mut looks, start, 2, 12);
        offer(&mut looks, start, 5, 12);
        assert_eq!(looks.found(), None, "the same for 4 ms: not settled yet");
        offer(&mut looks, start, 6, 12);
        let first = looks.found().expect("the same for 5 ms: settled, a look");
        assert!(first.huge_bytes <= first.anonymous_bytes || first.anonymous_bytes == 0);
        looks.found = None;
        offer(&mut looks, start, 8, 13);
        offer(&mut looks, start, 20, 13);
        assert_eq!(looks.found(), None, "settled, but grown by less than GROWTH_BETWEEN_LOOKS");
        offer(&mut looks, start, 21, 17);
        offer(&mut looks, start, 30, 17);
        assert!(looks.found().is_some(), "grown by 5 MiB and settled: another look");

        // Data of 1.6 MB: a look after 0.8 MB of growth.
        let mut small = HugePageLooks::new(me, 1_600_000);
        small.looked_at_rss = Some(30 << 20);
        offer(&mut small, start, 0, 31);
        offer(&mut small, start, 5, 31);
        assert!(small.found().is_some(), "grown by 1 MiB, more than half the data");
    }

    #[test]
    fn a_process_that_is_gone_is_not_looked_at() {
        let mut looks = HugePageLooks::new(i32::MAX, 1 << 30);
        let start = Instant::now();
        offer(&mut looks, start, 0, 100);
        offer(&mut looks, start, 10, 100);
        assert_eq!(looks.found(), None);
    }
}
