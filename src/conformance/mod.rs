//! The Gherkin conformance suite: the step vocabulary, the world that runs scenarios against the
//! reference implementation, the checker of feature files, the runner and its reports.
//!
//! Everything lives in the library, not in the test target, because three front ends share it:
//! `cargo test` (the `conformance` test target, `harness = false`), `callconf certify` (a vendor or
//! a CI pipeline running the project's features and/or their own) and `callconf steps` (the
//! catalog for people who write features). One implementation means a feature that passes under
//! `cargo test` passes under `certify`, with the same messages.
//!
//! How a step flows:
//! 1. [`features`] parses the files and expands Scenario Outlines; [`check`] matches every step
//!    against the [`catalog`] and parses its arguments, so unknown, ambiguous or malformed steps
//!    are reported with file and line (and the closest known steps) before anything runs.
//! 2. [`runner`] hands the checked features to cucumber; every pattern is registered with one
//!    step function ([`world::dispatch`]) that turns the step into an [`action::Action`] (data).
//! 3. The [`world`] sends the action to its scenario's worker thread, where a [`stage::Stage`]
//!    carries it out on a [`Session`](crate::session::Session) in virtual time.
//! 4. After each scenario, the runner collects its verdict, the failing step and the full
//!    [`trace`]; [`report`] renders the table, the HTML report and the libtest-style output.
//!
//! Exactness ("and nothing else"): `Then <device> sees:` compares, in order, the events the device
//! received since its previous check. Every scenario ends with an implicit step, `Then every event
//! has been checked`, which fails if any device holds an event that no step checked, so a scenario
//! accounts for everything every device saw. A refused `When` operation must be checked by the very
//! next step (`Then it fails with 409`). Operations written with `Given` set the stage: they must
//! succeed and their events are taken as seen.

pub mod action;
pub mod applies;
pub mod boundary;
pub mod catalog;
pub mod check;
pub mod dialect;
pub mod error;
pub mod expect;
pub mod features;
pub mod report;
pub mod rig;
pub mod rig_client;
pub mod runner;
pub mod stage;
mod steps;
pub mod sut;
pub mod trace;
pub mod world;

use std::path::Path;

pub use error::{ConformanceError, Problem};
pub use report::{RunReport, ScenarioRecord, Verdict};
pub use runner::{RunOptions, default_features_dir, run};

/// Writes the HTML report of `report` to `path`.
pub fn write_html(report: &RunReport, path: &Path) -> Result<(), ConformanceError> {
    std::fs::write(path, report::html::render(report)).map_err(|source| ConformanceError::Write {
        path: path.to_owned(),
        source,
    })
}
