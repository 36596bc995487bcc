//! Reading scenario and catalogue files: only regular UTF-8 files of a sane size, parsed strictly
//! into the schema; the catalogue's entries are checked as they are read.

use std::path::Path;

use serde::Deserialize;

use super::error::ScenarioError;
use super::schema::{ImplementationsFile, ScenarioFile};
use super::validate::{check_implementation, check_implementation_name};

/// Scenario and catalogue files larger than this are refused rather than read: a YAML file this
/// big is not a scenario, and a device such as /dev/zero would never end.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads a file as UTF-8 text, with the problems a user can cause named. Only regular files of a
/// sane size are read: a device such as /dev/zero would never end, a FIFO would block.
fn read_text(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let cannot_read = |e: std::io::Error| ScenarioError::whole_file(path, format!("cannot read: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot_read)?;
    if meta.is_dir() {
        return Err(ScenarioError::whole_file(path, "is a directory, expected a YAML file"));
    }
    if !meta.is_file() {
        return Err(ScenarioError::whole_file(path, "is not a regular file (a device, FIFO or socket), expected a YAML file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::whole_file(path, format!("is larger than {} MiB: not a scenario file", MAX_FILE_BYTES >> 20)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
        ScenarioError { file: path.to_owned(), line, column, message: "not valid UTF-8".into(), snippet: String::new() }
    })
}

/// Parses YAML text into `T`, turning serde-saphyr's error into a located ScenarioError.
fn parse_yaml<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T, ScenarioError> {
    if text.lines().all(|line| line.trim().is_empty() || line.trim_start().starts_with('#')) {
        return Err(ScenarioError::whole_file(path, "the file is empty (nothing but blank lines and comments)"));
    }
    let options = serde_saphyr::options! {};
    serde_saphyr::from_str_with_options(text, options).map_err(|e| ScenarioError::from_yaml(path, &e))
}

pub fn load_scenario(path: &Path) -> Result<ScenarioFile, ScenarioError> {
    parse_yaml(path, &read_text(path)?)
}

pub fn load_implementations(path: &Path) -> Result<ImplementationsFile, ScenarioError> {
    let file: ImplementationsFile = parse_yaml(path, &read_text(path)?)?;
    for (name, spec) in &file.implementations {
        check_implementation_name(path, name, spec)?;
        check_implementation(path, spec)?;
        if spec.value.overrides {
            return Err(ScenarioError::at(path, spec, "override: true belongs under a scenario's define, not in the catalogue"));
        }
    }
    Ok(file)
}
