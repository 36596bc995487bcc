//! Under a point's tables: which runs summed with software prefetches. Past its core's L2 each
//! thread of the `linreg` kernels times its first epochs with and without a prefetch and keeps it
//! only where it won (docs/kernels.md), and its result line says how many threads kept it
//! (raw.csv's `prefetching_threads`). The limit's read loop has none: a kernel that keeps one can
//! read faster than the limit (on the 260 MiB Emerald Rapids host, family 6 model 207, the
//! kernels' loop with it took 0.96–0.99× the probe's loop's time at 10^7 points, 1.08× without),
//! and a fit too short to choose runs half its timed epochs with it.

use std::fmt::Write as _;

use linreg::kernels::PREFETCH_CHOICE_EPOCHS;

use super::super::escape::code;
use crate::analysis::summary::PointSummary;

/// One sentence for the point, nothing where no run's threads tried.
pub(super) fn point(out: &mut String, point: &PointSummary) {
    let tried: Vec<_> = point.implementations.iter().filter(|i| i.prefetch_tried_runs > 0).collect();
    if tried.is_empty() {
        return;
    }
    let parts: Vec<String> = tried
        .iter()
        .map(|i| {
            let threads = i.threads.filter(|&t| t > 1).map_or(String::new(), |t| format!(" ({t} threads each)"));
            format!("{} {} of {}{threads}", code(&i.implementation), i.prefetch_kept_runs, i.prefetch_tried_runs)
        })
        .collect();
    let (fewest, most) = PREFETCH_CHOICE_EPOCHS;
    // A process of one fit whose epochs end before any choice can be made.
    let one_fit = tried.iter().all(|i| i.fits.as_ref().is_none_or(|f| f.fits <= 1));
    let short = if one_fit && point.epochs < fewest {
        format!("At {} epochs a fit ends before any choice ({fewest}–{most} epochs): none could keep it.", point.epochs)
    } else {
        format!("A process whose epochs, over all its fits, number fewer than {fewest}–{most} ends before the choice and keeps none.")
    };
    let _ = writeln!(
        out,
        "Software prefetch, chosen by each kernel thread's own epochs where its share of the data is past its core's L2 (the limit's read loop has none, so a run that keeps it can read faster than the limit); runs in which a thread kept it: {}. {short}\n",
        parts.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use crate::analysis::index::by_point;
    use crate::analysis::summary::{self, tests::plan_of, tests::row};
    use crate::records::{RawRecord, RunStatus};

    #[test]
    fn the_runs_that_kept_a_prefetch_are_counted_where_they_tried_and_nothing_is_said_elsewhere() {
        let plan = plan_of(&["rust-simd", "rust-parallel", "python-numpy"], "python-numpy");
        // rust-simd kept it in runs 1 and 3 of 3, rust-parallel's two threads in none.
        let ran = |name: &str, k: u32, threads: u64, prefetching: Option<u64>| RawRecord {
            threads: Some(threads),
            prefetching_threads: prefetching,
            ..row(name, k, RunStatus::Ok, 1.0, 0.01, 0.5, 1)
        };
        let rows: Vec<RawRecord> = (1..=3)
            .flat_map(|k| {
                [
                    ran("rust-simd", k, 1, Some(u64::from(k != 2))),
                    ran("rust-parallel", k, 2, Some(0)),
                    row("python-numpy", k, RunStatus::Ok, 1.0, 0.01, 0.5, 1),
                ]
            })
            .collect();
        let summary = summary::summarise(&plan, &by_point(&rows), None);
        let mut out = String::new();
        super::point(&mut out, &summary.scenarios[0].points[0]);
        assert!(out.contains("runs in which a thread kept it: `rust-simd` 2 of 3, `rust-parallel` 0 of 3 (2 threads each)."), "{out}");
        assert!(!out.contains("python-numpy"), "{out}");
        assert!(out.ends_with("fewer than 19–40 ends before the choice and keeps none.\n\n"), "{out}");
        // A point of one fit too short for any choice says so.
        let mut short = summary.scenarios[0].points[0].clone();
        short.epochs = 10;
        let mut out = String::new();
        super::point(&mut out, &short);
        assert!(out.ends_with("At 10 epochs a fit ends before any choice (19–40 epochs): none could keep it.\n\n"), "{out}");

        let none: Vec<RawRecord> = (1..=3).map(|k| ran("rust-simd", k, 1, None)).collect();
        let summary = summary::summarise(&plan_of(&["rust-simd"], "rust-simd"), &by_point(&none), None);
        let mut nothing = String::new();
        super::point(&mut nothing, &summary.scenarios[0].points[0]);
        assert!(nothing.is_empty(), "{nothing}");
    }
}
