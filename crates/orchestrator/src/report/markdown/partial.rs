//! The note that opens a partial report: one rendered while the run goes on (after each
//! scenario), or of a run that stopped before its end, saying which scenarios are in it and
//! which are still to run. Its wording is here and only here.

use crate::analysis::Analysis;

/// "**Partial report** — …", or None for a run that finished (or one too old to say).
pub(super) fn partial_note(report: &Analysis) -> Option<String> {
    let e = report.environment.as_ref()?;
    let running = e.ended_utc.is_none();
    if !running && !e.interrupted {
        return None;
    }
    let names = |finished: bool| -> Vec<String> {
        report.plan.scenarios.iter().filter(|s| e.scenario_finished(&s.name) == finished).map(|s| format!("`{}`", s.name)).collect()
    };
    let (done, to_run) = (names(true), names(false));
    if e.scenarios.is_empty() {
        // A run from before scenarios' ends were recorded: the interruption note says the rest.
        return running.then(|| "**Partial report** — the run had not finished when this was written.".to_string());
    }
    if to_run.is_empty() {
        return None;
    }
    let done = if done.is_empty() { "no scenario finished".to_string() } else { format!("finished: {}", done.join(", ")) };
    Some(if running {
        format!(
            "**Partial report** — the run had not finished when this was written ({done}; still to run: {}); a run rewrites it after each scenario.",
            to_run.join(", ")
        )
    } else {
        format!("**Partial report** — the run was interrupted ({done}; not finished: {}).", to_run.join(", "))
    })
}

/// Whether `scenario` has yet to run in a run that goes on: its rows are not missing, only not
/// measured yet, and no warning counts them (a partial report had said "Incomplete run: 180 of
/// the 825 planned runs have a row (the run was stopped part-way…)" of a run under way).
pub(super) fn yet_to_run(report: &Analysis, scenario: &str) -> bool {
    report
        .environment
        .as_ref()
        .is_some_and(|e| e.ended_utc.is_none() && !e.interrupted && !e.scenarios.is_empty() && !e.scenario_finished(scenario))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary;
    use crate::environment::{Environment, ScenarioConditions};
    use crate::plan::{Order, Plan, ScenarioPlan};
    use crate::testutil;

    /// Scenarios a and b; `ended` of them recorded as finished.
    fn report(ended_utc: Option<&str>, interrupted: bool, ended: &[&str]) -> Analysis {
        let one =
            testutil::plan(vec![testutil::implementation("x")], "x", vec![testutil::point(0)], testutil::measure(1, Order::Interleaved));
        let scenario = |name: &str| ScenarioPlan { name: name.into(), ..one.scenarios[0].clone() };
        let plan = Plan { scenarios: vec![scenario("a"), scenario("b")] };
        let conditions = ["a", "b"].map(|name| ScenarioConditions {
            scenario: name.into(),
            started_utc: "2027-01-01T00:00:00Z".into(),
            load_average_start: None,
            ended_utc: ended.contains(&name).then(|| "2027-01-01T00:01:00Z".into()),
            load_average_end: None,
        });
        let environment =
            Environment { ended_utc: ended_utc.map(String::from), interrupted, scenarios: conditions.to_vec(), ..Environment::default() };
        let summary = summary::summarise(&plan, &crate::analysis::index::by_point(&[]), None);
        Analysis { environment: Some(environment), ..testutil::analysis(plan, summary) }
    }

    #[test]
    fn a_report_says_it_is_partial_until_the_run_has_ended_every_scenario() {
        let finished = report(Some("2027-01-01T00:02:00Z"), false, &["a", "b"]);
        assert_eq!(partial_note(&finished), None);
        let running = partial_note(&report(None, false, &["a"])).unwrap();
        assert!(running.contains("not finished when this was written (finished: `a`; still to run: `b`)"), "{running}");
        let interrupted = partial_note(&report(Some("2027-01-01T00:02:00Z"), true, &[])).unwrap();
        assert_eq!(interrupted, "**Partial report** — the run was interrupted (no scenario finished; not finished: `a`, `b`).");
        let mut old = report(None, false, &[]);
        old.environment.as_mut().unwrap().scenarios.clear();
        assert_eq!(partial_note(&old).as_deref(), Some("**Partial report** — the run had not finished when this was written."));
    }

    #[test]
    fn a_scenario_still_to_run_is_not_called_incomplete() {
        // No rows at all: scenario a has finished without them, b has yet to run.
        let running = report(None, false, &["a"]);
        assert!(!yet_to_run(&running, "a") && yet_to_run(&running, "b"));
        let mut warnings = String::new();
        super::super::warnings::warnings_section(&mut warnings, &running);
        assert!(warnings.contains("Incomplete run: 0 of the 1 planned runs have a row"), "{warnings}");
        assert!(warnings.contains("`a`") && !warnings.contains("`b`"), "{warnings}");
        for ended in [report(Some("2027-01-01T00:02:00Z"), true, &["a"]), report(Some("2027-01-01T00:02:00Z"), false, &["a", "b"])] {
            assert!(!yet_to_run(&ended, "b"), "an interrupted or finished run has nothing still to run");
        }
    }
}
