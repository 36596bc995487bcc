//! The `linreg` binary's kernel flags, run as the orchestrator runs it: --kernel, --isa and
//! --threads, seen in the JSON line and the exit code.

use std::path::PathBuf;
use std::process::{Command, Output};

use tempfile::TempDir;

use linreg::protocol::{ResultLine, ResultStatus};
use linreg::Dataset;

/// The protocol's test vector as a .npy file, in a directory of its own that is removed when the
/// returned TempDir is dropped: keep it until the binary reading the file has exited.
fn seed_file() -> (TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("linreg-cli-test-").tempdir().unwrap();
    let path = dir.path().join("seed.npy");
    Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![2.0, 4.0, 6.0, 8.0, 10.0]).unwrap().write_npy(&path).unwrap();
    (dir, path)
}

/// `n` points on a noisy line as a .npy file, in a directory of its own that is removed when the
/// returned TempDir is dropped.
fn line_file(n: usize) -> (TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("linreg-cli-line-").tempdir().unwrap();
    let path = dir.path().join("line.npy");
    let x: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 / 100.0).collect();
    let y: Vec<f64> = x.iter().enumerate().map(|(i, x)| 2.0 * x + 0.5 + ((i * 7919) % 13) as f64 / 100.0).collect();
    Dataset::new(x, y).unwrap().write_npy(&path).unwrap();
    (dir, path)
}

fn linreg(extra: &[&str], env: &[(&str, &str)]) -> Output {
    let (_dir, data) = seed_file();
    let mut command = Command::new(env!("CARGO_BIN_EXE_linreg"));
    command.arg("--data").arg(&data).args(["--epochs", "1000", "--learning-rate", "0.01"]).args(extra);
    command.env_remove("LINREG_FORCE_PORTABLE").envs(env.iter().copied());
    command.output().unwrap()
}

fn result(output: &Output) -> ResultLine {
    assert!(output.status.success(), "exit {:?}: {}", output.status, String::from_utf8_lossy(&output.stderr));
    ResultLine::parse(std::str::from_utf8(&output.stdout).unwrap()).unwrap()
}

#[test]
fn every_kernel_prints_its_name_code_and_threads() {
    let best = linreg::Isa::detect().name();
    let cases: [(&[&str], &str, String, u64); 6] = [
        (&[], "rust-scalar", "scalar".into(), 1),
        (&["--kernel", "scalar"], "rust-scalar", "scalar".into(), 1),
        (&["--kernel", "simd"], "rust-simd", format!("simd/{best}"), 1),
        // 5 points make one chunk: one thread sums them, however many were asked for.
        (&["--kernel", "parallel"], "rust-parallel", format!("parallel/{best}"), 1),
        (&["--kernel", "parallel", "--threads", "3"], "rust-parallel", format!("parallel/{best}"), 1),
        (&["--kernel", "parallel", "--threads", "auto"], "rust-parallel", format!("parallel/{best}"), 1),
    ];
    for (args, implementation, kernel, threads) in cases {
        let line = result(&linreg(args, &[]));
        assert_eq!(line.implementation, implementation, "{args:?}");
        assert_eq!(line.kernel.as_deref(), Some(kernel.as_str()), "{args:?}");
        assert_eq!(line.threads, Some(threads), "{args:?}");
        assert_eq!(line.status, ResultStatus::Ok);
        let w = line.w.unwrap();
        assert!((w - 1.995180350672).abs() < 1e-9 * 1.995180350672, "{args:?}: w = {w}");
    }
}

#[test]
fn isa_forces_each_instruction_set_the_cpu_has() {
    for isa in linreg::Isa::available() {
        for kernel in ["simd", "parallel"] {
            let line = result(&linreg(&["--kernel", kernel, "--isa", isa.name()], &[]));
            assert_eq!(line.kernel.as_deref(), Some(format!("{kernel}/{}", isa.name()).as_str()));
            let w = line.w.unwrap();
            assert!((w - 1.995180350672).abs() < 1e-9 * 1.995180350672, "{kernel} {isa}: w = {w}");
        }
    }
    // auto, the default, names what it chose: on 5 points, too few to time, the widest.
    let line = result(&linreg(&["--kernel", "simd", "--isa", "auto"], &[]));
    assert_eq!(line.kernel, Some(format!("simd/{}", linreg::Isa::detect().name())));
}

#[test]
fn an_isa_the_cpu_lacks_is_refused_in_one_line() {
    for (isa, feature) in [("avx512", linreg::Isa::avx512()), ("avx2", linreg::Isa::avx2_fma())] {
        if feature.is_some() {
            continue;
        }
        let output = linreg(&["--kernel", "simd", "--isa", isa], &[]);
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("--isa: this CPU cannot run {isa}")), "{stderr}");
    }
}

#[test]
fn bad_kernel_flags_exit_2_with_one_line() {
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&[&str], Env, &str); 11] = [
        (&["--kernel", "fast"], &[], "unknown kernel 'fast' (known: scalar, simd, parallel)"),
        (&["--kernel", "parallel", "--threads", "0"], &[], "--threads must be 'auto' or an integer ≥ 1, got '0'"),
        (&["--kernel", "parallel", "--threads", "-2"], &[], "--threads must be 'auto' or an integer ≥ 1, got '-2'"),
        (&["--kernel", "simd", "--threads", "2"], &[], "--threads applies to --kernel parallel only"),
        (&["--kernel", "simd", "--isa", "sse9"], &[], "--isa: unknown instruction set 'sse9' (known: auto, avx512, avx2, portable)"),
        (&["--kernel", "simd", "--isa", ""], &[], "--isa: unknown instruction set ''"),
        (&["--isa", "portable"], &[], "--isa applies to --kernel simd and parallel only, not to 'scalar'"),
        (&["--kernel", "simd"], &[("LINREG_FORCE_PORTABLE", "1")], "LINREG_FORCE_PORTABLE is no longer read: use --isa portable"),
        (&["--kernel", "simd"], &[("LINREG_FORCE_PORTABLE", "0")], "LINREG_FORCE_PORTABLE is no longer read"),
        (&["--placement", "4k"], &[], "--placement must be 'auto', 'heap' or 'adjacent', got '4k'"),
        (&["--placement", ""], &[], "--placement must be 'auto', 'heap' or 'adjacent', got ''"),
    ];
    for (args, env, want) in cases {
        let output = linreg(args, env);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("linreg: error: ") && stderr.contains(want), "{args:?}: {stderr}");
    }
}

/// Every kind of bad input the protocol names (docs/protocol.md): one stderr line naming the
/// problem (and the file), exit code 2, nothing on stdout.
#[test]
fn bad_input_exits_2_with_one_line_naming_the_problem() {
    let scratch = tempfile::Builder::new().prefix("linreg-cli-bad-").tempdir().unwrap();
    let dir = scratch.path();
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let (_seed_dir, seed) = seed_file();
    let seed = seed.display().to_string();
    let empty = file("empty.csv", b"x,y\n");
    let nan = file("nan.csv", b"x,y\n1,2\n3,nan\n");
    let no_x = file("no-x.csv", b"a,y\n1,2\n");
    let word = file("word.csv", b"x,y\n1,two\n");
    let garbage = file("garbage.npy", b"not a numpy file at all");
    let f4 = file("f4.npy", &{
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{header:<117}\n");
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        bytes.extend_from_slice(&[0u8; 8]);
        bytes
    });
    let missing = dir.join("missing.npy").display().to_string();
    let directory = dir.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--data", &missing, "--epochs", "10", "--learning-rate", "0.1"], "missing.npy"),
        (vec!["--data", &directory, "--epochs", "10", "--learning-rate", "0.1"], "expected a .npy or .csv file"),
        (vec!["--data", &empty, "--epochs", "10", "--learning-rate", "0.1"], "no points (n = 0)"),
        (vec!["--data", &nan, "--epochs", "10", "--learning-rate", "0.1"], "not finite"),
        (vec!["--data", &no_x, "--epochs", "10", "--learning-rate", "0.1"], "no column named 'x'"),
        (vec!["--data", &word, "--epochs", "10", "--learning-rate", "0.1"], "word.csv"),
        (vec!["--data", &garbage, "--epochs", "10", "--learning-rate", "0.1"], "garbage.npy"),
        (vec!["--data", &f4, "--epochs", "10", "--learning-rate", "0.1"], "<f4"),
        (vec!["--data", &seed, "--epochs", "0", "--learning-rate", "0.1"], "--epochs must be an integer ≥ 1"),
        (vec!["--data", &seed, "--epochs", "-3", "--learning-rate", "0.1"], "--epochs must be an integer ≥ 1"),
        (vec!["--data", &seed, "--epochs", "10", "--learning-rate", "0"], "--learning-rate must be a finite number > 0"),
        (vec!["--data", &seed, "--epochs", "10", "--learning-rate", "-0.1"], "--learning-rate must be a finite number > 0"),
        (vec!["--data", &seed, "--epochs", "10", "--learning-rate", "inf"], "--learning-rate must be a finite number > 0"),
        (vec!["--data", &seed, "--epochs", "10", "--learning-rate", "0.1", "--bogus"], "--bogus"),
        (vec!["--epochs", "10", "--learning-rate", "0.1"], "--data"),
    ];
    for (args, want) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_linreg")).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("linreg: error: ") && stderr.contains(want), "{args:?}: want '{want}' in {stderr}");
    }
}

/// `--fits K` (docs/protocol.md): K fits of the data loaded once, the last one reported, the
/// per-fit fields present exactly when the flag is.
#[test]
fn fits_repeats_the_fit_and_reports_each_fits_time() {
    for kernel in ["scalar", "simd", "parallel"] {
        let once = result(&linreg(&["--kernel", kernel], &[]));
        assert_eq!(once.per_fit, linreg::FitStats::default(), "no per-fit fields without --fits");

        let line = result(&linreg(&["--kernel", kernel, "--fits", "7"], &[]));
        // Every fit starts from w = b = 0 (to 1e-12, not bit for bit: the SIMD sums depend on where
        // the data lies modulo 64 bytes, which may change from run to run).
        for (got, want) in [(line.w, once.w), (line.b, once.b), (line.mse, once.mse)] {
            let (got, want) = (got.unwrap(), want.unwrap());
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{kernel}: {got} after 7 fits, {want} after one");
        }
        let stats = &line.per_fit;
        assert_eq!(stats.fits, Some(7), "{kernel}");
        let warm = [stats.fit_warm_min_seconds, stats.fit_warm_median_seconds, stats.fit_warm_p99_seconds, stats.fit_warm_max_seconds];
        let [low, median, p99, high] = warm.map(|v| v.unwrap_or_else(|| panic!("{kernel}: {stats:?}")));
        assert!(low > 0.0 && low <= median && median <= p99 && p99 <= high, "{kernel}: {stats:?}");
        let mean = stats.fit_warm_mean_seconds.unwrap();
        assert!(low <= mean && mean <= high, "{kernel}: {stats:?}");
        // train_seconds is the whole loop: the fits and the recording between them (nanoseconds,
        // not the 50 ms allowed here).
        let sum = stats.fit_first_seconds.unwrap() + 6.0 * mean;
        assert!(sum <= line.train_seconds * (1.0 + 1e-9) && line.train_seconds - sum < 0.05, "{kernel}: {} vs {sum}", line.train_seconds);

        let single = result(&linreg(&["--kernel", kernel, "--fits", "1"], &[]));
        assert_eq!(single.per_fit.fits, Some(1));
        assert_eq!(single.per_fit.fit_first_seconds, Some(single.train_seconds));
        assert_eq!(single.per_fit.fit_warm_median_seconds, None);
    }
}

#[test]
fn every_fit_of_a_diverging_run_diverges_at_the_same_epoch() {
    let (_dir, data) = seed_file();
    let run = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_linreg"))
            .arg("--data")
            .arg(&data)
            .args(["--epochs", "1000", "--learning-rate", "1"])
            .args(extra)
            .output()
            .unwrap();
        result(&output)
    };
    let (once, thrice) = (run(&[]), run(&["--fits", "3"]));
    assert_eq!(once.status, ResultStatus::Diverged);
    assert_eq!((thrice.status, thrice.diverged_at_epoch), (once.status, once.diverged_at_epoch));
}

/// `--placement heap` and `adjacent` move the data, never the arithmetic: on 2·10^5 points (3.2 MB,
/// on whole huge pages wherever Linux has them: above a third of any L2 met and above one huge
/// page) every kernel fits the same bits from the heap, or with y right after x, as placed.
#[test]
fn placement_on_the_heap_fits_the_same_bits() {
    let n = 200_000;
    let (_dir, path) = line_file(n);
    let fit = |kernel: &str, placement: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_linreg"))
            .arg("--data")
            .arg(&path)
            .args(["--epochs", "20", "--learning-rate", "0.01", "--kernel", kernel, "--placement", placement])
            .args(if kernel == "parallel" { &["--threads", "2"][..] } else { &[] })
            .output()
            .unwrap();
        let line = result(&output);
        (line.w.unwrap().to_bits(), line.b.unwrap().to_bits(), line.n)
    };
    for kernel in ["scalar", "simd", "parallel"] {
        let placed = fit(kernel, "auto");
        assert_eq!(placed.2, n as u64);
        assert_eq!(fit(kernel, "heap"), placed, "{kernel}");
        assert_eq!(fit(kernel, "adjacent"), placed, "{kernel}, adjacent");
    }
}

/// The AnonHugePages of `linreg --placement <placement>` holding 4·10^5 points (6.4 MB), read from
/// /proc/PID/smaps_rollup once its anonymous memory holds them; None where smaps_rollup is not
/// there.
fn huge_pages_while_fitting(placement: &str) -> Option<u64> {
    let n = 400_000;
    let (_dir, path) = line_file(n);
    let mut child = Command::new(env!("CARGO_BIN_EXE_linreg"))
        .arg("--data")
        .arg(&path)
        .args(["--epochs", "100000000", "--learning-rate", "0.01", "--kernel", "simd", "--placement", placement])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let field = |text: &str, name: &str| -> Option<u64> {
        let rest = text.lines().find_map(|line| line.strip_prefix(name))?;
        rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok().map(|kib| kib * 1024)
    };
    let mut huge = None;
    for _ in 0..2000 {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", child.id())) else { break };
        if field(&text, "Anonymous:").is_some_and(|anonymous| anonymous >= n as u64 * 16) {
            huge = field(&text, "AnonHugePages:");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    huge
}

/// `--placement heap` does move the data: where Linux gives huge pages only to the memory advised
/// to have them (`madvise`), the data on the heap has none, and placed it lies on them.
#[test]
fn placement_on_the_heap_leaves_the_data_off_huge_pages() {
    let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if !mode.contains("[madvise]") || linreg::placement::whole_pages().is_none() {
        eprintln!("skipped: transparent huge pages are not in madvise mode here ({})", mode.trim());
        return;
    }
    let (Some(placed), Some(heap)) = (huge_pages_while_fitting("auto"), huge_pages_while_fitting("heap")) else {
        eprintln!("skipped: no /proc/PID/smaps_rollup");
        return;
    };
    assert!(placed >= 3 << 20, "placed: {placed} bytes on huge pages of 6.4 MB");
    assert_eq!(heap, 0, "on the heap");
}

#[test]
fn bad_fits_exits_2_with_one_line() {
    for value in ["0", "-3", "abc", "1.5", ""] {
        let output = linreg(&["--fits", value], &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{value}: {stderr}");
        assert!(output.stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("linreg: error: --fits must be an integer ≥ 1, got"), "{value}: {stderr}");
    }
}

/// Past the L2 the result line says how the threads chose whether to prefetch: how many kept it,
/// how many refused it, and the most pairs of epochs a thread timed to choose (12-16 behind a kept
/// prefetch, 5-16 behind a refused one: the sign test stops once settled); where none tried, none
/// of the three.
#[test]
fn the_prefetch_choices_travel_past_the_l2_and_are_absent_where_none_tried() {
    // 9.6 MB: past every L2 met, and each half of it too.
    let (_dir, path) = line_file(600_000);
    for (kernel, threads) in [("simd", 1), ("parallel", 1), ("parallel", 2)] {
        let output = Command::new(env!("CARGO_BIN_EXE_linreg"))
            .arg("--data")
            .arg(&path)
            .args(["--epochs", "60", "--learning-rate", "0.01", "--kernel", kernel])
            .args(if kernel == "parallel" { vec!["--threads".to_string(), threads.to_string()] } else { vec![] })
            .output()
            .unwrap();
        let line = result(&output);
        assert_eq!(line.threads, Some(threads), "{kernel}");
        let (kept, refused, pairs) = (line.prefetching_threads, line.prefetch_refused_threads, line.prefetch_pairs);
        let (Some(kept), Some(refused), Some(pairs)) = (kept, refused, pairs) else { panic!("{kernel} x{threads}: {line:?}") };
        // 60 epochs hold the longest test (8 settling, 16 pairs): one thread always chooses; of
        // two, one that was off its CPU catches up untimed and may not have.
        assert!(kept + refused <= threads && (threads > 1 || kept + refused == 1), "{kernel} x{threads}: {line:?}");
        assert!(pairs <= 16 && (threads > 1 || pairs >= 5), "{kernel} x{threads}: {line:?}");
        assert!((kept == 0 || pairs >= 12) && (refused == 0 || pairs >= 5), "{kernel} x{threads}: {line:?}");
    }
    // 5 points: one block, summed on the calling thread within every L1 (no sysfs needed to say
    // so), where no thread tries.
    let seed = result(&linreg(&["--kernel", "parallel", "--threads", "2"], &[]));
    assert_eq!((seed.prefetching_threads, seed.prefetch_refused_threads, seed.prefetch_pairs), (None, None, None));
}
