//! Scenario files: the YAML schema users edit, loaded strictly. An unknown field, a wrong type,
//! a missing field, an empty list, an unknown implementation or placeholder, a negative count:
//! each is one error naming the file, line and column, and nothing runs.
//!
//! This module only parses and validates; `plan` turns a valid scenario into runs. It imports
//! nothing from the rest of the crate.

mod closest;
mod error;
mod fits;
mod load;
mod schema;
mod template;
mod validate;

pub use error::ScenarioError;
pub use fits::FitsSpec;
pub(crate) use fits::{fits_at_point, DEFAULT_QUICK_FITS};
pub use load::{load_implementations, load_scenario};
pub(crate) use schema::{overridden, DEFAULT_X_MAX, DEFAULT_X_MIN, MAX_RUNS_PER_POINT};
pub use schema::{
    AbsoluteClaim, AccuracySpec, Catalogue, Claim, CsvSpec, DatasetSpec, FitClaim, GenerateSpec, ImplementationSpec, ImplementationsFile,
    MeasureSpec, MemoryRatioClaim, NpySpec, Order, Protocol, ScenarioFile, SpeedupClaim, SweepPoint, TimeMetric, Training,
};
pub(crate) use template::{fill, fill_partial, TemplateError};
pub(crate) use validate::{name_problem, validate};
