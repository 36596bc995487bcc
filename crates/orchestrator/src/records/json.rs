//! The JSON files of a run directory (plan.json, environment.json, summary.json): read whole and
//! checked, and written atomically (temporary file, fsync, rename) so a reader never sees half a
//! file.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::RecordsError;
use super::file::{read_text, MAX_JSON_BYTES};
use crate::environment::Environment;
use crate::plan::shard::{PlanFile, ShardBlock};
use crate::plan::Plan;

/// A JSON file of a run directory, checked once parsed by whoever reads it, for what its types
/// cannot say (a shard 7 of 2, a count of 4 294 967 295 shards): a run directory can come from
/// someone else.
pub trait CheckedJson: DeserializeOwned {
    /// The first value the file cannot hold, naming its field; None when there is none.
    fn problem(&self) -> Option<String> {
        None
    }
}

impl CheckedJson for Plan {}

impl CheckedJson for PlanFile {
    fn problem(&self) -> Option<String> {
        self.shard.as_ref().and_then(ShardBlock::problem)
    }
}

impl CheckedJson for Environment {
    fn problem(&self) -> Option<String> {
        self.shard_problem().or_else(|| super::check::environment_problem(self, ""))
    }
}

/// Reads, parses and checks a JSON file of a run directory (only a regular file, of at most
/// [`MAX_JSON_BYTES`]: records::file).
pub fn read_json<T: CheckedJson>(path: &Path) -> Result<T, RecordsError> {
    let text = read_text(path, MAX_JSON_BYTES)?;
    let parse_error = |message: String| RecordsError::Parse { path: path.to_owned(), message };
    let value: T = serde_json::from_str(&text).map_err(|e| parse_error(e.to_string()))?;
    match value.problem() {
        Some(problem) => Err(parse_error(problem)),
        None => Ok(value),
    }
}

pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), RecordsError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| RecordsError::Parse { path: path.to_owned(), message: e.to_string() })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes the whole file or nothing: a reader never sees half a report. And never through a link:
/// the bytes go to a new file beside `path` (created only where no file or link of its name is,
/// `O_EXCL`) and are renamed over `path`, which replaces whatever entry held the name — a symbolic
/// link someone left in a run directory they sent is replaced, its target untouched.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordsError> {
    let (mut file, temp) = new_file_beside(path, &TEMPORARIES).map_err(|e| RecordsError::Io { path: path.to_owned(), source: e })?;
    let mut write = || -> io::Result<()> {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        RecordsError::Io { path: path.to_owned(), source: e }
    })
}

/// Temporary names this process has tried.
static TEMPORARIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A file of a name of its own in `path`'s directory (`.name.tmp-PID-K`, K from `names`), made by
/// this call: a name someone else holds, a link included, is passed over for the next.
fn new_file_beside(path: &Path, names: &std::sync::atomic::AtomicU64) -> io::Result<(File, std::path::PathBuf)> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut last_error = None;
    for _ in 0..64 {
        let k = names.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = path.with_file_name(format!(".{file_name}.tmp-{}-{k}", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl CheckedJson for Vec<i32> {}

    /// A merged run of `shard_count` shards whose one machine ran `shard`, its environment `kept`,
    /// on an environment of 2 CPUs.
    fn merged_run(shard: crate::plan::shard::ShardRef, shard_count: u32, kept: Option<Environment>) -> Environment {
        use crate::environment::{MachineRun, Merged};
        Environment {
            logical_cpus: 2,
            merged: Some(Merged {
                fingerprint: "f".repeat(64),
                shard_count,
                machines: vec![MachineRun { shard, source: "s".into(), points: Vec::new(), environment: kept }],
                missing: Vec::new(),
                machines_alike: true,
            }),
            ..Environment::default()
        }
    }

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

    /// A shard numbered out of range, in a shard's plan.json or in any environment.json (its own
    /// shard, a merged run's shards and the environments kept for them), is refused by whoever
    /// reads the file, naming it and the field.
    #[test]
    fn shards_out_of_range_are_refused_by_every_reader_naming_the_field() {
        use crate::plan::shard::ShardRef;
        let scratch = tempfile::Builder::new().prefix("records-shards-").tempdir().unwrap();
        let plan_json = scratch.path().join("plan.json");
        let block = ShardBlock { index: 1, count: u32::MAX, fingerprint: "f".repeat(64), points: Vec::new(), partition: Vec::new() };
        write_json_atomic(&plan_json, &PlanFile { plan: Plan { scenarios: Vec::new() }, shard: Some(block) }).unwrap();
        let error = read_json::<PlanFile>(&plan_json).unwrap_err().to_string();
        assert_eq!(error, format!("{}: shard.count is 4294967295: the shard count must be 1 to 10000", plan_json.display()));
        // The report reads the plan alone, not the shard block.
        assert!(read_json::<Plan>(&plan_json).is_ok());

        let environment_json = scratch.path().join("environment.json");
        let shard = |index, count| ShardRef { index, count };
        let two_cpus = || Environment { logical_cpus: 2, ..Environment::default() };
        let with_shard = |own: ShardRef| Environment { shard: Some(own), ..two_cpus() };
        let merged = |machine: ShardRef, kept: Option<Environment>| merged_run(machine, 2, kept);
        for (environment, want) in [
            (with_shard(shard(7, 2)), "shard.index is 7: there is no shard 7 of 2"),
            (merged(shard(3, 2), None), "merged.machines[0].shard.index is 3: there is no shard 3 of 2"),
            (merged(shard(1, 2), Some(with_shard(shard(1, 0)))), "merged.machines[0].environment.shard.count is 0"),
        ] {
            write_json_atomic(&environment_json, &environment).unwrap();
            let error = read_json::<Environment>(&environment_json).unwrap_err().to_string();
            assert!(error.starts_with(&format!("{}: {want}", environment_json.display())), "{error}");
        }
        write_json_atomic(&environment_json, &merged(shard(2, 2), Some(with_shard(shard(2, 2))))).unwrap();
        assert!(read_json::<Environment>(&environment_json).is_ok());
    }

    fn scenario_with_load(load: f64) -> crate::environment::ScenarioConditions {
        crate::environment::ScenarioConditions {
            scenario: "seed".into(),
            started_utc: "2026-12-06T00:00:00Z".into(),
            load_average_start: Some([load, 0.0, 0.0]),
            ended_utc: None,
            load_average_end: None,
        }
    }

    fn sampler_cost_with(default_seconds: f64, median_ratio: f64) -> crate::environment::probes::SamplerCost {
        use crate::environment::probes::sampler_cost::SamplerPair;
        let pair = SamplerPair { default_seconds, sparse_seconds: 0.05, default_sampler_cpu_seconds: 1e-3 };
        crate::environment::probes::SamplerCost {
            command: vec![],
            threads: 2,
            default_interval_ms: 1.0,
            sparse_interval_ms: 100.0,
            pairs: vec![pair; 7],
            median_ratio,
        }
    }

    fn ceiling_with_best(best: f64) -> crate::environment::probes::ComputeCeiling {
        use crate::environment::probes::{Isa, Spread};
        let spread = |best: f64| Spread { best, median: 1e9, worst: 1e9 };
        crate::environment::probes::ComputeCeiling {
            instruction_set: Isa::Portable,
            flops_per_point: 6.0,
            threads: 2,
            samples: 7,
            single_thread_flops_per_second: spread(best),
            all_threads_flops_per_second: spread(2e9),
            cores: Some(2),
        }
    }

    /// A point probed once, whose check of the CPUs read `compute`.
    fn point_probe_with(compute: crate::environment::probes::ComputeCeiling) -> crate::environment::PointLimitProbe {
        let bandwidth = crate::environment::probes::bandwidth::tests::one_mib_probe(Some(compute));
        crate::environment::PointLimitProbe::first("s", 0, bandwidth, "2026-12-07T06:00:00Z".into())
    }

    #[test]
    fn figures_no_machine_gives_are_refused_naming_the_field() {
        use crate::plan::shard::ShardRef;
        let scratch = tempfile::Builder::new().prefix("records-environment-").tempdir().unwrap();
        let environment_json = scratch.path().join("environment.json");
        let good = Environment { logical_cpus: 2, spawn_floor_seconds: Some(7e-4), other_cpu_share: Some(0.0), ..Environment::default() };
        let in_merged = |inner: Environment| merged_run(ShardRef { index: 1, count: 1 }, 1, Some(inner));
        for (environment, want) in [
            (Environment { logical_cpus: usize::MAX, ..good.clone() }, "logical_cpus = 18446744073709551615: must be between 1 and 65536"),
            (Environment { logical_cpus: 0, ..good.clone() }, "logical_cpus = 0: must be between 1 and 65536"),
            (Environment { spawn_floor_seconds: Some(-3e-3), ..good.clone() }, "spawn_floor_seconds = -0.003: must be a finite number > 0"),
            (
                Environment { bandwidth_single_thread_bytes_per_second: Some(0.0), ..good.clone() },
                "bandwidth_single_thread_bytes_per_second = 0",
            ),
            (Environment { load_average_end: Some([0.5, -1.0, 0.5]), ..good.clone() }, "load_average = -1: must be a finite number ≥ 0"),
            (Environment { other_cpu_share: Some(1.5), ..good.clone() }, "other_cpu_share = 1.5: must be between 0 and 1"),
            (
                in_merged(Environment { sampler_cpu_seconds: -1.0, ..good.clone() }),
                "merged.machines[0].environment.sampler_cpu_seconds = -1",
            ),
            // The figures inside the probes, and the load averages of each scenario.
            (Environment { probe_seconds: Some(-100.0), ..good.clone() }, "probe_seconds = -100: must be a number of seconds ≥ 0"),
            (
                Environment { sampler_cpu_seconds: 1e12, ..good.clone() },
                "sampler_cpu_seconds = 1000000000000: must be a number of seconds ≥ 0",
            ),
            (Environment { load_average_start: [1e300, 0.0, 0.0], ..good.clone() }, "load_average = 1e300: must be at most 4194304"),
            (Environment { scenarios: vec![scenario_with_load(-7.0)], ..good.clone() }, "load_average = -7: must be a finite number ≥ 0"),
            (
                Environment { compute_ceiling: Some(ceiling_with_best(-1.0)), ..good.clone() },
                "compute_ceiling.single_thread_flops_per_second = -1: must be a finite number > 0",
            ),
            (
                Environment {
                    compute_ceiling: Some(crate::environment::probes::ComputeCeiling { cores: Some(0), ..ceiling_with_best(1e9) }),
                    ..good.clone()
                },
                "compute_ceiling.cores = 0: must be a finite number > 0",
            ),
            (
                Environment { point_bandwidth: vec![point_probe_with(ceiling_with_best(0.0))], ..good.clone() },
                "point_bandwidth.compute.single_thread_flops_per_second = 0: must be a finite number > 0",
            ),
            (
                Environment { sampler_cost: Some(sampler_cost_with(-0.05, -1.0)), ..good.clone() },
                "sampler_cost.pairs.seconds = -0.05: must be a number of seconds > 0",
            ),
        ] {
            write_json_atomic(&environment_json, &environment).unwrap();
            let error = read_json::<Environment>(&environment_json).unwrap_err().to_string();
            assert!(error.starts_with(&format!("{}: {want}", environment_json.display())), "{error}");
        }
        write_json_atomic(&environment_json, &in_merged(good.clone())).unwrap();
        assert!(read_json::<Environment>(&environment_json).is_ok());
    }

    #[test]
    fn a_link_where_a_file_is_written_is_replaced_and_its_target_left_alone() {
        let scratch = tempfile::Builder::new().prefix("records-link-").tempdir().unwrap();
        let (dir, outside) = (scratch.path().join("run"), scratch.path().join("precious.txt"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(&outside, "precious").unwrap();
        let path = dir.join("report.md");
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        write_atomic(&path, b"the report").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the report");

        // Links at the first temporary names too: each is passed over, none written through.
        let names = std::sync::atomic::AtomicU64::new(0);
        for k in 0..3 {
            std::os::unix::fs::symlink(&outside, dir.join(format!(".summary.csv.tmp-{}-{k}", std::process::id()))).unwrap();
        }
        let (file, temp) = new_file_beside(&dir.join("summary.csv"), &names).unwrap();
        drop(file);
        assert_eq!(temp.file_name().unwrap().to_string_lossy(), format!(".summary.csv.tmp-{}-3", std::process::id()));
        assert!(std::fs::symlink_metadata(&temp).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    }
}
