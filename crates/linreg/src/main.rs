//! `linreg`: reads a dataset, fits y = w·x + b by gradient descent, prints one JSON result line.
//!
//! Deliberately thin and lean (no runtime, no allocator tricks): its start-up is part of what the
//! orchestrator measures. Bad input → one line on stderr and exit 2 (docs/protocol.md).

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use linreg::protocol::ResultLine;
use linreg::{Dataset, Isa, Kernel, Threads};

#[derive(Parser)]
#[command(name = "linreg", version, about = "Fit y = w·x + b by full-batch gradient descent; print one JSON line")]
struct Args {
    /// Dataset: .npy (float64, shape (2, n)) or .csv with x and y columns
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Number of epochs (≥ 1)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    epochs: String,
    /// Learning rate (finite, > 0)
    #[arg(long, value_name = "LR", allow_negative_numbers = true)]
    learning_rate: String,
    /// How the gradient sums are computed: scalar, simd or parallel
    #[arg(long, value_name = "NAME", default_value = "scalar")]
    kernel: String,
    /// Instruction set of the simd and parallel kernels: avx512, avx2 (AVX2+FMA) or portable
    /// [default: the widest this CPU has]
    #[arg(long, value_name = "ISA")]
    isa: Option<String>,
    /// Threads of the parallel kernel: auto (one below 65 536 points, every core from there) or N
    /// [default: auto]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    threads: Option<String>,
}

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
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version: print as clap formats them, exit 0.
            let _ = e.print();
            return Ok(());
        }
        Err(e) => {
            // clap's message, without its usage and help lines, on one line: "the following
            // required arguments were not provided: --data <FILE>".
            let rendered = e.render().to_string();
            let message = rendered.split("\n\n").next().unwrap_or("bad arguments");
            let words: Vec<&str> = message.split_whitespace().collect();
            return Err(words.join(" ").trim_start_matches("error: ").to_string());
        }
    };
    let epochs = parse_epochs(&args.epochs)?;
    let learning_rate = parse_learning_rate(&args.learning_rate)?;
    if std::env::var_os(RETIRED_FORCE_PORTABLE_ENV).is_some() {
        return Err(format!("{RETIRED_FORCE_PORTABLE_ENV} is no longer read: use --isa portable"));
    }
    let kernel = parse_kernel(&args.kernel, args.isa.as_deref(), args.threads.as_deref())?;

    let load_start = Instant::now();
    let data = Dataset::read(&args.data).map_err(|e| e.to_string())?;
    let load_seconds = load_start.elapsed().as_secs_f64();

    // The clock starts inside: the parallel kernel's threads are started and waiting by then, so
    // train_seconds is the epochs alone (docs/protocol.md), however few there are.
    let (fit, train_seconds) = kernel.with_gradient_sums(&data.x, &data.y, |gradient_sums| {
        let train_start = Instant::now();
        let fit = linreg::fit::descend(&data.x, &data.y, epochs, learning_rate, gradient_sums);
        (fit, train_start.elapsed().as_secs_f64())
    });

    let line = ResultLine {
        implementation: format!("rust-{kernel}"),
        kernel: Some(kernel.label()),
        threads: Some(kernel.threads_used(data.len()) as u64),
        load_seconds,
        train_seconds,
        ..ResultLine::of_fit(&fit, data.len(), epochs, learning_rate)
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", line.to_json()).and_then(|()| stdout.flush()).map_err(|e| format!("cannot write the result to stdout: {e}"))
}

fn parse_epochs(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= u64::MAX as i128 => Ok(n as u64),
        Ok(n) => Err(format!("--epochs must be an integer ≥ 1, got {n}")),
        Err(_) => Err(format!("--epochs must be an integer ≥ 1, got '{text}'")),
    }
}

fn parse_learning_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(lr),
        _ => Err(format!("--learning-rate must be a finite number > 0, got '{text}'")),
    }
}

fn parse_kernel(name: &str, isa: Option<&str>, threads: Option<&str>) -> Result<Kernel, String> {
    let kernel = Kernel::by_name(name).ok_or_else(|| format!("--kernel: unknown kernel '{name}' (known: {})", Kernel::NAMES.join(", ")))?;
    let kernel = match (kernel, isa) {
        (kernel, None) => kernel,
        (Kernel::Simd(_), Some(text)) => Kernel::Simd(parse_isa(text)?),
        (Kernel::Parallel { threads, .. }, Some(text)) => Kernel::Parallel { threads, isa: parse_isa(text)? },
        (kernel, Some(_)) => return Err(format!("--isa applies to --kernel simd and parallel only, not to '{kernel}'")),
    };
    match (kernel, threads) {
        (kernel, None) => Ok(kernel),
        (Kernel::Parallel { isa, .. }, Some(text)) => Ok(Kernel::Parallel { threads: parse_threads(text)?, isa }),
        (kernel, Some(_)) => Err(format!("--threads applies to --kernel parallel only, not to '{kernel}'")),
    }
}

fn parse_isa(text: &str) -> Result<Isa, String> {
    Isa::by_name(text.trim()).map_err(|e| format!("--isa: {e}"))
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
