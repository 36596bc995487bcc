//! The figures measured of every run (wall, CPU, train, load, start-up, peak RSS, and with warm
//! fits the first fit, the warm median and p99, the one-off process): for each its
//! one name, how it is read from a raw record, and its unit. The name seeds every bootstrap of
//! that figure, so it is spelled here once and nowhere else.

use std::fmt;

use crate::plan::TimeMetric;
use crate::records::RawRecord;

/// One figure of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Metric {
    /// Spawn to reaping.
    Wall,
    /// user + system, from the kernel.
    Cpu,
    /// Training time, as the implementation timed it.
    Train,
    /// Loading the data, as the implementation timed it.
    Load,
    /// wall − load − train.
    Startup,
    /// The child's high-water mark of resident memory.
    PeakRss,
    /// With `--fits K`: the first fit, as the implementation timed it.
    FitFirst,
    /// With `--fits K`: the median of the run's warm fits (2..K).
    FitWarmMedian,
    /// With `--fits K`: the 99th percentile of the run's warm fits.
    FitWarmP99,
    /// With `--fits K`: the one-off script, the one-fit process run before it (RawRecord::one_off_seconds).
    OneOff,
}

/// What a metric's values count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Bytes,
}

impl Metric {
    /// The name in summary keys and bootstrap seeds: "wall", "cpu", "train", "load", "startup",
    /// "peak_rss". Changing one changes every confidence interval of that figure.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Metric::Wall => "wall",
            Metric::Cpu => "cpu",
            Metric::Train => "train",
            Metric::Load => "load",
            Metric::Startup => "startup",
            Metric::PeakRss => "peak_rss",
            Metric::FitFirst => "fit_first",
            Metric::FitWarmMedian => "fit_warm_median",
            Metric::FitWarmP99 => "fit_warm_p99",
            Metric::OneOff => "one_off",
        }
    }

    /// This figure of one run, when the run has it.
    pub(crate) fn of(self, record: &RawRecord) -> Option<f64> {
        match self {
            Metric::Wall => record.wall_seconds,
            Metric::Cpu => record.cpu_seconds(),
            Metric::Train => record.train_seconds,
            Metric::Load => record.load_seconds,
            Metric::Startup => record.startup_seconds(),
            Metric::PeakRss => record.peak_rss_bytes.map(|b| b as f64),
            Metric::FitFirst => record.fit_first_seconds,
            Metric::FitWarmMedian => record.fit_warm_median_seconds,
            Metric::FitWarmP99 => record.fit_warm_p99_seconds,
            Metric::OneOff => record.one_off_seconds(),
        }
    }

    pub(crate) fn unit(self) -> Unit {
        match self {
            Metric::PeakRss => Unit::Bytes,
            Metric::Wall
            | Metric::Cpu
            | Metric::Train
            | Metric::Load
            | Metric::Startup
            | Metric::FitFirst
            | Metric::FitWarmMedian
            | Metric::FitWarmP99
            | Metric::OneOff => Unit::Seconds,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The time a speed-up claim compares.
impl From<TimeMetric> for Metric {
    fn from(metric: TimeMetric) -> Metric {
        match metric {
            TimeMetric::Wall => Metric::Wall,
            TimeMetric::Cpu => Metric::Cpu,
            TimeMetric::Train => Metric::Train,
            TimeMetric::WarmMedian => Metric::FitWarmMedian,
            TimeMetric::WarmP99 => Metric::FitWarmP99,
            TimeMetric::FirstFit => Metric::FitFirst,
            TimeMetric::OneOff => Metric::OneOff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_that_seed_the_bootstraps_never_change() {
        let all = [
            Metric::Wall,
            Metric::Cpu,
            Metric::Train,
            Metric::Load,
            Metric::Startup,
            Metric::PeakRss,
            Metric::FitFirst,
            Metric::FitWarmMedian,
            Metric::FitWarmP99,
            Metric::OneOff,
        ];
        let names: Vec<String> = all.iter().map(Metric::to_string).collect();
        assert_eq!(
            names,
            ["wall", "cpu", "train", "load", "startup", "peak_rss", "fit_first", "fit_warm_median", "fit_warm_p99", "one_off"]
        );
    }
}
