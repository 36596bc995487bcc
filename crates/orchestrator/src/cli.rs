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
use crate::lock::DirLock;
use crate::measurement::RunStatus;
use crate::plan::{self, Plan, PlanContext};
use crate::records::{self, ENVIRONMENT_JSON, PLAN_JSON};
use crate::runner::CancelToken;
use crate::{binaries, compare, eta, import_profile, merge, probes, report, scenario, shard};

// Printing never panics (println! does, on a closed pipe): a reader that went away (`| head`,
// a closed terminal: EPIPE, EIO) loses the lines, never the run. SIGPIPE is ignored by Rust
// programs, so a write to a closed pipe returns EPIPE rather than killing the process.
macro_rules! out {
    ($($arg:tt)*) => {{ use std::io::Write as _; let _ = write!(std::io::stdout(), $($arg)*); }};
}
macro_rules! outln {
    ($($arg:tt)*) => {{ use std::io::Write as _; let _ = writeln!(std::io::stdout(), $($arg)*); }};
}
macro_rules! errln {
    ($($arg:tt)*) => {{ use std::io::Write as _; let _ = writeln!(std::io::stderr(), $($arg)*); }};
}

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
    /// Skip measuring the machine (bandwidth, compute ceiling, spawn floor, sampler cost) at the start
    #[arg(long)]
    no_probes: bool,
    /// Size of each of the two arrays the bandwidth probe streams at its largest working set; keep
    /// it well above the largest CPU cache
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
/// setup problem found before anything ran, 3 stopped after runs had started (the results could
/// not be written: a full disk), 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.
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
            errln!("error: {}", error_text(&e));
            ExitCode::from(if e.downcast_ref::<StoppedPartWay>().is_some() { 3 } else { 2 })
        }
    }
}

/// The context of an error after the first run started (exit code 3): the results are
/// incomplete, unlike an error of exit code 2, found before anything ran.
#[derive(Debug)]
struct StoppedPartWay(PathBuf);

impl std::fmt::Display for StoppedPartWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped after runs had started ({} keeps what was written)", self.0.display())
    }
}

/// The error and its causes, each said once: a library error that shows its source in its own
/// message (a path and its I/O error) is not followed by that source again.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
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
            out!("{}", rendered.terminal_summary);
            outln!("report: {}", run_dir.join(report::REPORT_MD).display());
            Ok(check_exit(check, &rendered))
        }
        Command::Merge(args) => {
            // The output directory is claimed once the shards are checked, and held while it is written.
            let mut claim = None;
            let (out, rendered) = merge::merge_command(&args, std::env::args().collect(), |out| {
                let dir = absolute(out)?;
                claim = Some(DirLock::claim(&dir, &[]).map_err(|e| anyhow::anyhow!("--out {e}"))?);
                Ok(dir)
            })?;
            drop(claim);
            print!("{}", rendered.terminal_summary);
            outln!("report: {}", out.join(report::REPORT_MD).display());
            Ok(check_exit(args.check, &rendered))
        }
        Command::Machines { runs, out, check } => {
            let across = crate::across::analyse(&runs)?;
            let text = crate::across::render(&across, &out)?;
            print!("{text}");
            outln!("report: {}", out.join(crate::across::ACROSS_MD).display());
            Ok(if check && !crate::across::all_hold(&across) { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Compare { old_run, new_run, threshold } => {
            let outcome = compare::compare_runs(&old_run, &new_run, threshold)?;
            out!("{}", outcome.text);
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
    note_overrides(&loaded, &catalogue);
    for l in &loaded {
        let points = l.file.sweep.as_ref().map_or(1, |s| s.value.len());
        outln!(
            "ok  {}  (scenario '{}', {} implementation(s), {} point(s))",
            l.path.display(),
            l.file.name.value,
            l.file.implementations.value.len(),
            points
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Says which catalogue entries a scenario replaces: its results carry the catalogue's name.
fn note_overrides(loaded: &[plan::Loaded], catalogue: &scenario::ImplementationsFile) {
    for l in loaded {
        for name in scenario::overridden(&l.file, &catalogue.implementations) {
            errln!("note: scenario '{}' replaces the catalogue's '{name}' with its own definition (override: true)", l.file.name.value);
        }
    }
}

/// --check fails when a claim did not hold, and when one could not be judged at all (an
/// implementation it names has no measurement): a claim nobody checked is not a claim that held.
fn check_exit(check: bool, rendered: &report::Rendered) -> ExitCode {
    if !check || rendered.claims_not_held + rendered.claims_without_data == 0 {
        return ExitCode::SUCCESS;
    }
    if rendered.claims_not_held > 0 {
        errln!("--check: {} claim(s) did not hold (see the Claims section of the report)", rendered.claims_not_held);
    }
    if rendered.claims_without_data > 0 {
        errln!(
            "--check: {} claim(s) without data: an implementation they name has no ok or diverged run there (see raw.csv)",
            rendered.claims_without_data
        );
    }
    ExitCode::from(1)
}

fn run(root: &Path, args: RunArgs) -> anyhow::Result<ExitCode> {
    let signals = Signals::listen()?;
    let catalogue = load_catalogue(root, args.implementations.clone())?;
    let files = if args.scenarios.is_empty() { default_scenarios(root)? } else { args.scenarios.clone() };
    let mut loaded = plan::load(&files, &catalogue.implementations)?;
    if args.scenarios.is_empty() {
        plan::sort_by_declared_order(&mut loaded);
    }
    note_overrides(&loaded, &catalogue);

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
        cancel: signals.cancel.clone(),
    };
    let built = plan::build(&loaded, &catalogue.implementations, &ctx);
    if let Some(signal) = signals.received() {
        errln!("interrupted while preparing the datasets and checks: nothing ran, no run directory was made");
        return Ok(interrupted_exit(signal));
    }
    let plan = built?;
    let catalogue_path = args.implementations.clone().unwrap_or_else(|| root.join("scenarios").join("implementations.yaml"));
    let options = shard::PlanOptions { quick: args.quick, repetitions: args.repetitions, warmup: args.warmup };
    let fingerprint = shard::fingerprint(root, &catalogue_path, &files, options)?;
    let shard_ref = shard::resolve(args.shard.as_deref(), args.shard_count, &|name| std::env::var(name).ok())?;
    let (plan, shard_block) = match shard_ref {
        Some(s) => {
            let (part, block) = shard::select(&plan, s, &fingerprint);
            errln!("shard {s}: {} of the plan's {} scenario point(s)", block.points.len(), block.partition.len());
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

    // Held to the end of the run: no other run can write into this directory meanwhile.
    let (run_dir, _claim) = match &args.out {
        Some(dir) => {
            let dir = absolute(dir)?;
            // `--out X --results X`: the dataset cache just made in X is no earlier run.
            let is_results_dir = dir.canonicalize().ok().is_some_and(|d| results_dir.canonicalize().ok() == Some(d));
            let cache = ctx.cache_dir.file_name().filter(|_| is_results_dir);
            let claim = DirLock::claim(&dir, cache.as_slice()).map_err(|e| anyhow::anyhow!("--out {e}"))?;
            (dir, Some(claim))
        }
        None => {
            let dir = execute::create_run_dir(&results_dir)
                .with_context(|| format!("cannot create a run directory in {}", results_dir.display()))?;
            (dir, None)
        }
    };
    execute::check_writable(&run_dir).with_context(|| format!("{} does not take writes (full or read-only?)", run_dir.display()))?;
    records::write_json_atomic(&run_dir.join(PLAN_JSON), &shard::PlanFile { plan: plan.clone(), shard: shard_block })?;

    let mut env = environment::collect(root, &python, std::env::args().collect());
    env.binaries = measured_binaries(&plan);
    env.plan_fingerprint = Some(fingerprint);
    env.shard = shard_ref;
    records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
    errln!("results: {}", run_dir.display());

    let probe = (!args.no_probes).then_some(args.probe_array_mib);
    let part_way = |e: anyhow::Error| e.context(StoppedPartWay(run_dir.clone()));
    let (totals, env) = execute_plan(&plan, root, &run_dir, env, probe, &signals.cancel).map_err(part_way)?;

    finish_environment(&run_dir, env, &totals).map_err(part_way)?;
    if args.out.is_none() {
        if let Err(e) = execute::point_latest_at(&results_dir, &run_dir) {
            errln!("warning: could not point {} at this run: {e}", results_dir.join("latest").display());
        }
    }
    let rendered = report::render(&run_dir)
        .with_context(|| format!("rendering the report (the raw records are safe in {})", run_dir.display()))
        .map_err(part_way)?;
    out!("{}", rendered.terminal_summary);
    outln!("report: {}", run_dir.join(report::REPORT_MD).display());
    if let Some(signal) = signals.received() {
        errln!("interrupted: the report covers the runs that finished");
        return Ok(interrupted_exit(signal));
    }
    Ok(check_exit(args.check, &rendered))
}

/// Stops before anything runs when an implementation that is not optional cannot run, naming
/// what is missing and the command that fixes it (unless --keep-going).
/// How each program the plan runs is linked (the first word of each command, PATH resolved),
/// the launcher included: part of what is measured.
fn measured_binaries(plan: &Plan) -> Vec<binaries::Binary> {
    let mut programs: Vec<PathBuf> = crate::runner::launcher_path().map(Path::to_path_buf).into_iter().collect();
    for implementation in plan.scenarios.iter().flat_map(|s| &s.implementations) {
        let Some(program) = implementation.command.first() else { continue };
        let path = if program.contains('/') {
            Some(PathBuf::from(program))
        } else {
            std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()))
        };
        if let Some(path) = path.filter(|p| !programs.contains(p)) {
            programs.push(path);
        }
    }
    programs.iter().map(|p| binaries::inspect(p)).collect()
}

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
                    errln!(
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
        errln!("warning: running without these (--keep-going); the report marks them unavailable:\n{}", list.join("\n"));
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

/// SIGINT, SIGTERM and SIGHUP, caught from the start of `run` to its end by a thread of their own.
/// The first one cancels whatever is in progress — the datasets being prepared, an availability
/// check, the probes or a run (its process group is killed) — and makes the command exit
/// 128 + signal once what exists is written. Later ones are caught and ignored.
struct Signals {
    cancel: CancelToken,
    received: Arc<AtomicI32>,
}

impl Signals {
    fn listen() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the signal listener")?;
        // Registered here, before anything starts: a signal from now on is caught, not fatal. A
        // signal ignored on entry stays ignored (`nohup`, a background job of a script).
        let listen = |kind: SignalKind, number: i32| -> anyhow::Result<Option<tokio::signal::unix::Signal>> {
            if is_ignored(number) {
                return Ok(None);
            }
            let _entered = runtime.enter();
            Ok(Some(signal(kind).with_context(|| format!("listening for {}", execute::signal_name(number)))?))
        };
        let mut interrupt = listen(SignalKind::interrupt(), libc::SIGINT)?;
        let mut terminate = listen(SignalKind::terminate(), libc::SIGTERM)?;
        let mut hangup = listen(SignalKind::hangup(), libc::SIGHUP)?;
        let (cancel, received) = (CancelToken::new(), Arc::new(AtomicI32::new(0)));
        let (watch_cancel, watch_received) = (cancel.clone(), received.clone());
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let signal = tokio::select! {
                        _ = delivered(&mut interrupt) => libc::SIGINT,
                        _ = delivered(&mut terminate) => libc::SIGTERM,
                        _ = delivered(&mut hangup) => libc::SIGHUP,
                    };
                    watch_received.store(signal, Ordering::SeqCst);
                    errln!("\n{}: stopping what is in progress and keeping what was measured…", execute::signal_name(signal));
                    watch_cancel.cancel();
                })
            })
            .context("starting the signal listener")?;
        Ok(Signals { cancel, received })
    }

    fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}

/// Whether `signal` is ignored (SIG_IGN), as `nohup` leaves SIGHUP.
fn is_ignored(signal: i32) -> bool {
    // SAFETY: sigaction with no new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The next delivery of a signal listened for; never, for one left ignored.
async fn delivered(listener: &mut Option<tokio::signal::unix::Signal>) {
    match listener {
        Some(listener) => {
            listener.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
fn interrupted_exit(signal: i32) -> ExitCode {
    ExitCode::from(u8::try_from(128 + signal).unwrap_or(255))
}

/// Probes the machine (unless told not to), then runs the plan. A signal during the probes is
/// caught too: the run then stops before its first child, and what exists is still reported.
fn execute_plan(
    plan: &Plan,
    root: &Path,
    run_dir: &Path,
    mut env: Environment,
    probe_array_mib: Option<u64>,
    cancel: &CancelToken,
) -> anyhow::Result<(execute::Totals, Environment)> {
    if let Some(array_mib) = probe_array_mib.filter(|_| !cancel.is_cancelled()) {
        errln!("measuring the machine: bandwidth, compute ceiling, spawn floor, sampler cost (--no-probes skips this)…");
        probe_machine(&mut env, array_mib);
        records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
    }
    let mut progress = Progress::new(plan);
    let totals = execute::execute(plan, root, run_dir, cancel, |event| progress.update(event));
    progress.finish();
    Ok((totals?, env))
}

/// The machine's own limits, measured before any run: read bandwidth against working-set size (1
/// thread and all), the compute ceiling, the spawn floor and the sampler's cost on a child using
/// every CPU. A probe that fails is a warning, not a reason to measure nothing.
fn probe_machine(env: &mut Environment, array_mib: u64) {
    let started = std::time::Instant::now();
    let bytes_per_array = usize::try_from(array_mib << 20).unwrap_or(probes::DEFAULT_BYTES_PER_ARRAY);
    match probes::measure_bandwidth_curve(bytes_per_array) {
        Ok(curve) => {
            env.bandwidth_single_thread_bytes_per_second = curve.memory_bytes_per_second(false);
            env.bandwidth_all_threads_bytes_per_second = curve.memory_bytes_per_second(true);
            env.bandwidth_curve = Some(curve);
        }
        Err(e) => errln!("warning: the memory bandwidth could not be measured: {e}"),
    }
    match probes::measure_compute_ceiling() {
        Ok(ceiling) => env.compute_ceiling = Some(ceiling),
        Err(e) => errln!("warning: the compute ceiling could not be measured: {e}"),
    }
    let interval = std::time::Duration::from_millis(plan::DEFAULT_SAMPLE_INTERVAL_MS);
    match probes::spawn_floor(probes::DEFAULT_SPAWN_FLOOR_RUNS, Some(interval)) {
        Ok(floor) => {
            env.spawn_floor_seconds = Some(floor.median_wall_seconds);
            env.spawn_floor = Some(floor);
        }
        Err(e) => errln!("warning: the spawn floor could not be measured: {e}"),
    }
    if let (Some(python), Some(_)) = (env.python_command.clone(), env.numpy_version.as_ref()) {
        env.numpy_import_profile = import_profile::profile(&python, "numpy");
    }
    // The busy child is the workspace's fixture, built beside the orchestrator.
    match std::env::current_exe().map(|exe| exe.with_file_name("fixture-child")) {
        Ok(child) if child.is_file() => match probes::measure_sampler_cost(&child, interval) {
            Ok(cost) => env.sampler_cost = Some(cost),
            Err(e) => errln!("warning: the sampler's cost could not be measured: {e}"),
        },
        _ => errln!("note: no fixture-child beside the orchestrator (`make build` builds it): the sampler's cost is not measured"),
    }
    env.probe_seconds = Some(started.elapsed().as_secs_f64());
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
/// terminal; plain lines (one per scenario point, and one per failed run) otherwise. The ETA
/// prices the runs left by what finished runs cost ([`eta::Eta`]), not by their count.
struct Progress {
    bar: ProgressBar,
    plain: bool,
    last_point: Option<(usize, usize)>,
    eta: eta::Eta,
}

impl Progress {
    fn new(plan: &Plan) -> Self {
        let total = execute::count_runs(plan);
        let plain = !std::io::stderr().is_terminal();
        let bar = if plain { ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()) } else { ProgressBar::new(total) };
        let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} ETA {prefix} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let eta = eta::Eta::new(plan);
        bar.set_prefix(eta::duration_words(eta.remaining_seconds()));
        Progress { bar, plain, last_point: None, eta }
    }

    fn say(&self, line: String) {
        if self.plain {
            errln!("{line}");
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
        self.eta.finished(event.step, event.wall_seconds);
        self.bar.set_prefix(eta::duration_words(self.eta.remaining_seconds()));
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
