//! Accuracy: for each scenario point, each implementation's fit against the reference gradient
//! descent computed by the linreg library when the run was planned (same algorithm, scalar kernel), against the
//! other implementations, and against the exact optimum (ordinary least squares), so a reader sees
//! both whether the implementations agree and whether the chosen epochs converged.

use serde::{Deserialize, Serialize};

use crate::analysis::summary::{ImplementationSummary, PointSummary};
use crate::plan::references;
use crate::plan::{Optimum, PointPlan, PointReference, ReferenceFit, ScenarioPlan};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PointAccuracy {
    pub point: usize,
    pub relative_tolerance: f64,
    /// Gradient descent computed in-process; None when the data file is gone or the fit too big.
    pub reference: Option<ReferenceFit>,
    /// Why there is no reference, when there is none.
    pub reference_note: Option<String>,
    /// The exact least-squares optimum; None when x has no spread.
    pub ols: Option<Optimum>,
    pub implementations: Vec<ImplementationAccuracy>,
    /// The largest relative difference in w or b between any two implementations that finished.
    pub largest_disagreement: Option<f64>,
    /// Every implementation within the tolerance of the reference (and of each other).
    pub agree: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ImplementationAccuracy {
    pub implementation: String,
    pub w: Option<f64>,
    pub b: Option<f64>,
    pub mse: Option<f64>,
    pub diverged_at_epoch: Option<u64>,
    /// max(|Δw|, |Δb|) relative to the reference fit.
    pub relative_error_vs_reference: Option<f64>,
    /// Within the tolerance of the reference, and diverged at the same epoch if it diverged.
    pub agrees: Option<bool>,
    /// |w − w_ols| and |b − b_ols|: how far gradient descent is from the optimum.
    pub w_distance_from_ols: Option<f64>,
    pub b_distance_from_ols: Option<f64>,
    /// mse − mse_ols (≥ 0 up to rounding): the loss still to be gained.
    pub excess_mse: Option<f64>,
}

/// |a − b| / max(|a|, |b|, 1e-12).
pub(crate) fn relative_difference(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

/// The accuracy of every implementation at one point.
pub(crate) fn assess(scenario: &ScenarioPlan, point: &PointPlan, summary: &PointSummary) -> PointAccuracy {
    let tolerance = scenario.accuracy.relative_tolerance;
    let Benchmarks { reference, ols, reference_note } = reference_and_optimum(point);
    // Programs that print no result line (protocol: none) have no fit to judge.
    let finished: Vec<&ImplementationSummary> =
        summary.implementations.iter().filter(|s| s.runs > 0 && scenario.has_fit(&s.implementation)).collect();
    let implementations: Vec<ImplementationAccuracy> =
        finished.iter().map(|s| judge(s, reference.as_ref(), ols.as_ref(), tolerance)).collect();
    let mut largest_disagreement: Option<f64> = None;
    for (i, a) in finished.iter().enumerate() {
        for b in &finished[i + 1..] {
            if let (Some(aw), Some(ab), Some(bw), Some(bb)) = (a.w, a.b, b.w, b.b) {
                let d = relative_difference(aw, bw).max(relative_difference(ab, bb));
                largest_disagreement = Some(largest_disagreement.map_or(d, |m| m.max(d)));
            }
        }
    }
    let verdicts: Vec<bool> = implementations.iter().filter_map(|i| i.agrees).collect();
    let agree = (!verdicts.is_empty()).then(|| verdicts.iter().all(|&v| v));
    PointAccuracy {
        point: point.index,
        relative_tolerance: tolerance,
        reference,
        reference_note,
        ols,
        implementations,
        largest_disagreement,
        agree,
    }
}

/// What a point's fits are set against: the reference kept in plan.json, or (for a plan written
/// before it was kept) one computed now from the data file, when that is still there.
fn reference_and_optimum(point: &PointPlan) -> Benchmarks {
    let PointReference { fit, ols, note } = point.reference.clone().unwrap_or_else(|| references::compute(point));
    Benchmarks { reference: fit, ols, reference_note: note }
}

struct Benchmarks {
    reference: Option<ReferenceFit>,
    ols: Option<Optimum>,
    reference_note: Option<String>,
}

fn judge(
    summary: &ImplementationSummary,
    reference: Option<&ReferenceFit>,
    ols: Option<&Optimum>,
    tolerance: f64,
) -> ImplementationAccuracy {
    let relative_error_vs_reference = reference.and_then(|r| {
        let (w, b, rw, rb) = (summary.w?, summary.b?, r.w?, r.b?);
        Some(relative_difference(w, rw).max(relative_difference(b, rb)))
    });
    let agrees = reference.map(|r| match (r.diverged_at_epoch, summary.diverged_at_epoch) {
        (Some(want), Some(got)) => want == got,
        (None, None) => relative_error_vs_reference.is_some_and(|e| e <= tolerance),
        _ => false,
    });
    ImplementationAccuracy {
        implementation: summary.implementation.clone(),
        w: summary.w,
        b: summary.b,
        mse: summary.mse,
        diverged_at_epoch: summary.diverged_at_epoch,
        relative_error_vs_reference,
        agrees,
        w_distance_from_ols: ols.zip(summary.w).map(|(o, w)| (w - o.w).abs()),
        b_distance_from_ols: ols.zip(summary.b).map(|(o, b)| (b - o.b).abs()),
        excess_mse: ols.zip(summary.mse).map(|(o, mse)| mse - o.mse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::tests::{plan_of, row};
    use crate::analysis::summary::{summarise, Outcome};
    use crate::records::RunStatus;

    /// The protocol's test vector as a .npy file, in a directory removed when the returned
    /// TempDir is dropped.
    fn seed_file() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::Builder::new().prefix("accuracy-test-").tempdir().unwrap();
        let path = dir.path().join("seed.npy");
        linreg::Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().write_npy(&path).unwrap();
        (dir, path)
    }

    #[test]
    fn the_test_vector_agrees_and_shows_it_has_not_converged() {
        let mut plan = plan_of(&["rust", "python"], "python");
        let (_seed_dir, seed) = seed_file();
        plan.scenarios[0].points[0].data_path = seed;
        let mut off = row("python", 1, RunStatus::Ok, 0.1, 0.0, 0.0, 1);
        off.w = Some(1.995180350672 * (1.0 + 1e-6));
        let rows = vec![row("rust", 1, RunStatus::Ok, 0.001, 0.0, 0.0, 1), off];
        let summary = summarise(&plan, &crate::analysis::index::by_point(&rows), None);
        let point_summary = &summary.scenarios[0].points[0];
        assert_eq!(point_summary.implementations[0].outcome, Outcome::Ok);
        let accuracy = assess(&plan.scenarios[0], &plan.scenarios[0].points[0], point_summary);
        let reference = accuracy.reference.unwrap();
        assert!((reference.w.unwrap() - 1.995180350672).abs() < 1e-9);
        let ols = accuracy.ols.unwrap();
        assert!((ols.w - 2.0).abs() < 1e-12 && ols.b.abs() < 1e-12, "{ols:?}");
        let rust = &accuracy.implementations[0];
        assert_eq!(rust.agrees, Some(true));
        // 1000 epochs leave w 0.0048 short of the optimum: not converged, and the report says so.
        assert!((rust.w_distance_from_ols.unwrap() - 0.004819649328).abs() < 1e-9);
        assert_eq!(accuracy.implementations[1].agrees, Some(false));
        assert!((accuracy.largest_disagreement.unwrap() - 1e-6).abs() < 1e-8);
        assert_eq!(accuracy.agree, Some(false));
    }

    #[test]
    fn a_missing_dataset_is_a_note_not_an_error() {
        let plan = plan_of(&["rust"], "rust");
        let summary = summarise(&plan, &crate::analysis::index::by_point(&[row("rust", 1, RunStatus::Ok, 0.001, 0.0, 0.0, 1)]), None);
        let accuracy = assess(&plan.scenarios[0], &plan.scenarios[0].points[0], &summary.scenarios[0].points[0]);
        assert!(accuracy.reference.is_none() && accuracy.reference_note.is_some());
        assert_eq!(accuracy.agree, None);
    }
}
