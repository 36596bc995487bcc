//! Under each point's phases table: which limit its rows are held to — the bandwidth measured
//! right before the point ran, with its spread, or the start-of-run curve's — why any row that
//! was measured faster than its limit (above 105% of it) could be, which rows reached the
//! limit in their fastest run though not in their median one, which ran on fewer threads in
//! some runs than the limit they are held to counts, whether a probe found the CPUs not all
//! running at once, and whether the point's working set lies on a cache's edge, where its limit
//! and its runs depend on their histories.

use std::fmt::Write as _;

use crate::analysis::summary::{ImplementationSummary, Outcome, PointSummary};
use crate::analysis::Analysis;
use crate::environment::probes::{
    cache_edge, ns_per_point, BandwidthAtSize, BandwidthCurve, ComputeCeiling, PointBandwidth, BYTES_PER_POINT,
};
use crate::environment::{Environment, PointLimitProbe};
use crate::format::{self, percent, percent_against};
use crate::report::escape::text;

/// Above this fraction of its limit a row gets a line saying why it can be (here, under its point)
/// and a warning (the measurement notes): a few percent is the probes' own spread.
pub(super) const ABOVE_LIMIT: f64 = 1.05;

/// Above this ratio between a point's probe before its runs and its probe after them (their best
/// samples, either thread count), the note says that the machine's speed moved while the point
/// ran: on an Emerald Rapids (family 6 model 207) the probe before the kernels scenario's 10^4
/// point read 0.092 ns a point on one thread, the one after 0.109, and standalone probes that
/// evening 0.117 ± 0.001; rust-simd's runs between them, 0.121 ns, read "76% of the limit".
const PROBES_DISAGREE: f64 = 1.10;

/// A row whose median run is below this fraction of its limit and whose fastest run is not is
/// named with both: at the limit when the machine let it, the median held back by the machine.
const AT_LIMIT: f64 = 0.90;

/// Below this share of huge pages, a buffer laid out on whole pages is said not to have got them.
const ON_HUGE_PAGES: f64 = 0.99;

/// ", on whole huge pages as the kernels' data" where the run recorded that the probe's buffer of
/// `working_set_bytes` lay so (environment.json's `whole_pages`) and, where the probe saw it
/// (`huge_page_share`), Linux backed it so; what share it got when it did not; nothing otherwise.
fn placed(environment: &Environment, working_set_bytes: u64, huge_page_share: Option<f64>) -> String {
    if !environment.on_whole_pages(working_set_bytes) {
        return String::new();
    }
    match huge_page_share {
        Some(share) if share < ON_HUGE_PAGES => format!(
            ", laid out on whole huge pages as the kernels' data but backed by them for only {} of it (Linux had no more to give: its layout, and the limit's, was partly the draw of 4 KiB pages)",
            format::percent(share)
        ),
        _ => ", on whole huge pages as the kernels' data".to_string(),
    }
}

pub(super) fn point(out: &mut String, scenario: &str, point: &PointSummary, report: &Analysis) {
    let rows: Vec<_> = point.implementations.iter().filter(|i| i.measured() && i.limit_ns_per_point_epoch.is_some()).collect();
    let Some(environment) = report.environment.as_ref().filter(|_| !rows.is_empty()) else { return };
    let spread = |s: &BandwidthAtSize| {
        format!(
            "{} ns (median {}, worst {}; {} samples)",
            format::sig3(ns_per_point(s.bytes_per_second.best)),
            format::sig3(ns_per_point(s.bytes_per_second.median)),
            format::sig3(ns_per_point(s.bytes_per_second.worst)),
            s.samples
        )
    };
    let source = match environment.point_probe(scenario, point.index) {
        Some(probe) => {
            let measured = &probe.bandwidth;
            let when = probed_when(probe);
            let all = measured.all_threads.as_ref().map_or(String::new(), |a| {
                let meeting = if a.meets_every_pass { " meeting after every pass, as a kernel's threads must once an epoch," } else { "" };
                let order = if a.blocks_back_and_forth {
                    " reading their blocks ascending one pass and descending the next, as the parallel kernel's epochs do,"
                } else {
                    ""
                };
                format!("; {}{meeting}{order} {}", format::threads(measured.threads as u64), spread(a))
            });
            let working_set = measured.single_thread.working_set_bytes;
            format!(
                "Limit at this point: the read bandwidth of its own working set ({}{}), {when}: 1 thread {}{all}. The limit is the best sample; the median says how steady the machine was.",
                format::bytes_compact(working_set as f64),
                placed(environment, working_set, measured.huge_page_share),
                spread(&measured.single_thread)
            )
        }
        None => "Limit at this point: the bandwidth curve measured at the start of the run (best samples).".to_string(),
    };
    let _ = writeln!(out, "{source} {}\n", fit_passes(point.epochs));
    if let Some(line) = environment.point_probe(scenario, point.index).and_then(probes_disagree) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(line) = environment.point_probe(scenario, point.index).and_then(|probe| cpus_apart(probe, &rows)) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(line) = environment.bandwidth_curve.as_ref().and_then(|curve| on_a_cache_edge(curve, point.n)) {
        let _ = writeln!(out, "{line}\n");
    }
    let above: Vec<String> = rows
        .iter()
        .filter(|i| i.outcome == Outcome::Ok)
        .filter_map(|i| {
            i.fraction_of_limit
                .filter(|f| *f > ABOVE_LIMIT)
                .map(|f| format!("**{}** {}", text(&i.implementation), percent_against(f, ABOVE_LIMIT)))
        })
        .collect();
    if !above.is_empty() {
        let _ = writeln!(
            out,
            "> Faster than the limit: {} of it. They beat the best sample of the probe: the probe and the runs did not see the same machine (on a shared VM the memory's speed moves from second to second: compare the probe's median with its best), or their loops stream the data better than the probe's.\n",
            above.join(", ")
        );
    }
    if let Some(line) = at_limit_in_the_fastest_run(&rows) {
        let _ = writeln!(out, "{line}\n");
    }
    if let Some(line) = on_fewer_threads(&rows) {
        let _ = writeln!(out, "{line}\n");
    }
}

/// The rows some of whose runs reported fewer threads than the row's limit counts (the most any
/// of its runs reported). Such a run cannot reach that limit, and its row's "% of limit" says so
/// without saying why; in a benchmark's own summary that counted each run against its own
/// threads, `--threads auto` settling on one thread where two were 1.6× faster read as near its
/// limit (Emerald Rapids, 4–6 of 11 fits at 2·10^4–5·10^4 points) and only the threads each run
/// reported showed it.
fn on_fewer_threads(rows: &[&ImplementationSummary]) -> Option<String> {
    let named: Vec<String> = rows
        .iter()
        .filter(|i| i.runs_on_fewer_threads > 0)
        .filter_map(|i| {
            let (most, fewest) = (i.threads?, i.fewest_threads?);
            Some(format!(
                "**{}** on {} in {} of {} runs (its limit counts {})",
                text(&i.implementation),
                format::threads(fewest),
                i.runs_on_fewer_threads,
                i.runs,
                format::threads(most)
            ))
        })
        .collect();
    (!named.is_empty()).then(|| {
        format!(
            "> On fewer threads in some runs: {}. Each run reports the threads it used (a Rust kernel's `--threads auto` chooses them by timing its first epochs on the pool and alone); those runs read low against the limit of all the threads.",
            named.join("; ")
        )
    })
}

/// The line saying that the probes before and after the point's runs disagree by more than
/// [`PROBES_DISAGREE`], with their best samples, if they do.
fn probes_disagree(probe: &PointLimitProbe) -> Option<String> {
    disagreement(probe).map(|parts| {
        format!(
            "> The probes before and after this point's runs disagree: {parts}. The machine's speed moved while the point ran (on a shared VM its clock and its neighbours change); the limit is the faster probe, which the runs between may not have had."
        )
    })
}

/// How the probes before and after the point's runs disagree, by more than [`PROBES_DISAGREE`]:
/// "2 threads 0.816 ns before, 0.197 after"; None when they agree or there is one.
pub(super) fn disagreement(probe: &PointLimitProbe) -> Option<String> {
    let [before, after] = probe.probes.as_slice() else { return None };
    let best = |s: &BandwidthAtSize| ns_per_point(s.bytes_per_second.best);
    let apart = |label: String, before: &BandwidthAtSize, after: &BandwidthAtSize| {
        let (before, after) = (best(before), best(after));
        (before.max(after) > PROBES_DISAGREE * before.min(after))
            .then(|| format!("{label} {} ns before, {} after", format::sig3(before), format::sig3(after)))
    };
    let all = before.all_threads.as_ref().zip(after.all_threads.as_ref());
    let parts: Vec<String> = [
        apart("1 thread".into(), &before.single_thread, &after.single_thread),
        all.and_then(|(b, a)| apart(format::threads(before.threads as u64), b, a)),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The line saying that a probe of this point found its CPUs not all running at once — all
/// threads did less than halfway from 1 to the cores' count times one thread's arithmetic
/// ([`ComputeCeiling::threads_ran_at_once`]) — where a row ran on several threads. The
/// start-of-run ceiling says this of the run's first minute only; on an Emerald Rapids host
/// (family 6 model 207, 2 vCPUs) three of five probes within one minute found it, the next 18
/// none. None for probes made before the check (2026-12-07), and on one CPU.
fn cpus_apart(probe: &PointLimitProbe, rows: &[&ImplementationSummary]) -> Option<String> {
    if !rows.iter().any(|i| i.threads.is_some_and(|t| t > 1)) {
        return None;
    }
    let each: Vec<(&str, &PointBandwidth)> = match probe.probes.as_slice() {
        [before, after] => vec![("before its first run", before), ("after its last run", after)],
        _ if probe.measured_after_utc.is_some() => vec![("after its last run", &probe.bandwidth)],
        _ => vec![("before its first run", &probe.bandwidth)],
    };
    let apart: Vec<(&str, &ComputeCeiling)> =
        each.into_iter().filter_map(|(when, b)| b.compute.as_ref().filter(|c| !c.threads_ran_at_once()).map(|c| (when, c))).collect();
    let (_, first) = apart.first()?;
    let cores = first.cores_used();
    let parts: Vec<String> = apart
        .iter()
        .map(|(when, c)| match c.speedup() {
            Some(speedup) => format!("{when} ({})", format::threads_did(c.threads, speedup)),
            None => (*when).to_string(),
        })
        .collect();
    let (probes, whose) = if apart.len() > 1 { ("probes", "those probes'") } else { ("probe", "that probe's") };
    Some(format!(
        "> The CPUs were likely not all running at once during this point's {probes} {}: not even halfway to the {cores}× that {cores} cores can do (other work, or a host sharing its cores). Rows here on several threads may read below their limit for that reason, and {whose} figures on several threads may be slower than this machine can do.",
        parts.join(" and ")
    ))
}

/// The line saying that the point's working set lies on a cache's edge of the start-of-run curve
/// ([`cache_edge`]: the curve a factor of 1.3 or more faster at half the working set than at twice
/// it), with the curve either side, for each thread count whose curve says so. Such a point's
/// limit and runs both depend on how much of the data the cache holds, which the runs' and the
/// probes' histories decide: on the Emerald Rapids of the gallery this is why the 10^7 point
/// (153 MiB, 260 MiB of L3 reported) read 62–88% of its limit in the kernels scenario's 20-epoch
/// fits, one fit a process, while a process's later fits of the same kernel took 1/1.53 of its
/// first's time.
fn on_a_cache_edge(curve: &BandwidthCurve, n: u64) -> Option<String> {
    let bytes = n as f64 * BYTES_PER_POINT as f64;
    // The start-of-run curve's threads do not meet after each pass (a point's probe does): its
    // all-threads figures can then lie below the point's two-thread limit, and the line says why.
    let apart = if curve.all_threads.iter().any(|s| !s.meets_every_pass) { ", not meeting after each pass" } else { "" };
    let parts: Vec<String> = [(false, "1 thread".to_string()), (true, format!("{}{apart}", format::threads(curve.threads as u64)))]
        .into_iter()
        .filter(|(all, _)| !*all || curve.threads > 1)
        .filter_map(|(all, label)| {
            let edge = cache_edge(curve.curve(all), bytes)?;
            Some(format!(
                "{label}: {} ns a point at half its size, {} at twice it",
                format::sig3(edge.half_size_ns),
                format::sig3(edge.twice_size_ns)
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "> On a cache's edge: this point's working set ({}) lies where the start-of-run bandwidth curve falls from one cache level to the next ({}). Its speed there is the share of the data the cache holds, which what ran before and beside it decides and which builds up over a process's first passes over the data: probes and runs can differ by more than their spread, and a fit of few epochs reads low against the limit.",
            format::bytes_compact(bytes),
            parts.join("; ")
        )
    })
}

/// When the point's limit was measured, from its record: before its first run and after its last,
/// or only one of the two (a probe that failed leaves the other alone).
fn probed_when(probe: &PointLimitProbe) -> &'static str {
    match (probe.probes.len() > 1, probe.measured_after_utc.is_some()) {
        (true, _) => "measured right before its first run and again after its last (both probes together: the best of their best samples, the median of their medians)",
        (false, true) => "measured after its last run (the probe before its first could not be made)",
        (false, false) => "measured right before its first run",
    }
}

/// The rows whose median run is below [`AT_LIMIT`] of the limit and whose fastest run is at or
/// above it. The limit is the probe's best sample, and on a shared VM the memory's speed moves by
/// a quarter from one run to the next (2-vCPU Zen 3, 10 runs of 10^7 points: 0.73–1.14 ns a point
/// for the same binary), so a median run set against a best sample reads low by about that
/// spread; the fastest run is the like-for-like figure. Rows of warm fits are left out (their
/// figure is a median fit of each run, not a run).
fn at_limit_in_the_fastest_run(rows: &[&ImplementationSummary]) -> Option<String> {
    let named: Vec<String> = rows
        .iter()
        .filter(|i| i.outcome == Outcome::Ok && i.fits.is_none())
        .filter_map(|i| {
            let median = i.fraction_of_limit.filter(|f| *f < AT_LIMIT)?;
            let train = i.train.as_ref().filter(|t| t.count > 1 && t.min > 0.0)?;
            let fastest = median * train.median / train.min;
            (fastest >= AT_LIMIT).then(|| {
                format!(
                    "**{}** {} in its median run, {} in its fastest",
                    text(&i.implementation),
                    percent_against(median, AT_LIMIT),
                    percent(fastest)
                )
            })
        })
        .collect();
    (!named.is_empty()).then(|| {
        format!(
            "> At the limit in the fastest run, not in the median: {}. The limit is the probe's best sample; set against it, a median run reads low by the runs' own spread, which on a shared VM is as large as the gap.",
            named.join("; ")
        )
    })
}

/// Why the table's limit is a little above a pass's: a fit also computes its final MSE, one more
/// pass over the data inside its training time (docs/protocol.md).
fn fit_passes(epochs: u64) -> String {
    format!(
        "A fit reads the data once an epoch and once more for its final MSE, inside its training time: the table's limit is {} passes over {epochs} epochs.",
        epochs.saturating_add(1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{self, tests::plan_of, tests::row};
    use crate::records::{RawRecord, RunStatus};

    #[test]
    fn probes_that_disagree_are_named_with_both_figures() {
        let at = |bytes_per_second: f64| BandwidthAtSize {
            working_set_bytes: 1 << 20,
            passes_per_sample: 1,
            samples: 7,
            bytes_per_second: crate::environment::probes::Spread {
                best: bytes_per_second,
                median: bytes_per_second,
                worst: bytes_per_second,
            },
            meets_every_pass: false,
            blocks_back_and_forth: false,
        };
        let probe_of = |before: f64, after: f64| {
            let bandwidth = |single: f64| crate::environment::probes::PointBandwidth {
                threads: 2,
                single_thread: at(single),
                all_threads: Some(at(1.5e11)),
                huge_page_share: None,
                compute: None,
            };
            let mut probe = PointLimitProbe::first("s", 0, bandwidth(before), "before".into());
            probe.add_after(bandwidth(after), "after".into());
            probe
        };
        // 16 bytes a point: 1.6e11 B/s is 0.1 ns, 1.28e11 B/s 0.125 ns (25% apart).
        let line = probes_disagree(&probe_of(1.6e11, 1.28e11)).expect("25% apart");
        assert!(line.contains("1 thread 0.100 ns before, 0.125 after"), "{line}");
        assert!(!line.contains("2 threads"), "the all-threads probes agree: {line}");
        assert_eq!(probes_disagree(&probe_of(1.6e11, 1.5e11)), None, "7% apart");
        let only_before = PointLimitProbe::first("s", 0, probe_of(1.6e11, 1.0e11).bandwidth, "before".into());
        assert_eq!(probes_disagree(&only_before), None, "one probe");
    }

    #[test]
    fn a_probe_that_found_the_cpus_apart_is_named_where_a_row_ran_on_several_threads() {
        let plan = plan_of(&["rust-parallel", "numpy"], "numpy");
        let rows_on = |threads: Option<u64>| -> Vec<RawRecord> {
            (1..=3)
                .map(|k| RawRecord { threads, ..row("rust-parallel", k, RunStatus::Ok, 1.1, 0.01, 1.0, 1) })
                .chain((1..=3).map(|k| row("numpy", k, RunStatus::Ok, 11.0, 0.01, 10.0, 1)))
                .collect()
        };
        let (two, one) = (rows_on(Some(2)), rows_on(Some(1)));
        let rows_of = |records: &[RawRecord]| -> Vec<ImplementationSummary> {
            summary::summarise(&plan, &crate::analysis::index::by_point(records), None).scenarios[0].points[0].implementations.clone()
        };
        let (on_two, on_one) = (rows_of(&two), rows_of(&one));
        let (on_two, on_one): (Vec<_>, Vec<_>) = (on_two.iter().collect(), on_one.iter().collect());
        let probe = crate::environment::probes::bandwidth::tests::one_mib_probe;
        let apart = || Some(ComputeCeiling::of_rates(60e9, 61e9, 2, Some(2)));
        let together = || Some(ComputeCeiling::of_rates(60e9, 118e9, 2, Some(2)));
        let before = PointLimitProbe::first("s", 0, probe(apart()), "before".into());
        let line = cpus_apart(&before, &on_two).expect("the probe before found them apart");
        assert!(
            line.contains("during this point's probe before its first run (2 threads did 1.02× one thread's arithmetic): not even halfway to the 2× that 2 cores can do"),
            "{line}"
        );
        assert_eq!(cpus_apart(&before, &on_one), None, "no row ran on several threads");
        let mut both = before.clone();
        both.add_after(probe(apart()), "after".into());
        let line = cpus_apart(&both, &on_two).expect("both found them apart");
        assert!(
            line.contains("this point's probes before its first run (2 threads did 1.02×")
                && line.contains(") and after its last run (2 threads"),
            "{line}"
        );
        let mut then_together = before.clone();
        then_together.add_after(probe(together()), "after".into());
        let line = cpus_apart(&then_together, &on_two).expect("the first found them apart");
        assert!(line.contains("probe before its first run") && !line.contains("after its last run"), "{line}");
        let mut only_after = PointLimitProbe::first("s", 0, probe(apart()), "after".into());
        only_after.measured_after_utc = Some("after".into());
        assert!(cpus_apart(&only_after, &on_two).is_some_and(|line| line.contains("probe after its last run (")));
        assert_eq!(cpus_apart(&PointLimitProbe::first("s", 0, probe(together()), "t".into()), &on_two), None, "1.97×: at once");
        assert_eq!(cpus_apart(&PointLimitProbe::first("s", 0, probe(None), "t".into()), &on_two), None, "a probe from before the check");
    }

    #[test]
    fn a_point_on_a_cache_edge_is_named_with_the_curve_either_side() {
        // A 1 MiB cache at 100 / 200 GB/s (one / two threads), memory at 16 / 24 GB/s from 4 MiB.
        let (curve, _) = crate::environment::probes::limits::tests::machine();
        let line = on_a_cache_edge(&curve, (2u64 << 20) / 16).expect("2 MiB lies between the plateaus");
        assert!(line.contains("(2 MiB)"), "{line}");
        assert!(line.contains("1 thread: 0.160 ns a point at half its size, 1.00 at twice it"), "{line}");
        assert!(line.contains("2 threads, not meeting after each pass: 0.080 ns a point at half its size, 0.667 at twice it"), "{line}");
        assert_eq!(on_a_cache_edge(&curve, (64u64 << 20) / 16), None, "in memory");
        assert_eq!(on_a_cache_edge(&curve, 1000), None, "in the cache");
        let one_thread = BandwidthCurve { threads: 1, all_threads: Vec::new(), ..curve };
        let line = on_a_cache_edge(&one_thread, (2u64 << 20) / 16).expect("one thread's curve");
        assert!(!line.contains("threads"), "{line}");
    }

    #[test]
    fn the_limit_line_says_where_the_probe_s_buffer_lay_when_the_run_recorded_it() {
        let mut environment = Environment::default();
        assert_eq!(placed(&environment, 1 << 30, None), "", "a run that did not record it");
        environment.whole_pages = Some(Some(linreg::placement::WholePages::new(2 << 20, Some(2 << 20))));
        assert_eq!(placed(&environment, 100_000 * 16, None), ", on whole huge pages as the kernels' data", "a probe from before the share");
        assert_eq!(placed(&environment, 100_000 * 16, Some(1.0)), ", on whole huge pages as the kernels' data");
        let partly = placed(&environment, 100_000 * 16, Some(0.5));
        assert!(partly.starts_with(", laid out on whole huge pages as the kernels' data but backed by them for only 50"), "{partly}");
        assert_eq!(placed(&environment, 10_000 * 16, Some(1.0)), "", "below a third of the L2");
        environment.whole_pages = Some(None);
        assert_eq!(placed(&environment, 100_000 * 16, None), "", "no huge pages on this machine");
    }

    #[test]
    fn the_limit_line_says_which_probes_were_made() {
        let on_two = crate::environment::probes::bandwidth::tests::one_mib_probe(None);
        let bandwidth = crate::environment::probes::PointBandwidth { threads: 1, all_threads: None, ..on_two };
        let mut probe = PointLimitProbe::first("s", 0, bandwidth.clone(), "before".into());
        assert_eq!(probed_when(&probe), "measured right before its first run");
        probe.add_after(bandwidth.clone(), "after".into());
        assert!(probed_when(&probe).starts_with("measured right before its first run and again after its last"));
        let mut only_after = PointLimitProbe::first("s", 0, bandwidth, "after".into());
        only_after.measured_after_utc = Some("after".into());
        assert_eq!(probed_when(&only_after), "measured after its last run (the probe before its first could not be made)");
    }

    #[test]
    fn a_row_whose_runs_used_fewer_threads_is_named_with_how_many() {
        let plan = plan_of(&["rust-parallel", "numpy"], "numpy");
        // rust-parallel on 2 threads in two runs and on 1 in the third; numpy always on 1 (as
        // reported by neither: no threads at all).
        let rows: Vec<_> = [("rust-parallel", Some(2)), ("rust-parallel", Some(1)), ("rust-parallel", Some(2))]
            .iter()
            .enumerate()
            .map(|(k, (name, threads))| RawRecord { threads: *threads, ..row(name, k as u32 + 1, RunStatus::Ok, 1.1, 0.01, 1.0, 1) })
            .chain((1..=3).map(|k| row("numpy", k, RunStatus::Ok, 11.0, 0.01, 10.0, 1)))
            .collect();
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let implementations = &summary.scenarios[0].points[0].implementations;
        let parallel = &implementations[0];
        assert_eq!((parallel.threads, parallel.runs_on_fewer_threads, parallel.fewest_threads), (Some(2), 1, Some(1)));
        assert_eq!((implementations[1].runs_on_fewer_threads, implementations[1].fewest_threads), (0, None));
        let line = on_fewer_threads(&implementations.iter().collect::<Vec<_>>()).expect("rust-parallel is named");
        assert!(line.contains("**rust-parallel** on 1 thread in 1 of 3 runs (its limit counts 2 threads)"), "{line}");
        assert!(!line.contains("numpy"), "{line}");
        let same: Vec<_> = rows.iter().map(|r| RawRecord { threads: r.threads.map(|_| 2), ..r.clone() }).collect();
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&same), None);
        assert_eq!(on_fewer_threads(&summary.scenarios[0].points[0].implementations.iter().collect::<Vec<_>>()), None);
    }

    #[test]
    fn a_row_at_the_limit_only_in_its_fastest_run_is_named_with_both() {
        let plan = plan_of(&["rust", "numpy", "numba"], "numpy");
        // Train times 1.0, 1.2 and 1.3 s: the median run is 1/1.2 of the fastest.
        let rows: Vec<_> = [
            ("rust", 1.0),
            ("rust", 1.2),
            ("rust", 1.3),
            ("numpy", 10.0),
            ("numpy", 11.0),
            ("numpy", 12.0),
            ("numba", 1.0),
            ("numba", 1.01),
            ("numba", 1.02),
        ]
        .iter()
        .enumerate()
        .map(|(k, (name, train))| row(name, k as u32 % 3 + 1, RunStatus::Ok, train + 0.1, 0.01, *train, 1))
        .collect();
        let mut summary = summary::summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let implementations = &mut summary.scenarios[0].points[0].implementations;
        for (i, fraction) in implementations.iter_mut().zip([0.80, 0.05, 0.85]) {
            i.fraction_of_limit = Some(fraction);
        }
        let rows: Vec<&ImplementationSummary> = implementations.iter().collect();
        let line = at_limit_in_the_fastest_run(&rows).expect("rust is named");
        assert!(line.contains("**rust** 80% in its median run, 96% in its fastest"), "{line}");
        assert!(!line.contains("numpy"), "far below in every run: {line}");
        assert!(!line.contains("numba"), "its fastest run is below too: {line}");
        implementations[0].fraction_of_limit = Some(0.8996);
        let line = at_limit_in_the_fastest_run(&implementations.iter().collect::<Vec<_>>()).expect("rust is named");
        assert!(line.contains("**rust** 89.96% in its median run"), "short of 90%, so not written as 90%: {line}");
        implementations[0].fraction_of_limit = Some(0.95);
        assert_eq!(at_limit_in_the_fastest_run(&implementations.iter().collect::<Vec<_>>()), None, "at the limit in the median");
    }
}
