//! Under each point's phases table: which limit its rows are held to — the bandwidth measured
//! right before the point ran, with its spread, or the start-of-run curve's — and why any row that
//! was measured faster than its limit (above 105% of it) could be.

use std::fmt::Write as _;

use crate::analysis::summary::{Outcome, PointSummary};
use crate::analysis::Analysis;
use crate::environment::probes::{ns_per_point, BandwidthAtSize};
use crate::format::{self, percent};
use crate::report::escape::text;

/// Above this fraction of its limit a row gets a line saying why it can be.
const ABOVE_LIMIT: f64 = 1.05;

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
    let source = match environment.point_bandwidth(scenario, point.index) {
        Some(measured) => {
            let all = measured.all_threads.as_ref().map_or(String::new(), |a| format!("; {} threads {}", measured.threads, spread(a)));
            format!(
                "Limit at this point: the read bandwidth of its own working set ({}), measured right before its first run: 1 thread {}{all}. The limit is the best sample; the median says how steady the machine was.",
                format::bytes_compact(measured.single_thread.working_set_bytes as f64),
                spread(&measured.single_thread)
            )
        }
        None => "Limit at this point: the bandwidth curve measured at the start of the run (best samples).".to_string(),
    };
    let _ = writeln!(out, "{source}\n");
    let above: Vec<String> = rows
        .iter()
        .filter(|i| i.outcome == Outcome::Ok)
        .filter_map(|i| i.fraction_of_limit.filter(|f| *f > ABOVE_LIMIT).map(|f| format!("**{}** {}", text(&i.implementation), percent(f))))
        .collect();
    if !above.is_empty() {
        let _ = writeln!(
            out,
            "> Faster than the limit: {} of it. They beat the best sample of the probe: the probe and the runs did not see the same machine (on a shared VM the memory's speed moves from second to second: compare the probe's median with its best), or their loops stream the data better than the probe's.\n",
            above.join(", ")
        );
    }
}
