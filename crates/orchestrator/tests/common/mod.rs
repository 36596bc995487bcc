//! What the integration tests share: the project root, the orchestrator binary (started with its
//! output going to files, and what it did), the shipped catalogue, and builders of plans and raw
//! records (a test changes what it is about with struct update syntax). Each test file uses a part
//! of it, hence `allow(dead_code)`.
#![allow(dead_code)]

pub mod browser;

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orchestrator::plan::{AccuracySettings, Claim, ImplementationPlan, Measure, Order, Plan, PointPlan, ScenarioPlan};
use orchestrator::records::{RawRecord, RunStatus};
use orchestrator::scenario;

/// The binary under test.
pub const ORCHESTRATOR: &str = env!("CARGO_BIN_EXE_orchestrator");

/// The project root (holding scenarios/ and python_impl/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the project root")
}

/// scenarios/implementations.yaml, as shipped.
pub fn catalogue() -> scenario::ImplementationsFile {
    scenario::load_implementations(&root().join("scenarios/implementations.yaml")).expect("the shipped catalogue is valid")
}

pub fn implementation(name: &str) -> ImplementationPlan {
    ImplementationPlan {
        name: name.into(),
        description: String::new(),
        command: vec!["/bin/true".into()],
        env: Default::default(),
        unavailable: None,
        optional: false,
        protocol: Default::default(),
        pending: None,
    }
}

pub fn plan(data: &Path, claims: Vec<Claim>) -> Plan {
    Plan {
        scenarios: vec![ScenarioPlan {
            name: "seed".into(),
            description: "A fixture.".into(),
            source_file: "seed.yaml".into(),
            baseline: "python-numpy".into(),
            implementations: vec![implementation("rust"), implementation("python-numpy")],
            points: vec![PointPlan {
                index: 0,
                label: "n=5 epochs=1000 lr=0.01".into(),
                n: 5,
                epochs: 1000,
                learning_rate: 0.01,
                data_path: data.to_path_buf(),
                data_description: "inline: 5 points".into(),
                skip: vec![],
                reference: None,
                fits: Default::default(),
            }],
            measure: Measure {
                warmup: 0,
                repetitions: 5,
                sample_interval_ms: 1,
                sample_interval_max_ms: None,
                timeout_seconds: 10.0,
                order: Order::Interleaved,
                cpus: None,
                memory_limit_mb: None,
            },
            expect: claims,
            accuracy: AccuracySettings::default(),
            anatomy: Vec::new(),
            highlight: Vec::new(),
        }],
    }
}

pub fn record(implementation: &str, repetition: u32, wall: f64, rss: u64) -> RawRecord {
    RawRecord {
        scenario: "seed".into(),
        point: 0,
        point_label: "n=5 epochs=1000 lr=0.01".into(),
        implementation: implementation.into(),
        repetition,
        status: RunStatus::Ok,
        exit_code: Some(0),
        signal: None,
        wall_seconds: Some(wall),
        user_seconds: Some(wall * 0.9),
        system_seconds: Some(wall * 0.05),
        peak_rss_bytes: Some(rss),
        peak_rss_exact: Some(true),
        minor_faults: Some(60),
        major_faults: Some(0),
        voluntary_switches: Some(1),
        involuntary_switches: Some(0),
        anon_bytes: None,
        anon_huge_pages_bytes: None,
        n: 5,
        epochs: 1000,
        learning_rate: 0.01,
        w: Some(1.9951803506719779),
        b: Some(0.01740046334100799),
        mse: Some(8.6e-5),
        epochs_run: Some(1000),
        diverged_at_epoch: None,
        load_seconds: Some(wall * 0.01),
        train_seconds: Some(wall * 0.1),
        threads: None,
        prefetching_threads: None,
        fits: None,
        fit_first_seconds: None,
        fit_warm_min_seconds: None,
        fit_warm_median_seconds: None,
        fit_warm_p99_seconds: None,
        fit_warm_max_seconds: None,
        fit_warm_mean_seconds: None,
        device: None,
        one_off_wall_seconds: None,
        one_off_status: None,
        samples: 0,
        sampler_cpu_seconds: Some(1e-5),
        started_unix_seconds: 1.8e9,
        message: String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// An orchestrator started by a test

/// `orchestrator --root <this project> ARGS`, its standard input closed.
pub fn orchestrator(args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>) -> Command {
    let mut command = Command::new(ORCHESTRATOR);
    command.arg("--root").arg(root()).args(args).stdin(std::process::Stdio::null());
    command
}

/// What one orchestrator invocation did.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn of(output: &std::process::Output) -> Outcome {
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Everything it said, for a failed assertion.
    pub fn show(&self) -> String {
        format!("exit code {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// A started orchestrator, its output going to files (so a flood never blocks it).
pub struct Running {
    pub child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    started: Instant,
}

pub fn start(mut command: Command, dir: &Path) -> Running {
    // SIGINT and SIGTERM at their default disposition, whatever the suite was started with: a
    // background job of a non-interactive shell starts with SIGINT ignored, an orchestrator
    // rightly keeps an ignored signal ignored, and the tests that send it would then wait in vain.
    // (SIGHUP is left as the test sets it: sighup_ignored_on_entry_stays_ignored sets it ignored.)
    // SAFETY: signal() is async-signal-safe; SIG_DFL installs no handler code.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let (stdout, stderr) = (dir.join(format!("orchestrator-{n}.out")), dir.join(format!("orchestrator-{n}.err")));
    command.stdout(File::create(&stdout).expect("stdout file")).stderr(File::create(&stderr).expect("stderr file"));
    let child = command.spawn().expect("start the orchestrator");
    Running { child, stdout, stderr, started: Instant::now() }
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `signal` to the orchestrator.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill only sends a signal to the orchestrator this test started.
        unsafe { libc::kill(self.pid(), signal) };
    }

    /// Waits until its stderr holds `text` (at most `limit`); false when it exited first.
    pub fn wait_for_stderr(&mut self, text: &str, limit: Duration) -> bool {
        while !read_lossy(&self.stderr).contains(text) {
            if self.child.try_wait().expect("try_wait").is_some() {
                return read_lossy(&self.stderr).contains(text);
            }
            assert!(self.started.elapsed() < limit, "waited {limit:?} for '{text}':\n{}", read_lossy(&self.stderr));
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }

    /// Waits for the exit (failing on a hang, a panic or a death by signal).
    pub fn finish(mut self, limit: Duration) -> Outcome {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the orchestrator hung (still running after {limit:?}):\n{}", read_lossy(&self.stderr));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let outcome = Outcome { code: status.code(), stdout: read_lossy(&self.stdout), stderr: read_lossy(&self.stderr) };
        assert!(status.signal().is_none(), "the orchestrator was killed by signal {:?}:\n{}", status.signal(), outcome.show());
        assert!(!outcome.stderr.contains("panicked"), "the orchestrator panicked:\n{}", outcome.show());
        outcome
    }
}

/// Makes a FIFO at `path`: opened for reading, it waits for a writer.
pub fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path only.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Limits the orchestrator's address space, so a reader that never ends fails fast instead of
/// eating the machine's memory.
pub fn limit_memory(command: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe and touches only the child's limits.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            match libc::setrlimit(libc::RLIMIT_AS, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
}

/// Limits the size of every file the orchestrator (and its children) write to `bytes`, with
/// SIGXFSZ ignored so that a write past it fails with EFBIG ("File too large") instead of killing
/// the process: a full disk for one process, on any machine, where a tmpfs cannot be mounted.
pub fn limit_file_size(command: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: signal and setrlimit are async-signal-safe and touch only the child's disposition
    // and limits (an ignored signal stays ignored across exec).
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR || libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Whether the tests run as root (who may mount, and whom permissions do not stop).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub fn read_lossy(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}
