//! The analysis stage: raw records and the plan they were run from → summaries with bootstrap
//! CIs, accuracy against a reference fit, claims judged, start-up anatomy, comparisons of two runs
//! and of runs on several machines. Pure arithmetic over what was recorded: nothing here runs or
//! draws anything.

pub(crate) mod accuracy;
pub(crate) mod across;
pub(crate) mod anatomy;
pub(crate) mod claims;
pub(crate) mod compare;
pub(crate) mod metric;
pub(crate) mod summary;
