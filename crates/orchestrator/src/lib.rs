//! The orchestrator: scenario YAML → plan → runner (spawn, sample, reap) → raw records →
//! statistics → report. Each module is one arrow of that flow; `main.rs` only wires them.

pub mod accuracy;
pub mod across;
pub(crate) mod analyse;
pub mod anatomy;
pub mod binaries;
pub mod claims;
pub mod cli;
pub mod compare;
pub mod console;
pub mod datasets;
pub mod environment;
pub mod eta;
pub mod execute;
pub(crate) mod format;
pub mod import_profile;
pub mod lock;
pub mod measurement;
pub mod merge;
pub mod plan;
pub mod probes;
pub mod records;
pub mod report;
pub mod rng;
pub mod runner;
pub mod sampler;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod summary;
