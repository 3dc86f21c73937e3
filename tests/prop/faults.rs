//! Proof that the property test can fail: each deliberately injected server fault is caught, and
//! its failing case shrinks to a short, readable sequence of steps.
//!
//! Each fault is switched on in every core the property starts (`Core::inject_fault`, reached
//! through the server's admin closure), and the property is run as `lifecycle_matches_the_model`
//! runs it, except that the failure is inspected instead of failing this test, and the runner's
//! seed is fixed so that the shrunk sequences are the same on every run.
//!
//! Each fault is hunted twice: with the model comparison (what the property test does) and with
//! the invariants alone, to show that the invariants catch each fault without the model's help.
//! Run with `--nocapture` to see the shrunk sequences.

use callconf::core::Fault;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::sut::{Failure, run_property};

/// Cases tried per fault before giving up (each fault is found in far fewer).
const CASES_PER_FAULT: u32 = 1_000;
/// Cases of the same hunt with no fault injected.
const CLEAN_CASES: u32 = 100;
/// A shrunk failing sequence longer than this is not "short and readable".
const SHRUNK_STEPS_MAX: usize = 4;

/// Runs the property with `fault` (and a fixed seed); the shrunk failure, if it fails.
pub fn hunt(fault: Option<Fault>, compare_with_model: bool, cases: u32) -> Option<Box<Failure>> {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    run_property(runner, fault, compare_with_model).err()
}

fn caught(fault: Fault) {
    let full = hunt(Some(fault), true, CASES_PER_FAULT)
        .unwrap_or_else(|| panic!("{fault:?} was not caught in {CASES_PER_FAULT} cases"));
    let alone = hunt(Some(fault), false, CASES_PER_FAULT).unwrap_or_else(|| {
        panic!("{fault:?} was not caught by the invariants alone in {CASES_PER_FAULT} cases")
    });
    println!("{fault:?}, against the model:\n{full}\n{fault:?}, invariants alone:\n{alone}\n");
    for f in [&full, &alone] {
        assert!(
            f.steps.len() <= SHRUNK_STEPS_MAX,
            "{fault:?} shrank only to {} steps:\n{f}",
            f.steps.len()
        );
    }
}

#[test]
fn second_device_also_joins_is_caught() {
    caught(Fault::SecondDeviceAlsoJoins);
}

#[test]
fn missing_cancel_event_is_caught() {
    caught(Fault::NoCancelEvent);
}

#[test]
fn ring_timeout_that_never_fires_is_caught() {
    caught(Fault::RingTimeoutNeverFires);
}

#[test]
fn non_member_ending_a_call_is_caught() {
    caught(Fault::NonMemberMayEnd);
}

#[test]
fn event_after_the_end_is_caught() {
    caught(Fault::EventAfterEnd);
}

/// Every fault the core knows has a test above (this match stops compiling when one is added).
#[test]
fn every_fault_is_hunted() {
    for fault in Fault::ALL {
        match fault {
            Fault::SecondDeviceAlsoJoins
            | Fault::NoCancelEvent
            | Fault::RingTimeoutNeverFires
            | Fault::NonMemberMayEnd
            | Fault::EventAfterEnd => {}
        }
    }
}

/// With no fault, the same seeded cases pass: what fails above is the fault.
#[test]
fn the_same_hunt_without_a_fault_passes() {
    if let Some(f) = hunt(None, true, CLEAN_CASES) {
        panic!("the property fails with no fault injected:\n{f}");
    }
}
