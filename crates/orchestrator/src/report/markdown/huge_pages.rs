//! Under a point's tables: where each implementation's memory lay while it trained — how much of
//! its anonymous memory was on huge pages, looked at from outside in each run (raw.csv's
//! `anon_bytes` and `anon_huge_pages_bytes`). Near the L2's size the layout decides the speed
//! (docs/limits.md), and implementations differ in it: `linreg` places its data on whole huge
//! pages, NumPy only arrays of 4 MiB or more.

use std::fmt::Write as _;

use super::super::escape::code;
use crate::analysis::summary::PointSummary;
use crate::environment::probes::BYTES_PER_POINT;
use crate::format;

/// One sentence for the point, nothing when no run of it was looked at; the implementations that
/// ran but were not looked at (runs too short to settle) are named.
pub(super) fn point(out: &mut String, point: &PointSummary) {
    let parts: Vec<String> = point
        .implementations
        .iter()
        .filter_map(|i| {
            let (anonymous, huge) = (i.anon_median_bytes?, i.anon_huge_pages_median_bytes?);
            let huge = if huge > 0.0 { format::bytes(huge) } else { "none".into() };
            Some(format!("{} {huge} of {}", code(&i.implementation), format::bytes(anonymous)))
        })
        .collect();
    if parts.is_empty() {
        return;
    }
    let unseen: Vec<String> = point
        .implementations
        .iter()
        .filter(|i| i.measured() && i.anon_median_bytes.is_none())
        .map(|i| code(&i.implementation).to_string())
        .collect();
    let unseen = match unseen.len() {
        0 => String::new(),
        _ => format!(" Not looked at (their runs ended before their memory settled): {}.", unseen.join(", ")),
    };
    let data = point.n.saturating_mul(BYTES_PER_POINT as u64) as f64;
    let _ = writeln!(
        out,
        "On huge pages while the fit ran (`AnonHugePages` of the process's anonymous memory, from /proc/PID/smaps_rollup once its memory had settled for 5 ms; medians of the runs looked at; the data is {}): {}.{unseen}\n",
        format::bytes(data),
        parts.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use crate::analysis::index::by_point;
    use crate::analysis::summary::{self, tests::plan_of, tests::row};
    use crate::records::{RawRecord, RunStatus};

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_point_says_what_each_looked_at_run_had_on_huge_pages_by_the_median() {
        let plan = plan_of(&["rust-simd", "python-numpy", "python-pure"], "python-numpy");
        let looked = |name: &str, k: u32, anonymous: u64, huge: u64| RawRecord {
            anon_bytes: Some(anonymous),
            anon_huge_pages_bytes: Some(huge),
            ..row(name, k, RunStatus::Ok, 1.0, 0.01, 0.5, 1)
        };
        let rows: Vec<RawRecord> = (1..=3)
            .flat_map(|k| {
                [
                    looked("rust-simd", k, 17 * MIB, [16, 16, 14][k as usize - 1] * MIB),
                    looked("python-numpy", k, 52 * MIB, 0),
                    row("python-pure", k, RunStatus::Ok, 1.0, 0.01, 0.5, 1),
                ]
            })
            .collect();
        let summary = summary::summarise(&plan, &by_point(&rows), None);
        let point = &summary.scenarios[0].points[0];
        let mut out = String::new();
        super::point(&mut out, point);
        assert!(out.contains("`rust-simd` 16.0 MiB of 17.0 MiB, `python-numpy` none of 52.0 MiB."), "{out}");
        assert!(out.contains(&format!("the data is {}", crate::format::bytes(point.n as f64 * 16.0))), "{out}");
        assert!(out.ends_with("Not looked at (their runs ended before their memory settled): `python-pure`.\n\n"), "{out}");

        let none: Vec<RawRecord> = (1..=3).map(|k| row("python-pure", k, RunStatus::Ok, 1.0, 0.01, 0.5, 1)).collect();
        let summary = summary::summarise(&plan_of(&["python-pure"], "python-pure"), &by_point(&none), None);
        let mut nothing = String::new();
        super::point(&mut nothing, &summary.scenarios[0].points[0]);
        assert!(nothing.is_empty(), "{nothing}");
    }
}
