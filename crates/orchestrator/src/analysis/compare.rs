//! `orchestrator compare OLD NEW`: for every scenario, point and implementation the two runs
//! share, the change of each median (wall, CPU, peak RSS, train, and with warm fits the warm
//! median and p99) as new/old with a bootstrap CI.
//! A change is a regression only when the whole CI lies above 1 + threshold: the noise of a shared
//! machine never fails a build, a real slow-down does.
//!
//! Only like is compared with like: a point whose runs measured something else in the two runs
//! (another n, epochs, learning rate or number of fits, other data, another command or
//! environment, other pinned CPUs: [`Setup`], from plan.json and raw.csv) is listed as not
//! comparable, with what differs, and is never a regression. A run without plan.json (one made
//! before plans were kept, or a raw.csv alone) is compared on what its rows record (n, epochs,
//! learning rate, fits), and the command says what could not be checked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use super::metric::{Metric, Unit};
use crate::analysis::index::Grouped;
use crate::analysis::summary;
use crate::format;
use crate::plan::shard::PlanFile;
use crate::plan::{ImplementationPlan, Plan, PointPlan, ScenarioPlan};
use crate::records::{self, RawRecord, PLAN_JSON};
use crate::stats::{self, Ratio};

/// The figures compared, in the order they are listed (the per-fit ones only where both runs made
/// warm fits).
const METRICS: [Metric; 6] = [Metric::Wall, Metric::Cpu, Metric::Train, Metric::PeakRss, Metric::FitWarmMedian, Metric::FitWarmP99];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// The CI lies entirely above 1 + threshold.
    Regression,
    /// The CI lies entirely below 1 − threshold.
    Improvement,
    /// Within the threshold, or the CI does not exclude it.
    Unchanged,
    /// Fewer than [`MIN_RUNS`] runs on a side: no verdict (the CI of one run against one is a
    /// single ratio, as narrow as it is meaningless).
    TooFewRuns,
}

/// The fewest runs each side needs for a verdict: with fewer, a bootstrap interval is no more
/// than the runs' own range (one run each gives a zero-width interval, which called a 2× slower
/// single run a regression "[+115%, +115%]").
pub(crate) const MIN_RUNS: usize = 3;

#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    pub scenario: String,
    pub point_label: String,
    pub implementation: String,
    pub metric: Metric,
    pub old_median: f64,
    pub new_median: f64,
    /// new / old with its CI.
    pub ratio: Ratio,
    pub change: Change,
}

pub(crate) struct Outcome {
    pub regressions: usize,
    pub text: String,
}

pub(crate) fn classify(ratio: &Ratio, threshold: f64) -> Change {
    if ratio.ci_low > 1.0 + threshold {
        Change::Regression
    } else if ratio.ci_high < 1.0 - threshold {
        Change::Improvement
    } else {
        Change::Unchanged
    }
}

/// One run directory as compare reads it: the rows its statistics count, and its plan when it
/// has one.
pub(crate) struct Run {
    pub rows: Vec<RawRecord>,
    pub plan: Option<Plan>,
}

/// What one implementation's runs at one point measured, as far as the run directory says (None:
/// not recorded, not checked). `machines` matches its points by the same notion (see
/// [`Setup::on_any_machine`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Setup {
    n: u64,
    epochs: u64,
    learning_rate: f64,
    /// The fits a run made (`--fits K`); None: one fit, without the flag.
    fits: Option<u64>,
    /// The data file's name: for generated, inline and CSV data one made from its content.
    data: Option<String>,
    /// The command, each absolute path reduced to its file name: two checkouts in different
    /// directories run the same command.
    command: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    /// The CPUs every child was pinned to (None inside: not pinned).
    cpus: Option<Option<Vec<usize>>>,
}

/// An absolute path's last part ("/a/b/linreg-static" → "linreg-static"); any other text as it is
/// (`-c "print(1/2)"` and `-c "print(3/2)"` are different commands, and so are `--model=/a/x` and
/// `--weights=/b/x`).
fn file_name(text: &str) -> String {
    match text.strip_prefix('/') {
        Some(_) => text.rsplit('/').next().unwrap_or(text).to_string(),
        None => text.to_string(),
    }
}

impl Setup {
    /// From the plan when it names the point and the implementation, else from the rows alone.
    fn of(plan: Option<&Plan>, rows: &[&RawRecord]) -> Option<Setup> {
        let first = rows.first()?;
        let from_rows = Setup {
            n: first.n,
            epochs: first.epochs,
            learning_rate: first.learning_rate,
            fits: rows.iter().find_map(|r| r.fits),
            data: None,
            command: None,
            env: None,
            cpus: None,
        };
        let scenario = plan.and_then(|p| p.scenarios.iter().find(|s| s.name == first.scenario));
        let point = scenario.and_then(|s| s.points.iter().find(|p| p.index == first.point));
        let implementation = scenario.and_then(|s| s.implementations.iter().find(|i| i.name == first.implementation));
        let (Some(scenario), Some(point), Some(implementation)) = (scenario, point, implementation) else { return Some(from_rows) };
        Some(Setup::planned(scenario, point, implementation))
    }

    /// What the plan says `implementation` measures at `point` of `scenario`.
    pub(crate) fn planned(scenario: &ScenarioPlan, point: &PointPlan, implementation: &ImplementationPlan) -> Setup {
        Setup {
            n: point.n,
            epochs: point.epochs,
            learning_rate: point.learning_rate,
            fits: point.fits_of(&implementation.name),
            data: point.data_path.file_name().map(|name| name.to_string_lossy().into_owned()),
            command: Some(implementation.command.iter().map(|arg| file_name(arg)).collect()),
            env: Some(implementation.env.clone()),
            cpus: Some(scenario.measure.cpus.clone()),
        }
    }

    /// Only what is measured, whichever machine and checkout measured it: n, epochs, learning
    /// rate, fits and data. The command, its environment and the pinned CPUs are left unchecked:
    /// they are the machine's and the commit's (paths, a variable added since, a machine's CPUs),
    /// and `machines` sets runs of different machines and commits side by side.
    pub(crate) fn on_any_machine(self) -> Setup {
        Setup { command: None, env: None, cpus: None, ..self }
    }

    /// What differs between `self` (the old run's) and `new`, one phrase each ("fits 2 → 2000");
    /// what only one run recorded is not compared.
    pub(crate) fn differences(&self, new: &Setup) -> Vec<String> {
        let mut out = Vec::new();
        let mut differ = |what: &str, old: String, new: String| {
            if old != new {
                out.push(format!("{what} {old} → {new}"));
            }
        };
        differ("n", self.n.to_string(), new.n.to_string());
        differ("epochs", self.epochs.to_string(), new.epochs.to_string());
        differ("learning rate", self.learning_rate.to_string(), new.learning_rate.to_string());
        let fits = |f: Option<u64>| f.map_or("1 (no --fits)".to_string(), |k| k.to_string());
        differ("fits", fits(self.fits), fits(new.fits));
        if let (Some(old), Some(new)) = (&self.data, &new.data) {
            differ("data", old.clone(), new.clone());
        }
        if let (Some(old), Some(new)) = (&self.command, &new.command) {
            differ("command", format!("`{}`", old.join(" ")), format!("`{}`", new.join(" ")));
        }
        if let (Some(old), Some(new)) = (&self.env, &new.env) {
            let show = |env: &BTreeMap<String, String>| {
                let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                if pairs.is_empty() {
                    "(none)".to_string()
                } else {
                    pairs.join(" ")
                }
            };
            differ("environment", show(old), show(new));
        }
        if let (Some(old), Some(new)) = (&self.cpus, &new.cpus) {
            let show = |cpus: &Option<Vec<usize>>| cpus.as_ref().map_or("not pinned".to_string(), |c| format!("pinned to CPUs {c:?}"));
            differ("CPUs", show(old), show(new));
        }
        out
    }

    /// The point as the comparison shows it: its label, and its fits when it makes several.
    fn label(&self, point_label: &str) -> String {
        match self.fits {
            Some(k) => format!("{point_label} fits={k}"),
            None => point_label.to_string(),
        }
    }
}

/// A scenario point and implementation both runs measured, but not the same way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NotComparable {
    pub scenario: String,
    pub point_label: String,
    pub implementation: String,
    /// "fits 2 → 2000", one phrase a difference.
    pub differences: Vec<String>,
}

/// The comparisons of two runs, and the points they share that measured different things.
pub(crate) struct Compared {
    pub comparisons: Vec<Comparison>,
    pub not_comparable: Vec<NotComparable>,
}

/// Compares the measured runs of two run directories, matched by scenario, point label and
/// implementation, like with like only (see [`Setup`]).
pub(crate) fn compare(old: &Run, new: &Run, threshold: f64) -> Compared {
    // Matched by label, not index: a point's index moves when a sweep is edited.
    fn key(r: &RawRecord) -> (&str, &str, &str) {
        (r.scenario.as_str(), r.point_label.as_str(), r.implementation.as_str())
    }
    let (old_rows, new_rows) = (Grouped::new(&old.rows, |r| Some(key(r))), Grouped::new(&new.rows, |r| Some(key(r))));
    let measured = Grouped::new(&new.rows, |r| r.status.is_measurement().then(|| key(r)));
    let mut compared = Compared { comparisons: Vec::new(), not_comparable: Vec::new() };
    for &(scenario, label, implementation) in measured.keys() {
        let k = (scenario, label, implementation);
        let (before_rows, after_rows) = (old_rows.rows(&k), new_rows.rows(&k));
        let (Some(old_setup), Some(new_setup)) = (Setup::of(old.plan.as_ref(), before_rows), Setup::of(new.plan.as_ref(), after_rows))
        else {
            continue;
        };
        let differences = old_setup.differences(&new_setup);
        if !differences.is_empty() {
            let (scenario, implementation) = (scenario.to_string(), implementation.to_string());
            compared.not_comparable.push(NotComparable { scenario, point_label: label.to_string(), implementation, differences });
            continue;
        }
        for metric in METRICS {
            let (before, after) = (summary::values(before_rows, metric), summary::values(after_rows, metric));
            let seed = stats::seed_for(&format!("compare/{scenario}/{label}/{implementation}/{metric}"));
            let (Some(ratio), Some(old_median), Some(new_median)) =
                (stats::ratio_of_medians(&after, &before, seed), stats::median(&before), stats::median(&after))
            else {
                continue;
            };
            compared.comparisons.push(Comparison {
                scenario: scenario.to_string(),
                point_label: new_setup.label(label),
                implementation: implementation.to_string(),
                metric,
                old_median,
                new_median,
                change: if before.len().min(after.len()) < MIN_RUNS { Change::TooFewRuns } else { classify(&ratio, threshold) },
                ratio,
            });
        }
    }
    compared
}

/// One comparison as a line of compare's table.
fn table_line(c: &Comparison) -> String {
    let show = |v: f64| match c.metric.unit() {
        Unit::Bytes => format::bytes(v),
        Unit::Seconds => format::seconds(v),
    };
    let verdict = match c.change {
        Change::Regression => "REGRESSION",
        Change::Improvement => "improvement",
        Change::Unchanged => "no change",
        Change::TooFewRuns => "too few runs",
    };
    format!(
        "{:<14} {:<34} {:<18} {:<9} {:>11} {:>11} {:>26}  {verdict}",
        c.scenario,
        c.point_label,
        c.implementation,
        c.metric,
        show(c.old_median),
        show(c.new_median),
        format::change_with_ci(&c.ratio)
    )
}

/// A run directory's plan.json: None when there is none (a run made before plans were kept);
/// one that is there but cannot be read, or names a scenario or implementation with a name no run
/// could have (`../x`), is an error, as for `report`.
fn read_plan(run_dir: &Path) -> anyhow::Result<Option<Plan>> {
    let path = run_dir.join(PLAN_JSON);
    if !path.exists() {
        return Ok(None);
    }
    let file: PlanFile = records::read_json(&path).context("the run's plan (plan.json)")?;
    file.plan.check_names().map_err(|problem| anyhow::anyhow!("{}: {problem}", path.display()))?;
    Ok(Some(file.plan))
}

/// One of the two run directories, read: its rows (those set aside left out) and its plan; `warn`
/// is told what is left out or not checked.
fn read_run(dir: &Path, which: &str, warn: &mut impl FnMut(String)) -> anyhow::Result<Run> {
    let context = || format!("reading the {which} run {}", dir.display());
    let raw = records::read_raw_rows(dir).with_context(context)?;
    raw.warnings().for_each(&mut *warn);
    let plan = read_plan(dir).with_context(context)?;
    if plan.is_none() {
        warn(format!(
            "warning: {} has no plan.json (a run made before plans were kept?): its points are compared on what raw.csv records \
             (n, epochs, learning rate, fits); their data, commands, environment and pinned CPUs are not checked",
            dir.display()
        ));
    }
    let mut rows = raw.counted();
    if let Some(plan) = &plan {
        if let Some(twice) = plan.label_named_twice() {
            anyhow::bail!(
                "{}: {twice}: `compare` matches points of two runs by scenario and label, so a label must name one point \
                 (`orchestrator run` never writes such a plan: was plan.json edited?)",
                dir.join(PLAN_JSON).display()
            );
        }
        // Only the runs the plan names, as the report counts them; each under its point's label
        // in the plan (the row's own copy of it is text anyone could have edited).
        let unplanned;
        (rows, unplanned) = super::unplanned::split(plan, rows);
        for group in unplanned {
            warn(format!("warning: {}: {group}", dir.display()));
        }
        let labels: std::collections::HashMap<(&str, usize), &str> =
            plan.scenarios.iter().flat_map(|s| s.points.iter().map(move |p| ((s.name.as_str(), p.index), p.label.as_str()))).collect();
        for row in &mut rows {
            if let Some(label) = labels.get(&(row.scenario.as_str(), row.point)) {
                row.point_label = (*label).to_string();
            }
        }
    }
    Ok(Run { rows, plan })
}

/// Compares two run directories; `warn` is told at once (before any error) of rows left out, lines
/// cut short and a run without plan.json.
pub(crate) fn compare_runs(old_dir: &Path, new_dir: &Path, threshold: f64, mut warn: impl FnMut(String)) -> anyhow::Result<Outcome> {
    let old = read_run(old_dir, "old", &mut warn)?;
    let new = read_run(new_dir, "new", &mut warn)?;
    let Compared { comparisons, not_comparable } = compare(&old, &new, threshold);
    let unlike: Vec<String> = not_comparable
        .iter()
        .map(|c| format!("{} {} {}: {}", c.scenario, c.point_label, c.implementation, c.differences.join(", ")))
        .collect();
    // Nothing in common is a wrong pair of runs (a CI job given the wrong baseline), not a pass.
    if comparisons.is_empty() && !unlike.is_empty() {
        anyhow::bail!(
            "nothing comparable: every scenario point and implementation that {} and {} both measured was measured \
             differently there, so no change can be told from the difference:\n  {}",
            old_dir.display(),
            new_dir.display(),
            unlike.join("\n  ")
        );
    }
    if comparisons.is_empty() {
        anyhow::bail!(
            "nothing to compare: {} and {} share no scenario point and implementation with measurements \
             (the same scenario name, point label and implementation, with ok or diverged runs in both)",
            old_dir.display(),
            new_dir.display()
        );
    }
    let regressions = comparisons.iter().filter(|c| c.change == Change::Regression).count();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "old: {}\nnew: {}\nthreshold: {} (a regression is a change whose whole 95% CI is above {})\n",
        old_dir.display(),
        new_dir.display(),
        format::percent(threshold),
        format::signed_percent(threshold)
    );
    let _ = writeln!(
        text,
        "{:<14} {:<34} {:<18} {:<9} {:>11} {:>11} {:>26}  verdict",
        "scenario", "point", "implementation", "figure", "old", "new", "change [95% CI]"
    );
    for c in &comparisons {
        let _ = writeln!(text, "{}", table_line(c));
    }
    if !unlike.is_empty() {
        let _ = writeln!(text, "\nnot comparable (measured differently in the two runs; never a regression):");
        for line in &unlike {
            let _ = writeln!(text, "  {line}");
        }
    }
    let too_few = comparisons.iter().filter(|c| c.change == Change::TooFewRuns).count();
    if too_few > 0 {
        let _ = writeln!(
            text,
            "\n{too_few} figure(s) with fewer than {MIN_RUNS} runs on a side: no verdict (run with --repetitions {MIN_RUNS} or more)"
        );
    }
    let _ = writeln!(text, "\n{regressions} regression(s)");
    Ok(Outcome { regressions, text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::tests::row;
    use crate::records::RunStatus;

    fn runs(scale: f64) -> Vec<RawRecord> {
        (0..20)
            .map(|k| row("rust", k + 1, RunStatus::Ok, scale * (0.010 + 0.0001 * (k % 5) as f64), 0.001, scale * 0.005, 2_000_000))
            .collect()
    }

    fn run(rows: Vec<RawRecord>) -> Run {
        Run { rows, plan: None }
    }

    #[test]
    fn one_run_against_one_is_no_verdict_however_far_apart() {
        let (slow, fast) = (runs(2.0), runs(1.0));
        for (count, want) in [(1, Change::TooFewRuns), (2, Change::TooFewRuns), (MIN_RUNS, Change::Regression)] {
            let compared = compare(&run(fast[..count].to_vec()), &run(slow[..count].to_vec()), 0.05);
            let wall = compared.comparisons.iter().find(|c| c.metric == Metric::Wall).expect("wall compared");
            assert_eq!(wall.change, want, "{count} run(s) a side: {wall:?}");
        }
    }

    #[test]
    fn only_absolute_paths_in_a_command_are_cut_to_their_file_name() {
        assert_eq!(file_name("/work/a/target/release/linreg-static"), "linreg-static");
        assert_ne!(file_name("print(1/2)"), file_name("print(3/2)"));
        assert_ne!(file_name("--model=/a/x"), file_name("--weights=/b/x"));
        assert_eq!(file_name("python_impl/linreg_numpy.py"), "python_impl/linreg_numpy.py");
    }

    #[test]
    fn a_real_slowdown_is_a_regression_and_noise_is_not() {
        let compare = |old, new| compare(&run(old), &run(new), 0.05).comparisons;
        let slower = compare(runs(1.0), runs(1.3));
        let wall = slower.iter().find(|c| c.metric == Metric::Wall).unwrap();
        assert_eq!(wall.change, Change::Regression, "{wall:?}");
        let same = compare(runs(1.0), runs(1.01));
        assert!(same.iter().all(|c| c.change == Change::Unchanged), "{same:?}");
        let faster = compare(runs(1.0), runs(0.5));
        assert_eq!(faster.iter().find(|c| c.metric == Metric::Wall).unwrap().change, Change::Improvement);
    }

    /// The hostile tester's fk2 against fk2000: one fit's worth of training against 2000 read as
    /// `wall +3639.8% REGRESSION`. Runs of another K are not comparable, whatever their times.
    #[test]
    fn runs_of_another_number_of_fits_are_not_comparable_and_never_a_regression() {
        let with_fits = |k, scale| runs(scale).into_iter().map(|r| RawRecord { fits: Some(k), ..r }).collect::<Vec<_>>();
        let compared = compare(&run(with_fits(2, 1.0)), &run(with_fits(2000, 37.0)), 0.05);
        assert!(compared.comparisons.is_empty(), "{:?}", compared.comparisons);
        assert_eq!(compared.not_comparable.len(), 1);
        assert_eq!(compared.not_comparable[0].differences, vec!["fits 2 → 2000".to_string()]);
        // The same K is compared, and its label says K.
        let same = compare(&run(with_fits(2, 1.0)), &run(with_fits(2, 1.3)), 0.05);
        assert!(same.not_comparable.is_empty());
        assert!(same.comparisons.iter().all(|c| c.point_label.ends_with("fits=2")), "{:?}", same.comparisons);
    }

    /// With plan.json on both sides, the data, the command (paths reduced to file names: another
    /// checkout runs the same program) and the environment are compared too.
    #[test]
    fn the_plans_say_what_else_was_measured_differently() {
        use crate::plan::Order;
        use crate::testutil;
        let plan = |command: &[&str], data: &str| {
            let mut implementation = testutil::implementation("rust");
            implementation.command = command.iter().map(|a| a.to_string()).collect();
            let mut point = testutil::point(0);
            point.data_path = data.into();
            testutil::plan(vec![implementation], "rust", vec![point], testutil::measure(20, Order::Grouped))
        };
        let old = Run { rows: runs(1.0), plan: Some(plan(&["/a/linreg-static", "--kernel", "scalar"], "/a/.cache/gen-1.npy")) };
        let elsewhere = Run { rows: runs(1.3), plan: Some(plan(&["/b/linreg-static", "--kernel", "scalar"], "/b/.cache/gen-1.npy")) };
        let compared = compare(&old, &elsewhere, 0.05);
        assert!(compared.not_comparable.is_empty() && !compared.comparisons.is_empty(), "{:?}", compared.not_comparable);
        let other = Run { rows: runs(1.3), plan: Some(plan(&["/a/linreg-static", "--kernel", "simd"], "/a/.cache/gen-2.npy")) };
        let compared = compare(&old, &other, 0.05);
        assert!(compared.comparisons.is_empty());
        let differences = &compared.not_comparable[0].differences;
        assert_eq!(differences.len(), 2, "{differences:?}");
        assert!(differences[0].starts_with("data gen-1.npy → gen-2.npy"), "{differences:?}");
        assert!(differences[1].contains("`linreg-static --kernel scalar` → `linreg-static --kernel simd`"), "{differences:?}");
    }

    #[test]
    fn the_threshold_is_respected() {
        let ratio = Ratio { estimate: 1.04, ci_low: 1.03, ci_high: 1.05 };
        assert_eq!(classify(&ratio, 0.05), Change::Unchanged);
        assert_eq!(classify(&ratio, 0.02), Change::Regression);
    }
}
