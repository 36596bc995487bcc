//! The progress bar's estimate of the time left. Runs differ in cost by five orders of magnitude
//! (a 5-point fit against a 10^7-point one), so counting runs says little: each remaining run is
//! priced at the measured cost of the finished runs of the same point and implementation, and a
//! point not yet reached at that implementation's start-up plus its measured cost per point-epoch
//! times n × epochs.

use std::collections::BTreeMap;

use crate::execute::{self, Step};
use crate::plan::Plan;

/// The cost per point-epoch assumed before any implementation has shown its own: between NumPy's
/// and plain Python's here, so an unseen large point is not priced at nothing.
const DEFAULT_SECONDS_PER_POINT_EPOCH: f64 = 5e-9;
/// The start-up assumed before any run has finished.
const DEFAULT_STARTUP_SECONDS: f64 = 0.05;

/// The runs of one (scenario, point, implementation).
#[derive(Debug, Clone)]
struct Runs {
    implementation: String,
    /// n × epochs.
    work: f64,
    planned: u64,
    finished: u64,
    seconds: f64,
}

impl Runs {
    fn mean_seconds(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.seconds / self.finished as f64)
    }
}

#[derive(Debug, Clone)]
pub struct Eta {
    runs: BTreeMap<(usize, usize, usize), Runs>,
}

impl Eta {
    pub fn new(plan: &Plan) -> Self {
        let mut runs = BTreeMap::new();
        for (s, scenario) in plan.scenarios.iter().enumerate() {
            let per_implementation = u64::from(scenario.measure.warmup) + u64::from(scenario.measure.repetitions);
            for (p, point) in scenario.points.iter().enumerate() {
                for i in execute::runnable(scenario, point) {
                    let entry = Runs {
                        implementation: scenario.implementations[i].name.clone(),
                        work: point.n as f64 * point.epochs as f64,
                        planned: per_implementation,
                        finished: 0,
                        seconds: 0.0,
                    };
                    runs.insert((s, p, i), entry);
                }
            }
        }
        Eta { runs }
    }

    /// One run ended after `wall_seconds` (warm-ups count: they cost the same).
    pub fn finished(&mut self, step: Step, wall_seconds: f64) {
        if let Some(runs) = self.runs.get_mut(&(step.scenario, step.point, step.implementation)) {
            runs.finished += 1;
            if wall_seconds.is_finite() && wall_seconds >= 0.0 {
                runs.seconds += wall_seconds;
            }
        }
    }

    /// The estimated seconds until every planned run has ended.
    pub fn remaining_seconds(&self) -> f64 {
        // Per implementation, from its finished points: start-up is its cheapest point's mean run,
        // its cost per point-epoch what its dearest point (by n × epochs) adds to that.
        let mut cheapest: BTreeMap<&str, f64> = BTreeMap::new();
        let mut dearest: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for r in self.runs.values() {
            let Some(mean) = r.mean_seconds() else { continue };
            let name = r.implementation.as_str();
            cheapest.entry(name).and_modify(|c| *c = c.min(mean)).or_insert(mean);
            if dearest.get(name).is_none_or(|(work, _)| r.work > *work) {
                dearest.insert(name, (r.work, mean));
            }
        }
        let rates: BTreeMap<&str, f64> = dearest
            .iter()
            .filter_map(|(name, (work, mean))| {
                let rate = (mean - cheapest.get(name)?) / work;
                (rate.is_finite() && rate > 0.0).then_some((*name, rate))
            })
            .collect();
        let any_startup = cheapest.values().copied().reduce(f64::min).unwrap_or(DEFAULT_STARTUP_SECONDS);
        let any_rate = rates.values().copied().reduce(f64::max).unwrap_or(DEFAULT_SECONDS_PER_POINT_EPOCH);
        self.runs
            .values()
            .map(|r| {
                let left = r.planned.saturating_sub(r.finished) as f64;
                let each = r.mean_seconds().unwrap_or_else(|| {
                    let name = r.implementation.as_str();
                    cheapest.get(name).copied().unwrap_or(any_startup) + r.work * rates.get(name).copied().unwrap_or(any_rate)
                });
                left * each
            })
            .sum()
    }
}

/// "45s", "3m 20s", "1h 05m": what a progress bar shows.
pub fn duration_words(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    match total {
        0..60 => format!("{total}s"),
        60..3600 => format!("{}m {:02}s", total / 60, total % 60),
        _ => format!("{}h {:02}m", total / 3600, total % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(0.4), "0s");
        assert_eq!(duration_words(45.0), "45s");
        assert_eq!(duration_words(200.0), "3m 20s");
        assert_eq!(duration_words(3900.0), "1h 05m");
    }
}
