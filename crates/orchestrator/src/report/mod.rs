//! The report: what a run's raw records turn into for people (Markdown, CSV, JSON, PNG charts).

pub mod charts;
