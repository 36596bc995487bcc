//! The measurement notes: how each figure was measured, the sampler's cost, and every warning a
//! careful reader needs (a busy machine, outliers, failed runs, inexact peaks, charts not drawn).

use std::fmt::Write as _;

use super::limit_note::ABOVE_LIMIT;
use super::status_words;
use crate::analysis::summary::Outcome;
use crate::analysis::Analysis;
use crate::environment::Environment;
use crate::format::{percent, percent_against, seconds};
use crate::report::escape::text;
use crate::report::figures::{Figures, CPU_CLOCK_STEP_SECONDS};
use crate::report::marks::Mark;

pub(super) fn notes_section(out: &mut String, report: &Analysis, figures: &Figures) {
    let _ = writeln!(out, "<a id=\"measurement-notes\"></a>\n## Measurement notes\n");
    let _ = writeln!(out, "- Wall time: monotonic clock from the child's execve (taken by the child itself) to the child being reaped by a small static launcher, which starts every run so the orchestrator's own size costs nothing. CPU time, page faults and context switches: the kernel's rusage (wait4). Peak memory: the child's ru_maxrss — its own, since the launcher, which shares its memory with the child until the exec, carries under 1 MiB into it (the carried mark is measured every run; a peak not above it is marked inexact); on Linux 6.2 and later the kernel counts a process's pages per CPU and ru_maxrss reads their folded totals, which can lag the pages really held by up to 31 a CPU in each of its three counts (file, anonymous, shared: 0.36 MiB a CPU), as /usr/bin/time's does. Memory and CPU over time: the whole process tree, sampled through /proc.");
    let _ = writeln!(
        out,
        "- CPU over time (the timeline charts) is averaged over spans of at least {} ms or 1/50 of the run: the kernel advances another process's CPU clock at scheduler ticks, so shorter spans read 0% then several hundred percent. Total CPU time (the tables) is exact.",
        CPU_CLOCK_STEP_SECONDS * 1e3
    );
    let _ = writeln!(out, "- Speed-up = baseline median / implementation median; its CI is a percentile bootstrap of the ratio of medians (10 000 resamples, seeded: a re-render gives the same numbers).");
    let mut warnings = Vec::new();
    if let Some(e) = &report.environment {
        warnings.extend(machine_notes(out, e));
    }
    warnings.extend(point_warnings(report));
    if let Some(warning) = inexact_peaks(report) {
        warnings.push(warning);
    }
    warnings.extend(figures.errors.iter().map(|e| format!("chart not drawn: {e}")));
    warnings.dedup();
    if warnings.is_empty() {
        let _ = writeln!(out, "- No warnings: no outliers, no failed runs, a quiet machine.");
    }
    for w in warnings {
        let _ = writeln!(out, "- {} {}", Mark::Warning, text(&w));
    }
    let _ = writeln!(out, "\nRaw records: `raw.csv` (one row per run) and `samples.csv`; per-point statistics: `summary.csv` and `summary.json`. Re-render with `orchestrator report <this directory>`.");
}

/// The runs whose peak RSS is sampled, not exact, counted by implementation (a no-op is smaller
/// than the mark the launcher carries into every child, so all its runs are): None when there
/// are none.
fn inexact_peaks(report: &Analysis) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for record in report.records.iter().filter(|r| r.status.is_measurement() && r.peak_rss_exact == Some(false)) {
        match counts.iter_mut().find(|(name, _)| *name == record.implementation) {
            Some((_, count)) => *count += 1,
            None => counts.push((&record.implementation, 1)),
        }
    }
    let total: usize = counts.iter().map(|(_, count)| count).sum();
    (total > 0).then(|| {
        let named: Vec<String> = counts.iter().map(|(name, count)| format!("{name} {count}")).collect();
        format!(
            "{total} run(s) have a sampled (not exact) peak RSS ({}): the program stayed below the mark the launcher carried into it (a program that does nothing does), or its end was not reported",
            named.join(", ")
        )
    })
}

/// Writes the sampler's cost, and returns the warnings about the machine: a sampler over its
/// budget, a busy machine, a governor that lets the clock vary, an interrupted run.
fn machine_notes(out: &mut String, e: &Environment) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(fraction) = e.sampler_overhead_fraction() {
        let _ = writeln!(
            out,
            "- Sampler cost: {} CPU over {} of sampled runs = {} of one core.",
            seconds(e.sampler_cpu_seconds),
            seconds(e.sampled_wall_seconds),
            percent(fraction)
        );
        if fraction > 0.05 {
            warnings.push(format!("the sampler used {} of a core, above the 5% budget: raise sample_interval_ms", percent(fraction)));
        }
    }
    warnings.extend(super::conditions::busy_machine_warning(e));
    if e.frequency_governor.as_deref().is_some_and(|g| g != "performance") {
        warnings.push(format!(
            "the CPU frequency governor is '{}', not 'performance': clock speed may vary between runs",
            e.frequency_governor.as_deref().unwrap_or("")
        ));
    }
    if e.interrupted {
        warnings.push("the run was interrupted: some points have fewer runs than planned, or none".into());
    }
    warnings
}

/// Per scenario point and implementation: outliers among the wall times, failed runs, a training
/// cost past the measured limit, and an implementation that was unavailable.
fn point_warnings(report: &Analysis) -> Vec<String> {
    let mut warnings = Vec::new();
    for scenario in &report.summary.scenarios {
        for point in &scenario.points {
            for i in &point.implementations {
                if let Some(wall) = &i.wall {
                    if !wall.outliers.is_empty() {
                        warnings.push(format!(
                            "{} {} {}: {} of {} wall times are outliers (modified z-score > 3.5); the median resists them",
                            scenario.name,
                            point.label,
                            i.implementation,
                            wall.outliers.len(),
                            wall.count
                        ));
                    }
                }
                if i.failed > 0 {
                    warnings.push(format!(
                        "{} {} {}: {} failed run(s) ({})",
                        scenario.name,
                        point.label,
                        i.implementation,
                        i.failed,
                        status_words(i)
                    ));
                }
                if let Some(fraction) = i.fraction_of_limit.filter(|f| *f > ABOVE_LIMIT) {
                    warnings.push(format!(
                        "{} {} {}: trained at {} of the machine's limit: the limit is the best the probes read at this working-set \
                         size before the runs, so these runs got more bandwidth than the probes did; read it as a measurement, \
                         not a bound",
                        scenario.name,
                        point.label,
                        i.implementation,
                        percent_against(fraction, ABOVE_LIMIT)
                    ));
                }
                if i.outcome == Outcome::Unavailable {
                    warnings.push(format!("{} {}: unavailable — {}", scenario.name, i.implementation, i.message.as_deref().unwrap_or("")));
                }
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{self, tests::plan_of, tests::row};
    use crate::records::RunStatus;

    fn analysis(plan: crate::plan::Plan, rows: Vec<crate::records::RawRecord>, summary: summary::RunSummary) -> Analysis {
        Analysis { records: rows, ..crate::testutil::analysis(plan, summary) }
    }

    #[test]
    fn a_cost_past_the_measured_limit_is_pointed_out_and_a_cost_near_it_is_not() {
        let plan = plan_of(&["rust", "python"], "python");
        let rows = vec![row("rust", 1, RunStatus::Ok, 0.001, 0.0001, 0.0002, 1), row("python", 1, RunStatus::Ok, 0.1, 0.001, 0.01, 1)];
        let mut summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let implementations = &mut summary.scenarios[0].points[0].implementations;
        implementations[0].fraction_of_limit = Some(1.49);
        implementations[1].fraction_of_limit = Some(1.04);
        let analysis = analysis(plan, rows, summary);
        let warnings: Vec<String> = point_warnings(&analysis).into_iter().filter(|w| w.contains("of the machine's limit")).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("s n=5 epochs=1000 lr=0.01 rust: trained at 149% of the machine's limit"), "{}", warnings[0]);
    }

    #[test]
    fn inexact_peaks_are_counted_by_implementation() {
        let plan = plan_of(&["noop", "rust"], "rust");
        let mut rows: Vec<_> = (1..=3).map(|k| row("noop", k, RunStatus::Ok, 0.0001, 0.0, 0.0, 1)).collect();
        rows.push(row("rust", 1, RunStatus::Ok, 0.001, 0.0001, 0.0002, 1));
        rows.push(row("rust", 2, RunStatus::Ok, 0.001, 0.0001, 0.0002, 1));
        for (i, r) in rows.iter_mut().enumerate() {
            r.peak_rss_exact = Some(i == 3);
        }
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let warning = inexact_peaks(&analysis(plan.clone(), rows.clone(), summary.clone())).expect("4 runs are inexact");
        assert!(warning.starts_with("4 run(s) have a sampled (not exact) peak RSS (noop 3, rust 1): "), "{warning}");
        for r in &mut rows {
            r.peak_rss_exact = Some(true);
        }
        assert_eq!(inexact_peaks(&analysis(plan, rows, summary)), None);
    }
}
