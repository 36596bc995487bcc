//! Where NumPy's import spends its time: `python -X importtime -c "import numpy"`, run a few
//! times before the measured runs (untimed by the report's figures, through the same launcher),
//! every module's self and cumulative time taken as the median over the runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::measure::{self, CancelToken, ChildCommand, RunLimits, Termination};
use crate::stats;

/// How many times the import is profiled: single runs vary by tens of percent per module.
pub(crate) const PROFILE_RUNS: usize = 5;
/// How many modules the report lists.
pub(crate) const SLOWEST_SHOWN: usize = 10;
const PROFILE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportProfile {
    /// What was imported, e.g. "numpy".
    pub module: String,
    pub runs: usize,
    /// The median cumulative time of the top-level import.
    pub total_seconds: f64,
    /// The modules with the largest median self time, slowest first.
    pub slowest: Vec<ModuleImport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleImport {
    pub name: String,
    /// Time in this module's own code, without the modules it imports.
    pub self_seconds: f64,
    /// Including the modules it imports (first import only).
    pub cumulative_seconds: f64,
}

/// Profiles `import MODULE` with `python`; None when it cannot be run, prints no profile, or
/// `cancel` stops it.
pub(crate) fn profile(python: &Path, module: &str, cancel: &CancelToken) -> Option<ImportProfile> {
    let command =
        ChildCommand::new([python.display().to_string(), "-X".into(), "importtime".into(), "-c".into(), format!("import {module}")], "/");
    let limits = RunLimits::with_timeout(PROFILE_TIMEOUT);
    let mut per_module: BTreeMap<String, ModuleTimes> = BTreeMap::new();
    for _ in 0..PROFILE_RUNS {
        let measured = measure::run_measured(&command, &limits, None, cancel);
        if measured.termination != Termination::Exited(0) {
            return None;
        }
        for line in parse(&String::from_utf8_lossy(&measured.stderr)) {
            let times = per_module.entry(line.name).or_default();
            times.own.push(line.self_seconds);
            times.cumulative.push(line.cumulative_seconds);
        }
    }
    let mut modules: Vec<ModuleImport> = per_module
        .into_iter()
        .filter_map(|(name, ModuleTimes { own, cumulative })| {
            Some(ModuleImport { name, self_seconds: stats::median(&sorted(own))?, cumulative_seconds: stats::median(&sorted(cumulative))? })
        })
        .collect();
    let total_seconds = modules.iter().find(|m| m.name == module)?.cumulative_seconds;
    modules.sort_by(|a, b| b.self_seconds.total_cmp(&a.self_seconds).then_with(|| a.name.cmp(&b.name)));
    modules.truncate(SLOWEST_SHOWN);
    Some(ImportProfile { module: module.to_string(), runs: PROFILE_RUNS, total_seconds, slowest: modules })
}

/// One module's self and cumulative seconds, one of each a profiled run.
#[derive(Default)]
struct ModuleTimes {
    own: Vec<f64>,
    cumulative: Vec<f64>,
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// The `import time: SELF | CUMULATIVE | NAME` lines (microseconds), header excluded.
fn parse(stderr: &str) -> Vec<ModuleImport> {
    stderr
        .lines()
        .filter_map(|line| {
            let mut fields = line.strip_prefix("import time:")?.split('|');
            let own: f64 = fields.next()?.trim().parse().ok()?;
            let cumulative: f64 = fields.next()?.trim().parse().ok()?;
            let name = fields.next()?.trim().to_string();
            Some(ModuleImport { name, self_seconds: own * 1e-6, cumulative_seconds: cumulative * 1e-6 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn importtime_lines_are_read_in_seconds_and_the_header_is_skipped() {
        let stderr = "import time: self [us] | cumulative | imported package\n\
                      import time:       120 |        120 |   _io\n\
                      import time:      2500 |      91000 | numpy\n\
                      Traceback: not a profile line\n";
        let lines = parse(stderr);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].name, "numpy");
        assert!((lines[1].self_seconds - 0.0025).abs() < 1e-12 && (lines[1].cumulative_seconds - 0.091).abs() < 1e-12);
        assert_eq!(lines[0].name, "_io", "nesting indentation is trimmed");
    }
}
