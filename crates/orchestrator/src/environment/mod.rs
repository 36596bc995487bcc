//! environment.json: the machine and software a run was measured on, and the conditions during
//! it (load, sampler overhead), so a reader can judge the numbers.

pub(crate) mod binaries;
pub(crate) mod import_profile;
pub mod machine;
pub(crate) mod microarch;
pub(crate) mod other_work;
pub mod probes;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Environment {
    pub orchestrator_version: String,
    pub command_line: Vec<String>,
    pub started_utc: String,
    #[serde(default)]
    pub ended_utc: Option<String>,
    pub hostname: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    pub memory_total_bytes: u64,
    /// What CPU this is: vendor, family, model, stepping, microarchitecture, SIMD extensions,
    /// cpu0's caches, hypervisor (machine.rs). Runs before it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<machine::MachineIdentity>,
    /// The machine's name in every report (`zen3-2c-32m`): `run --machine-label`, else derived
    /// from `machine` when the run started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_label: Option<String>,
    /// Written by orchestrators older than commit f895b70 (which dropped it): the largest cache
    /// of cpu0, usually the L3. Read only to label such runs.
    #[serde(default, rename = "largest_cache_bytes", skip_serializing_if = "Option::is_none")]
    pub legacy_largest_cache_bytes: Option<u64>,
    pub kernel: String,
    pub os: String,
    /// cpufreq governor of cpu0, when readable.
    #[serde(default)]
    pub frequency_governor: Option<String>,
    /// 1, 5 and 15-minute load averages at start and end.
    pub load_average_start: [f64; 3],
    #[serde(default)]
    pub load_average_end: Option<[f64; 3]>,
    /// The share of every CPU's time that other processes used while the run went on, 0–1 (see
    /// `other_work`): what the busy-machine warning is about, when it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_cpu_share: Option<f64>,
    pub rustc: String,
    /// {python} as given (the project venv's interpreter by default).
    #[serde(default)]
    pub python_command: Option<PathBuf>,
    /// The interpreter {python} resolved to, with symlinks followed.
    pub python_executable: Option<PathBuf>,
    pub python_version: Option<String>,
    pub numpy_version: Option<String>,
    /// The BLAS/LAPACK numpy was built against, as numpy reports it.
    pub numpy_blas: Option<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    /// CPU time the orchestrator's sampler spent, over the wall time it was sampling: the
    /// fraction of one core the measurement itself cost.
    #[serde(default)]
    pub sampler_cpu_seconds: f64,
    #[serde(default)]
    pub sampled_wall_seconds: f64,
    /// Whether the run was interrupted (SIGINT/SIGTERM) before the plan finished.
    #[serde(default)]
    pub interrupted: bool,
    /// Measured at the start of the run: memory read bandwidth (the best sample at the largest
    /// working set of `bandwidth_curve`), bytes/s.
    #[serde(default)]
    pub bandwidth_single_thread_bytes_per_second: Option<f64>,
    #[serde(default)]
    pub bandwidth_all_threads_bytes_per_second: Option<f64>,
    /// Median whole-process wall time of /bin/true: the floor any spawned program pays.
    #[serde(default)]
    pub spawn_floor_seconds: Option<f64>,
    /// The probes in full: read bandwidth at every working-set size (best, median and worst of its
    /// samples), the compute ceiling, the sampler's cost on a child using every CPU, the spawn
    /// floor's spread, and how long all of it took.
    #[serde(default)]
    pub bandwidth_curve: Option<probes::BandwidthCurve>,
    #[serde(default)]
    pub compute_ceiling: Option<probes::ComputeCeiling>,
    #[serde(default)]
    pub sampler_cost: Option<probes::SamplerCost>,
    #[serde(default)]
    pub spawn_floor: Option<probes::SpawnFloor>,
    /// What one CPUID instruction costs (a hypervisor's exit in a VM): part of every start-up.
    /// Runs before 2026-12-05 have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuid_cost: Option<probes::CpuidCost>,
    /// Where `linreg` and the limit's probes lay out their data on this machine
    /// (`linreg::placement`): buffers of `from_bytes` or more on whole huge pages of `page_bytes`;
    /// `Some(None)` (null) where Linux offers no transparent huge pages or has them off, so every
    /// buffer lies on 4 KiB pages; None (absent) in runs made before it was recorded (2026-12-05
    /// evening; the gallery's runs among them).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub whole_pages: Option<Option<linreg::placement::WholePages>>,
    #[serde(default)]
    pub probe_seconds: Option<f64>,
    /// Where `import numpy` spends its time (`python -X importtime`), for the start-up anatomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numpy_import_profile: Option<import_profile::ImportProfile>,
    /// How the launcher and each measured program are linked (static, or through which dynamic
    /// loader): part of every start-up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binaries: Vec<binaries::Binary>,
    /// SHA-256 of the scenario files, the catalogue, the git commit and the plan's options: runs
    /// and shards of the same plan share it (shard.rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_fingerprint: Option<String>,
    /// This run is shard K/N of its plan (`run --shard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::plan::shard::ShardRef>,
    /// This run directory was merged from shards: every shard's machine and points (merge.rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
    /// Each scenario's start and end as the run reached them, with the load average then: the
    /// report compares a program measured in two scenarios under these conditions, and a run
    /// that has not finished them all is reported as partial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioConditions>,
    /// The implementations made available during the run by their `prepare` command (built or
    /// installed between two scenarios, nothing measured meanwhile), in the order they were.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prepared: Vec<PreparedImplementation>,
    /// The read bandwidth at each scenario point's own working set, measured right before the
    /// point ran (points of 1 024 values or more, when the probes run): the limit of that point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub point_bandwidth: Vec<PointLimitProbe>,
}

/// [`probes::PointBandwidth`] of one scenario point, and when it was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointLimitProbe {
    pub scenario: String,
    pub point: usize,
    /// When the first probe was made (before the point's first run, if it was).
    pub measured_utc: String,
    /// The point's limit: its one probe's figures, or the union of `probes` when there are more.
    #[serde(flatten)]
    pub bandwidth: probes::PointBandwidth,
    /// Each probe, in order, when the point was probed more than once: before its first run and
    /// after its last (since 2026-12-04; earlier records have one probe and no list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<probes::PointBandwidth>,
    /// When the probe after the point's last run was made, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_after_utc: Option<String>,
}

impl PointLimitProbe {
    /// The first probe of scenario `scenario`'s point `point`, made at `measured_utc`.
    pub(crate) fn first(scenario: &str, point: usize, bandwidth: probes::PointBandwidth, measured_utc: String) -> PointLimitProbe {
        PointLimitProbe { scenario: scenario.to_string(), point, measured_utc, bandwidth, probes: Vec::new(), measured_after_utc: None }
    }

    /// Adds a probe made after the point's last run: `bandwidth` becomes the union of both.
    pub(crate) fn add_after(&mut self, after: probes::PointBandwidth, measured_utc: String) {
        if self.probes.is_empty() {
            self.probes.push(self.bandwidth.clone());
        }
        self.probes.push(after);
        if let Some(union) = probes::PointBandwidth::union(&self.probes) {
            self.bandwidth = union;
        }
        self.measured_after_utc = Some(measured_utc);
    }
}

/// One pending implementation's prepare command, run between two scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedImplementation {
    pub implementation: String,
    pub command: Vec<String>,
    /// The scenario it was prepared for (the first that runs it), which started after it.
    pub before_scenario: String,
    pub started_utc: String,
    pub seconds: f64,
    /// None when the implementation could run afterwards, otherwise why not.
    pub unavailable: Option<String>,
}

/// One scenario of a run: when it started and ended, and the 1-, 5- and 15-minute load averages
/// then (read before its first run and after its last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioConditions {
    pub scenario: String,
    pub started_utc: String,
    pub load_average_start: Option<[f64; 3]>,
    /// None while it runs, and for good when the run stopped before its end.
    pub ended_utc: Option<String>,
    pub load_average_end: Option<[f64; 3]>,
}

impl Environment {
    /// Fraction of one core the sampler cost, when anything was sampled.
    pub(crate) fn sampler_overhead_fraction(&self) -> Option<f64> {
        (self.sampled_wall_seconds > 0.0).then(|| self.sampler_cpu_seconds / self.sampled_wall_seconds)
    }

    /// The machine's label: the one recorded, else derived from its identity, else — for an
    /// environment.json older than the identity — from what it holds: the vendor in the CPU's
    /// model name, the logical CPUs, the largest cache, and `-avx512` when the probes used it.
    pub(crate) fn label(&self) -> String {
        // A label recorded by hand-edited or hostile JSON that is not a plain label is ignored.
        if let Some(label) = self.machine_label.as_ref().filter(|l| machine::check_label(l).is_ok()) {
            return label.clone();
        }
        if let Some(identity) = &self.machine {
            return identity.label(self.logical_cpus);
        }
        let avx512 = self.compute_ceiling.as_ref().is_some_and(|c| c.instruction_set == probes::Isa::Avx512);
        machine::label_from_parts(machine::vendor_slug(&self.cpu_model), self.logical_cpus, self.legacy_largest_cache_bytes, avx512)
    }

    /// Records that `scenario` starts now, with the load average.
    pub(crate) fn scenario_started(&mut self, scenario: &str) {
        self.scenarios.push(ScenarioConditions {
            scenario: scenario.to_string(),
            started_utc: utc_now(),
            load_average_start: load_average(),
            ended_utc: None,
            load_average_end: None,
        });
    }

    /// Records that `scenario` (started last) ended now, with the load average.
    pub(crate) fn scenario_ended(&mut self, scenario: &str) {
        if let Some(c) = self.scenarios.iter_mut().rev().find(|c| c.scenario == scenario) {
            c.ended_utc = Some(utc_now());
            c.load_average_end = load_average();
        }
    }

    /// Whether the run recorded `scenario`'s end.
    pub(crate) fn scenario_finished(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|c| c.scenario == scenario && c.ended_utc.is_some())
    }

    /// The bandwidth measured at scenario `scenario`'s point `point` (right before it, and after it
    /// when it was), if it was.
    pub(crate) fn point_bandwidth(&self, scenario: &str, point: usize) -> Option<&probes::PointBandwidth> {
        self.point_probe(scenario, point).map(|p| &p.bandwidth)
    }

    /// The record of the probes of scenario `scenario`'s point `point`, if it was probed.
    pub(crate) fn point_probe(&self, scenario: &str, point: usize) -> Option<&PointLimitProbe> {
        self.point_bandwidth.iter().rev().find(|p| p.scenario == scenario && p.point == point)
    }

    /// The same, to add a probe to.
    pub(crate) fn point_probe_mut(&mut self, scenario: &str, point: usize) -> Option<&mut PointLimitProbe> {
        self.point_bandwidth.iter_mut().rev().find(|p| p.scenario == scenario && p.point == point)
    }

    /// The limits at one scenario point: the bandwidth measured right before it when it was,
    /// else the start-of-run curve's.
    pub(crate) fn limits_at(&self, scenario: &str, point: usize) -> probes::MachineLimits<'_> {
        probes::MachineLimits { at_point: self.point_bandwidth(scenario, point), ..self.limits() }
    }

    /// What the probes measured of the machine's limits (nothing when they did not run).
    pub(crate) fn limits(&self) -> probes::MachineLimits<'_> {
        probes::MachineLimits { bandwidth: self.bandwidth_curve.as_ref(), compute: self.compute_ceiling.as_ref(), at_point: None }
    }

    /// Whether a buffer of `bytes` lay on whole huge pages in this run (false where that was not
    /// recorded).
    pub(crate) fn on_whole_pages(&self, bytes: u64) -> bool {
        self.whole_pages.flatten().is_some_and(|p| usize::try_from(bytes).is_ok_and(|b| p.for_bytes(b)))
    }
}

/// A field that is there, even as null, is `Some`: `Some(None)` for null, None only when absent
/// (with `#[serde(default)]`), so "recorded as nothing" and "not recorded" stay apart.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

// ---------------------------------------------------------------------------------------------
// A run merged from shards measured on several machines (`orchestrator merge`).

/// In a merged run's environment.json: where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub fingerprint: String,
    pub shard_count: u32,
    /// One per shard merged, by shard number.
    pub machines: Vec<MachineRun>,
    /// Points of the plan that no shard given ran (only with --allow-partial), with their shard.
    #[serde(default)]
    pub missing: Vec<crate::plan::shard::AssignedPoint>,
    /// Whether every machine has the same CPU, CPU count and memory: only then are the
    /// machine's limits (bandwidth, spawn floor) at the top of environment.json true of every
    /// point; otherwise they are left out there and kept per machine.
    pub machines_alike: bool,
}

impl Environment {
    /// What is wrong with the shards this environment names (this run's, or a merged run's
    /// shards, their points and the environments kept for them), by the rules `--shard` is read
    /// with, naming the field; None when nothing is.
    pub(crate) fn shard_problem(&self) -> Option<String> {
        self.shard_problem_at("")
    }

    /// As [`Environment::shard_problem`], for the environment at `at` (empty at the top, else
    /// ending with a dot).
    fn shard_problem_at(&self, at: &str) -> Option<String> {
        use crate::plan::shard::ShardRef;
        if let Some(problem) = self.shard.and_then(|shard| shard.problem_at(&format!("{at}shard"))) {
            return Some(problem);
        }
        let merged = self.merged.as_ref()?;
        let count = merged.shard_count;
        if let Some(problem) = (ShardRef { index: 1, count }).problem_in("", &format!("{at}merged.shard_count")) {
            return Some(problem);
        }
        let machine_problem = merged.machines.iter().enumerate().find_map(|(k, machine)| {
            let at = format!("{at}merged.machines[{k}]");
            machine.shard.problem_at(&format!("{at}.shard")).or_else(|| {
                let points = machine.points.iter().enumerate().find_map(|(j, p)| p.problem_at(&format!("{at}.points[{j}]"), count));
                points.or_else(|| machine.environment.as_ref().and_then(|e| e.shard_problem_at(&format!("{at}.environment."))))
            })
        });
        machine_problem
            .or_else(|| merged.missing.iter().enumerate().find_map(|(j, p)| p.problem_at(&format!("{at}merged.missing[{j}]"), count)))
    }
}

/// One shard merged: its machine and the points it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineRun {
    pub shard: crate::plan::shard::ShardRef,
    /// The shard's run directory as given to `merge`.
    pub source: PathBuf,
    /// The points it ran, with their labels, in plan order.
    pub points: Vec<crate::plan::shard::AssignedPoint>,
    /// The shard's environment.json (None when it was missing).
    pub environment: Option<Environment>,
}

// ---------------------------------------------------------------------------------------------
// Collecting it.

use std::path::Path;
use std::process::Command;

/// Reads what can be read about the machine and the toolchains. Never fails: an unreadable
/// fact is recorded as unknown.
pub(crate) fn collect(root: &Path, python: &Path, command_line: Vec<String>, machine_label: Option<String>) -> Environment {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    let memory_total_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()))
        })
        .flatten()
        .map_or(0, |kb| kb * 1024);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())))
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let python_executable = python.canonicalize().ok();
    let python_facts = python_facts(python);
    let identity = machine::collect();
    let logical_cpus = linreg::default_threads().get();
    Environment {
        orchestrator_version: env!("CARGO_PKG_VERSION").to_string(),
        command_line,
        started_utc: utc_now(),
        ended_utc: None,
        hostname: read_trimmed("/proc/sys/kernel/hostname").unwrap_or_default(),
        cpu_model,
        logical_cpus,
        memory_total_bytes,
        machine_label: Some(machine_label.unwrap_or_else(|| identity.label(logical_cpus))),
        machine: Some(identity),
        whole_pages: Some(linreg::placement::whole_pages()),
        kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default(),
        os,
        frequency_governor: read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        load_average_start: load_average().unwrap_or_default(),
        load_average_end: None,
        rustc: output_of("rustc", &["--version"], root).unwrap_or_else(|| "unknown".into()),
        python_command: Some(python.to_path_buf()),
        python_executable,
        python_version: python_facts.version,
        numpy_version: python_facts.numpy_version,
        numpy_blas: python_facts.numpy_blas,
        git_commit: output_of("git", &["rev-parse", "HEAD"], root),
        git_dirty: output_of("git", &["status", "--porcelain", "--untracked-files=no"], root).map(|s| !s.is_empty()).or_else(|| {
            // `git status` prints nothing on a clean tree, which output_of reports as None.
            Command::new("git").args(["rev-parse", "HEAD"]).current_dir(root).output().ok().filter(|o| o.status.success()).map(|_| false)
        }),
        ..Environment::default()
    }
}

/// What the interpreter says of itself; each None when it could not say.
#[derive(Default)]
struct PythonFacts {
    version: Option<String>,
    numpy_version: Option<String>,
    numpy_blas: Option<String>,
}

/// Python version, numpy version and numpy's BLAS, asked of the interpreter itself.
fn python_facts(python: &Path) -> PythonFacts {
    let Some(lines) = python_fact_lines(python) else { return PythonFacts::default() };
    let non_empty = |k: usize| lines.get(k).cloned().filter(|v| !v.is_empty());
    PythonFacts { version: lines.first().cloned(), numpy_version: non_empty(1), numpy_blas: non_empty(2) }
}

/// The lines the fact script prints: Python's version, numpy's (empty without numpy), its BLAS.
fn python_fact_lines(python: &Path) -> Option<Vec<String>> {
    const SCRIPT: &str = "import sys, platform\nprint(platform.python_version())\ntry:\n    import numpy\n    print(numpy.__version__)\n    try:\n        cfg = numpy.show_config(mode='dicts')\n        blas = cfg.get('Build Dependencies', {}).get('blas', {})\n        print(f\"{blas.get('name', '?')} {blas.get('version', '')}\".strip())\n    except Exception:\n        print('')\nexcept ImportError:\n    print('')\n    print('')\n";
    let out = Command::new(python).args(["-c", SCRIPT]).stdin(std::process::Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn output_of(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(program).args(args).current_dir(dir).stdin(std::process::Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

pub(crate) fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut parts = text.split_whitespace().map(|p| p.parse::<f64>().ok());
    Some([parts.next()??, parts.next()??, parts.next()??])
}

/// Now, as an ISO 8601 UTC timestamp with seconds.
pub(crate) fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// Seconds since the epoch → "YYYY-MM-DDTHH:MM:SSZ" (civil-from-days, proleptic Gregorian).
pub(crate) fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting_matches_known_dates() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn no_huge_pages_and_not_recorded_stay_apart_through_json() {
        let pages = linreg::placement::WholePages::new(2 << 20, Some(2 << 20));
        for whole_pages in [None, Some(None), Some(Some(pages))] {
            let environment = Environment { whole_pages, ..Environment::default() };
            let json = serde_json::to_value(&environment).unwrap();
            assert_eq!(json.get("whole_pages").is_some(), whole_pages.is_some(), "{json}");
            let back: Environment = serde_json::from_value(json).unwrap();
            assert_eq!(back.whole_pages, whole_pages);
        }
        let none = Environment { whole_pages: Some(None), ..Environment::default() };
        assert!(!none.on_whole_pages(1 << 30), "no huge pages: nothing lay on them");
        let placed = Environment { whole_pages: Some(Some(pages)), ..Environment::default() };
        assert!(placed.on_whole_pages(1 << 20) && !placed.on_whole_pages(64 << 10));
    }
}
