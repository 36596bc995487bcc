//! What each point's fits are judged against, computed once when the run is planned and kept in
//! plan.json: the reference gradient descent (this crate's scalar kernel, the same algorithm) and
//! the exact least-squares optimum. A run directory is then self-contained: its report gives the
//! same accuracy section on a machine that never saw its datasets.

use serde::{Deserialize, Serialize};

use super::datasets::Generated;
use super::{Plan, PointPlan};
use crate::measure::CancelToken;

/// Reference fits above this much work (points × epochs) are skipped: about 1 ns a point-epoch
/// here, so this is ~2 s at most.
pub(crate) const MAX_REFERENCE_POINT_EPOCHS: u64 = 2_000_000_000;

/// The reference and the optimum of one point, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointReference {
    /// Gradient descent computed in-process; None when the fit is too big to compute.
    pub fit: Option<ReferenceFit>,
    /// The exact least-squares optimum; None when x has no spread.
    pub ols: Option<Optimum>,
    /// Why there is no reference fit, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReferenceFit {
    pub w: Option<f64>,
    pub b: Option<f64>,
    pub mse: Option<f64>,
    pub diverged_at_epoch: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Optimum {
    pub w: f64,
    pub b: f64,
    pub mse: f64,
}

/// The reference of every point of the plan, computed from the data files the runs will read.
/// Stops (leaving the rest without one) once `cancel` is set.
pub(crate) fn attach(plan: &mut Plan, cancel: &CancelToken) {
    for point in plan.scenarios.iter_mut().flat_map(|s| s.points.iter_mut()) {
        if cancel.is_cancelled() {
            return;
        }
        point.reference = Some(compute(point));
    }
}

/// The reference of one point, read from its data file now.
pub(crate) fn compute(point: &PointPlan) -> PointReference {
    let data = match read_or_regenerate(&point.data_path) {
        Ok(data) => data,
        Err(e) => return PointReference { fit: None, ols: None, note: Some(format!("the dataset could not be read again ({e})")) },
    };
    let ols = linreg::ols(&data.x, &data.y).map(|o| Optimum { w: o.w, b: o.b, mse: o.mse });
    let work = point.n.saturating_mul(point.epochs);
    if work > MAX_REFERENCE_POINT_EPOCHS {
        let note = format!("no reference fit: {work} point-epochs is above the {MAX_REFERENCE_POINT_EPOCHS} the orchestrator computes");
        return PointReference { fit: None, ols, note: Some(note) };
    }
    let fit = linreg::fit(&data.x, &data.y, point.epochs, point.learning_rate, linreg::Kernel::Scalar);
    let finite = |v: f64| v.is_finite().then_some(v);
    let diverged_at_epoch = match fit.status {
        linreg::FitStatus::Ok => None,
        linreg::FitStatus::Diverged { at_epoch } => Some(at_epoch),
    };
    PointReference {
        fit: Some(ReferenceFit { w: finite(fit.w), b: finite(fit.b), mse: finite(fit.mse), diverged_at_epoch }),
        ols,
        note: None,
    }
}

/// The point's data: its file, or, for a generated dataset whose file is gone (a run directory
/// copied from another machine), the same points generated again from the parameters its cache
/// name holds (the generator is deterministic and versioned in that name).
fn read_or_regenerate(path: &std::path::Path) -> Result<linreg::Dataset, linreg::DatasetError> {
    let read = linreg::Dataset::read(path);
    let spec = path.file_name().and_then(|name| Generated::from_cache_name(&name.to_string_lossy()));
    match (read, spec) {
        (Err(_), Some(spec)) => Ok(spec.generate_until(&|| false).expect("never asked to stop")),
        (read, _) => read,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::Order;
    use crate::testutil;

    fn point_at(path: &str, n: u64) -> PointPlan {
        PointPlan { data_path: path.into(), n, ..testutil::point(0) }
    }

    fn plan_at(path: &str, n: u64) -> Plan {
        testutil::plan(vec![testutil::implementation("rust")], "rust", vec![point_at(path, n)], testutil::measure(1, Order::Interleaved))
    }

    #[test]
    fn a_generated_dataset_that_is_gone_is_generated_again_from_its_name() {
        let point = point_at("/nowhere/.cache/gen-v1-n1000-slope2-intercept0.5-noise0.1-seed42-x0_10.npy", 1000);
        let reference = compute(&point);
        assert_eq!(reference.note, None);
        let ols = reference.ols.unwrap();
        assert!((ols.w - 2.0).abs() < 0.01 && (ols.b - 0.5).abs() < 0.05, "{ols:?}");
        assert!(reference.fit.unwrap().w.is_some());
    }

    #[test]
    fn other_missing_data_is_a_note() {
        let reference = compute(&point_at("/nowhere/.cache/inline-v1-f1c6358e3fe69c7d.npy", 5));
        assert!(reference.fit.is_none() && reference.ols.is_none());
        assert!(reference.note.unwrap().starts_with("the dataset could not be read again"));
    }

    #[test]
    fn a_plan_keeps_each_points_reference() {
        let mut plan = plan_at("/nowhere/gen-v1-n10-slope2-intercept0.5-noise0.1-seed42-x0_10.npy", 10);
        attach(&mut plan, &CancelToken::new());
        let json = serde_json::to_string(&plan).unwrap();
        let back: Plan = serde_json::from_str(&json).unwrap();
        assert!(back.scenarios[0].points[0].reference.as_ref().is_some_and(|r| r.fit.is_some()));
        let cancelled = CancelToken::new();
        cancelled.cancel();
        let mut again = plan_at("/nowhere/gen-v1-n10-slope2-intercept0.5-noise0.1-seed42-x0_10.npy", 10);
        attach(&mut again, &cancelled);
        assert_eq!(again.scenarios[0].points[0].reference, None);
    }
}
