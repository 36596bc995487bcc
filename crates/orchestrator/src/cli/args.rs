//! The command line's arguments (clap): the subcommands and their options, nothing else.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::scenario;

#[derive(Parser)]
#[command(
    name = "orchestrator",
    version,
    about = "Run every implementation of the same job as a child process, measure it from outside, report"
)]
pub(super) struct Cli {
    /// The project root (holding scenarios/ and python_impl/) [default: found from the current directory]
    #[arg(long, global = true, value_name = "DIR")]
    pub(super) root: Option<PathBuf>,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand)]
pub(super) enum Command {
    /// Run scenarios (default: every scenarios/*.yaml) and write results/<UTC time>/ with its report
    Run(RunArgs),
    /// Check scenario files (default: all) without running anything
    Validate {
        /// Scenario files
        files: Vec<PathBuf>,
    },
    /// Render report.md, summary.csv, summary.json and the charts again from a run directory's raw records
    Report {
        /// A run directory, e.g. results/latest
        run_dir: PathBuf,
        /// Exit 1 when a scenario's claim does not hold
        #[arg(long)]
        check: bool,
    },
    /// Unite the run directories of `run --shard` (one per machine) into one run directory and
    /// its report; refuses shards of different plans, duplicated and missing shards
    Merge(super::merge::MergeArgs),
    /// Set full runs from different machines side by side: per point each implementation's median
    /// on each machine, the machine-to-machine ratio, and whether each claim holds on every machine
    Machines {
        /// Run directories, one per machine (the first is the reference for the ratios); LABEL=DIR
        /// names a machine instead of the label its environment.json gives or implies
        #[arg(required = true, num_args = 2.., value_name = "[LABEL=]RUN_DIR")]
        runs: Vec<PathBuf>,
        /// Where machines.md, machines.json and the chart are written
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Exit 1 when a claim does not hold on every machine
        #[arg(long)]
        check: bool,
    },
    /// Measure the limit a run sets beside each point, on its own: the read bandwidth of an
    /// epoch's working set (16 bytes a point) and the compute ceiling, in ns a point per epoch, on
    /// one thread and on all (meeting after every pass, as a parallel epoch must); one JSON line
    /// each (for benchmarks outside the orchestrator)
    Limit {
        /// Point counts, e.g. 10000 1000000
        #[arg(required = true, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        points: Vec<u64>,
        /// Also time the kernels' own loop against the probe's, in this process, on the same
        /// buffer and threads, in the same order (samples taking turns; on every thread also with
        /// the prefetch a pool's thread may choose), and add them and their ratios to each line:
        /// whether a fit below its limit loses in its loop or around it
        #[arg(long)]
        kernel_loop: bool,
        /// Also time the probe's loop and the kernels' pass by pass, in pairs, on each thread
        /// free-running for about this many seconds (on one thread, then on all), and add to each
        /// line their ratio where the host leaves a core alone, over the whole time, and what each
        /// loses in the pairs the host slowed: whether a fit below its limit loses in the
        /// machine's slow spells. Past the L2, where the kernels try software prefetches, their
        /// prefetching loop takes its turn too, with the same figures
        #[arg(long, value_name = "SECONDS", value_parser = parse_spell_seconds)]
        spells: Option<Duration>,
    },
    /// Compare two runs: every median's change with its 95% CI; exit 1 on a regression
    Compare {
        old_run: PathBuf,
        new_run: PathBuf,
        /// A change counts as a regression only when its CI lies entirely beyond this (e.g. 5%)
        #[arg(long, default_value = "5%", value_parser = parse_percent)]
        threshold: f64,
    },
}

#[derive(Args)]
pub(super) struct RunArgs {
    /// Scenario files [default: every scenarios/*.yaml but implementations.yaml]
    pub(super) scenarios: Vec<PathBuf>,
    /// Where run directories are created
    #[arg(long, value_name = "DIR")]
    pub(super) results: Option<PathBuf>,
    /// Write into this directory instead of results/<UTC time> (must not exist or be empty)
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Counted runs per implementation and point, overriding the scenarios
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(scenario::MAX_RUNS_PER_POINT)))]
    pub(super) repetitions: Option<u32>,
    /// Uncounted runs first, overriding the scenarios
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=i64::from(scenario::MAX_RUNS_PER_POINT)))]
    pub(super) warmup: Option<u32>,
    /// A CI-sized run: few repetitions, points marked `quick: false` left out
    #[arg(long)]
    pub(super) quick: bool,
    /// Exit 1 when a scenario's claim does not hold
    #[arg(long)]
    pub(super) check: bool,
    /// Run the other implementations when one that is not optional is unavailable
    #[arg(long)]
    pub(super) keep_going: bool,
    /// Skip measuring the machine (bandwidth, compute ceiling, spawn floor, sampler cost) at the start
    #[arg(long)]
    pub(super) no_probes: bool,
    /// Size of each of the two arrays the bandwidth probe streams at its largest working set; keep
    /// it well above the largest CPU cache [default: twice the last-level cache, a power of two, at
    /// least 256]
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub(super) probe_array_mib: Option<u64>,
    /// The implementation catalogue [default: scenarios/implementations.yaml]
    #[arg(long, value_name = "FILE")]
    pub(super) implementations: Option<PathBuf>,
    /// The Python interpreter for {python} [default: python_impl/.venv/bin/python]
    #[arg(long, value_name = "FILE")]
    pub(super) python: Option<PathBuf>,
    /// Run only shard K of N of the plan's scenario points (numbered from 1, e.g. 2/4), or `auto`
    /// from a Slurm array or a Kubernetes Indexed Job (docs/scale.md); merge the shards with
    /// `orchestrator merge`
    #[arg(long, value_name = "K/N|auto")]
    pub(super) shard: Option<String>,
    /// The number of shards, with --shard auto in a Kubernetes Indexed Job (its completions)
    #[arg(long, value_name = "N")]
    pub(super) shard_count: Option<u32>,
    /// The machine's name in reports, instead of the one derived from its CPU (e.g. zen3-2c-32m)
    #[arg(long, value_name = "LABEL", value_parser = parse_machine_label)]
    pub(super) machine_label: Option<String>,
}

fn parse_machine_label(text: &str) -> Result<String, String> {
    crate::environment::machine::check_label(text).map(|()| text.to_string())
}

/// A threshold: a plain decimal number of percent, the sign left out (a threshold is a size), the
/// `%` optional and single: "5%", "2.5", "0%". Everything else is refused, not read loosely.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.strip_suffix('%').unwrap_or(text);
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let plain = digits > 0 && number.chars().all(|c| c.is_ascii_digit() || c == '.') && number.matches('.').count() <= 1;
    match number.parse::<f64>() {
        Ok(v) if plain && v.is_finite() => Ok(v / 100.0),
        _ => Err(format!("expected a percentage such as 5%, got '{text}'")),
    }
}

/// `--spells`: seconds a thread count, more than none and at most an hour.
fn parse_spell_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("expected seconds above 0 and at most 3600, such as 5, got '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_percent, parse_spell_seconds, Duration};

    #[test]
    fn spell_seconds_are_positive_and_bounded() {
        assert_eq!(parse_spell_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_spell_seconds("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "nan", "inf", "3601", "", "5s"] {
            let message = parse_spell_seconds(bad).expect_err(bad);
            assert!(message.contains(&format!("'{bad}'")), "{message}");
        }
    }

    #[test]
    fn thresholds_are_plain_percentages() {
        for (text, fraction) in [("5%", 0.05), ("5", 0.05), ("0%", 0.0), ("2.5%", 0.025), ("10.%", 0.1), (".5%", 0.005)] {
            assert_eq!(parse_percent(text), Ok(fraction), "{text}");
        }
        for text in ["5%%", "-0%", "-5%", "+5%", "5 %", " 5%", "%5", "5%5", "1e1%", "inf%", "NaN", ".%", "%", "", "1.2.3%", "0x5%"] {
            assert!(parse_percent(text).is_err(), "'{text}' was accepted");
        }
    }
}
