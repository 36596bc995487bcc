//! Where things are while a plan is built, the command line's overrides, and the placeholder
//! values that are the same for every run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::measure::CancelToken;

/// Where things are, and the command line's overrides.
#[derive(Debug, Clone)]
pub(crate) struct PlanContext {
    /// The project root: relative commands run from here.
    pub(crate) root: PathBuf,
    /// {bin_dir}: where the release binaries are.
    pub(crate) bin_dir: PathBuf,
    /// {python}: the project venv's interpreter.
    pub(crate) python: PathBuf,
    pub(crate) cache_dir: PathBuf,
    pub(crate) quick: bool,
    pub(crate) repetitions: Option<u32>,
    pub(crate) warmup: Option<u32>,
    /// Set on SIGINT, SIGTERM or SIGHUP: dataset preparation and availability checks stop.
    pub(crate) cancel: CancelToken,
}

/// The values of the placeholders that are the same for every run.
pub(crate) fn global_values(ctx: &PlanContext) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("python", ctx.python.display().to_string()),
        ("bin_dir", ctx.bin_dir.display().to_string()),
        ("root", ctx.root.display().to_string()),
    ])
}
