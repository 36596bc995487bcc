//! The end of a run: whatever is left of the child's process tree is killed and reaped, so a run
//! leaves neither orphans nor zombies behind.

use std::os::fd::OwnedFd;
use std::thread;
use std::time::{Duration, Instant};

use super::sys;

/// After the run, how long to wait for the killed leftovers of the process group to disappear.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);

/// Kills whatever is left of the run — the child's process group, and every descendant the
/// sampler saw alive, even one that left the group — and reaps those re-parented to this process
/// (a subreaper), so a run leaves neither orphans nor zombies behind.
pub(crate) fn kill_and_reap_leftovers(group: libc::pid_t, descendants: &[OwnedFd]) {
    for pidfd in descendants {
        sys::pidfd_signal(pidfd, libc::SIGKILL);
    }
    let mut group_alive = sys::signal_group(group, libc::SIGKILL);
    let mut pending: Vec<&OwnedFd> = descendants.iter().collect();
    let deadline = Instant::now() + LEFTOVER_GRACE;
    while group_alive || !pending.is_empty() {
        sys::reap_dead_of_group(group);
        pending.retain(|&pidfd| !sys::reap_if_ours(pidfd) && sys::pidfd_signal(pidfd, 0));
        group_alive = sys::signal_group(group, 0);
        if Instant::now() >= deadline {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
}
