//! Simple linear regression y = w·x + b fitted by full-batch gradient descent.
//!
//! The library behind the `linreg` binary and the orchestrator's accuracy checks: datasets
//! (`.npy` and CSV), the gradient-descent kernels, a trainer that keeps them between fits, the
//! ordinary-least-squares optimum, and the JSON result line every implementation prints (see
//! docs/protocol.md).

pub mod caches;
pub mod dataset;
pub mod fit;
pub mod fit_times;
pub mod kernels;
pub mod ols;
pub mod placement;
pub mod protocol;
pub mod trainer;

pub use dataset::{Columns, Dataset, DatasetError};
pub use fit::{fit, mse, Fit, FitStatus, Kernel, Ran};
pub use fit_times::{FitStats, FitTimes};
pub use kernels::isa_choice::IsaChoice;
pub use kernels::parallel::{default_threads, Threads};
pub use kernels::simd::{Isa, IsaError};
pub use ols::{ols, Ols};
pub use protocol::ResultLine;
pub use trainer::{Trainer, TrainerError};
