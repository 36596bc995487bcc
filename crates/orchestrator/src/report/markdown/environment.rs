//! The environment section: the machine, its measured limits (bandwidth, compute ceiling, the
//! spawn floor and a CPUID's cost, the sampler's cost), the toolchain and the command, then where
//! it ran.

use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::environment::probes::{ComputeCeiling, SamplerCost};
use crate::environment::Environment;
use crate::format::{self, bytes, compact, seconds, sig3};
use crate::report::escape::text;
use crate::stats;

pub(super) fn environment_section(out: &mut String, report: &Analysis) {
    let _ = writeln!(out, "## Environment\n");
    let Some(e) = &report.environment else {
        match &report.environment_problem {
            Some(problem) => _ = writeln!(out, "environment.json could not be read ({problem}): the machine is unknown.\n"),
            None => _ = writeln!(out, "environment.json is missing: the machine is unknown.\n"),
        }
        return;
    };
    // Each row in plain words, every value shown as text (a CPU model or a path is the machine's).
    let mut rows: Vec<(&str, String)> = vec![
        ("CPU", format!("{} ({})", e.cpu_model, format::counted(e.logical_cpus as u64, "logical CPU", "logical CPUs"))),
        ("machine", machine_text(e)),
        ("memory", format::memory_total(e.memory_total_bytes)),
        ("OS, kernel", format!("{}, {}", e.os, e.kernel)),
        ("frequency governor", e.frequency_governor.clone().unwrap_or_else(|| "not readable (a VM?)".into())),
        (
            "load average at start / end",
            format!("{:?} / {}", e.load_average_start, e.load_average_end.map_or("—".into(), |l| format!("{l:?}"))),
        ),
        ("memory bandwidth (read, 16 B/point)", bandwidth_text(e)),
        ("spawn floor (/bin/true)", spawn_floor_text(e)),
        ("rustc", e.rustc.clone()),
        ("programs, as linked", binaries_text(e)),
        (
            "python",
            format!(
                "{} — {{python}} = {} → {}",
                e.python_version.clone().unwrap_or_else(|| "not found".into()),
                e.python_command.as_ref().map_or("—".into(), |p| p.display().to_string()),
                e.python_executable.as_ref().map_or("—".into(), |p| p.display().to_string())
            ),
        ),
        (
            "numpy, BLAS",
            format!("{}, {}", e.numpy_version.clone().unwrap_or_else(|| "—".into()), e.numpy_blas.clone().unwrap_or_else(|| "—".into())),
        ),
        (
            "git commit",
            format!(
                "{}{}",
                e.git_commit.clone().unwrap_or_else(|| "—".into()),
                if e.git_dirty == Some(true) { " (with uncommitted changes)" } else { "" }
            ),
        ),
        ("started / ended (UTC)", format!("{} / {}", e.started_utc, e.ended_utc.clone().unwrap_or_else(|| "—".into()))),
        ("command", e.command_line.join(" ")),
    ];
    let after_bandwidth = rows.iter().position(|(k, _)| k.starts_with("memory bandwidth")).map_or(rows.len(), |p| p + 1);
    rows.splice(after_bandwidth..after_bandwidth, limits_rows(e));
    if let Some(placement) = placement_text(e) {
        let after_limits = rows
            .iter()
            .rposition(|(k, _)| k.starts_with("memory bandwidth") || k.starts_with("read bandwidth"))
            .map_or(rows.len(), |p| p + 1);
        rows.insert(after_limits, ("data placement", placement));
    }
    if let Some(cpuid) = cpuid_text(e) {
        let after_floor = rows.iter().position(|(k, _)| k.starts_with("spawn floor")).map_or(rows.len(), |p| p + 1);
        rows.insert(after_floor, ("one CPUID instruction", cpuid));
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {} |", text(&v));
    }
    let _ = writeln!(out);
    crate::report::machines::section(out, e);
}

/// The machine's label and what the CPU is, or what the label was derived from.
fn machine_text(e: &Environment) -> String {
    match &e.machine {
        Some(identity) => format!("{}: {}", e.label(), identity.describe_with_source()),
        None if e.merged.is_some() => format!("{} (each shard's machine is below)", e.label()),
        None => format!("{} (environment.json predates the machine identity: the label is derived from the CPU model, its count and what the probes saw)", e.label()),
    }
}

/// The floor and what it is made of: the exec and exit of a static program, and the dynamic
/// loading /bin/true adds to them.
fn spawn_floor_text(e: &Environment) -> String {
    let Some(floor) = e.spawn_floor_seconds else { return "not measured".into() };
    match e.spawn_floor.as_ref().and_then(|f| f.static_noop_median_wall_seconds) {
        Some(noop) => format!(
            "{} (median): a static no-op linked with glibc takes {} (exec, exit and the C library's start-up, which the startup scenario takes apart), {}. The instrument adds nothing inside the interval: the clock starts in the child at its execve and stops when the launcher's wait4 returns",
            seconds(floor),
            seconds(noop),
            if floor >= noop {
                format!("so loading libc dynamically adds {}", seconds(floor - noop))
            } else {
                // Medians of a few hundred runs each on a noisy machine: a difference, never "adds −x".
                format!("and /bin/true, though it loads libc dynamically, took {} less here", seconds(noop - floor))
            }
        ),
        None => format!("{} (median)", seconds(floor)),
    }
}

/// Where the kernels' data and the probes' buffers lie; None for a run that did not record it.
fn placement_text(e: &Environment) -> Option<String> {
    let Some(pages) = e.whole_pages.as_ref()? else {
        return Some("every buffer on 4 KiB pages (this machine's Linux offers no transparent huge pages, or has them off), from a cache line. A buffer near the L2's size then gets physical pages that put some of its lines on over-full cache sets, a different share in every process: the limits and the kernels near that size vary from process to process (docs/limits.md)".to_string());
    };
    let y_apart = match pages.set_span_bytes {
        Some(span) => format!(
            ", y there half the L2's set span ({} KiB: its sets × its line) from x, so that each thread's run of x and of y fill the sets evenly together",
            span / 1024
        ),
        None => String::new(),
    };
    Some(format!(
        "buffers of {} or more (a third of the L2, at most one huge page) on whole huge pages of {}, the linreg datasets and the limit's probes alike{y_apart}; smaller ones from a cache line. On 4 KiB pages a buffer near the L2's size gets physical pages that put some of its lines on over-full cache sets, a different share in every process (docs/limits.md)",
        bytes(pages.from_bytes as f64),
        bytes(pages.page_bytes as f64)
    ))
}

/// What a CPUID costs, and why it matters to a start-up; None for a run that did not measure it.
fn cpuid_text(e: &Environment) -> Option<String> {
    let cost = e.cpuid_cost.as_ref()?;
    Some(format!(
        "{} (median of {} batches of {} calls of leaf {}; best {}, worst {}). A program's start-up runs dozens (glibc asks the CPU its caches, Rust's standard library its features); in a virtual machine each one exits to the hypervisor, whose answer costs what the host makes it cost: the startup scenario (its libc-static step against exec-only) shows what they add to a process",
        seconds(cost.median_seconds),
        cost.batches,
        cost.calls_per_batch,
        cost.leaf,
        seconds(cost.best_seconds),
        seconds(cost.worst_seconds)
    ))
}

fn binaries_text(e: &Environment) -> String {
    if e.binaries.is_empty() {
        return "not recorded".into();
    }
    let name = |p: &std::path::Path| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
    e.binaries.iter().map(|b| format!("{}: {}", name(&b.path), b.linking)).collect::<Vec<_>>().join("; ")
}

fn bandwidth_text(e: &Environment) -> String {
    match (e.bandwidth_single_thread_bytes_per_second, e.bandwidth_all_threads_bytes_per_second) {
        (Some(one), Some(all)) => format!(
            "{} on 1 thread ({} ns/point/epoch), {} on all threads ({} ns/point/epoch)",
            format::gigabytes_per_second(one),
            format::sig3(16.0 / one * 1e9),
            format::gigabytes_per_second(all),
            format::sig3(16.0 / all * 1e9)
        ),
        _ => "not measured".into(),
    }
}

/// The environment table's rows about the machine's limits and the instrument's cost, beside the
/// memory bandwidth and spawn floor rows.
fn limits_rows(e: &Environment) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(curve) = &e.bandwidth_curve {
        let (first, last) = (curve.single_thread.first(), curve.single_thread.last());
        let span = first.zip(last).map_or(String::new(), |(a, b)| {
            format!(" from {} to {}", format::bytes_compact(a.working_set_bytes as f64), format::bytes_compact(b.working_set_bytes as f64))
        });
        let counts = curve.single_thread.iter().chain(&curve.all_threads).map(|a| a.samples);
        let (fewest, most) = counts.fold((usize::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
        let samples = if fewest == most { most.to_string() } else { format!("{fewest}–{most}") };
        rows.push((
            "read bandwidth against working set",
            format!(
                "{} sizes{span}, {}, {}, best of {samples} samples each (best, median and worst in environment.json; the roofline chart shows them)",
                curve.single_thread.len(),
                if curve.threads == 1 { "1 thread".to_string() } else { format!("1 and {} threads", curve.threads) },
                curve.instruction_set.name()
            ),
        ));
    }
    if let Some(c) = &e.compute_ceiling {
        rows.push(("compute ceiling (2 FMA + 2 adds a point)", compute_text(c)));
    }
    if let Some(cost) = &e.sampler_cost {
        rows.push(("sampler's cost on a child using every CPU", sampler_cost_text(cost)));
    }
    if let Some(seconds) = e.probe_seconds {
        rows.push(("the probes took", format::seconds_one_decimal(seconds)));
    }
    rows
}

/// The sampler's cost, with its interval over the pairs and the verdict against its budget
/// ([`SamplerCost::verdict`]: said only where the interval lies wholly on one side of it).
fn sampler_cost_text(cost: &SamplerCost) -> String {
    let ratios: Vec<f64> = cost.pairs.iter().map(|p| p.ratio()).collect();
    let (low, high) = ratios.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let (interval, verdict) = match cost.ratio_ci() {
        // Three decimals: the budget's 1.03 must not hide in a rounded 1.031.
        Some((ci_low, ci_high)) => {
            (format!("; 95% CI {ci_low:.3}–{ci_high:.3}×"), format!(": {}", SamplerCost::verdict((ci_low, ci_high))))
        }
        None => (String::new(), String::new()),
    };
    // How long the children worked: the sampled runs' own figure is what the cost is a share of,
    // and says which part of a run's sampling it measured (the first second's is the densest).
    let child_seconds: Vec<f64> = cost.pairs.iter().map(|p| p.sparse_seconds).collect();
    let lasting = stats::median(&child_seconds).filter(|s| s.is_finite()).map_or(String::new(), |s| format!(", each child {}", seconds(s)));
    format!(
        "{:+.1}% time at {} ms sampling against {} ms (median of {} pairs of {} in barrier-separated rounds{lasting}; pairs {}–{}×{interval}){verdict}",
        cost.slowdown_fraction() * 100.0,
        compact(cost.default_interval_ms),
        compact(cost.sparse_interval_ms),
        cost.pairs.len(),
        format::counted(cost.threads as u64, "busy thread", "busy threads"),
        sig3(low),
        sig3(high),
    )
}

/// The compute ceiling's row: one thread's and all threads' best, how many times one thread's
/// arithmetic all of them did, and a warning where that was not even halfway to their count.
fn compute_text(c: &ComputeCeiling) -> String {
    let mut text = format!(
        "{}: {} on 1 thread ({} ns/point)",
        c.instruction_set.name(),
        format::gigaflops(c.single_thread_flops_per_second.best),
        sig3(c.ns_per_point(false))
    );
    if c.threads > 1 {
        let _ = write!(
            text,
            ", {} on {} threads ({} ns/point",
            format::gigaflops(c.all_threads_flops_per_second.best),
            c.threads,
            sig3(c.ns_per_point(true))
        );
        if let Some(speedup) = c.speedup() {
            let _ = write!(text, ", {}× one thread's", sig3(speedup));
        }
        if let Some(cores) = c.cores.filter(|&cores| cores < c.threads) {
            let _ = write!(text, "; {cores} cores, as Linux lists them: the others are their SMT siblings");
        }
        text.push(')');
        if !c.threads_ran_at_once() {
            let cores = c.cores_used();
            let _ = write!(
                text,
                ": not even halfway to the {cores}× that {cores} cores can do, so the CPUs were likely not all running at once then (other work, or a host sharing its cores), and this run's figures on all threads may be slower than this machine can do"
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placement_row_says_what_the_run_recorded_and_nothing_where_it_did_not() {
        let mut e = Environment::default();
        assert_eq!(placement_text(&e), None, "a run from before the record");
        e.whole_pages = Some(None);
        assert!(placement_text(&e).is_some_and(|t| t.starts_with("every buffer on 4 KiB pages")));
        let placed = linreg::placement::WholePages::new(2 << 20, Some(2 << 20));
        e.whole_pages = Some(Some(placed));
        assert!(placement_text(&e).is_some_and(|t| t.contains("on whole huge pages of 2") && !t.contains("set span")));
        e.whole_pages = Some(Some(placed.with_set_span(Some(128 << 10))));
        assert!(placement_text(&e).is_some_and(|t| t.contains("half the L2's set span (128")), "{:?}", placement_text(&e));
    }

    #[test]
    fn the_compute_row_warns_where_all_threads_did_not_run_at_once() {
        let on_cores = ComputeCeiling::of_rates;
        let ceiling = |one: f64, all: f64, threads: usize| on_cores(one, all, threads, Some(threads));
        const WARNING: &str = "likely not all running at once";
        let together = compute_text(&ceiling(60e9, 118e9, 2));
        assert!(together.contains("on 2 threads (0.051 ns/point, 1.97× one thread's)") && !together.contains(WARNING), "{together}");
        let shared = compute_text(&ceiling(60e9, 61e9, 2));
        assert!(
            shared.contains("1.02× one thread's): not even halfway to the 2× that 2 cores can do") && shared.contains(WARNING),
            "{shared}"
        );
        // Halfway on 8 cores is 4.5×; where the cores are unknown, the threads count.
        assert!(compute_text(&ceiling(10e9, 44e9, 8)).contains(WARNING));
        assert!(!compute_text(&ceiling(10e9, 46e9, 8)).contains(WARNING));
        assert!(compute_text(&on_cores(10e9, 44e9, 8, None)).contains(WARNING));
        // SMT siblings share this arithmetic's units: 8 threads on 4 cores are held to 2.5×.
        let smt = compute_text(&on_cores(10e9, 30e9, 8, Some(4)));
        assert!(smt.contains("3.00× one thread's; 4 cores, as Linux lists them") && !smt.contains(WARNING), "{smt}");
        assert!(!compute_text(&on_cores(60e9, 61e9, 2, Some(1))).contains(WARNING), "one core: nothing expected of two threads");
        // A record without samples, or damaged: no multiple, no warning.
        let broken = compute_text(&ceiling(0.0, 61e9, 2));
        assert!(!broken.contains("one thread's") && !broken.contains("NaN") && !broken.contains(WARNING), "{broken}");
        let one = compute_text(&ceiling(60e9, 60e9, 1));
        assert!(one.ends_with("on 1 thread (0.100 ns/point)"), "{one}");
    }

    #[test]
    fn the_spawn_floor_never_says_dynamic_loading_adds_a_negative_time() {
        use crate::environment::probes::SpawnFloor;
        let with = |floor: f64, noop: f64| {
            let e = Environment {
                spawn_floor_seconds: Some(floor),
                spawn_floor: Some(SpawnFloor {
                    program: "/bin/true".into(),
                    runs: 200,
                    median_wall_seconds: floor,
                    min_wall_seconds: floor,
                    max_wall_seconds: floor,
                    median_spawn_seconds: None,
                    median_peak_rss_bytes: None,
                    peak_rss_exact: true,
                    static_noop_median_wall_seconds: Some(noop),
                }),
                ..Environment::default()
            };
            spawn_floor_text(&e)
        };
        let slower = with(1.05e-3, 0.85e-3);
        assert!(slower.contains("so loading libc dynamically adds 200 µs"), "{slower}");
        let faster = with(1.05e-3, 1.12e-3);
        assert!(
            faster.contains("and /bin/true, though it loads libc dynamically, took 70.0 µs less here")
                && !faster.contains("dynamically adds"),
            "{faster}"
        );
    }

    fn cost_of(ratios: &[f64]) -> SamplerCost {
        use crate::environment::probes::sampler_cost::SamplerPair;
        let pairs: Vec<SamplerPair> = ratios
            .iter()
            .map(|r| SamplerPair { default_seconds: 0.05 * r, sparse_seconds: 0.05, default_sampler_cpu_seconds: 0.0 })
            .collect();
        let median_ratio = crate::stats::median(ratios).unwrap();
        SamplerCost { command: vec![], threads: 2, default_interval_ms: 1.0, sparse_interval_ms: 100.0, pairs, median_ratio }
    }

    #[test]
    fn the_sampler_is_held_to_its_budget_only_where_the_pairs_separate_it() {
        let above = sampler_cost_text(&cost_of(&[1.06, 1.07, 1.05, 1.08, 1.06, 1.07, 1.05]));
        assert!(above.ends_with(": above the 3% budget") && above.contains("95% CI 1.050–1.070×"), "{above}");
        let within = sampler_cost_text(&cost_of(&[1.00, 1.01, 0.99, 1.02, 1.00, 1.01, 1.00]));
        assert!(within.ends_with(": within the 3% budget"), "{within}");
        // The pairs of the Zen 4's gallery run (docs/machines/zen4-2c-32m, 2026-12-06 20:51 UTC).
        let noisy = sampler_cost_text(&cost_of(&[1.018, 1.054, 1.041, 1.018, 1.344, 1.05, 1.066]));
        assert!(noisy.ends_with(": these pairs cannot tell it from the 3% budget") && noisy.starts_with("+5.0% "), "{noisy}");
    }
}
