//! The short table printed at the end of a run: per point each implementation's wall time,
//! peak memory, speed-up and status, then the claims' count.

use std::fmt::Write as _;

use super::status_words;
use crate::analysis::claims::Verdict;
use crate::analysis::summary::Outcome;
use crate::analysis::Analysis;
use crate::format::{self, bytes, seconds};

/// The short table printed at the end of a run.
pub(crate) fn terminal_summary(report: &Analysis) -> String {
    let mut out = String::new();
    if let Some(shortfall) = super::warnings::shortfall(&report.summary.scenarios) {
        let _ = writeln!(out, "warning: incomplete run: {shortfall} (the report's first lines say which)");
    }
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
                let _ = writeln!(out, "  {:<20} {:>10} {:>11}  {:<28} {}", i.implementation, wall, rss, speed, status_words(i));
            }
        }
    }
    let held = report.claims.iter().filter(|c| c.verdict == Verdict::Held).count();
    if !report.claims.is_empty() {
        let _ = writeln!(
            out,
            "claims: {held} of {} held ({} not held)",
            report.claims.len(),
            crate::analysis::claims::not_held(&report.claims)
        );
    }
    out
}
