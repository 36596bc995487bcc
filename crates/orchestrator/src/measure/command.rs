//! What to run and under which limits: the input of [`super::run_measured`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What to run: argv\[0\] is looked up in PATH like a shell would, but no shell is involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCommand {
    pub argv: Vec<String>,
    /// Added to (or overriding) the orchestrator's own environment, which the child inherits.
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
}

impl ChildCommand {
    pub fn new(argv: impl IntoIterator<Item = impl Into<String>>, cwd: impl Into<PathBuf>) -> Self {
        ChildCommand { argv: argv.into_iter().map(Into::into).collect(), env: BTreeMap::new(), cwd: cwd.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLimits {
    /// From the child's execve (the start of the measured interval); then SIGTERM to the process
    /// group.
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL, after a timeout or a cancellation.
    pub kill_grace: Duration,
    /// Per stream: the first bytes are kept, the rest is read and discarded so the child never
    /// blocks on a full pipe.
    pub max_capture_bytes: usize,
    /// The process tree's RSS may not exceed this: checked at every sampler tick, SIGKILL when
    /// over (not RLIMIT_AS, which breaks numpy/OpenBLAS and their large virtual reservations).
    pub memory_limit_bytes: Option<u64>,
    /// Pin the child to these CPUs (sched_setaffinity before exec; inherited by its threads).
    pub cpus: Option<Vec<usize>>,
    /// Look at how much of the child's anonymous memory lies on huge pages once its RSS settles
    /// (see `huge_pages`), for runs whose data could lie on them: the data's size in bytes.
    pub look_at_huge_pages: Option<u64>,
}

impl RunLimits {
    /// The given timeout, 1 s of grace, 1 MiB of capture per stream, no memory limit, no pinning,
    /// no look at huge pages.
    pub fn with_timeout(timeout: Duration) -> Self {
        RunLimits {
            timeout,
            kill_grace: Duration::from_secs(1),
            max_capture_bytes: 1 << 20,
            memory_limit_bytes: None,
            cpus: None,
            look_at_huge_pages: None,
        }
    }
}
