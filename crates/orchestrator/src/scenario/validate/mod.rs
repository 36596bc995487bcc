//! Checks what the schema alone cannot, one file per section of a scenario file: lists not empty,
//! counts positive, names known, sweep overrides compatible with the dataset, claims naming
//! implementations of this scenario. The first problem found is the one reported.

mod accuracy;
mod anatomy;
mod dataset;
mod expect;
mod fits;
mod implementations;
mod measure;
mod name;
mod sweep;
mod training;

use std::path::Path;

use super::error::ScenarioError;
use super::schema::{Catalogue, ScenarioFile};

pub(crate) use implementations::{check_implementation, check_implementation_name};
pub(crate) use name::name_problem;

/// Checks a parsed scenario against the catalogue, section by section in the order of the file's
/// dependencies: names before what refers to them.
pub(crate) fn validate(path: &Path, scenario: &ScenarioFile, catalogue: &Catalogue) -> Result<(), ScenarioError> {
    name::check_scenario_name(path, scenario)?;
    implementations::check_define(path, scenario, catalogue)?;
    implementations::check_implementations(path, scenario, catalogue)?;
    implementations::check_baseline(path, scenario)?;
    anatomy::check(path, scenario)?;
    training::check(path, &scenario.training)?;
    dataset::check(path, &scenario.dataset)?;
    sweep::check(path, scenario)?;
    measure::check(path, &scenario.measure)?;
    accuracy::check(path, scenario.accuracy.as_ref())?;
    expect::check(path, scenario)?;
    fits::check(path, scenario, catalogue)
}

/// Whether `name` is among the scenario's `implementations:`.
fn listed(scenario: &ScenarioFile, name: &str) -> bool {
    scenario.implementations.value.iter().any(|n| n.value == name)
}

/// A name the user wrote, for a message: its start quoted and escaped (a name of megabytes is not
/// printed whole).
fn named(name: &str) -> String {
    crate::format::quoted_start(name, 64)
}

/// "'rust-smid', which is not among this scenario's implementations (did you mean 'rust-simd'?)":
/// `name`, which a part of the scenario (`what`: "baseline", "claim names") refers to and the
/// scenario does not run.
fn not_listed(scenario: &ScenarioFile, what: &str, name: &str) -> String {
    let listed = scenario.implementations.value.iter().map(|n| n.value.as_str());
    let guess = super::closest::closest(name, listed).map_or(String::new(), |g| format!(" (did you mean '{g}'?)"));
    format!("{what} {}, which is not among this scenario's implementations{guess}", named(name))
}
