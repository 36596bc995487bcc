//! Uniting the run directories of `run --shard K/N` (one per machine) into one run: plan.json
//! with every point, raw.csv and samples.csv of every shard, and environment.json keeping each
//! shard's machine and the points it ran. Rendering its report is the merge command's part.
//!
//! The shards must come from one plan (the same fingerprint and shard count), each at most once,
//! and together cover the plan; `--allow-partial` renders what exists and names what is missing.
//! Nothing is re-measured, and every ratio inside a point is still taken between runs of one
//! machine: a point is never split between shards.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::file::MAX_RAW_CSV_BYTES;
use super::{each_sample, read_json, read_raw_rows, write_json_atomic, CsvAppender, RawRecord, SampleRecord, Why};
use crate::environment::{self, Environment, MachineRun, Merged};
use crate::plan::shard::{self, AssignedPoint, PlanFile, PointKey, ShardBlock, ShardRef};
use crate::plan::{Plan, ScenarioPlan};
use crate::run_dir::{ENVIRONMENT_JSON, PLAN_JSON, RAW_CSV, SAMPLES_CSV};

/// A shard that was not given, and the points it holds.
#[derive(Debug, Clone)]
pub(crate) struct MissingShard {
    pub(crate) shard: ShardRef,
    pub(crate) points: Vec<AssignedPoint>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum MergeError {
    #[error("{}: not a shard: its plan.json has no shard block (it was not run with --shard K/N)", dir.display())]
    NotAShard { dir: PathBuf },
    #[error("the shards come from different plans: {} has fingerprint {} but {} has {} (other scenario files, catalogue, git commit or options; run every shard from one checkout with the same arguments)", first.display(), shard::short(first_fingerprint), other.display(), shard::short(other_fingerprint))]
    DifferentPlans { first: PathBuf, first_fingerprint: String, other: PathBuf, other_fingerprint: String },
    #[error("the shards split the plan differently: {} is shard {first_shard} but {} is shard {other_shard}", first.display(), other.display())]
    DifferentCounts { first: PathBuf, first_shard: ShardRef, other: PathBuf, other_shard: ShardRef },
    #[error("shard {shard} is given twice: {} and {}", first.display(), other.display())]
    Duplicate { shard: ShardRef, first: PathBuf, other: PathBuf },
    #[error("the shards disagree about which points each holds: {} and {} (same fingerprint, another orchestrator version?)", first.display(), other.display())]
    PartitionDisagrees { first: PathBuf, other: PathBuf },
    #[error("shard {}: raw.csv holds a run twice: {row} (a raw.csv copied into itself, or shards put together by hand?): correct that shard's raw.csv", dir.display())]
    DuplicatedRun { dir: PathBuf, row: String },
    #[error("{}: raw.csv has rows of {key}, which is not one of this shard's points", dir.display())]
    ForeignRows { dir: PathBuf, key: PointKey },
    #[error("{}: its plan.json claims point {key}, {whose}: a point is merged from the one shard that ran it, never from two (was plan.json edited by hand?)", dir.display())]
    PointClaimed { dir: PathBuf, key: PointKey, whose: String },
    #[error("{}", missing_text(missing))]
    Missing { missing: Vec<MissingShard> },
}

pub(crate) fn missing_text(missing: &[MissingShard]) -> String {
    let lines: Vec<String> = missing
        .iter()
        .map(|MissingShard { shard, points }| {
            let names: Vec<String> = points.iter().map(|p| format!("{} ({})", p.key, p.label)).collect();
            let held = if names.is_empty() { "no points".to_string() } else { names.join(", ") };
            format!("  shard {shard}: {held}")
        })
        .collect();
    format!(
        "{} shard(s) missing:\n{}\n(give every shard's run directory, or pass --allow-partial to render what exists)",
        missing.len(),
        lines.join("\n")
    )
}

/// One shard's run directory, read.
pub(crate) struct Shard {
    pub dir: PathBuf,
    pub plan: Plan,
    pub block: ShardBlock,
    pub environment: Option<Environment>,
    pub raw: Vec<RawRecord>,
}

/// Reads every shard's run directory ([`load_shard`]). Shards whose raw.csv files together exceed
/// what one run's is read back at (records::file) are refused before they are all held in memory:
/// the merged raw.csv holds them all, and its report could not read it. (Samples are not held:
/// [`write`] copies them from each shard's samples.csv.)
pub(crate) fn load_shards(dirs: &[PathBuf], mut warn: impl FnMut(String)) -> anyhow::Result<Vec<Shard>> {
    let mut raw_bytes = 0u64;
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        raw_bytes = raw_bytes.saturating_add(std::fs::metadata(dir.join(RAW_CSV)).map_or(0, |m| m.len()));
        if raw_bytes > MAX_RAW_CSV_BYTES {
            anyhow::bail!(
                "shard {}: the shards' raw.csv files come to more than {} together up to this one, more than one run's raw.csv is read back at: the merged run could not be reported",
                dir.display(),
                crate::format::bytes_compact(MAX_RAW_CSV_BYTES as f64)
            );
        }
        shards.push(load_shard(dir, &mut warn).with_context(|| format!("shard {}", dir.display()))?);
    }
    Ok(shards)
}

/// Reads one shard's run directory; `warn` is told what is missing but not fatal (its machine, a
/// last line cut short).
fn load_shard(dir: &Path, mut warn: impl FnMut(String)) -> anyhow::Result<Shard> {
    crate::run_dir::check_readable(dir)?;
    let file: PlanFile = read_json(&dir.join(PLAN_JSON)).context("the shard's plan (plan.json)")?;
    file.plan.check_names().map_err(|problem| anyhow::anyhow!("{}: {problem}", dir.join(PLAN_JSON).display()))?;
    let block = file.shard.ok_or_else(|| MergeError::NotAShard { dir: dir.to_path_buf() })?;
    let environment = match read_json::<Environment>(&dir.join(ENVIRONMENT_JSON)) {
        Ok(env) => Some(env),
        Err(e) => {
            warn(format!("warning: {e}: the machine of shard {} is unknown", block.shard()));
            None
        }
    };
    let raw = read_raw_rows(dir).context("the shard's raw records")?;
    if let Some(second) = raw.set_aside.iter().find(|s| matches!(s.why, Why::Duplicate { .. })) {
        return Err(MergeError::DuplicatedRun { dir: dir.to_path_buf(), row: second.described() }.into());
    }
    // Every sample is checked here, and copied from the file when the merged run is written.
    let samples_cut_short = each_sample(dir, |_| Ok(())).context("the shard's samples")?;
    // Rows with implausible times are kept whole in the merged raw.csv (nothing measured is
    // dropped), and its report sets them aside again, as this one would.
    raw.warnings().chain(samples_cut_short.iter().map(|cut| format!("warning: {cut}"))).for_each(&mut warn);
    let raw = raw.all;
    for row in &raw {
        let key = PointKey { scenario: row.scenario.clone(), point: row.point };
        if !block.points.contains(&key) {
            return Err(MergeError::ForeignRows { dir: dir.to_path_buf(), key }.into());
        }
    }
    Ok(Shard { dir: dir.to_path_buf(), plan: file.plan, block, environment, raw })
}

/// Checks that the shards belong together; returns the points of the missing shards (an error
/// unless `allow_partial`). The shards come back sorted by shard number.
pub(crate) fn check(shards: &mut [Shard], allow_partial: bool) -> Result<Vec<MissingShard>, MergeError> {
    shards.sort_by_key(|s| s.block.index);
    let Some(first) = shards.first() else { return Ok(Vec::new()) };
    for other in shards.iter() {
        if other.block.fingerprint != first.block.fingerprint {
            return Err(MergeError::DifferentPlans {
                first: first.dir.clone(),
                first_fingerprint: first.block.fingerprint.clone(),
                other: other.dir.clone(),
                other_fingerprint: other.block.fingerprint.clone(),
            });
        }
        if other.block.count != first.block.count {
            return Err(MergeError::DifferentCounts {
                first: first.dir.clone(),
                first_shard: first.block.shard(),
                other: other.dir.clone(),
                other_shard: other.block.shard(),
            });
        }
        if other.block.partition != first.block.partition {
            return Err(MergeError::PartitionDisagrees { first: first.dir.clone(), other: other.dir.clone() });
        }
    }
    for pair in shards.windows(2) {
        if pair[0].block.index == pair[1].block.index {
            return Err(MergeError::Duplicate { shard: pair[0].block.shard(), first: pair[0].dir.clone(), other: pair[1].dir.clone() });
        }
    }
    check_points(shards)?;
    let present: BTreeSet<u32> = shards.iter().map(|s| s.block.index).collect();
    let count = first.block.count;
    let missing: Vec<MissingShard> = (1..=count)
        .filter(|index| !present.contains(index))
        .map(|index| MissingShard {
            shard: ShardRef { index, count },
            points: first.block.partition.iter().filter(|a| a.shard == index).cloned().collect(),
        })
        .collect();
    if !missing.is_empty() && !allow_partial {
        return Err(MergeError::Missing { missing });
    }
    Ok(missing)
}

/// Every point a shard claims (in its shard block or its plan) is one the partition gives it, and
/// no two shards claim one point: a plan.json edited by hand would otherwise merge a point's rows
/// twice, or put the point twice in the merged plan.
fn check_points(shards: &[Shard]) -> Result<(), MergeError> {
    let mut claimed_by: BTreeMap<PointKey, &Path> = BTreeMap::new();
    for shard in shards {
        let in_plan =
            shard.plan.scenarios.iter().flat_map(|s| s.points.iter().map(|p| PointKey { scenario: s.name.clone(), point: p.index }));
        let claims: BTreeSet<PointKey> = shard.block.points.iter().cloned().chain(in_plan).collect();
        for key in claims {
            let owner = shard.block.partition.iter().find(|a| a.key == key).map(|a| a.shard);
            let whose = match (claimed_by.get(&key), owner) {
                (Some(other), _) => format!("which {} claims too", other.display()),
                (None, None) => "which is not in the plan".to_string(),
                (None, Some(index)) if index != shard.block.index => {
                    let runner =
                        shards.iter().find(|s| s.block.index == index).map_or(String::new(), |s| format!(" ({})", s.dir.display()));
                    format!("which the plan gives to shard {}{runner}", ShardRef { index, count: shard.block.count })
                }
                (None, Some(_)) => {
                    claimed_by.insert(key, &shard.dir);
                    continue;
                }
            };
            return Err(MergeError::PointClaimed { dir: shard.dir.clone(), key, whose });
        }
    }
    Ok(())
}

/// The plan of the merged run: every scenario with the points the shards ran, in the whole
/// plan's order. An implementation counts as available when it was available on any machine
/// (its rows say where it was not).
pub(crate) fn merged_plan(shards: &[Shard]) -> Plan {
    let Some(first) = shards.first() else { return Plan { scenarios: Vec::new() } };
    let mut names: Vec<&str> = Vec::new();
    for assigned in &first.block.partition {
        if !names.contains(&assigned.key.scenario.as_str()) {
            names.push(&assigned.key.scenario);
        }
    }
    // Scenarios without any point (every point `quick: false` in a --quick run) are in every shard.
    for scenario in shards.iter().flat_map(|s| &s.plan.scenarios) {
        if !names.contains(&scenario.name.as_str()) {
            names.push(&scenario.name);
        }
    }
    let scenarios = names
        .iter()
        .filter_map(|name| {
            let parts: Vec<&ScenarioPlan> = shards.iter().filter_map(|s| s.plan.scenarios.iter().find(|p| p.name == *name)).collect();
            let mut scenario = (*parts.first()?).clone();
            scenario.points = parts.iter().flat_map(|p| p.points.iter().cloned()).collect();
            scenario.points.sort_by_key(|p| p.index);
            for implementation in &mut scenario.implementations {
                let available_somewhere =
                    parts.iter().any(|p| p.implementations.iter().any(|i| i.name == implementation.name && i.unavailable.is_none()));
                if available_somewhere {
                    implementation.unavailable = None;
                }
            }
            Some(scenario)
        })
        .collect();
    Plan { scenarios }
}

/// The merged run's environment: the first shard's, with every machine kept under `merged`.
/// Where the machines differ, the machine-wide figures at the top are left out (unknown) rather
/// than one machine's shown beside another's points.
pub(crate) fn merged_environment(shards: &[Shard], missing: &[MissingShard], command_line: Vec<String>) -> Environment {
    let environments: Vec<&Environment> = shards.iter().filter_map(|s| s.environment.as_ref()).collect();
    let mut env = environments.first().map(|e| (*e).clone()).unwrap_or_default();
    let unique = |values: Vec<String>| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for v in values {
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        seen
    };
    // Alike: the same CPU model, count, memory and identity (two "AMD EPYC" VMs can be a Zen 1
    // and a Zen 5), whatever each identity was read from.
    let identity = |e: &Environment| e.machine.clone().map(|m| environment::machine::MachineIdentity { source: String::new(), ..m });
    let machines_alike = environments.windows(2).all(|w| {
        w[0].cpu_model == w[1].cpu_model
            && w[0].logical_cpus == w[1].logical_cpus
            && w[0].memory_total_bytes == w[1].memory_total_bytes
            && identity(w[0]) == identity(w[1])
            && w[0].label() == w[1].label()
    });
    let hostnames = unique(environments.iter().map(|e| e.hostname.clone()).collect());
    env.hostname = hostnames.join(", ");
    if !machines_alike {
        let labels = unique(environments.iter().map(|e| e.label()).collect()).join("+");
        env.machine_label = Some(if environment::machine::check_label(&labels).is_ok() { labels } else { "several-machines".into() });
        env.machine = None;
        env.cpu_model = format!("several: {}", unique(environments.iter().map(|e| e.cpu_model.clone()).collect()).join("; "));
        env.bandwidth_single_thread_bytes_per_second = None;
        env.bandwidth_all_threads_bytes_per_second = None;
        env.bandwidth_curve = None;
        env.compute_ceiling = None;
        env.sampler_cost = None;
        env.spawn_floor_seconds = None;
        env.spawn_floor = None;
        env.numpy_import_profile = None;
    }
    // Each point's own limit was measured by the shard that ran it, on its machine: all are kept.
    env.point_bandwidth = environments.iter().flat_map(|e| e.point_bandwidth.iter().cloned()).collect();
    env.prepared = environments.iter().flat_map(|e| e.prepared.iter().cloned()).collect();
    // The busiest shard's share of other work: what the merged figures went through at worst.
    env.other_cpu_share = environments.iter().filter_map(|e| e.other_cpu_share).reduce(f64::max);
    env.command_line = command_line;
    env.started_utc = environments.iter().map(|e| e.started_utc.clone()).min().unwrap_or_else(environment::utc_now);
    env.ended_utc = environments.iter().filter_map(|e| e.ended_utc.clone()).max();
    env.interrupted = environments.iter().any(|e| e.interrupted);
    env.git_dirty = environments.iter().filter_map(|e| e.git_dirty).reduce(|a, b| a || b);
    env.sampler_cpu_seconds = environments.iter().map(|e| e.sampler_cpu_seconds).sum();
    env.sampled_wall_seconds = environments.iter().map(|e| e.sampled_wall_seconds).sum();
    env.shard = None;
    // Each shard's scenarios ran on its own machine at its own time: they stay with its
    // environment under `merged`, not beside another machine's points.
    env.scenarios = Vec::new();
    let first_block = shards.first().map(|s| &s.block);
    env.plan_fingerprint = first_block.map(|b| b.fingerprint.clone());
    env.merged = first_block.map(|block| Merged {
        fingerprint: block.fingerprint.clone(),
        shard_count: block.count,
        machines: shards
            .iter()
            .map(|s| MachineRun {
                shard: s.block.shard(),
                source: s.dir.clone(),
                points: s.block.partition.iter().filter(|a| a.shard == s.block.index).cloned().collect(),
                environment: s.environment.clone(),
            })
            .collect(),
        missing: missing.iter().flat_map(|m| m.points.iter().cloned()).collect(),
        machines_alike,
    });
    env
}

/// Samples copied from a shard's samples.csv to the merged one at a time.
const SAMPLES_A_BATCH: usize = 8192;

/// Writes the merged run directory (plan.json, environment.json, raw.csv, samples.csv) into `out`,
/// moving each shard's rows into raw.csv (the shards keep none, so the report that follows, which
/// reads them back, does not hold them twice) and copying its samples a batch at a time: a
/// merge never holds them all.
pub(crate) fn write(out: &Path, shards: &mut [Shard], plan: &Plan, env: &Environment) -> anyhow::Result<()> {
    write_json_atomic(&out.join(PLAN_JSON), &PlanFile { plan: plan.clone(), shard: None })?;
    write_json_atomic(&out.join(ENVIRONMENT_JSON), env)?;
    let mut raw = CsvAppender::<RawRecord>::open(&out.join(RAW_CSV))?;
    let mut samples = CsvAppender::<SampleRecord>::open(&out.join(SAMPLES_CSV))?;
    let mut batch = Vec::with_capacity(SAMPLES_A_BATCH);
    for shard in shards {
        raw.append(&std::mem::take(&mut shard.raw))?;
        each_sample(&shard.dir, |row| {
            batch.push(row);
            if batch.len() == SAMPLES_A_BATCH {
                samples.append(&batch)?;
                batch.clear();
            }
            Ok(())
        })
        .with_context(|| format!("copying the samples of shard {}", shard.dir.display()))?;
        samples.append(&batch)?;
        batch.clear();
    }
    raw.sync()?;
    samples.sync()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shard of a plan with one scenario "s" of `points` points, of which it holds `held`;
    /// `numba_available` says whether its machine could run the optional implementation.
    fn shard(index: u32, held: &[usize], points: usize, numba_available: bool, cpu: &str) -> Shard {
        let point = |i: usize| {
            serde_json::json!({"index": i, "label": format!("n={i}"), "n": 10, "epochs": 1, "learning_rate": 0.01,
                "data_path": "d.npy", "data_description": ""})
        };
        let scenario = serde_json::json!({
            "name": "s", "description": "", "source_file": "s.yaml", "baseline": "rust",
            "implementations": [
                {"name": "rust", "command": ["linreg"]},
                {"name": "numba", "command": ["python"], "optional": true, "unavailable": if numba_available { None } else { Some("no numba") }},
            ],
            "points": held.iter().map(|&i| point(i)).collect::<Vec<_>>(),
            "measure": {"warmup": 0, "repetitions": 1, "sample_interval_ms": 1, "timeout_seconds": 10.0, "order": "interleaved"},
            "accuracy": {"relative_tolerance": 1e-9},
        });
        let plan: Plan = serde_json::from_value(serde_json::json!({"scenarios": [scenario]})).expect("a plan");
        let key = |i: usize| PointKey { scenario: "s".into(), point: i };
        let partition = (0..points)
            .map(|i| AssignedPoint {
                key: key(i),
                label: format!("n={i}"),
                estimated_cost_ns: 1,
                shard: if held.contains(&i) { index } else { 3 - index },
            })
            .collect();
        let block = ShardBlock { index, count: 2, fingerprint: "f".repeat(64), points: held.iter().map(|&i| key(i)).collect(), partition };
        let environment = Environment {
            hostname: format!("node{index}"),
            cpu_model: cpu.into(),
            started_utc: format!("2026-01-0{index}T00:00:00Z"),
            bandwidth_single_thread_bytes_per_second: Some(4e10),
            spawn_floor_seconds: Some(1e-3),
            ..Environment::default()
        };
        Shard { dir: PathBuf::from(format!("shard-{index}")), plan, block, environment: Some(environment), raw: Vec::new() }
    }

    #[test]
    fn the_merged_plan_has_every_point_in_order_and_what_ran_anywhere_counts_as_available() {
        let mut shards = vec![shard(2, &[1, 2], 4, true, "A"), shard(1, &[0, 3], 4, false, "A")];
        assert!(check(&mut shards, false).expect("they fit").is_empty());
        let plan = merged_plan(&shards);
        let indices: Vec<usize> = plan.scenarios[0].points.iter().map(|p| p.index).collect();
        assert_eq!(indices, vec![0, 1, 2, 3]);
        assert_eq!(plan.scenarios[0].implementations[1].unavailable, None, "numba ran on node2");
    }

    #[test]
    fn machines_that_differ_keep_their_limits_to_themselves() {
        let shards = vec![shard(1, &[0], 2, true, "AMD EPYC"), shard(2, &[1], 2, true, "Intel Xeon")];
        let env = merged_environment(&shards, &[], vec!["merge".into()]);
        assert_eq!(env.hostname, "node1, node2");
        assert_eq!(env.machine_label.as_deref(), Some("amd-0c+intel-0c"), "each machine's label, neither alone");
        assert!(env.cpu_model.contains("EPYC") && env.cpu_model.contains("Xeon"), "{}", env.cpu_model);
        assert_eq!((env.bandwidth_single_thread_bytes_per_second, env.spawn_floor_seconds), (None, None));
        assert_eq!(env.started_utc, "2026-01-01T00:00:00Z");
        let merged = env.merged.expect("a merged block");
        assert!(!merged.machines_alike);
        assert_eq!(merged.machines[1].environment.as_ref().and_then(|e| e.bandwidth_single_thread_bytes_per_second), Some(4e10));
        assert_eq!(merged.machines[1].points.iter().map(|p| p.key.point).collect::<Vec<_>>(), vec![1]);

        let alike = merged_environment(&[shard(1, &[0], 2, true, "EPYC"), shard(2, &[1], 2, true, "EPYC")], &[], Vec::new());
        assert_eq!(alike.spawn_floor_seconds, Some(1e-3));
        assert!(alike.merged.is_some_and(|m| m.machines_alike));
    }

    #[test]
    fn each_points_own_limit_and_the_busiest_shards_share_of_other_work_are_kept() {
        use crate::environment::probes::{BandwidthAtSize, PointBandwidth, Spread};
        use crate::environment::PointLimitProbe;
        let mut shards = vec![shard(1, &[0], 2, true, "AMD EPYC"), shard(2, &[1], 2, true, "Intel Xeon")];
        for (index, shard) in shards.iter_mut().enumerate() {
            let env = shard.environment.as_mut().unwrap();
            let rate = Spread { best: 1e10, median: 9e9, worst: 8e9 };
            let single_thread = BandwidthAtSize {
                working_set_bytes: 160,
                passes_per_sample: 1,
                samples: 7,
                bytes_per_second: rate,
                meets_every_pass: false,
                blocks_back_and_forth: false,
            };
            let bandwidth = PointBandwidth { threads: 1, single_thread, all_threads: None, huge_page_share: None, compute: None };
            env.point_bandwidth = vec![PointLimitProbe::first("s", index, bandwidth, String::new())];
            env.other_cpu_share = Some(0.05 * (index + 1) as f64);
        }
        let env = merged_environment(&shards, &[], Vec::new());
        assert!(env.point_bandwidth("s", 0).is_some() && env.point_bandwidth("s", 1).is_some(), "both shards' points");
        assert_eq!(env.other_cpu_share, Some(0.1));
    }

    #[test]
    fn two_vms_with_one_model_name_but_different_cpus_are_not_alike() {
        // Both "AMD EPYC" with 2 CPUs to the guest: a Zen 1 (family 23) and a Zen 3 (family 25).
        let mut shards = vec![shard(1, &[0], 2, true, "AMD EPYC"), shard(2, &[1], 2, true, "AMD EPYC")];
        for (shard, family) in shards.iter_mut().zip([23, 25]) {
            let text = format!("vendor_id: AuthenticAMD\ncpu family: {family}\nmodel: 1\n");
            let env = shard.environment.as_mut().unwrap();
            env.logical_cpus = 2;
            env.machine = Some(environment::machine::parse(&text, "test"));
        }
        let env = merged_environment(&shards, &[], Vec::new());
        assert!(env.merged.as_ref().is_some_and(|m| !m.machines_alike));
        assert_eq!(env.machine_label.as_deref(), Some("zen1-2c+zen3-2c"));
        assert_eq!(env.spawn_floor_seconds, None, "one machine's floor is not the other's");
    }

    #[test]
    fn a_missing_shard_is_named_with_its_points() {
        let mut shards = vec![shard(1, &[0, 2], 3, true, "A")];
        let Err(error) = check(&mut shards, false) else { panic!("a missing shard was accepted") };
        let text = error.to_string();
        assert!(text.contains("shard 2/2: s#1 (n=1)") && text.contains("--allow-partial"), "{text}");
        let missing = check(&mut shards, true).expect("allowed");
        assert_eq!(missing.len(), 1);
    }
}
