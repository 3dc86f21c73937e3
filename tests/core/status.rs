//! The call status (MirrorFly calling → ringing → connecting → connected; Voximplant `state()`)
//! as the call-state query returns it, and exactly one end reason.

use callconf::core::*;

use crate::harness::H;

fn get(h: &mut H, device: &str, call: CallId) -> CallSnapshot {
    match h.ok(device, Op::GetCall { call }) {
        Reply::Call(snap) => snap,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn status_moves_calling_ringing_connecting_connected_ended() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    h.advance(100);
    let call = h.call("alice", "bob", CallType::Video);
    h.clear();
    let s = get(&mut h, "alice", call);
    assert_eq!(s.status, CallStatus::Calling);
    assert_eq!(s.end_reason, None);
    assert_eq!(s.ended_ms, None);
    assert_eq!(s.created_ms, 100);
    assert_eq!(s.call_type, CallType::Video);
    assert_eq!(s.group, None);
    assert_eq!(s.caller, UserId::new("alice"));
    assert_eq!(
        get(&mut h, "bob", call),
        s,
        "every member sees the same state"
    );
    assert!(h.quiet(), "a query sends no event");

    h.ok("bob", Op::ringing(call));
    assert_eq!(get(&mut h, "bob", call).status, CallStatus::Ringing);
    h.ok("bob", Op::accept(call));
    let s = get(&mut h, "alice", call);
    assert_eq!(s.status, CallStatus::Connecting);
    assert_eq!(
        s.members
            .iter()
            .map(|m| (m.user.as_str().to_owned(), m.state.clone(), m.device))
            .collect::<Vec<_>>(),
        [
            (
                "alice".to_owned(),
                ParticipantState::Joined,
                Some(h.dev("alice"))
            ),
            (
                "bob".to_owned(),
                ParticipantState::Joined,
                Some(h.dev("bob"))
            )
        ]
    );
    h.ok("alice", Op::StartSession { call });
    assert_eq!(get(&mut h, "alice", call).status, CallStatus::Connecting);
    h.ok("bob", Op::StartSession { call });
    assert_eq!(get(&mut h, "bob", call).status, CallStatus::Connected);
    assert_eq!(
        h.seen("alice"),
        [
            "call-1: bob ringing",
            "call-1: status ringing",
            "call-1: bob joined",
            "call-1: status connecting",
            "call-1: status connected"
        ]
    );
    assert_eq!(
        h.seen("bob"),
        ["call-1: status connecting", "call-1: status connected"]
    );
    h.advance(900);
    h.ok("alice", Op::hangup(call));
    let end = h.snapshot(call);
    assert_eq!(end.status, CallStatus::Ended);
    assert_eq!(
        end.end_reason,
        Some(EndReason::HungUp { by: "alice".into() })
    );
    assert_eq!(end.ended_ms, Some(1_000));
    // After the end, members are told 410.
    assert_eq!(
        h.refused("alice", Op::GetCall { call }, 410),
        CallError::CallEnded
    );
    h.refused("bob", Op::GetCall { call }, 410);
    // Exactly one end reason: later requests do not change it.
    h.refused("bob", Op::hangup(call), 410);
    h.refused("alice", Op::EndForAll { call }, 410);
    assert_eq!(h.snapshot(call), end);
}

#[test]
fn status_may_skip_steps_but_never_goes_back() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.clear();
    // Accepting without a ringing acknowledgement skips `ringing`.
    h.ok("bob", Op::accept(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob joined", "call-1: status connecting"]
    );
    assert_eq!(h.seen("bob"), ["call-1: status connecting"]);
    assert!(h.seen("carol").is_empty());
    // A later ringing acknowledgement does not move the status back.
    h.ok("carol", Op::ringing(call));
    assert_eq!(h.seen("alice"), ["call-1: carol ringing"]);
    assert_eq!(h.seen("bob"), ["call-1: carol ringing"]);
    assert_eq!(h.status(call), CallStatus::Connecting);
    // Two sessions make it connected; a third joining later changes nothing.
    h.ok("alice", Op::StartSession { call });
    h.ok("bob", Op::StartSession { call });
    h.clear();
    h.ok("carol", Op::accept(call));
    h.ok("carol", Op::StartSession { call });
    assert_eq!(h.seen("alice"), ["call-1: carol joined"]);
    assert_eq!(h.seen("bob"), ["call-1: carol joined"]);
    assert!(h.seen("carol").is_empty());
    assert_eq!(h.status(call), CallStatus::Connected);
    // Starting the session twice is refused.
    h.refused("carol", Op::StartSession { call }, 422);
}

#[test]
fn a_call_cancelled_while_calling_goes_straight_to_ended() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("alice", Op::Cancel { call });
    let s = h.snapshot(call);
    assert_eq!(s.status, CallStatus::Ended);
    assert_eq!(
        s.end_reason,
        Some(EndReason::Cancelled { by: "alice".into() })
    );
    assert!(h.seen("alice").iter().all(|l| !l.contains("status")));
}

#[test]
fn start_session_needs_a_joined_member() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", Op::StartSession { call }, 422);
    h.refused("bob", Op::StartSession { call }, 422);
}

#[test]
fn ended_calls_are_forgotten_beyond_the_memory_bound() {
    let mut h = H::with_limits(Limits {
        ended_calls_kept_max: 2,
        ..Limits::default()
    });
    h.users(&["alice", "bob"]);
    let first = h.call("alice", "bob", CallType::Audio);
    h.ok("alice", Op::Cancel { call: first });
    for _ in 0..2 {
        let c = h.call("alice", "bob", CallType::Audio);
        h.ok("alice", Op::Cancel { call: c });
    }
    assert!(h.core.call_snapshot(first).is_none());
    h.clear();
    let err = h.op("alice", Op::GetCall { call: first }).unwrap_err();
    assert_eq!(err.code(), 404);
    assert_eq!(
        h.op("alice", Op::GetCall { call: CallId(2) })
            .unwrap_err()
            .code(),
        410
    );
}

#[test]
fn with_no_memory_of_ended_calls_an_ended_call_is_unknown() {
    let mut h = H::with_limits(Limits {
        ended_calls_kept_max: 0,
        ..Limits::default()
    });
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("alice", Op::Cancel { call });
    assert_eq!(
        h.seen("bob"),
        [
            "call-1: incoming Audio call from alice",
            "call-1: ended, cancelled by alice"
        ]
    );
    assert!(h.core.call_snapshot(call).is_none());
    assert_eq!(h.op("bob", Op::GetCall { call }).unwrap_err().code(), 404);
    assert_eq!(h.core.live_calls(), 0);
}
