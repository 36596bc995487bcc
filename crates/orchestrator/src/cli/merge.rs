//! `orchestrator merge`: the shards' run directories united into one, its output directory
//! claimed once the shards are checked and held while it is written.

use std::process::ExitCode;

use super::lock::DirLock;
use super::project::absolute;
use crate::{merge, report};

pub(super) fn merge(args: &merge::MergeArgs) -> anyhow::Result<ExitCode> {
    let mut claim = None;
    let (out, rendered) = merge::merge_command(args, std::env::args().collect(), |out| {
        let dir = absolute(out)?;
        claim = Some(DirLock::claim(&dir, &[]).map_err(|e| anyhow::anyhow!("--out {e}"))?);
        Ok(dir)
    })?;
    drop(claim);
    print!("{}", rendered.terminal_summary);
    outln!("report: {}", out.join(report::REPORT_MD).display());
    Ok(super::check_exit(args.check, &rendered))
}
