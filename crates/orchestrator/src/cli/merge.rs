//! `orchestrator merge`: its command line, and the command itself — the shards read, checked and
//! united (records::merge), written into the output directory (claimed only once the shards are
//! checked, and held while it is written), and the report rendered.

use std::process::ExitCode;

use super::lock::DirLock;
use super::project::absolute;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::console;
use crate::records::merge::{check, load_shard, merged_environment, merged_plan, missing_text, write};
use crate::report;

/// The command line of `orchestrator merge` (wired in cli/args.rs).
#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// The shards' run directories (each written by `orchestrator run --shard K/N`)
    #[arg(required = true, value_name = "DIR")]
    pub shards: Vec<PathBuf>,
    /// The merged run directory (must not exist or be empty)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Render what exists when shards are missing, and say which points are missing
    #[arg(long)]
    pub allow_partial: bool,
    /// Exit 1 when a scenario's claim does not hold
    #[arg(long)]
    pub check: bool,
}

/// Reads and checks the shards, then (only then) makes the output directory with `prepare_out`
/// (which refuses one that is not empty), writes the merged run and renders its report. Returns
/// the output directory and what the report found.
pub(crate) fn merge_command(
    args: &MergeArgs,
    command_line: Vec<String>,
    prepare_out: impl FnOnce(&Path) -> anyhow::Result<PathBuf>,
) -> anyhow::Result<(PathBuf, report::Rendered)> {
    let mut shards = args
        .shards
        .iter()
        .map(|dir| load_shard(dir, |warning| console::errln(format_args!("{warning}"))).with_context(|| format!("shard {}", dir.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let missing = check(&mut shards, args.allow_partial)?;
    let plan = merged_plan(&shards);
    let env = merged_environment(&shards, &missing, command_line);
    let out = prepare_out(&args.out)?;
    write(&out, &shards, &plan, &env)?;
    for shard in &shards {
        let host = shard.environment.as_ref().map_or_else(|| "an unknown machine".to_string(), |e| e.label());
        console::errln(format_args!(
            "shard {} ({}, {} point(s)) from {}",
            shard.block.shard(),
            host,
            shard.block.points.len(),
            shard.dir.display()
        ));
    }
    if !missing.is_empty() {
        console::errln(format_args!(
            "warning (--allow-partial): {}",
            missing_text(&missing).lines().take(missing.len() + 1).collect::<Vec<_>>().join("\n")
        ));
    }
    let rendered =
        report::render(&out).with_context(|| format!("rendering the merged report (the merged records are in {})", out.display()))?;
    Ok((out, rendered))
}

pub(super) fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut claim = None;
    let (out, rendered) = merge_command(args, std::env::args().collect(), |out| {
        let dir = absolute(out)?;
        claim = Some(DirLock::claim(&dir, &[]).map_err(|e| anyhow::anyhow!("--out {e}"))?);
        Ok(dir)
    })?;
    drop(claim);
    super::show_rendered(&rendered, &out);
    Ok(super::check_exit(args.check, &rendered))
}
