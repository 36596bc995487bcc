//! A trainer between requests costs no CPU: its pool's workers, idle, park until the next fit
//! wakes them. In a test binary of its own, so that no other test's pool runs meanwhile.

#![cfg(target_os = "linux")]

use std::num::NonZeroUsize;
use std::time::Duration;

use linreg::{Columns, IsaChoice, Kernel, Threads, Trainer};

/// CPU time, in clock ticks, of this process's threads named `name`.
fn cpu_ticks_of_threads(name: &str) -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    tasks
        .filter_map(|task| {
            let path = task.ok()?.path();
            let comm = std::fs::read_to_string(path.join("comm")).ok()?;
            if comm.trim_end() != name {
                return None;
            }
            let stat = std::fs::read_to_string(path.join("stat")).ok()?;
            // After the command's closing parenthesis: fields 3 onwards; utime and stime are 14 and 15.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

#[test]
fn an_idle_trainer_s_workers_use_no_cpu_and_wake_for_the_next_fit() {
    let x: Vec<f64> = (0..100_000).map(|i| (i as f64 * 0.618).fract() * 10.0).collect();
    let y: Vec<f64> = x.iter().map(|xi| 2.0 * xi + 0.5).collect();
    let data = Columns::copied(&x, &y).expect("valid points");
    let two = Threads::Exactly(NonZeroUsize::new(2).expect("2 > 0"));
    let mut trainer = Trainer::start(data, Kernel::Parallel { threads: two, isa: IsaChoice::Fastest }, 1000).expect("starts");
    assert_eq!(trainer.fit(100, 1e-3).expect("fits").1.threads, 2);
    // Past the workers' spin and their timed parks (~16 ms).
    std::thread::sleep(Duration::from_millis(100));
    let before = cpu_ticks_of_threads("linreg-pool");
    std::thread::sleep(Duration::from_millis(600));
    let used = cpu_ticks_of_threads("linreg-pool") - before;
    // A tick is 10 ms; waking every millisecond to spin cost ~40 ms in this time.
    assert!(used <= 1, "idle workers used {used} ticks of CPU in 600 ms");
    let (fit, ran) = trainer.fit(100, 1e-3).expect("fits after a rest");
    assert_eq!((fit.epochs_run, ran.threads), (100, 2));
}
