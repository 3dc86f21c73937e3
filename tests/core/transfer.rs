//! Blind transfer (Stringee `sendTransfer`, Voximplant blind transfer): allowed only for
//! app-to-phone or phone-to-app calls; the target rings, and the transferor is told the outcome.

use callconf::core::*;

use crate::harness::H;

fn phone() -> UserConfig {
    UserConfig {
        endpoint: Endpoint::Phone,
        ..UserConfig::default()
    }
}

fn transfer(call: CallId, target: &str) -> Op {
    Op::Transfer {
        call,
        target: target.into(),
    }
}

/// alice (app) connected with bob (a phone number); carol (app, two devices), dave (app) idle.
fn setup() -> (H, CallId) {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["line"], phone());
    h.user_with("carol", &["phone", "tablet"], UserConfig::default());
    h.user("dave");
    let call = h.connected("alice", "bob", CallType::Audio);
    (h, call)
}

#[test]
fn transfer_succeeds_when_the_target_accepts() {
    let (mut h, call) = setup();
    assert_eq!(h.ok("alice", transfer(call, "carol")), Reply::Done);
    assert!(h.seen("alice").is_empty());
    assert_eq!(h.seen("bob"), ["call-1: alice transferring to carol"]);
    for d in ["carol/phone", "carol/tablet"] {
        let events = h.events(d);
        match events.as_slice() {
            [e @ Event::Incoming { info }] => {
                assert_eq!(info.transferred_by, Some("alice".into()));
                assert_eq!(info.call, call);
                assert_eq!(info.status, CallStatus::Connected);
                assert_eq!(
                    e.to_string(),
                    "call-1: incoming Audio call from alice (transferred by alice)"
                );
            }
            other => panic!("{d}: {other:?}"),
        }
    }
    assert_eq!(
        h.member_state(call, "alice"),
        ParticipantState::Transferring { to: "carol".into() }
    );
    assert_eq!(h.member_state(call, "carol"), ParticipantState::Invited);
    h.ok("carol/tablet", Op::accept(call));
    assert_eq!(
        h.events("alice"),
        [
            Event::TransferResult {
                call,
                target: "carol".into(),
                outcome: TransferOutcome::Succeeded
            },
            Event::Detached {
                call,
                reason: DetachReason::Transferred
            }
        ]
    );
    assert_eq!(
        h.seen("bob"),
        ["call-1: alice transferred", "call-1: carol joined"]
    );
    assert_eq!(
        h.seen("carol/phone"),
        ["call-1: detached, answered on another device"]
    );
    assert!(h.seen("carol/tablet").is_empty());
    assert_eq!(h.member_state(call, "alice"), ParticipantState::Transferred);
    assert_eq!(h.member_state(call, "carol"), ParticipantState::Joined);
    assert_eq!(h.status(call), CallStatus::Connected);
    // bob and carol talk; alice hears nothing more and is free.
    h.ok("carol/tablet", Op::StartSession { call });
    h.ok(
        "bob",
        Op::Dtmf {
            call,
            digits: "1".into(),
        },
    );
    assert_eq!(h.seen("carol/tablet"), ["call-1: DTMF \"1\" from bob"]);
    h.ok("bob", Op::hangup(call));
    assert_eq!(h.seen("carol/tablet"), ["call-1: ended, hung up by bob"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, hung up by bob"]);
    assert!(h.seen("alice").is_empty());
    h.call("dave", "alice", CallType::Audio);
    assert_eq!(h.seen("alice"), ["call-2: incoming Audio call from dave"]);
}

#[test]
fn the_phone_side_may_transfer_to_an_app_user() {
    let (mut h, call) = setup();
    h.ok("bob", transfer(call, "dave"));
    assert_eq!(h.seen("alice"), ["call-1: bob transferring to dave"]);
    assert_eq!(
        h.seen("dave"),
        ["call-1: incoming Audio call from alice (transferred by bob)"]
    );
    h.ok("dave", Op::accept(call));
    assert_eq!(
        h.seen("bob"),
        [
            "call-1: transfer to dave: succeeded",
            "call-1: detached, transferred"
        ]
    );
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob transferred", "call-1: dave joined"]
    );
}

#[test]
fn app_to_app_transfer_is_403() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    let err = h.refused("alice", transfer(call, "carol"), 403);
    assert_eq!(err, CallError::Forbidden(Forbidden::TransferNotAllowed));
    // Phone to phone neither.
    let mut h = H::new();
    h.user_with("alice", &["line"], phone());
    h.user_with("bob", &["line"], phone());
    h.user("carol");
    let call = h.connected("alice", "bob", CallType::Audio);
    h.refused("bob", transfer(call, "carol"), 403);
    assert!(h.seen("carol").is_empty());
}

#[test]
fn target_declining_fails_the_transfer_and_ends_the_call() {
    let (mut h, call) = setup();
    h.ok("alice", transfer(call, "carol"));
    h.clear();
    h.ok("carol/phone", Op::decline(call, None));
    let end = "call-1: ended, transfer failed (603)";
    assert_eq!(
        h.seen("alice"),
        ["call-1: transfer to carol: failed (603)", end]
    );
    assert_eq!(h.seen("bob"), [end]);
    assert_eq!(h.seen("carol/phone"), [end]);
    assert_eq!(h.seen("carol/tablet"), [end]);
    let reason = EndReason::TransferFailed { code: 603 };
    assert_eq!(h.snapshot(call).end_reason, Some(reason.clone()));
    assert_eq!(reason.code(), 603);
    assert_eq!(h.core.live_calls(), 0);
}

#[test]
fn target_not_answering_fails_the_transfer_with_408() {
    let (mut h, call) = setup();
    h.advance(1_000);
    h.ok("alice", transfer(call, "carol"));
    h.clear();
    h.advance(29_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(
        h.events("alice"),
        [
            Event::TransferResult {
                call,
                target: "carol".into(),
                outcome: TransferOutcome::Failed { code: 408 }
            },
            Event::Ended {
                call,
                reason: EndReason::TransferFailed { code: 408 }
            }
        ]
    );
    assert_eq!(h.seen("bob"), ["call-1: ended, transfer failed (408)"]);
    assert_eq!(
        h.seen("carol/phone"),
        ["call-1: ended, transfer failed (408)"]
    );
    assert_eq!(
        h.seen("carol/tablet"),
        ["call-1: ended, transfer failed (408)"]
    );
}

/// The call ends while the target still rings (the remaining party hangs up, or disconnects):
/// the transferor is told its transfer failed (487) before it is told the call ended.
#[test]
fn the_call_ending_while_the_target_rings_fails_the_transfer_with_487() {
    for disconnects in [false, true] {
        let (mut h, call) = setup();
        h.ok("alice", transfer(call, "carol"));
        h.clear();
        let end = if disconnects {
            h.disconnect("bob");
            "call-1: ended, bob disconnected"
        } else {
            h.ok("bob", Op::hangup(call));
            "call-1: ended, hung up by bob"
        };
        let shown = h.seen("alice");
        assert_eq!(
            shown,
            ["call-1: transfer to carol: failed (487)", end],
            "{end}"
        );
        let bob: &[&str] = if disconnects { &[] } else { &[end] };
        assert_eq!(h.seen("bob"), bob, "an offline device is told nothing");
        assert_eq!(h.seen("carol/phone"), [end]);
        assert_eq!(h.seen("carol/tablet"), [end]);
        assert_eq!(TransferOutcome::ABORTED_CODE, 487);
        assert_eq!(h.core.live_calls(), 0);
        assert!(h.quiet(), "nothing more, the transfer result only once");
    }
}

#[test]
fn a_busy_target_is_486_and_nothing_changes() {
    let (mut h, call) = setup();
    h.user("erin");
    h.connected("erin", "carol", CallType::Audio);
    let err = h.refused("alice", transfer(call, "carol"), 486);
    assert_eq!(err, CallError::Busy("carol".into()));
    assert_eq!(h.member_state(call, "alice"), ParticipantState::Joined);
}

#[test]
fn an_unavailable_target_is_480_and_nothing_changes() {
    let (mut h, call) = setup();
    h.disconnect("carol/phone");
    h.disconnect("carol/tablet");
    let err = h.refused("alice", transfer(call, "carol"), 480);
    assert_eq!(err, CallError::Unavailable("carol".into()));
}

#[test]
fn other_transfer_refusals() {
    let (mut h, call) = setup();
    h.refused("alice", transfer(call, "alice"), 400);
    h.refused("alice", transfer(call, "zoe"), 404);
    // The other party is already in the call.
    h.refused("alice", transfer(call, "bob"), 422);
    h.ok("alice", transfer(call, "carol"));
    // One transfer at a time, and the transferor is out of the session.
    h.refused("bob", transfer(call, "dave"), 422);
    h.refused("alice", transfer(call, "dave"), 422);
    h.refused("alice", Op::hangup(call), 422);
}

#[test]
fn transfer_needs_a_connected_one_to_one_call() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["line"], phone());
    h.user("carol");
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", transfer(call, "carol"), 422);
    h.ok("bob", Op::accept(call));
    h.refused("alice", transfer(call, "carol"), 422);
}
