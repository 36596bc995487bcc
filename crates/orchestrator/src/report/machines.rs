//! The report's word on where a run was measured when that was more than one machine: for a
//! merged run (`orchestrator merge`) which machine ran which points, and what is missing; for one
//! shard (`run --shard K/N`) which part of the plan it holds.

use std::fmt::Write as _;

use crate::environment::Environment;
use crate::format::{seconds, sig3};
use crate::report::escape::{code, text};

/// Appends the "Machines" part of the environment section (nothing for an ordinary run).
pub(crate) fn section(out: &mut String, e: &Environment) {
    if let Some(merged) = &e.merged {
        let _ = writeln!(
            out,
            "### Machines\n\nMerged from {} of {} shard(s) of plan {}. Each scenario point ran on one machine, so every ratio within a point is between runs of the same machine and run.{}\n",
            merged.machines.len(),
            merged.shard_count,
            code(crate::plan::shard::short(&merged.fingerprint)),
            if merged.machines_alike {
                ""
            } else {
                " The machines differ, so the bandwidth and spawn floor above are left out: each machine's own are below."
            }
        );
        let _ = writeln!(
            out,
            "| shard | machine | CPU | memory bandwidth, 1 thread | spawn floor | started (UTC) | points |\n|---|---|---|---|---|---|---|"
        );
        for m in &merged.machines {
            let points: Vec<String> = m.points.iter().map(|p| format!("{} ({})", p.key, p.label)).collect();
            let (host, cpu, bandwidth, floor, started) = match &m.environment {
                Some(env) => (
                    format!("{} (host {})", env.label(), env.hostname),
                    format!("{} ({} logical CPUs)", env.cpu_model, env.logical_cpus),
                    env.bandwidth_single_thread_bytes_per_second.map_or("not measured".into(), |b| format!("{} GB/s", sig3(b / 1e9))),
                    env.spawn_floor_seconds.map_or("not measured".into(), seconds),
                    env.started_utc.clone(),
                ),
                None => ("unknown (no environment.json)".into(), "—".into(), "—".into(), "—".into(), "—".into()),
            };
            let row = [
                m.shard.to_string(),
                host,
                cpu,
                bandwidth,
                floor,
                started,
                if points.is_empty() { "none".into() } else { points.join(", ") },
            ];
            let cells: Vec<String> = row.iter().map(|c| text(c).to_string()).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(out);
        if !merged.missing.is_empty() {
            let missing: Vec<String> = merged.missing.iter().map(|p| format!("{} ({}, shard {})", p.key, p.label, p.shard)).collect();
            let _ = writeln!(out, "**Missing** (merged with --allow-partial): {}.\n", text(&missing.join(", ")));
        }
    } else if let Some(shard) = e.shard {
        let _ = writeln!(
            out,
            "This run is shard {shard} of plan {}: it holds only its share of the scenario points. Unite the shards with `orchestrator merge`.\n",
            code(e.plan_fingerprint.as_deref().map_or("?", crate::plan::shard::short))
        );
    }
}
