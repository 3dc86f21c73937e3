//! Hang up: a 1:1 call ends for both; in a group the leaver is detached and the others go on,
//! until fewer than two remain (Stream: leave() does not stop the flow for the others).

use callconf::core::*;

use crate::harness::H;

/// alice, bob and carol in a connected group call; inboxes cleared.
fn group_of_three(h: &mut H) -> CallId {
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Video),
    );
    h.ok("bob", Op::accept(call));
    h.ok("carol", Op::accept(call));
    for u in ["alice", "bob", "carol"] {
        h.ok(u, Op::StartSession { call });
    }
    assert_eq!(h.status(call), CallStatus::Connected);
    h.clear();
    call
}

#[test]
fn one_to_one_hang_up_by_the_callee_ends_for_both() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    h.advance(5_000);
    assert_eq!(h.ok("bob", Op::hangup(call)), Reply::Done);
    assert_eq!(h.seen("alice"), ["call-1: ended, hung up by bob"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, hung up by bob"]);
    let snap = h.snapshot(call);
    let reason = EndReason::HungUp { by: "bob".into() };
    assert_eq!(snap.end_reason, Some(reason.clone()));
    assert_eq!(reason.code(), 200);
    assert_eq!(snap.ended_ms, Some(5_000));
    assert_eq!(snap.status, CallStatus::Ended);
    assert_eq!(h.core.live_calls(), 0);
    h.refused("bob", Op::hangup(call), 410);
    h.refused("alice", Op::hangup(call), 410);
}

#[test]
fn one_to_one_hang_up_while_connecting_ends_for_both() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("bob", Op::accept(call));
    h.clear();
    h.ok("alice", Op::hangup(call));
    assert_eq!(h.seen("alice"), ["call-1: ended, hung up by alice"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, hung up by alice"]);
}

#[test]
fn group_member_leaving_is_detached_and_the_others_go_on() {
    let mut h = H::new();
    let call = group_of_three(&mut h);
    h.ok("bob", Op::hangup(call));
    assert_eq!(h.seen("bob"), ["call-1: detached, left"]);
    assert_eq!(h.seen("alice"), ["call-1: bob left"]);
    assert_eq!(h.seen("carol"), ["call-1: bob left"]);
    assert_eq!(h.status(call), CallStatus::Connected);
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Left);
    assert_eq!(h.core.live_calls(), 1);
    // bob is free: he can be called by someone else.
    h.user("dave");
    h.call("dave", "bob", CallType::Audio);
    assert_eq!(h.seen("bob"), ["call-2: incoming Audio call from dave"]);
    // The remaining two still talk.
    h.ok(
        "alice",
        Op::Message {
            call,
            text: "hi".into(),
        },
    );
    assert_eq!(h.seen("carol"), ["call-1: message (2 B) from alice"]);
    assert!(h.seen("bob").is_empty());
    // Leaving twice is refused.
    h.refused("bob", Op::hangup(call), 422);
}

#[test]
fn the_last_but_one_leaving_ends_the_group_call() {
    let mut h = H::new();
    let call = group_of_three(&mut h);
    h.ok("alice", Op::hangup(call));
    assert_eq!(h.seen("alice"), ["call-1: detached, left"]);
    assert_eq!(h.seen("bob"), ["call-1: alice left"]);
    assert_eq!(h.seen("carol"), ["call-1: alice left"]);
    h.ok("carol", Op::hangup(call));
    assert_eq!(h.seen("carol"), ["call-1: ended, hung up by carol"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, hung up by carol"]);
    assert!(h.seen("alice").is_empty());
    assert_eq!(
        h.snapshot(call).end_reason,
        Some(EndReason::HungUp { by: "carol".into() })
    );
    assert_eq!(h.core.live_calls(), 0);
}

#[test]
fn a_group_call_ending_tells_devices_still_ringing() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("bob", Op::accept(call));
    h.clear();
    h.ok("bob", Op::hangup(call));
    assert_eq!(h.seen("bob"), ["call-1: ended, hung up by bob"]);
    assert_eq!(h.seen("alice"), ["call-1: ended, hung up by bob"]);
    assert_eq!(h.seen("carol"), ["call-1: ended, hung up by bob"]);
}
