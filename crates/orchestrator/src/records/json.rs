//! The JSON files of a run directory (plan.json, environment.json, summary.json): read whole, and
//! written atomically (temporary file, fsync, rename) so a reader never sees half a file.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{io_err, RecordsError};

pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, RecordsError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    serde_json::from_str(&text).map_err(|e| RecordsError::Parse { path: path.to_owned(), message: e.to_string() })
}

pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), RecordsError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| RecordsError::Parse { path: path.to_owned(), message: e.to_string() })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes the whole file or nothing: a reader never sees half a report.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordsError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let write = || -> io::Result<()> {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        RecordsError::Io { path: path.to_owned(), source: e }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_leave_no_temporary_behind() {
        let scratch = tempfile::Builder::new().prefix("records-atomic-").tempdir().unwrap();
        let dir = scratch.path();
        let path = dir.join("x.json");
        write_json_atomic(&path, &vec![1, 2, 3]).unwrap();
        assert_eq!(read_json::<Vec<i32>>(&path).unwrap(), vec![1, 2, 3]);
        let names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
