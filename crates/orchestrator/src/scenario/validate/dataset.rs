//! The `dataset:` section: inline columns of one length and finite values, generator parameters
//! in range, a CSV path, a .npy path.

use std::path::Path;

use serde_saphyr::Spanned;

use crate::scenario::error::ScenarioError;
use crate::scenario::schema::{DatasetSpec, GenerateSpec, DEFAULT_X_MAX, DEFAULT_X_MIN};

pub(super) fn check(path: &Path, dataset: &DatasetSpec) -> Result<(), ScenarioError> {
    match dataset {
        DatasetSpec::Inline { x, y } => {
            if x.value.is_empty() {
                return Err(ScenarioError::at(path, x, "x must have at least one value"));
            }
            if x.value.len() != y.value.len() {
                return Err(ScenarioError::at(path, y, format!("y has {} values but x has {}", y.value.len(), x.value.len())));
            }
            for column in [x, y] {
                if column.value.iter().any(|v| !v.is_finite()) {
                    return Err(ScenarioError::at(path, column, "every value must be finite (no .nan or .inf)"));
                }
            }
        }
        DatasetSpec::Generate(g) => check_generate(path, g)?,
        DatasetSpec::Csv(c) => {
            if c.path.value.is_empty() {
                return Err(ScenarioError::at(path, &c.path, "path must not be empty"));
            }
            check_no_nul(path, &c.path)?;
        }
        DatasetSpec::Npy(npy) => {
            // The path reaches every command through {data}.
            check_no_nul(path, &npy.path)?;
            // Implementations choose the format by the extension (docs/protocol.md).
            if !npy.path.value.to_ascii_lowercase().ends_with(".npy") {
                return Err(ScenarioError::at(
                    path,
                    &npy.path,
                    "path must name a .npy file (implementations choose the format by the extension)",
                ));
            }
        }
    }
    Ok(())
}

/// No file's path holds a NUL, and no program could be given one.
fn check_no_nul(path: &Path, data_path: &Spanned<String>) -> Result<(), ScenarioError> {
    if data_path.value.contains('\0') {
        return Err(ScenarioError::at(
            path,
            data_path,
            format!("the path '{}' holds a NUL character (\\0)", data_path.value.escape_debug()),
        ));
    }
    Ok(())
}

fn check_generate(path: &Path, g: &GenerateSpec) -> Result<(), ScenarioError> {
    if g.n.value == 0 {
        return Err(ScenarioError::at(path, &g.n, "n must be ≥ 1"));
    }
    if g.n.value > 500_000_000 {
        return Err(ScenarioError::at(path, &g.n, "n above 5·10^8 would need more than 8 GB per copy of the data"));
    }
    let (x_min, x_max) = (g.x_min.unwrap_or(DEFAULT_X_MIN), g.x_max.unwrap_or(DEFAULT_X_MAX));
    let values = [g.slope, g.intercept, g.noise, x_min, x_max];
    if values.iter().any(|v| !v.is_finite()) || g.noise < 0.0 {
        return Err(ScenarioError::at(path, &g.n, "slope, intercept, x_min, x_max must be finite and noise finite and ≥ 0"));
    }
    if x_min > x_max {
        return Err(ScenarioError::at(path, &g.n, "x_min must not be above x_max"));
    }
    Ok(())
}
