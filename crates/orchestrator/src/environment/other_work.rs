//! How much of the machine other processes used while a run went on: the CPU time every CPU spent
//! busy (/proc/stat) less the orchestrator's own and that of everything it started and waited for
//! (getrusage: the measured programs, the launcher, checks, prepare commands), over the run's wall
//! time on every CPU. Unlike the 1-minute load average, which still holds a build that ended a
//! minute ago (1.70 on 2 CPUs at the start of a first `make compare`, with nothing else running),
//! this counts only what ran during the run, and only what was not ours.

use std::time::Instant;

/// What was spent up to one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuSnapshot {
    busy_seconds: f64,
    ours_seconds: f64,
    at: Instant,
    cpus: usize,
}

impl CpuSnapshot {
    /// Now, or None where /proc/stat cannot be read.
    pub(crate) fn take() -> Option<CpuSnapshot> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        // SAFETY: sysconf has no memory-safety preconditions.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let busy_seconds = busy_ticks(&stat)? / (ticks_per_second > 0).then_some(ticks_per_second as f64)?;
        let cpus = linreg::default_threads().get();
        Some(CpuSnapshot { busy_seconds, ours_seconds: ours_seconds(), at: Instant::now(), cpus })
    }

    /// The share (0–1) of every CPU's time since `self` that went to other processes; None when
    /// too little time passed to say.
    pub(crate) fn other_share_since(&self) -> Option<f64> {
        let now = CpuSnapshot::take()?;
        other_share(self, &now)
    }
}

/// (busy − ours) ÷ (wall × CPUs), between two snapshots, clamped to [0, 1]: the tick counts are
/// coarse (10 ms) and the CPUs are counted as this process may use them.
fn other_share(before: &CpuSnapshot, after: &CpuSnapshot) -> Option<f64> {
    let wall = after.at.duration_since(before.at).as_secs_f64();
    if wall < 1.0 {
        return None;
    }
    let other = (after.busy_seconds - before.busy_seconds) - (after.ours_seconds - before.ours_seconds);
    Some((other / (wall * after.cpus as f64)).clamp(0.0, 1.0))
}

/// The ticks the `cpu` line of /proc/stat counts as busy: user, nice, system, irq and softirq (not
/// idle, iowait, or steal — time the hypervisor gave to others is not this machine's work — and
/// guest time is already within user).
fn busy_ticks(stat: &str) -> Option<f64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<f64> = line.split_whitespace().skip(1).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    let at = |i: usize| fields.get(i).copied().unwrap_or(0.0);
    Some(at(0) + at(1) + at(2) + at(5) + at(6))
}

/// CPU time of this process and of every child it waited for, with theirs.
fn ours_seconds() -> f64 {
    let of = |who| {
        // SAFETY: getrusage writes into the zeroed struct it is given and nothing else.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut usage) } != 0 {
            return 0.0;
        }
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        seconds(usage.ru_utime) + seconds(usage.ru_stime)
    };
    of(libc::RUSAGE_SELF) + of(libc::RUSAGE_CHILDREN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn busy_ticks_leave_out_idle_iowait_and_steal() {
        let stat = "cpu  100 5 30 9000 40 2 3 700 50 0\ncpu0 50 2 15 4500 20 1 1 350 25 0\n";
        assert_eq!(busy_ticks(stat), Some(140.0));
        assert_eq!(busy_ticks("intr 1 2 3\n"), None);
        assert_eq!(busy_ticks("cpu  1 x 3\n"), None);
    }

    #[test]
    fn what_is_not_ours_over_wall_time_on_every_cpu() {
        let at = Instant::now();
        let snapshot =
            |busy, ours, seconds| CpuSnapshot { busy_seconds: busy, ours_seconds: ours, at: at + Duration::from_secs(seconds), cpus: 2 };
        // 10 s on 2 CPUs: 14 s busy, 9 s of it ours: others used 5 of 20 CPU-seconds.
        assert_eq!(other_share(&snapshot(100.0, 50.0, 0), &snapshot(114.0, 59.0, 10)), Some(0.25));
        // Ours only (ticks are coarse: a little below zero is zero).
        assert_eq!(other_share(&snapshot(100.0, 50.0, 0), &snapshot(109.0, 59.05, 10)), Some(0.0));
        assert_eq!(other_share(&snapshot(0.0, 0.0, 0), &snapshot(1.0, 0.0, 0)), None, "too short to say");
    }
}
