//! Measuring the machine before any run (unless `--no-probes`): the calls into `probes` whose
//! results go into environment.json. A probe that fails is a warning.

use crate::environment::Environment;
use crate::environment::{import_profile, probes};

/// The machine's own limits, measured before any run: the spawn floor, read bandwidth against
/// working-set size (1 thread and all), the compute ceiling and the sampler's cost on a child
/// using every CPU. A probe that fails is a warning, not a reason to measure nothing.
pub(super) fn probe_machine(env: &mut Environment, array_mib: u64) {
    let started = std::time::Instant::now();
    // The spawn floor first, before anything of ours has loaded the machine: measured after the
    // bandwidth and compute probes it read 10% above hyperfine's /bin/true (0.574 against 0.521
    // ms, median of 5 probes); first, 0.975–1.028× in 5 probes alternating with hyperfine (AMD
    // EPYC 2-vCPU VM, the same hour).
    let interval = crate::measure::DEFAULT_SAMPLE_INTERVAL;
    match probes::spawn_floor(probes::DEFAULT_SPAWN_FLOOR_RUNS, Some(interval)) {
        Ok(floor) => {
            env.spawn_floor_seconds = Some(floor.median_wall_seconds);
            env.spawn_floor = Some(floor);
        }
        Err(e) => errln!("warning: the spawn floor could not be measured: {e}"),
    }
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
