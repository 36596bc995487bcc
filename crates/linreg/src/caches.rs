//! The CPU's caches as Linux describes them in sysfs: read by the orchestrator to name the machine
//! and by [`crate::placement`] to decide where a dataset's buffer lies.

use std::path::Path;
use std::sync::OnceLock;

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
    let mut caches: Vec<Cache> =
        entries.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("index")).filter_map(|e| cache_in(&e.path())).collect();
    caches.sort_by(|a, b| (a.level, &a.kind).cmp(&(b.level, &b.kind)));
    caches
}

/// The size of the L2 in `dir`: from `index2`, where Linux lists it on x86 (L1d, L1i, L2, L3 in
/// that order), when its `level` file says 2; else found among all of them. Three small files in
/// the usual case, not the dozen a scan reads: `linreg` asks this while loading a dataset.
pub fn l2_bytes(dir: &Path) -> Option<u64> {
    cache_bytes(dir, "index2", 2)
}

/// [`l2_bytes`] of [`CPU0_CACHES`], read once a process.
pub fn cpu0_l2_bytes() -> Option<u64> {
    static L2: OnceLock<Option<u64>> = OnceLock::new();
    read_once(&L2, l2_bytes)
}

/// What `read` finds in [`CPU0_CACHES`], kept in `cell` after the first time.
fn read_once(cell: &OnceLock<Option<u64>>, read: fn(&Path) -> Option<u64>) -> Option<u64> {
    *cell.get_or_init(|| read(Path::new(CPU0_CACHES)))
}

/// The size of the L1 data cache in `dir`: from `index0`, where Linux lists it on x86, when it
/// says level 1 and not instructions; else found among all of them.
pub fn l1d_bytes(dir: &Path) -> Option<u64> {
    cache_bytes(dir, "index0", 1)
}

/// The data (or unified) cache of `level` in `dir`: from the folder `index` where Linux usually
/// lists it, when that one is it; else found among all of them.
fn cache_bytes(dir: &Path, index: &str, level: u8) -> Option<u64> {
    match cache_in(&dir.join(index)) {
        Some(cache) if cache.level == level && cache.kind != "Instruction" => Some(cache.size_bytes),
        _ => data_cache_bytes(&sysfs_caches(dir), level),
    }
}

/// [`l1d_bytes`] of [`CPU0_CACHES`], read once a process.
pub fn cpu0_l1d_bytes() -> Option<u64> {
    static L1D: OnceLock<Option<u64>> = OnceLock::new();
    read_once(&L1D, l1d_bytes)
}

/// The L2's set span: its sets × its line, the bytes after which its set index comes round again
/// (128 KiB for 2 MiB in 16 ways of 64-byte lines), from `index2`, where [`l2_bytes`] looks first.
pub fn l2_set_span_bytes(dir: &Path) -> Option<u64> {
    let index2 = dir.join("index2");
    let number = |file: &str| small_file(&index2.join(file))?.parse::<u64>().ok().filter(|&v| v > 0);
    if number("level")? != 2 {
        return None;
    }
    number("number_of_sets")?.checked_mul(number("coherency_line_size")?)
}

/// One `index*` folder's cache.
fn cache_in(path: &Path) -> Option<Cache> {
    Some(Cache {
        level: small_file(&path.join("level"))?.parse().ok()?,
        kind: small_file(&path.join("type"))?,
        size_bytes: size_in_bytes(&small_file(&path.join("size"))?)?,
    })
}

/// A sysfs file of a few bytes, trimmed: open, one read, close (reading it as a String would ask
/// its size first, one more system call a file).
pub fn small_file(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut buffer = [0u8; 64];
    let length = std::fs::File::open(path).ok()?.read(&mut buffer).ok()?;
    std::str::from_utf8(&buffer[..length]).ok().map(|text| text.trim().to_string())
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
        assert_eq!(l2_bytes(dir.path()), Some(2 << 20));
        assert_eq!(l1d_bytes(dir.path()), Some(48 << 10));
        std::fs::rename(dir.path().join("index2"), dir.path().join("index7")).unwrap();
        assert_eq!(l2_bytes(dir.path()), Some(2 << 20), "found by a scan where index2 is not the L2");
        std::fs::rename(dir.path().join("index0"), dir.path().join("index9")).unwrap();
        assert_eq!(l1d_bytes(dir.path()), Some(48 << 10), "found by a scan where index0 is not the L1d");
        assert_eq!(data_cache_bytes(&caches, 4), None);
        assert!(sysfs_caches(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn the_l2_set_span_is_its_sets_times_its_line_when_index2_is_the_l2() {
        let dir = tempfile::tempdir().unwrap();
        let index2 = dir.path().join("index2");
        std::fs::create_dir(&index2).unwrap();
        let write = |name: &str, text: &str| std::fs::write(index2.join(name), format!("{text}\n")).unwrap();
        for (name, text) in [("level", "2"), ("number_of_sets", "2048"), ("coherency_line_size", "64")] {
            write(name, text);
        }
        assert_eq!(l2_set_span_bytes(dir.path()), Some(128 << 10), "2 MiB, 16 ways");
        write("number_of_sets", "1024");
        assert_eq!(l2_set_span_bytes(dir.path()), Some(64 << 10), "512 KiB, 8 ways (Zen 1-3)");
        write("number_of_sets", "0");
        assert_eq!(l2_set_span_bytes(dir.path()), None, "no sets: unknown");
        write("number_of_sets", "1024");
        write("level", "3");
        assert_eq!(l2_set_span_bytes(dir.path()), None, "index2 is not the L2");
        assert_eq!(l2_set_span_bytes(&dir.path().join("missing")), None);
    }
}
