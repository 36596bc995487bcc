//! Preparing the data files every implementation reads: generated, inline and CSV datasets are
//! all written once as .npy into the cache (results/.cache), keyed by what defines them, before
//! any timed run; a user's .npy is checked and used where it is. The orchestrator drops the data
//! from its own memory right after writing (or checking) it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use linreg::Dataset;

use crate::format;
use crate::measure::CancelToken;
use crate::rng::SplitMix64;

/// Parameters of a generated dataset: y = slope·x + intercept + noise·N(0, 1), x uniform in
/// [x_min, x_max] (defaults: the scenario schema's), deterministic in seed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Generated {
    pub(crate) n: u64,
    pub(crate) slope: f64,
    pub(crate) intercept: f64,
    pub(crate) noise: f64,
    pub(crate) seed: u64,
    pub(crate) x_min: f64,
    pub(crate) x_max: f64,
}

impl Generated {
    /// A file name that changes whenever the data would (the v1 marks the generator's algorithm).
    /// The values as [`format::number`] writes them: as they always were ("slope2", so the files
    /// cached before stay found), and 1e-300 with its exponent, so that the name, even with the
    /// temporary's mark, stays within the 255 bytes a file name may take on Linux.
    pub(crate) fn cache_name(&self) -> String {
        let [slope, intercept, noise, x_min, x_max] = [self.slope, self.intercept, self.noise, self.x_min, self.x_max].map(format::number);
        format!("gen-v1-n{}-slope{slope}-intercept{intercept}-noise{noise}-seed{}-x{x_min}_{x_max}.npy", self.n, self.seed)
    }

    /// The parameters back from a cache file name (the inverse of `cache_name`), so that a run
    /// made before plans kept their references can still be judged where the file is gone.
    pub(crate) fn from_cache_name(name: &str) -> Option<Generated> {
        let rest = name.strip_prefix("gen-v1-n")?.strip_suffix(".npy")?;
        let (n, rest) = rest.split_once("-slope")?;
        let (slope, rest) = rest.split_once("-intercept")?;
        let (intercept, rest) = rest.split_once("-noise")?;
        let (noise, rest) = rest.split_once("-seed")?;
        let (seed, rest) = rest.split_once("-x")?;
        let (x_min, x_max) = rest.split_once('_')?;
        let spec = Generated {
            n: n.parse().ok()?,
            slope: slope.parse().ok()?,
            intercept: intercept.parse().ok()?,
            noise: noise.parse().ok()?,
            seed: seed.parse().ok()?,
            x_min: x_min.parse().ok()?,
            x_max: x_max.parse().ok()?,
        };
        // Only a name this version writes, exactly: anything else is not a generated dataset.
        (spec.cache_name() == name).then_some(spec)
    }

    pub(crate) fn describe(&self) -> String {
        let [slope, intercept, noise, x_min, x_max] = [self.slope, self.intercept, self.noise, self.x_min, self.x_max].map(format::number);
        format!("generated: n={} y = {slope}·x + {intercept} + {noise}·N(0,1), x uniform in [{x_min}, {x_max}], seed {}", self.n, self.seed)
    }

    /// The points, from the crate's own SplitMix64 and Box–Muller (see `rng`), so the data never
    /// changes with a dependency's version. Gives up (None) as soon as `stop` says so, asked every
    /// 64 Ki points: generating 10^8 points takes seconds, and a Ctrl-C must not wait for them.
    pub(crate) fn generate_until(&self, stop: &dyn Fn() -> bool) -> Option<Dataset> {
        let mut rng = SplitMix64::new(self.seed);
        let n = self.n as usize;
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        let span = self.x_max - self.x_min;
        for i in 0..n {
            if i % (1 << 16) == 0 && stop() {
                return None;
            }
            let xi = self.x_min + span * rng.unit();
            x.push(xi);
            y.push(self.slope * xi + self.intercept + self.noise * rng.normal());
        }
        Some(Dataset { x, y })
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
pub(crate) struct Prepared {
    pub(crate) path: PathBuf,
    pub(crate) n: u64,
    pub(crate) description: String,
}

/// Writes `data` to `cache_dir/name` unless it is already there; atomic (temporary + rename),
/// so two runs preparing the same file never see half of it. Interruptible: once `cancel` is set
/// the generation or the write stops and the temporary is removed.
fn store(
    cache_dir: &Path,
    name: &str,
    what: &str,
    cancel: &CancelToken,
    data: impl FnOnce(&dyn Fn() -> bool) -> Option<Dataset>,
) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let path = cache_dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(cache_dir).with_context(|| format!("cannot create the dataset cache {}", cache_dir.display()))?;
    remove_stale_temporaries(cache_dir);
    let temp = cache_dir.join(temporary_name(name, this_host(), std::process::id()));
    let stop = || cancel.is_cancelled();
    let interrupted = || anyhow::anyhow!("interrupted while preparing {what}");
    errln!("preparing {what} (once, into {})…", cache_dir.display());
    let prepared = (|| {
        // Created first, so that the temporary names the work in progress from its start.
        std::fs::File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
        let dataset = data(&stop).ok_or_else(interrupted)?;
        let finished = dataset.write_npy_until(&temp, &stop)?;
        drop(dataset);
        if !finished {
            return Err(interrupted());
        }
        std::fs::rename(&temp, &path).with_context(|| format!("cannot move {} into place", temp.display()))
    })();
    // An interruption or a full disk must not leave part of a file behind.
    if prepared.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    prepared.map(|()| path)
}

/// What marks a temporary in the cache: `.NAME.tmp-HOST-PID`. HOST is this machine's name, so
/// that on a cache several machines share (the shards of a Slurm array run from one checkout on a
/// shared filesystem, docs/scale.md) a process tells its own machine's temporaries, whose PIDs it
/// can check, from another's, which it leaves alone, and two machines' equal PIDs never make the
/// same name.
const TEMPORARY_MARK: &str = ".tmp-";

/// The most characters of the host's name a temporary's name holds (with the longest cache name
/// and PID, 255 bytes at most: Linux's limit for a file name).
const HOST_IN_NAME: usize = 32;

fn temporary_name(name: &str, host: &str, pid: u32) -> String {
    format!(".{name}{TEMPORARY_MARK}{host}-{pid}")
}

/// This machine's host name as a temporary's name holds it (see [`host_in_name`]); `unknown` if it
/// cannot be read.
fn this_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| host_in_name(&std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default()))
}

/// `host` as a file name may hold it: letters, digits, `.`, `_` and `-` kept, anything else `_`;
/// a name longer than [`HOST_IN_NAME`] cut and ended with a hash of the whole, so that two long
/// names with one beginning (`cluster-node-17`, `cluster-node-18` behind a long common prefix)
/// stay apart.
fn host_in_name(host: &str) -> String {
    let safe: String =
        host.trim().chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    if safe.is_empty() {
        return "unknown".into();
    }
    if safe.len() <= HOST_IN_NAME {
        return safe;
    }
    // FNV-1a, 32 bits: a name, not a secret.
    let hash = safe.bytes().fold(0x811c_9dc5_u32, |h, byte| (h ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    format!("{}{hash:08x}", &safe[..HOST_IN_NAME - 8])
}

/// The host (None for a name written before temporaries named theirs: `.NAME.tmp-PID`) and the
/// PID of a temporary's file name; None for any other file.
fn temporary_owner(file_name: &str) -> Option<(Option<&str>, i32)> {
    let (_, owner) = file_name.strip_prefix('.')?.rsplit_once(TEMPORARY_MARK)?;
    match owner.rsplit_once('-') {
        Some((host, pid)) => Some((Some(host), pid.parse().ok()?)),
        None => Some((None, owner.parse().ok()?)),
    }
}

/// Removes the temporaries that processes no longer alive left in the cache (a run killed by
/// SIGKILL, a machine that lost power): each can be gigabytes, and no one else would remove it.
/// A temporary of a live process (another run preparing the same file) is left alone, and so is
/// one of another machine, whose process this one cannot see.
fn remove_stale_temporaries(cache_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(cache_dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some((host, pid)) = file_name.to_str().and_then(temporary_owner) else { continue };
        if host.is_none_or(|host| host == this_host()) && pid > 0 && !process_exists(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn process_exists(pid: i32) -> bool {
    // SAFETY: signal 0 only checks whether the process exists; EPERM means it does (another user's).
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}

pub(crate) fn prepare_generated(cache_dir: &Path, spec: &Generated, cancel: &CancelToken) -> anyhow::Result<Prepared> {
    let path = store(cache_dir, &spec.cache_name(), &format!("the dataset n={}", spec.n), cancel, |stop| spec.generate_until(stop))?;
    Ok(Prepared { path, n: spec.n, description: spec.describe() })
}

pub(crate) fn prepare_inline(cache_dir: &Path, x: &[f64], y: &[f64], cancel: &CancelToken) -> anyhow::Result<Prepared> {
    let data = Dataset::new(x.to_vec(), y.to_vec()).map_err(anyhow::Error::msg)?;
    let name = format!("inline-v1-{:016x}.npy", content_key(x, y));
    let path = store(cache_dir, &name, "the inline dataset", cancel, |_| Some(data))?;
    Ok(Prepared { path, n: x.len() as u64, description: format!("inline: {} points written in the scenario", x.len()) })
}

/// Reads and checks the user's CSV now (a bad cell fails before any run) and converts it.
pub(crate) fn prepare_csv(
    cache_dir: &Path,
    csv_path: &Path,
    x_column: &str,
    y_column: &str,
    cancel: &CancelToken,
) -> anyhow::Result<Prepared> {
    let data = Dataset::read_csv_columns(csv_path, x_column, y_column)?;
    let n = data.len() as u64;
    let name = format!("csv-v1-{:016x}.npy", content_key(&data.x, &data.y));
    let path = store(cache_dir, &name, &format!("{} as .npy", csv_path.display()), cancel, |_| Some(data))?;
    Ok(Prepared { path, n, description: format!("csv: {} (columns {x_column}, {y_column}), {n} points", csv_path.display()) })
}

/// Reads and checks the user's .npy now (a wrong dtype, shape or byte order, or a truncated file,
/// fails before any run); implementations then read the file itself, by its absolute path.
pub(crate) fn prepare_npy(npy_path: &Path) -> anyhow::Result<Prepared> {
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

    impl Generated {
        fn generate(&self) -> Dataset {
            self.generate_until(&|| false).expect("never asked to stop")
        }
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
    fn a_cache_name_gives_back_its_parameters() {
        let spec = Generated { n: 1000, slope: 2.0, intercept: -0.5, noise: 0.1, seed: 42, x_min: -1.5, x_max: 10.0 };
        assert_eq!(spec.cache_name(), "gen-v1-n1000-slope2-intercept-0.5-noise0.1-seed42-x-1.5_10.npy", "ordinary values as always");
        assert_eq!(Generated::from_cache_name(&spec.cache_name()), Some(spec));
        // Extreme values: a short name that still gives them back exactly, with room for the
        // temporary's mark (".NAME.tmp-HOST-PID") within Linux's 255 bytes.
        let tiny = Generated {
            n: u64::MAX,
            slope: -f64::MAX,
            intercept: -1.2345678901234568e-300,
            noise: 1e-300,
            seed: u64::MAX,
            x_min: -f64::MIN_POSITIVE,
            x_max: 5e-324,
        };
        let name = tiny.cache_name();
        assert_eq!(name, "gen-v1-n18446744073709551615-slope-1.7976931348623157e308-intercept-1.2345678901234568e-300-noise1e-300-seed18446744073709551615-x-2.2250738585072014e-308_5e-324.npy");
        assert!(temporary_name(&name, &host_in_name(&"h".repeat(300)), u32::MAX).len() <= 255, "{name}");
        assert_eq!(Generated::from_cache_name(&name), Some(tiny.clone()));
        assert!(
            tiny.describe().contains("y = -1.7976931348623157e308·x + -1.2345678901234568e-300 + 1e-300·N(0,1)"),
            "{}",
            tiny.describe()
        );
        assert_ne!(
            Generated { noise: 1e-300 * (1.0 + f64::EPSILON), ..tiny.clone() }.cache_name(),
            name,
            "distinct values, distinct names"
        );
        for name in ["inline-v1-f1c6358e3fe69c7d.npy", "gen-v2-n10-slope2-intercept0.5-noise0.1-seed42-x0_10.npy", "gen-v1-n10.npy"] {
            assert_eq!(Generated::from_cache_name(name), None, "{name}");
        }
    }

    #[test]
    fn a_host_name_becomes_a_short_safe_part_of_a_file_name() {
        assert_eq!(host_in_name("node-7.cluster\n"), "node-7.cluster");
        assert_eq!(host_in_name("a/b c"), "a_b_c");
        assert_eq!(host_in_name(""), "unknown");
        let prefix = "benchmark-cluster-rack-04-chassis-";
        let (a, b) = (host_in_name(&format!("{prefix}17")), host_in_name(&format!("{prefix}18")));
        assert_eq!((a.len(), b.len()), (HOST_IN_NAME, HOST_IN_NAME));
        assert_ne!(a, b, "long names with one beginning stay apart");
        assert_eq!(temporary_owner(&temporary_name("x.npy", &a, 42)), Some((Some(a.as_str()), 42)));
    }

    #[test]
    fn prepared_files_are_cached_and_read_back() {
        // A cache directory not there yet, inside a scratch directory removed on drop.
        let scratch = tempfile::Builder::new().prefix("datasets-test-").tempdir().unwrap();
        let dir = scratch.path().join("cache");
        let go = CancelToken::new();
        let p = prepare_generated(&dir, &spec(100, 1), &go).unwrap();
        let modified = p.path.metadata().unwrap().modified().unwrap();
        let again = prepare_generated(&dir, &spec(100, 1), &go).unwrap();
        assert_eq!(again.path, p.path);
        assert_eq!(again.path.metadata().unwrap().modified().unwrap(), modified, "not rewritten");
        assert_eq!(Dataset::read(&p.path).unwrap(), spec(100, 1).generate());
        let inline = prepare_inline(&dir, &[1.0, 2.0], &[2.0, 4.0], &go).unwrap();
        assert_eq!(Dataset::read(&inline.path).unwrap().y, vec![2.0, 4.0]);
        let csv = dir.join("d.csv");
        std::fs::write(&csv, "a,b\n1,3\n2,5\n").unwrap();
        let c = prepare_csv(&dir, &csv, "a", "b", &go).unwrap();
        assert_eq!(Dataset::read(&c.path).unwrap().y, vec![3.0, 5.0]);
        assert!(prepare_csv(&dir, &csv, "x", "y", &go).unwrap_err().to_string().contains("no column named 'x'"));
    }

    #[test]
    fn an_interrupted_preparation_leaves_nothing_and_stale_temporaries_go() {
        let scratch = tempfile::Builder::new().prefix("datasets-cancel-").tempdir().unwrap();
        let dir = scratch.path();
        // i32::MAX is above any pid_max: no process has it. Gone: a dead process's, of this host
        // or written before hosts were named. Kept: a live one's, and another machine's, whose
        // process this one cannot see.
        let dead = i32::MAX as u32;
        std::fs::write(dir.join(temporary_name("old.npy", this_host(), dead)), "").unwrap();
        std::fs::write(dir.join(format!(".older.npy{TEMPORARY_MARK}{dead}")), "").unwrap();
        let mine = temporary_name("mine.npy", this_host(), std::process::id());
        let elsewhere = temporary_name("theirs.npy", "another-node.cluster", dead);
        for kept in [&mine, &elsewhere] {
            std::fs::write(dir.join(kept), "").unwrap();
        }
        let stopped = CancelToken::new();
        stopped.cancel();
        let err = prepare_generated(dir, &spec(1000, 1), &stopped).unwrap_err().to_string();
        assert!(err.contains("interrupted while preparing the dataset n=1000"), "{err}");
        let mut left: Vec<String> =
            std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        let mut kept = vec![mine, elsewhere];
        kept.sort();
        assert_eq!(left, kept);
        assert_eq!(spec(10, 3).generate_until(&|| true), None);
    }
}
