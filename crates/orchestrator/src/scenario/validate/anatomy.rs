//! The `anatomy:` section: chains of at least two steps, each an implementation of the scenario.

use std::path::Path;

use super::listed;
use crate::scenario::error::ScenarioError;
use crate::scenario::schema::ScenarioFile;

pub(super) fn check(path: &Path, scenario: &ScenarioFile) -> Result<(), ScenarioError> {
    for chain in &scenario.anatomy {
        if chain.value.len() < 2 {
            return Err(ScenarioError::at(path, chain, "an anatomy chain needs at least two steps: each is read against the one before"));
        }
        if let Some(name) = chain.value.iter().find(|n| !listed(scenario, &n.value)) {
            return Err(ScenarioError::at(path, name, super::not_listed(scenario, "an anatomy step is", &name.value)));
        }
    }
    Ok(())
}
