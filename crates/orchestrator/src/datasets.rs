//! Preparing the data files every implementation reads: generated, inline and CSV datasets are
//! all written once as .npy into the cache (results/.cache), keyed by what defines them, before
//! any timed run; a user's .npy is checked and used where it is. The orchestrator drops the data
//! from its own memory right after writing (or checking) it.

use std::path::{Path, PathBuf};

use linreg::Dataset;

use crate::rng::SplitMix64;

/// Parameters of a generated dataset: y = slope·x + intercept + noise·N(0, 1), x uniform in
/// [x_min, x_max], deterministic in seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub n: u64,
    pub slope: f64,
    pub intercept: f64,
    pub noise: f64,
    pub seed: u64,
    pub x_min: f64,
    pub x_max: f64,
}

pub const DEFAULT_X_MIN: f64 = 0.0;
pub const DEFAULT_X_MAX: f64 = 10.0;

impl Generated {
    /// A file name that changes whenever the data would (the v1 marks the generator's algorithm).
    pub fn cache_name(&self) -> String {
        format!(
            "gen-v1-n{}-slope{}-intercept{}-noise{}-seed{}-x{}_{}.npy",
            self.n, self.slope, self.intercept, self.noise, self.seed, self.x_min, self.x_max
        )
    }

    pub fn describe(&self) -> String {
        format!(
            "generated: n={} y = {}·x + {} + {}·N(0,1), x uniform in [{}, {}], seed {}",
            self.n, self.slope, self.intercept, self.noise, self.x_min, self.x_max, self.seed
        )
    }

    /// The points, from the crate's own SplitMix64 and Box–Muller (see `rng`), so the data never
    /// changes with a dependency's version.
    pub fn generate(&self) -> Dataset {
        let mut rng = SplitMix64::new(self.seed);
        let n = self.n as usize;
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        let span = self.x_max - self.x_min;
        for _ in 0..n {
            let xi = self.x_min + span * rng.unit();
            x.push(xi);
            y.push(self.slope * xi + self.intercept + self.noise * rng.normal());
        }
        Dataset { x, y }
    }
}

/// FNV-1a over the values' bits: a stable content key for inline and CSV data.
fn content_key(x: &[f64], y: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in x.iter().chain(y) {
        for byte in v.to_bits().to_le_bytes() {
            h ^= byte as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h ^ (x.len() as u64)
}

/// A prepared data file and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub path: PathBuf,
    pub n: u64,
    pub description: String,
}

/// Writes `data` to `cache_dir/name` unless it is already there; atomic (temporary + rename),
/// so two runs preparing the same file never see half of it.
fn store(cache_dir: &Path, name: &str, data: impl FnOnce() -> Dataset) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let path = cache_dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(cache_dir).with_context(|| format!("cannot create the dataset cache {}", cache_dir.display()))?;
    let temp = cache_dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let dataset = data();
    let written = dataset.write_npy(&temp).map_err(anyhow::Error::from);
    drop(dataset);
    // A full disk must not leave half a file behind.
    let moved = written.and_then(|()| std::fs::rename(&temp, &path).with_context(|| format!("cannot move {} into place", temp.display())));
    if moved.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    moved.map(|()| path)
}

pub fn prepare_generated(cache_dir: &Path, spec: &Generated) -> anyhow::Result<Prepared> {
    let path = store(cache_dir, &spec.cache_name(), || spec.generate())?;
    Ok(Prepared { path, n: spec.n, description: spec.describe() })
}

pub fn prepare_inline(cache_dir: &Path, x: &[f64], y: &[f64]) -> anyhow::Result<Prepared> {
    let data = Dataset::new(x.to_vec(), y.to_vec()).map_err(anyhow::Error::msg)?;
    let name = format!("inline-v1-{:016x}.npy", content_key(x, y));
    let path = store(cache_dir, &name, || data)?;
    Ok(Prepared { path, n: x.len() as u64, description: format!("inline: {} points written in the scenario", x.len()) })
}

/// Reads and checks the user's CSV now (a bad cell fails before any run) and converts it.
pub fn prepare_csv(cache_dir: &Path, csv_path: &Path, x_column: &str, y_column: &str) -> anyhow::Result<Prepared> {
    let data = Dataset::read_csv_columns(csv_path, x_column, y_column)?;
    let n = data.len() as u64;
    let name = format!("csv-v1-{:016x}.npy", content_key(&data.x, &data.y));
    let path = store(cache_dir, &name, || data)?;
    Ok(Prepared { path, n, description: format!("csv: {} (columns {x_column}, {y_column}), {n} points", csv_path.display()) })
}

/// Reads and checks the user's .npy now (a wrong dtype, shape or byte order, or a truncated file,
/// fails before any run); implementations then read the file itself, by its absolute path.
pub fn prepare_npy(npy_path: &Path) -> anyhow::Result<Prepared> {
    use anyhow::Context;
    let n = Dataset::read_npy(npy_path)?.len() as u64;
    let path = std::path::absolute(npy_path).with_context(|| format!("the absolute path of {}", npy_path.display()))?;
    Ok(Prepared { description: format!("npy: {}, {n} points", path.display()), path, n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(n: u64, seed: u64) -> Generated {
        Generated { n, slope: 2.0, intercept: 0.5, noise: 0.1, seed, x_min: 0.0, x_max: 10.0 }
    }

    #[test]
    fn generation_is_deterministic_and_follows_the_line() {
        let a = spec(10_000, 7).generate();
        assert_eq!(a, spec(10_000, 7).generate());
        assert_ne!(a, spec(10_000, 8).generate());
        assert!(a.x.iter().all(|&x| (0.0..10.0).contains(&x)));
        let fit = linreg::ols(&a.x, &a.y).unwrap();
        assert!((fit.w - 2.0).abs() < 0.01 && (fit.b - 0.5).abs() < 0.02, "{fit:?}");
        let residual_sd = fit.mse.sqrt();
        assert!((residual_sd - 0.1).abs() < 0.005, "noise sd {residual_sd}");
    }

    #[test]
    fn prepared_files_are_cached_and_read_back() {
        let dir = std::env::temp_dir().join(format!("datasets-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = prepare_generated(&dir, &spec(100, 1)).unwrap();
        let modified = p.path.metadata().unwrap().modified().unwrap();
        let again = prepare_generated(&dir, &spec(100, 1)).unwrap();
        assert_eq!(again.path, p.path);
        assert_eq!(again.path.metadata().unwrap().modified().unwrap(), modified, "not rewritten");
        assert_eq!(Dataset::read(&p.path).unwrap(), spec(100, 1).generate());
        let inline = prepare_inline(&dir, &[1.0, 2.0], &[2.0, 4.0]).unwrap();
        assert_eq!(Dataset::read(&inline.path).unwrap().y, vec![2.0, 4.0]);
        let csv = dir.join("d.csv");
        std::fs::write(&csv, "a,b\n1,3\n2,5\n").unwrap();
        let c = prepare_csv(&dir, &csv, "a", "b").unwrap();
        assert_eq!(Dataset::read(&c.path).unwrap().y, vec![3.0, 5.0]);
        assert!(prepare_csv(&dir, &csv, "x", "y").unwrap_err().to_string().contains("no column named 'x'"));
    }
}
