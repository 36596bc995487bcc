//! The plan: scenarios resolved into exactly what will run — implementations with their command
//! templates, points with their dataset files, measurement settings and claims. Written to
//! plan.json in the run directory so the report reads what was run, not today's YAML.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Everything one `orchestrator run` does, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub scenarios: Vec<ScenarioPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioPlan {
    pub name: String,
    pub description: String,
    /// The YAML file it came from.
    pub source_file: PathBuf,
    /// Ratios (speed-up, memory ratio) are taken against this implementation.
    pub baseline: String,
    /// In the order they are run within a round.
    pub implementations: Vec<ImplementationPlan>,
    pub points: Vec<PointPlan>,
    pub measure: Measure,
    #[serde(default)]
    pub expect: Vec<Claim>,
    pub accuracy: AccuracySettings,
    /// Start-up anatomy chains (implementation names), empty for most scenarios.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anatomy: Vec<Vec<String>>,
}

impl ScenarioPlan {
    /// Whether `name` prints a result line with a fit (not a `protocol: none` program such as
    /// /bin/true, measured only for what starting it costs). Unknown names count as fitting.
    pub fn has_fit(&self, name: &str) -> bool {
        self.implementations.iter().find(|i| i.name == name).is_none_or(|i| i.protocol != Protocol::None)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImplementationPlan {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// argv template; placeholders {data} {epochs} {learning_rate} {n} are filled per point,
    /// {python} {bin_dir} {root} already resolved.
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Why it will not run (its availability check failed), or None when it is available.
    #[serde(default)]
    pub unavailable: Option<String>,
    /// Unavailable is acceptable: the run goes on without it.
    #[serde(default)]
    pub optional: bool,
    /// Whether its stdout holds a result line (absent in plans written before it existed).
    #[serde(default, skip_serializing_if = "Protocol::is_default")]
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointPlan {
    pub index: usize,
    /// e.g. "n=1000000 epochs=100 lr=0.01"
    pub label: String,
    pub n: u64,
    pub epochs: u64,
    pub learning_rate: f64,
    /// The dataset file every implementation reads at this point (.npy in results/.cache, or the
    /// user's CSV).
    pub data_path: PathBuf,
    /// Where the data came from, e.g. "generated: n=1000 slope=2 intercept=0.5 noise=0.1 seed=42".
    pub data_description: String,
    /// Implementations not run at this point.
    #[serde(default)]
    pub skip: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// A B C A B C …: drift of the machine hits every implementation alike.
    #[default]
    Interleaved,
    /// A A A B B B C C C.
    Grouped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Uncounted runs before the counted ones, per implementation and point.
    pub warmup: u32,
    pub repetitions: u32,
    pub sample_interval_ms: u64,
    pub timeout_seconds: f64,
    pub order: Order,
    /// Pin every child to these CPUs (sched_setaffinity), when given.
    #[serde(default)]
    pub cpus: Option<Vec<usize>>,
    /// Kill a child whose process tree's resident memory goes above this (status oom), when given.
    #[serde(default)]
    pub memory_limit_mb: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracySettings {
    /// Implementations agree when |a − b| ≤ relative_tolerance · max(|a|, |b|, 1e-12).
    pub relative_tolerance: f64,
}

impl Default for AccuracySettings {
    fn default() -> Self {
        AccuracySettings { relative_tolerance: 1e-9 }
    }
}

/// A claim to check against the measurements, as written under `expect:` in a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Claim {
    /// `faster` is at least `at_least` (and at most `at_most`) times faster than `than`, by median
    /// wall time (or `metric: cpu` / `metric: train`).
    Speedup(SpeedupClaim),
    /// `leaner` uses at least `at_least` times less peak memory than `than`.
    MemoryRatio(MemoryRatioClaim),
    /// `implementation`'s w and b are within `tolerance` (absolute) of the given values.
    Fit(FitClaim),
    /// `implementation`'s median whole-process wall time lies within [at_least, at_most] ms.
    WallMs(AbsoluteClaim),
    /// `implementation`'s median peak RSS lies within [at_least, at_most] MB (10^6 bytes).
    PeakRssMb(AbsoluteClaim),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedupClaim {
    pub faster: String,
    pub than: String,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub metric: TimeMetric,
    /// Only at this point index; every point when absent.
    #[serde(default)]
    pub point: Option<usize>,
    /// Where the claim comes from, shown in the report.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeMetric {
    #[default]
    Wall,
    Cpu,
    Train,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRatioClaim {
    pub leaner: String,
    pub than: String,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub point: Option<usize>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitClaim {
    pub implementation: String,
    #[serde(default)]
    pub w: Option<f64>,
    #[serde(default)]
    pub b: Option<f64>,
    pub tolerance: f64,
    #[serde(default)]
    pub point: Option<usize>,
    #[serde(default)]
    pub source: Option<String>,
}

/// A bound on one implementation's own figure, in the unit its claim kind names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsoluteClaim {
    pub implementation: String,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub point: Option<usize>,
    #[serde(default)]
    pub source: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Building the plan from validated scenario files.

use std::path::Path;

use anyhow::Context;

use crate::datasets::{self, Generated};
use crate::runner::CancelToken;
use crate::scenario::{self, DatasetSpec, ImplementationSpec, Protocol, ScenarioError, ScenarioFile};

/// Defaults for what a scenario's `measure:` leaves out.
pub const DEFAULT_WARMUP: u32 = 2;
pub const DEFAULT_REPETITIONS: u32 = 10;
pub const DEFAULT_QUICK_REPETITIONS: u32 = 3;
pub const DEFAULT_SAMPLE_INTERVAL_MS: u64 = 1;
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 120.0;

/// Where things are, and the command line's overrides.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// The project root: relative commands run from here.
    pub root: PathBuf,
    /// {bin_dir}: where the release binaries are.
    pub bin_dir: PathBuf,
    /// {python}: the project venv's interpreter.
    pub python: PathBuf,
    pub cache_dir: PathBuf,
    pub quick: bool,
    pub repetitions: Option<u32>,
    pub warmup: Option<u32>,
    /// Set on SIGINT, SIGTERM or SIGHUP: dataset preparation and availability checks stop.
    pub cancel: CancelToken,
}

/// A scenario file parsed and validated, with the catalogue it was checked against.
pub struct Loaded {
    pub path: PathBuf,
    pub file: ScenarioFile,
}

type Catalogue = BTreeMap<String, serde_saphyr::Spanned<ImplementationSpec>>;

/// Parses and validates every scenario against the catalogue. The first problem stops it.
pub fn load(scenario_paths: &[PathBuf], catalogue: &Catalogue) -> Result<Vec<Loaded>, ScenarioError> {
    let mut loaded: Vec<Loaded> = Vec::new();
    let same_file = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    for path in scenario_paths {
        if let Some(other) = loaded.iter().find(|l| same_file(&l.path, path)) {
            return Err(ScenarioError {
                file: path.clone(),
                line: 1,
                column: 1,
                message: format!("this scenario file is given twice (also as {}): each scenario runs once", other.path.display()),
                snippet: String::new(),
            });
        }
        let file = scenario::load_scenario(path)?;
        scenario::validate(path, &file, catalogue)?;
        if let Some(other) = loaded.iter().find(|l| l.file.name.value == file.name.value) {
            return Err(ScenarioError::at(
                path,
                &file.name,
                format!("scenario name '{}' is also used by {}", file.name.value, other.path.display()),
            ));
        }
        loaded.push(Loaded { path: path.clone(), file });
    }
    Ok(loaded)
}

/// The order of a default run: by each scenario's `order:`, the ones without after, ties kept in
/// the order given (file name). Scenarios named on the command line keep the user's order.
pub fn sort_by_declared_order(loaded: &mut [Loaded]) {
    loaded.sort_by_key(|l| l.file.order.map_or((1, 0), |order| (0, order)));
}

/// Resolves implementations, prepares every dataset (untimed) and expands sweeps into points.
pub fn build(loaded: &[Loaded], catalogue: &Catalogue, ctx: &PlanContext) -> anyhow::Result<Plan> {
    let mut availability: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut scenarios = Vec::new();
    for Loaded { path, file } in loaded {
        let implementations = file
            .implementations
            .value
            .iter()
            .map(|name| {
                let name = &name.value;
                let spec = file.define.get(name).or_else(|| catalogue.get(name)).map(|s| &s.value).context("validated")?;
                let resolved = resolve_implementation(name, spec, ctx);
                // Same name, same catalogue entry: check once. Inline definitions are checked on their own.
                let key = if file.define.contains_key(name) { format!("{}::{name}", file.name.value) } else { name.clone() };
                let unavailable = availability.entry(key).or_insert_with(|| check_available(&resolved, spec, ctx)).clone();
                Ok(ImplementationPlan { unavailable, ..resolved })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let points = build_points(path, file, ctx).with_context(|| format!("{}: preparing the dataset", path.display()))?;
        let m = &file.measure;
        let repetitions = ctx.repetitions.unwrap_or_else(|| {
            let full = m.repetitions.as_ref().map_or(DEFAULT_REPETITIONS, |r| r.value);
            let quick = m.quick_repetitions.as_ref().map_or(DEFAULT_QUICK_REPETITIONS, |r| r.value);
            if ctx.quick {
                quick.min(full)
            } else {
                full
            }
        });
        let warmup = ctx.warmup.unwrap_or_else(|| {
            let w = m.warmup.as_ref().map_or(DEFAULT_WARMUP, |w| w.value);
            if ctx.quick {
                w.min(1)
            } else {
                w
            }
        });
        scenarios.push(ScenarioPlan {
            name: file.name.value.clone(),
            description: file.description.trim().to_string(),
            source_file: path.clone(),
            baseline: file.baseline.value.clone(),
            implementations,
            points,
            measure: Measure {
                warmup,
                repetitions,
                sample_interval_ms: m.sample_interval_ms.as_ref().map_or(DEFAULT_SAMPLE_INTERVAL_MS, |v| v.value),
                timeout_seconds: m.timeout_seconds.as_ref().map_or(DEFAULT_TIMEOUT_SECONDS, |v| v.value),
                order: m.order,
                cpus: m.cpus.as_ref().map(|c| c.value.clone()),
                memory_limit_mb: m.memory_limit_mb.as_ref().map(|v| v.value),
            },
            expect: file.expect.iter().map(|c| c.value.clone()).collect(),
            accuracy: file
                .accuracy
                .as_ref()
                .map_or_else(AccuracySettings::default, |a| AccuracySettings { relative_tolerance: a.relative_tolerance.value }),
            anatomy: file.anatomy.iter().map(|chain| chain.value.iter().map(|n| n.value.clone()).collect()).collect(),
        });
    }
    Ok(Plan { scenarios })
}

/// The values of the placeholders that are the same for every run.
pub fn global_values(ctx: &PlanContext) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("python", ctx.python.display().to_string()),
        ("bin_dir", ctx.bin_dir.display().to_string()),
        ("root", ctx.root.display().to_string()),
    ])
}

fn resolve_implementation(name: &str, spec: &ImplementationSpec, ctx: &PlanContext) -> ImplementationPlan {
    let globals = global_values(ctx);
    ImplementationPlan {
        name: name.to_string(),
        description: spec.description.trim().to_string(),
        command: spec.command.value.iter().map(|a| scenario::fill_partial(&a.value, &globals)).collect(),
        env: spec.env.clone(),
        unavailable: None,
        optional: spec.optional,
        protocol: spec.protocol,
    }
}

/// How long an availability check may take unless its implementation says otherwise.
pub const DEFAULT_CHECK_TIMEOUT_SECONDS: f64 = 60.0;

/// The most of a check's stderr kept (its last line is quoted when it fails).
const CHECK_STDERR_BYTES: u64 = 64 << 10;

/// None when the implementation can run; otherwise what is missing and how to fix it.
fn check_available(resolved: &ImplementationPlan, spec: &ImplementationSpec, ctx: &PlanContext) -> Option<String> {
    let hint = spec.hint.as_deref().map(|h| format!(" — {h}")).unwrap_or_default();
    let program = resolved.command.first()?;
    if let Err(why) = find_program(program, &ctx.root) {
        return Some(format!("{why}{hint}"));
    }
    let check = spec.check.as_ref()?;
    let globals = global_values(ctx);
    let argv: Vec<String> = check.value.iter().map(|a| scenario::fill_partial(&a.value, &globals)).collect();
    // An inline script makes a long command: its start says which check it was.
    let command = argv.join(" ");
    let mut shown: String = command.chars().take(80).collect();
    if shown.len() < command.len() {
        shown.push('…');
    }
    let timeout_seconds = spec.check_timeout_seconds.as_ref().map_or(DEFAULT_CHECK_TIMEOUT_SECONDS, |t| t.value);
    let _ = writeln!(std::io::stderr(), "checking {} (`{shown}`)…", resolved.name);
    match run_check(&argv, &resolved.env, ctx, Duration::from_secs_f64(timeout_seconds)) {
        CheckEnd::Exited(status, _) if status.success() => None,
        CheckEnd::Exited(status, stderr) => {
            let stderr = String::from_utf8_lossy(&stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            Some(format!("availability check `{shown}` failed ({status}): {last}{hint}"))
        }
        CheckEnd::TimedOut => {
            Some(format!("availability check `{shown}` did not finish within {timeout_seconds} s (check_timeout_seconds): killed{hint}"))
        }
        CheckEnd::Cancelled => Some(format!("availability check `{shown}` was interrupted")),
        CheckEnd::CouldNotStart(e) => Some(format!("availability check `{shown}` could not start: {e}{hint}")),
    }
}

enum CheckEnd {
    /// With the start of its stderr.
    Exited(std::process::ExitStatus, Vec<u8>),
    TimedOut,
    Cancelled,
    CouldNotStart(std::io::Error),
}

/// Runs a check in a process group of its own, killed with everything it started when it ends,
/// times out or the command is interrupted: a check that hangs must not hang the orchestrator.
fn run_check(argv: &[String], env: &BTreeMap<String, String>, ctx: &PlanContext, timeout: Duration) -> CheckEnd {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let Some((program, args)) = argv.split_first() else { return CheckEnd::CouldNotStart(std::io::ErrorKind::InvalidInput.into()) };
    let spawned = Command::new(program)
        .args(args)
        .current_dir(&ctx.root)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return CheckEnd::CouldNotStart(e),
    };
    // Read on a thread of its own, so a check writing much never blocks; the rest is drained.
    let (sender, receiver) = std::sync::mpsc::channel();
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let _ = stderr.by_ref().take(CHECK_STDERR_BYTES).read_to_end(&mut kept);
            let _ = sender.send(kept);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
    }
    let deadline = Instant::now() + timeout;
    let ended = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if ctx.cancel.is_cancelled() || Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // The group is killed in every case: nothing a check started outlives it. Its id stays
    // reserved while any member lives, so this never reaches another process.
    if let Ok(group) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    let _ = child.wait();
    match ended {
        Some(status) => CheckEnd::Exited(status, receiver.recv_timeout(Duration::from_millis(250)).unwrap_or_default()),
        None if ctx.cancel.is_cancelled() => CheckEnd::Cancelled,
        None => CheckEnd::TimedOut,
    }
}

/// A program given with a '/' must exist (relative to the root); a bare name must be on PATH.
pub fn find_program(program: &str, root: &Path) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false);
    if program.contains('/') {
        let path = root.join(program);
        return if executable(&path) { Ok(path) } else { Err(format!("{} not found or not executable", path.display())) };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
        .ok_or_else(|| format!("'{program}' not found on PATH"))
}

fn build_points(path: &Path, file: &ScenarioFile, ctx: &PlanContext) -> anyhow::Result<Vec<PointPlan>> {
    let base_epochs = file.training.epochs.value;
    let base_lr = file.training.learning_rate.value;
    type Override = (Option<u64>, Option<u64>, Option<f64>, bool, Vec<String>);
    let overrides: Vec<Override> = match &file.sweep {
        None => vec![(None, None, None, true, Vec::new())],
        Some(sweep) => sweep
            .value
            .iter()
            .map(|p| {
                let p = &p.value;
                (
                    p.n.as_ref().map(|v| v.value),
                    p.epochs.as_ref().map(|v| v.value),
                    p.learning_rate.as_ref().map(|v| v.value),
                    p.quick,
                    p.skip.iter().map(|s| s.value.clone()).collect(),
                )
            })
            .collect(),
    };
    let mut points = Vec::new();
    for (index, (n, epochs, learning_rate, in_quick, skip)) in overrides.into_iter().enumerate() {
        if ctx.quick && !in_quick {
            continue;
        }
        let prepared = match &file.dataset {
            DatasetSpec::Inline { x, y } => datasets::prepare_inline(&ctx.cache_dir, &x.value, &y.value, &ctx.cancel)?,
            DatasetSpec::Generate(g) => {
                let spec = Generated {
                    n: n.unwrap_or(g.n.value),
                    slope: g.slope,
                    intercept: g.intercept,
                    noise: g.noise,
                    seed: g.seed,
                    x_min: g.x_min.unwrap_or(datasets::DEFAULT_X_MIN),
                    x_max: g.x_max.unwrap_or(datasets::DEFAULT_X_MAX),
                };
                datasets::prepare_generated(&ctx.cache_dir, &spec, &ctx.cancel)?
            }
            DatasetSpec::Csv(c) => {
                let csv_path = path.parent().unwrap_or(Path::new(".")).join(&c.path.value);
                let (xc, yc) = (c.x_column.as_deref().unwrap_or("x"), c.y_column.as_deref().unwrap_or("y"));
                datasets::prepare_csv(&ctx.cache_dir, &csv_path, xc, yc, &ctx.cancel)?
            }
            DatasetSpec::Npy(npy) => datasets::prepare_npy(&path.parent().unwrap_or(Path::new(".")).join(&npy.path.value))?,
        };
        let epochs = epochs.unwrap_or(base_epochs);
        let learning_rate = learning_rate.unwrap_or(base_lr);
        points.push(PointPlan {
            index,
            label: format!("n={} epochs={} lr={}", prepared.n, epochs, learning_rate),
            n: prepared.n,
            epochs,
            learning_rate,
            data_path: prepared.path,
            data_description: prepared.description,
            skip,
        });
    }
    Ok(points)
}

/// The argv of one run: the implementation's template with the point's values filled in.
pub fn command_for(implementation: &ImplementationPlan, point: &PointPlan) -> Result<Vec<String>, String> {
    let values = BTreeMap::from([
        ("data", point.data_path.display().to_string()),
        ("epochs", point.epochs.to_string()),
        ("learning_rate", format!("{:?}", point.learning_rate)),
        ("n", point.n.to_string()),
    ]);
    implementation.command.iter().map(|a| scenario::fill(a, &values)).collect()
}
