//! `orchestrator merge`: its command line, and the command itself — the shards read, checked and
//! united (records::merge), written and rendered in a staging directory beside the output
//! directory, then moved into it (claimed only once the shards are checked, and held while it is
//! written). A signal stops it at once, says so, and leaves the output directory as it was found.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::lock::DirLock;
use super::project::absolute;
use super::signals::Signals;
use crate::console;
use crate::records::merge::{check, load_shards, merged_environment, merged_plan, missing_text, write, MissingShard, Shard};
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

/// Reads and checks the shards, then (only then) claims the output directory (which must be
/// empty), writes the merged run and renders its report in a staging directory, and moves them
/// into the output directory.
pub(super) fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let signals = Signals::listen()?;
    let mut shards = load_shards(&args.shards, |warning| console::errln(format_args!("{warning}")))?;
    let missing = check(&mut shards, args.allow_partial)?;
    let out = absolute(&args.out)?;
    if let Some(signal) = signals.received() {
        return Ok(interrupted(signal, &out));
    }
    let existed = out.exists();
    let claim = DirLock::claim(&out, &[]).map_err(|e| anyhow::anyhow!("--out {e}"))?;
    let staging = Staging::beside(&out)?;
    let stop = || signals.received().is_some();
    let rendered =
        write_and_render(&staging.path, &mut shards, &missing, &stop).with_context(|| format!("merging into {}", out.display()))?;
    // A signal after the last check still stops it: nothing has reached --out yet.
    let Some(rendered) = rendered.filter(|_| !stop()) else {
        drop((staging, claim));
        if !existed {
            let _ = std::fs::remove_dir(&out);
        }
        return Ok(interrupted(signals.received().unwrap_or(libc::SIGTERM), &out));
    };
    staging.move_into(&out)?;
    drop(claim);
    super::show_rendered(&rendered, &out);
    Ok(super::check_exit(args.check, &rendered))
}

/// Writes the merged run into `dir` and renders its report there; None once `stop` says so.
fn write_and_render(
    dir: &Path,
    shards: &mut [Shard],
    missing: &[MissingShard],
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Option<report::Rendered>> {
    let plan = merged_plan(shards);
    let env = merged_environment(shards, missing, std::env::args().collect());
    write(dir, shards, &plan, &env)?;
    for shard in shards {
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
        let text = missing_text(missing).lines().take(missing.len() + 1).collect::<Vec<_>>().join("\n");
        console::errln(format_args!("warning (--allow-partial): {text}"));
    }
    report::render_until(dir, stop).context("rendering the merged report")
}

/// What a signal leaves: a message, and the exit code 128 + signal.
fn interrupted(signal: i32, out: &Path) -> ExitCode {
    errln!("{}: the merge was interrupted; nothing was written to {}", crate::execute::signal_name(signal), out.display());
    super::interrupted_exit(signal)
}

/// A directory beside the output directory (`.NAME.merging-PID`, on the same file system) where
/// the merged run is written and rendered; removed when dropped, so nothing of an interrupted or
/// failed merge is left.
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn beside(out: &Path) -> anyhow::Result<Staging> {
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let path = out.with_file_name(format!(".{name}.merging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).with_context(|| format!("creating the staging directory {}", path.display()))?;
        Ok(Staging { path })
    }

    /// Moves every entry into `out` (each a rename), then removes the staging directory.
    fn move_into(self, out: &Path) -> anyhow::Result<()> {
        let entries = std::fs::read_dir(&self.path).with_context(|| format!("listing {}", self.path.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", self.path.display()))?;
            let target = out.join(entry.file_name());
            std::fs::rename(entry.path(), &target).with_context(|| format!("moving the merged run into {}", target.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
