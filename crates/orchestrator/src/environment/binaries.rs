//! How each measured program is linked, read from its ELF header: statically, or dynamically
//! through an interpreter (the dynamic loader, whose work is part of every start-up it does).
//! Recorded in environment.json and shown in the report, since it is part of what is measured.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binary {
    pub path: PathBuf,
    /// "static", "dynamic (INTERPRETER)", "script (#!LINE)" or "unknown (why)".
    pub linking: String,
    pub size_bytes: u64,
}

/// The linking of `path` (a file; for a name without a slash, the caller resolves PATH).
pub(crate) fn inspect(path: &Path) -> Binary {
    let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let linking = match linking(path) {
        Ok(kind) => kind,
        Err(why) => format!("unknown ({why})"),
    };
    Binary { path: path.to_path_buf(), linking, size_bytes }
}

const PT_INTERP: u32 = 3;

/// Why a file's linking is unknown: the words in "unknown (…)".
#[derive(Debug, Error)]
enum LinkingError {
    #[error("{0}")]
    Read(#[from] std::io::Error),
    #[error("not an ELF file")]
    NotElf,
    #[error("not a 64-bit little-endian ELF file")]
    NotElf64LittleEndian,
    #[error("short header")]
    ShortHeader,
    #[error("program headers beyond the first 64 KiB")]
    ProgramHeadersBeyondRead,
    #[error("interpreter path beyond the first 64 KiB")]
    InterpreterBeyondRead,
}

fn linking(path: &Path) -> Result<String, LinkingError> {
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    // Program headers sit near the start of any ELF file; 64 KiB covers them.
    file.by_ref().take(64 << 10).read_to_end(&mut bytes)?;
    if let Some(line) = bytes.strip_prefix(b"#!") {
        let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
        return Ok(format!("script (#!{})", String::from_utf8_lossy(line).trim()));
    }
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
        return Err(LinkingError::NotElf);
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err(LinkingError::NotElf64LittleEndian);
    }
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let u64_at = |at: usize| bytes.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as usize);
    let (phoff, phentsize, phnum) = (
        u64_at(32).ok_or(LinkingError::ShortHeader)?,
        u16_at(54).ok_or(LinkingError::ShortHeader)?,
        u16_at(56).ok_or(LinkingError::ShortHeader)?,
    );
    for index in 0..phnum {
        let header = phoff + index * phentsize;
        if u32_at(header).ok_or(LinkingError::ProgramHeadersBeyondRead)? == PT_INTERP {
            let (offset, size) =
                (u64_at(header + 8).ok_or(LinkingError::ShortHeader)?, u64_at(header + 32).ok_or(LinkingError::ShortHeader)?);
            let interpreter = bytes.get(offset..offset + size).ok_or(LinkingError::InterpreterBeyondRead)?;
            let interpreter = String::from_utf8_lossy(interpreter).trim_end_matches('\0').to_string();
            return Ok(format!("dynamic ({interpreter})"));
        }
    }
    Ok("static".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_and_a_script_are_told_apart() {
        // Test binaries are linked like the workspace's ordinary build: dynamically on glibc.
        let me = inspect(&std::env::current_exe().unwrap());
        assert!(me.linking.starts_with("dynamic (") || me.linking == "static", "{me:?}");
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        std::fs::write(&script, "#!/bin/sh -e\necho\n").unwrap();
        assert_eq!(inspect(&script).linking, "script (#!/bin/sh -e)");
        std::fs::write(&script, "not elf").unwrap();
        assert!(inspect(&script).linking.starts_with("unknown (not an ELF"));
    }
}
