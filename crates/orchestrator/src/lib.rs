//! The orchestrator: scenario YAML → plan → runner (spawn, sample, reap) → raw records →
//! statistics → report. Each module is one arrow of that flow; `main.rs` only wires them.

pub(crate) mod analysis;
pub mod cli;
pub mod console;
pub mod datasets;
pub mod environment;
pub mod eta;
pub mod execute;
pub mod lock;
pub mod measurement;
pub mod merge;
pub mod plan;
pub mod records;
pub mod report;
pub mod rng;
pub mod runner;
pub mod sampler;
pub mod scenario;
pub mod shard;
pub mod stats;

// LAYOUT-SHIM: the old paths of the modules moved into analysis/ and environment/, for the files
// that still use them; removed when the branches are merged.
#[doc(hidden)]
pub mod accuracy {
    pub use crate::analysis::accuracy::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod across {
    pub use crate::analysis::across::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod anatomy {
    pub use crate::analysis::anatomy::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod claims {
    pub use crate::analysis::claims::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod compare {
    pub use crate::analysis::compare::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod summary {
    pub use crate::analysis::summary::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod binaries {
    pub use crate::environment::binaries::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod import_profile {
    pub use crate::environment::import_profile::*;
} // LAYOUT-SHIM
#[doc(hidden)]
pub mod probes {
    pub use crate::environment::probes::*;
} // LAYOUT-SHIM
