//! The runner measured against known children (the `fixture-child` binary) and against
//! /usr/bin/time. Tolerances are loose enough for a noisy shared 2-core machine but tight enough to
//! catch a wrong method (an inherited peak, a missed child, a blocked pipe).
//!
//! The tests take a lock so they run one at a time: they measure time and memory, and on two cores
//! a concurrent test would be part of the measurement.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use orchestrator::measure::{run_measured, CancelToken, ChildCommand, Measured, RunLimits, Sampling, Termination, CROWDED_SPACING};

const MIB: u64 = 1 << 20;

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fixture(args: &[&str]) -> ChildCommand {
    let argv = std::iter::once(env!("CARGO_BIN_EXE_fixture-child")).chain(args.iter().copied());
    ChildCommand::new(argv, env!("CARGO_MANIFEST_DIR"))
}

fn limits(timeout_seconds: f64) -> RunLimits {
    RunLimits::with_timeout(Duration::from_secs_f64(timeout_seconds))
}

fn run(cmd: &ChildCommand, limits: &RunLimits) -> Measured {
    run_measured(cmd, limits, Some(Sampling::default()), &CancelToken::new())
}

fn mib(bytes: Option<u64>) -> f64 {
    bytes.map_or(f64::NAN, |b| b as f64 / MIB as f64)
}

/// True when no process of the group `pgid` exists any more (zombies included).
fn group_is_gone(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(-pgid, 0) == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) }
}

/// ru_maxrss of /bin/true started the ordinary way (std's spawn, wait4), in bytes.
#[allow(clippy::zombie_processes)] // reaped by wait4, which std's Child does not know about
fn naive_true_max_rss_bytes() -> u64 {
    let child = std::process::Command::new("/bin/true").spawn().expect("spawn /bin/true");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 writes only the status and the rusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(reaped, child.id() as i32);
    usage.ru_maxrss as u64 * 1024
}

#[test]
fn true_peak_is_its_own_not_inherited_from_a_200_mb_parent() {
    let _serial = one_at_a_time();
    let ballast = vec![1u8; 200 << 20];
    std::hint::black_box(&ballast);

    let naive = naive_true_max_rss_bytes();
    let measured = run(&ChildCommand::new(["/bin/true"], "/"), &limits(10.0));
    std::hint::black_box(&ballast);
    println!(
        "/bin/true under a 200 MiB parent: naive ru_maxrss {:.1} MiB, measured peak {:.2} MiB (exact: {}), wall {:.2} ms of which spawn {:.2} ms",
        mib(Some(naive)),
        mib(measured.peak_rss_bytes),
        measured.peak_rss_exact,
        measured.wall_seconds * 1e3,
        measured.spawn_seconds.unwrap_or(f64::NAN) * 1e3
    );
    // The premise: the ordinary method reports the parent's memory.
    assert!(naive > 150 * MIB, "naive ru_maxrss {naive} should include the parent's 200 MiB");
    assert_eq!(measured.termination, Termination::Exited(0));
    assert!(measured.peak_rss_exact, "the launcher should carry less than /bin/true's own peak");
    let peak = measured.peak_rss_bytes.expect("a peak");
    assert!(peak > 0 && peak <= 2 * MIB, "peak {peak} bytes");
}

/// "Maximum resident set size (kbytes): N" from `/usr/bin/time -v`, in bytes.
fn time_v_max_rss_bytes(args: &[&str]) -> u64 {
    let output = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_fixture-child"))
        .args(args)
        .output()
        .expect("/usr/bin/time must be installed");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kib: u64 = stderr
        .lines()
        .find_map(|line| line.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maximum RSS in {stderr}"));
    kib * 1024
}

#[test]
fn alloc_100_peak_agrees_with_usr_bin_time() {
    let _serial = one_at_a_time();
    let args = ["alloc", "100", "200"];
    let reference = time_v_max_rss_bytes(&args);
    let measured = run(&fixture(&args), &limits(30.0));
    println!("alloc 100: /usr/bin/time {:.2} MiB, runner {:.2} MiB", mib(Some(reference)), mib(measured.peak_rss_bytes));
    assert_eq!(measured.termination, Termination::Exited(0));
    assert!(measured.peak_rss_exact);
    let peak = measured.peak_rss_bytes.expect("a peak") as f64;
    assert!((peak - reference as f64).abs() <= 0.10 * reference as f64, "runner {peak} vs /usr/bin/time {reference}");
    assert!(peak >= 100.0 * MIB as f64);
}

/// A child holding 64 MiB laid out as `linreg` lays out its data: looked at once its memory has
/// settled, its anonymous memory is counted and, where Linux has huge pages to give, most of it lies
/// on them; not looked at unless asked.
#[test]
fn a_settled_child_is_looked_at_for_huge_pages_when_asked() {
    let _serial = one_at_a_time();
    let cmd = fixture(&["alloc-placed", "64", "300"]);
    let mut asked = limits(10.0);
    asked.look_at_huge_pages = Some(64 << 20);
    let measured = run(&cmd, &asked);
    assert_eq!(measured.termination, Termination::Exited(0));
    let seen = measured.anon_memory.expect("a look once the 64 MiB were written");
    assert!(seen.anonymous_bytes >= 64 << 20, "{seen:?}");
    assert!(seen.huge_bytes <= seen.anonymous_bytes, "{seen:?}");
    if linreg::placement::whole_pages().is_some() {
        // Fragmented memory may leave a few pages small; most must be huge.
        assert!(seen.huge_bytes >= 32 << 20, "{seen:?}");
    }
    assert_eq!(run(&cmd, &limits(10.0)).anon_memory, None, "not asked");
}

/// `busy 0.5` burns 0.5 s of CPU time, however long that takes on a shared machine: the rusage
/// must show those 0.5 s (not ours, not zero), and a single thread cannot use more than its wall.
/// (On an idle machine CPU ≈ wall; with two CPU hogs on the two cores it drops to ~60% of wall,
/// which says nothing about the runner, so that ratio is printed rather than asserted.)
#[test]
fn busy_child_cpu_time_is_measured() {
    let _serial = one_at_a_time();
    let measured = run(&fixture(&["busy", "0.5"]), &limits(30.0));
    let cpu = measured.user_seconds + measured.system_seconds;
    println!(
        "busy 0.5: wall {:.3} s, user {:.3} s, system {:.3} s, CPU/wall {:.0}%",
        measured.wall_seconds,
        measured.user_seconds,
        measured.system_seconds,
        100.0 * cpu / measured.wall_seconds
    );
    assert_eq!(measured.termination, Termination::Exited(0));
    assert!((0.5..0.6).contains(&cpu), "cpu {cpu}");
    assert!(cpu <= measured.wall_seconds + 0.01, "cpu {cpu} wall {}", measured.wall_seconds);
}

#[test]
fn samples_are_taken_every_millisecond_and_cpu_never_decreases() {
    let _serial = one_at_a_time();
    let measured = run(&fixture(&["busy", "0.3"]), &limits(30.0));
    let overhead = measured.sampler_cpu_seconds / measured.wall_seconds;
    println!(
        "busy 0.3 at 1 ms: {} samples over {:.3} s, sampler CPU {:.2} ms = {:.2}% of wall",
        measured.samples.len(),
        measured.wall_seconds,
        measured.sampler_cpu_seconds * 1e3,
        overhead * 100.0
    );
    assert_eq!(measured.termination, Termination::Exited(0));
    // One busy thread: on a machine of one usable CPU it keeps every CPU busy, and the samples are
    // spaced CROWDED_SPACING times wider once the sampler sees it (0.3 s: ~40 where 1 ms gives
    // ~300); with a CPU to spare, one a millisecond.
    let cpus = linreg::default_threads().get();
    let least = if cpus > 1 { 100 } else { 240 / CROWDED_SPACING as usize };
    assert!(measured.samples.len() >= least, "{} samples on {cpus} CPU(s)", measured.samples.len());
    for pair in measured.samples.windows(2) {
        assert!(pair[1].t_seconds >= pair[0].t_seconds);
        assert!(pair[1].cpu_seconds >= pair[0].cpu_seconds, "{pair:?}");
    }
    let last = measured.samples.last().expect("samples");
    assert!(last.cpu_seconds >= 0.25 && last.cpu_seconds <= measured.user_seconds + measured.system_seconds + 0.01, "{last:?}");
    // The first sample may see the new image before its first page, and the last ones the child
    // after it released its memory, on its way out: exited, not yet reaped by the launcher, which
    // on a busy machine waits for a CPU (up to 3 such samples, 1 ms apart, beside two busy loops).
    // Memory is never seen gone and then back.
    let last_resident = measured.samples.iter().rposition(|s| s.rss_bytes > 0).expect("a sample of the running child");
    assert!(measured.samples[1..=last_resident].iter().all(|s| s.rss_bytes > 0), "{:?}", measured.samples);
    assert!(measured.samples[last_resident..].iter().all(|s| s.cpu_seconds >= 0.25), "the zeros come after the work");
}

/// A run's samples thin out as it lasts: from 100 µs at the start (dense for 0.1 s), they are 0.8
/// ms apart between 0.4 and 0.8 s, so that stretch holds at most a quarter of a millisecond's
/// share — the watchdog wakes less often too, as its ticks follow the samples.
#[test]
fn samples_thin_out_as_a_run_lasts() {
    let _serial = one_at_a_time();
    let sampling = Sampling { first: Duration::from_micros(100), longest: Duration::from_millis(100) };
    let measured = run_measured(&fixture(&["sleep", "0.7"]), &limits(30.0), Some(sampling), &CancelToken::new());
    assert_eq!(measured.termination, Termination::Exited(0));
    let count = |from: f64, to: f64| measured.samples.iter().filter(|s| (from..to).contains(&s.t_seconds)).count();
    let (dense, thin) = (count(0.02, 0.1), count(0.4, 0.6));
    println!("sleep 0.7 from 100 µs: {} samples, {dense} in 0.02–0.1 s, {thin} in 0.4–0.6 s", measured.samples.len());
    // 0.2 s at 0.8 ms is 250 samples; at 100 µs throughout it would be 2 000.
    assert!((1..=251).contains(&thin), "{thin} samples in 0.4–0.6 s");
    assert!(measured.samples.windows(2).all(|w| w[1].t_seconds > w[0].t_seconds));
    let mut late_gaps: Vec<f64> =
        measured.samples.windows(2).filter(|w| w[0].t_seconds >= 0.45).map(|w| w[1].t_seconds - w[0].t_seconds).collect();
    late_gaps.sort_by(f64::total_cmp);
    let median_gap = late_gaps.get(late_gaps.len() / 2).copied().unwrap_or(0.0);
    assert!(median_gap >= 0.0007, "the median gap after 0.45 s is {median_gap} s");
}

#[test]
fn sampler_overhead_on_a_one_second_busy_child() {
    let _serial = one_at_a_time();
    let measured = run(&fixture(&["busy", "1.0"]), &limits(30.0));
    let overhead = measured.sampler_cpu_seconds / measured.wall_seconds;
    println!(
        "busy 1.0 at 1 ms: {} samples, sampler CPU {:.2} ms over {:.3} s wall = {:.2}% of one core ({:.1} µs a sample)",
        measured.samples.len(),
        measured.sampler_cpu_seconds * 1e3,
        measured.wall_seconds,
        overhead * 100.0,
        measured.sampler_cpu_seconds * 1e6 / measured.samples.len().max(1) as f64
    );
    assert_eq!(measured.termination, Termination::Exited(0));
    // A guard against a sampler that spins between samples (it would use most of a core), not a
    // speed target: what sampling costs is measured by the sampler-cost probe of every run and
    // recorded in the README. Under the suite's own load on a 2-vCPU sandbox this usually reads
    // 2–4% but has read 5.5% here and 5.9% on a 0.3 s child in CI, so the bound is far above both.
    assert!(overhead <= 0.25, "sampler used {:.2}% of wall", overhead * 100.0);
}

#[test]
fn without_samples_the_timeout_is_still_enforced() {
    let _serial = one_at_a_time();
    let mut limits = limits(0.2);
    limits.kill_grace = Duration::from_millis(500);
    let measured = run_measured(&fixture(&["sleep", "10"]), &limits, None, &CancelToken::new());
    assert_eq!(measured.termination, Termination::TimedOut);
    assert!(measured.samples.is_empty());
    // The clock starts at the child's exec, a few milliseconds after the canceller's: hence 0.15.
    assert!(measured.wall_seconds >= 0.15 && measured.wall_seconds < 0.2 + 0.5 + 1.0, "wall {}", measured.wall_seconds);
}

#[test]
fn sleep_past_the_timeout_is_terminated() {
    let _serial = one_at_a_time();
    let mut limits = limits(0.5);
    limits.kill_grace = Duration::from_secs(1);
    let measured = run(&fixture(&["sleep", "10"]), &limits);
    println!("timeout 0.5 s: wall {:.3} s, signal {:?}", measured.wall_seconds, measured.signal);
    assert_eq!(measured.termination, Termination::TimedOut);
    assert_eq!(measured.signal, Some(libc::SIGTERM));
    assert!(measured.wall_seconds >= 0.5 && measured.wall_seconds < 0.5 + 1.0 + 1.0, "wall {}", measured.wall_seconds);
}

#[test]
fn child_ignoring_sigterm_is_killed_after_the_grace_period() {
    let _serial = one_at_a_time();
    let mut limits = limits(0.3);
    limits.kill_grace = Duration::from_millis(500);
    let measured = run(&fixture(&["ignore-term", "10"]), &limits);
    println!("ignore-term: wall {:.3} s, signal {:?}", measured.wall_seconds, measured.signal);
    assert_eq!(measured.termination, Termination::TimedOut);
    assert_eq!(measured.signal, Some(libc::SIGKILL));
    assert!(measured.wall_seconds >= 0.8 && measured.wall_seconds < 0.8 + 1.5, "wall {}", measured.wall_seconds);
}

#[test]
fn crashes_are_reported_with_their_signal() {
    let _serial = one_at_a_time();
    assert_eq!(run(&fixture(&["crash", "segv"]), &limits(10.0)).termination, Termination::Signaled(libc::SIGSEGV));
    assert_eq!(run(&fixture(&["crash", "abort"]), &limits(10.0)).termination, Termination::Signaled(libc::SIGABRT));
}

#[test]
fn exit_codes_and_output_are_kept() {
    let _serial = one_at_a_time();
    let measured = run(&fixture(&["exit", "3"]), &limits(10.0));
    assert_eq!((measured.termination, measured.exit_code, measured.signal), (Termination::Exited(3), Some(3), None));

    let garbage = run(&fixture(&["garbage"]), &limits(10.0));
    assert_eq!(garbage.termination, Termination::Exited(0));
    assert_eq!(garbage.stdout, b"this is not a result line {\n");

    let json = run(&fixture(&["json"]), &limits(10.0));
    assert_eq!(json.termination, Termination::Exited(0));
    let line = String::from_utf8(json.stdout).expect("utf-8");
    let parsed = linreg::protocol::ResultLine::parse(&line).expect("a valid result line");
    assert_eq!(parsed.implementation, "fixture");
    assert!(json.stderr.is_empty());
}

#[test]
fn programs_that_exec_other_programs_are_followed() {
    let _serial = one_at_a_time();
    // /usr/bin/env execs the fixture, which allocates: a second exec inside the measured child.
    let cmd = ChildCommand::new(["/usr/bin/env", env!("CARGO_BIN_EXE_fixture-child"), "alloc", "30", "100"], "/");
    let measured = run(&cmd, &limits(10.0));
    println!("env → alloc 30: peak {:.1} MiB (exact: {})", mib(measured.peak_rss_bytes), measured.peak_rss_exact);
    assert_eq!(measured.termination, Termination::Exited(0));
    let peak = measured.peak_rss_bytes.expect("a peak");
    assert!((30 * MIB..=40 * MIB).contains(&peak), "peak {peak}");

    let sh = run(&ChildCommand::new(["/bin/sh", "-c", "/usr/bin/env /bin/sh -c 'exit 3'"], "/"), &limits(10.0));
    assert_eq!(sh.termination, Termination::Exited(3));
}

#[test]
fn signals_reach_the_child_but_stops_do_not_hold_it() {
    let _serial = one_at_a_time();
    let usr1 = run(&fixture(&["raise", &libc::SIGUSR1.to_string()]), &limits(10.0));
    assert_eq!(usr1.termination, Termination::Signaled(libc::SIGUSR1));
    assert!(usr1.stdout.is_empty());

    // A stopped child measures nothing: the launcher continues it at once.
    let stop = run(&fixture(&["raise", &libc::SIGSTOP.to_string()]), &limits(10.0));
    assert_eq!(stop.termination, Termination::Exited(0));
    assert_eq!(stop.stdout, b"survived\n");
}

#[test]
fn flood_is_captured_up_to_the_limit_and_drained_to_the_end() {
    let _serial = one_at_a_time();
    let mut limits = limits(30.0);
    limits.max_capture_bytes = 64 << 10;
    let measured = run(&fixture(&["flood", "20"]), &limits);
    println!("flood 20: wall {:.3} s", measured.wall_seconds);
    assert_eq!(measured.termination, Termination::Exited(0));
    assert_eq!((measured.stdout.len(), measured.stderr.len()), (64 << 10, 64 << 10));
    assert!(measured.stdout_truncated && measured.stderr_truncated);
    assert!(measured.stdout.iter().all(|&b| b == b'x'));
}

#[test]
fn grandchild_left_behind_is_killed_and_reaped() {
    let _serial = one_at_a_time();
    let started = Instant::now();
    let measured = run(&fixture(&["grandchild", "30"]), &limits(10.0));
    let elapsed = started.elapsed();
    assert_eq!(measured.termination, Termination::Exited(0));
    let pgid = measured.pid.expect("a pid");
    let grandchild: i32 = String::from_utf8_lossy(&measured.stdout).trim().parse().expect("the grandchild's pid");
    assert!(group_is_gone(pgid), "process group {pgid} still has members");
    // SAFETY: signal 0 only checks for existence.
    let grandchild_exists = unsafe { libc::kill(grandchild, 0) } == 0;
    assert!(!grandchild_exists, "grandchild {grandchild} still exists");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn a_killed_launcher_loses_the_run_and_takes_the_child_and_grandchild_down() {
    let _serial = one_at_a_time();
    let started = Instant::now();
    let measured = run(&fixture(&["kill-parent", "30"]), &limits(20.0));
    let elapsed = started.elapsed();
    let Termination::WaitFailed(why) = &measured.termination else { panic!("expected WaitFailed, got {:?}", measured.termination) };
    assert!(why.contains("launcher") && why.contains("signal 9"), "{why}");
    let pgid = measured.pid.expect("a pid");
    let grandchild: i32 = String::from_utf8_lossy(&measured.stdout).trim().parse().expect("the grandchild's pid");
    assert!(group_is_gone(pgid), "process group {pgid} still has members");
    // SAFETY: signal 0 only checks for existence.
    assert!(unsafe { libc::kill(grandchild, 0) } != 0, "grandchild {grandchild} still exists");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn descendant_leaving_the_group_is_still_killed() {
    let _serial = one_at_a_time();
    // The inner shell is part of the group for 0.3 s (the sampler sees it), prints its pid, then
    // becomes `sleep 30` in a session of its own, out of reach of a kill of the group.
    let script = "sh -c 'sleep 0.3; echo $$; exec setsid sleep 30' & sleep 0.6";
    let started = Instant::now();
    let measured = run(&ChildCommand::new(["/bin/sh", "-c", script], "/"), &limits(10.0));
    let elapsed = started.elapsed();
    assert_eq!(measured.termination, Termination::Exited(0));
    let escaped: i32 = String::from_utf8_lossy(&measured.stdout).trim().parse().expect("the escaped pid");
    // SAFETY: signal 0 only checks for existence.
    let escaped_exists = unsafe { libc::kill(escaped, 0) } == 0;
    assert!(!escaped_exists, "descendant {escaped} that left the group is still there");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn descendant_escaping_unseen_with_the_pipes_does_not_hang_the_run() {
    let _serial = one_at_a_time();
    // setsid at once: the sampler may never see it in the tree, and it keeps stdout open.
    let started = Instant::now();
    let measured = run(&ChildCommand::new(["/bin/sh", "-c", "setsid sleep 3 & echo started"], "/"), &limits(10.0));
    let elapsed = started.elapsed();
    assert_eq!(measured.termination, Termination::Exited(0));
    assert_eq!(measured.stdout, b"started\n");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn descendants_memory_counts_in_the_peak() {
    let _serial = one_at_a_time();
    let measured = run(&fixture(&["spawn-wait", "alloc", "100", "300"]), &limits(30.0));
    println!("spawn-wait alloc 100: peak {:.1} MiB, {} samples", mib(measured.peak_rss_bytes), measured.samples.len());
    assert_eq!(measured.termination, Termination::Exited(0));
    assert!(measured.descendants_seen);
    let peak = measured.peak_rss_bytes.expect("a peak");
    assert!(peak >= 95 * MIB, "peak {peak}");
    assert!(measured.samples.iter().any(|s| s.rss_bytes >= 95 * MIB));
}

#[test]
fn memory_limit_kills_the_child() {
    let _serial = one_at_a_time();
    let mut limits = limits(30.0);
    limits.memory_limit_bytes = Some(50 * MIB);
    let measured = run(&fixture(&["alloc", "200", "5000"]), &limits);
    println!(
        "alloc 200 under 50 MiB: peak {:.1} MiB (exact: {}), wall {:.3} s",
        mib(measured.peak_rss_bytes),
        measured.peak_rss_exact,
        measured.wall_seconds
    );
    assert_eq!(measured.termination, Termination::MemoryLimit);
    assert_eq!(measured.signal, Some(libc::SIGKILL));
    assert!(measured.wall_seconds < 3.0);
}

#[test]
fn cancellation_from_another_thread_stops_the_run_promptly() {
    let _serial = one_at_a_time();
    let cancel = CancelToken::new();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            cancel.cancel();
        })
    };
    let mut limits = limits(30.0);
    limits.kill_grace = Duration::from_millis(500);
    let measured = run_measured(&fixture(&["sleep", "10"]), &limits, Some(Sampling::default()), &cancel);
    canceller.join().expect("canceller");
    println!("cancelled after 0.2 s: wall {:.3} s", measured.wall_seconds);
    assert_eq!(measured.termination, Termination::Cancelled);
    // The clock starts at the child's exec, a few milliseconds after the canceller's: hence 0.15.
    assert!(measured.wall_seconds >= 0.15 && measured.wall_seconds < 0.2 + 0.5 + 1.0, "wall {}", measured.wall_seconds);

    let not_started = run_measured(&fixture(&["sleep", "10"]), &limits, None, &cancel);
    assert_eq!((not_started.termination, not_started.pid), (Termination::Cancelled, None));
}

#[test]
fn commands_that_cannot_start_are_spawn_failures() {
    let _serial = one_at_a_time();
    let missing = run(&ChildCommand::new(["/nonexistent"], "/"), &limits(10.0));
    match missing.termination {
        Termination::SpawnFailed(message) => assert!(message.contains("/nonexistent") && message.contains("No such file"), "{message}"),
        other => panic!("{other:?}"),
    }

    let not_executable = run(&ChildCommand::new([concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")], "/"), &limits(10.0));
    assert!(matches!(&not_executable.termination, Termination::SpawnFailed(m) if m.contains("Permission denied")), "{not_executable:?}");

    let bad_cwd = run(&ChildCommand::new(["/bin/true"], "/nonexistent-directory"), &limits(10.0));
    assert!(matches!(&bad_cwd.termination, Termination::SpawnFailed(m) if m.contains("/nonexistent-directory")), "{bad_cwd:?}");

    let empty = run(&ChildCommand::new(Vec::<String>::new(), "/"), &limits(10.0));
    assert!(matches!(empty.termination, Termination::SpawnFailed(_)));
}

#[test]
fn environment_working_directory_and_cpus_are_applied() {
    let _serial = one_at_a_time();
    let mut cmd = fixture(&["env", "RUNNER_TEST_VALUE"]);
    cmd.env.insert("RUNNER_TEST_VALUE".into(), "forty two".into());
    assert_eq!(run(&cmd, &limits(10.0)).stdout, b"forty two\n");

    let mut cmd = fixture(&["cwd"]);
    cmd.cwd = "/tmp".into();
    assert_eq!(run(&cmd, &limits(10.0)).stdout, b"/tmp\n");

    let mut pinned = limits(10.0);
    pinned.cpus = Some(vec![0]);
    assert_eq!(run(&fixture(&["affinity"]), &pinned).stdout, b"0\n");

    pinned.cpus = Some(vec![100_000]);
    assert!(matches!(run(&fixture(&["affinity"]), &pinned).termination, Termination::SpawnFailed(_)));
}
