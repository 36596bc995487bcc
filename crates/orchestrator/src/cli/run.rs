//! `orchestrator run`: scenarios loaded, the plan built (and sharded), the results directory and
//! the run directory set up, the machine probed, the plan executed and the report rendered.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::args::RunArgs;
use super::between::Between;
use super::lock::DirLock;
use super::probe::probe_machine;
use super::progress::Progress;
use super::project::{absolute, default_scenarios, load_catalogue, note_overrides};
use super::signals::Signals;
use super::{check_exit, interrupted_exit, StoppedPartWay};
use crate::analysis::conditions::BUSY_OTHER_SHARE;
use crate::environment::binaries;
use crate::environment::other_work::CpuSnapshot;
use crate::environment::{self, Environment};
use crate::execute::Event;
use crate::measure::CancelToken;
use crate::plan::shard::{self, ShardBlock, ShardRef};
use crate::plan::{self, Loaded, Plan, PlanContext};
use crate::records::{self, ENVIRONMENT_JSON, PLAN_JSON};
use crate::scenario::ImplementationsFile;
use crate::{execute, report, run_dir};

/// A signal before the run directory was claimed: nothing ran and nothing was written.
fn interrupted_while_preparing(signal: i32, what: &str) -> ExitCode {
    errln!("interrupted while preparing {what}: nothing ran, no run directory was made");
    interrupted_exit(signal)
}

pub(super) fn run(root: &Path, args: RunArgs) -> anyhow::Result<ExitCode> {
    let signals = Signals::listen()?;
    let scenarios = load_scenarios(root, &args)?;
    // Before any dataset is prepared or implementation checked: a shard that cannot be, a plan
    // over the cap, a CPU or a data file that is not there.
    let shard_ref = shard::resolve(args.shard.as_deref(), args.shard_count, &|name| std::env::var(name).ok())?;
    plan::check(&scenarios.loaded, plan_options(&args), args.shard.is_none())?;

    // Paths from the command line are relative to the current directory; children run in the root.
    let results_dir = absolute(&args.results.clone().unwrap_or_else(|| root.join("results")))?;
    prepare_results_dir(&results_dir)?;
    let ctx = plan_context(root, &args, &results_dir, &signals.cancel)?;
    let built = plan::build(&scenarios.loaded, &scenarios.catalogue.implementations, &ctx);
    if let Some(signal) = signals.received() {
        return Ok(interrupted_while_preparing(signal, "the datasets and checks"));
    }
    let mut sharded = shard_plan(root, &args, &scenarios.files, built?, shard_ref)?;
    check_runnable(&sharded.plan, args.keep_going)?;
    plan::references::attach(&mut sharded.plan, &signals.cancel);
    // The reference fits read every dataset (up to 2·10^9 point-epochs a point): a signal there
    // stops before any directory is made, as one while the datasets are prepared does.
    if let Some(signal) = signals.received() {
        return Ok(interrupted_while_preparing(signal, "the reference fits"));
    }

    // Held to the end of the run: no other run can write into this directory meanwhile.
    let claimed = claim_run_dir(&args, &results_dir, &ctx)?;
    let run_dir = &claimed.path;
    let (plan, shard_block, env) = write_plan_and_environment(root, &ctx.python, run_dir, sharded, args.machine_label.clone())?;

    let probe = (!args.no_probes).then(|| {
        args.probe_array_mib.unwrap_or_else(|| {
            let llc = env.machine.as_ref().and_then(|m| m.last_level_cache_bytes());
            crate::environment::probes::default_array_mib(llc, env.memory_total_bytes)
        })
    });
    let part_way = |e: anyhow::Error| e.context(StoppedPartWay(run_dir.clone()));
    let cpu_at_start = CpuSnapshot::take();
    let (totals, env) = execute_plan(&plan, root, run_dir, env, probe, &signals.cancel).map_err(part_way)?;
    record_prepared(plan, shard_block, &totals, run_dir).map_err(part_way)?;

    finish_environment(run_dir, env, &totals, cpu_at_start).map_err(part_way)?;
    if args.out.is_none() {
        if let Err(e) = run_dir::point_latest_at(&results_dir, run_dir) {
            errln!("warning: could not point {} at this run: {e}", results_dir.join(run_dir::LATEST).display());
        }
    }
    let rendered = report::render(run_dir).with_context(|| rendering_failed(run_dir)).map_err(part_way)?;
    super::show_rendered(&rendered, run_dir);
    if let Some(signal) = signals.received() {
        errln!("interrupted: the report covers the runs that finished");
        return Ok(interrupted_exit(signal));
    }
    Ok(check_exit(args.check, &rendered))
}

/// What a report that could not be rendered leaves: raw.csv, said only if it is there.
fn rendering_failed(run_dir: &Path) -> String {
    let raw = run_dir.join(records::RAW_CSV);
    if raw.is_file() {
        format!("rendering the report (the raw records are in {})", raw.display())
    } else {
        format!("rendering the report ({} is missing: deleted from outside the orchestrator?)", raw.display())
    }
}

/// The scenario files to run, parsed and validated against the catalogue.
struct Scenarios {
    catalogue: ImplementationsFile,
    /// As given, or every scenarios/*.yaml.
    files: Vec<PathBuf>,
    /// In the order they run: the user's, or by each scenario's `order:` in a default run.
    loaded: Vec<Loaded>,
}

fn load_scenarios(root: &Path, args: &RunArgs) -> anyhow::Result<Scenarios> {
    let catalogue = load_catalogue(root, args.implementations.clone())?;
    let files = if args.scenarios.is_empty() { default_scenarios(root)? } else { args.scenarios.clone() };
    let mut loaded = plan::load(&files, &catalogue.implementations)?;
    if args.scenarios.is_empty() {
        plan::sort_by_declared_order(&mut loaded);
    }
    note_overrides(&loaded, &catalogue);
    Ok(Scenarios { catalogue, files, loaded })
}

/// Where the plan's files are and what the command line overrides.
fn plan_context(root: &Path, args: &RunArgs, results_dir: &Path, cancel: &CancelToken) -> anyhow::Result<PlanContext> {
    let python = match &args.python {
        Some(python) if python.components().count() > 1 => absolute(python)?,
        Some(python) => python.clone(),
        None => root.join("python_impl/.venv/bin/python"),
    };
    let bin_dir =
        std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)).unwrap_or_else(|| root.join("target/release"));
    Ok(PlanContext {
        root: root.to_path_buf(),
        bin_dir,
        python,
        cache_dir: results_dir.join(run_dir::DATASET_CACHE),
        quick: args.quick,
        repetitions: args.repetitions,
        warmup: args.warmup,
        cancel: cancel.clone(),
    })
}

/// The plan this run executes: the whole plan, or its shard's part with the `shard` block.
struct ShardedPlan {
    plan: Plan,
    fingerprint: String,
    shard: Option<ShardRef>,
    block: Option<ShardBlock>,
}

/// What the command line overrides of the scenarios' plan.
fn plan_options(args: &RunArgs) -> shard::PlanOptions {
    shard::PlanOptions { quick: args.quick, repetitions: args.repetitions, warmup: args.warmup }
}

fn shard_plan(root: &Path, args: &RunArgs, files: &[PathBuf], plan: Plan, shard_ref: Option<ShardRef>) -> anyhow::Result<ShardedPlan> {
    let catalogue_path = args.implementations.clone().unwrap_or_else(|| root.join("scenarios").join("implementations.yaml"));
    let fingerprint = shard::fingerprint(root, &catalogue_path, files, plan_options(args))?;
    let (plan, shard_block) = match shard_ref {
        Some(s) => {
            let (part, block) = shard::select(&plan, s, &fingerprint);
            errln!("shard {s}: {} of the plan's {} scenario point(s)", block.points.len(), block.partition.len());
            (part, Some(block))
        }
        None => (plan, None),
    };
    Ok(ShardedPlan { plan, fingerprint, shard: shard_ref, block: shard_block })
}

/// Stops before anything runs when the plan cannot run: an implementation missing, no
/// launcher, too many runs.
fn check_runnable(plan: &Plan, keep_going: bool) -> anyhow::Result<()> {
    refuse_unavailable(plan, keep_going)?;
    // Every run is started by the launcher: without it nothing can be measured.
    crate::measure::launcher_path().map_err(|message| anyhow::anyhow!(message))?;
    // Counted before the datasets were prepared for a whole plan; a shard's part is known now.
    plan::check_run_count(execute::count_runs(plan), "this shard's part of the plan")
}

/// The run directory, and the claim on it when it was given with `--out`.
struct RunDir {
    path: PathBuf,
    _claim: Option<DirLock>,
}

/// `--out`, claimed, or a new results/<UTC time>; either proved to take writes.
fn claim_run_dir(args: &RunArgs, results_dir: &Path, ctx: &PlanContext) -> anyhow::Result<RunDir> {
    let (run_dir, claim) = match &args.out {
        Some(dir) => {
            let dir = absolute(dir)?;
            // `--out X --results X`: the dataset cache just made in X is no earlier run.
            let is_results_dir = dir.canonicalize().ok().is_some_and(|d| results_dir.canonicalize().ok() == Some(d));
            let cache = ctx.cache_dir.file_name().filter(|_| is_results_dir);
            let claim = DirLock::claim(&dir, cache.as_slice()).map_err(|e| anyhow::anyhow!("--out {e}"))?;
            (dir, Some(claim))
        }
        None => {
            let dir = run_dir::create_run_dir(results_dir)
                .with_context(|| format!("cannot create a run directory in {}", results_dir.display()))?;
            (dir, None)
        }
    };
    run_dir::check_writable(&run_dir).with_context(|| format!("{} does not take writes (full or read-only?)", run_dir.display()))?;
    Ok(RunDir { path: run_dir, _claim: claim })
}

/// plan.json and a first environment.json, written before the first run.
fn write_plan_and_environment(
    root: &Path,
    python: &Path,
    run_dir: &Path,
    sharded: ShardedPlan,
    machine_label: Option<String>,
) -> anyhow::Result<(Plan, Option<ShardBlock>, Environment)> {
    let ShardedPlan { plan, fingerprint, shard: shard_ref, block: shard_block } = sharded;
    records::write_json_atomic(&run_dir.join(PLAN_JSON), &shard::PlanFile { plan: plan.clone(), shard: shard_block.clone() })?;

    let mut env = environment::collect(root, python, std::env::args().collect(), machine_label);
    env.binaries = measured_binaries(&plan);
    env.plan_fingerprint = Some(fingerprint);
    env.shard = shard_ref;
    records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
    errln!("results: {}", run_dir.display());
    Ok((plan, shard_block, env))
}

/// Said at once rather than only in the report at the end: other processes took more than
/// [`BUSY_OTHER_SHARE`] of the CPUs while the machine's probes ran (a few seconds, before the
/// first run; none said where they took less than a second). A reviewer's run beside another
/// session's busy process found the medians themselves moved (numba's parallel fits 11–16 s),
/// not only their spread.
fn warn_if_busy(since: Option<CpuSnapshot>) {
    if let Some(warning) = busy_warning(since.and_then(|s| s.other_share_since())) {
        errln!("{warning}");
    }
}

/// The warning for other processes' `share` of the CPUs, when above [`BUSY_OTHER_SHARE`].
fn busy_warning(share: Option<f64>) -> Option<String> {
    share.filter(|share| *share > BUSY_OTHER_SHARE).map(|share| {
        format!(
            "warning: the machine is busy: other processes used {} of its CPUs while it was probed; \
             its figures will spread more and its medians may move (multi-threaded ones most): for a quieter measurement, \
             stop what else runs and start again",
            crate::format::percent(share)
        )
    })
}

/// plan.json written again when a pending implementation stayed unavailable after its prepare
/// command, so that it says so (as for one unavailable from the start).
fn record_prepared(mut plan: Plan, shard_block: Option<ShardBlock>, totals: &execute::Totals, run_dir: &Path) -> anyhow::Result<()> {
    let mut changed = false;
    for implementation in plan.scenarios.iter_mut().flat_map(|s| s.implementations.iter_mut()) {
        let Some(pending) = &implementation.pending else { continue };
        if let Some(Some(why)) = totals.prepared.get(&pending.key) {
            implementation.unavailable = Some(why.clone());
            changed = true;
        }
    }
    if changed {
        records::write_json_atomic(&run_dir.join(PLAN_JSON), &shard::PlanFile { plan, shard: shard_block })?;
    }
    Ok(())
}

/// How each program the plan runs is linked (the first word of each command, PATH resolved),
/// the launcher included: part of what is measured.
fn measured_binaries(plan: &Plan) -> Vec<binaries::Binary> {
    let mut programs: Vec<PathBuf> = crate::measure::launcher_path().map(Path::to_path_buf).into_iter().collect();
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

/// Stops before anything runs when an implementation that is not optional cannot run, naming
/// what is missing and the command that fixes it (unless --keep-going).
fn refuse_unavailable(plan: &Plan, keep_going: bool) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let mut noted: Vec<String> = Vec::new();
    for scenario in &plan.scenarios {
        for implementation in &scenario.implementations {
            match &implementation.unavailable {
                Some(why)
                    if !implementation.optional && !problems.iter().any(|(name, _): &(String, String)| name == &implementation.name) =>
                {
                    problems.push((implementation.name.clone(), why.clone()));
                }
                None if implementation.pending.is_some() && !noted.contains(&implementation.name) => {
                    noted.push(implementation.name.clone());
                    let prepare = implementation.pending.as_ref().map(|p| p.prepare.join(" ")).unwrap_or_default();
                    errln!(
                        "note: '{}' is not built or installed yet: `{prepare}` will prepare it right before the first scenario that runs it",
                        implementation.name
                    )
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

/// Creates the results directory and proves it takes writes before anything is prepared or run:
/// a read-only or full disk is reported now, not after an hour of measuring.
fn prepare_results_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the results directory {}", dir.display()))?;
    run_dir::check_writable(dir)
        .with_context(|| format!("the results directory {} does not take writes (full or read-only?)", dir.display()))
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
        let before_probes = CpuSnapshot::take();
        probe_machine(&mut env, array_mib, cancel);
        warn_if_busy(before_probes);
        records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
    }
    let mut progress = Progress::new(plan);
    let mut between = Between { run_dir, plan, env, started_preparing: None, probe_points: probe_array_mib.is_some() };
    let totals = execute::execute(plan, root, run_dir, cancel, |event| match event {
        Event::Preparing { implementation, pending, scenario } => between.preparing(implementation, pending, scenario, &mut progress),
        Event::Prepared { implementation, pending, scenario, seconds, unavailable } => {
            between.prepared(implementation, pending, scenario, seconds, unavailable, &mut progress)
        }
        Event::ScenarioStarts(scenario) => between.scenario_starts(scenario, &progress),
        Event::PointStarts { scenario, point } => between.point_starts(scenario, point, cancel, &progress),
        Event::PointEnds { scenario, point } => between.point_ends(scenario, point, cancel, &progress),
        Event::Run(run) => progress.update(run),
        Event::LeftOut(step) => progress.left_out(step),
        Event::ScenarioEnds { index, scenario } => between.scenario_ends(index, scenario, &progress),
    });
    progress.finish();
    let totals = totals?;
    for note in &totals.record_notes {
        errln!("warning: {note}");
    }
    Ok((totals, between.env))
}

fn finish_environment(
    run_dir: &Path,
    mut env: Environment,
    totals: &execute::Totals,
    cpu_at_start: Option<CpuSnapshot>,
) -> anyhow::Result<()> {
    env.ended_utc = Some(environment::utc_now());
    env.load_average_end = environment::load_average();
    env.other_cpu_share = cpu_at_start.and_then(|s| s.other_share_since());
    env.sampler_cpu_seconds = totals.sampler_cpu_seconds;
    env.sampled_wall_seconds = totals.sampled_wall_seconds;
    env.interrupted = totals.interrupted;
    env.binaries = env.binaries.into_iter().map(reinspect_unknown).collect();
    records::write_json_atomic(&run_dir.join(ENVIRONMENT_JSON), &env)?;
    Ok(())
}

/// A program whose linking was unknown at the start looked at again: one a prepare command built
/// between two scenarios (`make compare` builds linreg-dynamic and linreg-musl before `startup`)
/// was missing then, and the report called it "unknown (No such file or directory)" beside its
/// measurements.
fn reinspect_unknown(binary: binaries::Binary) -> binaries::Binary {
    if binary.linking.starts_with("unknown") {
        binaries::inspect(&binary.path)
    } else {
        binary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_built_after_the_start_is_looked_at_again_and_a_known_one_is_kept() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("built-later");
        let missing = binaries::inspect(&path);
        assert!(missing.linking.starts_with("unknown ("), "{missing:?}");
        // The test's own executable, an ELF file this build made, stands for the program built.
        std::fs::copy(std::env::current_exe().expect("this test's executable"), &path).expect("copied");
        let again = reinspect_unknown(missing);
        assert!(again.linking == "static" || again.linking.starts_with("dynamic ("), "{again:?}");
        assert!(again.size_bytes > 0);
        let kept = binaries::Binary { path: path.clone(), linking: "static".into(), size_bytes: 1 };
        assert_eq!(reinspect_unknown(kept.clone()), kept, "a known linking is what ran");
    }

    #[test]
    fn a_busy_machine_is_said_at_once_and_a_quiet_one_not() {
        let warning = busy_warning(Some(0.44)).expect("44% is busy");
        assert!(warning.starts_with("warning: the machine is busy: other processes used 44% of its CPUs"), "{warning}");
        assert_eq!(busy_warning(Some(0.05)), None);
        assert_eq!(busy_warning(None), None, "not measured: nothing said");
    }
}
