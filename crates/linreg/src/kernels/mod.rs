//! The kernels: each computes one epoch's gradient sums (Σ e_i·x_i, Σ e_i) with
//! e_i = w·x_i + b − y_i. They differ only in how they sum; the loop around them is in `fit`.

pub mod back_and_forth;
pub mod isa_choice;
pub mod parallel;
pub(crate) mod prefetch_choice;
pub mod scalar;
pub mod simd;
pub mod squared_errors;

use simd::Isa;

/// What a fit ran on, known only afterwards where the kernel chose by measuring: `--threads auto`
/// times its first epochs on one thread and on every core, `--isa auto` its first on each vector
/// instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ran {
    pub threads: usize,
    /// None for the scalar kernel.
    pub isa: Option<Isa>,
    /// On a pool of a descent whose threads' shares are past their L2s (or whose L2 is unknown):
    /// how its threads had chosen whether to sum with software prefetches when the calling thread
    /// finished (`prefetch_choice::PrefetchChoice`); on one thread with the data past the L2 (the
    /// simd kernel's fits, the parallel kernel's descents on one thread), that thread's choice the
    /// same way. None where no thread tries: the scalar kernel, the parallel kernel's
    /// `with_gradient_sums`, data within the L2s, and a pool whose `auto` calibration settled on
    /// its calling thread alone.
    pub prefetching: Option<PrefetchChoices>,
}

/// The prefetch choices of the threads that tried (see [`Ran::prefetching`]): how many kept the
/// prefetch, how many refused it (the rest had not chosen when the calling thread read the counts:
/// a fit shorter than the test, or a thread whose epochs went untimed, caught up or summed by
/// another), and the most pairs of epochs any of them timed, up to its choice or until then. The
/// sign test settles after 12 to 16 pairs where it keeps, 5 to 16 where it refuses: where the
/// prefetch costs, about one epoch a pair ran with it (`most_pairs` to `most_pairs + 1`), after 8
/// settling epochs without. Over every fit so far where a choice is carried (`--fits K`, a
/// `Trainer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrefetchChoices {
    pub kept: usize,
    pub refused: usize,
    pub most_pairs: usize,
}

#[cfg(test)]
impl PrefetchChoices {
    /// Whether the counts of `threads` threads hold together as the sign test makes them: no
    /// more choices than threads, no more than 16 pairs, at least 12 behind a kept prefetch and 5
    /// behind a refused one.
    pub(crate) fn hold_together(&self, threads: usize) -> bool {
        use prefetch_choice::{PREFETCH_TRIALS, PREFETCH_WINS};
        self.kept + self.refused <= threads
            && self.most_pairs <= PREFETCH_TRIALS
            && (self.kept == 0 || self.most_pairs >= PREFETCH_WINS)
            && (self.refused == 0 || self.most_pairs > PREFETCH_TRIALS - PREFETCH_WINS)
    }
}

/// The epoch of a thread's first run of epochs at which its prefetch choice is made: the soonest
/// (the prefetch losing every pair: 8 settling epochs, then 11 timed, 6 with and 5 without, in the
/// test's turns) and the latest (all 16 pairs timed). A process of fewer epochs, over all its
/// fits, ends before it (`prefetch_choice`'s tests run the test to check both).
pub const PREFETCH_CHOICE_EPOCHS: (u64, u64) = (19, 40);

/// Whether the vector kernels try software prefetches on `n` points over `threads` threads, and
/// choose by timing whether to keep them (see `prefetch_choice`): the simd kernel's one thread
/// where its data is past its core's L2, the parallel kernel's pool where each thread's share is
/// (or the L2 is unknown). For a probe timing the kernels' loop as they run it.
pub fn prefetch_tried(n: usize, threads: usize) -> bool {
    if threads <= 1 {
        prefetch_choice::one_thread_tries(n)
    } else {
        prefetch_choice::pool_tries(n, threads)
    }
}

/// Asks the CPU now what it has, for a caller setting up fits before their clock starts. std
/// remembers the answer, but finding it out the first time runs CPUID a dozen times, and in a
/// virtual machine every CPUID exits to the hypervisor: 60–65 µs in all on a 2-vCPU Emerald
/// Rapids KVM guest (family 6 model 207). The vector kernels ask while choosing their code, the
/// final MSE's pass ([`squared_errors`]) asks too; where nothing had asked before the clock, the
/// first fit paid for it: the scalar kernel's at 5 points × 1 000 epochs took 83 µs against 16.5
/// warm (65 µs against 0.12 at 1 epoch), and python-rust's first fit on a `Trainer` 103 µs
/// against 17.5.
pub fn detect_cpu_features() {
    #[cfg(target_arch = "x86_64")]
    {
        let _ = std::arch::is_x86_feature_detected!("avx512f");
    }
}

/// `v`, unchanged, as a value the compiler cannot see into: no instruction is emitted, but LLVM's
/// SLP vectoriser can no longer pack it with a look-alike neighbour into one vector register.
///
/// The scalar loop and the step each compute two sums (or two parameters) the same way, and LLVM
/// packs each pair into one SSE register: (Σ e·x, Σ e) added with one `addpd`, (w, b) updated with
/// one `divpd`, `mulpd`, `subpd`. That saves instructions and costs latency, which is what a small
/// fit is made of: every epoch then shuffles e and e·x together before adding them, and takes b out
/// of the pair for the next epoch's w·x + b. Measured (Emerald Rapids, family 6 model 207;
/// `linreg --fits 300`, 1 000 epochs, 5 alternating processes, medians of the warm fits): at 5
/// points the scalar kernel took 18.3 ns an epoch packed, 16.4 with the two sums and b kept
/// apart, level with the whole program built with `-C llvm-args=-vectorize-slp=false` (16.3;
/// numba's loop, unpacked, 17.3); at 16 points 26.7 → 24.1; at 1 000 points level (686 ns).
/// The same bits: only which register holds a value changes, never an operation or its order.
#[inline(always)]
pub(crate) fn unpaired(v: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        let mut v = v;
        // SAFETY: an empty template (a comment naming the register): it reads and writes nothing
        // but `v`'s register, which it leaves as it found it.
        unsafe { std::arch::asm!("/* {0} */", inout(xmm_reg) v, options(pure, nomem, nostack, preserves_flags)) };
        v
    }
    #[cfg(not(target_arch = "x86_64"))]
    v
}
