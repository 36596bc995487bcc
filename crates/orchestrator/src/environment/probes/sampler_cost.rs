//! What the sampler costs a child that keeps every CPU busy: the sampler's wake-ups must run on
//! some CPU, and when all of them are the child's, one of its threads is preempted — and a parallel
//! kernel waits at each barrier for its slowest thread. Measured as pairs of runs of a fixed amount
//! of barrier-synchronised work on one thread per CPU, once sampled at the default interval and
//! once sampled sparsely, in alternating order so that drift of a shared machine hits both alike.
//! At the default interval such a child is sampled [`measure::CROWDED_SPACING`] times less often
//! once 30 ms of its samples show every CPU busy (`measure::sampler`): the figure is what a run
//! that keeps every CPU busy pays, which `make bench-sampler` sets beside 1 ms throughout.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::harness::alternating_pairs;
use super::ProbeError;
use crate::measure::{self, CancelToken, ChildCommand, RunLimits, Sampling, Termination};
use crate::stats;

/// The baseline's sampling: at most one sample in a run of about [`TARGET_CHILD_SECONDS`], as good as none.
pub(crate) const SPARSE_INTERVAL: Duration = Duration::from_millis(100);

/// Pairs of runs; the median ratio over them is the figure. Many short pairs rather than a few long
/// ones: on a shared machine one pair can be off by 20% either way, and the median of seven is
/// steadier than the median of three.
pub(crate) const DEFAULT_PAIRS: usize = 7;

/// How long each child works, about: fifty wake-ups at 1 ms, short enough for the probe.
const TARGET_CHILD_SECONDS: f64 = 0.05;

/// How long each of the child's rounds lasts, about: an epoch of a parallel kernel over 10^6 points.
const TARGET_ROUND_SECONDS: f64 = 5e-4;

/// The calibration run: a guess at the work, then scaled to [`TARGET_CHILD_SECONDS`].
const CALIBRATION_UNITS: u64 = 20_000;
const CALIBRATION_ROUNDS: u64 = 40;

/// No child should come near this (or ten times what it was sized for, if longer); one that
/// does is stuck.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// One pair: the child's own seconds of work under each sampling interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplerPair {
    pub default_seconds: f64,
    pub sparse_seconds: f64,
    /// The sampler's own CPU time in the default-interval run.
    pub default_sampler_cpu_seconds: f64,
}

impl SamplerPair {
    /// > 1: sampling at the default interval slowed the child down.
    pub fn ratio(&self) -> f64 {
        self.default_seconds / self.sparse_seconds
    }
}

/// One run of the busy child: its own seconds of work and what the sampler spent on it.
pub(crate) struct ChildRun {
    pub(crate) seconds: f64,
    pub(crate) sampler_cpu_seconds: f64,
    #[cfg_attr(not(test), expect(dead_code, reason = "read by make bench-sampler's rounds only"))]
    pub(crate) samples: usize,
}

/// The sampler's cost on a child using every CPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplerCost {
    /// The child: `fixture-child spin THREADS UNITS ROUNDS`.
    pub command: Vec<String>,
    pub threads: usize,
    pub default_interval_ms: f64,
    pub sparse_interval_ms: f64,
    pub pairs: Vec<SamplerPair>,
    /// The median over pairs of default seconds / sparse seconds.
    pub median_ratio: f64,
}

impl SamplerCost {
    /// How much the default interval slowed the child: 0.03 is 3% longer.
    pub(crate) fn slowdown_fraction(&self) -> f64 {
        self.median_ratio - 1.0
    }

    /// The bootstrap interval of the median ratio over the pairs (seeded: the same pairs give the
    /// same interval), so that a verdict against a budget is drawn only where the pairs separate
    /// the two; None without a finite ratio.
    pub(crate) fn ratio_ci(&self) -> Option<(f64, f64)> {
        let ratios: Vec<f64> = self.pairs.iter().map(SamplerPair::ratio).collect();
        median_ratio_ci(&ratios)
    }

    /// The verdict against [`BUDGET`] from the interval `ratio_ci` gives: "above" or "within" only
    /// where it lies wholly on one side (a handful of pairs on a shared machine often cannot tell
    /// 3% from its noise).
    pub(crate) fn verdict((ci_low, ci_high): (f64, f64)) -> &'static str {
        let budget = 1.0 + BUDGET;
        if ci_low > budget {
            "above the 3% budget"
        } else if ci_high <= budget {
            "within the 3% budget"
        } else {
            "these pairs cannot tell it from the 3% budget"
        }
    }
}

/// How much the sampler may slow a child that uses every CPU.
pub(crate) const BUDGET: f64 = 0.03;

/// The seed of [`median_ratio_ci`]'s resamples.
const RATIO_CI_SEED: u64 = 0x5a3b_1e5c;

/// The seeded bootstrap interval of the median of `ratios`; None without a finite one.
fn median_ratio_ci(ratios: &[f64]) -> Option<(f64, f64)> {
    stats::bootstrap_median_ci(ratios, stats::CONFIDENCE, stats::BOOTSTRAP_RESAMPLES, RATIO_CI_SEED)
}

/// Runs `fixture_child` (the workspace's test child, which has a `spin` mode) in `pairs` pairs of
/// ~[`TARGET_CHILD_SECONDS`] on one thread per CPU this process may use, through the same runner as
/// every implementation, sampled as `sampling` says against every [`SPARSE_INTERVAL`]: runs this
/// short see only the first interval, the sampler's dearest. `cancel` stops it (the child running is
/// killed).
pub fn measure_sampler_cost(
    fixture_child: &Path,
    sampling: Sampling,
    pairs: usize,
    cancel: &CancelToken,
) -> Result<SamplerCost, ProbeError> {
    if pairs == 0 {
        return Err(ProbeError::NoRuns);
    }
    let child = BusyChild::calibrated(fixture_child, TARGET_CHILD_SECONDS, cancel)?;
    let sparse = Sampling::fixed(SPARSE_INTERVAL);
    let measured: Vec<SamplerPair> = alternating_pairs(pairs, || child.run(sampling), || child.run(sparse))?
        .into_iter()
        .map(|(default, sparse)| SamplerPair {
            default_seconds: default.seconds,
            sparse_seconds: sparse.seconds,
            default_sampler_cpu_seconds: default.sampler_cpu_seconds,
        })
        .collect();
    let ratios: Vec<f64> = measured.iter().map(SamplerPair::ratio).collect();
    Ok(SamplerCost {
        command: child.argv,
        threads: child.threads,
        default_interval_ms: sampling.first.as_secs_f64() * 1e3,
        sparse_interval_ms: SPARSE_INTERVAL.as_secs_f64() * 1e3,
        median_ratio: stats::median(&ratios).unwrap_or(f64::NAN),
        pairs: measured,
    })
}

/// `fixture-child spin` on one thread per CPU this process may use, its work sized to last about
/// as long as asked.
pub(crate) struct BusyChild<'a> {
    program: &'a Path,
    threads: usize,
    argv: Vec<String>,
    timeout: Duration,
    cancel: &'a CancelToken,
}

impl<'a> BusyChild<'a> {
    /// Runs a guess at the work once, sparsely sampled, and scales it to `seconds`, in rounds of
    /// about [`TARGET_ROUND_SECONDS`].
    pub(crate) fn calibrated(program: &'a Path, seconds: f64, cancel: &'a CancelToken) -> Result<Self, ProbeError> {
        let threads = linreg::default_threads().get();
        let timeout = CHILD_TIMEOUT.max(Duration::try_from_secs_f64(seconds * 10.0).unwrap_or(Duration::MAX));
        let mut child = BusyChild { program, threads, argv: Vec::new(), timeout, cancel };
        child.argv = child.command(CALIBRATION_UNITS, CALIBRATION_ROUNDS);
        let calibration_seconds = child.run(Sampling::fixed(SPARSE_INTERVAL))?.seconds;
        let units = ((CALIBRATION_UNITS as f64 * seconds / calibration_seconds) as u64).max(1);
        let rounds = ((seconds / TARGET_ROUND_SECONDS) as u64).clamp(1, units);
        child.argv = child.command(units, rounds);
        Ok(child)
    }

    fn command(&self, units: u64, rounds: u64) -> Vec<String> {
        let program = self.program.display().to_string();
        [program, "spin".into(), self.threads.to_string(), units.to_string(), rounds.to_string()].to_vec()
    }

    /// One run sampled as `sampling` says: the child's own seconds of work (it prints them) and the
    /// sampler's CPU.
    pub(crate) fn run(&self, sampling: Sampling) -> Result<ChildRun, ProbeError> {
        let program = self.program.display().to_string();
        let command = ChildCommand::new(self.argv.iter().cloned(), "/");
        let measured = measure::run_measured(&command, &RunLimits::with_timeout(self.timeout), Some(sampling), self.cancel);
        super::stop_if_cancelled(self.cancel)?;
        if measured.termination != Termination::Exited(0) {
            return Err(ProbeError::SamplerCostRun { program, termination: measured.termination });
        }
        let text = String::from_utf8_lossy(&measured.stdout);
        let seconds = text.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0);
        let seconds = seconds.ok_or_else(|| ProbeError::SamplerCostOutput { program, output: text.trim().to_owned() })?;
        Ok(ChildRun { seconds, sampler_cpu_seconds: measured.sampler_cpu_seconds, samples: measured.samples.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_is_default_over_sparse() {
        let pair = SamplerPair { default_seconds: 0.103, sparse_seconds: 0.1, default_sampler_cpu_seconds: 0.001 };
        assert!((pair.ratio() - 1.03).abs() < 1e-12);
        let cost = SamplerCost {
            command: vec![],
            threads: 2,
            default_interval_ms: 1.0,
            sparse_interval_ms: 100.0,
            pairs: vec![pair],
            median_ratio: pair.ratio(),
        };
        assert!((cost.slowdown_fraction() - 0.03).abs() < 1e-12);
    }

    /// `make bench-sampler`: the probe with `SAMPLER_PAIRS` pairs (41 unless set), for a verdict
    /// on the 3% budget that a run's 7 pairs cannot give on a noisy machine: the median ratio, its
    /// 95% CI, and every pair. With `SAMPLER_SECONDS` set (children of about that many seconds, 1
    /// or more), `SAMPLER_PAIRS` rounds (15 unless set) of three runs instead — sampled every 1 ms
    /// throughout, as runs are sampled by default (sparser as they last, and while they keep every
    /// CPU busy), and every 100 ms — for what the default's sparser samples save, in one
    /// measurement.
    #[test]
    #[ignore = "takes seconds and prints measurements; run by hand (make bench-sampler)"]
    fn print_the_sampler_cost_in_many_pairs() {
        let pairs = std::env::var("SAMPLER_PAIRS").ok().map(|p| p.parse::<usize>().expect("SAMPLER_PAIRS is a count"));
        let seconds = std::env::var("SAMPLER_SECONDS").ok().map(|s| s.parse::<f64>().expect("SAMPLER_SECONDS is a number of seconds"));
        // The fixture child is built beside the test binary's directory (target/release/deps/..).
        let exe = std::env::current_exe().expect("the test binary");
        let child = exe.parent().and_then(Path::parent).map(|dir| dir.join("fixture-child")).filter(|p| p.is_file());
        let child = child.expect("build fixture-child first (cargo build --release --bins)");
        println!("CPU: {}", crate::environment::machine::collect().describe());
        if let Some(seconds) = seconds {
            assert!(
                (1.0..=600.0).contains(&seconds),
                "SAMPLER_SECONDS must be between 1 and 600 (shorter children see only the first interval)"
            );
            print_thinning_in_rounds(&child, seconds, pairs.unwrap_or(15));
            return;
        }
        let pairs = pairs.unwrap_or(41);
        let cost = measure_sampler_cost(&child, Sampling::default(), pairs, &CancelToken::new()).expect("the child runs");
        let interval = cost.ratio_ci().expect("finite ratios");
        let (low, high) = interval;
        let ratios: Vec<String> = cost.pairs.iter().map(|p| format!("{:.3}", p.ratio())).collect();
        println!("sampler's cost on {} busy threads, {} pairs of ~50 ms children (1 ms against 100 ms sampling):", cost.threads, pairs);
        println!("  median ratio {:.4} [95% CI {low:.4}–{high:.4}]", cost.median_ratio);
        // The sampler's own CPU a millisecond of the run (a sample a millisecond at first, fewer
        // once the child is seen to keep every CPU busy).
        let per_ms: Vec<f64> =
            cost.pairs.iter().map(|p| p.default_sampler_cpu_seconds / (p.default_seconds * 1e3).max(1.0) * 1e6).collect();
        println!(
            "  the sampler's CPU: {:.1} µs a millisecond of the run (median over the sampled runs)",
            crate::stats::median(&per_ms).unwrap_or(f64::NAN)
        );
        println!("  pairs: {}", ratios.join(" "));
        println!("  {}", SamplerCost::verdict(interval));
    }

    /// `rounds` rounds of a ~`seconds` busy child sampled every 1 ms throughout, as by default,
    /// and every 100 ms, in rotating order: each way's ratio to the sparse run (median, 95% CI),
    /// the default's to the fixed 1 ms, and the samples each kept.
    fn print_thinning_in_rounds(child: &Path, seconds: f64, rounds: usize) {
        let cancel = CancelToken::new();
        let busy = BusyChild::calibrated(child, seconds, &cancel).expect("the child runs");
        let (fixed, thinning, sparse) =
            (Sampling::fixed(crate::measure::DEFAULT_SAMPLE_INTERVAL), Sampling::default(), Sampling::fixed(SPARSE_INTERVAL));
        let runs = super::super::harness::rotating_triples(rounds, || busy.run(fixed), || busy.run(thinning), || busy.run(sparse))
            .expect("the child runs");
        let median_of = |values: Vec<f64>| crate::stats::median(&values).unwrap_or(f64::NAN);
        let lasted = median_of(runs.iter().map(|r| r.2.seconds).collect());
        println!("the sampler on {} busy threads, {rounds} rounds of children asked for ~{seconds} s (they lasted {lasted:.2} s, median sparsely sampled):", busy.threads);
        let ratio_line = |name: &str, ratios: Vec<f64>| {
            let (low, high) = median_ratio_ci(&ratios).unwrap_or((f64::NAN, f64::NAN));
            println!("  {name}: median {:.4} [95% CI {low:.4}–{high:.4}]", median_of(ratios));
        };
        ratio_line("every 1 ms throughout / every 100 ms", runs.iter().map(|(f, _, s)| f.seconds / s.seconds).collect());
        ratio_line("by default (thinning) / every 100 ms", runs.iter().map(|(_, t, s)| t.seconds / s.seconds).collect());
        ratio_line("by default / every 1 ms throughout", runs.iter().map(|(f, t, _)| t.seconds / f.seconds).collect());
        type Round = (ChildRun, ChildRun, ChildRun);
        type Way = fn(&Round) -> &ChildRun;
        let ways: [(&str, Way); 2] = [("every 1 ms", |r| &r.0), ("by default", |r| &r.1)];
        for (name, sampled) in ways {
            // The sampler's CPU as a share of the round's sparsely sampled run.
            println!(
                "  {name}: {:.0} samples a run, the sampler's CPU {:.2}% of the run (medians)",
                median_of(runs.iter().map(|r| sampled(r).samples as f64).collect()),
                median_of(runs.iter().map(|r| sampled(r).sampler_cpu_seconds / r.2.seconds * 100.0).collect())
            );
        }
    }

    #[test]
    fn no_pairs_is_an_error() {
        assert!(matches!(
            measure_sampler_cost(Path::new("/nonexistent"), Sampling::default(), 0, &CancelToken::new()),
            Err(ProbeError::NoRuns)
        ));
    }
}
