//! Test fixture, used only by the orchestrator's tests (crates/orchestrator/tests): a child process
//! with a known behaviour (memory, CPU, exit, output, signals, descendants) for the runner to
//! measure from outside. Not part of the product; std + libc (and linreg's placement, for
//! `alloc-placed`) so it starts fast and small.
//!
//! Usage: `fixture-child COMMAND [ARGS]`; run without arguments for the list of commands.

use std::io::Write;
use std::process::{Command, ExitCode};
use std::str::FromStr;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: fixture-child COMMAND [ARGS]
  alloc MB HOLD_MS       allocate and touch MB mebibytes, hold them HOLD_MS, exit 0
  alloc-placed MB HOLD_MS
                         the same in a buffer placed as linreg places its data
  busy SECONDS           spin on one core until it has used SECONDS of CPU time
  spin THREADS UNITS ROUNDS
                         THREADS threads each do UNITS units of arithmetic (about 1 µs each)
                         in ROUNDS rounds, all meeting at a barrier after each round, like a
                         parallel kernel's epochs; print the seconds the work took
  sleep SECONDS          sleep
  crash segv|abort       die by SIGSEGV (a real fault) or SIGABRT
  exit CODE              exit with CODE
  garbage                print a line that is not JSON
  flood MB               write MB mebibytes to stdout and MB to stderr
  ignore-term SECONDS    ignore SIGTERM, sleep
  grandchild SECONDS     start a copy of itself that sleeps SECONDS, print its pid, exit at once
  spawn-wait COMMAND...  run a copy of itself with COMMAND..., wait, exit with its code
  raise SIGNAL           send itself SIGNAL (a number), then print \"survived\" and exit 0
  kill-parent SECONDS    start a grandchild that sleeps SECONDS, print its pid, SIGKILL this
                         process's parent (the launcher) once it waits for this one, then sleep
                         SECONDS
  json                   print a valid result line of the implementation protocol
  result N EPOCHS LR [--fits K] [--device NAME]
                         print a valid result line for that point (the orchestrator fills {n} …);
                         with --fits, K timed \"fits\" of busy work (the first five times longer,
                         as if compiled at the first call) and the per-fit fields of the protocol
  env NAME               print the environment variable NAME
  cwd                    print the working directory
  affinity               print the CPUs this process may run on
  fds                    print a valid result line (as json does) when only the standard streams
                         are open, else list the open descriptors on stderr and exit 1";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("fixture-child: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<u8, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["alloc", mb, hold_ms] => alloc(parse(mb)?, Duration::from_millis(parse(hold_ms)?)),
        ["alloc-placed", mb, hold_ms] => alloc_placed(parse(mb)?, Duration::from_millis(parse(hold_ms)?)),
        ["busy", seconds] => busy(seconds_arg(seconds)?),
        ["spin", threads, units, rounds] => println!("{}", spin(parse(threads)?, parse(units)?, parse(rounds)?)?),
        ["sleep", seconds] => std::thread::sleep(seconds_arg(seconds)?),
        ["crash", "segv"] => crash_segv(),
        ["crash", "abort"] => std::process::abort(),
        ["exit", code] => return parse(code),
        ["garbage"] => println!("this is not a result line {{"),
        ["flood", mb] => flood(parse(mb)?),
        ["ignore-term", seconds] => {
            // SAFETY: setting a signal disposition to SIG_IGN installs no handler code.
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            std::thread::sleep(seconds_arg(seconds)?);
        }
        ["grandchild", seconds] => {
            let child = Command::new(own_path()?).args(["sleep", seconds]).spawn().map_err(|e| format!("cannot start grandchild: {e}"))?;
            // Left running on purpose (never waited for): the runner must clean it up.
            println!("{}", child.id());
        }
        ["spawn-wait", rest @ ..] => {
            let status = Command::new(own_path()?).args(rest).status().map_err(|e| format!("cannot start child: {e}"))?;
            return Ok(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1));
        }
        ["kill-parent", seconds] => {
            let child = Command::new(own_path()?).args(["sleep", seconds]).spawn().map_err(|e| format!("cannot start grandchild: {e}"))?;
            println!("{}", child.id());
            std::io::stdout().flush().map_err(|e| e.to_string())?;
            until_the_parent_waits();
            // SAFETY: kill and getppid have no memory-safety preconditions.
            unsafe { libc::kill(libc::getppid(), libc::SIGKILL) };
            std::thread::sleep(seconds_arg(seconds)?);
        }
        ["raise", signal] => {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(libc::getpid(), parse(signal)?) };
            println!("survived");
        }
        ["json"] => println!(
            "{{\"implementation\": \"fixture\", \"n\": 5, \"epochs\": 1000, \"learning_rate\": 0.01, \"w\": 1.995180350672, \
             \"b\": 0.017400463341, \"mse\": 8.6e-5, \"status\": \"ok\", \"epochs_run\": 1000, \"load_seconds\": 1.2e-5, \
             \"train_seconds\": 3.1e-6}}"
        ),
        ["result", n, epochs, learning_rate, flags @ ..] => {
            let (n, epochs, learning_rate): (u64, u64, f64) = (parse(n)?, parse(epochs)?, parse(learning_rate)?);
            let flags = result_flags(flags)?;
            let (train_seconds, extra) = match flags.fits {
                Some(_) if flags.refuses_fits => return Ok(3),
                Some(fits) => {
                    std::thread::sleep(flags.then_hold);
                    timed_fits(fits, flags.device)
                }
                None if flags.needs_fits => return Err("no --fits: this one only runs as a service".to_string()),
                None if flags.hangs_without_fits => loop {
                    std::thread::sleep(Duration::from_secs(60));
                },
                None => (1e-6, String::new()),
            };
            println!(
                "{{\"implementation\": \"fixture\", \"n\": {n}, \"epochs\": {epochs}, \"learning_rate\": {learning_rate:?}, \"w\": 2.0, \
                 \"b\": 0.0, \"mse\": 0.0, \"status\": \"ok\", \"epochs_run\": {epochs}, \"load_seconds\": 1e-6, \"train_seconds\": {train_seconds:?}{extra}}}"
            );
        }
        ["env", name] => println!("{}", std::env::var(name).unwrap_or_default()),
        ["cwd"] => println!("{}", std::env::current_dir().map_err(|e| e.to_string())?.display()),
        ["affinity"] => println!("{}", allowed_cpus()?),
        ["fds"] => {
            let open = open_descriptors()?;
            if open != [0, 1, 2] {
                eprintln!("open descriptors: {open:?}");
                return Ok(1);
            }
            return run(&["json".to_string()]);
        }
        _ => return Err(format!("unknown command {args:?}")),
    }
    Ok(0)
}

/// The flags of `result`, after its point.
#[derive(Default)]
struct ResultFlags<'a> {
    /// `--fits K`.
    fits: Option<u64>,
    /// `--device NAME`.
    device: Option<&'a str>,
    /// `--hold-ms MS`: with `--fits`, sleep this long first (a run of fits that lasts).
    then_hold: Duration,
    /// `--needs-fits yes`: fail without `--fits`.
    needs_fits: bool,
    /// `--refuses-fits yes`: exit 3 with `--fits`, printing nothing.
    refuses_fits: bool,
    /// `--hangs-without-fits yes`: without `--fits`, never end.
    hangs_without_fits: bool,
}

/// `--fits K`, `--device NAME`, `--hold-ms MS`, `--needs-fits yes`, `--refuses-fits yes` and
/// `--hangs-without-fits yes`, in any order.
fn result_flags<'a>(flags: &[&'a str]) -> Result<ResultFlags<'a>, String> {
    let mut parsed = ResultFlags::default();
    for pair in flags.chunks(2) {
        match pair {
            ["--fits", k] => parsed.fits = Some(parse::<u64>(k)?).filter(|k| *k >= 1).map(Some).ok_or("--fits must be ≥ 1")?,
            ["--device", name] => parsed.device = Some(*name),
            ["--hold-ms", ms] => parsed.then_hold = Duration::from_millis(parse(ms)?),
            ["--needs-fits", "yes"] => parsed.needs_fits = true,
            ["--refuses-fits", "yes"] => parsed.refuses_fits = true,
            ["--hangs-without-fits", "yes"] => parsed.hangs_without_fits = true,
            _ => return Err(format!("unknown flags {pair:?}")),
        }
    }
    Ok(parsed)
}

/// How long a warm fit of [`timed_fits`] keeps busy at least; the first, five times that. Long
/// beside the sampler's first interval (1 ms), so that every run's fits are sampled: as a fixed
/// count of steps, six fits lasted 0.5-0.9 ms on an Emerald Rapids guest, and no sample fell
/// among them in 16 of 36 runs of the production test's scenario (in all three runs of one point
/// once in three tries, so that its report had no memory while fitting); a faster CPU, more often.
const WARM_FIT: Duration = Duration::from_millis(1);

/// K fits of busy work timed by the monotonic clock, the first five times longer: the training
/// time (their sum) and the per-fit fields of docs/protocol.md, as `,"name": value` pairs.
fn timed_fits(fits: u64, device: Option<&str>) -> (f64, String) {
    let mut times: Vec<f64> = (0..fits)
        .map(|k| {
            let start = Instant::now();
            let busy_for = if k == 0 { 5 * WARM_FIT } else { WARM_FIT };
            let mut x: u64 = k + 1;
            while start.elapsed() < busy_for {
                for _ in 0..1_000 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407));
                }
            }
            std::hint::black_box(x);
            start.elapsed().as_secs_f64()
        })
        .collect();
    let train_seconds: f64 = times.iter().sum();
    let mut extra = format!(",\"fits\": {fits}, \"fit_first_seconds\": {:?}", times[0]);
    let warm = &mut times[1..];
    if !warm.is_empty() {
        warm.sort_by(f64::total_cmp);
        let m = warm.len();
        let median = if m % 2 == 1 { warm[m / 2] } else { (warm[m / 2 - 1] + warm[m / 2]) / 2.0 };
        let p99 = warm[((0.99 * m as f64).ceil() as usize).max(1) - 1];
        let mean = warm.iter().sum::<f64>() / m as f64;
        extra.push_str(&format!(
            ",\"fit_warm_min_seconds\": {:?}, \"fit_warm_median_seconds\": {median:?}, \"fit_warm_p99_seconds\": {p99:?}, \
             \"fit_warm_max_seconds\": {:?}, \"fit_warm_mean_seconds\": {mean:?}",
            warm[0],
            warm[m - 1]
        ));
    }
    if let Some(device) = device {
        extra.push_str(&format!(",\"device\": {device:?}"));
    }
    (train_seconds, extra)
}

fn parse<T: FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("not a valid number: {text:?}"))
}

fn seconds_arg(text: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(parse(text)?).map_err(|e| format!("{text:?}: {e}"))
}

fn own_path() -> Result<std::path::PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))
}

fn alloc(mebibytes: usize, hold: Duration) {
    // vec![1; n] writes every byte, so every page is resident (vec![0; n] would stay untouched).
    let block = vec![1u8; mebibytes << 20];
    std::hint::black_box(&block);
    std::thread::sleep(hold);
    std::hint::black_box(&block);
}

/// Returns once this process's parent is blocked in wait4 (its wchan `do_wait`), which the
/// launcher enters only after reporting the start, or after 2 s where the wchan says nothing.
/// `kill-parent` must kill the launcher during the run: killed at once, it sometimes had not yet
/// reported the start (once in 7 runs of tests/runner.rs, 2-vCPU machine), and the run was then
/// one that never started.
fn until_the_parent_waits() {
    // SAFETY: getppid has no preconditions.
    let wchan = format!("/proc/{}/wchan", unsafe { libc::getppid() });
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if std::fs::read_to_string(&wchan).is_ok_and(|w| w.trim() == "do_wait") {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// As `alloc`, in a buffer placed as `linreg` places its data (on whole huge pages where Linux
/// has them), every value written.
fn alloc_placed(mebibytes: usize, hold: Duration) {
    let mut buffer = linreg::placement::Buffer::zeroed((mebibytes << 20) / 8);
    buffer.values_mut().fill(1.0);
    std::hint::black_box(&buffer);
    std::thread::sleep(hold);
    std::hint::black_box(&buffer);
}

/// Spins until this thread has used `duration` of CPU time (not wall time: on a busy machine the
/// amount of work stays the same, only the wall time stretches).
fn busy(duration: Duration) {
    let start = thread_cpu_time();
    let mut x: u64 = 1;
    while thread_cpu_time().saturating_sub(start) < duration {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407));
        }
    }
}

/// A fixed amount of work on `threads` threads, in `rounds` barrier-separated rounds: the seconds
/// from the start to the last thread finishing. Used to measure what sampling costs a child that
/// keeps every CPU busy.
fn spin(threads: usize, units: u64, rounds: u64) -> Result<f64, String> {
    if threads == 0 || rounds == 0 {
        return Err("spin needs at least one thread and one round".into());
    }
    let barrier = std::sync::Barrier::new(threads);
    let start = std::time::Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let barrier = &barrier;
            scope.spawn(move || {
                let mut x = thread as u64 + 1;
                for round in 0..rounds {
                    // The units spread evenly over the rounds, the remainder in the first ones.
                    let units_this_round = units / rounds + u64::from(round < units % rounds);
                    for _ in 0..units_this_round * SPIN_STEPS_PER_UNIT {
                        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407));
                    }
                    barrier.wait();
                }
                std::hint::black_box(x);
            });
        }
    });
    Ok(start.elapsed().as_secs_f64())
}

/// One unit of `spin`: a chain of dependent multiply-adds, about 1 µs on a current core.
const SPIN_STEPS_PER_UNIT: u64 = 250;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

fn crash_segv() {
    // A genuine fault (a write to a page mapped PROT_NONE), not a raise(): the runner must see the
    // kernel-generated SIGSEGV through ptrace and let it kill the process.
    // SAFETY: mapping a fresh anonymous page has no preconditions; the write faults by design.
    unsafe {
        let page = libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_NONE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
        if page == libc::MAP_FAILED {
            libc::abort();
        }
        std::ptr::write_volatile(page.cast::<u8>(), 1);
    }
}

fn flood(mebibytes: usize) {
    let chunk = vec![b'x'; 64 << 10];
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    for _ in 0..(mebibytes << 20) / chunk.len() {
        // A reader that went away is not this fixture's problem: stop quietly.
        if out.write_all(&chunk).is_err() || err.write_all(&chunk).is_err() {
            return;
        }
    }
    let _ = out.flush();
}

fn allowed_cpus() -> Result<String, String> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity writes at most size_of::<cpu_set_t>() bytes.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        set
    };
    // SAFETY: CPU_ISSET only reads the set; the index is below CPU_SETSIZE.
    let cpus: Vec<String> =
        (0..libc::CPU_SETSIZE as usize).filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) }).map(|c| c.to_string()).collect();
    Ok(cpus.join(","))
}

/// The descriptors open in this process, from /proc/self/fd, less the one listing them.
fn open_descriptors() -> Result<Vec<i32>, String> {
    let listing = std::fs::read_dir("/proc/self/fd").map_err(|e| format!("/proc/self/fd: {e}"))?;
    let mut open: Vec<i32> = listing
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).map_or(true, |target| !target.ends_with("fd")))
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    open.sort_unstable();
    Ok(open)
}
