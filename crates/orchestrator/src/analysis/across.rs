//! Across machines: full run directories of the same scenarios measured on different machines,
//! set side by side point by point — each implementation's median wall time on each machine with
//! its CI, the ratio of each machine to the first, and whether each claim and the headline
//! speed-up (Rust against the scenario's baseline) hold on every machine.
//!
//! Points are matched by scenario name and point label, so runs of different commits (or a run
//! and a merged sharded run) can be set side by side; a point missing on a machine is named.
//!
//! A verdict holds on every machine only where it was judged on every machine: a claim with no
//! data on a machine (its scenario or an implementation not measured there) is "not judged" there,
//! which is neither held nor failed.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;

use super::index::{self, AtPoint, Grouped};
use super::metric::Metric;
use super::Analysis;
use crate::analysis::claims::Verdict;
use crate::analysis::summary;
use crate::environment::machine::MachineIdentity;
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
    let across = compare(run_dirs, &runs);
    if across.points.is_empty() {
        let names: Vec<String> = run_dirs.iter().map(|run| run.dir.display().to_string()).collect();
        anyhow::bail!(
            "nothing to compare: {} share no scenario point (the same scenario name and point label on every machine)",
            names.join(", ")
        );
    }
    Ok(across)
}

/// The comparison of already analysed runs (one per machine, in the order given).
pub(crate) fn compare(run_dirs: &[MachineRunDir], runs: &[Analysis]) -> Across {
    let machines = machines(run_dirs, runs);
    let fingerprints: Vec<Option<&String>> =
        runs.iter().map(|r| r.environment.as_ref().and_then(|e| e.plan_fingerprint.as_ref())).collect();
    let same_plan = fingerprints.iter().all(|f| f.is_some() && *f == fingerprints[0]);

    let mut points = Vec::new();
    let mut unmatched = Vec::new();
    // Every run's points by (scenario, label), the first of each kept; the keys in the order the
    // runs first name them.
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut seen = HashSet::new();
    let on_each: Vec<HashMap<(&str, &str), FoundPoint>> = runs
        .iter()
        .map(|r| {
            let mut found = HashMap::new();
            for s in &r.summary.scenarios {
                for p in &s.points {
                    let key = (s.name.as_str(), p.label.as_str());
                    found.entry(key).or_insert((s, p));
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
        let (first_scenario, first_point) = found[0];
        let implementations =
            first_point.implementations.iter().map(|i| implementation_across(&rows, &found, scenario, label, &i.implementation)).collect();
        points.push(AcrossPoint {
            scenario: scenario.to_string(),
            label: label.to_string(),
            baseline: first_scenario.baseline.clone(),
            implementations,
        });
    }

    let claims = claims_across(runs, &machines);
    let headlines = points.iter().filter_map(|p| headline(p, &machines)).collect();
    let warnings = runs.iter().flat_map(Analysis::warnings).collect();
    Across { machines, same_plan, points, unmatched, claims, headlines, warnings }
}

/// A point of one run: its scenario's summary and its own.
type FoundPoint<'a> = (&'a summary::ScenarioSummary, &'a summary::PointSummary);

/// One implementation of a point found on every machine (`found`: the point's scenario and
/// summary on each, in the order of the runs, whose rows are `rows`).
fn implementation_across(
    rows: &[Grouped<AtPoint>],
    found: &[FoundPoint],
    scenario: &str,
    label: &str,
    implementation: &str,
) -> AcrossImplementation {
    let on_each: Vec<Option<&summary::ImplementationSummary>> =
        found.iter().map(|(_, p)| p.implementations.iter().find(|x| x.implementation == implementation)).collect();
    let walls: Vec<Vec<f64>> = rows
        .iter()
        .zip(found)
        .map(|(rows, (s, p))| summary::values(rows.rows(&(&s.name, p.index, implementation)), Metric::Wall))
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

/// Every claim judged on any machine, with its verdict on each.
fn claims_across(runs: &[Analysis], machines: &[Machine]) -> Vec<AcrossClaim> {
    let mut out: Vec<AcrossClaim> = Vec::new();
    let mut positions: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for (m, r) in runs.iter().enumerate() {
        for c in &r.claims {
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
/// claim not judged on a machine is not a claim that held there).
pub(crate) fn all_hold(across: &Across) -> bool {
    across.claims.iter().all(|c| c.everywhere.held())
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
}
