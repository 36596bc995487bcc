//! The CPU's caches as Linux describes them in sysfs: read by the orchestrator to name the machine
//! and by [`crate::placement`] to decide where a dataset's buffer lies.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where Linux lists cpu0's caches, one `index*` folder a cache.
pub const CPU0_CACHES: &str = "/sys/devices/system/cpu/cpu0/cache";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    pub level: u8,
    /// "Data", "Instruction" or "Unified".
    pub kind: String,
    /// One instance's size (what one CPU sees), bytes.
    pub size_bytes: u64,
}

/// The caches in `dir` (index*/level, type, size), by level then kind; empty where sysfs is not.
pub fn sysfs_caches(dir: &Path) -> Vec<Cache> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let read = |path: &Path, name: &str| std::fs::read_to_string(path.join(name)).ok().map(|t| t.trim().to_string());
    let mut caches: Vec<Cache> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
        .filter_map(|e| {
            let path = e.path();
            Some(Cache {
                level: read(&path, "level")?.parse().ok()?,
                kind: read(&path, "type")?,
                size_bytes: size_in_bytes(&read(&path, "size")?)?,
            })
        })
        .collect();
    caches.sort_by(|a, b| (a.level, &a.kind).cmp(&(b.level, &b.kind)));
    caches
}

/// The size of the data (or unified) cache of `level` among `caches`, if listed.
pub fn data_cache_bytes(caches: &[Cache], level: u8) -> Option<u64> {
    caches.iter().filter(|c| c.level == level && c.kind != "Instruction").map(|c| c.size_bytes).max()
}

/// "32K", "32768K", "1 MiB", "1.5 MiB", "64 KiB" → bytes.
pub fn size_in_bytes(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" | "KB" => 1 << 10,
        "M" | "MiB" | "MB" => 1 << 20,
        "G" | "GiB" | "GB" => 1 << 30,
        _ => return None,
    };
    let bytes = number * multiplier as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_every_spelling() {
        assert_eq!(size_in_bytes("32768K"), Some(32 << 20));
        assert_eq!(size_in_bytes("2048K"), Some(2 << 20));
        assert_eq!(size_in_bytes("1.5 MiB"), Some(3 << 19));
        assert_eq!(size_in_bytes("64 KiB"), Some(64 << 10));
        assert_eq!(size_in_bytes("lots"), None);
        assert_eq!(size_in_bytes("-1K"), None);
    }

    #[test]
    fn a_sysfs_folder_is_read_by_level_and_kind_and_the_l2_found() {
        let dir = tempfile::tempdir().unwrap();
        for (index, level, kind, size) in [
            ("index0", "1", "Data", "48K"),
            ("index1", "1", "Instruction", "32K"),
            ("index2", "2", "Unified", "2048K"),
            ("index3", "3", "Unified", "307200K"),
        ] {
            let path = dir.path().join(index);
            std::fs::create_dir(&path).unwrap();
            for (name, text) in [("level", level), ("type", kind), ("size", size)] {
                std::fs::write(path.join(name), format!("{text}\n")).unwrap();
            }
        }
        std::fs::create_dir(dir.path().join("power")).unwrap();
        let caches = sysfs_caches(dir.path());
        let found: Vec<(u8, &str, u64)> = caches.iter().map(|c| (c.level, c.kind.as_str(), c.size_bytes)).collect();
        assert_eq!(found, vec![(1, "Data", 48 << 10), (1, "Instruction", 32 << 10), (2, "Unified", 2 << 20), (3, "Unified", 300 << 20)]);
        assert_eq!(data_cache_bytes(&caches, 2), Some(2 << 20));
        assert_eq!(data_cache_bytes(&caches, 4), None);
        assert!(sysfs_caches(&dir.path().join("missing")).is_empty());
    }
}
