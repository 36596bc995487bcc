//! Warm fits: `training: fits` and `quick_fits`, each sweep point's `fits`, the claims that
//! compare per-fit figures, and `highlight:`. A count is a whole number from 1 to [`MAX_FITS`];
//! a map names implementations of the scenario that print a result line (and, at a point, that
//! the point runs).

use std::path::Path;

use serde_saphyr::Spanned;

use super::listed;
use crate::scenario::error::ScenarioError;
use crate::scenario::fits::{fits_at_point, FitsSpec, MAX_FITS};
use crate::scenario::schema::{Catalogue, Claim, Protocol, ScenarioFile, SweepPoint};

pub(super) fn check(path: &Path, scenario: &ScenarioFile, catalogue: &Catalogue) -> Result<(), ScenarioError> {
    let training = &scenario.training;
    if let Some(fits) = &training.fits {
        check_spec(path, scenario, catalogue, fits, &[])?;
    }
    if let Some(quick) = &training.quick_fits {
        check_count(path, quick)?;
    }
    for point in scenario.sweep.iter().flat_map(|sweep| &sweep.value) {
        if let Some(fits) = &point.value.fits {
            check_spec(path, scenario, catalogue, fits, &point.value.skip)?;
        }
    }
    if let Some(name) = scenario.highlight.iter().find(|name| !listed(scenario, &name.value)) {
        return Err(ScenarioError::at(path, name, super::not_listed(scenario, "highlight names", &name.value)));
    }
    check_claims(path, scenario, catalogue)
}

fn check_count(path: &Path, count: &Spanned<u64>) -> Result<(), ScenarioError> {
    if count.value == 0 || count.value > MAX_FITS {
        return Err(ScenarioError::at(path, count, format!("a number of fits must be between 1 and {MAX_FITS}")));
    }
    Ok(())
}

/// The implementations of the scenario whose program prints the result line of docs/protocol.md.
fn following_protocol<'a>(scenario: &'a ScenarioFile, catalogue: &Catalogue) -> Vec<&'a str> {
    let protocol = |name: &str| scenario.define.get(name).or_else(|| catalogue.get(name)).map(|spec| spec.value.protocol);
    scenario.implementations.value.iter().map(|name| name.value.as_str()).filter(|name| protocol(name) != Some(Protocol::None)).collect()
}

fn check_spec(
    path: &Path,
    scenario: &ScenarioFile,
    catalogue: &Catalogue,
    fits: &Spanned<FitsSpec>,
    skipped: &[Spanned<String>],
) -> Result<(), ScenarioError> {
    let entries = match &fits.value {
        FitsSpec::Every(count) if *count == 0 || *count > MAX_FITS => {
            return Err(ScenarioError::at(path, fits, format!("a number of fits must be between 1 and {MAX_FITS}")))
        }
        FitsSpec::Every(_) => return Ok(()),
        FitsSpec::Each(entries) if entries.is_empty() => {
            return Err(ScenarioError::at(path, fits, "fits names no implementation: give a number, a map of them, or leave fits out"))
        }
        FitsSpec::Each(entries) => entries,
    };
    let protocol = following_protocol(scenario, catalogue);
    for (name, count) in entries {
        if !listed(scenario, &name.value) {
            return Err(ScenarioError::at(path, count, super::not_listed(scenario, "fits names", &name.value)));
        }
        let problem = if !protocol.contains(&name.value.as_str()) {
            Some("which has `protocol: none`: it prints no result line, so it cannot report its fits")
        } else if skipped.iter().any(|skip| skip.value == name.value) {
            Some("which this point skips")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ScenarioError::at(path, count, format!("fits names {}, {problem}", super::named(&name.value))));
        }
        check_count(path, count)?;
    }
    Ok(())
}

/// A speed-up by a per-fit figure needs those fits from both implementations wherever it is judged.
fn check_claims(path: &Path, scenario: &ScenarioFile, catalogue: &Catalogue) -> Result<(), ScenarioError> {
    let protocol = following_protocol(scenario, catalogue);
    let points: Vec<Option<&SweepPoint>> = match &scenario.sweep {
        Some(sweep) => sweep.value.iter().map(|p| Some(&p.value)).collect(),
        None => vec![None],
    };
    let scenario_fits = scenario.training.fits.as_ref().map(|f| &f.value);
    for claim in &scenario.expect {
        let Claim::Speedup(c) = &claim.value else { continue };
        let Some(needed) = c.metric.fits_needed() else { continue };
        for (index, point) in points.iter().enumerate().filter(|(index, _)| c.point.is_none_or(|p| p == *index)) {
            let counts = fits_at_point(scenario_fits, point.and_then(|p| p.fits.as_ref()).map(|f| &f.value), &protocol);
            let runs = |name: &str| point.is_none_or(|p| !p.skip.iter().any(|s| s.value == name));
            let short = [&c.faster, &c.than].into_iter().find(|name| runs(name) && counts.get(name.as_str()).is_none_or(|k| *k < needed));
            if let Some(name) = short {
                let given = counts.get(name.as_str()).map_or("no fits".to_string(), |k| format!("fits: {k}"));
                return Err(ScenarioError::at(
                    path,
                    claim,
                    format!(
                        "metric {} needs fits: {needed} or more from both implementations, but '{name}' has {given} at point {index} \
                         (give it fits under training: or in the sweep point)",
                        c.metric.as_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}
