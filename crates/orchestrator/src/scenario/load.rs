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

/// The YAML file in `path`'s folder, or else in its `scenarios/` folder (`sead.yaml` typed at the
/// project's root), whose name is closest to the missing one's, within a few edits (`sead.yaml`:
/// `seed.yaml`), as the path would be written with it; never the missing name itself (a link to
/// nowhere is listed under it).
fn closest_beside(path: &Path) -> Option<String> {
    let wanted = path.file_name()?.to_str()?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let in_folder = |folder: &Path| {
        let listed = std::fs::read_dir(if folder.as_os_str().is_empty() { Path::new(".") } else { folder });
        let mut names: Vec<String> = listed
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| (name.ends_with(".yaml") || name.ends_with(".yml")) && name != wanted)
            .collect();
        names.sort();
        let name = super::closest::closest(wanted, names.iter().map(String::as_str))?;
        Some(folder.join(name).display().to_string())
    };
    in_folder(folder).or_else(|| in_folder(&folder.join("scenarios")))
}

/// Reads a file as UTF-8 text, with the problems a user can cause named. Only regular files of a
/// sane size are read: a device such as /dev/zero would never end, a FIFO would block.
fn read_text(path: &Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let cannot_read = |e: std::io::Error| {
        let guess = (e.kind() == std::io::ErrorKind::NotFound).then(|| closest_beside(path)).flatten();
        let hint = guess.map_or(String::new(), |name| format!(" (did you mean {name}?)"));
        ScenarioError::whole_file(path, format!("cannot read: {e}{hint}"))
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named_with_the_closest_yaml_file_beside_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for name in ["seed.yaml", "scaling.yaml", "notes.txt"] {
            std::fs::write(dir.path().join(name), "name: x\n").expect("written");
        }
        let typo = dir.path().join("sead.yaml");
        let message = read_text(&typo).expect_err("missing").to_string();
        let want = format!(
            "{}: cannot read: No such file or directory (os error 2) (did you mean {}?)",
            typo.display(),
            dir.path().join("seed.yaml").display()
        );
        assert_eq!(message, want);
        let far = read_text(&dir.path().join("production.yaml")).expect_err("missing").to_string();
        assert!(far.ends_with("(os error 2)"), "nothing close: no guess: {far}");
        assert_eq!(closest_beside(&dir.path().join("notes.tx")), None, "only YAML files are guessed");
        // From a project's root: the scenarios folder.
        std::fs::create_dir(dir.path().join("root")).expect("created");
        std::fs::create_dir(dir.path().join("root/scenarios")).expect("created");
        std::fs::write(dir.path().join("root/scenarios/seed.yaml"), "name: x\n").expect("written");
        let guess = closest_beside(&dir.path().join("root/sead.yaml"));
        assert_eq!(guess, Some(dir.path().join("root/scenarios/seed.yaml").display().to_string()));
        // A link to nowhere is listed under the very name that cannot be read: not offered.
        std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("gone.yaml")).expect("linked");
        assert_eq!(closest_beside(&dir.path().join("gone.yaml")), None);
    }
}
