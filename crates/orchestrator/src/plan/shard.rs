//! Sharding a plan over machines (`orchestrator run --shard K/N`): which shard this run is, a
//! deterministic partition of the plan's scenario points over N shards balanced by an estimate of
//! each point's cost, and the plan fingerprint that tells shards of one plan from another's.
//!
//! Shards are numbered from 1 (`--shard 1/4` … `--shard 4/4`), as people count machines; the
//! 0-based indices of Slurm arrays and Kubernetes Indexed Jobs are converted by `--shard auto`.
//! Every shard computes the same partition on its own machine from the same inputs, so nothing
//! is handed from one to another: the cost estimate depends only on what the fingerprint covers
//! (never on which implementations happen to be installed on a machine) and is integer arithmetic.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Plan, PointPlan, ScenarioPlan};

/// The most shards a plan is split into.
pub(crate) const MAX_SHARDS: u32 = 10_000;

/// Estimated cost of one run, before any training: starting the program (an interpreter and its
/// imports for Python, tens of milliseconds; ~2 ms for Rust) and reaping it. Nanoseconds.
pub(crate) const STARTUP_NS_PER_RUN: u64 = 50_000_000;
/// Estimated training cost per point per epoch, nanoseconds (idiomatic NumPy takes ~4 ns, the
/// Rust kernels ~0.4 ns: 2 ns is between, and only the ratios between points matter).
pub(crate) const TRAIN_NS_PER_POINT_EPOCH: u64 = 2;
/// Estimated loading cost per data point (a 16-byte row read from the page cache), nanoseconds.
pub(crate) const LOAD_NS_PER_POINT: u64 = 3;

/// One shard of N: `index` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRef {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for ShardRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardRef {
    /// Which rule of `--shard` (1 ≤ index ≤ count ≤ [`MAX_SHARDS`]) this shard breaks: whether it
    /// is the count's (else the index's), and what is wrong; None when it keeps them all.
    fn broken_rule(self) -> Option<(bool, String)> {
        if self.count == 0 || self.count > MAX_SHARDS {
            return Some((true, format!("the shard count must be 1 to {MAX_SHARDS}")));
        }
        if self.index == 0 {
            return Some((false, format!("shards are numbered from 1: the first is 1/{}", self.count)));
        }
        (self.index > self.count).then(|| (false, format!("there is no shard {} of {}", self.index, self.count)))
    }

    /// What is wrong with this shard as a file holds it at `at` (e.g. `shard`, or
    /// `merged.machines[2].shard`), naming the field; None when nothing is. A run directory
    /// someone sent is held to the rules `--shard` is read with: a shard count of 4 294 967 295 in
    /// its plan.json had `merge` list that many missing shards until memory ran out, and "shard
    /// 7/2" was rendered as it stood.
    pub(crate) fn problem_at(self, at: &str) -> Option<String> {
        self.problem_in(&format!("{at}.index"), &format!("{at}.count"))
    }

    /// As [`ShardRef::problem_at`], for a shard whose two numbers a file names otherwise.
    pub(crate) fn problem_in(self, index_field: &str, count_field: &str) -> Option<String> {
        let (of_count, problem) = self.broken_rule()?;
        let (field, value) = if of_count { (count_field, self.count) } else { (index_field, self.index) };
        Some(format!("{field} is {value}: {problem}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShardError {
    #[error("--shard '{text}': {problem} (expected K/N with 1 ≤ K ≤ N ≤ {MAX_SHARDS}, shards numbered from 1, e.g. --shard 2/4; or --shard auto)")]
    Syntax { text: String, problem: String },
    #[error("--shard auto: {0}")]
    Auto(String),
    #[error("--shard-count is only read with --shard auto (with --shard K/N the count is N)")]
    CountWithoutAuto,
}

/// Parses `K/N` strictly: two decimal numbers, nothing else (no sign, space or leading zero).
pub(crate) fn parse_shard(text: &str) -> Result<ShardRef, ShardError> {
    let syntax = |problem: &str| ShardError::Syntax { text: text.to_string(), problem: problem.to_string() };
    let (k, n) = text.split_once('/').ok_or_else(|| syntax("no '/'"))?;
    let number = |part: &str, what: &str| -> Result<u32, ShardError> {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax(&format!("the {what} '{part}' is not a whole number")));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(syntax(&format!("the {what} '{part}' has a leading zero")));
        }
        part.parse::<u32>().map_err(|_| syntax(&format!("the {what} '{part}' is too large")))
    };
    let shard = ShardRef { index: number(k, "shard number")?, count: number(n, "shard count")? };
    match shard.broken_rule() {
        Some((_, problem)) => Err(syntax(&problem)),
        None => Ok(shard),
    }
}

/// What `--shard` and `--shard-count` ask for: None without `--shard`.
///
/// `auto` reads, in this order: a Slurm array (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`,
/// divided by `SLURM_ARRAY_TASK_STEP`, of `SLURM_ARRAY_TASK_COUNT`; so `--array=0-3` and
/// `--array=1-4` both give shards 1/4 … 4/4), then a Kubernetes Indexed Job
/// (`JOB_COMPLETION_INDEX`, 0-based, with the count from `--shard-count`). `env` looks up a
/// variable (the process environment in real use).
pub(crate) fn resolve(
    shard: Option<&str>,
    shard_count: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ShardRef>, ShardError> {
    match shard {
        None if shard_count.is_some() => Err(ShardError::CountWithoutAuto),
        None => Ok(None),
        Some("auto") => auto(shard_count, env).map(Some),
        Some(_) if shard_count.is_some() => Err(ShardError::CountWithoutAuto),
        Some(text) => parse_shard(text).map(Some),
    }
}

fn auto(shard_count: Option<u32>, env: &dyn Fn(&str) -> Option<String>) -> Result<ShardRef, ShardError> {
    let number = |name: &str| -> Result<Option<u64>, ShardError> {
        match env(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<u64>().map(Some).map_err(|e| {
                let problem = if *e.kind() == std::num::IntErrorKind::PosOverflow { "is too large" } else { "is not a whole number" };
                ShardError::Auto(format!("{name}='{v}' {problem}"))
            }),
        }
    };
    let checked = |index0: u64, count: u64, source: &str| -> Result<ShardRef, ShardError> {
        if count == 0 || count > u64::from(MAX_SHARDS) {
            return Err(ShardError::Auto(format!("{source}: a count of {count} shards (1 to {MAX_SHARDS} are possible)")));
        }
        if index0 >= count {
            return Err(ShardError::Auto(format!(
                "{source}: index {index0} is beyond the {count} shards (the array's indices must be one contiguous range)"
            )));
        }
        if let Some(given) = shard_count.filter(|&c| u64::from(c) != count) {
            return Err(ShardError::Auto(format!("{source} says {count} shards but --shard-count says {given}")));
        }
        Ok(ShardRef { index: index0 as u32 + 1, count: count as u32 })
    };
    if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        let count = number("SLURM_ARRAY_TASK_COUNT")?
            .ok_or_else(|| ShardError::Auto("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not".into()))?;
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        // Slurm never sets a step of 0 (`--array=0-3:0` is refused); read as 1 it would hide a
        // broken environment, and every task would claim the first shards.
        let step = match number("SLURM_ARRAY_TASK_STEP")? {
            Some(0) => return Err(ShardError::Auto("SLURM_ARRAY_TASK_STEP=0 is not a step (Slurm's array steps are ≥ 1)".into())),
            step => step.unwrap_or(1),
        };
        let source = format!("Slurm array task {id} (min {min}, step {step}, count {count})");
        if id < min || (id - min) % step != 0 {
            return Err(ShardError::Auto(format!("{source}: the task id is not on the array's range")));
        }
        return checked((id - min) / step, count, &source);
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = shard_count.ok_or_else(|| {
            ShardError::Auto("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the job's completions as --shard-count N".into())
        })?;
        return checked(index, u64::from(count), &format!("Kubernetes completion index {index}"));
    }
    Err(ShardError::Auto(
        "neither SLURM_ARRAY_TASK_ID (a Slurm array job) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; in a CI matrix pass --shard K/N"
            .into(),
    ))
}

// ---------------------------------------------------------------------------------------------
// The partition.

/// A scenario point, by scenario name and the point's index in its sweep.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PointKey {
    pub scenario: String,
    pub point: usize,
}

impl fmt::Display for PointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.scenario, self.point)
    }
}

/// A point of the whole plan with its estimated cost and the shard (from 1) that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedPoint {
    #[serde(flatten)]
    pub key: PointKey,
    pub label: String,
    pub estimated_cost_ns: u64,
    pub shard: u32,
}

impl AssignedPoint {
    /// What is wrong with this point's shard as a file holds it at `at` (e.g.
    /// `shard.partition[3]`) in a plan of `count` shards; None when it is one of them.
    pub(crate) fn problem_at(&self, at: &str, count: u32) -> Option<String> {
        (self.shard == 0 || self.shard > count)
            .then(|| format!("{at}.shard is {}: point {} is given to no shard of the {count} (1 to {count})", self.shard, self.key))
    }
}

/// Estimated wall time of every run of a point, nanoseconds: runs × (start-up + loading +
/// training), with runs = implementations not skipped there × (warm-up + repetitions). Every
/// implementation counts, available on this machine or not, so all machines agree.
pub(crate) fn estimated_cost_ns(scenario: &ScenarioPlan, point: &PointPlan) -> u64 {
    let implementations = scenario.implementations.iter().filter(|i| !point.skip.contains(&i.name)).count() as u64;
    let runs = implementations.saturating_mul(u64::from(scenario.measure.warmup) + u64::from(scenario.measure.repetitions));
    let per_run = STARTUP_NS_PER_RUN
        .saturating_add(point.n.saturating_mul(LOAD_NS_PER_POINT))
        .saturating_add(point.n.saturating_mul(point.epochs).saturating_mul(TRAIN_NS_PER_POINT_EPOCH));
    runs.saturating_mul(per_run)
}

/// Greedy longest-processing-time: the costliest item first, each to the shard with the least
/// estimated work so far (ties: the one holding fewer items, then the lower shard; equal costs:
/// plan order). Returns each item's shard, counted from 0. Deterministic, and every item is in
/// exactly one shard (`shards` = 0 counts as 1).
pub(crate) fn partition(costs: &[u64], shards: usize) -> Vec<usize> {
    let shards = shards.max(1);
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![0u64; shards];
    let mut held = vec![0usize; shards];
    let mut assigned = vec![0usize; costs.len()];
    for item in order {
        let lightest = (0..shards).min_by_key(|&s| (load[s], held[s], s)).unwrap_or(0);
        load[lightest] = load[lightest].saturating_add(costs[item]);
        held[lightest] += 1;
        assigned[item] = lightest;
    }
    assigned
}

/// Every point of the plan, in plan order, with the shard that runs it.
pub(crate) fn assign(plan: &Plan, count: u32) -> Vec<AssignedPoint> {
    let points: Vec<(PointKey, String, u64)> = plan
        .scenarios
        .iter()
        .flat_map(|s| {
            s.points.iter().map(move |p| (PointKey { scenario: s.name.clone(), point: p.index }, p.label.clone(), estimated_cost_ns(s, p)))
        })
        .collect();
    let costs: Vec<u64> = points.iter().map(|(_, _, cost)| *cost).collect();
    let shards = partition(&costs, count as usize);
    points
        .into_iter()
        .zip(shards)
        .map(|((key, label, estimated_cost_ns), shard)| AssignedPoint { key, label, estimated_cost_ns, shard: shard as u32 + 1 })
        .collect()
}

/// The plan restricted to the points in `keep`; scenarios left without a point are dropped (one
/// that had none to begin with is kept, so one shard of one is exactly the plan).
pub(crate) fn restrict(plan: &Plan, keep: &dyn Fn(&PointKey) -> bool) -> Plan {
    let scenarios = plan
        .scenarios
        .iter()
        .filter_map(|s| {
            let points: Vec<PointPlan> =
                s.points.iter().filter(|p| keep(&PointKey { scenario: s.name.clone(), point: p.index })).cloned().collect();
            (!points.is_empty() || s.points.is_empty()).then(|| ScenarioPlan { points, ..s.clone() })
        })
        .collect();
    Plan { scenarios }
}

/// The `shard` block of a shard's plan.json: which shard, of which plan, the points it holds and
/// the whole partition (so each shard says what the others hold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardBlock {
    pub index: u32,
    pub count: u32,
    pub fingerprint: String,
    /// The points this shard runs, in plan order.
    pub points: Vec<PointKey>,
    /// Every point of the whole plan, in plan order, with the shard that runs it.
    pub partition: Vec<AssignedPoint>,
}

impl ShardBlock {
    pub(crate) fn shard(&self) -> ShardRef {
        ShardRef { index: self.index, count: self.count }
    }

    /// What is wrong with the block's shard numbers (its own, and each point's of the partition),
    /// naming the field of plan.json; None when nothing is.
    pub(crate) fn problem(&self) -> Option<String> {
        self.shard().problem_at("shard").or_else(|| {
            self.partition.iter().enumerate().find_map(|(k, point)| point.problem_at(&format!("shard.partition[{k}]"), self.count))
        })
    }
}

/// This shard's part of the plan and its `shard` block.
pub(crate) fn select(plan: &Plan, shard: ShardRef, fingerprint: &str) -> (Plan, ShardBlock) {
    let partition = assign(plan, shard.count);
    let mine: Vec<PointKey> = partition.iter().filter(|a| a.shard == shard.index).map(|a| a.key.clone()).collect();
    let restricted = restrict(plan, &|key| mine.contains(key));
    let block = ShardBlock { index: shard.index, count: shard.count, fingerprint: fingerprint.to_string(), points: mine, partition };
    (restricted, block)
}

/// plan.json as written by a sharded run: the plan (its scenarios, restricted to the shard's
/// points, so the report reads it as any plan) and the `shard` block beside them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    #[serde(flatten)]
    pub plan: Plan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardBlock>,
}

// ---------------------------------------------------------------------------------------------
// The plan fingerprint.

/// What decides a plan, besides the files: the command line's overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlanOptions {
    pub(crate) quick: bool,
    pub(crate) repetitions: Option<u32>,
    pub(crate) warmup: Option<u32>,
}

/// SHA-256 (hex) over the catalogue's and the scenario files' names and contents, in the order
/// given, the git commit of the project root (or "no git") and the options that change the plan.
/// Paths are left out (each machine has its checkout elsewhere); file names are kept.
pub(crate) fn fingerprint(root: &Path, catalogue: &Path, scenarios: &[PathBuf], options: PlanOptions) -> anyhow::Result<String> {
    use anyhow::Context;
    let mut hasher = Sha256::new();
    hasher.update(b"linreg-bench plan fingerprint v1\n");
    for path in std::iter::once(catalogue).chain(scenarios.iter().map(PathBuf::as_path)) {
        let bytes = std::fs::read(path).with_context(|| format!("{}: reading it for the plan fingerprint", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        hasher.update(format!("file {name} {}\n", bytes.len()).as_bytes());
        hasher.update(&bytes);
    }
    hasher.update(format!("\ngit {}\n", git_commit(root).unwrap_or_else(|| "no git".into())).as_bytes());
    hasher.update(format!("quick {} repetitions {:?} warmup {:?}\n", options.quick, options.repetitions, options.warmup).as_bytes());
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn git_commit(root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The first 12 hex digits, for messages.
pub(crate) fn short(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn shard_text_is_parsed_strictly() {
        assert_eq!(parse_shard("1/1"), Ok(ShardRef { index: 1, count: 1 }));
        assert_eq!(parse_shard("3/4"), Ok(ShardRef { index: 3, count: 4 }));
        for bad in [
            "",
            "1",
            "/",
            "1/",
            "/2",
            "0/2",
            "3/2",
            "1/0",
            "-1/2",
            "+1/2",
            " 1/2",
            "1/2 ",
            "01/2",
            "1/02",
            "1.0/2",
            "a/b",
            "1/2/3",
            "1/99999999999",
            "1/10001",
        ] {
            assert!(parse_shard(bad).is_err(), "{bad:?} was accepted");
        }
        let message = parse_shard("0/4").unwrap_err().to_string();
        assert!(message.contains("numbered from 1") && message.contains("1/4"), "{message}");
        assert!(parse_shard("5/4").unwrap_err().to_string().contains("no shard 5 of 4"));
    }

    /// A shard block read back from plan.json is held to the rules `--shard` is read with, and the
    /// field that breaks them is named.
    #[test]
    fn a_shard_block_read_back_is_held_to_the_rules_of_shard() {
        let block = |index: u32, count: u32, point_shard: u32| ShardBlock {
            index,
            count,
            fingerprint: "f".repeat(64),
            points: Vec::new(),
            partition: vec![AssignedPoint {
                key: PointKey { scenario: "seed".into(), point: 0 },
                label: "n=5".into(),
                estimated_cost_ns: 1,
                shard: point_shard,
            }],
        };
        assert_eq!(block(1, 2, 2).problem(), None);
        assert_eq!(block(MAX_SHARDS, MAX_SHARDS, 1).problem(), None);
        for (bad, want) in [
            (block(1, u32::MAX, 1), "shard.count is 4294967295: the shard count must be 1 to 10000"),
            (block(1, MAX_SHARDS + 1, 1), "shard.count is 10001: the shard count must be 1 to 10000"),
            (block(1, 0, 1), "shard.count is 0: the shard count must be 1 to 10000"),
            (block(7, 2, 1), "shard.index is 7: there is no shard 7 of 2"),
            (block(0, 2, 1), "shard.index is 0: shards are numbered from 1: the first is 1/2"),
            (block(1, 2, 3), "shard.partition[0].shard is 3: point seed#0 is given to no shard of the 2 (1 to 2)"),
        ] {
            assert_eq!(bad.problem().as_deref(), Some(want));
        }
    }

    #[test]
    fn auto_reads_slurm_arrays_from_any_first_index() {
        let from_zero = env_of(&[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "0")]);
        assert_eq!(resolve(Some("auto"), None, &from_zero), Ok(Some(ShardRef { index: 1, count: 4 })));
        let from_one = env_of(&[("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "1")]);
        assert_eq!(resolve(Some("auto"), None, &from_one), Ok(Some(ShardRef { index: 4, count: 4 })));
        let stepped = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "14"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ]);
        assert_eq!(resolve(Some("auto"), None, &stepped), Ok(Some(ShardRef { index: 3, count: 3 })));
        let gap = env_of(&[("SLURM_ARRAY_TASK_ID", "7"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("SLURM_ARRAY_TASK_MIN", "1")]);
        assert!(resolve(Some("auto"), None, &gap).unwrap_err().to_string().contains("contiguous"));
        let no_step = env_of(&[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "2"), ("SLURM_ARRAY_TASK_STEP", "0")]);
        assert!(resolve(Some("auto"), None, &no_step).unwrap_err().to_string().contains("SLURM_ARRAY_TASK_STEP=0 is not a step"));
        let no_count = env_of(&[("SLURM_ARRAY_TASK_ID", "1")]);
        assert!(resolve(Some("auto"), None, &no_count).unwrap_err().to_string().contains("SLURM_ARRAY_TASK_COUNT"));
        let disagree = env_of(&[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "2")]);
        assert!(resolve(Some("auto"), Some(3), &disagree).unwrap_err().to_string().contains("--shard-count says 3"));
        let huge = env_of(&[("SLURM_ARRAY_TASK_ID", "99999999999999999999"), ("SLURM_ARRAY_TASK_COUNT", "2")]);
        assert!(resolve(Some("auto"), None, &huge).unwrap_err().to_string().contains("'99999999999999999999' is too large"));
        let word = env_of(&[("SLURM_ARRAY_TASK_ID", "x1"), ("SLURM_ARRAY_TASK_COUNT", "2")]);
        assert!(resolve(Some("auto"), None, &word).unwrap_err().to_string().contains("'x1' is not a whole number"));
    }

    #[test]
    fn auto_reads_kubernetes_indexed_jobs_with_a_count() {
        let k8s = env_of(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(resolve(Some("auto"), Some(3), &k8s), Ok(Some(ShardRef { index: 3, count: 3 })));
        assert!(resolve(Some("auto"), None, &k8s).unwrap_err().to_string().contains("--shard-count"));
        assert!(resolve(Some("auto"), Some(2), &k8s).is_err());
        let nothing = env_of(&[]);
        assert!(resolve(Some("auto"), None, &nothing).unwrap_err().to_string().contains("CI matrix"));
        assert_eq!(resolve(Some("2/3"), Some(3), &nothing), Err(ShardError::CountWithoutAuto));
        assert_eq!(resolve(None, Some(3), &nothing), Err(ShardError::CountWithoutAuto));
        assert_eq!(resolve(None, None, &nothing), Ok(None));
    }

    #[test]
    fn the_costliest_points_are_spread_first() {
        assert_eq!(partition(&[1, 100, 1, 100], 2), vec![0, 0, 1, 1]);
        assert_eq!(partition(&[5, 5, 5], 1), vec![0, 0, 0]);
        assert_eq!(partition(&[], 3), Vec::<usize>::new());
        assert_eq!(partition(&[7], 3), vec![0]);
    }

    /// A plan of `sizes.len()` scenarios with that many points each, from JSON so that fields
    /// added to the plan later (with defaults) need no change here.
    fn plan_of(sizes: &[Vec<(u64, u64)>]) -> Plan {
        let scenarios: Vec<serde_json::Value> = sizes
            .iter()
            .enumerate()
            .map(|(s, points)| {
                serde_json::json!({
                    "name": format!("s{s}"), "description": "", "source_file": format!("s{s}.yaml"), "baseline": "a",
                    "implementations": [{"name": "a", "command": ["a"]}, {"name": "b", "command": ["b"]}],
                    "points": points.iter().enumerate().map(|(i, (n, epochs))| serde_json::json!({
                        "index": i * 2, "label": format!("n={n}"), "n": n, "epochs": epochs, "learning_rate": 0.01,
                        "data_path": "d.npy", "data_description": "", "skip": if i % 3 == 0 { vec!["b"] } else { vec![] },
                    })).collect::<Vec<_>>(),
                    "measure": {"warmup": 1, "repetitions": 3, "sample_interval_ms": 1, "timeout_seconds": 10.0, "order": "interleaved"},
                    "accuracy": {"relative_tolerance": 1e-9},
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "scenarios": scenarios })).expect("a valid plan")
    }

    fn keys(plan: &Plan) -> Vec<PointKey> {
        plan.scenarios.iter().flat_map(|s| s.points.iter().map(|p| PointKey { scenario: s.name.clone(), point: p.index })).collect()
    }

    proptest! {
        #[test]
        fn the_shards_of_a_plan_are_disjoint_complete_and_deterministic(
            sizes in proptest::collection::vec(proptest::collection::vec((1u64..20_000_000, 1u64..2000), 0..6), 0..5),
            count in 1u32..9,
        ) {
            let plan = plan_of(&sizes);
            let all = keys(&plan);
            let mut seen: Vec<PointKey> = Vec::new();
            for index in 1..=count {
                let shard = ShardRef { index, count };
                let (part, block) = select(&plan, shard, "f");
                prop_assert_eq!(&(part.clone(), block.clone()), &select(&plan, shard, "f"));
                prop_assert_eq!(keys(&part), block.points.clone());
                prop_assert_eq!(block.partition.len(), all.len());
                for key in keys(&part) {
                    prop_assert_eq!(block.partition.iter().find(|a| a.key == key).map(|a| a.shard), Some(index));
                    prop_assert!(!seen.contains(&key), "{} is in two shards", key);
                    seen.push(key);
                }
                // Scenarios keep their settings and their points' order.
                for s in &part.scenarios {
                    let whole = plan.scenarios.iter().find(|w| w.name == s.name).expect("a scenario of the plan");
                    prop_assert_eq!(&s.measure, &whole.measure);
                    prop_assert!(s.points.windows(2).all(|w| w[0].index < w[1].index));
                }
            }
            seen.sort();
            let mut expected = all.clone();
            expected.sort();
            prop_assert_eq!(seen, expected);
            let (whole, _) = select(&plan, ShardRef { index: 1, count: 1 }, "f");
            prop_assert_eq!(whole, plan);
        }

        #[test]
        fn every_item_is_in_exactly_one_shard_and_the_loads_are_balanced(
            costs in proptest::collection::vec(0u64..1_000_000_000_000, 0..60),
            shards in 1usize..12,
        ) {
            let assigned = partition(&costs, shards);
            // Complete and disjoint: one shard per item, and a valid one.
            prop_assert_eq!(assigned.len(), costs.len());
            prop_assert!(assigned.iter().all(|&s| s < shards));
            // Deterministic.
            prop_assert_eq!(&assigned, &partition(&costs, shards));
            // One shard is the whole plan.
            prop_assert!(partition(&costs, 1).iter().all(|&s| s == 0));
            // Greedy list scheduling: no shard exceeds the mean load by more than the largest item.
            let mut load = vec![0u128; shards];
            for (item, &s) in assigned.iter().enumerate() {
                load[s] += u128::from(costs[item]);
            }
            let total: u128 = costs.iter().map(|&c| u128::from(c)).sum();
            let largest = costs.iter().copied().max().map_or(0, u128::from);
            let busiest = load.iter().copied().max().unwrap_or(0);
            prop_assert!(busiest * shards as u128 <= total + largest * shards as u128);
            // No shard is left empty while another holds two items or more.
            if costs.len() >= shards {
                let per_shard: Vec<usize> = (0..shards).map(|s| assigned.iter().filter(|&&a| a == s).count()).collect();
                prop_assert!(per_shard.iter().all(|&c| c > 0), "{:?}", per_shard);
            }
        }
    }
}
