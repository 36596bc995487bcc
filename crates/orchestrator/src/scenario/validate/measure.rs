//! The `measure:` section: counts, the sample interval, the timeout, CPUs and the memory limit
//! within their ranges.

use std::path::Path;

use crate::scenario::error::ScenarioError;
use crate::scenario::schema::{MeasureSpec, MAX_RUNS_PER_POINT};

/// The longest sample interval a scenario may ask for, first or last (a minute).
const MAX_SAMPLE_INTERVAL_MS: u64 = 60_000;

pub(super) fn check(path: &Path, m: &MeasureSpec) -> Result<(), ScenarioError> {
    for count in [&m.repetitions, &m.quick_repetitions].into_iter().flatten() {
        if count.value == 0 {
            return Err(ScenarioError::at(path, count, "must be ≥ 1"));
        }
    }
    for count in [&m.repetitions, &m.quick_repetitions, &m.warmup].into_iter().flatten() {
        if count.value > MAX_RUNS_PER_POINT {
            return Err(ScenarioError::at(path, count, format!("must be at most {MAX_RUNS_PER_POINT}")));
        }
    }
    if let Some(ms) = &m.sample_interval_ms {
        if ms.value == 0 || ms.value > MAX_SAMPLE_INTERVAL_MS {
            return Err(ScenarioError::at(path, ms, format!("sample_interval_ms must be between 1 and {MAX_SAMPLE_INTERVAL_MS}")));
        }
    }
    if let Some(max) = &m.sample_interval_max_ms {
        let (first, default) = match &m.sample_interval_ms {
            Some(ms) => (ms.value, ""),
            None => (crate::measure::DEFAULT_SAMPLE_INTERVAL.as_millis() as u64, ", the default"),
        };
        if max.value > MAX_SAMPLE_INTERVAL_MS {
            return Err(ScenarioError::at(path, max, format!("sample_interval_max_ms must be at most {MAX_SAMPLE_INTERVAL_MS}")));
        }
        if max.value < first {
            return Err(ScenarioError::at(
                path,
                max,
                format!("sample_interval_max_ms must be at least sample_interval_ms ({first}{default}): samples only grow sparser as a run lasts"),
            ));
        }
    }
    if let Some(t) = &m.timeout_seconds {
        if !(t.value.is_finite() && t.value > 0.0 && t.value <= 86_400.0) {
            return Err(ScenarioError::at(path, t, "timeout_seconds must be > 0 and at most 86400"));
        }
    }
    if let Some(cpus) = &m.cpus {
        let problem = match cpus.value.iter().find(|&&cpu| cpu >= 1024) {
            _ if cpus.value.is_empty() => Some("cpus must name one CPU at least".to_string()),
            Some(cpu) => Some(format!("cpus: {cpu} is no CPU number (they are below 1024)")),
            None => None,
        };
        if let Some(problem) = problem {
            let allowed =
                crate::measure::allowed_cpus().map(|cpus| format!("; this process may use {}", crate::measure::cpu_ranges(&cpus)));
            return Err(ScenarioError::at(path, cpus, format!("{problem}{}", allowed.unwrap_or_default())));
        }
    }
    if let Some(mb) = &m.memory_limit_mb {
        if mb.value == 0 {
            return Err(ScenarioError::at(path, mb, "memory_limit_mb must be ≥ 1"));
        }
    }
    Ok(())
}
