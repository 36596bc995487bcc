//! What can be known of the scenarios' plan before anything is prepared or run, without reading
//! whole datasets: the number of runs against the cap, the CPUs a scenario pins its runs to
//! against this machine's, and each data file — there, a regular file (a FIFO is never opened)
//! with a header naming its columns once. `validate` and `run` both ask this first, so what `run`
//! would refuse, `validate` refuses, and `run` refuses it before generating a single dataset.

use std::path::Path;

use super::build::{beside, run_counts, Loaded};
use super::shard::PlanOptions;
use crate::scenario::{DatasetSpec, ScenarioError, ScenarioFile};

/// The most runs one `orchestrator run` makes (the list of them is held in memory).
pub(crate) const MAX_RUNS: u64 = 1_000_000;

/// Every check below, scenario by scenario; the first problem stops it. `with_run_count`: the
/// plan's runs are counted against [`MAX_RUNS`] (not for a shard, whose part is counted once it
/// is known).
pub(crate) fn check(loaded: &[Loaded], options: PlanOptions, with_run_count: bool) -> anyhow::Result<()> {
    for Loaded { path, file } in loaded {
        check_cpus(path, file)?;
        check_data(path, file)?;
    }
    if with_run_count {
        let counts: Vec<(String, u64)> = loaded.iter().map(|l| (l.path.display().to_string(), planned_runs(&l.file, options))).collect();
        let runs = counts.iter().map(|(_, runs)| runs).sum();
        let each: Vec<String> = counts.iter().map(|(path, runs)| format!("{path}: {runs}")).collect();
        check_run_count(runs, &each.join(", "))?;
    }
    Ok(())
}

/// Refuses more than [`MAX_RUNS`] runs; `detail` says where they come from.
pub(crate) fn check_run_count(runs: u64, detail: &str) -> anyhow::Result<()> {
    if runs > MAX_RUNS {
        anyhow::bail!(
            "the scenarios ask for {runs} runs, more than {MAX_RUNS} ({detail}): lower repetitions, warmup or the number of sweep points"
        );
    }
    Ok(())
}

/// The runs `file` asks for: warm-up and counted runs of every implementation at every point it
/// is not skipped at. An implementation that turns out unavailable runs nothing, so this is the
/// most the plan can hold.
fn planned_runs(file: &ScenarioFile, options: PlanOptions) -> u64 {
    let (warmup, repetitions) = run_counts(file, options);
    let implementations = &file.implementations.value;
    let runs_at = |skip: &[String]| implementations.iter().filter(|i| !skip.contains(&i.value)).count() as u64;
    let per_point = u64::from(warmup) + u64::from(repetitions);
    let points: u64 = match &file.sweep {
        None => runs_at(&[]),
        Some(sweep) => sweep
            .value
            .iter()
            .filter(|p| !options.quick || p.value.quick)
            .map(|p| runs_at(&p.value.skip.iter().map(|s| s.value.clone()).collect::<Vec<_>>()))
            .sum(),
    };
    points * per_point
}

/// `cpus:` names CPUs this process may run on.
fn check_cpus(path: &Path, file: &ScenarioFile) -> Result<(), ScenarioError> {
    match &file.measure.cpus {
        Some(cpus) => crate::measure::check_cpus(&cpus.value).map_err(|e| ScenarioError::at(path, cpus, format!("cpus: {e}"))),
        None => Ok(()),
    }
}

/// A CSV or .npy dataset's file, by its header only.
fn check_data(path: &Path, file: &ScenarioFile) -> Result<(), ScenarioError> {
    let checked = match &file.dataset {
        DatasetSpec::Csv(c) => {
            let (x, y) = (c.x_column.as_deref().unwrap_or("x"), c.y_column.as_deref().unwrap_or("y"));
            linreg::Dataset::check_csv_header(&beside(path, &c.path.value), x, y).map_err(|e| (&c.path, e))
        }
        DatasetSpec::Npy(npy) => linreg::Dataset::check_npy_header(&beside(path, &npy.path.value)).map(drop).map_err(|e| (&npy.path, e)),
        DatasetSpec::Inline { .. } | DatasetSpec::Generate(_) => Ok(()),
    };
    checked.map_err(|(spanned, e)| ScenarioError::at(path, spanned, e.to_string()))
}
