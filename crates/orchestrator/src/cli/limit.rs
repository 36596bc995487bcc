//! `orchestrator limit N...`: the limit a run sets beside each point, measured on its own, so a
//! benchmark outside the orchestrator (crates/linreg/benches/standalone.py) can put its kernels
//! against the same figure the report uses: the compute ceiling once, then for each N the read
//! bandwidth of its own working set (the probe a run makes right before a point, with its check
//! that the CPUs ran at once), combined as the report combines them. One JSON object a line on
//! stdout, for one thread and for all; with `--kernel-loop`, each line also holds the kernels' own
//! loop timed against the probe's in this process ([`probes::kernel_loop`]); with `--spells`, the
//! loops pass by pass (past the L2 the kernels' prefetching loop too), and what each loses where
//! the host slows a core ([`probes::spells`]).

use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

use crate::environment::probes::bandwidth::{self, PointBuffer};
use crate::environment::probes::kernel_loop::{self, LoopComparison};
use crate::environment::probes::spells::{self, Spells};
use crate::environment::probes::{self, MachineLimits, ProbeError};
use crate::measure::CancelToken;

/// One line: the limit of an epoch over `points` points on `threads` threads, in ns a point.
#[derive(Serialize)]
struct LimitLine {
    points: u64,
    threads: usize,
    /// What the report's "% of limit" divides by: the best samples, the slower of the bandwidth's
    /// and the arithmetic's.
    limit_ns: f64,
    bound: &'static str,
    /// The bandwidth probe's own spread at this working set on these threads: how steady the
    /// machine was. (On several threads the limit is never slower than one thread's best.)
    bandwidth_ns_best: f64,
    bandwidth_ns_median: f64,
    bandwidth_ns_worst: f64,
    compute_ns: Option<f64>,
    /// On all threads: their arithmetic over one thread's (best samples), measured right after this
    /// point's bandwidth, as a run's probe of a point does
    /// ([`probes::compute::ComputeCeiling::speedup`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    compute_speedup: Option<f64>,
    /// On all threads: false where that speed-up was less than halfway to the cores the threads
    /// ran on, the report's rule: the CPUs were likely not all running at once then.
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus_at_once: Option<bool>,
    /// With `--kernel-loop`: the kernels' loop against the probe's on these threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel_loop: Option<LoopComparison>,
    /// With `--spells`: the loops pass by pass on these threads, free-running.
    #[serde(skip_serializing_if = "Option::is_none")]
    spells: Option<Spells>,
}

pub(super) fn limit(points: &[u64], with_kernel_loop: bool, spell_time: Option<Duration>) -> anyhow::Result<ExitCode> {
    let cancel = CancelToken::new();
    let compute = match probes::compute::measure_ceiling(probes::compute::DEFAULT_SAMPLES) {
        Ok(ceiling) => Some(ceiling),
        Err(e) => {
            errln!("warning: the compute ceiling could not be measured ({e}); the limits are the bandwidth's alone");
            None
        }
    };
    for &n in points {
        let size = usize::try_from(n).map_err(|_| anyhow::anyhow!("{n} points: too many for this machine's address space"))?;
        let too_few = || anyhow::anyhow!("{n} points: too few to time a pass over (the probe needs at least a few blocks a thread)");
        let unmeasured = |e: ProbeError| anyhow::anyhow!("the bandwidth at {n} points could not be measured: {e}");
        let point = PointBuffer::new(size).map_err(unmeasured)?.ok_or_else(too_few)?;
        let bandwidth = bandwidth::measure_on(&point, &cancel).map_err(unmeasured)?.ok_or_else(too_few)?;
        // On the buffer the probe has just read: the same pages, chunks and passes.
        let loops = if with_kernel_loop {
            kernel_loop::compare_on(&point, kernel_loop::DEFAULT_PAIRS, &cancel)
                .map_err(|e| anyhow::anyhow!("the kernels' loop at {n} points could not be timed: {e}"))?
        } else {
            Vec::new()
        };
        let spells = match spell_time {
            Some(how_long) => spells::measure_on(&point, how_long, &cancel)
                .map_err(|e| anyhow::anyhow!("the loops at {n} points could not be timed pass by pass: {e}"))?,
            None => Vec::new(),
        };
        drop(point);
        let limits = MachineLimits { bandwidth: None, compute: compute.as_ref(), at_point: Some(&bandwidth) };
        let mut thread_counts = vec![(1, &bandwidth.single_thread)];
        if let Some(all) = &bandwidth.all_threads {
            thread_counts.push((bandwidth.threads, all));
        }
        for (threads, measured) in thread_counts {
            let Some(limit) = limits.at(n, threads) else { continue };
            let spread = &measured.bytes_per_second;
            // The point's own ceiling says whether the CPUs ran at once for this probe; its
            // all-threads figures belong on the line of that many threads alone.
            let all_threads_ceiling = bandwidth.compute.as_ref().filter(|c| threads > 1 && threads == c.threads);
            let line = LimitLine {
                points: n,
                threads,
                limit_ns: limit.ns_per_point_epoch,
                bound: limit.bound.as_str(),
                bandwidth_ns_best: probes::ns_per_point(spread.best),
                bandwidth_ns_median: probes::ns_per_point(spread.median),
                bandwidth_ns_worst: probes::ns_per_point(spread.worst),
                // The ceiling the limit used: never slower on all threads than on one.
                compute_ns: limits.compute_ns(threads),
                compute_speedup: all_threads_ceiling.and_then(|c| c.speedup()),
                cpus_at_once: all_threads_ceiling.map(|c| c.threads_ran_at_once()),
                kernel_loop: loops.iter().find(|c| c.threads == threads).cloned(),
                spells: spells.iter().find(|s| s.threads == threads).cloned(),
            };
            outln!("{}", serde_json::to_string(&line)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
