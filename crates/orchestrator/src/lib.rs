//! The orchestrator: scenario YAML → plan → runner (spawn, sample, reap) → raw records →
//! statistics → report. Each module is one arrow of that flow; `main.rs` only wires them.

// LAYOUT-SHIM: report/ still shows the pub(crate) analysis types through pub items; removed when
// the branches are merged and report/ is pub(crate) too.
#![allow(private_interfaces)]

pub(crate) mod analyse;
pub(crate) mod analysis;
pub mod cli;
pub mod environment;
pub mod execute;
pub(crate) mod format;
pub mod measure;
pub(crate) mod merge_command;
pub mod plan;
pub mod records;
pub mod report;
pub(crate) mod rng;
#[allow(dead_code)] // LAYOUT-SHIM: until report, lock, across and cli take their file names from run_dir
pub(crate) mod run_dir;
pub mod scenario;
pub(crate) mod stats;

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

// LAYOUT-SHIM (every module below): the old paths of the modules moved into analysis/ and
// environment/, for the files that still use them; removed when the branches are merged.
// LAYOUT-SHIM: crate::accuracy
pub(crate) mod accuracy {
    pub(crate) use crate::analysis::accuracy::*;
}
// LAYOUT-SHIM: crate::across
pub(crate) mod across {
    pub(crate) use crate::analysis::across::*;
    pub(crate) use crate::report_across::*;
}
// LAYOUT-SHIM: crate::anatomy
pub(crate) mod anatomy {
    pub(crate) use crate::analysis::anatomy::*;
}
// LAYOUT-SHIM: crate::claims
pub(crate) mod claims {
    pub(crate) use crate::analysis::claims::*;
}
// LAYOUT-SHIM: crate::compare
pub(crate) mod compare {
    pub(crate) use crate::analysis::compare::*;
}
// LAYOUT-SHIM: crate::summary
pub(crate) mod summary {
    pub(crate) use crate::analysis::summary::*;
    /// report/figures.rs's name for [`crate::environment::probes::BYTES_PER_POINT`].
    pub(crate) const BYTES_PER_POINT_EPOCH: f64 = crate::environment::probes::BYTES_PER_POINT as f64;
}
// LAYOUT-SHIM: crate::binaries
pub(crate) mod binaries {
    pub(crate) use crate::environment::binaries::*;
}
// LAYOUT-SHIM: crate::import_profile
pub(crate) mod import_profile {
    pub(crate) use crate::environment::import_profile::*;
}
// LAYOUT-SHIM: crate::probes
pub(crate) mod probes {
    pub(crate) use crate::environment::probes::*;
}
// LAYOUT-SHIM: report/across.rs is `report::across`, to be declared in report/mod.rs when merged.
#[path = "report/across.rs"]
pub(crate) mod report_across;
