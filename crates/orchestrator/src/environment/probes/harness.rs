//! Timing work on several threads at once: every thread starts each sample together (a barrier),
//! and a sample lasts from the first thread starting it to the last one finishing it — the slowest
//! thread sets the pace, as it does for a parallel kernel's epoch.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::ProbeError;
use crate::stats;

/// The seconds each of `samples` samples took, `work(thread_index)` running once per sample on each
/// of `threads` threads. Each thread runs `work` once untimed first: its data reaches its caches
/// (or its pages are touched from its core) and the clock ramps up.
pub(super) fn time_together<W>(threads: usize, samples: usize, work: W) -> Result<Vec<f64>, ProbeError>
where
    W: Fn(usize) + Sync,
{
    if threads == 0 || samples == 0 {
        return Err(ProbeError::NothingToMeasure { threads, passes: samples });
    }
    let barrier = SpinBarrier::new(threads);
    let per_thread: Vec<Vec<(Instant, Instant)>> = thread::scope(|scope| {
        // Each thread waits for a go before it first meets the barrier: if a later thread cannot
        // be started, the senders are dropped and the started ones return instead of waiting
        // forever for a party that will never come.
        let mut goes = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let (go, wait_for_go) = mpsc::channel::<()>();
            let (barrier, work) = (&barrier, &work);
            let spawned = thread::Builder::new().name("machine-probe".into()).spawn_scoped(scope, move || {
                wait_for_go.recv().ok().map(|()| {
                    work(index);
                    (0..samples)
                        .map(|_| {
                            barrier.wait();
                            let start = Instant::now();
                            work(index);
                            (start, Instant::now())
                        })
                        .collect::<Vec<_>>()
                })
            });
            match spawned {
                Ok(handle) => {
                    goes.push(go);
                    handles.push(handle);
                }
                Err(e) => return Err(ProbeError::ThreadStart(e)),
            }
        }
        for go in &goes {
            // A send fails only if that thread is gone already; its join below reports it.
            let _ = go.send(());
        }
        handles.into_iter().map(|h| h.join().ok().flatten().ok_or(ProbeError::ThreadPanicked)).collect()
    })?;

    Ok((0..samples)
        .map(|sample| {
            let windows = per_thread.iter().map(|w| w[sample]);
            let first_start = windows.clone().map(|(start, _)| start).min();
            let last_end = windows.map(|(_, end)| end).max();
            match (first_start, last_end) {
                (Some(start), Some(end)) => end.saturating_duration_since(start).as_secs_f64(),
                _ => 0.0,
            }
        })
        .collect())
}

/// [`time_together`] with `passes` calls of `pass` a sample on each thread, the threads meeting
/// after every one: each stores what its pass returned on cache lines of its own, all wait at a
/// spinning barrier, and thread 0 adds the stored values, as a parallel gradient-descent kernel
/// gathers its threads' sums once an epoch before the next can start.
pub(super) fn time_meeting_every_pass<P>(threads: usize, samples: usize, passes: u64, pass: P) -> Result<Vec<f64>, ProbeError>
where
    P: Fn(usize) -> f64 + Sync,
{
    /// A value on its own pair of cache lines (the adjacent-line prefetcher pulls lines in pairs).
    #[repr(align(128))]
    struct OwnLines(AtomicU64);
    let barrier = SpinBarrier::new(threads);
    let sums: Vec<OwnLines> = (0..threads).map(|_| OwnLines(AtomicU64::new(0))).collect();
    time_together(threads, samples, |i| {
        for _ in 0..passes {
            sums[i].0.store(pass(i).to_bits(), Ordering::Relaxed);
            barrier.wait();
            if i == 0 {
                std::hint::black_box(sums.iter().map(|s| f64::from_bits(s.0.load(Ordering::Relaxed))).sum::<f64>());
            }
        }
    })
}

/// `pairs` pairs of one run of `a` and one of `b`, their order turned every pair (A B, B A, A B …):
/// a trend over the measurement favours neither. The first error stops it.
pub(super) fn alternating_pairs<T, E>(
    pairs: usize,
    mut a: impl FnMut() -> Result<T, E>,
    mut b: impl FnMut() -> Result<T, E>,
) -> Result<Vec<(T, T)>, E> {
    (0..pairs)
        .map(|pair| {
            if pair % 2 == 0 {
                let first = a()?;
                Ok((first, b()?))
            } else {
                let second = b()?;
                Ok((a()?, second))
            }
        })
        .collect()
}

/// Whether the clock timed a sample of `seconds`: above zero and finite (a pass too short for the
/// clock reads 0).
pub(super) fn timed_ok(seconds: f64) -> bool {
    seconds > 0.0 && seconds.is_finite()
}

/// The order of `count` things timed in turn number `round`: the one that goes first turning
/// every turn (`(round + k) % count`), so that each goes first, second and last as often as the
/// others, and each two are next to each other as often (over a multiple of `count` turns); of
/// two, turns A B then B A.
pub(super) fn turn_order(round: usize, count: usize) -> impl Iterator<Item = usize> {
    (0..count).map(move |k| (round + k) % count)
}

/// [`alternating_pairs`] of three: `pairs` rounds of `a`, `b` and `c` in [`turn_order`].
pub(super) fn rotating_triples<T, E>(
    rounds: usize,
    mut a: impl FnMut() -> Result<T, E>,
    mut b: impl FnMut() -> Result<T, E>,
    mut c: impl FnMut() -> Result<T, E>,
) -> Result<Vec<(T, T, T)>, E> {
    (0..rounds)
        .map(|round| {
            let mut got: [Option<T>; 3] = [None, None, None];
            for which in turn_order(round, 3) {
                got[which] = Some(match which {
                    0 => a()?,
                    1 => b()?,
                    _ => c()?,
                });
            }
            let [Some(a), Some(b), Some(c)] = got else { unreachable!("each of the three ran once") };
            Ok((a, b, c))
        })
        .collect()
}

/// A barrier that spins rather than sleeps: a futex wake-up takes tens of microseconds on a VM (70
/// here), and the last thread to wake would start its part of every sample that much late, which a
/// sample's window counts. The probe's threads are busy between samples anyway. After
/// [`SPIN_BEFORE_YIELD`] of spinning a thread yields, so that on a machine with fewer free CPUs than
/// threads the one it waits for can run.
struct SpinBarrier {
    parties: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

/// How long a waiting thread spins before each yield: a time, not a count of `pause`s, whose length
/// is the CPU's (from a few cycles to ~140 by Intel's and AMD's manuals; 16 384 of them, the
/// count this was before, took ~0.7 ms on an Emerald Rapids). Longer than any wait of two threads
/// that both run (a pass of the largest working set is a few ms, the threads within a few percent
/// of each other), short enough that a thread whose partner was descheduled gives its CPU up soon.
const SPIN_BEFORE_YIELD: Duration = Duration::from_micros(50);

/// `pause`s between two looks at the clock while waiting: a clock read costs about as much as tens
/// of them, and the first look only starts the wait's clock, so a short wait reads it at most once.
const PAUSES_A_LOOK: u32 = 128;

impl SpinBarrier {
    fn new(parties: usize) -> Self {
        SpinBarrier { parties, arrived: AtomicUsize::new(0), generation: AtomicUsize::new(0) }
    }

    fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.store(generation.wrapping_add(1), Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        let mut spinning_since = None;
        while self.generation.load(Ordering::Acquire) == generation {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(PAUSES_A_LOOK) {
                let now = Instant::now();
                if now.duration_since(*spinning_since.get_or_insert(now)) >= SPIN_BEFORE_YIELD {
                    thread::yield_now();
                    spinning_since = Some(Instant::now());
                }
            }
            std::hint::spin_loop();
        }
    }
}

/// The fastest, median and slowest rate over a probe's samples, in units of what was done per
/// second. The fastest is the figure to compare against: on a shared machine interference (other
/// processes, frequency dips) only ever slows a sample down, so the fastest sample is the closest
/// estimate of what the hardware can do (the STREAM convention). The median and the slowest show
/// how far the machine was from that while probed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub best: f64,
    pub median: f64,
    pub worst: f64,
}

impl Spread {
    /// `amount` done in each sample of `seconds` (non-empty). A sample is never shorter than the
    /// clock's resolution: the floor keeps a rate finite.
    pub(super) fn of_rates(amount: f64, seconds: &[f64]) -> Spread {
        let mut rates: Vec<f64> = seconds.iter().map(|s| amount / s.max(1e-9)).collect();
        rates.sort_by(f64::total_cmp);
        Spread {
            best: rates.last().copied().unwrap_or(f64::NAN),
            median: stats::median(&rates).unwrap_or(f64::NAN),
            worst: rates.first().copied().unwrap_or(f64::NAN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_runs_every_sample_plus_a_warm_up() {
        let calls = AtomicUsize::new(0);
        let seconds = time_together(3, 4, |_| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .expect("threads start");
        assert_eq!(seconds.len(), 4);
        assert_eq!(calls.load(Ordering::Relaxed), 3 * (4 + 1));
        assert!(seconds.iter().all(|s| s.is_finite() && *s >= 0.0));
        assert!(matches!(time_together(0, 1, |_| ()), Err(ProbeError::NothingToMeasure { .. })));
        assert!(matches!(time_together(1, 0, |_| ()), Err(ProbeError::NothingToMeasure { .. })));
    }

    #[test]
    fn the_spin_barrier_lets_no_thread_run_ahead() {
        let (barrier, rounds) = (SpinBarrier::new(3), 200);
        let done = [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)];
        thread::scope(|scope| {
            for me in 0..3 {
                let (barrier, done) = (&barrier, &done);
                scope.spawn(move || {
                    for round in 0..rounds {
                        // Nobody has finished more rounds than this thread when it passes.
                        assert!(done.iter().all(|d| d.load(Ordering::SeqCst) <= round + 1));
                        done[me].fetch_add(1, Ordering::SeqCst);
                        barrier.wait();
                    }
                });
            }
        });
        assert!(done.iter().all(|d| d.load(Ordering::SeqCst) == rounds));
    }

    #[test]
    fn threads_meeting_every_pass_never_run_a_pass_ahead() {
        let (threads, samples, passes) = (3, 2, 50);
        let done = [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)];
        let ahead = AtomicUsize::new(0);
        let seconds = time_meeting_every_pass(threads, samples, passes, |me| {
            let mine = done[me].load(Ordering::SeqCst);
            // Every other thread has finished this thread's passes so far, and at most one more.
            // Counted, not asserted here: a thread that panicked would leave the others waiting.
            if !done.iter().all(|d| (mine..=mine + 1).contains(&d.load(Ordering::SeqCst))) {
                ahead.fetch_add(1, Ordering::SeqCst);
            }
            done[me].fetch_add(1, Ordering::SeqCst);
            1.0
        })
        .expect("threads start");
        assert_eq!(ahead.load(Ordering::SeqCst), 0);
        assert_eq!(seconds.len(), samples);
        // A warm-up call and `samples` timed ones, `passes` passes each.
        assert!(done.iter().all(|d| d.load(Ordering::SeqCst) == (samples + 1) * passes as usize));
    }

    #[test]
    fn pairs_and_triples_turn_their_order_and_stop_at_the_first_error() {
        let calls = std::cell::RefCell::new(Vec::new());
        let run = |name: char| {
            calls.borrow_mut().push(name);
            Ok::<char, ()>(name)
        };
        let pairs = alternating_pairs(3, || run('a'), || run('b')).expect("no error");
        assert_eq!(pairs, vec![('a', 'b'); 3], "each pair is (a, b), whatever ran first");
        assert_eq!(calls.take(), vec!['a', 'b', 'b', 'a', 'a', 'b']);
        // Three: each goes first in turn, each triple in the closures' order.
        let triples = rotating_triples(3, || run('a'), || run('b'), || run('c')).expect("no error");
        assert_eq!(triples, vec![('a', 'b', 'c'); 3]);
        assert_eq!(calls.into_inner().iter().collect::<String>(), "abcbcacab");
        assert_eq!(rotating_triples(2, || Ok(1), || Err("b failed"), || Ok(3)), Err("b failed"));
        let mut runs = 0;
        let failed = alternating_pairs(
            4,
            || {
                runs += 1;
                if runs == 3 {
                    Err("third run")
                } else {
                    Ok(())
                }
            },
            || Ok(()),
        );
        assert_eq!(failed, Err("third run"));
    }

    #[test]
    fn spread_orders_rates_and_takes_the_median() {
        let spread = Spread::of_rates(10.0, &[2.0, 1.0, 5.0]);
        assert_eq!((spread.best, spread.median, spread.worst), (10.0, 5.0, 2.0));
    }
}
