//! The order of the runs: warm-ups, then repetitions, interleaved (A B C A B C …) or grouped
//! (A A A B B B …), leaving out what is skipped or unavailable.

use crate::plan::{Order, Plan, PointPlan, ScenarioPlan};

/// One run to make: which scenario, point and implementation, and whether it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub scenario: usize,
    pub point: usize,
    pub implementation: usize,
    /// 0 for a warm-up run (not recorded), 1.. for counted repetitions.
    pub repetition: u32,
}

impl Step {
    pub(crate) fn is_warmup(&self) -> bool {
        self.repetition == 0
    }
}

/// Every run of a scenario point, in the order they are made: `warmup` rounds then `repetitions`
/// rounds; within a round every implementation once (interleaved: A B C A B C …), or every
/// implementation's runs back to back (grouped: A A A B B B …). Skipped implementations are left
/// out; unavailable ones too (they get one `unavailable` row instead, see [`unavailable_rows`]).
pub(crate) fn schedule(plan: &Plan) -> Vec<Step> {
    let mut steps = Vec::new();
    for (s, scenario) in plan.scenarios.iter().enumerate() {
        for (p, point) in scenario.points.iter().enumerate() {
            let runnable: Vec<usize> = runnable(scenario, point).collect();
            let m = &scenario.measure;
            let step = |implementation, repetition| Step { scenario: s, point: p, implementation, repetition };
            for _ in 0..m.warmup {
                steps.extend(runnable.iter().map(|&i| step(i, 0)));
            }
            match m.order {
                Order::Interleaved => {
                    for repetition in 1..=m.repetitions {
                        steps.extend(runnable.iter().map(|&i| step(i, repetition)));
                    }
                }
                Order::Grouped => {
                    for &i in &runnable {
                        steps.extend((1..=m.repetitions).map(|repetition| step(i, repetition)));
                    }
                }
            }
        }
    }
    steps
}

/// The implementations (by index) that run at a point: neither skipped there nor unavailable.
pub(crate) fn runnable<'a>(scenario: &'a ScenarioPlan, point: &'a PointPlan) -> impl Iterator<Item = usize> + 'a {
    scenario.implementations.iter().enumerate().filter(|(_, i)| i.runs_at(point)).map(|(index, _)| index)
}

/// How many steps [`schedule`] lists, without listing them.
pub(crate) fn count_runs(plan: &Plan) -> u64 {
    let per_point = |scenario: &ScenarioPlan, point| {
        runnable(scenario, point).count() as u64 * (u64::from(scenario.measure.warmup) + u64::from(scenario.measure.repetitions))
    };
    plan.scenarios.iter().map(|scenario| scenario.points.iter().map(|point| per_point(scenario, point)).sum::<u64>()).sum()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::plan::Measure;
    use crate::testutil;

    fn point(index: usize, skip: &[&str]) -> PointPlan {
        PointPlan { label: format!("p{index}"), skip: skip.iter().map(|s| s.to_string()).collect(), ..testutil::point(index) }
    }

    /// A plan of one scenario "s": implementations a, b and c (unavailable), points 0 and 1 (b
    /// skipped at 1), one warm-up and two repetitions.
    pub(in crate::execute) fn plan(order: Order) -> Plan {
        let mut c = testutil::implementation("c");
        c.unavailable = Some("missing".into());
        let implementations = vec![testutil::implementation("a"), testutil::implementation("b"), c];
        let measure = Measure { warmup: 1, timeout_seconds: 5.0, ..testutil::measure(2, order) };
        testutil::plan(implementations, "a", vec![point(0, &[]), point(1, &["b"])], measure)
    }

    fn short(steps: &[Step]) -> Vec<(usize, usize, u32)> {
        steps.iter().map(|s| (s.point, s.implementation, s.repetition)).collect()
    }

    #[test]
    fn interleaved_rounds_after_warmup_skipping_and_leaving_out_the_unavailable() {
        let steps = schedule(&plan(Order::Interleaved));
        assert_eq!(count_runs(&plan(Order::Interleaved)), steps.len() as u64);
        assert_eq!(short(&steps), vec![(0, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (0, 0, 2), (0, 1, 2), (1, 0, 0), (1, 0, 1), (1, 0, 2)]);
    }

    #[test]
    fn grouped_runs_each_implementation_back_to_back() {
        let steps = schedule(&plan(Order::Grouped));
        assert_eq!(short(&steps)[..6], [(0, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 2), (0, 1, 1), (0, 1, 2)]);
    }
}
