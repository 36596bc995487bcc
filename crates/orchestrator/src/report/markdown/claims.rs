//! A scenario's claims: each `expect:` entry, the point it was judged at, its source, what was
//! measured and the verdict.

use std::fmt::Write as _;

use crate::analysis::summary::{PointSummary, ScenarioSummary};
use crate::analysis::Analysis;
use crate::report::escape::{id, text};
use crate::report::marks::Mark;
use crate::report::ShortLabels;

/// The "Claims" table of one scenario, nothing when it makes none.
pub(super) fn claims_section(out: &mut String, report: &Analysis, summary: &ScenarioSummary, labels: &ShortLabels) {
    let claims: Vec<_> = report.claims.iter().filter(|c| c.scenario == summary.name).collect();
    if !claims.is_empty() {
        let _ = writeln!(out, "<a id=\"claims-{}\"></a>\n### Claims\n", id(&summary.name));
        let _ = writeln!(out, "| claim | point | source | measured | verdict |\n|---|---|---|---|---|");
        let points: std::collections::HashMap<usize, &PointSummary> = summary.points.iter().map(|p| (p.index, p)).collect();
        for c in claims {
            let point = points.get(&c.point).map_or(c.point_label.clone(), |p| labels.label(p));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                text(&c.claim),
                text(&point),
                text(c.source.as_deref().unwrap_or("")),
                text(&c.measured),
                Mark::of_verdict(c.verdict)
            );
        }
        let _ = writeln!(out);
    }
}
