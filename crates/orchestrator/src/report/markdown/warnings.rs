//! The report's first lines when its records are not what the plan asked for: a run stopped
//! part-way (how many of the planned runs have a row, per point and implementation), rows the plan
//! does not name, rows set aside (a run's second row, implausible times), a last line cut short,
//! samples.csv not read.
//! Said before anything else, since every figure below depends on it; and the same count in a
//! scenario's description and in the terminal.

use std::fmt::Write as _;

use crate::analysis::summary::ScenarioSummary;
use crate::analysis::unplanned::Lacks;
use crate::analysis::Analysis;
use crate::records::Why;
use crate::report::marks::Mark;

/// At most this many points (or groups of rows left out) are listed; the rest are counted.
const LISTED: usize = 6;

/// "5 of the 12 planned runs have a row", when some counted runs of these scenarios have none.
pub(super) fn shortfall<'a>(scenarios: impl IntoIterator<Item = &'a ScenarioSummary>) -> Option<String> {
    let implementations = scenarios.into_iter().flat_map(|s| &s.points).flat_map(|p| &p.implementations);
    let (missing, planned) = implementations.fold((0, 0), |(missing, planned), i| (missing + i.missing_runs, planned + i.planned_runs()));
    (missing > 0).then(|| format!("{} of the {planned} planned runs have a row", planned - missing))
}

/// "Incomplete run: …", when some planned runs of the scenarios that have run have no row.
fn incomplete(report: &Analysis) -> Option<String> {
    let counted: Vec<&ScenarioSummary> = report.summary.scenarios.iter().filter(|s| !super::partial::yet_to_run(report, &s.name)).collect();
    let shortfall = shortfall(counted.iter().copied())?;
    // A row set aside for its times counts as missing: say so, not only a stopped run.
    let implausible = report.set_aside.iter().any(|s| matches!(s.why, Why::Implausible(_)));
    let causes = if implausible {
        "the run was stopped part-way, raw.csv lost rows, or a row is left out for its times (below)"
    } else {
        "the run was stopped part-way, or raw.csv lost rows"
    };
    Some(format!(
        "{} **Incomplete run: {shortfall}** ({causes}); every figure below is of the runs that exist. {}.",
        Mark::Warning,
        missing_by_point(&counted)
    ))
}

/// The warnings, one list item each: the first items of the first screen's list (which follows at
/// once); nothing when the records are whole.
pub(super) fn warnings_section(out: &mut String, report: &Analysis) {
    let mut lines: Vec<String> = incomplete(report).into_iter().collect();
    if !report.unplanned.is_empty() {
        let rows: usize = report.unplanned.iter().map(|u| u.rows).sum();
        let named: Vec<String> = report
            .unplanned
            .iter()
            .map(|u| {
                let what = match u.lacks {
                    Lacks::Scenario => format!("scenario {}", plain(&u.scenario)),
                    Lacks::Point => format!("point #{} in {}", u.point, plain(&u.scenario)),
                    Lacks::Implementation => format!("implementation {} in {}", plain(&u.implementation), plain(&u.scenario)),
                    Lacks::Repetition => format!("repetition of that number in {}", plain(&u.scenario)),
                    Lacks::Setup => format!("point #{} in {} with the rows' n, epochs and learning rate", u.point, plain(&u.scenario)),
                    Lacks::Fits => format!(
                        "run of the rows' number of fits at point #{} in {} (it asks another --fits K there)",
                        u.point,
                        plain(&u.scenario)
                    ),
                };
                format!("{what} ({} row(s) of {} at #{})", u.rows, plain(&u.implementation), u.point)
            })
            .collect();
        lines.push(format!(
            "{} **{rows} row(s) of raw.csv are left out**: the plan has no {}.",
            Mark::Warning,
            listed(&named, |more| format!("and {more} more"))
        ));
    }
    if !report.set_aside.is_empty() {
        let named: Vec<String> = report
            .set_aside
            .iter()
            .map(|s| {
                let run = format!("{} repetition {} at #{}", plain(&s.implementation), s.repetition, s.point);
                match &s.why {
                    Why::Duplicate { first_line, .. } => format!("line {}, a second row of {run} (line {first_line} is kept)", s.line),
                    // Its column names and figures only: numbers formatted here, nothing copied from the row.
                    Why::Implausible(problem) => format!("line {}, {run}: {problem}", s.line),
                }
            })
            .collect();
        lines.push(format!(
            "{} **{} row(s) of raw.csv are left out of every statistic** (each run counts once; times no run can have \
             together are not measurements): {}.",
            Mark::Warning,
            report.set_aside.len(),
            listed(&named, |more| format!("and {more} more"))
        ));
    }
    for cut in &report.cut_short {
        let file = cut.path.file_name().map_or(String::new(), |name| name.to_string_lossy().into_owned());
        lines.push(format!(
            "{} {} line {} was cut short (the run was stopped while writing it) and is left out.",
            Mark::Warning,
            plain(&file),
            cut.line
        ));
    }
    if report.samples_problem.is_some() {
        // Why in fixed words: the terminal's warning names the file and what it is.
        lines.push(format!(
            "{} samples.csv was not read (not a regular file, larger than any run writes, or more samples than a report holds): \
             no chart of memory over time, no steady memory of warm fits.",
            Mark::Warning
        ));
    }
    for line in &lines {
        let _ = writeln!(out, "- {line}");
    }
}

/// "Runs with a row: `seed` n=5: rust 3 of 6, python-numpy 2 of 6".
fn missing_by_point(scenarios: &[&ScenarioSummary]) -> String {
    let mut points = Vec::new();
    for scenario in scenarios {
        let labels = crate::report::ShortLabels::of(scenario);
        for point in &scenario.points {
            let short: Vec<String> = point
                .implementations
                .iter()
                .filter(|i| i.missing_runs > 0)
                .map(|i| format!("{} {} of {}", i.implementation, i.planned_runs() - i.missing_runs, i.planned_runs()))
                .collect();
            if !short.is_empty() {
                points.push(format!("`{}` {}: {}", scenario.name, labels.label(point), short.join(", ")));
            }
        }
    }
    format!("Runs with a row: {}", listed(&points, |more| format!("{more} more point(s)")))
}

/// The first [`LISTED`] items, joined, and how many more there are.
fn listed(items: &[String], more: impl Fn(usize) -> String) -> String {
    let mut text = items.iter().take(LISTED).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > LISTED {
        let _ = write!(text, "; {}", more(items.len() - LISTED));
    }
    text
}

/// A name from raw.csv (which anyone can edit) as code when it is a plain name, else only said to
/// be there: it never reaches the report as markup.
fn plain(name: &str) -> String {
    let is_plain = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if is_plain {
        format!("`{name}`")
    } else {
        "(a name with other characters)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{index, summary};
    use crate::plan::{Order, PointPlan};
    use crate::testutil;

    /// A sent plan.json may hold 200 000 points. Each point's short label needs what varies between
    /// the scenario's points, found by looking at all of them: found once a scenario, 50 000
    /// points without a row are listed at once (found once a point, as before, it took hours).
    #[test]
    fn an_incomplete_run_of_many_points_is_listed_at_once() {
        let points: Vec<PointPlan> = (0..50_000).map(|k| PointPlan { epochs: 1000 + k as u64, ..testutil::point(k) }).collect();
        let plan = testutil::plan(vec![testutil::implementation("rust")], "rust", points, testutil::measure(2, Order::Interleaved));
        let summary = summary::summarise(&plan, &index::by_point(&[]), None);
        let line = missing_by_point(&summary.scenarios.iter().collect::<Vec<_>>());
        assert!(line.starts_with("Runs with a row: `s` epochs=1000: rust 0 of 2; `s` epochs=1001: rust 0 of 2;"), "{line}");
        assert!(line.ends_with("; 49994 more point(s)"), "{line}");
    }
}
