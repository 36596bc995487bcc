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
