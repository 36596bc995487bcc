//! The `define:`, `implementations:` and `baseline:` sections, and the checks every
//! implementation gets, in the catalogue as under `define`: its name and its argv templates.

use std::path::Path;

use serde_saphyr::Spanned;

use super::listed;
use super::name::name_problem;
use crate::scenario::error::ScenarioError;
use crate::scenario::schema::{Catalogue, ImplementationSpec, ScenarioFile, PLACEHOLDERS};
use crate::scenario::template::placeholders_in;

/// A map key carries no place of its own: the error points at its value, on the key's line.
pub(crate) fn check_implementation_name(path: &Path, name: &str, spec: &Spanned<ImplementationSpec>) -> Result<(), ScenarioError> {
    match name_problem("implementation", name) {
        Some(problem) => Err(ScenarioError::at(path, spec, problem)),
        None => Ok(()),
    }
}

/// Checks one implementation's templates: non-empty argv, known placeholders only.
pub(crate) fn check_implementation(path: &Path, spec: &Spanned<ImplementationSpec>) -> Result<(), ScenarioError> {
    let spec_value = &spec.value;
    if spec_value.command.value.is_empty() {
        return Err(ScenarioError::at(path, &spec_value.command, "command must not be empty: give the program and its arguments"));
    }
    if let Some(check) = spec_value.check.as_ref().filter(|c| c.value.is_empty()) {
        return Err(ScenarioError::at(path, check, "check must not be empty: give a command, or leave check out"));
    }
    if let Some(t) = spec_value.check_timeout_seconds.as_ref().filter(|t| !(t.value.is_finite() && t.value > 0.0 && t.value <= 86_400.0)) {
        return Err(ScenarioError::at(path, t, "check_timeout_seconds must be > 0 and at most 86400"));
    }
    if let Some(prepare) = spec_value.prepare.as_ref().filter(|c| c.value.is_empty()) {
        return Err(ScenarioError::at(path, prepare, "prepare must not be empty: give a command, or leave prepare out"));
    }
    if let Some(t) = spec_value.prepare_timeout_seconds.as_ref().filter(|t| !(t.value.is_finite() && t.value > 0.0 && t.value <= 86_400.0))
    {
        return Err(ScenarioError::at(path, t, "prepare_timeout_seconds must be > 0 and at most 86400"));
    }
    let argvs = std::iter::once(&spec_value.command).chain(spec_value.check.as_ref()).chain(spec_value.prepare.as_ref());
    for arg in argvs.flat_map(|argv| argv.value.iter()) {
        // The kernel takes arguments as C strings: the program would get "a" of "a\0b".
        if arg.value.contains('\0') {
            return Err(ScenarioError::at(
                path,
                arg,
                format!("the argument '{}' holds a NUL character (\\0), which no program can be given", arg.value.escape_debug()),
            ));
        }
        for name in placeholders_in(&arg.value).map_err(|m| ScenarioError::at(path, arg, m.to_string()))? {
            if !PLACEHOLDERS.contains(&name) {
                return Err(ScenarioError::at(path, arg, format!("unknown placeholder {{{name}}} (known: {})", braced(&PLACEHOLDERS))));
            }
        }
    }
    check_env(path, spec_value)
}

/// Names and values a process can be given as they are written: a name neither empty nor holding
/// '=' ("C=D": y would set C to "D=y"), and no NUL anywhere (it cannot cross into a process at all).
/// A name has no place of its own in the file: the error points at its value, on the name's line.
fn check_env(path: &Path, spec: &ImplementationSpec) -> Result<(), ScenarioError> {
    for (name, value) in &spec.env {
        let shown = name.escape_debug();
        let problem = if name.is_empty() {
            Some("env: a variable's name is empty".to_string())
        } else if name.contains('=') {
            let cut = name.split('=').next().unwrap_or_default().escape_debug();
            Some(format!("env: the name '{shown}' holds '=', where a name ends: the program would get a variable '{cut}' instead"))
        } else if name.contains('\0') {
            Some(format!("env: the name '{shown}' holds a NUL character (\\0), which no program can be given"))
        } else if value.value.contains('\0') {
            Some(format!(
                "env: the value of {shown}, '{}', holds a NUL character (\\0), which no program can be given",
                value.value.escape_debug()
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ScenarioError::at(path, value, problem));
        }
    }
    Ok(())
}

fn braced(names: &[&str]) -> String {
    names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", ")
}

/// Implementations defined in the scenario: valid, and replacing a catalogue entry only when meant.
pub(super) fn check_define(path: &Path, scenario: &ScenarioFile, catalogue: &Catalogue) -> Result<(), ScenarioError> {
    for (name, spec) in &scenario.define {
        check_implementation_name(path, name, spec)?;
        check_implementation(path, spec)?;
        // The report would call it by the catalogue's name: replacing an entry must be meant.
        if catalogue.contains_key(name) && !spec.value.overrides {
            return Err(ScenarioError::at(
                path,
                spec,
                format!(
                    "'{name}' is already in the implementation catalogue: give this one another name, or add \
                     `override: true` to replace the catalogue's '{name}' in this scenario"
                ),
            ));
        }
    }
    Ok(())
}

/// The implementations to run: at least one, each known, none twice.
pub(super) fn check_implementations(path: &Path, scenario: &ScenarioFile, catalogue: &Catalogue) -> Result<(), ScenarioError> {
    let names = &scenario.implementations.value;
    if names.is_empty() {
        return Err(ScenarioError::at(path, &scenario.implementations, "implementations must list at least one implementation"));
    }
    let known = |name: &str| scenario.define.contains_key(name) || catalogue.contains_key(name);
    let known_names = || {
        let mut all: Vec<&str> = catalogue.keys().chain(scenario.define.keys()).map(String::as_str).collect();
        all.sort();
        all.dedup();
        all
    };
    for (i, name) in names.iter().enumerate() {
        if !known(&name.value) {
            let all = known_names();
            let guess = crate::scenario::closest::closest(&name.value, all.iter().copied())
                .map_or(String::new(), |g| format!("did you mean '{g}'? "));
            let message = format!("unknown implementation {} ({guess}known: {})", super::named(&name.value), all.join(", "));
            return Err(ScenarioError::at(path, name, message));
        }
        if names[..i].iter().any(|other| other.value == name.value) {
            return Err(ScenarioError::at(path, name, format!("implementation {} is listed twice", super::named(&name.value))));
        }
    }
    Ok(())
}

/// Ratios are taken against the baseline: it must be run.
pub(super) fn check_baseline(path: &Path, scenario: &ScenarioFile) -> Result<(), ScenarioError> {
    if !listed(scenario, &scenario.baseline.value) {
        return Err(ScenarioError::at(path, &scenario.baseline, super::not_listed(scenario, "the baseline is", &scenario.baseline.value)));
    }
    Ok(())
}
