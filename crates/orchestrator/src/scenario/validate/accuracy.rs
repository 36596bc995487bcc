//! The `accuracy:` section: a tolerance that is a finite number ≥ 0.

use std::path::Path;

use crate::scenario::error::ScenarioError;
use crate::scenario::schema::AccuracySpec;

pub(super) fn check(path: &Path, accuracy: Option<&AccuracySpec>) -> Result<(), ScenarioError> {
    if let Some(acc) = accuracy {
        let tol = acc.relative_tolerance.value;
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(ScenarioError::at(path, &acc.relative_tolerance, "relative_tolerance must be a finite number ≥ 0"));
        }
    }
    Ok(())
}
