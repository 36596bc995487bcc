//! machines.md, machines.json and the headline chart of `orchestrator machines`: the runs of several
//! machines set side by side (analysis/across.rs) in words and one picture.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::analysis::across::{Across, Everywhere, Headline, Machine};
use crate::format;
use crate::report::charts::{self, Bar, BarGroup, GroupedBars, Palette, ValueFormat};
use crate::report::escape::text;

use crate::run_dir::{MACHINES_HEADLINE_CHART, MACHINES_JSON, MACHINES_MD};

/// Writes machines.md, machines.json and the headline chart into `out` (created when missing).
pub(crate) fn render(across: &Across, out: &Path) -> anyhow::Result<String> {
    crate::run_dir::charts_dir(out)?;
    crate::records::write_json_atomic(&out.join(MACHINES_JSON), across)?;
    let chart = match headline_chart(across, &out.join(MACHINES_HEADLINE_CHART)) {
        Ok(()) => Some(MACHINES_HEADLINE_CHART),
        Err(e) => {
            crate::console::errln(format_args!("warning: the headline chart could not be drawn: {e}"));
            None
        }
    };
    let text = markdown(across, chart);
    crate::records::write_atomic(&out.join(MACHINES_MD), text.as_bytes())?;
    Ok(text)
}

/// machines.md: the machines, the verdict, the claims, then every point.
pub(crate) fn markdown(across: &Across, chart: Option<&str>) -> String {
    let mut out = String::new();
    let names: Vec<&str> = across.machines.iter().map(|m| m.label.as_str()).collect();
    machines_section(&mut out, across);
    verdict_section(&mut out, across, &names, chart);
    claims_section(&mut out, across, &names);
    points_section(&mut out, across, &names);
    unmatched_section(&mut out, across);
    not_comparable_section(&mut out, across);
    out
}

/// The machines, and whether they ran one plan.
fn machines_section(out: &mut String, across: &Across) {
    let _ = writeln!(out, "# Across machines\n");
    let _ = writeln!(
        out,
        "| machine | CPU | what it is | starting a program | run directory | plan | git commit |\n|---|---|---|---|---|---|---|"
    );
    for m in &across.machines {
        let _ = writeln!(
            out,
            "| {} | {} ({} logical CPUs, {} memory) | {} | {} | {} | {} | {} |",
            text(&m.label),
            text(&m.cpu_model),
            m.logical_cpus,
            format::memory_total(m.memory_total_bytes),
            text(&identity_text(m)),
            start_up_text(m),
            text(&m.run_dir.display().to_string()),
            text(m.plan_fingerprint.as_deref().map_or("—", crate::plan::shard::short)),
            text(m.git_commit.as_deref().map_or("—", |c| c.get(..12).unwrap_or(c)))
        );
    }
    let _ = writeln!(out);
    if !across.same_plan {
        let _ = writeln!(out, "The runs do not share one plan fingerprint (other scenario files, commit or options): points are matched by scenario and label, and what differs is theirs to explain.\n");
    }
}

/// What starting any program costs on the machine: the spawn floor and a CPUID, where measured.
fn start_up_text(machine: &Machine) -> String {
    let floor = machine.spawn_floor_seconds.map_or_else(|| "not measured".to_string(), format::seconds);
    let cpuid = machine.cpuid_seconds.map_or_else(|| "not measured".to_string(), format::seconds);
    format!("`/bin/true` {floor}; one CPUID {cpuid}")
}

/// The CPU's identity and where it was read, or why it is unknown.
fn identity_text(machine: &Machine) -> String {
    match &machine.identity {
        Some(identity) => identity.describe_with_source(),
        None => {
            "not recorded (environment.json is missing or predates the machine identity, and no lscpu.txt or cpuinfo-cpu0.txt is beside it)"
                .to_string()
        }
    }
}

/// Where a verdict held on every machine and where not: `yes` when it did everywhere, else
/// "**no** (not held on A; not judged on B)", or without the **no** when it failed nowhere.
fn everywhere_text(everywhere: &Everywhere, yes: &str) -> String {
    if everywhere.held() {
        return yes.to_string();
    }
    let parts: Vec<String> = [
        ("not held on", &everywhere.not_held_on),
        ("inconclusive on", &everywhere.inconclusive_on),
        ("not judged on", &everywhere.not_judged_on),
    ]
    .iter()
    .filter(|(_, machines)| !machines.is_empty())
    .map(|(words, machines)| format!("{words} {}", machines.iter().map(|m| text(m).to_string()).collect::<Vec<_>>().join(", ")))
    .collect();
    if everywhere.not_held_on.is_empty() {
        parts.join("; ")
    } else {
        format!("**no** ({})", parts.join("; "))
    }
}

/// The headline speed-up at each point, on every machine.
fn verdict_section(out: &mut String, across: &Across, names: &[&str], chart: Option<&str>) {
    let _ = writeln!(out, "## Verdict\n");
    if across.headlines.is_empty() {
        let _ = writeln!(out, "No point has an implementation to set against its baseline.\n");
    }
    for h in &across.headlines {
        let per: Vec<String> = names
            .iter()
            .zip(&h.speedup)
            .map(|(name, r)| format!("{} {}", text(name), r.as_ref().map_or("not measured".into(), format::ratio_with_ci_in_brackets)))
            .collect();
        let _ = writeln!(
            out,
            "- **{} · {}**: {} against {}: {} — faster on every machine: {}",
            text(&h.scenario),
            text(&h.point_label),
            text(&h.faster),
            text(&h.baseline),
            per.join("; "),
            everywhere_text(&h.faster_everywhere, "**yes**")
        );
    }
    if let Some(chart) = chart {
        let _ = writeln!(out, "\n![headline speed-up per machine]({chart})");
    }
    let _ = writeln!(out);
}

/// Every claim with its verdict on each machine.
fn claims_section(out: &mut String, across: &Across, names: &[&str]) {
    if !across.claims.is_empty() {
        let _ = writeln!(out, "## Claims on every machine\n");
        let header: Vec<String> = names.iter().map(|n| text(n).to_string()).collect();
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
                .map(|m| m.as_ref().map_or("not judged".into(), |(measured, v)| format!("{}: {}", v.as_str(), text(measured))))
                .collect();
            let _ = writeln!(
                out,
                "| {} · {} | {} | {} | {} |",
                text(&c.scenario),
                text(&c.point_label),
                text(&c.claim),
                verdicts.join(" | "),
                everywhere_text(&c.everywhere, "held")
            );
        }
        let _ = writeln!(out);
    }
}

/// Every point: wall times on each machine and their ratios to the first.
fn points_section(out: &mut String, across: &Across, names: &[&str]) {
    let _ = writeln!(out, "## Every point\n");
    let _ = writeln!(
        out,
        "Median wall time [95% CI] on each machine, and each machine's median over the first's ({}) with its CI.\n",
        text(names.first().unwrap_or(&"—"))
    );
    for p in &across.points {
        let _ = writeln!(out, "### {} · {}\n", text(&p.scenario), text(&p.label));
        let walls: Vec<String> = names.iter().map(|n| text(n).to_string()).collect();
        let ratios: Vec<String> = names.iter().skip(1).map(|n| format!("{} / {}", text(n), text(names[0]))).collect();
        let _ = writeln!(
            out,
            "| implementation | {} | {} |\n|---|{}",
            walls.join(" | "),
            ratios.join(" | "),
            "---|".repeat(names.len() * 2 - 1)
        );
        for i in &p.implementations {
            let wall: Vec<String> =
                i.wall.iter().map(|d| d.as_ref().map_or("—".into(), |d| format::seconds_with_ci(d.median, d.ci_low, d.ci_high))).collect();
            let ratio: Vec<String> =
                i.ratio_to_first.iter().skip(1).map(|r| r.as_ref().map_or("—".into(), format::ratio_with_ci_in_brackets)).collect();
            let _ = writeln!(out, "| {} | {} | {} |", text(&i.implementation), wall.join(" | "), ratio.join(" | "));
        }
        let _ = writeln!(out);
    }
}

/// The points some machine did not run.
fn unmatched_section(out: &mut String, across: &Across) {
    if !across.unmatched.is_empty() {
        let _ = writeln!(out, "## Not on every machine\n");
        for u in &across.unmatched {
            let _ = writeln!(out, "- {}", text(u));
        }
        let _ = writeln!(out);
    }
}

/// The points of one scenario and label on every machine that measured something else on some.
fn not_comparable_section(out: &mut String, across: &Across) {
    if across.not_comparable.is_empty() {
        return;
    }
    let first = across.machines.first().map_or("—", |m| m.label.as_str());
    let _ = writeln!(
        out,
        "## Not comparable
"
    );
    let _ = writeln!(
        out,
        "Points under the same scenario and label on every machine whose plans say they measured something else (another n, \
         epochs, learning rate, number of fits or data) than on the first machine ({}): not compared, in no table or claim above.\n",
        text(first)
    );
    for p in &across.not_comparable {
        let claims = if p.claims.is_empty() {
            String::new()
        } else {
            format!(" Its claims, left out: {}.", p.claims.iter().map(|c| text(c).to_string()).collect::<Vec<_>>().join("; "))
        };
        let _ = writeln!(out, "- {} · {}: {}.{claims}", text(&p.scenario), text(&p.label), text(&p.differences.join("; ")));
    }
    let _ = writeln!(out);
}

/// The words of each headline's point label that tell it from the scenario's other points
/// ("lr=0.025" in a learning-rate sweep at one n; only the first when it alone does: "n=10^5", not
/// "n=10^5 epochs=100"); the first word ("n=…") when the scenario has one point. Sizes as powers
/// of ten. One name per headline, in their order.
fn distinguishing_labels(all: &[Headline]) -> Vec<String> {
    let words = WordCounts::of(all);
    all.iter().map(|headline| distinguishing_label(headline, &words)).collect()
}

/// How many of a scenario's headline labels hold each word (a word counted once a label), and how
/// many labels the scenario has: whether a word is in every label, or in one alone, is then looked
/// up, not searched for. Labels are plan.json's text, which anyone can send: with each label's
/// words searched in every other label, two runs of 16 000-word labels took 38 s.
struct WordCounts<'a> {
    labels: HashMap<&'a str, usize>,
    holding: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> WordCounts<'a> {
    fn of(all: &'a [Headline]) -> WordCounts<'a> {
        let mut counts = WordCounts { labels: HashMap::new(), holding: HashMap::new() };
        for h in all {
            *counts.labels.entry(&h.scenario).or_default() += 1;
            let words: HashSet<&str> = h.point_label.split_whitespace().collect();
            for word in words {
                *counts.holding.entry((&h.scenario, word)).or_default() += 1;
            }
        }
        counts
    }

    /// The labels of `scenario` that hold `word`.
    fn holding(&self, scenario: &str, word: &str) -> usize {
        self.holding.get(&(scenario, word)).copied().unwrap_or(0)
    }
}

/// One headline's name (see [`distinguishing_labels`]).
fn distinguishing_label(headline: &Headline, counts: &WordCounts) -> String {
    let scenario = headline.scenario.as_str();
    let siblings = counts.labels.get(scenario).copied().unwrap_or(0);
    let words: Vec<&str> =
        headline.point_label.split_whitespace().filter(|word| siblings < 2 || counts.holding(scenario, word) < siblings).collect();
    let chosen: Vec<&str> = match words.first() {
        Some(first) if siblings >= 2 && counts.holding(scenario, first) == 1 => vec![*first],
        Some(_) if siblings >= 2 => words,
        _ => headline.point_label.split_whitespace().take(1).collect(),
    };
    let compact = |word: &str| match word.strip_prefix("n=").and_then(|n| n.parse::<u64>().ok()) {
        Some(n) => format!("n={}", format::count(n)),
        None => word.to_string(),
    };
    chosen.iter().map(|w| compact(w)).collect::<Vec<_>>().join(" ")
}

/// One group per point with a headline, one bar per machine: the speed-up with its CI.
pub(crate) fn headline_chart(across: &Across, path: &Path) -> Result<(), charts::ChartError> {
    let names: Vec<String> = across.machines.iter().map(|m| m.label.clone()).collect();
    let groups = across
        .headlines
        .iter()
        .zip(distinguishing_labels(&across.headlines))
        .map(|(h, label)| BarGroup {
            label: format!("{} {label}", h.scenario),
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
        legend_title: "Machine",
        in_given_order: false,
    };
    charts::grouped_bars(path, &chart, &Palette::new(&names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headline(scenario: &str, point_label: &str) -> Headline {
        Headline {
            scenario: scenario.into(),
            point_label: point_label.into(),
            faster: "rust".into(),
            baseline: "python-numpy".into(),
            speedup: Vec::new(),
            faster_everywhere: Everywhere::default(),
        }
    }

    #[test]
    fn chart_groups_are_named_by_the_least_that_tells_a_point_apart() {
        let all = [
            headline("seed", "n=5 epochs=1000 lr=0.01"),
            headline("scaling", "n=10 epochs=1000 lr=0.01"),
            headline("scaling", "n=100000 epochs=100 lr=0.01"),
            headline("sweep", "n=200 epochs=1000 lr=0.01"),
            headline("sweep", "n=200 epochs=1000 lr=0.05"),
            headline("grid", "n=200 epochs=10 lr=0.01"),
            headline("grid", "n=200 epochs=20 lr=0.01"),
            headline("grid", "n=400 epochs=10 lr=0.01"),
        ];
        assert_eq!(
            distinguishing_labels(&all),
            ["n=5", "n=10", "n=10^5", "lr=0.01", "lr=0.05", "n=200 epochs=10", "n=200 epochs=20", "n=400"]
        );
    }

    /// Labels are plan.json's text: two of 100 000 words each are named at once (each word
    /// searched for in every sibling label, as before, this took hours), by the word that differs.
    #[test]
    fn labels_of_many_words_are_named_in_one_pass_over_their_words() {
        let filler: Vec<String> = (0..100_000).map(|k| format!("w{k}")).collect();
        let long = |lr: &str| headline("learning-rate", &format!("n=200 epochs=1000 lr={lr} {}", filler.join(" ")));
        let all = [long("0.01"), long("0.05"), headline("seed", "n=5 epochs=1000 lr=0.01")];
        assert_eq!(distinguishing_labels(&all), ["lr=0.01", "lr=0.05", "n=5"]);
    }

    /// A point measured differently on a machine is in no table, and named with what differs.
    #[test]
    fn machines_md_names_the_points_measured_differently_and_compares_them_nowhere() {
        use crate::analysis::across::tests::{run_dirs, run_of};
        let a = run_of(&[("n=10", 10), ("n=50", 50)]);
        let b = run_of(&[("n=10", 1000), ("n=50", 50)]);
        let text = markdown(&crate::analysis::across::compare(&run_dirs(), &[a, b]), None);
        assert!(text.contains("## Not comparable") && text.contains("\n- s · n=10: on b: n 10 → 1000.\n"), "{text}");
        assert!(!text.contains("### s · n=10\n") && !text.contains("**s · n=10**"), "{text}");
        assert!(text.contains("### s · n=50\n") && text.contains("**s · n=50**"), "{text}");
    }

    #[test]
    fn a_claim_held_wherever_judged_is_not_a_no() {
        let machines = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let unjudged = Everywhere { not_judged_on: machines(&["b"]), ..Everywhere::default() };
        assert_eq!(everywhere_text(&unjudged, "held"), "not judged on b");
        let failed = Everywhere { not_held_on: machines(&["a"]), not_judged_on: machines(&["b", "c"]), ..Everywhere::default() };
        assert_eq!(everywhere_text(&failed, "held"), "**no** (not held on a; not judged on b, c)");
        assert_eq!(everywhere_text(&Everywhere::default(), "**yes**"), "**yes**");
    }

    #[test]
    fn starting_a_program_names_the_spawn_floor_and_a_cpuid_where_measured() {
        let machine =
            |floor, cpuid| Machine { spawn_floor_seconds: floor, cpuid_seconds: cpuid, ..crate::analysis::across::tests::machine("m") };
        assert_eq!(start_up_text(&machine(Some(3.73e-4), Some(1.45e-6))), "`/bin/true` 373 µs; one CPUID 1.45 µs");
        assert_eq!(start_up_text(&machine(None, None)), "`/bin/true` not measured; one CPUID not measured");
    }
}
