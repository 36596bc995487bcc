//! Across machines: full run directories of the same scenarios measured on different machines,
//! set side by side point by point — each implementation's median wall time on each machine with
//! its CI, the ratio of each machine to the first, and whether each claim and the headline
//! speed-up (Rust against the scenario's baseline) hold on every machine.
//!
//! Points are matched by scenario name and point label, so runs of different commits (or a run
//! and a merged sharded run) can be set side by side; a point missing on a machine is named. A
//! label is plan.json's text, which anyone can edit, so a match is compared only when the plans
//! say it measured the same thing (n, epochs, learning rate, fits, data: compare's [`Setup`]);
//! otherwise it is named as not comparable. A plan with two points of one label is refused.
//!
//! A verdict holds on every machine only where it was judged on every machine: a claim with no
//! data on a machine (its scenario or an implementation not measured there) is "not judged" there,
//! which is neither held nor failed.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;

use super::compare::Setup;
use super::index::{self, AtPoint, Grouped};
use super::metric::Metric;
use super::Analysis;
use crate::analysis::claims::Verdict;
use crate::analysis::summary;
use crate::environment::machine::MachineIdentity;
use crate::plan::{PointPlan, ScenarioPlan};
use crate::records::PLAN_JSON;
use crate::stats::{self, Distribution, Ratio};

/// A run directory given to `machines`, with the label the command line gives it (`LABEL=DIR`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MachineRunDir {
    pub label: Option<String>,
    pub dir: PathBuf,
}

/// One machine's run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    /// How the tables name it: the label given with its run directory, else the run's own
    /// (environment.json's, or derived: Environment::label), made unique with "#k" when two runs
    /// share one.
    pub label: String,
    pub run_dir: PathBuf,
    pub hostname: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    pub memory_total_bytes: u64,
    /// The CPU's identity, when environment.json or the files beside the run hold it.
    pub identity: Option<MachineIdentity>,
    pub plan_fingerprint: Option<String>,
    pub git_commit: Option<String>,
    /// What starting any program costs there: /bin/true's median whole-process time, and one
    /// CPUID instruction (the hypervisor's price in a VM; runs before 2026-12-05 have none).
    pub spawn_floor_seconds: Option<f64>,
    pub cpuid_seconds: Option<f64>,
}

/// Whether a verdict holds on every machine, and where not: judged and failed, judged and
/// inconclusive, or not judged at all (no data there). It holds everywhere only when all three
/// are empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Everywhere {
    pub not_held_on: Vec<String>,
    pub inconclusive_on: Vec<String>,
    pub not_judged_on: Vec<String>,
}

impl Everywhere {
    /// Each machine's verdict (None: not judged there), in the order of `machines`.
    pub(crate) fn of(machines: &[Machine], verdicts: &[Option<Verdict>]) -> Everywhere {
        let mut everywhere = Everywhere::default();
        for (machine, verdict) in machines.iter().zip(verdicts) {
            let list = match verdict {
                Some(Verdict::Held) => continue,
                Some(Verdict::NotHeld) => &mut everywhere.not_held_on,
                Some(Verdict::Inconclusive) => &mut everywhere.inconclusive_on,
                Some(Verdict::NoData) | None => &mut everywhere.not_judged_on,
            };
            list.push(machine.label.clone());
        }
        everywhere
    }

    pub(crate) fn held(&self) -> bool {
        self.not_held_on.is_empty() && self.inconclusive_on.is_empty() && self.not_judged_on.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AcrossImplementation {
    pub implementation: String,
    /// Median wall time with its CI, one per machine (None: not measured there).
    pub wall: Vec<Option<Distribution>>,
    /// This machine's median wall over the first machine's, one per machine (the first is 1).
    pub ratio_to_first: Vec<Option<Ratio>>,
    /// Speed-up over the scenario's baseline on each machine.
    pub speedup_vs_baseline: Vec<Option<Ratio>>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AcrossPoint {
    pub scenario: String,
    pub label: String,
    pub baseline: String,
    pub implementations: Vec<AcrossImplementation>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AcrossClaim {
    pub scenario: String,
    pub point_label: String,
    pub claim: String,
    /// One per machine: what was measured and the verdict (None: the claim was not judged there).
    pub measured: Vec<Option<(String, Verdict)>>,
    pub everywhere: Everywhere,
}

/// A point of one scenario and label on every machine, measured differently on some (another n,
/// epochs, learning rate, number of fits or data): a plan.json edited, or runs of other scenario
/// files under the same names. Never compared; its claims are left out of the claims on every
/// machine.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NotComparable {
    pub scenario: String,
    pub label: String,
    /// What differs from the first machine's point, one entry a machine:
    /// "on zen4-2c-32m: n 10 → 10000000, epochs 1000 → 10".
    pub differences: Vec<String>,
    /// The claims judged at the point on any machine, left out.
    pub claims: Vec<String>,
}

/// The headline: `faster` against the scenario's baseline at one point, on each machine.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Headline {
    pub scenario: String,
    pub point_label: String,
    pub faster: String,
    pub baseline: String,
    pub speedup: Vec<Option<Ratio>>,
    /// Faster where the whole CI is above 1, slower (not held) where it is below, inconclusive
    /// where it holds 1, not judged where not measured.
    pub faster_everywhere: Everywhere,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Across {
    pub machines: Vec<Machine>,
    /// Whether every run has the same plan fingerprint (same files, commit and options).
    pub same_plan: bool,
    /// Points measured on every machine, in the first machine's order.
    pub points: Vec<AcrossPoint>,
    /// Points not in every run: "scenario · label: only on A, B".
    pub unmatched: Vec<String>,
    /// Points in every run under one scenario and label, but measured differently on some machine:
    /// never compared. Absent from machines.json when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_comparable: Vec<NotComparable>,
    pub claims: Vec<AcrossClaim>,
    pub headlines: Vec<Headline>,
    /// What could not be read of a run but did not stop the comparison (see Analysis::warnings).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Reads every run directory (at least two, each once) and sets them side by side; runs that
/// share no point are an error, as for `compare`: a wrong pair of runs, not a comparison.
pub(crate) fn analyse(run_dirs: &[MachineRunDir]) -> anyhow::Result<Across> {
    use anyhow::Context;
    if run_dirs.len() < 2 {
        anyhow::bail!("give at least two run directories, one per machine");
    }
    let runs: Vec<Analysis> = run_dirs
        .iter()
        .map(|run| {
            let mut analysis = super::analyse(&run.dir).with_context(|| format!("run directory {}", run.dir.display()))?;
            // Nothing across machines draws a run's samples: let go of each run's before the next
            // is read.
            analysis.samples = Vec::new();
            Ok(analysis)
        })
        .collect::<anyhow::Result<_>>()?;
    let canonical: Vec<Option<PathBuf>> = run_dirs.iter().map(|run| run.dir.canonicalize().ok()).collect();
    for (k, run) in run_dirs.iter().enumerate() {
        if let Some(first) = (0..k).find(|&j| canonical[j].is_some() && canonical[j] == canonical[k]) {
            anyhow::bail!(
                "{} is given twice (also as {}): a run set beside itself is not a second machine",
                run.dir.display(),
                run_dirs[first].dir.display()
            );
        }
    }
    for (run, analysis) in run_dirs.iter().zip(&runs) {
        one_point_a_label(run, analysis)?;
    }
    let across = compare(run_dirs, &runs);
    if across.points.is_empty() {
        let names: Vec<String> = run_dirs.iter().map(|run| run.dir.display().to_string()).collect();
        if !across.not_comparable.is_empty() {
            let unlike: Vec<String> =
                across.not_comparable.iter().map(|p| format!("{} · {}: {}", p.scenario, p.label, p.differences.join("; "))).collect();
            anyhow::bail!(
                "nothing comparable: every scenario point that {} share was measured differently on some machine:\n  {}",
                names.join(", "),
                unlike.join("\n  ")
            );
        }
        anyhow::bail!(
            "nothing to compare: {} share no scenario point (the same scenario name and point label on every machine)",
            names.join(", ")
        );
    }
    Ok(across)
}

/// Refuses a run whose plan has two points of one scenario under one label: points are matched
/// across machines by scenario and label, and of the two one would have been compared and the
/// other dropped without a word. `orchestrator run` never writes such a plan (a label names the
/// point's n, epochs and learning rate, and a scenario measures each point once), so the run's
/// plan.json was edited: which point a label means is for its author to say, not to guess.
fn one_point_a_label(run: &MachineRunDir, analysis: &Analysis) -> anyhow::Result<()> {
    match analysis.plan.label_named_twice() {
        Some(twice) => anyhow::bail!(
            "{}: {twice}: `machines` matches points across machines by scenario and label, so a label must name one point \
             (`orchestrator run` never writes such a plan: was plan.json edited?)",
            run.dir.join(PLAN_JSON).display()
        ),
        None => Ok(()),
    }
}

/// The comparison of already analysed runs (one per machine, in the order given), each plan
/// holding one point a scenario and label (see [`one_point_a_label`]).
pub(crate) fn compare(run_dirs: &[MachineRunDir], runs: &[Analysis]) -> Across {
    let machines = machines(run_dirs, runs);
    let fingerprints: Vec<Option<&String>> =
        runs.iter().map(|r| r.environment.as_ref().and_then(|e| e.plan_fingerprint.as_ref())).collect();
    let same_plan = fingerprints.iter().all(|f| f.is_some() && *f == fingerprints[0]);

    let (mut points, mut unmatched, mut not_comparable) = (Vec::new(), Vec::new(), Vec::new());
    // Every run's points by (scenario, label); the keys in the order the runs first name them.
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut seen = HashSet::new();
    let on_each: Vec<HashMap<(&str, &str), FoundPoint>> = runs
        .iter()
        .map(|r| {
            let mut found = HashMap::new();
            for (scenario, summaries) in r.plan.scenarios.iter().zip(&r.summary.scenarios) {
                for (point, summary) in scenario.points.iter().zip(&summaries.points) {
                    let key = (scenario.name.as_str(), point.label.as_str());
                    found.entry(key).or_insert(FoundPoint { scenario, point, summary });
                    if seen.insert(key) {
                        keys.push(key);
                    }
                }
            }
            found
        })
        .collect();
    let rows: Vec<Grouped<AtPoint>> = runs.iter().map(|r| index::by_point(&r.records)).collect();
    for &(scenario, label) in &keys {
        let found: Vec<Option<FoundPoint>> = on_each.iter().map(|points| points.get(&(scenario, label)).copied()).collect();
        if found.iter().any(Option::is_none) {
            let on: Vec<&str> = found.iter().zip(&machines).filter(|(f, _)| f.is_some()).map(|(_, m)| m.label.as_str()).collect();
            unmatched.push(format!("{scenario} · {label}: only on {}", on.join(", ")));
            continue;
        }
        let found: Vec<FoundPoint> = found.into_iter().flatten().collect();
        let differences = setup_differences(&found, &machines);
        if !differences.is_empty() {
            let (scenario, label) = (scenario.to_string(), label.to_string());
            not_comparable.push(NotComparable { scenario, label, differences, claims: Vec::new() });
            continue;
        }
        let implementations = found[0]
            .summary
            .implementations
            .iter()
            .map(|i| implementation_across(&rows, &found, scenario, label, &i.implementation))
            .collect();
        let baseline = found[0].scenario.baseline.clone();
        points.push(AcrossPoint { scenario: scenario.to_string(), label: label.to_string(), baseline, implementations });
    }

    let claims = claims_across(runs, &machines, &mut not_comparable);
    let headlines = points.iter().filter_map(|p| headline(p, &machines)).collect();
    let unlike = not_comparable
        .iter()
        .map(|p| format!("warning: {} · {}: measured differently ({}): not compared", p.scenario, p.label, p.differences.join("; ")));
    let warnings = runs.iter().flat_map(Analysis::warnings).chain(unlike).collect();
    Across { machines, same_plan, points, unmatched, not_comparable, claims, headlines, warnings }
}

/// A point of one run: what its plan says of it and of its scenario, and its summary.
#[derive(Clone, Copy)]
struct FoundPoint<'a> {
    scenario: &'a ScenarioPlan,
    point: &'a PointPlan,
    summary: &'a summary::PointSummary,
}

/// What the point measured on each machine but the first and not on the first, one entry a
/// machine ("on zen4-2c-32m: n 10 → 10000000, epochs 1000 → 10"), for the implementations both
/// plans name there; empty when it measured the same everywhere.
fn setup_differences(found: &[FoundPoint], machines: &[Machine]) -> Vec<String> {
    fn setups<'a>(f: &FoundPoint<'a>) -> HashMap<&'a str, Setup> {
        f.scenario.implementations.iter().map(|i| (i.name.as_str(), Setup::planned(f.scenario, f.point, i).on_any_machine())).collect()
    }
    let first = setups(&found[0]);
    let mut out = Vec::new();
    for (here, machine) in found.iter().zip(machines).skip(1) {
        let here = setups(here);
        let (mut phrases, mut said) = (Vec::new(), HashSet::new());
        for implementation in &found[0].scenario.implementations {
            let name = implementation.name.as_str();
            let (Some(first), Some(other)) = (first.get(name), here.get(name)) else { continue };
            phrases.extend(first.differences(other).into_iter().filter(|phrase| said.insert(phrase.clone())));
        }
        if !phrases.is_empty() {
            out.push(format!("on {}: {}", machine.label, phrases.join(", ")));
        }
    }
    out
}

/// One implementation of a point found on every machine (`found`: the point on each, in the
/// order of the runs, whose rows are `rows`).
fn implementation_across(
    rows: &[Grouped<AtPoint>],
    found: &[FoundPoint],
    scenario: &str,
    label: &str,
    implementation: &str,
) -> AcrossImplementation {
    let on_each: Vec<Option<&summary::ImplementationSummary>> =
        found.iter().map(|f| f.summary.implementations.iter().find(|x| x.implementation == implementation)).collect();
    let walls: Vec<Vec<f64>> = rows
        .iter()
        .zip(found)
        .map(|(rows, f)| summary::values(rows.rows(&(&f.scenario.name, f.point.index, implementation)), Metric::Wall))
        .collect();
    let ratio_to_first = walls
        .iter()
        .map(|w| stats::ratio_of_medians(w, &walls[0], stats::seed_for(&format!("across/{scenario}/{label}/{implementation}"))))
        .collect();
    AcrossImplementation {
        implementation: implementation.to_string(),
        wall: on_each.iter().map(|x| x.and_then(|x| x.wall.clone())).collect(),
        ratio_to_first,
        speedup_vs_baseline: on_each.iter().map(|x| x.and_then(|x| x.speedup_vs_baseline)).collect(),
    }
}

fn machines(run_dirs: &[MachineRunDir], runs: &[Analysis]) -> Vec<Machine> {
    let mut machines: Vec<Machine> = run_dirs
        .iter()
        .zip(runs)
        .map(|(run, r)| {
            let own_label = r.environment.as_ref().map_or_else(|| "unknown".to_string(), |e| e.label());
            let e = r.environment.clone().unwrap_or_default();
            Machine {
                label: run.label.clone().unwrap_or(own_label),
                run_dir: run.dir.clone(),
                hostname: e.hostname,
                cpu_model: e.cpu_model,
                logical_cpus: e.logical_cpus,
                memory_total_bytes: e.memory_total_bytes,
                identity: e.machine,
                plan_fingerprint: e.plan_fingerprint,
                git_commit: e.git_commit,
                spawn_floor_seconds: e.spawn_floor_seconds,
                cpuid_seconds: e.cpuid_cost.map(|c| c.median_seconds),
            }
        })
        .collect();
    let labels: Vec<String> = machines.iter().map(|m| m.label.clone()).collect();
    for (k, machine) in machines.iter_mut().enumerate() {
        if labels.iter().filter(|l| **l == labels[k]).count() > 1 {
            machine.label = format!("{}#{}", labels[k], k + 1);
        }
    }
    machines
}

/// Every claim judged on any machine, with its verdict on each; a claim at a point measured
/// differently on some machine is not set beside itself but named with that point.
fn claims_across(runs: &[Analysis], machines: &[Machine], not_comparable: &mut [NotComparable]) -> Vec<AcrossClaim> {
    let mut out: Vec<AcrossClaim> = Vec::new();
    let mut positions: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let unlike: HashMap<(&str, &str), usize> =
        not_comparable.iter().enumerate().map(|(k, p)| ((p.scenario.as_str(), p.label.as_str()), k)).collect();
    let mut left_out: Vec<(usize, &str)> = Vec::new();
    for (m, r) in runs.iter().enumerate() {
        for c in &r.claims {
            if let Some(&k) = unlike.get(&(c.scenario.as_str(), c.point_label.as_str())) {
                left_out.push((k, &c.claim));
                continue;
            }
            let index = match positions.get(&(c.scenario.as_str(), c.point_label.as_str(), c.claim.as_str())) {
                Some(&index) => index,
                None => {
                    positions.insert((c.scenario.as_str(), c.point_label.as_str(), c.claim.as_str()), out.len());
                    out.push(AcrossClaim {
                        scenario: c.scenario.clone(),
                        point_label: c.point_label.clone(),
                        claim: c.claim.clone(),
                        measured: vec![None; runs.len()],
                        everywhere: Everywhere::default(),
                    });
                    out.len() - 1
                }
            };
            out[index].measured[m] = Some((c.measured.clone(), c.verdict));
        }
    }
    drop(unlike);
    for (k, claim) in left_out {
        if !not_comparable[k].claims.iter().any(|c| c == claim) {
            not_comparable[k].claims.push(claim.to_string());
        }
    }
    for claim in &mut out {
        let verdicts: Vec<Option<Verdict>> = claim.measured.iter().map(|m| m.as_ref().map(|(_, v)| *v)).collect();
        claim.everywhere = Everywhere::of(machines, &verdicts);
    }
    out
}

/// Rust (the implementation named "rust", else the first that is not the baseline) against the
/// baseline at one point.
fn headline(point: &AcrossPoint, machines: &[Machine]) -> Option<Headline> {
    let candidates: Vec<&AcrossImplementation> = point.implementations.iter().filter(|i| i.implementation != point.baseline).collect();
    let faster = candidates.iter().find(|i| i.implementation == "rust").or_else(|| candidates.first())?;
    let verdicts: Vec<Option<Verdict>> = faster
        .speedup_vs_baseline
        .iter()
        .map(|r| {
            r.as_ref().map(|r| match (r.ci_low > 1.0, r.ci_high < 1.0) {
                (true, _) => Verdict::Held,
                (_, true) => Verdict::NotHeld,
                _ => Verdict::Inconclusive,
            })
        })
        .collect();
    let faster_everywhere = Everywhere::of(machines, &verdicts);
    Some(Headline {
        scenario: point.scenario.clone(),
        point_label: point.label.clone(),
        faster: faster.implementation.clone(),
        baseline: point.baseline.clone(),
        speedup: faster.speedup_vs_baseline.clone(),
        faster_everywhere,
    })
}

/// Whether everything that was claimed was judged and held on every machine (for --check: a
/// claim not judged on a machine is not a claim that held there, nor one at a point measured
/// differently there).
pub(crate) fn all_hold(across: &Across) -> bool {
    across.claims.iter().all(|c| c.everywhere.held()) && across.not_comparable.iter().all(|p| p.claims.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A machine of that label and nothing else known; tests change what they are about with
    /// struct update syntax.
    pub(crate) fn machine(label: &str) -> Machine {
        Machine {
            label: label.into(),
            run_dir: PathBuf::from(label),
            hostname: String::new(),
            cpu_model: String::new(),
            logical_cpus: 2,
            memory_total_bytes: 0,
            identity: None,
            plan_fingerprint: None,
            git_commit: None,
            spawn_floor_seconds: None,
            cpuid_seconds: None,
        }
    }

    #[test]
    fn a_verdict_holds_everywhere_only_where_it_was_judged_everywhere() {
        let machines: Vec<Machine> = ["a", "b", "c", "d"].iter().map(|l| machine(l)).collect();
        let held = Everywhere::of(&machines, &[Some(Verdict::Held); 4]);
        assert!(held.held());
        let unjudged = Everywhere::of(&machines, &[Some(Verdict::Held), None, Some(Verdict::NoData), Some(Verdict::Held)]);
        assert!(!unjudged.held(), "not judged on b and c is not held everywhere");
        assert_eq!(unjudged, Everywhere { not_judged_on: vec!["b".into(), "c".into()], ..Everywhere::default() });
        let mixed = Everywhere::of(&machines, &[Some(Verdict::NotHeld), Some(Verdict::Inconclusive), None, Some(Verdict::Held)]);
        assert_eq!((mixed.not_held_on, mixed.inconclusive_on, mixed.not_judged_on), (vec!["a".into()], vec!["b".into()], vec!["c".into()]));
    }

    /// A run of scenario "s" (rust against python, 3 runs each) at points of these labels and n.
    pub(crate) fn run_of(points: &[(&str, u64)]) -> Analysis {
        use crate::plan::Order;
        use crate::records::{RawRecord, RunStatus};
        use crate::testutil;
        let implementations = vec![testutil::implementation("rust"), testutil::implementation("python")];
        let planned =
            points.iter().enumerate().map(|(k, &(label, n))| PointPlan { label: label.into(), n, ..testutil::point(k) }).collect();
        let plan = testutil::plan(implementations, "python", planned, testutil::measure(3, Order::Interleaved));
        let mut records = Vec::new();
        for (point, &(label, n)) in points.iter().enumerate() {
            for (name, wall) in [("rust", 0.001), ("python", 0.1)] {
                let row = |rep| summary::tests::row(name, rep, RunStatus::Ok, wall * n as f64, 0.0, 0.0, 1);
                records.extend((1..=3).map(|rep| RawRecord { point, point_label: label.into(), n, ..row(rep) }));
            }
        }
        let summary = summary::summarise(&plan, &index::by_point(&records), None);
        Analysis { records, ..testutil::analysis(plan, summary) }
    }

    pub(crate) fn run_dirs() -> Vec<MachineRunDir> {
        ["a", "b"].iter().map(|name| MachineRunDir { label: Some(name.to_string()), dir: PathBuf::from(name) }).collect()
    }

    /// Hostile round five: with the labels of n=10 and n=10^7 swapped in one run's plan.json,
    /// `machines` set n=10 on one machine against n=10^7 on the other ("260×") and said nothing.
    /// A label match is compared only when the plans say the same was measured.
    #[test]
    fn a_label_that_names_another_point_on_another_machine_is_not_compared() {
        let a = run_of(&[("n=10", 10), ("n=1000", 1000), ("n=50", 50)]);
        let b = run_of(&[("n=1000", 10), ("n=10", 1000), ("n=50", 50)]);
        let across = compare(&run_dirs(), &[a, b]);
        let compared: Vec<&str> = across.points.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(compared, ["n=50"], "only the point measured alike");
        let unlike: Vec<(&str, &[String])> = across.not_comparable.iter().map(|p| (p.label.as_str(), &p.differences[..])).collect();
        assert_eq!(unlike, [("n=10", &["on b: n 10 → 1000".to_string()][..]), ("n=1000", &["on b: n 1000 → 10".to_string()][..])]);
        assert_eq!(across.headlines.len(), 1);
        assert!(across.warnings.iter().any(|w| w.contains("s · n=10: measured differently (on b: n 10 → 1000)")), "{:?}", across.warnings);
    }

    /// The claims at a point measured differently are not set beside each other: they are named
    /// with the point, and --check does not pass.
    #[test]
    fn the_claims_of_a_point_measured_differently_are_left_out_and_fail_the_check() {
        let claim = |point_label: &str, verdict| crate::analysis::claims::ClaimResult {
            scenario: "s".into(),
            point: 0,
            point_label: point_label.into(),
            claim: "rust is faster".into(),
            source: None,
            measured: "100×".into(),
            subject: "rust".into(),
            short: String::new(),
            verdict,
        };
        let a =
            Analysis { claims: vec![claim("n=10", Verdict::Held), claim("n=50", Verdict::Held)], ..run_of(&[("n=10", 10), ("n=50", 50)]) };
        let b =
            Analysis { claims: vec![claim("n=10", Verdict::Held), claim("n=50", Verdict::Held)], ..run_of(&[("n=10", 20), ("n=50", 50)]) };
        let across = compare(&run_dirs(), &[a, b]);
        let claimed: Vec<&str> = across.claims.iter().map(|c| c.point_label.as_str()).collect();
        assert_eq!(claimed, ["n=50"]);
        assert_eq!(across.not_comparable[0].claims, ["rust is faster"]);
        assert!(!all_hold(&across), "a claim not compared did not hold on every machine");
    }

    /// Hostile round five: five points of one label in one plan, and `machines` compared the first
    /// and dropped four without a word. Which point a label means is the plan's author's to say.
    #[test]
    fn a_plan_with_two_points_of_one_label_is_refused_by_folder_scenario_and_label() {
        let twice = run_of(&[("n=10", 10), ("lr=0.1", 20), ("lr=0.1", 30)]);
        let error = one_point_a_label(&run_dirs()[1], &twice).expect_err("refused").to_string();
        assert!(error.starts_with("b/plan.json: scenario 's' has two points labelled 'lr=0.1' (#1 and #2)"), "{error}");
        assert!(one_point_a_label(&run_dirs()[0], &run_of(&[("n=10", 10), ("n=20", 20)])).is_ok());
    }
}
