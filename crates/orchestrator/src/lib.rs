//! The orchestrator: scenario YAML → plan → runner (spawn, sample, reap) → raw records →
//! statistics → report. Each module is one arrow of that flow; `main.rs` only wires them.

pub mod accuracy;
pub mod across;
pub mod anatomy;
pub mod binaries;
pub mod claims;
pub mod cli;
pub mod compare;
pub mod environment;
pub mod execute;
pub mod import_profile;
pub mod measure;
pub(crate) mod merge_command;
pub mod plan;
pub mod probes;
pub mod records;
pub mod report;
pub mod rng;
#[allow(dead_code)] // LAYOUT-SHIM: until report, lock, across and cli take their file names from run_dir
pub(crate) mod run_dir;
pub mod scenario;
pub mod stats;
pub mod summary;

#[doc(hidden)]
pub mod runner {
    pub use crate::measure::*;
} // LAYOUT-SHIM

#[doc(hidden)]
pub mod measurement {
    pub use crate::records::{RawRecord, RunStatus, SampleRecord};
} // LAYOUT-SHIM

#[doc(hidden)]
pub(crate) mod merge {
    pub(crate) use crate::merge_command::*;
} // LAYOUT-SHIM

// LAYOUT-SHIM: old paths of moved modules, for the files of the other branches until the merge.
#[doc(hidden)]
pub(crate) mod console {
    pub(crate) use crate::cli::console::errln; // LAYOUT-SHIM
}
#[doc(hidden)]
pub mod shard {
    pub use crate::plan::shard::*; // LAYOUT-SHIM
}
