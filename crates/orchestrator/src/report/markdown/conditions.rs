//! The machine's conditions where the figures are quoted: a program measured in two scenarios
//! (the same command on the same data) compared in each scenario's section and, when its figures
//! disagree beyond their CIs, on the first screen with the load and the time of each; and the
//! busy-machine warning, on the first screen and in the notes.

use std::collections::{HashMap, HashSet};

use crate::analysis::conditions::{self, LoadReading, Measurement};
use crate::analysis::summary::ScenarioSummary;
use crate::analysis::Analysis;
use crate::environment::Environment;
use crate::format::{self, seconds, seconds_with_ci};
use crate::report::ShortLabels;

/// "the 1-minute load average reached 2.50 on 2 CPUs at the end of the run", when the machine
/// was busy.
fn busy_machine_fact(e: &Environment) -> Option<String> {
    let busy = conditions::busy_machine(e)?;
    let when = match busy.when {
        LoadReading::RunStart => "at the start of the run",
        LoadReading::RunEnd => "at the end of the run",
        LoadReading::OtherWork => {
            return Some(format!(
                "other processes used {} of the {} CPUs' time while the run went on (not counting its own runs, probes and builds)",
                format::percent(busy.load_average),
                busy.cpus
            ))
        }
    };
    Some(format!("the 1-minute load average reached {} on {} CPUs {when}", format::load_average(busy.load_average), busy.cpus))
}

/// The measurement notes' warning of a busy machine.
pub(super) fn busy_machine_warning(e: &Environment) -> Option<String> {
    busy_machine_fact(e).map(|fact| format!("{fact}: other work shared the machine, expect wider intervals"))
}

/// The first screen's lines about the conditions: the busy-machine warning, and for each other
/// scenario that measured a program of the headline point with a CI apart from its own, one line
/// saying so (the opening quotes the headline scenario's figure).
pub(super) fn opening_lines(report: &Analysis, headline: &ScenarioSummary, point: usize) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(fact) = report.environment.as_ref().and_then(busy_machine_fact) {
        lines.push(format!("**Busy machine:** {fact}: expect wider intervals ([notes](#measurement-notes))."));
    }
    // (headline measurement, the other scenario's) whose CIs do not overlap.
    let mut apart: Vec<(&Measurement, &Measurement)> = Vec::new();
    for group in &report.repeated {
        let Some(here) = group.measurements.iter().find(|m| m.scenario == headline.name && m.point == point) else { continue };
        apart.extend(group.measurements.iter().filter(|o| o.scenario != headline.name && !o.agrees_with(here)).map(|o| (here, o)));
    }
    let others = report.plan.scenarios.iter().map(|s| s.name.as_str()).filter(|name| apart.iter().any(|(_, o)| o.scenario == *name));
    for other in others {
        let pairs: Vec<&(&Measurement, &Measurement)> = apart.iter().filter(|(_, o)| o.scenario == other).collect();
        let figures: Vec<String> =
            pairs.iter().map(|(here, o)| format!("{} {}, not {}", o.implementation, wall(o), seconds(here.median_wall_seconds))).collect();
        let (here, o) = pairs[0];
        lines.push(format!(
            "**Measured again in `{other}`**{}: {} — the CIs do not overlap, so the machine's conditions, not the program, made the difference.",
            when_and_load(here, o),
            figures.join("; ")
        ));
    }
    lines
}

/// Under a scenario's results: per other scenario that measured some of its programs (the same
/// command on the same data), the figures side by side and whether their CIs overlap; None when
/// there is none.
pub(super) fn scenario_paragraph(report: &Analysis, scenario: &ScenarioSummary, labels: &ShortLabels) -> Option<String> {
    // (this scenario's measurement, the other scenario's), in the order of the groups.
    let mut pairs: Vec<(&Measurement, &Measurement)> = Vec::new();
    for group in &report.repeated {
        for here in group.measurements.iter().filter(|m| m.scenario == scenario.name) {
            pairs.extend(group.measurements.iter().filter(|o| o.scenario != scenario.name).map(|o| (here, o)));
        }
    }
    let others = report.plan.scenarios.iter().map(|s| s.name.as_str()).filter(|name| pairs.iter().any(|(_, o)| o.scenario == *name));
    let at = points_at(scenario, labels, &pairs);
    let mut lines = Vec::new();
    for other in others {
        let mine: Vec<&(&Measurement, &Measurement)> = pairs.iter().filter(|(_, o)| o.scenario == other).collect();
        let items: Vec<String> = mine
            .iter()
            .map(|(here, o)| {
                let verdict = if here.agrees_with(o) { "their CIs overlap" } else { "**their CIs do not overlap**" };
                let point = at.get(&here.point).map_or("", String::as_str);
                format!("{}{point} {} there, {} here: {verdict}", here.implementation, wall(o), wall(here))
            })
            .collect();
        let apart = mine.iter().any(|(here, o)| !here.agrees_with(o));
        let (here, o) = mine[0];
        lines.push(format!(
            "**Also measured in `{other}`**{}, the same command on the same data: {}.{}\n",
            when_and_load(here, o),
            items.join("; "),
            if apart { " Where the CIs do not overlap, the machine's conditions, not the program, made the difference." } else { "" }
        ));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn wall(m: &Measurement) -> String {
    seconds_with_ci(m.median_wall_seconds, m.ci_low_seconds, m.ci_high_seconds)
}

/// " at n=10^4" for each point of the scenario's measurements in `pairs`, by point index; none
/// when the scenario has one point. Looked up, not searched for, for each pair.
fn points_at(scenario: &ScenarioSummary, labels: &ShortLabels, pairs: &[(&Measurement, &Measurement)]) -> HashMap<usize, String> {
    if scenario.points.len() < 2 {
        return HashMap::new();
    }
    let measured: HashSet<usize> = pairs.iter().map(|(here, _)| here.point).collect();
    // Reversed, so that of two points of one index (a hand-edited plan) the first names it.
    let points = scenario.points.iter().rev().filter(|p| measured.contains(&p.index));
    points.map(|p| (p.index, format!(" at {}", labels.label(p)))).collect()
}

/// " (3m 10s later; 1-minute load average …)": what is known of the other measurement's
/// conditions against this one's, empty when nothing is.
fn when_and_load(here: &Measurement, other: &Measurement) -> String {
    let known: Vec<String> = [time_between(here, other), loads(here, other)].into_iter().flatten().collect();
    if known.is_empty() {
        String::new()
    } else {
        format!(" ({})", known.join("; "))
    }
}

/// "3m 10s later" (or earlier): how far apart the two sets of runs were.
fn time_between(here: &Measurement, other: &Measurement) -> Option<String> {
    let gap = other.at_unix_seconds? - here.at_unix_seconds?;
    let direction = if gap >= 0.0 { "later" } else { "earlier" };
    Some(format!("{} {direction}", format::duration_words(gap.abs())))
}

/// "1-minute load average 0.80→0.95 during `seed`, 2.10→2.50 during `startup`", when the run
/// recorded each scenario's (a scenario cut short has only its start).
fn loads(here: &Measurement, other: &Measurement) -> Option<String> {
    let during = |m: &Measurement| -> Option<String> {
        let start = format::load_average(m.load_at_start?);
        Some(match m.load_at_end {
            Some(end) => format!("{start}→{} during `{}`", format::load_average(end), m.scenario),
            None => format!("{start} at the start of `{}`", m.scenario),
        })
    };
    Some(format!("1-minute load average {}, {}", during(here)?, during(other)?))
}
