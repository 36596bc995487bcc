//! Which instruction set the `simd` and `parallel` kernels sum with when none is named: the
//! fastest on the fit's own data, measured at the start of its first epoch.
//!
//! The widest vectors are not always the fastest: on a Zen 5, AVX-512 summed 4–9% slower than
//! AVX2 between 4 000 and 20 000 points, and which one wins depends on the core (how it splits
//! 512-bit operations, its load ports, its clocks under wide vectors), so no rule written on one
//! CPU holds on the next. When the CPU has more than one vector instruction set, the first call to
//! the sums therefore times each of them on the first points of the data (one block of the
//! parallel kernel: the unit its threads sum, 256 KiB, in every core's L2 met so far) at that
//! epoch's own (w, b), and the fit keeps the fastest for all its epochs. So every sum of a fit comes
//! from one instruction set — the same bits as naming that one with `--isa` — and the time the
//! choice takes is inside the first epoch, counted in the training time like any other.
//!
//! The widest set also starts slow. On an Intel Emerald Rapids (family 6 model 207) AVX-512 summed
//! 10–80% slower than AVX2 for the first 50–150 µs of the choosing (up to 400 µs in 2 of 10
//! processes at 10^4 points), and 12–33% faster in every process from then on: the core brings its
//! 512-bit units up to speed (and changes its clock) only once they are in use. A lead a narrower
//! set shows before then is the widest's warm-up, not its speed — and it misled the choice that
//! used to time a short fit over a share of it (64 µs at 10^5 points × 100 epochs): that choice
//! kept AVX2 in about half such fits, which ran 15–30% slower than on AVX-512, as every fit of
//! 1 000 to 10^6 points did however short (on this CPU no fit measured ran faster on AVX2 by more
//! than the noise). So the rounds timed in the first [`WARM_UP`] are forgotten once it has passed,
//! and a fit too short to afford the choosing past it — [`SHARE`] of the fit's estimated time
//! (its epochs at the widest set's first timed pace), at most [`LONGEST`] — keeps the widest
//! without a race: a warm-up only ever makes the widest look slower than it will be, so where the
//! choosing cannot see past it, what it sees is no evidence against the widest. A long fit times
//! the sets in turns until its budget is spent, and keeps the best after the warm-up; where the
//! widest leads after [`ROUNDS`] rounds it is kept at once (see [`enough`]). The cost of this rule
//! falls on a CPU whose narrower set really is faster: on a Zen 5, AVX2 summed 4–9% faster between
//! 4 000 and 20 000 points (in long runs), and a fit there estimated under 25 ms (at the widest's
//! first pace) now keeps AVX-512 without timing AVX2.
//!
//! A sample too small to time in one sum (a few hundred points) is summed several times a round,
//! each sum waiting for the one before as an epoch waits for its step ([`SHORTEST_ROUND`]): timed
//! one sum at a time, a race of fits of 64–128 points timed the clock, and `auto` kept AVX-512
//! where AVX2 fitted 10% faster. So a long service of small fits chooses too; from 8 points on.
//!
//! A CPU with one vector instruction set (AVX2 alone, as on the Zen 1 and Zen 3 met so far) has
//! nothing to choose and times nothing. The portable code is never a candidate where vectors exist:
//! it has been slower than AVX2 at every size on every CPU measured.

use std::hint::black_box;
use std::time::{Duration, Instant};

use super::simd::{self, Isa, IsaError};

/// The instruction set a kernel sums with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsaChoice {
    /// The fastest on this data of the vector instruction sets the CPU has, measured (the
    /// default; `--isa auto`).
    Fastest,
    /// This one, whatever its speed (`--isa avx2`, …).
    Only(Isa),
}

impl IsaChoice {
    /// The names `--isa` accepts: "auto" and those of [`Isa::NAMES`].
    pub fn by_name(name: &str) -> Result<IsaChoice, IsaError> {
        match name {
            "auto" => Ok(IsaChoice::Fastest),
            _ => Isa::by_name(name).map(IsaChoice::Only).map_err(|e| match e {
                IsaError::Unknown(name) => IsaError::UnknownChoice(name),
                other => other,
            }),
        }
    }

    /// "auto", or the instruction set's name.
    pub fn name(self) -> &'static str {
        match self {
            IsaChoice::Fastest => "auto",
            IsaChoice::Only(isa) => isa.name(),
        }
    }
}

/// The fewest timed rounds of each candidate, after one untimed round that brings the points into
/// the cache. The candidates take turns within a round, so a slow moment of the machine falls on
/// all of them.
const ROUNDS: usize = 3;

/// The share of a fit's estimated time the choosing may take (beyond [`ROUNDS`] rounds).
pub(crate) const SHARE: f64 = 0.02;

/// How long the choosing runs before a round counts: the longest warm-up of the widest set
/// measured (Emerald Rapids, 400 µs; 50–150 µs in most processes), with a margin. A warm-up can
/// only be measured by running through it, which is the cost a short fit cannot pay, so this is a
/// bound taken from the CPUs met rather than a calibration; a CPU whose warm-up is longer would
/// show as a narrower set chosen in long fits that then run slower on it than on the widest
/// (`standalone.py --variants simd,simd-avx2` compares the two on any CPU).
const WARM_UP: Duration = Duration::from_micros(500);

/// The longest the choosing takes, however long the fit: a bound on what it can waste, forty
/// times [`WARM_UP`].
const LONGEST: Duration = Duration::from_millis(20);

/// A narrower instruction set replaces the widest only when its best round is at least this much
/// faster: the best of three rounds of a few microseconds still differs by a few percent from
/// noise alone on a shared 2-vCPU VM, and on a tie the widest does more work per instruction.
const NARROWER_MARGIN: f64 = 0.95;

/// With fewer points than this (one AVX-512 vector), the widest set's sums are the scalar code's
/// (`simd::gradient_sums`): the widest is kept without timing. From here on the sets differ even
/// where most points fall outside the widest loop's blocks: on an Emerald Rapids (family 6 model
/// 207; services of 300 fits × 1 000 epochs, `--isa` named, medians of 5 processes) AVX2 fitted 8
/// points in 23.4 µs against AVX-512's 29.6, 64 in 30.2 against 33.6, 128 in 36.4 against 40.2, and
/// AVX-512 led from 256 points (50.0 against 51.5; 1 000: 120 against 149): its reduction, 8 lanes
/// to AVX2's 4, costs a fit of few points more than its wider loads save. (This was 64, when the
/// race timed one sum a round; see [`SHORTEST_ROUND`].)
const MIN_POINTS: usize = 8;

/// The shortest a timed round may be: a round of one sum of a few dozen points takes tens of
/// nanoseconds, as long as the clock reads around it (20–35 ns each in the VMs met), and its times
/// were then the clock's: in services of 300 fits of 128 points × 1 000 epochs on an Emerald Rapids
/// (family 6 model 207), where AVX2 fitted in 36.4 µs and AVX-512 in 40.6, `auto` kept AVX-512
/// in 3 of 3 processes. Shorter sums are repeated within a round until it lasts this long.
const SHORTEST_ROUND: Duration = Duration::from_micros(1);

/// Sums a round needs to last [`SHORTEST_ROUND`], one sum having taken `one_sum` (at most 2^16).
fn repeats_for(one_sum: Duration) -> u32 {
    let ratio = SHORTEST_ROUND.as_secs_f64() / one_sum.as_secs_f64().max(1e-9);
    ratio.ceil().clamp(1.0, 65_536.0) as u32
}

/// Chooses once, at the first call of [`Picker::isa`], and answers the same ever after.
#[derive(Debug, Clone)]
pub struct Picker<'a> {
    x: &'a [f64],
    y: &'a [f64],
    /// Widest first; never empty.
    candidates: Vec<Isa>,
    chosen: Option<Isa>,
    /// How many times the fit will sum as many points as the sample holds (its epochs times the
    /// data's length over the sample's): what the choosing's budget is a share of.
    sample_passes: f64,
    /// Rounds of the choosing's race (0 until it has been made, or when no race was run).
    timed_rounds: usize,
    /// Sums of the sample a timed round makes: more than one where one sum is too short to time
    /// (see [`SHORTEST_ROUND`]), the same for every candidate.
    repeats: u32,
}

impl<'a> Picker<'a> {
    /// For `choice` on `x` and `y`, timing at most their first `sample_len` points, for a fit of
    /// `epochs` passes over them (`u64::MAX` when unknown: the choosing then takes [`LONGEST`]).
    pub fn new(choice: IsaChoice, x: &'a [f64], y: &'a [f64], sample_len: usize, epochs: u64) -> Picker<'a> {
        match choice {
            IsaChoice::Only(isa) => Picker::among(vec![isa], x, y, sample_len, epochs),
            IsaChoice::Fastest => Picker::among(vector_isas_widest_first(), x, y, sample_len, epochs),
        }
    }

    /// Among `candidates`, widest first (the tests give it the portable code as a second one, to
    /// time two on a CPU that has one vector instruction set).
    pub(crate) fn among(candidates: Vec<Isa>, x: &'a [f64], y: &'a [f64], sample_len: usize, epochs: u64) -> Picker<'a> {
        assert!(!candidates.is_empty(), "a choice needs a candidate");
        let whole = x.len().min(y.len());
        let len = whole.min(sample_len.max(MIN_POINTS));
        let chosen = (candidates.len() == 1 || len < MIN_POINTS).then(|| candidates[0]);
        let sample_passes = epochs as f64 * whole as f64 / len.max(1) as f64;
        Picker { x: &x[..len], y: &y[..len], candidates, chosen, sample_passes, timed_rounds: 0, repeats: 1 }
    }

    /// The instruction set to sum this epoch with: at the first call, measured at (w, b).
    #[inline]
    pub fn isa(&mut self, w: f64, b: f64) -> Isa {
        match self.chosen {
            Some(isa) => isa,
            None => self.calibrate(w, b),
        }
    }

    /// What the fit used: the choice made, or the widest if the sums were never called.
    pub fn used(&self) -> Isa {
        self.chosen.unwrap_or(self.candidates[0])
    }

    #[cold]
    fn calibrate(&mut self, w: f64, b: f64) -> Isa {
        let start = Instant::now();
        let widest = self.candidates[0];
        self.time(widest, w, b); // brings the points into the cache
        let one_sum = self.time(widest, w, b);
        self.repeats = repeats_for(one_sum);
        let round = if self.repeats > 1 { self.time(widest, w, b) } else { one_sum };
        let budget = budget_for(round / self.repeats, self.sample_passes);
        let isa = if budget < WARM_UP { widest } else { self.race(start, budget, w, b) };
        self.chosen = Some(isa);
        isa
    }

    /// The candidates in turns, from `start`, until [`enough`] says the choosing may stop.
    fn race(&mut self, start: Instant, budget: Duration, w: f64, b: f64) -> Isa {
        let mut tally = Tally::new(self.candidates.len());
        let mut times = vec![Duration::ZERO; self.candidates.len()];
        loop {
            for (isa, time) in self.candidates.iter().zip(&mut times) {
                *time = self.time(*isa, w, b);
            }
            self.timed_rounds += 1;
            tally.add(&times, start.elapsed());
            let leader = keep(&self.candidates, &tally.best);
            if enough(tally.counted, leader == self.candidates[0], start.elapsed(), budget) {
                return leader;
            }
        }
    }

    /// [`Picker::repeats`] sums of the sample on `isa`, timed together. Each sum waits for the one
    /// before (its w is w + 0 × the sums before, which no compiler may fold away), as an epoch
    /// waits for the step its sums give: independent sums overlap their reductions, and a race
    /// of them timed the widest set's throughput where a fit pays its latency.
    fn time(&self, isa: Isa, w: f64, b: f64) -> Duration {
        let round_start = Instant::now();
        let mut chained = w;
        for _ in 0..self.repeats {
            let (sum_ex, sum_e) = simd::gradient_sums(isa, black_box(self.x), black_box(self.y), chained, b);
            chained = w + (sum_ex + sum_e) * 0.0;
        }
        black_box(chained);
        round_start.elapsed()
    }
}

/// The rounds of a race that count: each candidate's best time since the warm-up.
#[derive(Debug)]
struct Tally {
    best: Vec<Duration>,
    /// Rounds in `best`.
    counted: usize,
    past_warm_up: bool,
}

impl Tally {
    fn new(candidates: usize) -> Tally {
        Tally { best: vec![Duration::MAX; candidates], counted: 0, past_warm_up: false }
    }

    /// Adds a round's times (one a candidate), ended `elapsed` into the choosing. The round that
    /// ends past [`WARM_UP`] is the warm-up's last: it and those before are forgotten.
    fn add(&mut self, times: &[Duration], elapsed: Duration) {
        if !self.past_warm_up && elapsed >= WARM_UP {
            self.past_warm_up = true;
            self.best.fill(Duration::MAX);
            self.counted = 0;
            return;
        }
        for (best, time) in self.best.iter_mut().zip(times) {
            *best = (*best).min(*time);
        }
        self.counted += 1;
    }
}

/// Whether the choosing has timed enough: [`ROUNDS`] counted rounds, and then either the widest
/// leads or the budget is spent. A warm-up only ever makes the widest look slower than it will be
/// (its units are the ones brought up to speed), so once it leads, timing longer cannot change the
/// choice; only a narrower set in the lead has to hold it past the warm-up (the budget of a fit
/// that races is never shorter than [`WARM_UP`]).
fn enough(round: usize, widest_leads: bool, elapsed: Duration, budget: Duration) -> bool {
    round >= ROUNDS && (widest_leads || elapsed >= budget)
}

/// How long the choosing may go on: [`SHARE`] of `sample_passes` rounds like the widest's first
/// timed one, at most [`LONGEST`].
pub(crate) fn budget_for(widest_round: Duration, sample_passes: f64) -> Duration {
    let estimate = widest_round.as_secs_f64() * sample_passes;
    Duration::from_secs_f64((SHARE * estimate).min(LONGEST.as_secs_f64()))
}

/// The vector instruction sets this CPU has, widest first; the portable code where it has none.
fn vector_isas_widest_first() -> Vec<Isa> {
    let vectors: Vec<Isa> = Isa::available().into_iter().rev().filter(|&isa| isa != Isa::PORTABLE).collect();
    if vectors.is_empty() {
        vec![Isa::PORTABLE]
    } else {
        vectors
    }
}

/// The rule, apart from the clock: the widest (first) unless the fastest of the others took at most
/// [`NARROWER_MARGIN`] of its best time.
fn keep(candidates: &[Isa], best: &[Duration]) -> Isa {
    let widest = best[0].as_secs_f64();
    let fastest = (1..candidates.len()).min_by_key(|&i| best[i]);
    match fastest {
        Some(i) if best[i].as_secs_f64() <= NARROWER_MARGIN * widest => candidates[i],
        _ => candidates[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_micros(v)).collect()
    }

    fn two() -> Vec<Isa> {
        // Two distinct candidates on any CPU: the widest vectors it has, then the portable code.
        vec![Isa::detect(), Isa::PORTABLE]
    }

    #[test]
    fn the_widest_stays_unless_another_is_clearly_faster() {
        let isas = two();
        assert_eq!(keep(&isas, &micros(&[100, 120])), isas[0]);
        assert_eq!(keep(&isas, &micros(&[100, 97])), isas[0], "3% is within the noise");
        assert_eq!(keep(&isas, &micros(&[100, 95])), isas[1]);
        assert_eq!(keep(&isas[..1], &micros(&[100])), isas[0]);
        let three = vec![isas[0], isas[1], isas[1]];
        assert_eq!(keep(&three, &micros(&[100, 90, 80])), isas[1], "the fastest of the others");
    }

    #[test]
    fn names_are_auto_or_an_instruction_set() {
        assert_eq!(IsaChoice::by_name("auto"), Ok(IsaChoice::Fastest));
        assert_eq!(IsaChoice::by_name("portable"), Ok(IsaChoice::Only(Isa::PORTABLE)));
        assert_eq!(IsaChoice::by_name("sse9"), Err(IsaError::UnknownChoice("sse9".into())));
        assert!(IsaChoice::by_name("sse9").unwrap_err().to_string().contains("known: auto, avx512, avx2, portable"));
        assert_eq!(IsaChoice::Fastest.name(), "auto");
    }

    #[test]
    fn a_named_set_or_a_single_candidate_is_used_without_timing() {
        let x = vec![1.0; 10_000];
        let picker = Picker::new(IsaChoice::Only(Isa::PORTABLE), &x, &x, 16_384, 100);
        assert_eq!(picker.chosen, Some(Isa::PORTABLE));
        let widest = *vector_isas_widest_first().first().expect("a candidate");
        let picker = Picker::new(IsaChoice::Fastest, &x, &x, 16_384, 100);
        assert_eq!(picker.used(), widest);
        if vector_isas_widest_first().len() == 1 {
            assert_eq!(picker.chosen, Some(widest), "nothing to time");
        }
        let few = Picker::among(two(), &x[..MIN_POINTS - 1], &x[..MIN_POINTS - 1], 16_384, 100);
        assert_eq!(few.chosen, Some(two()[0]), "too few points to time");
    }

    #[test]
    fn the_choice_is_made_once_on_the_first_points_and_kept() {
        let x: Vec<f64> = (0..50_000).map(|i| (i as f64 * 0.37).sin()).collect();
        let y: Vec<f64> = x.iter().map(|xi| 2.0 * xi + 0.5).collect();
        let mut picker = Picker::among(two(), &x, &y, 4096, 100);
        assert_eq!(picker.x.len(), 4096, "times the first block only");
        assert_eq!(picker.chosen, None);
        let first = picker.isa(0.1, 0.2);
        assert!(two().contains(&first));
        assert_eq!((picker.isa(5.0, 5.0), picker.used()), (first, first));
    }

    #[test]
    fn the_choosing_stops_when_the_widest_leads_or_the_budget_is_spent() {
        let (short, long) = (Duration::from_micros(5), Duration::from_millis(5));
        assert!(!enough(ROUNDS - 1, true, long, short), "never fewer than ROUNDS rounds");
        assert!(enough(ROUNDS, true, short, long), "the widest leads: done");
        assert!(!enough(ROUNDS, false, short, long), "a narrower one leads: on until the budget");
        assert!(enough(ROUNDS + 7, false, long, short));
    }

    #[test]
    fn a_long_fit_is_chosen_for_over_a_longer_time_than_a_short_one() {
        // The portable code as the "widest" and the CPU's vectors as a second candidate: the second
        // leads wherever vectors exist, so the choosing runs to its budget.
        let x: Vec<f64> = (0..4096).map(|i| (i as f64 * 0.37).sin()).collect();
        let candidates = vec![Isa::PORTABLE, Isa::detect()];
        let mut short = Picker::among(candidates.clone(), &x, &x, 4096, 1);
        assert_eq!(short.isa(0.1, 0.2), Isa::PORTABLE, "a one-epoch fit cannot see past a warm-up: the widest");
        assert_eq!(short.timed_rounds, 0, "and no race");
        let mut long = Picker::among(candidates, &x, &x, 4096, u64::MAX);
        let start = Instant::now();
        let chosen = long.isa(0.1, 0.2);
        if chosen != Isa::PORTABLE {
            assert!(start.elapsed() >= LONGEST, "an endless fit the second candidate leads: timed for the longest");
            assert!(long.timed_rounds > ROUNDS);
        }
        // The widest leading stops the race at ROUNDS counted rounds (`enough`, tested above); how
        // many rounds that takes here depends on whether a round crossed the warm-up's end, whose
        // rounds are forgotten (on a busy machine, tests running beside this one, it did: 5 rounds
        // in 3 of 12 runs), so only the least is certain.
        let mut widest_first = Picker::among(vec![Isa::detect(), Isa::PORTABLE], &x, &x, 4096, u64::MAX);
        if widest_first.isa(0.1, 0.2) == Isa::detect() && Isa::detect() != Isa::PORTABLE {
            assert!(widest_first.timed_rounds >= ROUNDS, "{} rounds", widest_first.timed_rounds);
        }
    }

    #[test]
    fn a_lead_seen_only_during_the_warm_up_is_forgotten() {
        // The narrower set (second) leads by 20% for the first 400 µs, the widest by 20% after.
        let isas = two();
        let mut tally = Tally::new(2);
        for elapsed in (10..400).step_by(10) {
            tally.add(&micros(&[100, 80]), Duration::from_micros(elapsed));
        }
        assert_eq!(keep(&isas, &tally.best), isas[1], "during the warm-up the narrower looks faster");
        tally.add(&micros(&[100, 80]), WARM_UP);
        assert_eq!(tally.counted, 0, "the warm-up's rounds are forgotten once it has passed");
        assert!(!enough(tally.counted, true, WARM_UP, WARM_UP), "and the rounds after it are yet to come");
        for step in 1..=ROUNDS as u64 {
            tally.add(&micros(&[80, 100]), WARM_UP + Duration::from_micros(10 * step));
        }
        assert_eq!(keep(&isas, &tally.best), isas[0]);
        assert!(enough(tally.counted, true, WARM_UP, WARM_UP));
    }

    #[test]
    fn a_round_too_short_to_time_repeats_its_sum_until_it_is_not() {
        assert_eq!(repeats_for(Duration::from_micros(2)), 1);
        assert_eq!(repeats_for(SHORTEST_ROUND), 1);
        assert_eq!(repeats_for(Duration::from_nanos(30)), 34);
        assert_eq!(repeats_for(Duration::ZERO), 1000, "a clock that did not move: as if 1 ns");
        // A one-epoch fit of a few points: no race, but its first timed round sets the repeats.
        let x: Vec<f64> = (0..16).map(|i| i as f64).collect();
        let mut picker = Picker::among(two(), &x, &x, 4096, 1);
        assert_eq!(picker.isa(0.1, 0.2), two()[0]);
        assert!(picker.repeats >= 1 && picker.timed_rounds == 0, "{} repeats, {} rounds", picker.repeats, picker.timed_rounds);
    }

    #[test]
    fn the_budget_is_a_share_of_the_fit_up_to_the_longest() {
        let round = Duration::from_micros(10);
        assert_eq!(budget_for(round, 1000.0), Duration::from_secs_f64(SHARE * 10e-3));
        assert_eq!(budget_for(round, 1e12), LONGEST);
        assert_eq!(budget_for(round, 0.0), Duration::ZERO);
    }

    #[test]
    fn where_there_are_vectors_portable_is_no_candidate() {
        let candidates = vector_isas_widest_first();
        assert_eq!(candidates[0], Isa::detect(), "the widest first");
        if Isa::detect() != Isa::PORTABLE {
            assert!(!candidates.contains(&Isa::PORTABLE));
        }
    }
}
