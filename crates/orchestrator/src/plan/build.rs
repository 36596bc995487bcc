//! Building the plan from validated scenario files: implementations resolved (and checked for
//! availability once each), every dataset prepared (untimed), sweeps expanded into points.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::availability::{self, check_available};
use super::context::{global_values, PlanContext};
use super::datasets::{self, Generated};
use super::shard::PlanOptions;
use super::{AccuracySettings, ImplementationPlan, Measure, Plan, PointPlan, ScenarioPlan};
use crate::scenario::{
    self, Catalogue, DatasetSpec, FitsSpec, ImplementationSpec, MeasureSpec, Protocol, ScenarioError, ScenarioFile, DEFAULT_QUICK_FITS,
    DEFAULT_X_MAX, DEFAULT_X_MIN,
};

/// Defaults for what a scenario's `measure:` leaves out.
const DEFAULT_WARMUP: u32 = 2;
const DEFAULT_REPETITIONS: u32 = 10;
const DEFAULT_QUICK_REPETITIONS: u32 = 3;
/// `sample_interval_ms` when a scenario gives none: the sampler's own default.
const DEFAULT_SAMPLE_INTERVAL_MS: u64 = crate::measure::DEFAULT_SAMPLE_INTERVAL.as_millis() as u64;
/// `sample_interval_max_ms` when a scenario gives none: the sampler's own default (or the first
/// interval, if longer).
const DEFAULT_SAMPLE_INTERVAL_MAX_MS: u64 = crate::measure::DEFAULT_LONGEST_SAMPLE_INTERVAL.as_millis() as u64;
const DEFAULT_TIMEOUT_SECONDS: f64 = 120.0;

/// A scenario file parsed and validated, with the catalogue it was checked against.
pub struct Loaded {
    pub path: PathBuf,
    pub file: ScenarioFile,
}

/// Parses and validates every scenario against the catalogue. The first problem stops it.
pub fn load(scenario_paths: &[PathBuf], catalogue: &Catalogue) -> Result<Vec<Loaded>, ScenarioError> {
    let mut loaded: Vec<Loaded> = Vec::new();
    let same_file = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    for path in scenario_paths {
        if let Some(other) = loaded.iter().find(|l| same_file(&l.path, path)) {
            return Err(ScenarioError::whole_file(
                path,
                format!("this scenario file is given twice (also as {}): each scenario runs once", other.path.display()),
            ));
        }
        let file = scenario::load_scenario(path)?;
        scenario::validate(path, &file, catalogue)?;
        if let Some(other) = loaded.iter().find(|l| l.file.name.value == file.name.value) {
            return Err(ScenarioError::at(
                path,
                &file.name,
                format!("scenario name '{}' is also used by {}", file.name.value, other.path.display()),
            ));
        }
        loaded.push(Loaded { path: path.clone(), file });
    }
    Ok(loaded)
}

/// The order of a default run: by each scenario's `order:`, the ones without after, ties kept in
/// the order given (file name). Scenarios named on the command line keep the user's order.
pub fn sort_by_declared_order(loaded: &mut [Loaded]) {
    loaded.sort_by_key(|l| l.file.order.map_or((1, 0), |order| (0, order)));
}

/// Resolves implementations, prepares every dataset (untimed) and expands sweeps into points.
pub(crate) fn build(loaded: &[Loaded], catalogue: &Catalogue, ctx: &PlanContext) -> anyhow::Result<Plan> {
    let mut availability: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut scenarios = Vec::new();
    for Loaded { path, file } in loaded {
        let implementations = file
            .implementations
            .value
            .iter()
            .map(|name| {
                let name = &name.value;
                let spec = file.define.get(name).or_else(|| catalogue.get(name)).map(|s| &s.value).context("validated")?;
                let resolved = resolve_implementation(name, spec, ctx);
                // Same name, same catalogue entry: check once. Inline definitions are checked on their own.
                let key = if file.define.contains_key(name) { format!("{}::{name}", file.name.value) } else { name.clone() };
                let unavailable = availability.entry(key.clone()).or_insert_with(|| check_available(&resolved, spec, ctx)).clone();
                // Not available yet, but it can be prepared later in the run: it counts as runnable.
                let pending = unavailable.clone().and_then(|why| availability::pending(why, spec, key, ctx));
                let unavailable = unavailable.filter(|_| pending.is_none());
                Ok(ImplementationPlan { unavailable, pending, ..resolved })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let follows_protocol: Vec<&str> =
            implementations.iter().filter(|i| i.protocol != Protocol::None).map(|i| i.name.as_str()).collect();
        let points =
            build_points(path, file, &follows_protocol, ctx).with_context(|| format!("{}: preparing the dataset", path.display()))?;
        let m = &file.measure;
        let options = PlanOptions { quick: ctx.quick, repetitions: ctx.repetitions, warmup: ctx.warmup };
        let (warmup, repetitions) = run_counts(file, options);
        let (sample_interval_ms, sample_interval_max_ms) = sample_intervals(m);
        scenarios.push(ScenarioPlan {
            name: file.name.value.clone(),
            description: file.description.trim().to_string(),
            source_file: path.clone(),
            baseline: file.baseline.value.clone(),
            implementations,
            points,
            measure: Measure {
                warmup,
                repetitions,
                sample_interval_ms,
                sample_interval_max_ms: Some(sample_interval_max_ms),
                timeout_seconds: m.timeout_seconds.as_ref().map_or(DEFAULT_TIMEOUT_SECONDS, |v| v.value),
                order: m.order,
                cpus: m.cpus.as_ref().map(|c| c.value.clone()),
                memory_limit_mb: m.memory_limit_mb.as_ref().map(|v| v.value),
            },
            expect: file.expect.iter().map(|c| c.value.clone()).collect(),
            accuracy: file
                .accuracy
                .as_ref()
                .map_or_else(AccuracySettings::default, |a| AccuracySettings { relative_tolerance: a.relative_tolerance.value }),
            anatomy: file.anatomy.iter().map(|chain| chain.value.iter().map(|n| n.value.clone()).collect()).collect(),
            highlight: file.highlight.iter().map(|name| name.value.clone()).collect(),
        });
    }
    Ok(Plan { scenarios })
}

/// The first and the longest sample interval of `m`'s runs, in ms: the scenario's, else the
/// defaults (the longest never below the first).
fn sample_intervals(m: &MeasureSpec) -> (u64, u64) {
    let first = m.sample_interval_ms.as_ref().map_or(DEFAULT_SAMPLE_INTERVAL_MS, |v| v.value);
    (first, m.sample_interval_max_ms.as_ref().map_or(DEFAULT_SAMPLE_INTERVAL_MAX_MS.max(first), |v| v.value))
}

/// The warm-up runs and the counted runs of each implementation at each point of `file`: the
/// command line's, else the scenario's (its quick ones with --quick, and at most one warm-up),
/// else the defaults.
pub(crate) fn run_counts(file: &ScenarioFile, options: PlanOptions) -> (u32, u32) {
    let m = &file.measure;
    let repetitions = options.repetitions.unwrap_or_else(|| {
        let full = m.repetitions.as_ref().map_or(DEFAULT_REPETITIONS, |r| r.value);
        let quick = m.quick_repetitions.as_ref().map_or(DEFAULT_QUICK_REPETITIONS, |r| r.value);
        if options.quick {
            quick.min(full)
        } else {
            full
        }
    });
    let warmup = options.warmup.unwrap_or_else(|| {
        let w = m.warmup.as_ref().map_or(DEFAULT_WARMUP, |w| w.value);
        if options.quick {
            w.min(1)
        } else {
            w
        }
    });
    (warmup, repetitions)
}

fn resolve_implementation(name: &str, spec: &ImplementationSpec, ctx: &PlanContext) -> ImplementationPlan {
    let globals = global_values(ctx);
    ImplementationPlan {
        name: name.to_string(),
        description: spec.description.trim().to_string(),
        command: spec.command.value.iter().map(|a| scenario::fill_partial(&a.value, &globals)).collect(),
        env: spec.env.iter().map(|(name, value)| (name.clone(), value.value.clone())).collect(),
        unavailable: None,
        optional: spec.optional,
        protocol: spec.protocol,
        pending: None,
    }
}

/// A point's label, "n=5 epochs=1000 lr=0.01": compared across runs (compare, merge), so an
/// ordinary value is written as it always was; 5e-324 as that, not as 326 characters.
pub(crate) fn point_label(n: u64, epochs: u64, learning_rate: f64) -> String {
    format!("n={n} epochs={epochs} lr={}", crate::format::number(learning_rate))
}

/// What one point of a sweep (or the single point of a scenario without one) sets.
struct PointOverrides<'a> {
    n: Option<u64>,
    epochs: Option<u64>,
    learning_rate: Option<f64>,
    /// Run by --quick.
    in_quick: bool,
    skip: Vec<String>,
    fits: Option<&'a FitsSpec>,
}

fn build_points(path: &Path, file: &ScenarioFile, follows_protocol: &[&str], ctx: &PlanContext) -> anyhow::Result<Vec<PointPlan>> {
    let base_epochs = file.training.epochs.value;
    let base_lr = file.training.learning_rate.value;
    let overrides: Vec<PointOverrides> = match &file.sweep {
        None => vec![PointOverrides { n: None, epochs: None, learning_rate: None, in_quick: true, skip: Vec::new(), fits: None }],
        Some(sweep) => sweep
            .value
            .iter()
            .map(|p| {
                let p = &p.value;
                PointOverrides {
                    n: p.n.as_ref().map(|v| v.value),
                    epochs: p.epochs.as_ref().map(|v| v.value),
                    learning_rate: p.learning_rate.as_ref().map(|v| v.value),
                    in_quick: p.quick,
                    skip: p.skip.iter().map(|s| s.value.clone()).collect(),
                    fits: p.fits.as_ref().map(|f| &f.value),
                }
            })
            .collect(),
    };
    let mut points = Vec::new();
    let scenario_fits = file.training.fits.as_ref().map(|f| &f.value);
    let quick_fits = ctx.quick.then(|| file.training.quick_fits.as_ref().map_or(DEFAULT_QUICK_FITS, |q| q.value));
    for (index, PointOverrides { n, epochs, learning_rate, in_quick, skip, fits }) in overrides.into_iter().enumerate() {
        if ctx.quick && !in_quick {
            continue;
        }
        let prepared = match &file.dataset {
            DatasetSpec::Inline { x, y } => datasets::prepare_inline(&ctx.cache_dir, &x.value, &y.value, &ctx.cancel)?,
            DatasetSpec::Generate(g) => {
                let spec = Generated {
                    n: n.unwrap_or(g.n.value),
                    slope: g.slope,
                    intercept: g.intercept,
                    noise: g.noise,
                    seed: g.seed,
                    x_min: g.x_min.unwrap_or(DEFAULT_X_MIN),
                    x_max: g.x_max.unwrap_or(DEFAULT_X_MAX),
                };
                datasets::prepare_generated(&ctx.cache_dir, &spec, &ctx.cancel)?
            }
            DatasetSpec::Csv(c) => {
                let csv_path = beside(path, &c.path.value);
                let (xc, yc) = (c.x_column.as_deref().unwrap_or("x"), c.y_column.as_deref().unwrap_or("y"));
                datasets::prepare_csv(&ctx.cache_dir, &csv_path, xc, yc, &ctx.cancel)?
            }
            DatasetSpec::Npy(npy) => datasets::prepare_npy(&beside(path, &npy.path.value))?,
        };
        let epochs = epochs.unwrap_or(base_epochs);
        let learning_rate = learning_rate.unwrap_or(base_lr);
        points.push(PointPlan {
            index,
            label: point_label(prepared.n, epochs, learning_rate),
            n: prepared.n,
            epochs,
            learning_rate,
            data_path: prepared.path,
            data_description: prepared.description,
            fits: scenario::fits_at_point(scenario_fits, fits, follows_protocol)
                .into_iter()
                .filter(|(name, _)| !skip.contains(name))
                .map(|(name, count)| (name, quick_fits.map_or(count, |cap| count.min(cap))))
                .collect(),
            skip,
            reference: None,
        });
    }
    Ok(points)
}

/// A data file's path as a scenario gives it: relative to the scenario file.
pub(super) fn beside(scenario: &Path, data: &str) -> PathBuf {
    scenario.parent().unwrap_or(Path::new(".")).join(data)
}

/// The argv of one run: the implementation's template with the point's values filled in, and
/// `--fits K` after it when the point asks this implementation for K fits.
pub(crate) fn command_for(implementation: &ImplementationPlan, point: &PointPlan) -> Result<Vec<String>, scenario::TemplateError> {
    let mut argv = one_fit_command_for(implementation, point)?;
    if let Some(fits) = point.fits.get(&implementation.name) {
        argv.extend(["--fits".to_string(), fits.to_string()]);
    }
    Ok(argv)
}

/// The argv of a run making one fit at `point`, without `--fits` whatever the point asks: the
/// implementation's template with the point's values filled in.
pub(crate) fn one_fit_command_for(implementation: &ImplementationPlan, point: &PointPlan) -> Result<Vec<String>, scenario::TemplateError> {
    let values = BTreeMap::from([
        ("data", point.data_path.display().to_string()),
        ("epochs", point.epochs.to_string()),
        ("learning_rate", format!("{:?}", point.learning_rate)),
        ("n", point.n.to_string()),
    ]);
    implementation.command.iter().map(|a| scenario::fill(a, &values)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_labels_stay_as_they_were_and_short_at_the_extremes() {
        assert_eq!(point_label(5, 1000, 0.01), crate::testutil::SEED_LABEL);
        assert_eq!(point_label(10_000_000, 10, 0.05), "n=10000000 epochs=10 lr=0.05");
        assert_eq!(point_label(10, u64::MAX, 5e-324), "n=10 epochs=18446744073709551615 lr=5e-324");
        assert_eq!(point_label(10, 1, 1e300), "n=10 epochs=1 lr=1e300");
    }
}
