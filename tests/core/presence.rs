//! Device presence: offline devices do not ring, a device that connects while its user is being
//! rung starts ringing, a session device that drops leaves the session, and a disconnected
//! device cannot act (401).

use callconf::core::*;

use crate::harness::H;

#[test]
fn an_offline_device_does_not_ring_and_rings_when_it_connects() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.disconnect("bob/tablet");
    let call = h.call("alice", "bob", CallType::Video);
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: incoming Video call from alice"]
    );
    assert!(h.seen("bob/tablet").is_empty());
    h.ok("bob/phone", Op::ringing(call));
    h.clear();
    h.advance(5_000);
    h.connect("bob/tablet");
    let events = h.events("bob/tablet");
    match events.as_slice() {
        [Event::Incoming { info }] => {
            assert_eq!(info.call, call);
            assert_eq!(info.status, CallStatus::Ringing, "the payload is current");
            assert_eq!(info.created_ms, 0);
            assert_eq!(info.transferred_by, None);
        }
        other => panic!("{other:?}"),
    }
    // Nobody else is told.
    assert!(h.quiet());
    // Connecting again changes nothing.
    h.connect("bob/tablet");
    assert!(h.quiet());
    // The late device can answer; the other one is detached.
    h.ok("bob/tablet", Op::accept(call));
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: detached, answered on another device"]
    );
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob joined", "call-1: status connecting"]
    );
}

#[test]
fn a_device_connecting_after_the_answer_is_not_rung() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.disconnect("bob/tablet");
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("bob/phone", Op::accept(call));
    h.clear();
    h.connect("bob/tablet");
    assert!(h.quiet());
}

#[test]
fn a_user_unavailable_when_the_group_call_was_placed_is_not_rung_later() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    h.disconnect("carol");
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.clear();
    h.connect("carol");
    assert!(h.quiet());
    assert_eq!(h.member_state(call, "carol"), ParticipantState::Unavailable);
    // carol may still join the call herself.
    h.ok("bob", Op::accept(call));
    h.clear();
    h.ok("carol", Op::Join { call });
    assert_eq!(h.seen("alice"), ["call-1: carol joined"]);
    assert_eq!(h.seen("bob"), ["call-1: carol joined"]);
}

#[test]
fn a_ringing_device_that_drops_stops_ringing_silently() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = h.call("alice", "bob", CallType::Audio);
    h.clear();
    h.disconnect("bob/tablet");
    assert!(h.quiet());
    // It cannot answer.
    let err = h.refused("bob/tablet", Op::accept(call), 401);
    assert_eq!(err, CallError::NotConnected);
    // The call goes on; when it ends, only the device still ringing is told.
    h.ok("alice", Op::Cancel { call });
    assert_eq!(h.seen("bob/phone"), ["call-1: ended, cancelled by alice"]);
    h.connect("bob/tablet");
    assert!(h.seen("bob/tablet").is_empty());
}

#[test]
fn an_invitee_whose_every_device_dropped_still_times_out() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.disconnect("bob");
    h.clear();
    h.advance(10_000);
    // Reconnecting during the ring rings again.
    h.connect("bob");
    assert_eq!(h.seen("bob"), ["call-1: incoming Audio call from alice"]);
    h.advance(20_000);
    assert_eq!(h.seen("alice"), ["call-1: ended, no answer"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, no answer"]);
    assert_eq!(h.snapshot(call).ended_ms, Some(30_000));
}

#[test]
fn a_session_device_dropping_ends_a_one_to_one_call() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    h.advance(1_000);
    h.disconnect("bob");
    assert_eq!(h.seen("alice"), ["call-1: ended, bob disconnected"]);
    assert!(
        h.seen("bob").is_empty(),
        "an offline device is told nothing"
    );
    let reason = EndReason::Disconnected { user: "bob".into() };
    assert_eq!(h.snapshot(call).end_reason, Some(reason.clone()));
    assert_eq!(reason.code(), 480);
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Disconnected);
    assert_eq!(h.core.live_calls(), 0);
    // Back online, bob hears nothing of the old call and is free.
    h.connect("bob");
    assert!(h.quiet());
    h.call("alice", "bob", CallType::Audio);
    assert_eq!(h.seen("bob"), ["call-2: incoming Audio call from alice"]);
}

#[test]
fn the_caller_dropping_while_calling_ends_the_call() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = h.call("alice", "bob", CallType::Audio);
    h.clear();
    h.disconnect("alice");
    assert_eq!(h.seen("bob/phone"), ["call-1: ended, alice disconnected"]);
    assert_eq!(h.seen("bob/tablet"), ["call-1: ended, alice disconnected"]);
    assert!(h.seen("alice").is_empty());
    assert_eq!(
        h.snapshot(call).end_reason,
        Some(EndReason::Disconnected {
            user: "alice".into()
        })
    );
}

#[test]
fn a_group_member_dropping_leaves_and_the_others_go_on() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("bob", Op::accept(call));
    h.ok("carol", Op::accept(call));
    h.clear();
    h.disconnect("bob");
    assert_eq!(h.seen("alice"), ["call-1: bob disconnected"]);
    assert_eq!(h.seen("carol"), ["call-1: bob disconnected"]);
    assert!(h.seen("bob").is_empty());
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Disconnected);
    assert_eq!(h.core.live_calls(), 1);
    // Reconnected, bob may join again.
    h.connect("bob");
    assert!(h.quiet());
    h.ok("bob", Op::Join { call });
    assert_eq!(h.seen("alice"), ["call-1: bob joined"]);
    assert_eq!(h.seen("carol"), ["call-1: bob joined"]);
}

#[test]
fn a_non_session_device_dropping_changes_nothing() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = h.connected("alice", "bob", CallType::Audio);
    h.disconnect("bob/tablet");
    assert!(h.quiet());
    assert_eq!(h.status(call), CallStatus::Connected);
}

#[test]
fn a_disconnected_device_cannot_act() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    h.disconnect("carol");
    let err = h.refused(
        "carol",
        Op::Place(PlaceCall::direct("alice", CallType::Audio)),
        401,
    );
    assert_eq!(err, CallError::NotConnected);
    h.refused("carol", Op::GetCall { call }, 401);
    h.disconnect("bob");
    h.clear();
    for op in [
        Op::GetCall { call },
        Op::hangup(call),
        Op::Dtmf {
            call,
            digits: "1".into(),
        },
    ] {
        h.refused("bob", op, 401);
    }
    // Even with malformed arguments, 401 comes first.
    h.refused(
        "bob",
        Op::Dtmf {
            call,
            digits: "zz".into(),
        },
        401,
    );
    h.connect("bob");
    h.connect("carol");
    h.call("carol", "bob", CallType::Audio);
    assert_eq!(h.seen("bob"), ["call-2: incoming Audio call from carol"]);
}
