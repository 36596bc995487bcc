//! The `training:` section, and the same checks on a sweep point's overrides of it.

use std::path::Path;

use serde_saphyr::Spanned;

use crate::scenario::error::ScenarioError;
use crate::scenario::schema::Training;

pub(super) fn check(path: &Path, training: &Training) -> Result<(), ScenarioError> {
    check_epochs(path, &training.epochs)?;
    check_learning_rate(path, &training.learning_rate)
}

pub(super) fn check_epochs(path: &Path, epochs: &Spanned<u64>) -> Result<(), ScenarioError> {
    if epochs.value == 0 {
        return Err(ScenarioError::at(path, epochs, "epochs must be ≥ 1"));
    }
    Ok(())
}

pub(super) fn check_learning_rate(path: &Path, lr: &Spanned<f64>) -> Result<(), ScenarioError> {
    if !(lr.value.is_finite() && lr.value > 0.0) {
        return Err(ScenarioError::at(path, lr, "learning_rate must be a finite number > 0"));
    }
    Ok(())
}
