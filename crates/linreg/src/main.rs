//! `linreg`: reads a dataset, fits y = w·x + b by gradient descent, prints one JSON result line.
//!
//! Deliberately thin and lean (no runtime, no allocator tricks): its start-up is part of what the
//! orchestrator measures. Bad input → one line on stderr and exit 2 (docs/protocol.md).

mod cli;

use std::hint::black_box;
use std::io::Write;
use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::time::Instant;

use cli::Parsed;

use linreg::protocol::ResultLine;
use linreg::{Columns, FitStats, FitTimes, IsaChoice, Kernel, Threads};

/// Replaced by `--isa portable`; refused rather than ignored, so that a script that still sets it
/// does not silently measure other code than it asks for.
const RETIRED_FORCE_PORTABLE_ENV: &str = "LINREG_FORCE_PORTABLE";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("linreg: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let args = match cli::parse(std::env::args_os().skip(1))? {
        Parsed::Run(args) => args,
        Parsed::Print(text) => {
            print!("{text}");
            return Ok(());
        }
    };
    let epochs = parse_count("--epochs", &args.epochs)?;
    let learning_rate = parse_learning_rate(&args.learning_rate)?;
    if std::env::var_os(RETIRED_FORCE_PORTABLE_ENV).is_some() {
        return Err(format!("{RETIRED_FORCE_PORTABLE_ENV} is no longer read: use --isa portable"));
    }
    let kernel = parse_kernel(args.kernel.as_deref().unwrap_or("scalar"), args.isa.as_deref(), args.threads.as_deref())?;
    let fits = args.fits.as_deref().map(|text| parse_count("--fits", text)).transpose()?;
    if let Some(text) = args.placement.as_deref() {
        place_data(text)?;
    }

    let load_start = Instant::now();
    let data = Columns::read(&args.data).map_err(|e| e.to_string())?;
    let load_seconds = load_start.elapsed().as_secs_f64();

    // The clocks start inside: the parallel kernel's threads are started and waiting by then, so
    // train_seconds is the epochs alone (docs/protocol.md), however few there are. With --fits
    // the threads serve every fit, as a long-lived service's would.
    let (x, y) = (data.x(), data.y());
    let all_epochs = epochs.saturating_mul(fits.unwrap_or(1));
    let ((fit, times), ran) = kernel.with_fits(x, y, all_epochs, |descend| {
        let mut times = FitTimes::new();
        let mut timed_fit = || {
            let start = Instant::now();
            // black_box: fits 1..K-1 are not used, and must not be optimised away.
            let (fit, _) = black_box(descend(black_box(epochs), black_box(learning_rate)));
            times.record(start.elapsed());
            fit
        };
        let loop_start = Instant::now();
        let mut fit = timed_fit();
        for _ in 1..fits.unwrap_or(1) {
            fit = timed_fit();
        }
        let loop_seconds = loop_start.elapsed().as_secs_f64();
        (fit, (times, loop_seconds))
    });
    let (times, loop_seconds) = times;
    // One fit: its own time. More: the whole loop's, the fits and the recording between them, so
    // wall − load − train stays start-up however many fits there are (docs/protocol.md).
    let train_seconds = if fits.unwrap_or(1) == 1 { times.total_seconds() } else { loop_seconds };

    let line = ResultLine {
        implementation: format!("rust-{kernel}"),
        kernel: Some(ran.label(kernel)),
        threads: Some(ran.threads as u64),
        prefetching_threads: ran.prefetching.map(|c| c.kept as u64),
        prefetch_refused_threads: ran.prefetching.map(|c| c.refused as u64),
        prefetch_pairs: ran.prefetching.map(|c| c.most_pairs as u64),
        load_seconds,
        train_seconds,
        per_fit: if fits.is_some() { times.stats() } else { FitStats::default() },
        ..ResultLine::of_fit(&fit, data.len(), epochs, learning_rate)
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", line.to_json()).and_then(|()| stdout.flush()).map_err(|e| format!("cannot write the result to stdout: {e}"))
}

/// `--epochs N` or `--fits K`: an integer ≥ 1.
fn parse_count(flag: &str, text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= u64::MAX as i128 => Ok(n as u64),
        Ok(n) => Err(format!("{flag} must be an integer ≥ 1, got {n}")),
        Err(_) => Err(format!("{flag} must be an integer ≥ 1, got '{text}'")),
    }
}

fn parse_learning_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(lr) if linreg::fit::is_valid_learning_rate(lr) => Ok(lr),
        _ => Err(format!("--learning-rate must be a finite number > 0, got '{text}'")),
    }
}

fn parse_kernel(name: &str, isa: Option<&str>, threads: Option<&str>) -> Result<Kernel, String> {
    let mut kernel =
        Kernel::by_name(name).ok_or_else(|| format!("--kernel: unknown kernel '{name}' (known: {})", Kernel::NAMES.join(", ")))?;
    if let Some(text) = isa {
        kernel = kernel
            .with_isa(parse_isa(text)?)
            .ok_or_else(|| format!("--isa applies to --kernel simd and parallel only, not to '{kernel}'"))?;
    }
    if let Some(text) = threads {
        kernel = kernel
            .with_threads(parse_threads(text)?)
            .ok_or_else(|| format!("--threads applies to --kernel parallel only, not to '{kernel}'"))?;
    }
    Ok(kernel)
}

/// `--placement auto|heap|adjacent`, settled before the data is read.
fn place_data(text: &str) -> Result<(), String> {
    match text.trim() {
        "auto" => Ok(()),
        "heap" if linreg::placement::keep_on_heap() => Ok(()),
        "adjacent" if linreg::placement::keep_columns_adjacent() => Ok(()),
        too_late @ ("heap" | "adjacent") => Err(format!("--placement {too_late}: the data was placed before the flag was read")),
        other => Err(format!("--placement must be 'auto', 'heap' or 'adjacent', got '{other}'")),
    }
}

fn parse_isa(text: &str) -> Result<IsaChoice, String> {
    IsaChoice::by_name(text.trim()).map_err(|e| format!("--isa: {e}"))
}

fn parse_threads(text: &str) -> Result<Threads, String> {
    if text.trim() == "auto" {
        return Ok(Threads::Auto);
    }
    text.trim()
        .parse::<NonZeroUsize>()
        .map(Threads::Exactly)
        .map_err(|_| format!("--threads must be 'auto' or an integer ≥ 1, got '{text}'"))
}
