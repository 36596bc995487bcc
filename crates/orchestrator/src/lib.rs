//! The orchestrator: scenario YAML → plan → measured runs → raw records → analysis → report. One
//! folder a stage, each file one concept; data flows one way and no module imports one that
//! imports it back (crates/orchestrator/tests/layout.rs checks it):
//!
//! - [`scenario`]: the YAML schema, loading with file:line errors, templates, validation;
//! - [`plan`]: the expanded runs (plan.json), datasets, availability, shards;
//! - [`measure`]: one child measured from outside: the launcher, the sampler, the watchdog;
//! - [`execute`]: the loop over a plan: schedule, measure, classify, append records;
//! - [`records`]: raw.csv, samples.csv and the JSON files of a run directory ([`run_dir`]);
//! - [`environment`]: the machine, its probes (spawn floor, bandwidth, compute ceiling);
//! - `analysis`: statistics, summaries, accuracy, claims, comparisons, a `Metric` enum;
//! - [`report`]: Markdown, HTML, CSV/JSON and PNG charts from an analysis; `format` for numbers;
//! - [`cli`]: the command line; errors become exit codes in one place.
//!
//! `console`, `rng` and `stats` are leaves that any stage may use.

#[macro_use]
pub(crate) mod console;

pub(crate) mod analysis;
pub mod cli;
pub mod environment;
pub mod execute;
pub(crate) mod format;
pub mod measure;
pub mod plan;
pub mod records;
pub mod report;
pub(crate) mod rng;
pub(crate) mod run_dir;
pub mod scenario;
pub(crate) mod stats;
#[cfg(test)]
pub(crate) mod testutil;
