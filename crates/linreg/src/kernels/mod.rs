//! The kernels: each computes one epoch's gradient sums (Σ e_i·x_i, Σ e_i) with
//! e_i = w·x_i + b − y_i. They differ only in how they sum; the loop around them is in `fit`.

pub mod isa_choice;
pub mod parallel;
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
