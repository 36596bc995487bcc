//! The launcher's report protocol: the lines the `launcher` binary writes on its report socket
//! (its standard input, on which the program's command line came) and the orchestrator reads back.
//! One definition for both sides.
//!
//! The launcher is started once per measured run as `launcher PARENT_PID [CPUS]`, the program's
//! command line on its standard input. It creates the child as posix_spawn does (sharing the
//! launcher's memory, which is small, suspended until the child's exec: CLONE_VM | CLONE_VFORK),
//! the child takes the clock immediately before execve, the launcher waits for it with wait4,
//! takes the clock again and reports, one line each:
//!
//! - `started pid=… t0_ns=… spawn_ns=… carried_hwm_kib=…` once the child's exec has begun;
//! - `spawn_failed errno=…` when it could not be started (and then nothing else);
//! - `exited wall_ns=… status=… user_us=… …` when it was reaped (see [`Exited`]);
//! - `error message=…` when the launcher itself could not do its job.
//!
//! Values are decimal integers, except `message`, which runs to the end of the line.
//!
//! `no_std` (with `alloc`): the launcher binary is built without the standard library, so that its
//! own memory, which the child shares until its exec, stays small.

#![no_std]

extern crate alloc;

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// CLOCK_MONOTONIC in nanoseconds: the clock of every time in the reports, read the same way by
/// the launcher, its child and the orchestrator.
pub fn monotonic_ns() -> u64 {
    // SAFETY: timespec is plain data, written by clock_gettime.
    let mut now: libc::timespec = unsafe { core::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// The first report: the child exists and its exec has replaced the launcher's image in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub pid: i32,
    /// CLOCK_MONOTONIC in the child immediately before its execve: the start of the measured
    /// interval. Creating the child (a clone sharing the launcher's memory until the exec) is outside it.
    pub t0_ns: u64,
    /// From `t0_ns` to the kernel releasing the launcher during the exec (the old image gone).
    pub spawn_ns: u64,
    /// The child's VmHWM just before its execve (the launcher's own, whose memory it shares): the
    /// high-water mark the kernel carries into its ru_maxrss across the exec. A peak above it is
    /// the program's own.
    pub carried_hwm_kib: u64,
}

/// The last report: the child was reaped. Every figure is the kernel's, from wait4, less what
/// the child had spent before its execve (the launcher's steps after the fork, measured by the
/// child with getrusage just before the exec): the program's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exited {
    /// CLOCK_MONOTONIC from just before the child's execve (`Started::t0_ns`) to just after it was
    /// reaped.
    pub wall_ns: u64,
    /// The raw wait status (WIFEXITED / WTERMSIG apply).
    pub status: i32,
    pub user_us: u64,
    pub system_us: u64,
    /// ru_maxrss: the largest resident set of the child and the descendants it waited for, over
    /// every program image they ran, and at least the mark carried across the first exec
    /// ([`Started::carried_hwm_kib`]).
    pub max_rss_kib: u64,
    pub minor_faults: u64,
    pub major_faults: u64,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

impl Exited {
    /// True when `max_rss_kib` is the program's own high-water mark, not the one carried into it.
    pub fn peak_is_programs_own(&self, started: &Started) -> bool {
        self.max_rss_kib > started.carried_hwm_kib
    }
}

/// One line of the launcher's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Started(Started),
    SpawnFailed { errno: i32 },
    Exited(Exited),
    Error { message: String },
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Started(s) => {
                write!(f, "started pid={} t0_ns={} spawn_ns={} carried_hwm_kib={}", s.pid, s.t0_ns, s.spawn_ns, s.carried_hwm_kib)
            }
            Report::SpawnFailed { errno } => write!(f, "spawn_failed errno={errno}"),
            Report::Exited(e) => write!(
                f,
                "exited wall_ns={} status={} user_us={} system_us={} max_rss_kib={} minor_faults={} major_faults={} \
                 voluntary_switches={} involuntary_switches={}",
                e.wall_ns,
                e.status,
                e.user_us,
                e.system_us,
                e.max_rss_kib,
                e.minor_faults,
                e.major_faults,
                e.voluntary_switches,
                e.involuntary_switches
            ),
            Report::Error { message } => write!(f, "error message={}", message.replace('\n', " ")),
        }
    }
}

/// Why a line is not a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for ParseError {}

impl Report {
    /// Reads one line (without its newline).
    pub fn parse(line: &str) -> Result<Report, ParseError> {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        if kind == "error" {
            let message = rest.strip_prefix("message=").ok_or_else(|| ParseError(format!("no message in {line:?}")))?;
            return Ok(Report::Error { message: message.to_owned() });
        }
        let fields = Fields::parse(line, rest)?;
        match kind {
            "started" => Ok(Report::Started(Started {
                pid: fields.get("pid")?,
                t0_ns: fields.get("t0_ns")?,
                spawn_ns: fields.get("spawn_ns")?,
                carried_hwm_kib: fields.get("carried_hwm_kib")?,
            })),
            "spawn_failed" => Ok(Report::SpawnFailed { errno: fields.get("errno")? }),
            "exited" => Ok(Report::Exited(Exited {
                wall_ns: fields.get("wall_ns")?,
                status: fields.get("status")?,
                user_us: fields.get("user_us")?,
                system_us: fields.get("system_us")?,
                max_rss_kib: fields.get("max_rss_kib")?,
                minor_faults: fields.get("minor_faults")?,
                major_faults: fields.get("major_faults")?,
                voluntary_switches: fields.get("voluntary_switches")?,
                involuntary_switches: fields.get("involuntary_switches")?,
            })),
            _ => Err(ParseError(format!("unknown report {line:?}"))),
        }
    }
}

/// `key=value` pairs separated by single spaces.
struct Fields<'a> {
    line: &'a str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Fields<'a> {
    fn parse(line: &'a str, rest: &'a str) -> Result<Self, ParseError> {
        let pairs = rest
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(|pair| pair.split_once('=').ok_or_else(|| ParseError(format!("{pair:?} is not key=value in {line:?}"))))
            .collect::<Result<_, _>>()?;
        Ok(Fields { line, pairs })
    }

    fn get<T: core::str::FromStr>(&self, key: &str) -> Result<T, ParseError> {
        let value = self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let value = value.ok_or_else(|| ParseError(format!("no {key} in {:?}", self.line)))?;
        value.parse().map_err(|_| ParseError(format!("{key}={value:?} is not a number in {:?}", self.line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_report_reads_back_as_written() {
        let reports = [
            Report::Started(Started { pid: 4242, t0_ns: 123_456_789_012, spawn_ns: 98_765, carried_hwm_kib: 300 }),
            Report::SpawnFailed { errno: 2 },
            Report::Exited(Exited {
                wall_ns: 1,
                status: 9,
                user_us: 2,
                system_us: 3,
                max_rss_kib: 4,
                minor_faults: 5,
                major_faults: 6,
                voluntary_switches: 7,
                involuntary_switches: 8,
            }),
            Report::Error { message: "bad args: x=y z".into() },
        ];
        for report in reports {
            assert_eq!(Report::parse(&report.to_string()), Ok(report));
        }
    }

    #[test]
    fn malformed_lines_are_errors_not_guesses() {
        assert!(Report::parse("").is_err());
        assert!(Report::parse("started pid=1 t0_ns=2 spawn_ns=3").is_err(), "a missing field");
        assert!(Report::parse("started pid=x t0_ns=2 spawn_ns=3 carried_hwm_kib=4").is_err(), "not a number");
        assert!(Report::parse("begun pid=1").is_err(), "unknown kind");
        assert!(Report::parse("spawn_failed errno").is_err(), "not key=value");
    }

    #[test]
    fn the_peak_is_the_programs_only_above_the_carried_mark() {
        let started = Started { pid: 1, t0_ns: 0, spawn_ns: 0, carried_hwm_kib: 400 };
        let mut exited = Exited { max_rss_kib: 1100, ..Exited::default() };
        assert!(exited.peak_is_programs_own(&started));
        exited.max_rss_kib = 400;
        assert!(!exited.peak_is_programs_own(&started));
    }
}
