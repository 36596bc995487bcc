//! The command line: `run`, `validate`, `report` and `compare`, and the wiring between the modules
//! (scenario → plan → execute → records → report). Errors a user can cause end here as one
//! message with exit code 2; nothing already measured is lost on the way.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::environment::{self, Environment};
use crate::execute::{self, RunEvent};
use crate::measurement::RunStatus;
use crate::plan::{self, Plan, PlanContext};
use crate::records::{self, ENVIRONMENT_JSON, PLAN_JSON};
use crate::runner::CancelToken;
use crate::{compare, import_profile, merge, probes, report, scenario, shard};

#[derive(Parser)]
#[command(
    name = "orchestrator",
    version,
    about = "Run every implementation of the same job as a child process, measure it from outside, report"
)]
struct Cli {
    /// The project root (holding scenarios/ and python_impl/) [default: found from the current directory]
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (default: every scenarios/*.yaml) and write results/<UTC time>/ with its report
    Run(RunArgs),
    /// Check scenario files (default: all) without running anything
    Validate {
        /// Scenario files
        files: Vec<PathBuf>,
    },
    /// Render report.md, summary.csv, summary.json and the charts again from a run directory's raw records
    Report {
        /// A run directory, e.g. results/latest
        run_dir: PathBuf,
        /// Exit 1 when a scenario's claim does not hold
        #[arg(long)]
        check: bool,
    },
    /// Unite the run directories of `run --shard` (one per machine) into one run directory and
    /// its report; refuses shards of different plans, duplicated and missing shards
    Merge(merge::MergeArgs),
    /// Set full runs from different machines side by side: per point each implementation's median
    /// on each machine, the machine-to-machine ratio, and whether each claim holds on every machine
    Machines {
        /// Run directories, one per machine (the first is the reference for the ratios)
        #[arg(required = true, num_args = 2.., value_name = "RUN_DIR")]
        runs: Vec<PathBuf>,
        /// Where machines.md, machines.json and the chart are written
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Exit 1 when a claim does not hold on every machine
        #[arg(long)]
        check: bool,
    },
    /// Compare two runs: every median's change with its 95% CI; exit 1 on a regression
    Compare {
        old_run: PathBuf,
        new_run: PathBuf,
        /// A change counts as a regression only when its CI lies entirely beyond this (e.g. 5%)
        #[arg(long, default_value = "5%", value_parser = parse_percent)]
        threshold: f64,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Scenario files [default: every scenarios/*.yaml but implementations.yaml]
    scenarios: Vec<PathBuf>,
    /// Where run directories are created
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,
    /// Write into this directory instead of results/<UTC time> (must not exist or be empty)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Counted runs per implementation and point, overriding the scenarios
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(scenario::MAX_RUNS_PER_POINT)))]
    repetitions: Option<u32>,
    /// Uncounted runs first, overriding the scenarios
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=i64::from(scenario::MAX_RUNS_PER_POINT)))]
    warmup: Option<u32>,
    /// A CI-sized run: few repetitions, points marked `quick: false` left out
    #[arg(long)]
    quick: bool,
    /// Exit 1 when a scenario's claim does not hold
    #[arg(long)]
    check: bool,
    /// Run the other implementations when one that is not optional is unavailable
    #[arg(long)]
    keep_going: bool,
    /// Skip measuring the memory bandwidth and the spawn floor at the start
    #[arg(long)]
    no_probes: bool,
    /// Size of each of the two arrays the bandwidth probe streams; keep it well above the
    /// largest CPU cache
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    probe_array_mib: u64,
    /// The implementation catalogue [default: scenarios/implementations.yaml]
    #[arg(long, value_name = "FILE")]
    implementations: Option<PathBuf>,
    /// The Python interpreter for {python} [default: python_impl/.venv/bin/python]
    #[arg(long, value_name = "FILE")]
    python: Option<PathBuf>,
    /// Run only shard K of N of the plan's scenario points (numbered from 1, e.g. 2/4), or `auto`
    /// from a Slurm array or a Kubernetes Indexed Job (docs/scale.md); merge the shards with
    /// `orchestrator merge`
    #[arg(long, value_name = "K/N|auto")]
    shard: Option<String>,
    /// The number of shards, with --shard auto in a Kubernetes Indexed Job (its completions)
    #[arg(long, value_name = "N")]
    shard_count: Option<u32>,
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v / 100.0),
        _ => Err(format!("expected a percentage such as 5%, got '{text}'")),
    }
}

/// Exit codes: 0 done, 1 a claim or comparison failed (--check, compare), 2 bad input or a
/// setup problem, 130/143 interrupted by SIGINT/SIGTERM.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let root = match cli.root {
        Some(root) => root,
        None => find_root()?,
    };
    let root = root.canonicalize().with_context(|| format!("project root {}", root.display()))?;
    match cli.command {
        Command::Run(args) => run(&root, args),
        Command::Validate { files } => validate(&root, files),
        Command::Report { run_dir, check } => {
            let rendered = report::render(&run_dir)?;
            print!("{}", rendered.terminal_summary);
            println!("report: {}", run_dir.join(report::REPORT_MD).display());
            Ok(check_exit(check, &rendered))
        }
        Command::Merge(args) => {
            let (out, rendered) = merge::merge_command(&args, std::env::args().collect(), |out| prepare_out_dir(&absolute(out)?))?;
            print!("{}", rendered.terminal_summary);
            println!("report: {}", out.join(report::REPORT_MD).display());
            Ok(check_exit(args.check, &rendered))
        }
        Command::Machines { runs, out, check } => {
            let across = crate::across::analyse(&runs)?;
            let text = crate::across::render(&across, &out)?;
            print!("{text}");
            println!("report: {}", out.join(crate::across::ACROSS_MD).display());
            Ok(if check && !crate::across::all_hold(&across) { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Compare { old_run, new_run, threshold } => {
            let outcome = compare::compare_runs(&old_run, &new_run, threshold)?;
            print!("{}", outcome.text);
            Ok(if outcome.regressions > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}

/// The nearest directory, from the current one up, holding scenarios/implementations.yaml; else
/// the one the binary was built in (target/release/../..).
fn find_root() -> anyhow::Result<PathBuf> {
    let marker = Path::new("scenarios").join("implementations.yaml");
    let cwd = std::env::current_dir().context("the current directory")?;
    if let Some(dir) = cwd.ancestors().find(|d| d.join(&marker).is_file()) {
        return Ok(dir.to_path_buf());
    }
    let exe = std::env::current_exe().context("the orchestrator's own path")?;
    if let Some(dir) = exe.ancestors().find(|d| d.join(&marker).is_file()) {
        return Ok(dir.to_path_buf());
    }
    bail!("cannot find the project root (a directory with {}): run from the project, or pass --root", marker.display())
}

fn default_scenarios(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = root.join("scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml") && p.file_stem().is_some_and(|s| s != "implementations"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no scenario files in {}", dir.display());
    }
    Ok(paths)
}

fn load_catalogue(root: &Path, path: Option<PathBuf>) -> anyhow::Result<scenario::ImplementationsFile> {
    let path = path.unwrap_or_else(|| root.join("scenarios").join("implementations.yaml"));
    Ok(scenario::load_implementations(&path)?)
}

fn validate(root: &Path, files: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let catalogue = load_catalogue(root, None)?;
    let files = if files.is_empty() { default_scenarios(root)? } else { files };
    let loaded = plan::load(&files, &catalogue.implementations)?;
    for l in &loaded {
        let points = l.file.sweep.as_ref().map_or(1, |s| s.value.len());
        println!(
            "ok  {}  (scenario '{}', {} implementation(s), {} point(s))",
            l.path.display(),
            l.file.name.value,
            l.file.implementations.value.len(),
            points
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check_exit(check: bool, rendered: &report::Rendered) -> ExitCode {
    if check && rendered.claims_not_held > 0 {
        eprintln!("--check: {} claim(s) did not hold (see the Claims section of the report)", rendered.claims_not_held);
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run(root: &Path, args: RunArgs) -> anyhow::Result<ExitCode> {
    let catalogue = load_catalogue(root, args.implementations.clone())?;
    let files = if args.scenarios.is_empty() { default_scenarios(root)? } else { args.scenarios.clone() };
    let loaded = plan::load(&files, &catalogue.implementations)?;

    // Paths from the command line are relative to the current directory; children run in the root.
    let results_dir = absolute(&args.results.clone().unwrap_or_else(|| root.join("results")))?;
    prepare_results_dir(&results_dir)?;
    let python = match &args.python {
        Some(python) if python.components().count() > 1 => absolute(python)?,
        Some(python) => python.clone(),
        None => root.join("python_impl/.venv/bin/python"),
    };
    let bin_dir =
        std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)).unwrap_or_else(|| root.join("target/release"));
    let ctx = PlanContext {
        root: root.to_path_buf(),
        bin_dir,
        python: python.clone(),
        cache_dir: results_dir.join(".cache"),
        quick: args.quick,
        repetitions: args.repetitions,
        warmup: args.warmup,
    };
    let plan = plan::build(&loaded, &catalogue.implementations, &ctx)?;
    let catalogue_path = args.implementations.clone().unwrap_or_else(|| root.join("scenarios").join("implementations.yaml"));
    let options = shard::PlanOptions { quick: args.quick, repetitions: args.repetitions, warmup: args.warmup };
    let fingerprint = shard::fingerprint(root, &catalogue_path, &files, options)?;
    let shard_ref = shard::resolve(args.shard.as_deref(), args.shard_count, &|name| std::env::var(name).ok())?;
    let (plan, shard_block) = match shard_ref {
        Some(s) => {
            let (part, block) = shard::select(&plan, s, &fingerprint);
            eprintln!("shard {s}: {} of the plan's {} scenario point(s)", block.points.len(), block.partition.len());
            (part, Some(block))
        }
        None => (plan, None),
    };
    refuse_unavailable(&plan, args.keep_going)?;
    // Every run is started by the launcher: without it nothing can be measured.
    crate::runner::launcher_path().map_err(|message| anyhow::anyhow!(message))?;
    let runs = execute::count_runs(&plan);
    if runs > MAX_RUNS {
        bail!("the scenarios ask for {runs} runs, more than {MAX_RUNS}: lower repetitions, warmup or the number of sweep points");
    }

    let run_dir = match &args.out {
        Some(dir) => prepare_out_dir(&absolute(dir)?)?,
        None => {
            execute::create_run_dir(&results_dir).with_context(|| format!("cannot create a run directory in {}", results_dir.display()))?
        }
    };
    execute::check_writable(&run_dir).with_context(|| format!("{} does not take writes (full or read-only?)", run_dir.display()))?;
    records::write_json_atomic(&run_dir.join(PLAN_JSON), &shard::PlanFile { plan: plan.clone(), shard: shard_block })?;

    let mut env = environment::collect(root, &python, std::env::args().collect());
    env.plan_fingerprint = Some(fingerprint);
    env.shard = shard_ref;
    records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
    eprintln!("results: {}", run_dir.display());

    let probe = (!args.no_probes).then_some(args.probe_array_mib);
    let (totals, signal, env) = execute_with_signals(&plan, root, &run_dir, env, probe)?;

    finish_environment(&run_dir, env, &totals)?;
    if args.out.is_none() {
        if let Err(e) = execute::point_latest_at(&results_dir, &run_dir) {
            eprintln!("warning: could not point {} at this run: {e}", results_dir.join("latest").display());
        }
    }
    let rendered =
        report::render(&run_dir).with_context(|| format!("rendering the report (the raw records are safe in {})", run_dir.display()))?;
    print!("{}", rendered.terminal_summary);
    println!("report: {}", run_dir.join(report::REPORT_MD).display());
    if let Some(signal) = signal {
        eprintln!("interrupted: the report covers the runs that finished");
        return Ok(ExitCode::from(128 + signal as u8));
    }
    Ok(check_exit(args.check, &rendered))
}

/// Stops before anything runs when an implementation that is not optional cannot run, naming
/// what is missing and the command that fixes it (unless --keep-going).
fn refuse_unavailable(plan: &Plan, keep_going: bool) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for scenario in &plan.scenarios {
        for implementation in &scenario.implementations {
            match &implementation.unavailable {
                Some(why)
                    if !implementation.optional && !problems.iter().any(|(name, _): &(String, String)| name == &implementation.name) =>
                {
                    problems.push((implementation.name.clone(), why.clone()));
                }
                Some(why) if implementation.optional => {
                    eprintln!(
                        "note: optional implementation '{}' is unavailable and will be marked so in the report: {why}",
                        implementation.name
                    )
                }
                _ => {}
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.iter().map(|(name, why)| format!("  {name}: {why}")).collect();
    if keep_going {
        eprintln!("warning: running without these (--keep-going); the report marks them unavailable:\n{}", list.join("\n"));
        Ok(())
    } else {
        bail!("some implementations cannot run:\n{}\n(fix the above, or pass --keep-going to run the others)", list.join("\n"))
    }
}

/// The most runs one `orchestrator run` makes (the list of them is held in memory).
const MAX_RUNS: u64 = 1_000_000;

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("the absolute path of {}", path.display()))
}

/// Creates the results directory and proves it takes writes before anything is prepared or run:
/// a read-only or full disk is reported now, not after an hour of measuring.
fn prepare_results_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the results directory {}", dir.display()))?;
    execute::check_writable(dir)
        .with_context(|| format!("the results directory {} does not take writes (full or read-only?)", dir.display()))
}

fn prepare_out_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.next().is_none();
        if !empty {
            bail!("--out {}: the directory is not empty (a run never overwrites another)", dir.display());
        }
    } else {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(dir.to_path_buf())
}

/// Runs the plan on a blocking thread while a tokio task listens for SIGINT and SIGTERM: the first
/// one cancels the run in progress (its process group is killed), keeps every finished row, and
/// makes the command exit 128 + signal once the report of what exists is written.
///
/// The probes run first on the same thread, so a signal during them is caught too: the run then
/// stops before its first child, and what exists is still reported.
fn execute_with_signals(
    plan: &Plan,
    root: &Path,
    run_dir: &Path,
    mut env: Environment,
    probe_array_mib: Option<u64>,
) -> anyhow::Result<(execute::Totals, Option<i32>, Environment)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    let cancel = CancelToken::new();
    let received = Arc::new(AtomicI32::new(0));
    let (plan, root, run_dir) = (plan.clone(), root.to_path_buf(), run_dir.to_path_buf());
    let (totals, env) = runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        let (watch_cancel, watch_received) = (cancel.clone(), received.clone());
        let listener = tokio::spawn(async move {
            let signal = tokio::select! {
                _ = interrupt.recv() => libc::SIGINT,
                _ = terminate.recv() => libc::SIGTERM,
            };
            watch_received.store(signal, Ordering::SeqCst);
            eprintln!("\n{}: stopping the run in progress and keeping what was measured…", execute::signal_name(signal));
            watch_cancel.cancel();
        });
        let work = tokio::task::spawn_blocking(move || {
            if let Some(array_mib) = probe_array_mib.filter(|_| !cancel.is_cancelled()) {
                eprintln!("measuring the machine: memory bandwidth and the spawn floor (--no-probes skips this)…");
                probe_machine(&mut env, array_mib);
                records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
            }
            let mut progress = Progress::new(&plan);
            let totals = execute::execute(&plan, &root, &run_dir, &cancel, |event| progress.update(event));
            progress.finish();
            anyhow::Ok((totals?, env))
        });
        let outcome = work.await.context("the measuring thread failed")?;
        listener.abort();
        outcome
    })?;
    let signal = match received.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    };
    Ok((totals, signal, env))
}

/// The machine's own limits, measured before any run: memory read bandwidth (1 thread and all)
/// and the spawn floor. A probe that fails is a warning, not a reason to measure nothing.
fn probe_machine(env: &mut Environment, array_mib: u64) {
    let bytes_per_array = usize::try_from(array_mib << 20).unwrap_or(probes::DEFAULT_BYTES_PER_ARRAY);
    match probes::measure_bandwidth_with(bytes_per_array) {
        Ok(bandwidth) => {
            env.bandwidth_single_thread_bytes_per_second = Some(bandwidth.single_thread_bytes_per_second());
            env.bandwidth_all_threads_bytes_per_second = Some(bandwidth.all_threads_bytes_per_second());
            env.bandwidth = Some(bandwidth);
        }
        Err(e) => eprintln!("warning: the memory bandwidth could not be measured: {e}"),
    }
    let interval = std::time::Duration::from_millis(plan::DEFAULT_SAMPLE_INTERVAL_MS);
    match probes::spawn_floor(probes::DEFAULT_SPAWN_FLOOR_RUNS, Some(interval)) {
        Ok(floor) => {
            env.spawn_floor_seconds = Some(floor.median_wall_seconds);
            env.spawn_floor = Some(floor);
        }
        Err(e) => eprintln!("warning: the spawn floor could not be measured: {e}"),
    }
    if let (Some(python), Some(_)) = (env.python_command.clone(), env.numpy_version.as_ref()) {
        env.numpy_import_profile = import_profile::profile(&python, "numpy");
    }
}

fn finish_environment(run_dir: &Path, mut env: Environment, totals: &execute::Totals) -> anyhow::Result<()> {
    env.ended_utc = Some(environment::utc_now());
    env.load_average_end = environment::load_average();
    env.sampler_cpu_seconds = totals.sampler_cpu_seconds;
    env.sampled_wall_seconds = totals.sampled_wall_seconds;
    env.interrupted = totals.interrupted;
    records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
    Ok(())
}

/// Progress on stderr: a bar with the scenario, point, implementation, repetition and ETA on a
/// terminal; plain lines (one per scenario point, and one per failed run) otherwise.
struct Progress {
    bar: ProgressBar,
    plain: bool,
    last_point: Option<(usize, usize)>,
}

impl Progress {
    fn new(plan: &Plan) -> Self {
        let total = execute::count_runs(plan);
        let plain = !std::io::stderr().is_terminal();
        let bar = if plain { ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()) } else { ProgressBar::new(total) };
        let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress { bar, plain, last_point: None }
    }

    fn say(&self, line: String) {
        if self.plain {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn update(&mut self, event: RunEvent<'_>) {
        let point = &event.scenario.points[event.step.point];
        let implementation = &event.scenario.implementations[event.step.implementation].name;
        if self.last_point != Some((event.step.scenario, event.step.point)) {
            self.last_point = Some((event.step.scenario, event.step.point));
            if self.plain {
                self.say(format!(
                    "[{}/{}] {} · point {}/{} · {}",
                    event.index + 1,
                    event.total,
                    event.scenario.name,
                    point.index + 1,
                    event.scenario.points.len(),
                    point.label
                ));
            }
        }
        let what = match event.record {
            None => "warm-up".to_string(),
            Some(r) => format!("rep {}/{}", r.repetition, event.scenario.measure.repetitions),
        };
        self.bar.set_message(format!("{} · {} · {implementation} · {what}", event.scenario.name, point.label));
        self.bar.inc(1);
        if let Some(record) = event.record.filter(|r| !matches!(r.status, RunStatus::Ok | RunStatus::Diverged)) {
            let first_line = record.message.lines().next().unwrap_or("");
            self.say(format!(
                "  {} {} {implementation} rep {}: {}: {first_line}",
                event.scenario.name, point.label, record.repetition, record.status
            ));
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
