//! The `expect:` section: each claim names implementations of the scenario and a point it has,
//! with bounds that make sense.

use std::path::Path;

use serde_saphyr::Spanned;

use super::listed;
use crate::format;
use crate::scenario::error::ScenarioError;
use crate::scenario::schema::{Claim, ScenarioFile};

pub(super) fn check(path: &Path, scenario: &ScenarioFile) -> Result<(), ScenarioError> {
    let points = scenario.sweep.as_ref().map_or(1, |s| s.value.len());
    for claim in &scenario.expect {
        check_claim(path, scenario, points, claim)?;
    }
    Ok(())
}

fn check_claim(path: &Path, scenario: &ScenarioFile, points: usize, claim: &Spanned<Claim>) -> Result<(), ScenarioError> {
    let err = |message: String| ScenarioError::at(path, claim, message);
    let (names, point): (Vec<&str>, Option<usize>) = match &claim.value {
        Claim::Speedup(c) => (vec![&c.faster, &c.than], c.point),
        Claim::MemoryRatio(c) => (vec![&c.leaner, &c.than], c.point),
        Claim::Fit(c) => (vec![&c.implementation], c.point),
        Claim::WallMs(c) | Claim::PeakRssMb(c) => (vec![&c.implementation], c.point),
    };
    if let Some(name) = names.into_iter().find(|n| !listed(scenario, n)) {
        return Err(err(super::not_listed(scenario, "claim names", name)));
    }
    if point.is_some_and(|p| p >= points) {
        return Err(err(format!("claim point must be below {points} (the scenario has {points} point(s), counted from 0)")));
    }
    let bounds = match &claim.value {
        Claim::Speedup(c) => (c.at_least, c.at_most),
        Claim::MemoryRatio(c) => (c.at_least, c.at_most),
        Claim::WallMs(c) | Claim::PeakRssMb(c) => (c.at_least, c.at_most),
        Claim::Fit(c) => {
            if !(c.tolerance.is_finite() && c.tolerance >= 0.0) || (c.w.is_none() && c.b.is_none()) {
                return Err(err("a fit claim needs w and/or b, and a finite tolerance ≥ 0".into()));
            }
            (Some(1.0), None)
        }
    };
    match bounds {
        (None, None) => return Err(err("a ratio claim needs at_least and/or at_most".into())),
        (lo, hi) if lo.into_iter().chain(hi).any(|v| !(v.is_finite() && v > 0.0)) => {
            return Err(err("at_least and at_most must be finite numbers > 0".into()))
        }
        (Some(lo), Some(hi)) if lo > hi => {
            return Err(err(format!("at_least ({}) is above at_most ({})", format::number(lo), format::number(hi))))
        }
        _ => {}
    }
    Ok(())
}
