//! The error of reading or writing a run directory's records: which file, and what went wrong.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// Not read at all: not a regular file, or larger than any run writes (records::file).
    #[error("{} {message}", path.display())]
    Refused { path: PathBuf, message: String },
    /// Changed from outside the orchestrator while it was writing it.
    #[error("{}: {message}", path.display())]
    Altered { path: PathBuf, message: String },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RecordsError + '_ {
    move |source| RecordsError::Io { path: path.to_owned(), source }
}
