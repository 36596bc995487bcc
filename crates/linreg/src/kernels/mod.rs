//! The kernels: each computes one epoch's gradient sums (Σ e_i·x_i, Σ e_i) with
//! e_i = w·x_i + b − y_i. They differ only in how they sum; the loop around them is in `fit`.

pub mod parallel;
pub mod scalar;
pub mod simd;
