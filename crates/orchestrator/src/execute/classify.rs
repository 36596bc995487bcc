//! What a run's measurement says: its status (from the termination and the result line on
//! stdout), its figures and, for a failure, a message saying what went wrong — one raw.csv row —
//! and its samples.csv rows.

use linreg::protocol::{ResultLine, ResultStatus};

use super::fits::{self, Extras, FitsProblem};
use super::schedule::Step;
use crate::measure::{Measured, Termination};
use crate::plan::{ImplementationPlan, Plan, PointPlan, ScenarioPlan};
use crate::records::{ImpossibleValue, RawRecord, RunStatus, SampleRecord};
use crate::scenario::Protocol;

/// How much of stderr (its end) or of a bad stdout is kept in a failed run's message.
const MESSAGE_BYTES: usize = 600;

/// One `unavailable` row per point for every implementation that could not run, so the report
/// can say which and why.
pub(crate) fn unavailable_rows(plan: &Plan, now_unix_seconds: f64) -> Vec<RawRecord> {
    let mut rows = Vec::new();
    for scenario in &plan.scenarios {
        for implementation in &scenario.implementations {
            let Some(why) = &implementation.unavailable else { continue };
            rows.extend(unavailable_rows_of(scenario, implementation, why, now_unix_seconds));
        }
    }
    rows
}

/// The `unavailable` rows of one implementation of one scenario, one per point.
pub(crate) fn unavailable_rows_of(
    scenario: &ScenarioPlan,
    implementation: &ImplementationPlan,
    why: &str,
    now_unix_seconds: f64,
) -> Vec<RawRecord> {
    let row = |point| RawRecord {
        message: why.to_string(),
        ..empty_record(scenario, point, implementation, 0, RunStatus::Unavailable, now_unix_seconds)
    };
    scenario.points.iter().map(row).collect()
}

fn empty_record(
    scenario: &ScenarioPlan,
    point: &PointPlan,
    implementation: &ImplementationPlan,
    repetition: u32,
    status: RunStatus,
    started_unix_seconds: f64,
) -> RawRecord {
    RawRecord {
        scenario: scenario.name.clone(),
        point: point.index,
        point_label: point.label.clone(),
        implementation: implementation.name.clone(),
        repetition,
        status,
        exit_code: None,
        signal: None,
        wall_seconds: None,
        user_seconds: None,
        system_seconds: None,
        peak_rss_bytes: None,
        peak_rss_exact: None,
        minor_faults: None,
        major_faults: None,
        voluntary_switches: None,
        involuntary_switches: None,
        anon_bytes: None,
        anon_huge_pages_bytes: None,
        n: point.n,
        epochs: point.epochs,
        learning_rate: point.learning_rate,
        w: None,
        b: None,
        mse: None,
        epochs_run: None,
        diverged_at_epoch: None,
        load_seconds: None,
        train_seconds: None,
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
        sampler_cpu_seconds: None,
        started_unix_seconds,
        message: String::new(),
    }
}

/// Turns what the runner measured into a raw.csv row: the status (from the termination and the
/// result line), the figures, and for failures a message saying what went wrong.
pub(crate) fn classify(scenario: &ScenarioPlan, step: Step, measured: &Measured, started_unix_seconds: f64) -> RawRecord {
    let point = &scenario.points[step.point];
    let asked_fits = point.fits_of(&scenario.implementations[step.implementation].name);
    classify_run(scenario, step, asked_fits, measured, started_unix_seconds)
}

/// [`classify`] for the one-off process run before a step of K fits: the implementation's command
/// without `--fits`, whose result line carries no per-fit fields.
pub(crate) fn classify_one_off(scenario: &ScenarioPlan, step: Step, measured: &Measured, started_unix_seconds: f64) -> RawRecord {
    classify_run(scenario, step, None, measured, started_unix_seconds)
}

/// [`classify`], the run having asked for `asked_fits` fits (None: no `--fits`).
fn classify_run(scenario: &ScenarioPlan, step: Step, asked_fits: Option<u64>, measured: &Measured, started_unix_seconds: f64) -> RawRecord {
    let point = &scenario.points[step.point];
    let implementation = &scenario.implementations[step.implementation];
    let started = measured.pid.is_some();
    let mut row = empty_record(scenario, point, implementation, step.repetition, RunStatus::Ok, started_unix_seconds);
    row.exit_code = measured.exit_code;
    row.signal = measured.signal;
    if started {
        row.wall_seconds = Some(measured.wall_seconds);
        row.user_seconds = Some(measured.user_seconds);
        row.system_seconds = Some(measured.system_seconds);
        row.peak_rss_bytes = measured.peak_rss_bytes;
        row.peak_rss_exact = Some(measured.peak_rss_exact);
        row.minor_faults = measured.minor_faults;
        row.major_faults = measured.major_faults;
        row.voluntary_switches = measured.voluntary_switches;
        row.involuntary_switches = measured.involuntary_switches;
        row.anon_bytes = measured.anon_memory.map(|m| m.anonymous_bytes);
        row.anon_huge_pages_bytes = measured.anon_memory.map(|m| m.huge_bytes);
        row.samples = u32::try_from(measured.samples.len()).unwrap_or(u32::MAX);
        row.sampler_cpu_seconds = Some(measured.sampler_cpu_seconds);
    }
    let stderr_tail = || tail_text(&measured.stderr, MESSAGE_BYTES);
    let (status, message) = match &measured.termination {
        // Any command: its exit code alone decides, nothing is read from its output.
        Termination::Exited(0) if implementation.protocol == Protocol::None => (RunStatus::Ok, String::new()),
        Termination::Exited(0) => match parse_result(&measured.stdout, measured.stdout_truncated, point, asked_fits)
            .and_then(|(line, extras)| Ok((check_times(line, measured.wall_seconds)?, extras)))
            .and_then(|(line, extras)| {
                let status = fill_result(&mut row, line)?;
                keep_extras(&mut row, extras);
                Ok(status)
            }) {
            Ok(status) => (status, String::new()),
            Err(problem) => (RunStatus::BadOutput, problem.to_string()),
        },
        Termination::Exited(code) => (RunStatus::Failed, format!("exit code {code}: {}", stderr_tail())),
        Termination::Signaled(signal) => (RunStatus::Crashed, format!("killed by {}: {}", signal_name(*signal), stderr_tail())),
        Termination::TimedOut => {
            (RunStatus::Timeout, format!("still running after {} s: process group killed", scenario.measure.timeout_seconds))
        }
        Termination::MemoryLimit => {
            let limit = scenario.measure.memory_limit_mb.unwrap_or(0);
            (RunStatus::Oom, format!("resident memory of the process tree went above memory_limit_mb = {limit} (MiB): killed"))
        }
        Termination::Cancelled => (RunStatus::Interrupted, "the orchestrator was interrupted during this run".to_string()),
        Termination::SpawnFailed(why) => (RunStatus::SpawnFailed, why.clone()),
        Termination::WaitFailed(why) => (RunStatus::Failed, why.clone()),
    };
    row.status = status;
    row.message = message.trim().to_string();
    row
}

/// The per-fit figures and the device of a result line, into its raw.csv row.
fn keep_extras(row: &mut RawRecord, Extras { per_fit, device }: Extras) {
    row.device = device;
    let Some(per_fit) = per_fit else { return };
    row.fits = Some(per_fit.fits);
    row.fit_first_seconds = Some(per_fit.first_seconds);
    if let Some(warm) = per_fit.warm {
        row.fit_warm_min_seconds = Some(warm.min_seconds);
        row.fit_warm_median_seconds = Some(warm.median_seconds);
        row.fit_warm_p99_seconds = Some(warm.p99_seconds);
        row.fit_warm_max_seconds = Some(warm.max_seconds);
        row.fit_warm_mean_seconds = Some(warm.mean_seconds);
    }
}

/// Copies the result line's figures into the row, unless one of them is impossible (a negative
/// mse, a divergence at epoch 0, a trillion threads: records::check); returns the run's status.
fn fill_result(row: &mut RawRecord, line: ResultLine) -> Result<RunStatus, BadOutput> {
    let filled = RawRecord {
        w: line.w,
        b: line.b,
        mse: line.mse,
        epochs_run: Some(line.epochs_run),
        diverged_at_epoch: line.diverged_at_epoch,
        load_seconds: Some(line.load_seconds),
        train_seconds: Some(line.train_seconds),
        threads: line.threads,
        prefetching_threads: line.prefetching_threads,
        ..row.clone()
    };
    if let Some(impossible) = filled.impossible_result() {
        return Err(BadOutput::Impossible(impossible));
    }
    *row = filled;
    Ok(match line.status {
        ResultStatus::Ok => RunStatus::Ok,
        ResultStatus::Diverged => RunStatus::Diverged,
    })
}

/// Why a run that exited 0 has no usable result line: the message of its raw.csv row.
#[derive(Debug, thiserror::Error)]
enum BadOutput {
    #[error("stdout was larger than the capture limit: expected exactly one JSON line")]
    Truncated,
    #[error("stdout is not valid UTF-8")]
    NotUtf8,
    #[error("no result line on stdout (docs/protocol.md)")]
    NoLine,
    #[error("{count} lines on stdout, expected exactly one result line; first: {first}")]
    ManyLines { count: usize, first: String },
    #[error("the result line starts with a byte-order mark (U+FEFF): write it as plain UTF-8 without a BOM; line: {line}")]
    ByteOrderMark { line: String },
    /// The protocol's own check failed (not JSON, a field missing, …).
    #[error("{problem}; line: {line}")]
    Invalid { problem: String, line: String },
    #[error(
        "the result line is for n={} epochs={} learning_rate={}, but the run was n={} epochs={} learning_rate={}",
        line.n, line.epochs, line.learning_rate, run.n, run.epochs, run.learning_rate
    )]
    OtherPoint { line: PointParameters, run: PointParameters },
    #[error("status ok but epochs_run = {epochs_run} (asked for {epochs})")]
    EpochsShort { epochs_run: u64, epochs: u64 },
    #[error(
        "the result line claims load {load_seconds} s + train {train_seconds} s = {claimed_seconds:.6} s, more than the \
         {wall_seconds:.6} s the whole process took (measured from outside): its clock or its figures are wrong"
    )]
    MoreThanTheWallTime { load_seconds: f64, train_seconds: f64, claimed_seconds: f64, wall_seconds: f64 },
    /// Its per-fit fields (`--fits K`) cannot be true.
    #[error(transparent)]
    Fits(#[from] FitsProblem),
    #[error("the result line says {0}")]
    Impossible(ImpossibleValue),
}

/// What a point is run on, as a result line repeats it.
#[derive(Debug)]
struct PointParameters {
    n: u64,
    epochs: u64,
    learning_rate: f64,
}

/// The one result line on stdout, parsed and checked against the point it was run on (and the
/// fits the run asked for).
fn parse_result(stdout: &[u8], truncated: bool, point: &PointPlan, asked_fits: Option<u64>) -> Result<(ResultLine, Extras), BadOutput> {
    if truncated {
        return Err(BadOutput::Truncated);
    }
    let text = std::str::from_utf8(stdout).map_err(|_| BadOutput::NotUtf8)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let line = match lines.as_slice() {
        [] => return Err(BadOutput::NoLine),
        [one] => *one,
        many => return Err(BadOutput::ManyLines { count: many.len(), first: excerpt(many[0]) }),
    };
    // Some tools write one; the protocol's line is plain UTF-8 JSON, and serde's "expected value
    // at line 1 column 1" would not say what is wrong.
    if line.starts_with('\u{feff}') {
        return Err(BadOutput::ByteOrderMark { line: excerpt(line.trim_start_matches('\u{feff}')) });
    }
    let parsed = ResultLine::parse(line).map_err(|problem| BadOutput::Invalid { problem, line: excerpt(line) })?;
    if parsed.n != point.n || parsed.epochs != point.epochs || parsed.learning_rate != point.learning_rate {
        return Err(BadOutput::OtherPoint {
            line: PointParameters { n: parsed.n, epochs: parsed.epochs, learning_rate: parsed.learning_rate },
            run: PointParameters { n: point.n, epochs: point.epochs, learning_rate: point.learning_rate },
        });
    }
    if parsed.status == ResultStatus::Ok && parsed.epochs_run != point.epochs {
        return Err(BadOutput::EpochsShort { epochs_run: parsed.epochs_run, epochs: point.epochs });
    }
    let extras = fits::read(line, asked_fits, parsed.train_seconds)?;
    Ok((parsed, extras))
}

/// A result line cannot claim more time than the whole process took (records::check, which
/// raw.csv read back is held to as well).
fn check_times(line: ResultLine, wall_seconds: f64) -> Result<ResultLine, BadOutput> {
    let claimed = line.load_seconds + line.train_seconds;
    if crate::records::check::phases_exceed_wall(line.load_seconds, line.train_seconds, wall_seconds) {
        return Err(BadOutput::MoreThanTheWallTime {
            load_seconds: line.load_seconds,
            train_seconds: line.train_seconds,
            claimed_seconds: claimed,
            wall_seconds,
        });
    }
    Ok(line)
}

fn excerpt(text: &str) -> String {
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// The last `max_bytes` of `bytes`, as text, from a line start when possible.
fn tail_text(bytes: &[u8], max_bytes: usize) -> String {
    let start = bytes.len().saturating_sub(max_bytes);
    let text = String::from_utf8_lossy(&bytes[start..]);
    // The tail starts at a line when one starts within it; a last line longer than the tail is
    // its end, marked as cut (it is not "empty").
    let text = match text.split_once('\n') {
        _ if start == 0 => text.into_owned(),
        Some((_, rest)) if !rest.trim().is_empty() => rest.to_string(),
        _ => format!("…{}", text.trim_start()),
    };
    let text = text.trim();
    if text.is_empty() {
        "(stderr empty)".to_string()
    } else {
        text.to_string()
    }
}

pub(crate) fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGPIPE => "SIGPIPE",
        _ => return format!("signal {signal}"),
    };
    format!("{name} ({signal})")
}

/// The samples.csv rows of one counted run.
pub(crate) fn sample_rows(record: &RawRecord, measured: &Measured) -> Vec<SampleRecord> {
    measured
        .samples
        .iter()
        .map(|s| SampleRecord {
            scenario: record.scenario.clone(),
            point: record.point,
            implementation: record.implementation.clone(),
            repetition: record.repetition,
            t_seconds: s.t_seconds,
            rss_bytes: s.rss_bytes,
            cpu_seconds: s.cpu_seconds,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::schedule::tests::plan;
    use crate::plan::Order;

    #[test]
    fn unavailable_implementations_get_one_row_per_point() {
        let rows = unavailable_rows(&plan(Order::Interleaved), 1.0);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.status == RunStatus::Unavailable && r.implementation == "c" && r.message == "missing"));
    }

    fn measured(termination: Termination, stdout: &str, stderr: &str) -> Measured {
        let mut m = Measured::not_started(Termination::SpawnFailed(String::new()), 0.0);
        m.termination = termination;
        m.pid = Some(1);
        m.wall_seconds = 0.01;
        m.stdout = stdout.as_bytes().to_vec();
        m.stderr = stderr.as_bytes().to_vec();
        m
    }

    const GOOD: &str = r#"{"implementation":"x","n":5,"epochs":1000,"learning_rate":0.01,"w":1.99,"b":0.017,"mse":1e-4,"status":"ok","epochs_run":1000,"load_seconds":0.001,"train_seconds":0.002}"#;

    fn status_of(termination: Termination, stdout: &str, stderr: &str) -> (RunStatus, String) {
        let p = plan(Order::Interleaved);
        let step = Step { scenario: 0, point: 0, implementation: 0, repetition: 1 };
        let row = classify(&p.scenarios[0], step, &measured(termination, stdout, stderr), 0.0);
        (row.status, row.message)
    }

    #[test]
    fn every_ending_gets_its_status_and_a_message() {
        assert_eq!(status_of(Termination::Exited(0), &format!("{GOOD}\n"), ""), (RunStatus::Ok, String::new()));
        let diverged = GOOD.replace("\"ok\"", "\"diverged\"").replace("\"epochs_run\":1000", "\"epochs_run\":7,\"diverged_at_epoch\":7");
        assert_eq!(status_of(Termination::Exited(0), &diverged, "").0, RunStatus::Diverged);
        let (status, message) = status_of(Termination::Exited(2), "", "linreg: error: d.npy: bad magic\n");
        assert_eq!(status, RunStatus::Failed);
        assert!(message.contains("exit code 2") && message.contains("bad magic"), "{message}");
        assert_eq!(status_of(Termination::Signaled(libc::SIGSEGV), "", "").0, RunStatus::Crashed);
        assert!(status_of(Termination::Signaled(libc::SIGSEGV), "", "").1.contains("SIGSEGV"));
        assert_eq!(status_of(Termination::TimedOut, "", "").0, RunStatus::Timeout);
        assert_eq!(status_of(Termination::MemoryLimit, "", "").0, RunStatus::Oom);
        assert_eq!(status_of(Termination::Cancelled, "", "").0, RunStatus::Interrupted);
        assert_eq!(status_of(Termination::SpawnFailed("nope".into()), "", "").0, RunStatus::SpawnFailed);
    }

    /// The threads that kept a prefetch go into the row beside the threads that summed; the
    /// line's other prefetch fields are the kernels' own, not the row's.
    #[test]
    fn the_prefetching_threads_go_into_the_row() {
        let p = plan(Order::Interleaved);
        let step = Step { scenario: 0, point: 0, implementation: 0, repetition: 1 };
        let line = GOOD.replace("}", ",\"threads\":2,\"prefetching_threads\":1,\"prefetch_refused_threads\":1,\"prefetch_pairs\":14}");
        let row = classify(&p.scenarios[0], step, &measured(Termination::Exited(0), &line, ""), 0.0);
        assert_eq!((row.status, row.threads, row.prefetching_threads), (RunStatus::Ok, Some(2), Some(1)), "{}", row.message);
        let row = classify(&p.scenarios[0], step, &measured(Termination::Exited(0), GOOD, ""), 0.0);
        assert_eq!((row.threads, row.prefetching_threads), (None, None));
    }

    #[test]
    fn bad_output_is_explained() {
        for (stdout, want) in [
            ("", "no result line"),
            ("garbage\n", "not a valid result line"),
            (&format!("{GOOD}\n{GOOD}\n") as &str, "2 lines on stdout"),
            (&GOOD.replace("\"n\":5", "\"n\":6") as &str, "but the run was n=5"),
            (&GOOD.replace("\"w\":1.99,", "") as &str, "w, b or mse is missing"),
            (&GOOD.replace("\"train_seconds\":0.002", "\"train_seconds\":0.0105") as &str, "more than the 0.010000 s"),
            (&format!("\u{feff}{GOOD}") as &str, "starts with a byte-order mark"),
            (&GOOD.replace("\"mse\":1e-4", "\"mse\":-1e-4") as &str, "mse = -0.0001: must be a finite number ≥ 0"),
            (&GOOD.replace("}", ",\"threads\":0}") as &str, "threads = 0: must be between 1 and 65536"),
            (
                &GOOD.replace("}", ",\"threads\":2,\"prefetching_threads\":3}") as &str,
                "prefetching_threads = 3: must be at most the threads that summed (2)",
            ),
        ] {
            let (status, message) = status_of(Termination::Exited(0), stdout, "");
            assert_eq!(status, RunStatus::BadOutput, "{stdout}");
            assert!(message.contains(want), "{stdout}: {message}");
        }
    }

    #[test]
    fn bad_output_messages_read_in_full() {
        let message = |stdout: &str| status_of(Termination::Exited(0), stdout, "").1;
        assert_eq!(
            message(&GOOD.replace("\"n\":5", "\"n\":6")),
            "the result line is for n=6 epochs=1000 learning_rate=0.01, but the run was n=5 epochs=1000 learning_rate=0.01"
        );
        assert_eq!(
            message(&GOOD.replace("\"train_seconds\":0.002", "\"train_seconds\":0.0105")),
            "the result line claims load 0.001 s + train 0.0105 s = 0.011500 s, more than the 0.010000 s the whole process took \
             (measured from outside): its clock or its figures are wrong"
        );
        assert_eq!(message("a\nb\n"), "2 lines on stdout, expected exactly one result line; first: a");
        assert_eq!(message(&GOOD.replace("\"epochs_run\":1000", "\"epochs_run\":7")), "status ok but epochs_run = 7 (asked for 1000)");
    }

    #[test]
    fn load_and_train_may_exceed_the_wall_time_only_by_the_clock_slack() {
        // 10 ms measured from outside; 10.5 ms claimed is within 1 ms + 1%.
        let within = GOOD.replace("\"train_seconds\":0.002", "\"train_seconds\":0.0095");
        assert_eq!(status_of(Termination::Exited(0), &within, "").0, RunStatus::Ok);
    }

    /// Implementation a asked for 5 fits at point 0; the line its program prints, with `fields`.
    fn fits_status(fields: &str, implementation: usize) -> RawRecord {
        let mut p = plan(Order::Interleaved);
        p.scenarios[0].points[0].fits.insert("a".into(), 5);
        let line = GOOD.replace("\"train_seconds\":0.002", &format!("\"train_seconds\":0.0095{fields}"));
        let step = Step { scenario: 0, point: 0, implementation, repetition: 1 };
        classify(&p.scenarios[0], step, &measured(Termination::Exited(0), &line, ""), 0.0)
    }

    #[test]
    fn per_fit_fields_are_kept_when_the_run_asked_for_them() {
        use crate::execute::fits::tests::FIVE_FITS;
        let row = fits_status(&format!(",{FIVE_FITS},\"device\":\"cpu:0\""), 0);
        assert_eq!((row.status, row.message.as_str()), (RunStatus::Ok, ""));
        assert_eq!((row.fits, row.fit_first_seconds, row.device.as_deref()), (Some(5), Some(0.003), Some("cpu:0")));
        let warm = [row.fit_warm_min_seconds, row.fit_warm_median_seconds, row.fit_warm_p99_seconds, row.fit_warm_max_seconds];
        assert_eq!(warm, [Some(0.001), Some(0.0015), Some(0.002), Some(0.002)]);
        assert_eq!(row.fit_warm_mean_seconds, Some(0.00155));
        // b was not asked for fits: the per-fit fields of one fit are not kept; a line of five
        // fits is not one fit's times.
        let other = fits_status(",\"fits\":1,\"fit_first_seconds\":0.004", 1);
        assert_eq!((other.status, other.fits, other.fit_first_seconds), (RunStatus::Ok, None, None), "{other:?}");
        let five = fits_status(&format!(",{FIVE_FITS}"), 1);
        assert_eq!(five.status, RunStatus::BadOutput);
        assert!(five.message.starts_with("the result line reports fits = 5, but the run asked for one fit (no --fits)"), "{five:?}");
    }

    #[test]
    fn per_fit_fields_that_cannot_be_true_are_bad_output() {
        use crate::execute::fits::tests::FIVE_FITS;
        for (fields, want) in [
            (String::new(), "the run asked for --fits 5 but the result line has no `fits` field"),
            (format!(",{}", FIVE_FITS.replace("\"fits\":5", "\"fits\":4")), "reports fits = 4, but the run asked for --fits 5"),
            (
                format!(",{}", FIVE_FITS.replace("\"fit_warm_max_seconds\":0.002", "\"fit_warm_max_seconds\":0.0019")),
                "min ≤ median ≤ p99 ≤ max",
            ),
        ] {
            let row = fits_status(&fields, 0);
            assert_eq!(row.status, RunStatus::BadOutput, "{fields}");
            assert!(row.message.contains(want), "{fields}: {}", row.message);
            assert_eq!(row.fits, None, "nothing of a refused line is kept");
        }
    }

    #[test]
    fn stderr_tails_start_at_a_line() {
        let long = format!("{}\nlast line\n", "x".repeat(2000));
        assert_eq!(tail_text(long.as_bytes(), 50), "last line");
        assert_eq!(tail_text(b"", 50), "(stderr empty)");
        let one_long_line = format!("first\n{}z\n", "y".repeat(2000));
        assert_eq!(tail_text(one_long_line.as_bytes(), 50), format!("…{}z", "y".repeat(48)));
    }
}
