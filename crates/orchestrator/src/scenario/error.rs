//! A scenario problem with its place in the file, and serde-saphyr's YAML errors mapped onto it
//! in words for the person editing the file.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

/// A scenario problem with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 0 for a problem of the whole file (missing, empty, given twice): no place in it is named.
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// The offending lines, for display (may be empty).
    pub snippet: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file.display(), self.message)?,
            line => write!(f, "{}:{line}:{}: {}", self.file.display(), self.column, self.message)?,
        }
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    pub(crate) fn at<T>(file: &Path, spanned: &Spanned<T>, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_owned(),
            line: spanned.referenced.line(),
            column: spanned.referenced.column(),
            message: message.into(),
            snippet: String::new(),
        }
    }

    pub(crate) fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        ScenarioError { file: file.to_owned(), line: 0, column: 0, message: message.into(), snippet: String::new() }
    }

    /// serde-saphyr's error at its place, its message only, with the offending lines shown.
    pub(crate) fn from_yaml(path: &Path, e: &serde_saphyr::Error) -> Self {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let rendered = for_users(&e.to_string());
        let mut lines = rendered.lines();
        let first = lines.next().unwrap_or("invalid YAML");
        // serde-saphyr says "error: line L column C: message"; keep the message only.
        let message = first.split_once(&format!("column {column}: ")).map_or(first, |(_, m)| m).trim_start_matches("error: ").to_string();
        let snippet = lines.collect::<Vec<_>>().join("\n").replace("<input>", &path.display().to_string());
        ScenarioError { file: path.to_owned(), line, column, message, snippet }
    }
}

/// serde-saphyr's advice to programmers, reworded for the person editing the file.
fn for_users(message: &str) -> String {
    message.replace(", set DuplicateKeyPolicy in Options if acceptable", "").replace(
        "multiple YAML documents detected; use from_str_multiple or from_str_multiple_with_options",
        "a second YAML document starts here: one scenario per file",
    )
}
