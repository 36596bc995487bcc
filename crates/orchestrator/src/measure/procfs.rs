//! Reading a running child's whole process tree from /proc: resident memory and cumulative CPU of
//! the root, of every descendant found through the children files, and of every member of its
//! process group.
//!
//! It has to be cheap (it shares the machine with what it measures): handles to /proc files stay
//! open and are re-read with pread, and CPU time comes from the kernel's per-process CPU clock (one
//! syscall, nanoseconds, all threads including exited ones).

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::sys;

/// How often the tree is searched for new members by scanning /proc for the process group: always
/// as the fallback when /proc/PID/task/TID/children does not exist, and rarely as a safety net for
/// descendants that were orphaned before the children files showed them.
const SCAN_PERIOD_WITHOUT_CHILDREN_FILES: Duration = Duration::from_millis(10);
const SCAN_PERIOD_WITH_CHILDREN_FILES: Duration = Duration::from_millis(100);
/// Task lists are re-read when a process's thread count changes, and at least this often.
const TASK_LIST_PERIOD: Duration = Duration::from_millis(100);

/// One reading of a [`ProcessTree`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct TreeReading {
    pub(crate) rss_bytes: u64,
    pub(crate) cpu_seconds: f64,
    /// Live processes found in the tree, the root included.
    pub(crate) processes: usize,
}

/// The process tree rooted at one process: the root, every descendant found through the
/// /proc/PID/task/TID/children files, and every process of the root's process group.
///
/// A process once found stays in the tree until it dies, even if it is re-parented or leaves the
/// group: its /proc files are held open, which also makes the readings immune to pid reuse (a
/// handle to a dead process fails with ESRCH rather than reading its successor).
pub(crate) struct ProcessTree {
    root: libc::pid_t,
    process_group: libc::pid_t,
    live: Vec<TrackedProcess>,
    /// CPU of processes that have left the tree, as last seen, so the tree's total never drops.
    departed_cpu_ns: u64,
    /// Pids known not to belong to the tree (checked by a scan), so a scan reads each pid once.
    outsiders: HashSet<libc::pid_t>,
    use_children_files: bool,
    scan_period: Duration,
    last_scan: Option<Instant>,
    descendants_seen: bool,
    buffer: Vec<u8>,
}

impl ProcessTree {
    /// Starts tracking `root`, whose process group is `process_group` (the runner makes the child
    /// a group leader, so both are the child's pid).
    pub(crate) fn new(root: libc::pid_t, process_group: libc::pid_t) -> Self {
        Self::with_discovery(root, process_group, children_files_supported())
    }

    fn with_discovery(root: libc::pid_t, process_group: libc::pid_t, use_children_files: bool) -> Self {
        let scan_period = if use_children_files { SCAN_PERIOD_WITH_CHILDREN_FILES } else { SCAN_PERIOD_WITHOUT_CHILDREN_FILES };
        let mut tree = ProcessTree {
            root,
            process_group,
            live: Vec::new(),
            departed_cpu_ns: 0,
            outsiders: HashSet::new(),
            use_children_files,
            scan_period,
            // With children files the scan is only a safety net: its first, costly round (every
            // pid of the machine is read once) waits a period rather than compete with the start.
            last_scan: use_children_files.then(Instant::now),
            descendants_seen: false,
            buffer: vec![0; 4096],
        };
        if let Ok(root) = TrackedProcess::open(root, use_children_files) {
            tree.live.push(root);
        }
        tree
    }

    /// Whether any process other than the root has been part of the tree.
    pub(crate) fn descendants_seen(&self) -> bool {
        self.descendants_seen
    }

    /// Process file descriptors of the descendants alive at the last reading (the root excluded).
    pub(crate) fn into_descendant_pidfds(self) -> Vec<OwnedFd> {
        let root = self.root;
        self.live.into_iter().filter(|p| p.pid != root).filter_map(|p| p.pidfd).collect()
    }

    /// Finds new members, then reads every live member's resident memory and CPU time.
    pub(crate) fn read(&mut self) -> TreeReading {
        let now = Instant::now();
        if self.use_children_files {
            self.discover_through_children_files(now);
        }
        let scan_due = match self.last_scan {
            Some(last) => now.duration_since(last) >= self.scan_period,
            None => true,
        };
        if scan_due {
            self.last_scan = Some(now);
            self.discover_by_scanning_process_group();
        }
        let mut reading = TreeReading::default();
        let mut cpu_ns = self.departed_cpu_ns;
        let mut index = 0;
        while index < self.live.len() {
            match self.live[index].refresh(&mut self.buffer) {
                Ok(()) => {
                    let process = &self.live[index];
                    reading.rss_bytes = reading.rss_bytes.saturating_add(process.rss_bytes);
                    cpu_ns = cpu_ns.saturating_add(process.cpu_ns);
                    reading.processes += 1;
                    index += 1;
                }
                Err(_) => {
                    let gone = self.live.swap_remove(index);
                    self.departed_cpu_ns = self.departed_cpu_ns.saturating_add(gone.cpu_ns);
                    cpu_ns = cpu_ns.saturating_add(gone.cpu_ns);
                }
            }
        }
        reading.cpu_seconds = cpu_ns as f64 * 1e-9;
        reading
    }

    /// The proportional set size of the live members, summed (/proc/PID/smaps_rollup): pages
    /// shared between processes are divided among them, where an RSS sum counts them once per
    /// process. Costly (the kernel walks every mapping), so read only when the RSS sum is over the
    /// memory limit. A member that cannot be read has just exited (its memory is gone); None
    /// when no member can be read (no smaps_rollup on this kernel).
    pub(crate) fn pss_bytes(&mut self) -> Option<u64> {
        let pss = |pid: libc::pid_t| smaps_field_bytes(&smaps_rollup(pid)?, "Pss:");
        let read: Vec<u64> = self.live.iter().filter_map(|p| pss(p.pid)).collect();
        (!read.is_empty()).then(|| read.iter().fold(0u64, |total, bytes| total.saturating_add(*bytes)))
    }

    fn is_tracked(&self, pid: libc::pid_t) -> bool {
        self.live.iter().any(|p| p.pid == pid)
    }

    fn track(&mut self, pid: libc::pid_t) {
        if let Ok(process) = TrackedProcess::open(pid, self.use_children_files) {
            self.descendants_seen |= pid != self.root;
            self.live.push(process);
        }
    }

    fn discover_through_children_files(&mut self, now: Instant) {
        let mut found = Vec::new();
        // Processes appended during the loop are searched too: a whole new subtree in one tick.
        let mut index = 0;
        while index < self.live.len() {
            found.clear();
            self.live[index].read_children(now, &mut self.buffer, &mut found);
            for &pid in &found {
                if !self.is_tracked(pid) {
                    self.track(pid);
                }
            }
            index += 1;
        }
    }

    fn discover_by_scanning_process_group(&mut self) {
        let Ok(entries) = std::fs::read_dir("/proc") else { return };
        let mut outsiders = HashSet::with_capacity(self.outsiders.len());
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<libc::pid_t>().ok()) else { continue };
            if self.outsiders.contains(&pid) {
                outsiders.insert(pid);
            } else if !self.is_tracked(pid) {
                match process_group_of(pid, &mut self.buffer) {
                    Some(group) if group == self.process_group => self.track(pid),
                    Some(_) => {
                        outsiders.insert(pid);
                    }
                    None => {}
                }
            }
        }
        // Only pids still listed are kept: a pid that disappears may come back as another process.
        self.outsiders = outsiders;
    }
}

/// Whether this kernel has /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN).
fn children_files_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| std::path::Path::new("/proc/thread-self/children").exists())
}

/// One process of the tree, with its /proc files held open.
struct TrackedProcess {
    pid: libc::pid_t,
    statm: File,
    /// The kernel's CPU clock of the whole process (all threads, exited ones included), when
    /// available; /proc/PID/stat ticks otherwise.
    cpu_clock: Option<libc::clockid_t>,
    stat: Option<File>,
    rss_bytes: u64,
    cpu_ns: u64,
    tasks: Option<Tasks>,
    /// Names this very process (not a later one with the same pid), so it can be killed at the
    /// end of the run even if it left the process group.
    pidfd: Option<OwnedFd>,
}

/// The threads of a process, for reading the children each of them forked.
struct Tasks {
    /// /proc/PID/task, held open: its link count is 2 + the number of threads, so one fstat tells
    /// whether the list must be read again.
    directory: File,
    link_count: u64,
    listed_at: Instant,
    children_files: Vec<File>,
}

impl TrackedProcess {
    fn open(pid: libc::pid_t, with_tasks: bool) -> io::Result<Self> {
        let statm = File::open(format!("/proc/{pid}/statm"))?;
        let cpu_clock = sys::process_cpu_clock(pid);
        let stat = if cpu_clock.is_none() { Some(File::open(format!("/proc/{pid}/stat"))?) } else { None };
        let tasks = if with_tasks { File::open(format!("/proc/{pid}/task")).ok().map(Tasks::new) } else { None };
        Ok(TrackedProcess { pid, statm, cpu_clock, stat, rss_bytes: 0, cpu_ns: 0, tasks, pidfd: sys::pidfd_open(pid) })
    }

    /// Reads resident memory and CPU time. An error means the process is gone.
    fn refresh(&mut self, buffer: &mut Vec<u8>) -> io::Result<()> {
        let statm = read_at_start(&self.statm, buffer)?;
        let resident_pages = field(statm, 1).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
        self.rss_bytes = resident_pages.saturating_mul(sys::page_size());
        let cpu_ns = match (self.cpu_clock, &self.stat) {
            (Some(clock), _) => sys::clock_ns(clock),
            (None, Some(stat)) => stat_cpu_ns(read_at_start(stat, buffer)?),
            (None, None) => None,
        };
        // A clock that cannot be read for a process whose statm still can (a zombie) keeps its
        // last value; CPU time never goes backwards.
        if let Some(ns) = cpu_ns {
            self.cpu_ns = self.cpu_ns.max(ns);
        }
        Ok(())
    }

    /// Appends the pids of the children of all of this process's threads.
    fn read_children(&mut self, now: Instant, buffer: &mut Vec<u8>, found: &mut Vec<libc::pid_t>) {
        let Some(tasks) = &mut self.tasks else { return };
        tasks.relist_if_changed(self.pid, now);
        for file in &tasks.children_files {
            if let Ok(text) = read_at_start(file, buffer) {
                numbers(text, found);
            }
        }
    }
}

impl Tasks {
    fn new(directory: File) -> Self {
        Tasks { directory, link_count: 0, listed_at: Instant::now(), children_files: Vec::new() }
    }

    fn relist_if_changed(&mut self, pid: libc::pid_t, now: Instant) {
        let link_count = self.directory.metadata().map(|m| m.nlink()).unwrap_or(0);
        if link_count == self.link_count && now.duration_since(self.listed_at) < TASK_LIST_PERIOD {
            return;
        }
        self.link_count = link_count;
        self.listed_at = now;
        let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return };
        self.children_files = entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<libc::pid_t>().ok())
            .filter_map(|tid| File::open(format!("/proc/{pid}/task/{tid}/children")).ok())
            .collect();
    }
}

/// The whole content of a /proc file, read from offset 0 through a handle kept open. The buffer
/// is reused without clearing: this runs every tick, so it should cost the syscall and no more.
fn read_at_start<'a>(file: &File, buffer: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
    if buffer.len() < 4096 {
        buffer.resize(4096, 0);
    }
    let mut filled = 0;
    loop {
        let n = file.read_at(&mut buffer[filled..], filled as u64)?;
        filled += n;
        // /proc files return all they have in one read when the buffer is large enough.
        if n == 0 || filled < buffer.len() {
            return Ok(&buffer[..filled]);
        }
        buffer.resize(buffer.len() * 2, 0);
    }
}

/// /proc/PID/smaps_rollup's text, None where it cannot be read (the process gone, a kernel without
/// it, another user's process).
pub(crate) fn smaps_rollup(pid: libc::pid_t) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()
}

/// The first `Field:  N kB` line of smaps or smaps_rollup text, in bytes; `field` with its colon.
pub(crate) fn smaps_field_bytes(text: &str, field: &str) -> Option<u64> {
    let rest = text.lines().find_map(|line| line.strip_prefix(field))?;
    rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok().map(|kib| kib.saturating_mul(1024))
}

/// The `index`th (from 0) whitespace-separated word of a /proc line, as a number.
fn field(text: &[u8], index: usize) -> Option<u64> {
    let mut words = text.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
    parse_number(words.nth(index)?)
}

/// The decimal numbers of a whitespace-separated list such as a children file.
fn numbers(text: &[u8], out: &mut Vec<libc::pid_t>) {
    let mut current: Option<libc::pid_t> = None;
    for &byte in text {
        if byte.is_ascii_digit() {
            let digit = libc::pid_t::from(byte - b'0');
            current = Some(current.unwrap_or(0).saturating_mul(10).saturating_add(digit));
        } else if let Some(number) = current.take() {
            out.push(number);
        }
    }
    out.extend(current);
}

fn parse_number(word: &[u8]) -> Option<u64> {
    if word.is_empty() || !word.iter().all(u8::is_ascii_digit) {
        return None;
    }
    word.iter().try_fold(0u64, |n, &digit| n.checked_mul(10)?.checked_add(u64::from(digit - b'0')))
}

/// The fields of /proc/PID/stat after the command name, which may itself hold spaces and ')'.
fn stat_fields_after_command(text: &[u8]) -> Option<&[u8]> {
    let close = text.iter().rposition(|&b| b == b')')?;
    text.get(close + 1..)
}

/// utime + stime of /proc/PID/stat (fields 14 and 15), in nanoseconds.
fn stat_cpu_ns(text: &[u8]) -> Option<u64> {
    let rest = stat_fields_after_command(text)?;
    // After the command: state is field 3, so field k is at index k − 3.
    let ticks = field(rest, 11)?.checked_add(field(rest, 12)?)?;
    Some(ticks.saturating_mul(1_000_000_000) / sys::clock_ticks_per_second())
}

fn process_group_of(pid: libc::pid_t, buffer: &mut Vec<u8>) -> Option<libc::pid_t> {
    let file = File::open(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat_fields_after_command(read_at_start(&file, buffer).ok()?)?;
    libc::pid_t::try_from(field(rest, 2)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let text = b"4242 (a) b (c)) S 1 777 777 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 1 2 3\n";
        let rest = stat_fields_after_command(text).unwrap();
        assert_eq!(field(rest, 2), Some(777));
        assert_eq!(stat_cpu_ns(text), Some(300 * 1_000_000_000 / sys::clock_ticks_per_second()));
    }

    #[test]
    fn statm_resident_is_the_second_field() {
        assert_eq!(field(b"1000 250 100 10 0 300 0\n", 1), Some(250));
        assert_eq!(field(b"1000 -5", 1), None);
    }

    #[test]
    fn children_files_are_lists_of_pids() {
        let mut pids = Vec::new();
        numbers(b"12 345 6789 ", &mut pids);
        numbers(b"", &mut pids);
        numbers(b"42", &mut pids);
        assert_eq!(pids, [12, 345, 6789, 42]);
    }

    /// `sh -c 'sleep 5 & sleep 5 & wait'` in its own process group: a root with two children.
    fn shell_with_a_child() -> std::process::Child {
        use std::os::unix::process::CommandExt;
        Command::new("/bin/sh").args(["-c", "sleep 5 & sleep 5 & wait"]).process_group(0).stdin(Stdio::null()).spawn().unwrap()
    }

    fn find_descendants(use_children_files: bool) {
        let mut child = shell_with_a_child();
        let pid = child.id() as libc::pid_t;
        let mut tree = ProcessTree::with_discovery(pid, pid, use_children_files);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut reading = tree.read();
        while reading.processes < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            reading = tree.read();
        }
        sys::signal_group(pid, libc::SIGKILL);
        let _ = child.wait();
        assert_eq!(reading.processes, 3, "sh and its two sleeps");
        assert!(tree.descendants_seen());
        assert!(reading.rss_bytes > 0);
    }

    #[test]
    fn finds_descendants_through_children_files() {
        if children_files_supported() {
            find_descendants(true);
        }
    }

    #[test]
    fn finds_descendants_by_scanning_the_process_group() {
        find_descendants(false);
    }
}
