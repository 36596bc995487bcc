//! Across machines: full run directories of the same scenarios measured on different machines,
//! set side by side point by point — each implementation's median wall time on each machine with
//! its CI, the ratio of each machine to the first, and whether each claim and the headline
//! speed-up (Rust against the scenario's baseline) hold on every machine.
//!
//! Points are matched by scenario name and point label, so runs of different commits (or a run
//! and a merged sharded run) can be set side by side; a point missing on a machine is named.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::metric::Metric;
use crate::analysis::claims::Verdict;
use crate::analysis::summary;
use crate::report::{self, Report};
use crate::stats::{self, Distribution, Ratio};

/// One machine's run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    /// How the tables name it: the host name, made unique with "#k" when two runs share one.
    pub label: String,
    pub run_dir: PathBuf,
    pub hostname: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    pub plan_fingerprint: Option<String>,
    pub git_commit: Option<String>,
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
    pub held_everywhere: bool,
}

/// The headline: `faster` against the scenario's baseline at one point, on each machine.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Headline {
    pub scenario: String,
    pub point_label: String,
    pub faster: String,
    pub baseline: String,
    pub speedup: Vec<Option<Ratio>>,
    /// The whole CI above 1 on every machine.
    pub faster_everywhere: bool,
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
}

/// Reads every run directory (at least two) and sets them side by side.
pub(crate) fn analyse(run_dirs: &[PathBuf]) -> anyhow::Result<Across> {
    use anyhow::Context;
    if run_dirs.len() < 2 {
        anyhow::bail!("give at least two run directories, one per machine");
    }
    let reports: Vec<Report> = run_dirs
        .iter()
        .map(|dir| report::analyse(dir).with_context(|| format!("run directory {}", dir.display())))
        .collect::<anyhow::Result<_>>()?;
    Ok(compare(run_dirs, &reports))
}

/// The comparison of already analysed runs (one per machine, in the order given).
pub(crate) fn compare(run_dirs: &[PathBuf], reports: &[Report]) -> Across {
    let machines = machines(run_dirs, reports);
    let fingerprints: Vec<Option<&String>> =
        reports.iter().map(|r| r.environment.as_ref().and_then(|e| e.plan_fingerprint.as_ref())).collect();
    let same_plan = fingerprints.iter().all(|f| f.is_some() && *f == fingerprints[0]);

    let mut points = Vec::new();
    let mut unmatched = Vec::new();
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in reports {
        for s in &r.summary.scenarios {
            for p in &s.points {
                let key = (s.name.clone(), p.label.clone());
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    for (scenario, label) in &keys {
        let found: Vec<Option<(&summary::ScenarioSummary, &summary::PointSummary)>> = reports
            .iter()
            .map(|r| {
                r.summary
                    .scenarios
                    .iter()
                    .find(|s| &s.name == scenario)
                    .and_then(|s| s.points.iter().find(|p| &p.label == label).map(|p| (s, p)))
            })
            .collect();
        if found.iter().any(Option::is_none) {
            let on: Vec<&str> = found.iter().zip(&machines).filter(|(f, _)| f.is_some()).map(|(_, m)| m.label.as_str()).collect();
            unmatched.push(format!("{scenario} · {label}: only on {}", on.join(", ")));
            continue;
        }
        let found: Vec<(&summary::ScenarioSummary, &summary::PointSummary)> = found.into_iter().flatten().collect();
        let (first_scenario, first_point) = found[0];
        let implementations = first_point
            .implementations
            .iter()
            .map(|i| {
                let on_each: Vec<Option<&summary::ImplementationSummary>> =
                    found.iter().map(|(_, p)| p.implementations.iter().find(|x| x.implementation == i.implementation)).collect();
                let walls: Vec<Vec<f64>> = reports
                    .iter()
                    .zip(&found)
                    .map(|(r, (s, p))| {
                        let rows: Vec<&crate::measurement::RawRecord> = r
                            .records
                            .iter()
                            .filter(|row| row.scenario == s.name && row.point == p.index && row.implementation == i.implementation)
                            .collect();
                        summary::values(&rows, Metric::Wall)
                    })
                    .collect();
                let ratio_to_first = walls
                    .iter()
                    .map(|w| {
                        stats::ratio_of_medians(w, &walls[0], stats::seed_for(&format!("across/{scenario}/{label}/{}", i.implementation)))
                    })
                    .collect();
                AcrossImplementation {
                    implementation: i.implementation.clone(),
                    wall: on_each.iter().map(|x| x.and_then(|x| x.wall.clone())).collect(),
                    ratio_to_first,
                    speedup_vs_baseline: on_each.iter().map(|x| x.and_then(|x| x.speedup_vs_baseline)).collect(),
                }
            })
            .collect::<Vec<_>>();
        points.push(AcrossPoint {
            scenario: scenario.clone(),
            label: label.clone(),
            baseline: first_scenario.baseline.clone(),
            implementations,
        });
    }

    let claims = claims_across(reports);
    let headlines = points.iter().filter_map(headline).collect();
    Across { machines, same_plan, points, unmatched, claims, headlines }
}

fn machines(run_dirs: &[PathBuf], reports: &[Report]) -> Vec<Machine> {
    let mut machines: Vec<Machine> = run_dirs
        .iter()
        .zip(reports)
        .map(|(dir, r)| {
            let e = r.environment.clone().unwrap_or_default();
            Machine {
                label: if e.hostname.is_empty() { "unknown".into() } else { e.hostname.clone() },
                run_dir: dir.clone(),
                hostname: e.hostname,
                cpu_model: e.cpu_model,
                logical_cpus: e.logical_cpus,
                plan_fingerprint: e.plan_fingerprint,
                git_commit: e.git_commit,
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
fn claims_across(reports: &[Report]) -> Vec<AcrossClaim> {
    let mut out: Vec<AcrossClaim> = Vec::new();
    for (m, r) in reports.iter().enumerate() {
        for c in &r.claims {
            let index = match out.iter().position(|a| a.scenario == c.scenario && a.point_label == c.point_label && a.claim == c.claim) {
                Some(index) => index,
                None => {
                    out.push(AcrossClaim {
                        scenario: c.scenario.clone(),
                        point_label: c.point_label.clone(),
                        claim: c.claim.clone(),
                        measured: vec![None; reports.len()],
                        held_everywhere: false,
                    });
                    out.len() - 1
                }
            };
            out[index].measured[m] = Some((c.measured.clone(), c.verdict));
        }
    }
    for claim in &mut out {
        claim.held_everywhere = claim.measured.iter().all(|m| matches!(m, Some((_, Verdict::Held))));
    }
    out
}

/// Rust (the implementation named "rust", else the first that is not the baseline) against the
/// baseline at one point.
fn headline(point: &AcrossPoint) -> Option<Headline> {
    let candidates: Vec<&AcrossImplementation> = point.implementations.iter().filter(|i| i.implementation != point.baseline).collect();
    let faster = candidates.iter().find(|i| i.implementation == "rust").or_else(|| candidates.first())?;
    let faster_everywhere = faster.speedup_vs_baseline.iter().all(|r| r.as_ref().is_some_and(|r| r.ci_low > 1.0));
    Some(Headline {
        scenario: point.scenario.clone(),
        point_label: point.label.clone(),
        faster: faster.implementation.clone(),
        baseline: point.baseline.clone(),
        speedup: faster.speedup_vs_baseline.clone(),
        faster_everywhere,
    })
}

/// Whether everything that was claimed holds on every machine (for --check).
pub(crate) fn all_hold(across: &Across) -> bool {
    across.claims.iter().all(|c| c.held_everywhere)
}

/// The file names `render` writes into its output directory.
pub(crate) const ACROSS_MD: &str = "machines.md";
pub(crate) const ACROSS_JSON: &str = "machines.json";
pub(crate) const HEADLINE_CHART: &str = "charts/headline-speedup-by-machine.png";

/// Writes machines.md, machines.json and the headline chart into `out` (created when missing).
pub(crate) fn render(across: &Across, out: &Path) -> anyhow::Result<String> {
    use anyhow::Context;
    std::fs::create_dir_all(out.join("charts")).with_context(|| format!("creating {}", out.join("charts").display()))?;
    crate::records::write_json_atomic(&out.join(ACROSS_JSON), across)?;
    let chart = match headline_chart(across, &out.join(HEADLINE_CHART)) {
        Ok(()) => Some(HEADLINE_CHART),
        Err(e) => {
            crate::console::errln(format_args!("warning: the headline chart could not be drawn: {e}"));
            None
        }
    };
    let text = markdown(across, chart);
    crate::records::write_atomic(&out.join(ACROSS_MD), text.as_bytes())?;
    Ok(text)
}

// ---------------------------------------------------------------------------------------------
// Presenting it: machines.md and the headline chart.

use std::fmt::Write as _;

use crate::report::charts::{self, Bar, BarGroup, GroupedBars, Palette, ValueFormat};
use crate::report::format::{ratio_with_ci, seconds_with_ci};

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// machines.md: the machines, the verdict, the claims, then every point.
pub(crate) fn markdown(across: &Across, chart: Option<&str>) -> String {
    let mut out = String::new();
    let names: Vec<&str> = across.machines.iter().map(|m| m.label.as_str()).collect();
    let _ = writeln!(out, "# Across machines\n");
    let _ = writeln!(out, "| machine | CPU | run directory | plan | git commit |\n|---|---|---|---|---|");
    for m in &across.machines {
        let _ = writeln!(
            out,
            "| {} | {} ({} logical CPUs) | {} | {} | {} |",
            cell(&m.label),
            cell(&m.cpu_model),
            m.logical_cpus,
            cell(&m.run_dir.display().to_string()),
            m.plan_fingerprint.as_deref().map_or("—", crate::shard::short),
            m.git_commit.as_deref().map_or("—", |c| c.get(..12).unwrap_or(c))
        );
    }
    let _ = writeln!(out);
    if !across.same_plan {
        let _ = writeln!(out, "The runs do not share one plan fingerprint (other scenario files, commit or options): points are matched by scenario and label, and what differs is theirs to explain.\n");
    }

    let _ = writeln!(out, "## Verdict\n");
    if across.headlines.is_empty() {
        let _ = writeln!(out, "No point has an implementation to set against its baseline.\n");
    }
    for h in &across.headlines {
        let per: Vec<String> = names
            .iter()
            .zip(&h.speedup)
            .map(|(name, r)| format!("{name} {}", r.as_ref().map_or("not measured".into(), ratio_with_ci)))
            .collect();
        let _ = writeln!(
            out,
            "- **{} · {}**: {} against {}: {} — faster on every machine: **{}**",
            h.scenario,
            h.point_label,
            h.faster,
            h.baseline,
            per.join("; "),
            if h.faster_everywhere { "yes" } else { "no" }
        );
    }
    if let Some(chart) = chart {
        let _ = writeln!(out, "\n![headline speed-up per machine]({chart})");
    }
    let _ = writeln!(out);

    if !across.claims.is_empty() {
        let _ = writeln!(out, "## Claims on every machine\n");
        let header: Vec<String> = names.iter().map(|n| cell(n)).collect();
        let _ = writeln!(
            out,
            "| scenario · point | claim | {} | on every machine |\n|---|---|{}---|",
            header.join(" | "),
            "---|".repeat(names.len())
        );
        for c in &across.claims {
            let verdicts: Vec<String> = c
                .measured
                .iter()
                .map(|m| m.as_ref().map_or("not judged".into(), |(measured, v)| format!("{}: {}", v.as_str(), cell(measured))))
                .collect();
            let _ = writeln!(
                out,
                "| {} · {} | {} | {} | {} |",
                cell(&c.scenario),
                cell(&c.point_label),
                cell(&c.claim),
                verdicts.join(" | "),
                if c.held_everywhere { "held" } else { "**no**" }
            );
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Every point\n");
    let _ = writeln!(
        out,
        "Median wall time [95% CI] on each machine, and each machine's median over the first's ({}) with its CI.\n",
        names.first().unwrap_or(&"—")
    );
    for p in &across.points {
        let _ = writeln!(out, "### {} · {}\n", p.scenario, p.label);
        let walls: Vec<String> = names.iter().map(|n| cell(n)).collect();
        let ratios: Vec<String> = names.iter().skip(1).map(|n| format!("{} / {}", cell(n), cell(names[0]))).collect();
        let _ = writeln!(
            out,
            "| implementation | {} | {} |\n|---|{}",
            walls.join(" | "),
            ratios.join(" | "),
            "---|".repeat(names.len() * 2 - 1)
        );
        for i in &p.implementations {
            let wall: Vec<String> = i.wall.iter().map(|d| d.as_ref().map_or("—".into(), seconds_with_ci)).collect();
            let ratio: Vec<String> = i.ratio_to_first.iter().skip(1).map(|r| r.as_ref().map_or("—".into(), ratio_with_ci)).collect();
            let _ = writeln!(out, "| {} | {} | {} |", cell(&i.implementation), wall.join(" | "), ratio.join(" | "));
        }
        let _ = writeln!(out);
    }
    if !across.unmatched.is_empty() {
        let _ = writeln!(out, "## Not on every machine\n");
        for u in &across.unmatched {
            let _ = writeln!(out, "- {}", cell(u));
        }
        let _ = writeln!(out);
    }
    out
}

/// The words of a point's label that tell it from the scenario's other points ("lr=0.025" in a
/// learning-rate sweep at one n); the first word ("n=…") when the scenario has one point.
fn distinguishing_label(headline: &Headline, all: &[Headline]) -> String {
    let siblings: Vec<&str> = all.iter().filter(|h| h.scenario == headline.scenario).map(|h| h.point_label.as_str()).collect();
    let words: Vec<&str> = headline
        .point_label
        .split_whitespace()
        .filter(|word| siblings.len() < 2 || !siblings.iter().all(|label| label.split_whitespace().any(|w| w == *word)))
        .collect();
    if words.is_empty() || siblings.len() < 2 {
        headline.point_label.split_whitespace().next().unwrap_or("").to_string()
    } else {
        words.join(" ")
    }
}

/// One group per point with a headline, one bar per machine: the speed-up with its CI.
pub(crate) fn headline_chart(across: &Across, path: &Path) -> Result<(), charts::ChartError> {
    let names: Vec<String> = across.machines.iter().map(|m| m.label.clone()).collect();
    let groups = across
        .headlines
        .iter()
        .map(|h| BarGroup {
            label: format!("{} {}", h.scenario, distinguishing_label(h, &across.headlines)),
            bars: names
                .iter()
                .zip(&h.speedup)
                .map(|(name, r)| Bar {
                    implementation: name.clone(),
                    value: r.as_ref().map_or(f64::NAN, |r| r.estimate),
                    ci: r.as_ref().map(|r| (r.ci_low, r.ci_high)),
                })
                .collect(),
        })
        .collect();
    let faster: Vec<&str> = across.headlines.iter().map(|h| h.faster.as_str()).collect();
    let baselines: Vec<&str> = across.headlines.iter().map(|h| h.baseline.as_str()).collect();
    let pair = match (faster.first(), baselines.first()) {
        (Some(f), Some(b)) if faster.iter().all(|x| x == f) && baselines.iter().all(|x| x == b) => format!("{f} over {b}"),
        _ => "headline implementation over the baseline".to_string(),
    };
    let chart = GroupedBars {
        title: format!("Speed-up of {pair} (wall time), per machine"),
        x_label: "scenario point".into(),
        y_label: "speed-up (×, 95% CI)".into(),
        groups,
        log_y: None,
        value_format: ValueFormat::Plain,
    };
    charts::grouped_bars(path, &chart, &Palette::new(&names))
}
