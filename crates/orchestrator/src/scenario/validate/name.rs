//! The `name:` section, and the rule every scenario and implementation name follows.

use std::path::Path;

use crate::scenario::error::ScenarioError;
use crate::scenario::schema::{ScenarioFile, MAX_NAME_CHARS};

/// None when `name` is a valid scenario or implementation name: 1–64 ASCII letters, digits, '.',
/// '_' or '-', starting with a letter or a digit. Otherwise why not, for a message.
pub(crate) fn name_problem(what: &str, name: &str) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let length = name.chars().count();
    let valid = (1..=MAX_NAME_CHARS).contains(&length) && name.chars().all(plain) && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        return None;
    }
    let quoted = crate::format::quoted_start(name, 40);
    Some(format!(
        "{what} name {quoted} is not valid: use 1–{MAX_NAME_CHARS} letters, digits, '.', '_' or '-', starting with a letter or a \
         digit (names become file names, headings and table cells)"
    ))
}

pub(super) fn check_scenario_name(path: &Path, scenario: &ScenarioFile) -> Result<(), ScenarioError> {
    if let Some(problem) = name_problem("scenario", &scenario.name.value) {
        return Err(ScenarioError::at(path, &scenario.name, problem));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        for good in ["seed", "rust-simd", "python_numpy.2", "A", &"n".repeat(64)] {
            assert_eq!(name_problem("scenario", good), None, "{good}");
        }
        for bad in ["", "-rust", ".hidden", "a|b", "two\nlines", "a/b", "é", "a b", &"n".repeat(65)] {
            assert!(name_problem("scenario", bad).is_some(), "{bad:?}");
        }
        let long = name_problem("scenario", &"n".repeat(300)).unwrap();
        assert!(long.starts_with(&format!("scenario name '{}…' (300 characters) is not valid", "n".repeat(40))), "{long}");
    }
}
