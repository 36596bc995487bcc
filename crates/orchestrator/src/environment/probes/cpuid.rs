//! What one CPUID instruction costs on this machine. On bare metal it takes tens to a few hundred
//! cycles; in a virtual machine every CPUID exits to the hypervisor, which answers it, and what
//! that costs depends on the host, not on the CPU: 9–13 µs on one 2-vCPU Emerald Rapids guest,
//! 1.45 µs on another of the same CPU model and guest kernel (a scratch C program, 2 000 calls of
//! leaves 0, 2 and 4, 2026-12-05). A program's start-up runs it dozens of times — glibc asks the
//! CPU its cache sizes, Rust's standard library its features — so it is part of every spawn
//! floor, and the report names it beside the floor (the startup scenario's `exec-only` and
//! `libc-static` steps show what it costs a whole process).

use serde::{Deserialize, Serialize};

use super::{stop_if_cancelled, ProbeError};
use crate::measure::CancelToken;
use crate::stats;

/// Leaf 4, subleaf 0: the first of the deterministic cache parameters, which glibc's start-up
/// reads on Intel CPUs (the leaf's answer does not matter here, only the instruction's cost).
pub(crate) const LEAF: u32 = 4;

/// Calls a timed batch makes, and timed batches: 1 500 calls, 2–20 ms in the guests above.
pub(crate) const CALLS_PER_BATCH: u32 = 100;
pub(crate) const BATCHES: usize = 15;

/// The cost of one CPUID, from batches of calls timed apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuidCost {
    pub leaf: u32,
    pub calls_per_batch: u32,
    pub batches: usize,
    /// Seconds a call in the fastest, the median and the slowest batch.
    pub best_seconds: f64,
    pub median_seconds: f64,
    pub worst_seconds: f64,
}

/// Times [`BATCHES`] batches of [`CALLS_PER_BATCH`] CPUIDs of [`LEAF`], after one untimed batch;
/// None where there is no CPUID (not an x86_64 CPU).
pub(crate) fn measure(cancel: &CancelToken) -> Result<Option<CpuidCost>, ProbeError> {
    let Some(_) = batch_seconds(1) else { return Ok(None) };
    let mut per_call = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        stop_if_cancelled(cancel)?;
        if let Some(seconds) = batch_seconds(CALLS_PER_BATCH) {
            per_call.push(seconds / f64::from(CALLS_PER_BATCH));
        }
    }
    per_call.sort_by(f64::total_cmp);
    let (Some(&best), Some(&worst), Some(median)) = (per_call.first(), per_call.last(), stats::median(&per_call)) else {
        return Ok(None);
    };
    Ok(Some(CpuidCost {
        leaf: LEAF,
        calls_per_batch: CALLS_PER_BATCH,
        batches: per_call.len(),
        best_seconds: best,
        median_seconds: median,
        worst_seconds: worst,
    }))
}

/// Seconds `calls` CPUIDs of [`LEAF`] took, one after another.
#[cfg(target_arch = "x86_64")]
fn batch_seconds(calls: u32) -> Option<f64> {
    let started = std::time::Instant::now();
    let mut answers = 0u32;
    for _ in 0..calls {
        // SAFETY: CPUID exists on every x86_64 CPU; any leaf returns data, never a fault.
        #[allow(unused_unsafe)]
        let leaf = unsafe { std::arch::x86_64::__cpuid_count(LEAF, 0) };
        // Keeps each call's answer live, so that none is left out.
        answers = answers.wrapping_add(std::hint::black_box(leaf.eax));
    }
    std::hint::black_box(answers);
    Some(started.elapsed().as_secs_f64())
}

#[cfg(not(target_arch = "x86_64"))]
fn batch_seconds(_calls: u32) -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpuid_is_timed_in_batches_where_the_cpu_has_one() {
        let cost = measure(&CancelToken::new()).expect("nothing to fail");
        if !cfg!(target_arch = "x86_64") {
            assert!(cost.is_none());
            return;
        }
        let cost = cost.expect("an x86_64 CPU has CPUID");
        assert_eq!((cost.leaf, cost.calls_per_batch, cost.batches), (LEAF, CALLS_PER_BATCH, BATCHES));
        assert!(
            cost.best_seconds > 0.0 && cost.best_seconds <= cost.median_seconds && cost.median_seconds <= cost.worst_seconds,
            "{cost:?}"
        );
        // No machine takes a millisecond for one instruction, even trapped to a hypervisor.
        assert!(cost.median_seconds < 1e-3, "{cost:?}");
    }

    #[test]
    fn an_interrupted_probe_stops() {
        let cancel = CancelToken::new();
        cancel.cancel();
        let result = measure(&cancel);
        if cfg!(target_arch = "x86_64") {
            assert!(matches!(result, Err(ProbeError::Interrupted)), "{result:?}");
        }
    }
}
