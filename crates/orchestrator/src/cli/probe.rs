//! Measuring the machine before any run (unless `--no-probes`): the calls into `probes` whose
//! results go into environment.json. A probe that fails is a warning; a signal stops the probes
//! at once (between two steps of one), keeping those that finished.

use crate::environment::probes::{self, ProbeError};
use crate::environment::{import_profile, Environment};
use crate::measure::CancelToken;

/// The machine's own limits, measured before any run: the spawn floor, read bandwidth against
/// working-set size (1 thread and all), the compute ceiling and the sampler's cost on a child
/// using every CPU. A probe that fails is a warning, not a reason to measure nothing; once
/// `cancel` is set no probe goes on, and what it had measured is left out.
pub(super) fn probe_machine(env: &mut Environment, array_mib: u64, cancel: &CancelToken) {
    let started = std::time::Instant::now();
    if probe_all(env, array_mib, cancel).is_err() {
        errln!("interrupted: the probes were cut short; environment.json keeps those that finished");
    }
    env.probe_seconds = Some(started.elapsed().as_secs_f64());
}

/// Each probe in turn; Err once interrupted.
fn probe_all(env: &mut Environment, array_mib: u64, cancel: &CancelToken) -> Result<(), ProbeError> {
    // The spawn floor first, before anything of ours has loaded the machine: measured after the
    // bandwidth and compute probes it read 10% above hyperfine's /bin/true (0.574 against 0.521
    // ms, median of 5 probes); first, 0.975–1.028× in 5 probes alternating with hyperfine (AMD
    // EPYC 2-vCPU VM, the same hour).
    let sampling = crate::measure::Sampling::default();
    if let Some(floor) =
        warn_unless_interrupted("the spawn floor", probes::spawn_floor(probes::DEFAULT_SPAWN_FLOOR_RUNS, Some(sampling), cancel))?
    {
        env.spawn_floor_seconds = Some(floor.median_wall_seconds);
        env.spawn_floor = Some(floor);
    }
    env.cpuid_cost = warn_unless_interrupted("a CPUID's cost", probes::cpuid::measure(cancel))?.flatten();
    let bytes_per_array = usize::try_from(array_mib << 20).unwrap_or(probes::DEFAULT_BYTES_PER_ARRAY);
    if let Some(curve) = warn_unless_interrupted("the memory bandwidth", probes::measure_bandwidth_curve(bytes_per_array, cancel))? {
        env.bandwidth_single_thread_bytes_per_second = curve.memory_bytes_per_second(false);
        env.bandwidth_all_threads_bytes_per_second = curve.memory_bytes_per_second(true);
        env.bandwidth_curve = Some(curve);
    }
    env.compute_ceiling = warn_unless_interrupted("the compute ceiling", probes::measure_compute_ceiling(cancel))?;
    if let (Some(python), Some(_)) = (env.python_command.clone(), env.numpy_version.as_ref()) {
        env.numpy_import_profile = import_profile::profile(&python, "numpy", cancel);
        probes::stop_if_cancelled(cancel)?;
    }
    // The busy child is the workspace's fixture, built beside the orchestrator.
    match std::env::current_exe().map(|exe| exe.with_file_name("fixture-child")) {
        Ok(child) if child.is_file() => {
            env.sampler_cost = warn_unless_interrupted("the sampler's cost", probes::measure_sampler_cost(&child, sampling, cancel))?;
        }
        _ => errln!("note: no fixture-child beside the orchestrator (`make build` builds it): the sampler's cost is not measured"),
    }
    Ok(())
}

/// A probe's result; a failure is a warning (None), an interruption stops the probes (Err).
fn warn_unless_interrupted<T>(what: &str, result: Result<T, ProbeError>) -> Result<Option<T>, ProbeError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ProbeError::Interrupted) => Err(ProbeError::Interrupted),
        Err(e) => {
            errln!("warning: {what} could not be measured: {e}");
            Ok(None)
        }
    }
}
