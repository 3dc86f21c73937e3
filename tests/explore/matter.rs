//! Profiles must matter to explore: the reference emulating one dialect, explored with the
//! model of another, disagrees with it, on a rule where the two differ; and under its own
//! dialect it agrees (`profiles.rs`).

use std::sync::Arc;

use callconf::core::{Limits, Policy};
use callconf::explore::{Options, Quiet, Target, explore};
use callconf::profile::Profile;

fn profile(name: &str) -> Profile {
    Profile::builtin(name).expect("a built-in profile")
}

/// Explores the reference emulating `sut` (a dialect's limits and policy) with the model of
/// the profile `model`; the failing step's reason.
fn disagreement(model: &str, sut: Limits) -> String {
    let mut opts = Options::driven(400, 30, 7, &profile(model));
    opts.limits = Limits {
        ring_timeout_ms: opts.dialect.ring_timeout_ms,
        live_calls_max: opts.limits.live_calls_max,
        ..sut
    };
    let target = Target::Local { faults: Vec::new() };
    let explored = explore(&target, &opts, &Quiet).expect("explore runs");
    let found = explored
        .failure
        .unwrap_or_else(|| panic!("explored as {model}: every case agreed"));
    assert!(found.steps.len() <= 6, "explored as {model}: {found:?}");
    found.reason
}

#[test]
fn voximplant_explored_as_canonical_connects_without_the_media_session() {
    // Voximplant connects a call when two have joined; the canonical lifecycle waits for both
    // to start their media session.
    let why = disagreement("canonical", profile("voximplant").core_limits());
    assert!(why.contains("connected"), "{why}");
}

#[test]
fn canonical_explored_as_stream_needs_the_media_session() {
    let why = disagreement("stream", profile("canonical").core_limits());
    assert!(why.contains("connect"), "{why}");
}

#[test]
fn cometchat_explored_as_canonical_lacks_operations() {
    // CometChat has no ring acknowledgement, hold, DTMF, transfer, end for everyone.
    let why = disagreement("canonical", profile("cometchat").core_limits());
    assert!(why.contains("501"), "{why}");
}

#[test]
fn a_narrower_dtmf_set_is_found() {
    // Only the DTMF characters differ: Voximplant's sendDigits takes no A-D.
    let policy = Policy {
        dtmf_characters: "0123456789*#p".into(),
        ..Policy::default()
    };
    let sut = Limits {
        policy: Arc::new(policy),
        ..Limits::default()
    };
    let why = disagreement("canonical", sut);
    assert!(why.contains("the answer is refused with 400"), "{why}");
}
