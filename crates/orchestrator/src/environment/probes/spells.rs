//! What a machine's slow spells cost each loop: the probe's read loop and the kernels' loop timed
//! pass by pass, in pairs, on each thread free-running (no meeting), for a few seconds. A limit is
//! the probe's best sample, a fit's time the sum of all its epochs: where the host slows a core now
//! and then (a 2-vCPU guest whose cores the host shares out, seen on an Emerald Rapids), the two
//! differ by how much each loop loses in those spells, and a loop with more arithmetic a point
//! (the kernels', two fused multiply-adds, a subtract and an add a vector of points, against the
//! probe's fused multiply-add and add) may lose more. `orchestrator limit --spells SECONDS N...`
//! prints, for one thread and for all: the pairs' median ratio (the loops' pace where the host
//! leaves the core alone), the ratio of their sums (what a run pays), and in the pairs that took
//! [`SLOWED`]× the fastest pair or more, how much slower each loop went than its own fastest. On a machine without such spells the slowed share is near 0 and both ratios near 1.
//!
//! Where the kernels try software prefetches (past the L2: `linreg::kernels::prefetch_tried`),
//! the kernels' prefetching loop takes its turn too, three loops a turn, and the same figures
//! follow for it ([`Spells::prefetching`]), with the share of turns it beat the plain loop in:
//! which of the two a fit runs is the kernels' choice over its own epochs, and a fit too short to
//! choose runs both, so both are shown, not one picked here.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::bandwidth::PointBuffer;
use super::harness::timed_ok;
use super::isa::Isa;
use super::kernel_loop::{Loop, Loops};
use super::ProbeError;
use crate::measure::CancelToken;

/// A pair whose two timings together took this many times the thread's fastest pair (its 1st
/// percentile) or more counts as slowed: past the few % a quiet core's passes vary by. Judged by
/// the pair, not by one loop's timing, so that neither loop is picked for its own hiccups (an
/// interrupt inside one timing) and the other then compared against it.
pub(crate) const SLOWED: f64 = 1.15;

/// The quantile of a thread's timings taken as its fastest: the 1st percentile, not the minimum,
/// so that one lucky timing does not set it.
const FASTEST_QUANTILE: f64 = 0.01;

/// The shortest a timing may be: some 1 600 times the clock's read (31 ns on the Emerald Rapids
/// guest), and 5–10 times an interrupt's cost there; passes shorter than this are timed a few at a
/// time.
const SHORTEST_TIMING: Duration = Duration::from_micros(50);

/// The loops pass by pass on one thread count: the probe's and the kernels' (and, past the L2,
/// the kernels' prefetching loop, in [`Spells::prefetching`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spells {
    pub threads: usize,
    /// Pairs timed over every thread (a pair: a timing of the probe's loop and of the kernels', in
    /// the same turn).
    pub pairs: usize,
    /// Passes in each timing.
    pub passes_per_timing: u64,
    /// ns a point a pass at each thread's fastest (1st percentile; the mean over the threads), a
    /// point of the whole data, as `limit_ns` counts: the pace of all threads together, had they
    /// all gone at it. Free-running, so on several threads faster than the limit where a pass is
    /// short (the limit's threads meet after every pass, as a fit's do).
    pub probe_ns_fastest: f64,
    pub kernel_ns_fastest: f64,
    /// The median over the pairs of kernel ÷ probe: the loops' pace where the host leaves the
    /// core alone.
    pub kernel_over_probe_median: f64,
    /// The kernels' timings added up ÷ the probe's: what a run pays, spells included.
    pub kernel_over_probe_overall: f64,
    /// The share of pairs that took [`SLOWED`]× their thread's fastest pair or more.
    pub slowed_share: f64,
    /// Each loop's mean timing ÷ its own fastest: what the spells cost it over the whole time.
    pub probe_mean_over_fastest: f64,
    pub kernel_mean_over_fastest: f64,
    /// The kernels' mean timing ÷ the probe's fastest: the inverse of the share of a limit (the
    /// probe's best sample) the kernels' loop reads over this time, spells included, free-running.
    pub kernel_mean_over_probe_fastest: f64,
    /// Over the slowed pairs, each loop's mean time ÷ its thread's fastest. Absent without any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe_slowdown_when_slowed: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_slowdown_when_slowed: Option<f64>,
    /// Where the kernels try prefetches (past the L2): the same figures from the same turns with
    /// the kernels' prefetching loop in the kernels' place (the probe's timings shared). Absent
    /// where they do not try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefetching: Option<Box<Spells>>,
    /// Where they try: the share of turns in which the prefetching loop was the faster of the
    /// kernels' two, the comparison the kernels' sign test makes over their epochs (keeping the
    /// prefetch where it wins 12 of 16, 75%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefetch_won_share: Option<f64>,
}

/// One thread's pairs: the seconds of each loop's timing, probe first.
type Pairs = Vec<(f64, f64)>;

/// One thread's turns: the seconds of each [`Loop`]'s timing, indexed by the loop (NaN where it
/// was not timed), a turn's loops timed one after the other.
type Turns = Vec<[f64; 3]>;

/// The loops on `point`'s buffer for about `how_long` on one thread, then on every thread, each
/// thread on the chunk the probe gives it, in the order it reads it (forward on one thread, blocks
/// back and forth on several).
pub(crate) fn measure_on(point: &PointBuffer, how_long: Duration, cancel: &CancelToken) -> Result<Vec<Spells>, ProbeError> {
    measure_where(point, how_long, cancel, linreg::kernels::prefetch_tried)
}

/// [`measure_on`], the kernels' prefetching loop timed too where `tried(points, threads)`.
fn measure_where(
    point: &PointBuffer,
    how_long: Duration,
    cancel: &CancelToken,
    tried: fn(usize, usize) -> bool,
) -> Result<Vec<Spells>, ProbeError> {
    let mut measured = Vec::new();
    for t in point.thread_counts() {
        super::stop_if_cancelled(cancel)?;
        let chunks = point.chunks(t);
        let tried = tried(point.points(), t);
        let (reps, turns) = run_free(&chunks, point.isa(), how_long, tried)?;
        let summary = |kernel| summarise(t, point.points() as f64, &(reps, pairs_of(&turns, kernel)));
        let Some(mut spells) = summary(Loop::Kernel) else {
            continue;
        };
        if tried {
            spells.prefetching = summary(Loop::KernelPrefetching).map(Box::new);
            spells.prefetch_won_share = won_share(&turns);
        }
        measured.push(spells);
    }
    Ok(measured)
}

/// Each thread's pairs of the probe's timing with `kernel`'s of the same turn.
fn pairs_of(turns: &[Turns], kernel: Loop) -> Vec<Pairs> {
    turns.iter().map(|thread| thread.iter().map(|turn| (turn[Loop::Probe as usize], turn[kernel as usize])).collect()).collect()
}

/// The share of turns timed on both in which the kernels' prefetching loop beat their plain one.
fn won_share(turns: &[Turns]) -> Option<f64> {
    let both = turns.iter().flatten().map(|turn| (turn[Loop::Kernel as usize], turn[Loop::KernelPrefetching as usize]));
    let (mut timed, mut won) = (0usize, 0usize);
    for (plain, prefetching) in both.filter(|&(a, b)| timed_ok(a) && timed_ok(b)) {
        timed += 1;
        won += usize::from(prefetching < plain);
    }
    (timed > 0).then(|| won as f64 / timed as f64)
}

/// Each chunk's thread timing turns of the loops until `how_long` has passed (the kernels'
/// prefetching loop too where `prefetching`); the passes a timing makes, and each thread's turns.
fn run_free(chunks: &[(&[f64], &[f64])], isa: Isa, how_long: Duration, prefetching: bool) -> Result<(u64, Vec<Turns>), ProbeError> {
    let loops = Loops::on(isa);
    let several = chunks.len() > 1;
    // Forward on one thread, blocks back and forth (pass `number`) on several.
    let pass = |which: Loop, chunk: (&[f64], &[f64]), number: u64| loops.pass(which, chunk, several.then_some(number));
    // Passes a timing from the first chunk's pass, timed once after one untimed (the same for
    // every thread: the chunks are within a block of each other).
    black_box(pass(Loop::Probe, chunks[0], 0));
    let start = Instant::now();
    black_box(pass(Loop::Probe, chunks[0], 1));
    let reps = passes_per_timing(start.elapsed());
    // The loops of a turn, the first of them turning every turn (see `harness::turn_order`).
    let mut in_turn = vec![Loop::Probe, Loop::Kernel];
    if prefetching {
        in_turn.push(Loop::KernelPrefetching);
    }
    let in_turn = &in_turn;
    let threads = std::thread::scope(|scope| -> Result<Vec<Turns>, ProbeError> {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&chunk| {
                std::thread::Builder::new().name("spells-probe".into()).spawn_scoped(scope, move || {
                    let mut number = 0u64;
                    let mut timed = |which: Loop| {
                        let start = Instant::now();
                        for _ in 0..reps {
                            black_box(pass(which, chunk, number));
                            number += 1;
                        }
                        start.elapsed().as_secs_f64()
                    };
                    let started = Instant::now();
                    let mut turns = Turns::new();
                    while started.elapsed() < how_long || turns.is_empty() {
                        let mut turn = [f64::NAN; 3];
                        for k in super::harness::turn_order(turns.len(), in_turn.len()) {
                            let which = in_turn[k];
                            turn[which as usize] = timed(which);
                        }
                        turns.push(turn);
                    }
                    turns
                })
            })
            .collect::<Result<_, _>>()
            .map_err(ProbeError::ThreadStart)?;
        handles.into_iter().map(|h| h.join().map_err(|_| ProbeError::ThreadPanicked)).collect::<Result<Vec<Turns>, ProbeError>>()
    })?;
    Ok((reps, threads))
}

/// Passes a timing makes where one pass took `one`: enough for [`SHORTEST_TIMING`].
fn passes_per_timing(one: Duration) -> u64 {
    let one = one.as_secs_f64().max(1e-9);
    (SHORTEST_TIMING.as_secs_f64() / one).ceil().clamp(1.0, 1e6) as u64
}

/// Each thread's pairs, of `reps` passes a timing over its chunk of `points` points, as
/// [`Spells`]; a timing the clock could not time takes its pair out. None without a pair.
fn summarise(threads: usize, points: f64, (reps, per_thread): &(u64, Vec<Pairs>)) -> Option<Spells> {
    let ns = |seconds: f64| seconds / (points * *reps as f64) * 1e9;
    let mut ratios = Vec::new();
    let (mut probe_sum, mut kernel_sum) = (0.0, 0.0);
    let (mut probe_fastest, mut kernel_fastest) = (Vec::new(), Vec::new());
    let (mut slowed, mut probe_slowdown, mut kernel_slowdown) = (0usize, 0.0, 0.0);
    // Each timing ÷ its loop's fastest, and the kernels' ÷ the probe's fastest, added up.
    let (mut probe_pace, mut kernel_pace, mut kernel_against_probe) = (0.0, 0.0, 0.0);
    for pairs in per_thread {
        let kept: Vec<(f64, f64)> = pairs.iter().copied().filter(|&(p, k)| timed_ok(p) && timed_ok(k)).collect();
        let fastest = |of: fn(&(f64, f64)) -> f64| crate::stats::quantile(&kept.iter().map(of).collect::<Vec<_>>(), FASTEST_QUANTILE);
        let (Some(p_fast), Some(k_fast), Some(pair_fast)) =
            (fastest(|pair| pair.0), fastest(|pair| pair.1), fastest(|pair| pair.0 + pair.1))
        else {
            continue;
        };
        probe_fastest.push(p_fast);
        kernel_fastest.push(k_fast);
        for &(p, k) in &kept {
            ratios.push(k / p);
            probe_sum += p;
            kernel_sum += k;
            probe_pace += p / p_fast;
            kernel_pace += k / k_fast;
            kernel_against_probe += k / p_fast;
            if p + k >= SLOWED * pair_fast {
                slowed += 1;
                probe_slowdown += p / p_fast;
                kernel_slowdown += k / k_fast;
            }
        }
    }
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    let when_slowed = |total: f64| (slowed > 0).then(|| total / slowed as f64);
    let over_all = |total: f64| total / ratios.len() as f64;
    Some(Spells {
        threads,
        pairs: ratios.len(),
        passes_per_timing: *reps,
        probe_ns_fastest: ns(mean(&probe_fastest)),
        kernel_ns_fastest: ns(mean(&kernel_fastest)),
        kernel_over_probe_median: crate::stats::median(&ratios)?,
        kernel_over_probe_overall: kernel_sum / probe_sum,
        slowed_share: over_all(slowed as f64),
        probe_mean_over_fastest: over_all(probe_pace),
        kernel_mean_over_fastest: over_all(kernel_pace),
        kernel_mean_over_probe_fastest: over_all(kernel_against_probe),
        probe_slowdown_when_slowed: when_slowed(probe_slowdown),
        kernel_slowdown_when_slowed: when_slowed(kernel_slowdown),
        prefetching: None,
        prefetch_won_share: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pairs_give_the_quiet_pace_what_a_run_pays_and_each_loops_loss_in_the_slowed_ones() {
        // 100 pairs a thread of one pass over 1 000 points: 1 µs is 1 ns a point a pass. 90 quiet pairs
        // level (1 µs each), 10 where the host slowed the core: the probe 1.2×, the kernel 1.5×.
        let thread = |quiet: f64| {
            let mut pairs: Pairs = vec![(quiet, quiet); 90];
            pairs.extend(vec![(1.2 * quiet, 1.5 * quiet); 10]);
            pairs
        };
        let got = summarise(2, 1000.0, &(1, vec![thread(1e-6), thread(2e-6)])).expect("pairs");
        assert_eq!((got.threads, got.pairs, got.passes_per_timing), (2, 200, 1));
        assert!((got.probe_ns_fastest - 1.5).abs() < 1e-9 && (got.kernel_ns_fastest - 1.5).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_over_probe_median - 1.0).abs() < 1e-9, "{got:?}");
        // (90 + 15) / (90 + 12) on each thread.
        assert!((got.kernel_over_probe_overall - 105.0 / 102.0).abs() < 1e-9, "{got:?}");
        assert!((got.slowed_share - 0.1).abs() < 1e-9, "{got:?}");
        assert!((got.probe_slowdown_when_slowed.expect("slowed") - 1.2).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_slowdown_when_slowed.expect("slowed") - 1.5).abs() < 1e-9, "{got:?}");
        // Over the whole time: the probe (90 + 12) / 100 of its fastest, the kernels' loop
        // (90 + 15) / 100 of its own and of the probe's.
        assert!((got.probe_mean_over_fastest - 1.02).abs() < 1e-9, "{got:?}");
        assert!((got.kernel_mean_over_fastest - 1.05).abs() < 1e-9 && (got.kernel_mean_over_probe_fastest - 1.05).abs() < 1e-9, "{got:?}");
    }

    #[test]
    fn a_quiet_core_has_no_slowed_pairs_and_an_untimed_pair_is_left_out() {
        let mut pairs: Pairs = vec![(1e-6, 1.1e-6); 50];
        // A hiccup inside one timing (the probe's 1.2×: the pair 1.1× its fastest) is no spell.
        pairs[7] = (1.2e-6, 1.1e-6);
        pairs.extend([(0.0, 1e-6), (1e-6, f64::NAN)]);
        // Timings of 4 passes: the figures are a pass's.
        let got = summarise(1, 1000.0, &(4, vec![pairs])).expect("pairs");
        assert_eq!(got.pairs, 50);
        assert!((got.probe_ns_fastest - 0.25).abs() < 1e-9 && (got.kernel_ns_fastest - 0.275).abs() < 1e-9, "{got:?}");
        assert_eq!((got.slowed_share, got.probe_slowdown_when_slowed, got.kernel_slowdown_when_slowed), (0.0, None, None));
        assert_eq!(summarise(1, 1000.0, &(1, vec![vec![(0.0, 0.0)]])), None);
        assert_eq!(summarise(1, 1000.0, &(1, vec![])), None);
    }

    #[test]
    fn where_the_kernels_try_prefetches_their_prefetching_loop_gets_the_same_figures_from_the_same_turns() {
        // The probe 1 µs a timing; the kernels' plain loop 1.1 µs, the prefetching one 1.05,
        // except in 40 of 100 turns where it hit a spell (2 µs): faster by the median pair and in
        // 60% of the turns, slower by the sums.
        let turns: Turns = (0..100).map(|i| [1e-6, 1.1e-6, if i % 5 < 2 { 2e-6 } else { 1.05e-6 }]).collect();
        let turns = vec![turns];
        let summary = |kernel| summarise(1, 1000.0, &(1, pairs_of(&turns, kernel))).expect("turns");
        let (plain, prefetching) = (summary(Loop::Kernel), summary(Loop::KernelPrefetching));
        assert!((plain.kernel_over_probe_median - 1.1).abs() < 1e-9 && (plain.kernel_over_probe_overall - 1.1).abs() < 1e-9, "{plain:?}");
        assert!((prefetching.kernel_over_probe_median - 1.05).abs() < 1e-9, "{prefetching:?}");
        assert!(prefetching.kernel_over_probe_overall > 1.1 && prefetching.slowed_share > 0.3, "{prefetching:?}");
        // The probe's timings are shared: the same figures for it either way.
        assert_eq!((plain.probe_ns_fastest, plain.pairs), (prefetching.probe_ns_fastest, prefetching.pairs));
        assert!((won_share(&turns).expect("timed") - 0.6).abs() < 1e-9);
        // A turn the clock could not time on either kernels' loop is left out of the share; none left, none.
        let untimed = vec![vec![[1e-6, 1e-6, f64::NAN], [1e-6, 0.0, 1e-6], [1e-6, 2e-6, 1e-6]]];
        assert_eq!(won_share(&untimed), Some(1.0));
        assert_eq!(won_share(&[vec![[1e-6, 1e-6, f64::NAN]]]), None);
    }

    #[test]
    fn past_the_l2_each_thread_count_shows_the_prefetching_loop_too() {
        let point = PointBuffer::new(16_384).expect("a buffer").expect("16 384 points are timed");
        let cancel = CancelToken::new();
        let measured = measure_where(&point, Duration::from_millis(10), &cancel, |_, _| true).expect("a short run");
        assert_eq!(measured.iter().map(|s| s.threads).collect::<Vec<_>>(), point.thread_counts());
        for s in &measured {
            let with = s.prefetching.as_deref().expect("tried: the prefetching loop's figures");
            assert_eq!((with.threads, with.pairs, with.prefetching.is_none()), (s.threads, s.pairs, true), "{s:?}");
            assert!(with.kernel_ns_fastest > 0.0 && with.kernel_over_probe_median > 0.0, "{with:?}");
            assert!(s.prefetch_won_share.is_some_and(|won| (0.0..=1.0).contains(&won)), "{s:?}");
        }
        for s in measure_where(&point, Duration::from_millis(10), &cancel, |_, _| false).expect("a short run") {
            assert_eq!((s.prefetching, s.prefetch_won_share), (None, None));
        }
    }

    #[test]
    fn turns_take_the_loops_in_rotating_order() {
        let orders =
            |count| (0..count).map(|round| super::super::harness::turn_order(round, count).collect::<Vec<_>>()).collect::<Vec<_>>();
        assert_eq!(orders(2), [[0, 1], [1, 0]]);
        assert_eq!(orders(3), [[0, 1, 2], [1, 2, 0], [2, 0, 1]]);
    }

    #[test]
    fn a_timing_lasts_the_shortest_timing_at_least() {
        assert_eq!(passes_per_timing(Duration::from_micros(60)), 1);
        assert_eq!(passes_per_timing(Duration::from_micros(10)), 5);
        assert_eq!(passes_per_timing(Duration::from_nanos(15_000)), 4);
        // A pass too short to see is taken as 1 ns.
        assert_eq!(passes_per_timing(Duration::ZERO), 50_000);
    }

    #[test]
    fn a_point_is_timed_pass_by_pass_on_the_thread_counts_its_probe_shares_it_among() {
        let point = PointBuffer::new(16_384).expect("a buffer").expect("16 384 points are timed");
        let measured = measure_on(&point, Duration::from_millis(20), &CancelToken::new()).expect("a short run");
        assert_eq!(measured.iter().map(|s| s.threads).collect::<Vec<_>>(), point.thread_counts());
        for s in &measured {
            assert!(s.pairs >= s.threads && s.passes_per_timing >= 1, "{s:?}");
            assert!(s.probe_ns_fastest > 0.0 && s.kernel_ns_fastest > 0.0 && s.kernel_over_probe_median > 0.0, "{s:?}");
            assert!((0.0..=1.0).contains(&s.slowed_share), "{s:?}");
            assert_eq!(s.probe_slowdown_when_slowed.is_some(), s.slowed_share > 0.0, "{s:?}");
            let tried = linreg::kernels::prefetch_tried(point.points(), s.threads);
            assert_eq!((s.prefetching.is_some(), s.prefetch_won_share.is_some()), (tried, tried), "{s:?}");
        }
        let cancelled = CancelToken::new();
        cancelled.cancel();
        assert!(matches!(measure_on(&point, Duration::from_millis(20), &cancelled), Err(ProbeError::Interrupted)));
    }
}
