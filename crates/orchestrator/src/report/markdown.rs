//! report.md: the verdict first, then per scenario the measured version of the write-up's table,
//! where the time goes, the charts, accuracy and claims; then the environment and the notes a
//! careful reader needs to trust (or distrust) the numbers. Also the short terminal summary.

use std::fmt::Write as _;

use super::figures::Figures;
use super::format::{self, bytes, parameter, percent, seconds, seconds_with_ci};
use super::Report;
use crate::accuracy::PointAccuracy;
use crate::claims::Verdict;
use crate::plan::{Order, ScenarioPlan};
use crate::summary::{ImplementationSummary, Outcome, PointSummary, ScenarioSummary};

pub fn render(report: &Report, figures: &Figures) -> String {
    let mut out = String::new();
    let started = report.environment.as_ref().map_or(String::new(), |e| format!("Run started {}. ", e.started_utc));
    let _ = writeln!(out, "# Rust vs Python/NumPy: linear regression by gradient descent — measured\n");
    let _ = writeln!(out, "{started}Whole processes measured from outside ([how](#measurement-notes)); medians [95% bootstrap CI].\n");
    answer_section(&mut out, report, figures);
    contents(&mut out, report);
    for (index, (plan, summary)) in report.plan.scenarios.iter().zip(&report.summary.scenarios).enumerate() {
        scenario_section(&mut out, report, index, plan, summary, figures);
    }
    environment_section(&mut out, report);
    notes_section(&mut out, report, figures);
    out
}

/// The first screen: the answer in a few short lines, then the headline chart.
fn answer_section(out: &mut String, report: &Report, figures: &Figures) {
    let mut lines = Vec::new();
    if let Some((scenario, point)) = super::headline(report) {
        let plan = report.plan.scenarios.iter().find(|p| p.name == scenario.name);
        lines.extend(small_point_lines(scenario, point, |name| plan.is_none_or(|plan| plan.has_fit(name))));
        // Where start-up goes, piece by piece, when the run measured the start-up anatomy.
        if let Some(piece) = super::anatomy::biggest_piece_sentence(report) {
            lines.push(format!("**The biggest piece:** {piece}."));
        }
        let claims: Vec<_> = report.claims.iter().filter(|c| c.scenario == scenario.name).collect();
        if !claims.is_empty() {
            let held = claims.iter().filter(|c| c.verdict == Verdict::Held).count();
            // Claims that read and fare alike (w ≈ 2 for rust and for numpy) share one item.
            let mut items: Vec<(Verdict, Vec<&str>, &str)> = Vec::new();
            for c in &claims {
                match items.iter_mut().find(|(verdict, _, short)| *verdict == c.verdict && *short == c.short) {
                    Some((_, subjects, _)) => subjects.push(&c.subject),
                    None => items.push((c.verdict, vec![&c.subject], &c.short)),
                }
            }
            let items: Vec<String> = items
                .iter()
                .map(|(verdict, subjects, short)| format!("{} {} {short}", verdict_mark(*verdict), subjects.join(", ")))
                .collect();
            lines.push(format!(
                "**The claims of `{}`: {held} of {} held.** {} ([details](#claims-{}))",
                scenario.name,
                claims.len(),
                items.join(" · "),
                scenario.name
            ));
        }
        let elsewhere = report.claims.iter().filter(|c| c.scenario != scenario.name).count();
        if elsewhere > 0 {
            let held = report.claims.iter().filter(|c| c.scenario != scenario.name && c.verdict == Verdict::Held).count();
            lines.push(format!("Other scenarios' claims: {held} of {elsewhere} held."));
        }
    }
    if let Some(line) = large_point_line(report) {
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push("No implementation finished a run: see the statuses below.".into());
    }
    for line in lines {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out);
    if let Some(figure) = figures.headline.as_ref() {
        let _ = writeln!(out, "![{}]({})\n", figure.caption, figure.file);
    }
}

fn verdict_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Held => "✅",
        Verdict::NotHeld => "❌",
        Verdict::Inconclusive => "❔",
        Verdict::NoData => "—",
    }
}

/// A table of contents on one line: the scenarios in the order they ran, then the appendices.
fn contents(out: &mut String, report: &Report) {
    let mut entries: Vec<String> = report.summary.scenarios.iter().map(|s| format!("[{0}](#scenario-{0})", s.name)).collect();
    entries.push("[Environment](#environment)".into());
    entries.push("[Measurement notes](#measurement-notes)".into());
    let _ = writeln!(out, "**Contents:** {}\n", entries.join(" · "));
}

/// At the largest n where at least two implementations have a training cost: the cheapest and
/// the dearest, and the machine's limit beside them.
fn large_point_line(report: &Report) -> Option<String> {
    let costed = |p: &PointSummary| p.implementations.iter().filter(|i| i.ns_per_point_epoch.is_some()).count();
    let (scenario, point) = report
        .summary
        .scenarios
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s, p)))
        .filter(|(_, p)| costed(p) >= 2)
        // The largest n, and there the point comparing the most implementations.
        .max_by_key(|(_, p)| (p.n, costed(p)))
        .filter(|(_, p)| p.n >= 100_000)?;
    let mut costs: Vec<(&ImplementationSummary, f64)> =
        point.implementations.iter().filter_map(|i| i.ns_per_point_epoch.map(|ns| (i, ns))).collect();
    costs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (best, worst) = (costs.first()?, costs.last()?);
    let limit =
        best.0.limit_ns_per_point_epoch.map_or(String::new(), |limit| format!(" (the machine's limit is {} ns)", format::sig3(limit)));
    Some(format!(
        "**At n = {} (`{}`) training dominates:** {} trains at {} ns per point per epoch{limit}, {} at {} ns, {}× slower.",
        format::count(point.n),
        scenario.name,
        best.0.implementation,
        format::sig3(best.1),
        worst.0.implementation,
        format::sig3(worst.1),
        format::sig3(worst.1 / best.1)
    ))
}

/// Speed, memory and where the time goes, at the headline point: the fastest implementation that
/// does the job against the baseline.
fn small_point_lines(scenario: &ScenarioSummary, point: &PointSummary, does_the_job: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(baseline) = point.implementations.iter().find(|i| i.implementation == scenario.baseline && i.measured()) else {
        return lines;
    };
    let wall_of = |i: &ImplementationSummary| i.wall.as_ref().map_or(f64::MAX, |d| d.median);
    let fastest = point
        .implementations
        .iter()
        .filter(|i| i.measured() && i.implementation != scenario.baseline && does_the_job(&i.implementation))
        .min_by(|a, b| wall_of(a).total_cmp(&wall_of(b)));
    let base_wall = baseline.wall.as_ref().map_or(f64::NAN, |d| d.median);
    if let Some(fastest) = fastest {
        if let Some(speed) = &fastest.speedup_vs_baseline {
            lines.push(format!(
                "**Speed** at n = {} (`{}`): {} ran the whole job in {} against {} for {}: **{}**.",
                format::count(point.n),
                scenario.name,
                fastest.implementation,
                seconds(wall_of(fastest)),
                seconds(base_wall),
                baseline.implementation,
                ratio_words(speed, "faster")
            ));
        }
        if let (Some(memory), Some(fast_rss), Some(base_rss)) = (&fastest.memory_ratio_vs_baseline, &fastest.peak_rss, &baseline.peak_rss) {
            lines.push(format!(
                "**Memory:** {} peaked at {} against {}: **{}**.",
                fastest.implementation,
                bytes(fast_rss.median),
                bytes(base_rss.median),
                ratio_words(memory, "less")
            ));
        }
    }
    if let Some(startup) = &baseline.startup {
        lines.push(format!(
            "**Where the time goes:** start-up (process, interpreter, imports) is {} of {}'s {}; its training takes {}.",
            percent(startup.median / base_wall),
            baseline.implementation,
            seconds(base_wall),
            baseline.train.as_ref().map_or("—".into(), |t| seconds(t.median))
        ));
    }
    lines
}

/// "44.5× faster (95% CI 43.6–45.8×)".
fn ratio_words(r: &crate::stats::Ratio, word: &str) -> String {
    format!("{}× {word} (95% CI {}–{}×)", format::sig3(r.estimate), format::sig3(r.ci_low), format::sig3(r.ci_high))
}

fn scenario_section(out: &mut String, report: &Report, index: usize, plan: &ScenarioPlan, summary: &ScenarioSummary, figures: &Figures) {
    let _ = writeln!(out, "<a id=\"scenario-{}\"></a>\n## Scenario `{}`\n", summary.name, summary.name);
    if !plan.description.is_empty() {
        let _ = writeln!(out, "{}\n", plan.description);
    }
    let m = &plan.measure;
    let data = plan.points.first().map_or(String::new(), |p| p.data_description.clone());
    let _ = writeln!(
        out,
        "Data: {data}. Each point: {} warm-up and {} counted run(s) per implementation, {}, sampled every {} ms; timeout {} s. Ratios are against **{}** (> 1× means faster or leaner).\n",
        m.warmup,
        m.repetitions,
        match m.order {
            Order::Interleaved => "interleaved (A B C A B C …)",
            Order::Grouped => "grouped (A A … B B …)",
        },
        m.sample_interval_ms,
        m.timeout_seconds,
        summary.baseline
    );
    for point in &summary.points {
        if summary.points.len() > 1 {
            let _ = writeln!(out, "### {}\n", point.label);
        }
        results_table(out, point, &summary.baseline);
        phases_table(out, point, report);
    }
    super::anatomy::section(out, report, index);
    let mine: Vec<_> = figures.figures.iter().filter(|f| f.scenario == summary.name).collect();
    if !mine.is_empty() {
        let _ = writeln!(out, "### Charts\n");
        for figure in mine {
            let _ = writeln!(out, "**{}**\n\n![{}]({})\n", figure.caption, figure.caption, figure.file);
        }
    }
    if let Some(accuracy) = report.accuracy.get(index) {
        accuracy_section(out, summary, accuracy);
    }
    let claims: Vec<_> = report.claims.iter().filter(|c| c.scenario == summary.name).collect();
    if !claims.is_empty() {
        let _ = writeln!(out, "<a id=\"claims-{}\"></a>\n### Claims\n", summary.name);
        let _ = writeln!(out, "| claim | point | source | measured | verdict |\n|---|---|---|---|---|");
        for c in claims {
            let verdict = format!("{} {}", verdict_mark(c.verdict), c.verdict.as_str());
            let point =
                summary.points.iter().find(|p| p.index == c.point).map_or(c.point_label.clone(), |p| super::short_label(summary, p));
            let _ = writeln!(out, "| {} | {point} | {} | {} | {verdict} |", c.claim, c.source.as_deref().unwrap_or(""), c.measured);
        }
        let _ = writeln!(out);
    }
}

fn status_cell(i: &ImplementationSummary) -> String {
    match i.outcome {
        Outcome::Ok => "ok".into(),
        Outcome::Diverged => format!("diverged, epoch {}", i.diverged_at_epoch.map_or("?".into(), |e| e.to_string())),
        Outcome::Partial => {
            let failures: Vec<String> =
                i.statuses.iter().filter(|(s, _)| *s != "ok" && *s != "diverged").map(|(s, n)| format!("{n} {s}")).collect();
            format!("⚠ {} of {} runs: {}", i.failed, i.runs + i.failed, failures.join(", "))
        }
        Outcome::Failed => format!("❌ {}", i.statuses.keys().next().cloned().unwrap_or_else(|| "failed".into())),
        Outcome::Unavailable => "unavailable".into(),
        Outcome::NotRun => "not run".into(),
    }
}

/// A ratio against the baseline with its CI; the baseline's own row says what it is.
fn ratio_cell(i: &ImplementationSummary, baseline: &str, ratio: Option<&crate::stats::Ratio>) -> String {
    if i.implementation == baseline {
        return "baseline".into();
    }
    ratio.map_or("—".into(), format::ratio_with_ci)
}

fn results_table(out: &mut String, point: &PointSummary, baseline: &str) {
    let _ = writeln!(out, "| implementation | wall [95% CI] | CPU | peak RSS | speed-up | memory ratio | status |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for i in &point.implementations {
        if i.outcome == Outcome::NotRun {
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i.implementation,
            i.wall.as_ref().map_or("—".into(), seconds_with_ci),
            i.cpu.as_ref().map_or("—".into(), |d| seconds(d.median)),
            i.peak_rss.as_ref().map_or("—".into(), |d| bytes(d.median)),
            ratio_cell(i, baseline, i.speedup_vs_baseline.as_ref()),
            ratio_cell(i, baseline, i.memory_ratio_vs_baseline.as_ref()),
            status_cell(i),
        );
    }
    let _ = writeln!(out);
    for i in point.implementations.iter().filter(|i| i.message.is_some() && i.outcome != Outcome::Ok) {
        let message = i.message.as_deref().unwrap_or("").replace('\n', " ");
        let _ = writeln!(out, "> **{}**: {}\n", i.implementation, message.chars().take(300).collect::<String>());
    }
}

fn phases_table(out: &mut String, point: &PointSummary, report: &Report) {
    let measured: Vec<&ImplementationSummary> = point.implementations.iter().filter(|i| i.measured()).collect();
    if measured.is_empty() {
        return;
    }
    let floor = report.environment.as_ref().and_then(|e| e.spawn_floor_seconds);
    let _ = writeln!(
        out,
        "Where the time goes (medians): start-up = wall − load − train, as each implementation times its own load and train; ns/point/epoch is the training time per point per epoch, against the machine's limit at that n: the larger of reading its 16 bytes at the bandwidth measured for a working set of that size and its arithmetic at the compute ceiling, for the threads it used (the roofline chart shows both).{}\n",
        floor.map_or(String::new(), |f| format!(" Spawn floor (/bin/true, measured the same way): {}.", seconds(f)))
    );
    let _ = writeln!(
        out,
        "| implementation | start-up | load | train | start-up % | ns/point/epoch | limit (ns) | % of limit | × spawn floor |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for i in measured {
        let median = |d: &Option<crate::stats::Distribution>| d.as_ref().map(|d| d.median);
        let share = median(&i.startup).zip(median(&i.wall)).map(|(s, w)| percent(s / w)).unwrap_or_else(|| "—".into());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            i.implementation,
            median(&i.startup).map_or("—".into(), seconds),
            median(&i.load).map_or("—".into(), seconds),
            median(&i.train).map_or("—".into(), seconds),
            share,
            i.ns_per_point_epoch.map_or("—".into(), format::sig3),
            // Short cells, so the table fits a 1000-px column: what bounds the limit (bandwidth,
            // compute) is in the summary files and on the roofline chart.
            i.limit_ns_per_point_epoch.map_or("—".into(), |limit| format!(
                "{}{}",
                format::sig3(limit),
                i.threads.filter(|t| *t > 1).map_or(String::new(), |t| format!(" ({t} thr.)"))
            )),
            i.fraction_of_limit.map_or("—".into(), percent),
            i.wall_over_spawn_floor.map_or("—".into(), |r| format!("{}×", format::sig3(r))),
        );
    }
    let _ = writeln!(out);
}

fn accuracy_section(out: &mut String, summary: &ScenarioSummary, accuracy: &[PointAccuracy]) {
    let _ = writeln!(out, "### Accuracy\n");
    let tolerance = accuracy.first().map_or(String::new(), |a| format!(" (they agree when within {:e})", a.relative_tolerance));
    let _ = writeln!(
        out,
        "Each implementation's fit against the reference, gradient descent computed in-process by the linreg library with the same algorithm and epochs{tolerance}, and its distance from the exact least-squares optimum (OLS). A large distance from OLS with agreement between implementations means the epochs did not converge, not that anyone is wrong.\n"
    );
    let _ = writeln!(out, "| point | fit | w | b | vs reference | \\|w − w_ols\\| | \\|b − b_ols\\| |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    let sci = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.2e}"));
    for (point, a) in summary.points.iter().zip(accuracy) {
        let mut label = super::short_label(summary, point);
        let mut row = |fit: &str, w: String, b: String, versus: String, distances: (String, String)| {
            let _ = writeln!(out, "| {label} | {fit} | {w} | {b} | {versus} | {} | {} |", distances.0, distances.1);
            label = String::new();
        };
        if let Some(o) = a.ols {
            row("*OLS optimum*", parameter(Some(o.w)), parameter(Some(o.b)), String::new(), (String::new(), String::new()));
        }
        match (&a.reference, &a.reference_note) {
            (Some(r), _) => {
                let (w, b) = match r.diverged_at_epoch {
                    Some(epoch) => (format!("diverged at epoch {epoch}"), "—".into()),
                    None => (parameter(r.w), parameter(r.b)),
                };
                row("*reference*", w, b, String::new(), (String::new(), String::new()));
            }
            (None, Some(note)) => row("*reference*", note.clone(), String::new(), String::new(), (String::new(), String::new())),
            (None, None) => {}
        }
        for i in &a.implementations {
            let versus = match (i.agrees, i.diverged_at_epoch) {
                (Some(true), Some(_)) => "✅ diverged, same epoch".into(),
                (Some(false), Some(epoch)) => format!("❌ diverged at epoch {epoch}"),
                (_, Some(epoch)) => format!("diverged at epoch {epoch}"),
                (Some(true), None) => format!("✅ {}", sci(i.relative_error_vs_reference)),
                (Some(false), None) => format!("❌ {}", sci(i.relative_error_vs_reference)),
                (None, None) => sci(i.relative_error_vs_reference),
            };
            // A diverged fit's parameters are whatever its last epoch left: no distance means anything.
            let distances = match i.diverged_at_epoch {
                Some(_) => ("—".into(), "—".into()),
                None => (sci(i.w_distance_from_ols), sci(i.b_distance_from_ols)),
            };
            row(&i.implementation, parameter(i.w), parameter(i.b), versus, distances);
        }
    }
    let _ = writeln!(out);
}

fn environment_section(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Environment\n");
    let Some(e) = &report.environment else {
        let _ = writeln!(out, "environment.json is missing: the machine is unknown.\n");
        return;
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("CPU", format!("{} ({} logical CPUs)", e.cpu_model, e.logical_cpus)),
        ("memory", bytes(e.memory_total_bytes as f64)),
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
    rows.splice(after_bandwidth..after_bandwidth, super::roofline::environment_rows(e));
    let _ = writeln!(out, "| | |\n|---|---|");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {} |", v.replace('|', "\\|"));
    }
    let _ = writeln!(out);
    super::machines::section(out, e);
}

/// The floor and what it is made of: the exec and exit of a static program, and the dynamic
/// loading /bin/true adds to them.
fn spawn_floor_text(e: &crate::environment::Environment) -> String {
    let Some(floor) = e.spawn_floor_seconds else { return "not measured".into() };
    match e.spawn_floor.as_ref().and_then(|f| f.static_noop_median_wall_seconds) {
        Some(noop) => format!(
            "{} (median): a static no-op takes {} (exec and exit), so loading libc dynamically adds {}. The instrument adds nothing inside the interval: the clock starts in the child at its execve and stops when the launcher's wait4 returns",
            seconds(floor),
            seconds(noop),
            seconds(floor - noop)
        ),
        None => format!("{} (median)", seconds(floor)),
    }
}

fn binaries_text(e: &crate::environment::Environment) -> String {
    if e.binaries.is_empty() {
        return "not recorded".into();
    }
    let name = |p: &std::path::Path| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
    e.binaries.iter().map(|b| format!("`{}`: {}", name(&b.path), b.linking)).collect::<Vec<_>>().join("; ")
}

fn bandwidth_text(e: &crate::environment::Environment) -> String {
    match (e.bandwidth_single_thread_bytes_per_second, e.bandwidth_all_threads_bytes_per_second) {
        (Some(one), Some(all)) => format!(
            "{:.1} GB/s on 1 thread ({} ns/point/epoch), {:.1} GB/s on all threads ({} ns/point/epoch)",
            one / 1e9,
            format::sig3(16.0 / one * 1e9),
            all / 1e9,
            format::sig3(16.0 / all * 1e9)
        ),
        _ => "not measured".into(),
    }
}

fn notes_section(out: &mut String, report: &Report, figures: &Figures) {
    let _ = writeln!(out, "<a id=\"measurement-notes\"></a>\n## Measurement notes\n");
    let _ = writeln!(out, "- Wall time: monotonic clock from the child's execve (taken by the child itself) to the child being reaped by a small static launcher, which starts every run so the orchestrator's own size costs nothing. CPU time, page faults and context switches: the kernel's rusage (wait4). Peak memory: the child's ru_maxrss — its own, since the launcher's fork carries only a few hundred KiB into it (measured every run; a peak not above it is marked inexact). Memory and CPU over time: the whole process tree, sampled through /proc.");
    let _ = writeln!(
        out,
        "- CPU over time (the timeline charts) is averaged over spans of at least {} ms or 1/50 of the run: the kernel advances another process's CPU clock at scheduler ticks, so shorter spans read 0% then several hundred percent. Total CPU time (the tables) is exact.",
        super::figures::CPU_CLOCK_STEP_SECONDS * 1e3
    );
    let _ = writeln!(out, "- Speed-up = baseline median / implementation median; its CI is a percentile bootstrap of the ratio of medians (10 000 resamples, seeded: a re-render gives the same numbers).");
    let mut warnings = Vec::new();
    if let Some(e) = &report.environment {
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
        let busy = e.load_average_start[0].max(e.load_average_end.map_or(0.0, |l| l[0]));
        if busy > 0.5 * e.logical_cpus as f64 {
            warnings.push(format!(
                "the 1-minute load average reached {busy:.2} on {} CPUs: other work shared the machine, expect wider intervals",
                e.logical_cpus
            ));
        }
        if e.frequency_governor.as_deref().is_some_and(|g| g != "performance") {
            warnings.push(format!(
                "the CPU frequency governor is '{}', not 'performance': clock speed may vary between runs",
                e.frequency_governor.as_deref().unwrap_or("")
            ));
        }
        if e.interrupted {
            warnings.push("the run was interrupted: some points have fewer runs than planned, or none".into());
        }
    }
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
                        status_cell(i)
                    ));
                }
                if i.outcome == Outcome::Unavailable {
                    warnings.push(format!("{} {}: unavailable — {}", scenario.name, i.implementation, i.message.as_deref().unwrap_or("")));
                }
            }
        }
    }
    let inexact = report.records.iter().filter(|r| r.status.is_measurement() && r.peak_rss_exact == Some(false)).count();
    if inexact > 0 {
        warnings.push(format!("{inexact} run(s) have a sampled (not exact) peak RSS: the program stayed below what the launcher's fork carried into it, or its end was not reported"));
    }
    warnings.extend(figures.errors.iter().map(|e| format!("chart not drawn: {e}")));
    warnings.dedup();
    if warnings.is_empty() {
        let _ = writeln!(out, "- No warnings: no outliers, no failed runs, a quiet machine.");
    }
    for w in warnings {
        let _ = writeln!(out, "- ⚠ {w}");
    }
    let _ = writeln!(out, "\nRaw records: `raw.csv` (one row per run) and `samples.csv`; per-point statistics: `summary.csv` and `summary.json`. Re-render with `orchestrator report <this directory>`.");
}

/// The short table printed at the end of a run.
pub fn terminal_summary(report: &Report) -> String {
    let mut out = String::new();
    for scenario in &report.summary.scenarios {
        for point in &scenario.points {
            let _ = writeln!(out, "{} · {}", scenario.name, point.label);
            for i in &point.implementations {
                if i.outcome == Outcome::NotRun {
                    continue;
                }
                let wall = i.wall.as_ref().map_or("—".into(), |d| seconds(d.median));
                let rss = i.peak_rss.as_ref().map_or("—".into(), |d| bytes(d.median));
                let speed =
                    i.speedup_vs_baseline.map_or(String::new(), |r| format!("{}× vs {}", format::sig3(r.estimate), scenario.baseline));
                let _ = writeln!(out, "  {:<20} {:>10} {:>11}  {:<28} {}", i.implementation, wall, rss, speed, status_cell(i));
            }
        }
    }
    let held = report.claims.iter().filter(|c| c.verdict == Verdict::Held).count();
    if !report.claims.is_empty() {
        let _ = writeln!(out, "claims: {held} of {} held ({} not held)", report.claims.len(), crate::claims::not_held(&report.claims));
    }
    out
}
