//! Property-based state-machine tests of the call lifecycle (issue #4).
//!
//! The model, the generator, the invariants and the shrinker live in the library
//! (`callconf::model`), shared with `callconf explore`.
//!
//! - `coverage`: the generator reaches every rule of the model;
//! - `sut`: the `StateMachineTest` driving a `Session` through the client API and comparing every
//!   answer, event and call state with the model.
//! - `faults`: proof that the suite catches deliberately injected server bugs, with their shrunk
//!   failing sequences.
//! - `parsers`: everything the project parses, fed arbitrary input: errors, never panics
//!   (protocol messages, request arguments, configuration, YAML scenarios);
//! - `frames`: the wire's frame readers and a live server fed arbitrary and cut-and-spliced
//!   frames: coded errors, never a panic or a hang;
//! - `steps`: the same for the Gherkin side (feature files, step arguments, tag expressions).
//!
//! `PROPTEST_CASES` raises (or lowers) the number of cases of every property here (the fault
//! hunts keep their own fixed budget); failures are kept in `proptest-regressions/prop/` and
//! replayed first. A failing lifecycle case is shrunk by proptest, then further (any step
//! removed, the cast simplified) until it is minimal, and reported as a numbered script.

mod coverage;
mod faults;
mod frames;
mod parsers;
mod steps;
mod sut;

use proptest::test_runner::{Config, FileFailurePersistence, TestRunner, contextualize_config};

/// Cases of the lifecycle property when `PROPTEST_CASES` is not set: about 10 s of a debug build
/// on two cores, so the whole target stays well under a minute in CI.
pub const LIFECYCLE_CASES: u32 = 1000;

/// A configuration with `cases`, overridden by `PROPTEST_CASES` (and the other `PROPTEST_*`
/// variables), and failures persisted in `regressions`.
pub fn config(cases: u32, regressions: &'static str) -> Config {
    contextualize_config(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    })
}

/// Random sequences of operations from four users on one or two devices each, across up to
/// three concurrent calls, through the client API, against the model and the invariants.
///
/// This is `prop_state_machine!` spelled out: the same `StateMachineTest::test_sequential` on
/// the same strategy, run by a `TestRunner` so that a failure, once proptest has shrunk it, is
/// shrunk further (see `sut::run_property`) and reported as a script.
#[test]
fn lifecycle_matches_the_model() {
    let config = config(
        LIFECYCLE_CASES,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/prop/lifecycle.txt"
        ),
    );
    if let Err(failure) = sut::run_property(TestRunner::new(config), None, true) {
        panic!("the call lifecycle breaks its model or an invariant:\n{failure}");
    }
}
