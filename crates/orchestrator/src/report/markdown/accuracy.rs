//! A scenario's accuracy: each implementation's fit against the in-process reference and its
//! distance from the exact least-squares optimum.

use std::fmt::Write as _;

use crate::analysis::accuracy::PointAccuracy;
use crate::analysis::summary::ScenarioSummary;
use crate::format::{parameter, scientific};
use crate::report::escape::text;
use crate::report::marks::Mark;
use crate::report::ShortLabels;

pub(super) fn accuracy_section(out: &mut String, summary: &ScenarioSummary, labels: &ShortLabels, accuracy: &[PointAccuracy]) {
    let _ = writeln!(out, "### Accuracy\n");
    let tolerance = accuracy.first().map_or(String::new(), |a| {
        format!(" (they agree when within {:e}; a fit that does not is marked {})", a.relative_tolerance, Mark::Differs)
    });
    let _ = writeln!(
        out,
        "Each implementation's fit against the reference, gradient descent computed in-process by the linreg library with the same algorithm and epochs{tolerance}, and its distance from the exact least-squares optimum (OLS). A large distance from OLS with agreement between implementations means the epochs did not converge, not that anyone is wrong.\n"
    );
    let _ = writeln!(out, "| point | fit | w | b | vs reference | \\|w − w_ols\\| | \\|b − b_ols\\| |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    let sci = scientific;
    for (point, a) in summary.points.iter().zip(accuracy) {
        let mut label = text(&labels.label(point)).to_string();
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
            (None, Some(note)) => row("*reference*", text(note).to_string(), String::new(), String::new(), (String::new(), String::new())),
            (None, None) => {}
        }
        for i in &a.implementations {
            let versus = match (i.agrees, i.diverged_at_epoch) {
                // Agreement is the rule: only its exception is marked, so the table stays narrow.
                (Some(true), Some(_)) => "diverged, same epoch".into(),
                (Some(false), Some(epoch)) => format!("{} diverged at epoch {epoch}", Mark::Differs),
                (_, Some(epoch)) => format!("diverged at epoch {epoch}"),
                (Some(false), None) => format!("{} {}", Mark::Differs, sci(i.relative_error_vs_reference)),
                (_, None) => sci(i.relative_error_vs_reference),
            };
            // A diverged fit's parameters are whatever its last epoch left: no distance means anything.
            let distances = match i.diverged_at_epoch {
                Some(_) => ("—".into(), "—".into()),
                None => (sci(i.w_distance_from_ols), sci(i.b_distance_from_ols)),
            };
            row(&text(&i.implementation).to_string(), parameter(i.w), parameter(i.b), versus, distances);
        }
    }
    let _ = writeln!(out);
}
