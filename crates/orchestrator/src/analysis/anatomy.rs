//! Start-up anatomy: what each step of a chain of programs adds to a whole-process time. Each
//! step is measured as a program of its own (scenarios/startup.yaml: /bin/true, the interpreter
//! alone, the interpreter importing NumPy, the script doing the job), so a step's cost is its
//! median wall time minus the one before it.

use serde::Serialize;

use super::index::{AtPoint, Grouped};
use crate::analysis::summary::ScenarioSummary;
use crate::plan::ScenarioPlan;
use crate::stats;

/// One step of a chain, at the scenario's first point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct AnatomyStep {
    pub implementation: String,
    pub description: String,
    pub median_wall_seconds: f64,
    pub ci_low_seconds: f64,
    pub ci_high_seconds: f64,
    /// This step's median minus the previous step's (the first step: its own median). A negative
    /// value is noise in a difference of medians, or a step that is not a superset of the one
    /// before; it is shown as it is.
    pub added_seconds: f64,
    /// `added_seconds` as a share of the chain's last step.
    pub share_of_whole: f64,
    /// Median minor page faults of its measured runs (from wait4): each is a page the program
    /// touched for the first time, so they tell what loading and importing cost in memory work.
    pub median_minor_faults: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct AnatomyChain {
    pub steps: Vec<AnatomyStep>,
}

impl AnatomyChain {
    /// The whole program the chain explains: its last step.
    pub(crate) fn whole(&self) -> Option<&AnatomyStep> {
        self.steps.last()
    }

    /// The step that adds the most.
    pub(crate) fn biggest_piece(&self) -> Option<&AnatomyStep> {
        self.steps.iter().max_by(|a, b| a.added_seconds.total_cmp(&b.added_seconds))
    }
}

/// The scenario's anatomy chains, with every step that was measured at its first point; a chain
/// with fewer than two measured steps is left out.
pub(crate) fn chains(plan: &ScenarioPlan, summary: &ScenarioSummary, records: &Grouped<AtPoint>) -> Vec<AnatomyChain> {
    let Some(point) = summary.points.first() else { return Vec::new() };
    let faults = |name: &str| {
        let mut values: Vec<f64> = records
            .rows(&(&plan.name, point.index, name))
            .iter()
            .filter(|r| r.status.is_measurement())
            .filter_map(|r| r.minor_faults.map(|f| f as f64))
            .collect();
        values.sort_by(f64::total_cmp);
        stats::median(&values)
    };
    plan.anatomy
        .iter()
        .filter_map(|names| {
            let measured: Vec<(&str, &crate::stats::Distribution)> = names
                .iter()
                .filter_map(|name| {
                    let wall = point.implementations.iter().find(|i| &i.implementation == name)?.wall.as_ref()?;
                    Some((name.as_str(), wall))
                })
                .collect();
            let whole = measured.last()?.1.median;
            if measured.len() < 2 || whole <= 0.0 {
                return None;
            }
            let mut previous = 0.0;
            let steps = measured
                .iter()
                .map(|&(name, wall)| {
                    let added = wall.median - previous;
                    previous = wall.median;
                    AnatomyStep {
                        implementation: name.to_string(),
                        description: plan
                            .implementations
                            .iter()
                            .find(|i| i.name == name)
                            .map(|i| i.description.clone())
                            .unwrap_or_default(),
                        median_wall_seconds: wall.median,
                        ci_low_seconds: wall.ci_low,
                        ci_high_seconds: wall.ci_high,
                        added_seconds: added,
                        share_of_whole: added / whole,
                        median_minor_faults: faults(name),
                    }
                })
                .collect();
            Some(AnatomyChain { steps })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, added: f64) -> AnatomyStep {
        AnatomyStep {
            implementation: name.into(),
            description: String::new(),
            median_wall_seconds: 0.0,
            ci_low_seconds: 0.0,
            ci_high_seconds: 0.0,
            added_seconds: added,
            share_of_whole: 0.0,
            median_minor_faults: None,
        }
    }

    #[test]
    fn each_step_adds_its_median_minus_the_one_before_and_unmeasured_steps_are_left_out() {
        use crate::analysis::summary::tests::{plan_of, row};
        use crate::records::RunStatus;
        let mut plan = plan_of(&["floor", "interpreter", "numpy", "script", "missing"], "script");
        plan.scenarios[0].anatomy = vec![vec!["floor".into(), "interpreter".into(), "missing".into(), "numpy".into(), "script".into()]];
        let walls = [("floor", 0.001), ("interpreter", 0.010), ("numpy", 0.060), ("script", 0.080)];
        let records: Vec<crate::records::RawRecord> =
            walls.iter().flat_map(|&(name, wall)| (1..=3).map(move |rep| row(name, rep, RunStatus::Ok, wall, 0.0, 0.0, 1 << 20))).collect();
        let records = crate::analysis::index::by_point(&records);
        let summary = crate::analysis::summary::summarise(&plan, &records, None);
        let chains = chains(&plan.scenarios[0], &summary.scenarios[0], &records);
        assert_eq!(chains.len(), 1);
        let added: Vec<(&str, f64)> = chains[0].steps.iter().map(|s| (s.implementation.as_str(), s.added_seconds)).collect();
        let expected = [("floor", 0.001), ("interpreter", 0.009), ("numpy", 0.050), ("script", 0.020)];
        assert_eq!(added.len(), expected.len(), "{added:?}");
        for ((name, got), (want_name, want)) in added.iter().zip(expected) {
            assert_eq!(*name, want_name);
            assert!((got - want).abs() < 1e-12, "{name}: {got} against {want}");
        }
        assert!((chains[0].steps[2].share_of_whole - 0.625).abs() < 1e-12);
        assert_eq!(chains[0].biggest_piece().map(|s| s.implementation.as_str()), Some("numpy"));
    }

    #[test]
    fn the_biggest_piece_is_the_largest_addition_not_the_largest_total() {
        let chain =
            AnatomyChain { steps: vec![step("bin-true", 0.0006), step("python", 0.009), step("numpy", 0.090), step("script", 0.03)] };
        assert_eq!(chain.biggest_piece().map(|s| s.implementation.as_str()), Some("numpy"));
        assert_eq!(chain.whole().map(|s| s.implementation.as_str()), Some("script"));
    }
}
