//! The `sweep:` section: at least one point, each overriding something valid, skipping only
//! implementations of the scenario (never the baseline), and no point twice.

use std::path::Path;

use serde_saphyr::Spanned;

use super::listed;
use super::training::{check_epochs, check_learning_rate};
use crate::format;
use crate::scenario::error::ScenarioError;
use crate::scenario::schema::{DatasetSpec, ScenarioFile, SweepPoint};

pub(super) fn check(path: &Path, scenario: &ScenarioFile) -> Result<(), ScenarioError> {
    if let Some(sweep) = &scenario.sweep {
        if sweep.value.is_empty() {
            return Err(ScenarioError::at(path, sweep, "sweep must have at least one point (or leave it out)"));
        }
        for point in &sweep.value {
            check_point(path, scenario, point)?;
        }
        check_distinct(path, scenario, &sweep.value)?;
    }
    Ok(())
}

fn check_point(path: &Path, scenario: &ScenarioFile, point: &Spanned<SweepPoint>) -> Result<(), ScenarioError> {
    let p = &point.value;
    if let Some(n) = &p.n {
        match &scenario.dataset {
            DatasetSpec::Generate(_) if n.value == 0 => return Err(ScenarioError::at(path, n, "n must be ≥ 1")),
            DatasetSpec::Generate(_) => {}
            _ => return Err(ScenarioError::at(path, n, "n can only be swept over a generated dataset (dataset: generate)")),
        }
    }
    if p.n.is_none() && p.epochs.is_none() && p.learning_rate.is_none() {
        return Err(ScenarioError::at(path, point, "a sweep point must override at least one of n, epochs, learning_rate"));
    }
    if let Some(name) = p.skip.iter().find(|name| !listed(scenario, &name.value)) {
        return Err(ScenarioError::at(path, name, super::not_listed(scenario, "skip names", &name.value)));
    }
    if p.skip.iter().any(|name| name.value == scenario.baseline.value) {
        return Err(ScenarioError::at(path, point, "the baseline cannot be skipped: ratios are taken against it"));
    }
    if let Some(e) = &p.epochs {
        check_epochs(path, e)?;
    }
    if let Some(lr) = &p.learning_rate {
        check_learning_rate(path, lr)?;
    }
    Ok(())
}

/// The values a sweep point is measured at: its overrides, else the scenario's.
#[derive(Debug, Clone, Copy, PartialEq)]
struct EffectivePoint {
    n: Option<u64>,
    epochs: u64,
    learning_rate: f64,
}

/// The same point twice would be measured twice under one heading, as if it were two.
fn check_distinct(path: &Path, scenario: &ScenarioFile, points: &[Spanned<SweepPoint>]) -> Result<(), ScenarioError> {
    let fixed_n = match &scenario.dataset {
        DatasetSpec::Generate(g) => Some(g.n.value),
        _ => None,
    };
    let effective = |p: &SweepPoint| EffectivePoint {
        n: p.n.as_ref().map(|n| n.value).or(fixed_n),
        epochs: p.epochs.as_ref().map_or(scenario.training.epochs.value, |e| e.value),
        learning_rate: p.learning_rate.as_ref().map_or(scenario.training.learning_rate.value, |lr| lr.value),
    };
    for (i, point) in points.iter().enumerate() {
        let here = effective(&point.value);
        if let Some(earlier) = points[..i].iter().position(|other| effective(&other.value) == here) {
            let EffectivePoint { n, epochs, learning_rate } = here;
            let n = n.map(|n| format!("n={n} ")).unwrap_or_default();
            return Err(ScenarioError::at(
                path,
                point,
                format!(
                    "sweep point {i} is the same point as point {earlier} ({n}epochs={epochs} learning_rate={}): \
                 each point is measured once (raise repetitions for more runs)",
                    format::number(learning_rate)
                ),
            ));
        }
    }
    Ok(())
}
