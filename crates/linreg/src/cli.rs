//! The `linreg` binary's command line: its flags as text, for `main` to parse into numbers and
//! kernels. Parsed with lexopt rather than clap: the binary is what is measured, and its peak
//! memory on the seed data follows its size (docs/targets.md, 2026-12-05: clap was ~211 KiB of
//! its ~1.3 MiB of text).

use std::ffi::OsString;
use std::path::PathBuf;

const HELP: &str = "\
Fit y = w·x + b by full-batch gradient descent; print one JSON line

Usage: linreg [OPTIONS] --data <FILE> --epochs <N> --learning-rate <LR>

Options:
      --data <FILE>         Dataset: .npy (float64, shape (2, n)) or .csv with x and y columns
      --epochs <N>          Number of epochs (≥ 1)
      --learning-rate <LR>  Learning rate (finite, > 0)
      --kernel <NAME>       How the gradient sums are computed: scalar, simd or parallel [default: scalar]
      --isa <ISA>           Instruction set of the simd and parallel kernels: auto (the fastest of the
                            CPU's vector sets on the first block of the data, timed in the first epoch
                            past the widest set's warm-up; the widest in a fit too short for that),
                            avx512, avx2 (AVX2+FMA) or portable [default: auto]
      --threads <N>         Threads of the parallel kernel: auto (two once the data fills one core's
                            L1d, every core from 2 048 points a core, unless, over 400 epochs or
                            more of all the fits, the first epochs measure one thread faster) or N
                            [default: auto]
      --fits <K>            Fits to run on the data loaded once, each from w = b = 0 and timed apart
                            (≥ 1); the result line then carries the per-fit times [default: 1, without them]
      --placement <WHERE>   Where the data lies: auto (from about a third of the L2 up, on whole huge
                            pages of its own where Linux has them, y half the L2's set span from x),
                            heap (on the allocator's pages) or adjacent (whole pages, y right after x):
                            the last two for measuring what the placement is worth, `make
                            bench-placement` [default: auto]
  -h, --help                Print help
  -V, --version             Print version
";

/// The flags as given (their values checked by `main`).
#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub data: PathBuf,
    pub epochs: String,
    pub learning_rate: String,
    pub kernel: Option<String>,
    pub isa: Option<String>,
    pub threads: Option<String>,
    pub fits: Option<String>,
    pub placement: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Run(Args),
    /// `--help` or `--version`: this text on stdout, exit 0.
    Print(String),
}

/// The flags that take text, as `--long` and as named in messages (and HELP).
const TEXT_FLAGS: [(&str, &str); 7] = [
    ("epochs", "--epochs <N>"),
    ("learning-rate", "--learning-rate <LR>"),
    ("kernel", "--kernel <NAME>"),
    ("isa", "--isa <ISA>"),
    ("threads", "--threads <N>"),
    ("fits", "--fits <K>"),
    ("placement", "--placement <WHERE>"),
];
const DATA: &str = "--data <FILE>";

/// Parses `arguments` (without the program's name); a problem is one line naming it.
pub fn parse(arguments: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    use lexopt::Arg::{Long, Short, Value};
    let mut parser = lexopt::Parser::from_args(arguments);
    let mut data: Option<PathBuf> = None;
    let mut text: [Option<String>; TEXT_FLAGS.len()] = Default::default();
    while let Some(argument) = parser.next().map_err(|e| e.to_string())? {
        let index = match argument {
            Short('h') | Long("help") => return Ok(Parsed::Print(HELP.to_string())),
            Short('V') | Long("version") => return Ok(Parsed::Print(format!("linreg {}\n", env!("CARGO_PKG_VERSION")))),
            Long("data") => None,
            Long(flag) => match TEXT_FLAGS.iter().position(|(long, _)| *long == flag) {
                Some(index) => Some(index),
                None => return Err(format!("unexpected argument '--{flag}' found")),
            },
            Short(letter) => return Err(format!("unexpected argument '-{letter}' found")),
            Value(value) => return Err(format!("unexpected argument '{}' found", value.to_string_lossy())),
        };
        // A value may start with '-' (a negative number is refused by main with its own message).
        let value = parser.value().map_err(|e| e.to_string())?;
        match index {
            None if data.is_some() => return Err(twice(DATA)),
            None => data = Some(PathBuf::from(value)),
            Some(k) if text[k].is_some() => return Err(twice(TEXT_FLAGS[k].1)),
            Some(k) => text[k] = Some(value.into_string().map_err(|v| format!("{}: not UTF-8: {}", TEXT_FLAGS[k].1, v.to_string_lossy()))?),
        }
    }
    let [epochs, learning_rate, kernel, isa, threads, fits, placement] = text;
    let missing: Vec<&str> = [(data.is_none(), DATA), (epochs.is_none(), TEXT_FLAGS[0].1), (learning_rate.is_none(), TEXT_FLAGS[1].1)]
        .into_iter()
        .filter_map(|(absent, name)| absent.then_some(name))
        .collect();
    match (data, epochs, learning_rate) {
        (Some(data), Some(epochs), Some(learning_rate)) => {
            Ok(Parsed::Run(Args { data, epochs, learning_rate, kernel, isa, threads, fits, placement }))
        }
        _ => Err(format!("the following required arguments were not provided: {}", missing.join(" "))),
    }
}

fn twice(name: &str) -> String {
    format!("the argument '{name}' cannot be used multiple times")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Parsed, String> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn every_flag_is_read_in_either_form_and_values_may_start_with_a_dash() {
        let parsed = parse_words(&[
            "--data",
            "d.csv",
            "--epochs=10",
            "--learning-rate",
            "-0.5",
            "--kernel",
            "parallel",
            "--isa",
            "avx2",
            "--threads",
            "2",
            "--fits",
            "3",
            "--placement",
            "heap",
        ]);
        let want = Args {
            data: "d.csv".into(),
            epochs: "10".into(),
            learning_rate: "-0.5".into(),
            kernel: Some("parallel".into()),
            isa: Some("avx2".into()),
            threads: Some("2".into()),
            fits: Some("3".into()),
            placement: Some("heap".into()),
        };
        assert_eq!(parsed, Ok(Parsed::Run(want)));
    }

    #[test]
    fn help_and_version_print_and_problems_are_named() {
        assert!(matches!(parse_words(&["--help"]), Ok(Parsed::Print(text)) if text.contains("--placement <WHERE>")));
        assert_eq!(parse_words(&["-V"]), Ok(Parsed::Print(format!("linreg {}\n", env!("CARGO_PKG_VERSION")))));
        let error = |words: &[&str]| parse_words(words).unwrap_err();
        assert_eq!(error(&["--epochs", "1"]), "the following required arguments were not provided: --data <FILE> --learning-rate <LR>");
        assert_eq!(error(&["--dta", "x"]), "unexpected argument '--dta' found");
        assert_eq!(error(&["-x"]), "unexpected argument '-x' found");
        assert_eq!(error(&["stray"]), "unexpected argument 'stray' found");
        assert_eq!(error(&["--fits", "1", "--fits", "2"]), "the argument '--fits <K>' cannot be used multiple times");
        assert_eq!(error(&["--data", "a", "--data", "b"]), "the argument '--data <FILE>' cannot be used multiple times");
        assert!(error(&["--data"]).contains("--data"), "a flag without its value");
    }
}
