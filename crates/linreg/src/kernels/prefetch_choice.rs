//! Whether to sum with software prefetches ([`super::simd::gradient_sums_prefetching`]): chosen by
//! timing, where the data a thread reads every epoch is larger than its core's L2, by each thread
//! of the parallel kernel's pool (`parallel`) and by a kernel on one thread, the simd kernel's or
//! the parallel kernel's ([`Prefetching`]). Where the data is past the L2 the lines a pass needs
//! come from the L3 or memory, and how many of those misses the gradient loop keeps in flight (four
//! vector operations waiting on each vector of points) is the core's: a prefetch 32 lines ahead
//! adds more. It is an instruction more a line where the line is there anyway, so it pays on some
//! cores and costs on others; no rule about sizes or CPUs decides, the fit's own epochs do. The
//! sums are the same bits either way.
//!
//! On one thread, reading forward (the simd kernel; a scratch program alternating the two loops
//! pass by pass on heap pages, 30–2 000 pairs a size, median of the pairs' ratios, Emerald Rapids
//! family 6 model 207, 2 MiB L2, 2026-12-07): prefetching 0.954× the time at 1.5·10^5 points,
//! 0.96–0.99× at 3·10^5–3·10^6 (the L3), 0.905–0.912× at 10^7 and 4·10^7 (memory); and 0.935× at
//! 10^5, within the L2 but on 4 KiB heap pages, some of whose lines the L2's sets cannot all hold
//! (the kernels' data lies on whole huge pages there, and the kernel does not try within the L2).

use std::time::{Duration, Instant};

use super::parallel::{data_bytes, BLOCK_POINTS};
use super::simd::{self, Isa};
use super::PrefetchChoices;

/// Whether a thread of a pool sums its blocks with software prefetches
/// ([`simd::gradient_sums_prefetching`]), chosen by timing the thread's own epochs where its share
/// of the data is larger than its core's L2 (`parallel`'s `Pool::prefetch_may_pay`; below it
/// every line is in the L2 and a prefetch only costs an instruction: 5–8% of an epoch at 10^5
/// points on two threads, Emerald Rapids). After [`PREFETCH_SETTLING_EPOCHS`] without, pairs of
/// timed epochs (one each way, see [`super::back_and_forth::block_at`], where runs of epochs are
/// even) take turns, with, without, without, with (so that a drift in the machine's speed falls
/// on both alike), the first [`RUN_SETTLING_EPOCHS`] of each run of epochs untimed, up to
/// [`PREFETCH_TRIALS`] each way; the prefetch is kept for the pool's life only where it was the
/// faster in [`PREFETCH_WINS`] or more of those pairs (the `k`th epoch timed with it against the
/// `k`th without, two epochs apart): a sign test, which a prefetch that changes nothing passes 4%
/// of the time. The test stops as soon as its outcome is settled, the same outcome as over all
/// the pairs: kept at the 12th pair won, refused at the 5th lost (at epoch 32 where the prefetch
/// wins every pair, 19 where it loses every one; 40 at most). The sums are the same bits either
/// way. A choice each thread makes, not a rule about sizes: how much of a share
/// past the L2 misses, and what a miss costs the loop, are the core's.
///
/// Why a sign test and not the lower median: on a Zen 4 (family 25 model 17, AVX2, 1 MiB L2 a
/// core) the prefetch costs 0–8% at 1.4·10^5 points, 5–9% at 2·10^5, 22% at 10^6 and 2–4% at
/// 10^7 (`linreg --threads 2` processes with it forced on and off), yet by the medians one thread
/// or both chose it in 6 of 22 fits at 10^7 and 1 of 22 at 1.4·10^5 (`make bench-kernels`, a busy
/// hour) and in 3 of 59 fits at 1.4·10^5–10^7 in a quieter one: 16 epochs each way differ by more
/// than 3% from the host alone. In 32 of those fits the pairs the prefetch won were logged: 0–9
/// of 16 (64 choices). The sign test chose it in none of 48 fits at 1.4·10^5, 2·10^5, 10^6 and
/// 10^7.
///
/// Measured on an Emerald Rapids (family 6 model 207, 2 MiB L2 a core; `linreg --threads 2`
/// processes before and after, 9 alternating rounds of 10^9 point-epochs, median ratio of times):
/// 0.969× at 2.7·10^5 points, 0.920× at 2.8·10^5, 0.921× at 2.9·10^5, 0.942× at 3·10^5, 0.978× at
/// 3.2·10^5, level (0.998–1.010×) at 3.5·10^5, 4·10^5 and 10^6 (where the threads chose either
/// way); at 10^7 points in fits of 100 epochs both threads chose it, 0.965× (7 rounds; fits of 20
/// epochs end before the choice, 1.010×). Why settle first and time eight
/// pairs each way: the first ~10 epochs of a pool ran 20–80% slower than the rest, and a first
/// version that timed 4 pairs from the third epoch chose against prefetching in 2 of 3 fits at
/// 2.8·10^5, where it saves 8%; this one chose it in 12 of 12 fits at 2.8–3.2·10^5 (both threads).
#[derive(Debug, Default)]
pub(crate) struct PrefetchChoice {
    /// Time a block in the epochs timed without and with prefetches, in the order timed.
    without: Vec<Duration>,
    with: Vec<Duration>,
    pub(crate) chosen: Option<bool>,
}

/// Epochs a thread of a pool sums without prefetches, untimed, before it tries them (see
/// [`PrefetchChoice`]): the pool's first epochs are slower than the rest.
pub(crate) const PREFETCH_SETTLING_EPOCHS: u64 = 8;

/// The most epochs timed each way before a thread chooses whether to prefetch: 8 turns of two
/// epochs each way, 16 pairs (fewer where the outcome is settled sooner).
pub(crate) const PREFETCH_TRIALS: usize = 16;

/// The pairs of [`PREFETCH_TRIALS`] the prefetch must win to be kept: the fewest that a way
/// which changes nothing (each pair won or lost at even odds) reaches no more than one time in
/// [`PREFETCH_CHANCE`] (12 of 16: 3.8%).
pub(crate) const PREFETCH_WINS: usize = sign_test_wins(PREFETCH_TRIALS as u32, PREFETCH_CHANCE);

/// See [`PREFETCH_WINS`]: one time in 20, a one-sided test at 5%.
const PREFETCH_CHANCE: u64 = 20;

/// The fewest wins `k` of `pairs` fair coin flips for which the chance of `k` or more is at most
/// one in `chance`: `chance × Σ_{i≥k} C(pairs, i) ≤ 2^pairs`.
const fn sign_test_wins(pairs: u32, chance: u64) -> usize {
    let (mut k, mut tail, mut choose) = (pairs, 0u64, 1u64);
    // Down from all pairs won: `choose` is C(pairs, k), `tail` Σ_{i>k} C(pairs, i).
    loop {
        if chance * (tail + choose) > 1u64 << pairs {
            return k as usize + 1;
        }
        if k == 0 {
            return 0;
        }
        tail += choose;
        choose = choose * k as u64 / (pairs - k + 1) as u64;
        k -= 1;
    }
}

/// The first epochs of each run of epochs on the pool, which a thread does not time while it
/// chooses whether to prefetch: `auto`'s runs on the pool follow its epochs alone, which took the
/// data through the calling thread's L2, and the first of them are slow for that (see
/// `parallel`'s `SETTLING_EPOCHS`); timed, they would fall on one way more than the other.
const RUN_SETTLING_EPOCHS: u64 = 2;

impl PrefetchChoice {
    /// Whether the thread's `epoch`th epoch on the pool (counted from 1), the `into_run`th of its
    /// run of epochs (from 0), prefetches, and whether it is timed. The turns follow the epochs
    /// timed, not the epochs run: an epoch untimed (a run's first, a thread's catching up) takes
    /// no one's turn.
    pub(crate) fn for_epoch(&self, epoch: u64, into_run: u64) -> (bool, bool) {
        match self.chosen {
            Some(prefetch) => (prefetch, false),
            None if epoch <= PREFETCH_SETTLING_EPOCHS || into_run < RUN_SETTLING_EPOCHS => (false, false),
            None => {
                let pair = (self.with.len() + self.without.len()) / 2;
                (matches!(pair % 4, 0 | 3), true)
            }
        }
    }

    /// An epoch timed: `per_block`, with or without prefetches.
    pub(crate) fn record(&mut self, prefetched: bool, per_block: Duration) {
        if self.chosen.is_some() {
            return;
        }
        if prefetched { &mut self.with } else { &mut self.without }.push(per_block);
        // Settled once the prefetch has won enough of the pairs so far, or lost more than the
        // trials leave it.
        let pairs = self.pairs();
        let wins = self.with.iter().zip(&self.without).filter(|(with, without)| with < without).count();
        let losses = pairs - wins;
        if wins >= PREFETCH_WINS {
            self.chosen = Some(true);
        } else if losses > PREFETCH_TRIALS - PREFETCH_WINS {
            self.chosen = Some(false);
        }
    }

    /// The pairs timed so far (the shorter way's count); no more are timed after the choice.
    pub(crate) fn pairs(&self) -> usize {
        self.with.len().min(self.without.len())
    }

    /// This thread's choice as [`PrefetchChoices`] counts it.
    pub(crate) fn choices(&self) -> PrefetchChoices {
        PrefetchChoices {
            kept: usize::from(self.chosen == Some(true)),
            refused: usize::from(self.chosen == Some(false)),
            most_pairs: self.pairs(),
        }
    }
}

/// Whether each of `threads` threads' share of `n` points (16 bytes each: x and y) is larger than
/// an L2 of `l2_bytes`, or the L2 is unknown.
pub(crate) fn share_past_l2(n: usize, threads: usize, l2_bytes: Option<u64>) -> bool {
    let share = data_bytes(n) / threads.max(1) as u64;
    l2_bytes.is_none_or(|l2| share > l2)
}

/// Whether the threads of a pool of `threads` try prefetches on `n` points (`parallel`'s
/// `Pool::prefetch_may_pay`): each share past its core's L2, or the L2 unknown.
pub(crate) fn pool_tries(n: usize, threads: usize) -> bool {
    share_past_l2(n, threads, crate::caches::cpu0_l2_bytes())
}

/// Whether the simd kernel's one thread tries prefetches on `n` points ([`Prefetching::for_points`]).
pub(crate) fn one_thread_tries(n: usize) -> bool {
    let l2 = crate::caches::cpu0_l2_bytes().unwrap_or(data_bytes(BLOCK_POINTS));
    share_past_l2(n, 1, Some(l2))
}

/// The simd kernel's one thread choosing as a pool's thread does ([`PrefetchChoice`]): its epochs
/// counted from the first (one run of epochs: the fits of a process follow each other on data the
/// caches already hold), the timed ones timed whole, with two clock reads each, 11–32 of them.
#[derive(Debug, Default)]
pub(crate) struct Prefetching {
    choice: PrefetchChoice,
    epochs: u64,
}

impl Prefetching {
    /// For `n` points on one thread: where they are past the core's L2. Where sysfs names no L2,
    /// past one block of the parallel kernel (256 KiB, within every L2 met), where a pool would
    /// start: not on every fit, a few points included, as "unknown: try" would have it.
    pub(crate) fn for_points(n: usize) -> Option<Prefetching> {
        one_thread_tries(n).then(Prefetching::default)
    }

    /// One epoch's gradient sums, with or without prefetches as the choice stands.
    #[inline(never)]
    pub(crate) fn sums(&mut self, isa: Isa, x: &[f64], y: &[f64], w: f64, b: f64) -> (f64, f64) {
        self.sums_with(
            |prefetch| if prefetch { simd::gradient_sums_prefetching(isa, x, y, w, b) } else { simd::gradient_sums(isa, x, y, w, b) },
        )
    }

    /// One epoch's gradient sums by `sum`, told whether to prefetch as the choice stands (the same
    /// bits either way): the simd kernel's loop over all the data, or the parallel kernel's
    /// blocks on its one thread.
    pub(crate) fn sums_with(&mut self, sum: impl FnOnce(bool) -> (f64, f64)) -> (f64, f64) {
        self.epochs += 1;
        let (prefetch, timed) = self.choice.for_epoch(self.epochs, self.epochs - 1);
        if !timed {
            return sum(prefetch);
        }
        let started = Instant::now();
        let sums = sum(prefetch);
        self.choice.record(prefetch, started.elapsed());
        sums
    }

    /// The epochs summed so far, over every fit that carried this choice.
    #[cfg(test)]
    pub(crate) fn epochs(&self) -> u64 {
        self.epochs
    }

    /// The one thread's choice, as a pool counts its threads'.
    pub(crate) fn choices(&self) -> PrefetchChoices {
        self.choice.choices()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn median(times: &mut [Duration]) -> Duration {
        times.sort_unstable();
        times[times.len() / 2]
    }

    /// The epochs a thread runs while it chooses, in runs of `run` epochs: (prefetched, timed)
    /// each, the timed ones recorded at 90 µs a block the `faster` way and 100 the other.
    fn trials(faster: bool, run: u64) -> (PrefetchChoice, Vec<(bool, bool)>) {
        let mut choice = PrefetchChoice::default();
        let mut epochs = Vec::new();
        for epoch in 1..200 {
            let (prefetch, timed) = choice.for_epoch(epoch, (epoch - 1) % run);
            if timed {
                choice.record(prefetch, Duration::from_micros(if prefetch == faster { 90 } else { 100 }));
            }
            epochs.push((prefetch, timed));
            if choice.chosen.is_some() {
                break;
            }
        }
        (choice, epochs)
    }

    #[test]
    fn a_thread_tries_prefetching_in_turns_after_settling_and_keeps_the_faster_way() {
        let turn = [true, true, false, false, false, false, true, true];
        // Faster in every pair: kept at the 12th pair, 12 epochs each way. Slower in every pair:
        // refused at the 5th, 6 epochs with and 5 without.
        for (faster, with, without) in [(true, 12, 12), (false, 6, 5)] {
            // One long run: 8 settling epochs without, untimed, then pairs with, without,
            // without, with, until the sign test is settled.
            let (mut choice, epochs) = trials(faster, u64::MAX);
            let settling = PREFETCH_SETTLING_EPOCHS as usize;
            assert!(epochs[..settling].iter().all(|&e| e == (false, false)), "{epochs:?}");
            let ways: Vec<bool> = epochs[settling..].iter().map(|&(prefetch, timed)| timed.then_some(prefetch).expect("timed")).collect();
            assert_eq!(ways, [turn; 4].concat()[..with + without]);
            assert_eq!((choice.chosen, choice.with.len(), choice.without.len()), (Some(faster), with, without));
            // Kept, and no longer timed; a late time changes nothing.
            choice.record(!faster, Duration::ZERO);
            assert_eq!((choice.for_epoch(1000, 5), choice.chosen), ((faster, false), Some(faster)));
            // Runs of 8 (`auto`'s while it calibrates): each run's first 2 epochs untimed, and
            // the turns go on over them, as if they were not there.
            let (choice, epochs) = trials(faster, 8);
            let timed: Vec<bool> = epochs.iter().filter(|&&(_, timed)| timed).map(|&(prefetch, _)| prefetch).collect();
            assert_eq!(timed, [turn; 4].concat()[..with + without]);
            assert!(epochs.chunks(8).all(|run| run[..2].iter().all(|&e| e == (false, false))), "{epochs:?}");
            assert_eq!(choice.chosen, Some(faster));
        }
    }

    /// The epochs `kernels::PREFETCH_CHOICE_EPOCHS` says a choice takes are the test's own: the
    /// soonest where the prefetch loses every pair (sooner than where it wins every one), the
    /// latest where all the pairs are timed.
    #[test]
    fn the_choice_is_made_within_the_epochs_the_kernels_state() {
        let (soonest, latest) = crate::kernels::PREFETCH_CHOICE_EPOCHS;
        let made_at = |faster: bool| trials(faster, u64::MAX).1.len() as u64;
        assert_eq!((made_at(false), made_at(true)), (soonest, 32));
        assert_eq!(PREFETCH_SETTLING_EPOCHS + 2 * PREFETCH_TRIALS as u64, latest);
    }

    #[test]
    fn the_prefetch_is_kept_only_where_it_wins_enough_pairs_not_by_a_lower_median() {
        assert_eq!(PREFETCH_WINS, 12, "12 of 16: 2517 / 65536 = 3.8% by chance, 11: 10.5%");
        assert_eq!((sign_test_wins(8, 20), sign_test_wins(1, 2), sign_test_wins(16, 1)), (7, 1, 0));
        // The prefetch 10% faster in `won` pairs and 1% slower in the rest, in the pairs' order
        // shuffled by a stride: its median is the lower from 9 wins up, yet only 12 keep it.
        for won in [0, 9, 11, 12, 16] {
            let mut choice = PrefetchChoice::default();
            for pair in 0..PREFETCH_TRIALS {
                let wins = (pair * 7) % PREFETCH_TRIALS < won;
                choice.record(false, Duration::from_micros(100));
                choice.record(true, Duration::from_micros(if wins { 90 } else { 101 }));
            }
            let median_lower = median(&mut choice.with.clone()) < median(&mut choice.without.clone());
            assert_eq!(median_lower, won >= 9, "{won}");
            assert_eq!(choice.chosen, Some(won >= 12), "{won} pairs won of 16");
        }
    }

    /// Stopping once the outcome is settled chooses as the whole test would, for every way the
    /// 16 pairs can fall (each won or lost, in any order).
    #[test]
    fn the_test_stops_early_with_the_outcome_of_all_the_pairs() {
        for outcomes in 0u32..1 << PREFETCH_TRIALS {
            let won = |pair: usize| outcomes & (1 << pair) != 0;
            let mut choice = PrefetchChoice::default();
            let mut pairs = 0;
            while choice.chosen.is_none() {
                choice.record(true, Duration::from_micros(if won(pairs) { 90 } else { 100 }));
                choice.record(false, Duration::from_micros(95));
                pairs += 1;
            }
            assert!(pairs <= PREFETCH_TRIALS);
            assert_eq!(choice.chosen, Some(outcomes.count_ones() as usize >= PREFETCH_WINS), "{outcomes:016b} settled after {pairs}");
        }
    }

    #[test]
    fn prefetching_is_tried_where_a_threads_share_is_larger_than_its_l2_or_the_l2_unknown() {
        let l2 = Some(2 << 20);
        // 16 bytes a point: two threads' halves of 262 144 points fill 2 MiB L2s exactly.
        assert!(!share_past_l2(262_144, 2, l2));
        assert!(share_past_l2(262_146, 2, l2));
        assert!(!share_past_l2(10_000_000, 128, l2));
        assert!(share_past_l2(10_000_000, 2, l2));
        assert!(share_past_l2(1_000, 2, None));
    }
}
