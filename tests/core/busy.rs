//! Busy: a user in a call is not rung for another (486) unless call waiting is on; a caller in a
//! call cannot place another; accepting a second call while in one is refused.

use callconf::core::*;

use crate::harness::H;

fn waiting() -> UserConfig {
    UserConfig {
        call_waiting: true,
        ..UserConfig::default()
    }
}

#[test]
fn one_to_one_call_to_a_user_in_a_connected_call_is_486_and_nothing_rings() {
    let mut h = H::new();
    h.users(&["alice", "carol"]);
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let first = h.connected("carol", "bob", CallType::Audio);
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::direct("bob", CallType::Audio)),
        486,
    );
    assert_eq!(err, CallError::Busy("bob".into()));
    assert!(h.seen("bob/tablet").is_empty());
    assert_eq!(h.status(first), CallStatus::Connected);
    assert_eq!(h.core.live_calls(), 1);
}

#[test]
fn a_user_still_connecting_is_busy_too() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let first = h.call("carol", "bob", CallType::Audio);
    h.ok("bob", Op::accept(first));
    h.refused(
        "alice",
        Op::Place(PlaceCall::direct("bob", CallType::Audio)),
        486,
    );
    // The caller of an unanswered call is busy as well.
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.call("carol", "bob", CallType::Audio);
    h.refused(
        "alice",
        Op::Place(PlaceCall::direct("carol", CallType::Audio)),
        486,
    );
}

#[test]
fn a_ringing_user_is_not_busy() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.call("carol", "bob", CallType::Audio);
    h.call("alice", "bob", CallType::Video);
    assert_eq!(
        h.seen("bob"),
        [
            "call-1: incoming Audio call from carol",
            "call-2: incoming Video call from alice"
        ]
    );
}

#[test]
fn with_call_waiting_the_second_call_rings() {
    let mut h = H::new();
    h.users(&["alice", "carol"]);
    h.user_with("bob", &["phone", "tablet"], waiting());
    let first = h.connected("carol", "bob", CallType::Audio);
    let second = h.call("alice", "bob", CallType::Audio);
    // bob's session device and his idle tablet both ring for the second call.
    assert_eq!(h.seen("bob"), ["call-2: incoming Audio call from alice"]);
    assert_eq!(
        h.seen("bob/tablet"),
        ["call-2: incoming Audio call from alice"]
    );
    assert!(h.seen("carol").is_empty());
    // bob may accept it and be in both calls.
    h.ok("bob/tablet", Op::accept(second));
    assert_eq!(
        h.seen("alice"),
        ["call-2: bob joined", "call-2: status connecting"]
    );
    assert_eq!(
        h.seen("bob"),
        ["call-2: detached, answered on another device"]
    );
    assert_eq!(h.status(first), CallStatus::Connected);
    assert_eq!(h.status(second), CallStatus::Connecting);
}

#[test]
fn a_caller_in_a_call_placing_another_is_486() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.connected("carol", "bob", CallType::Audio);
    let err = h.refused(
        "bob",
        Op::Place(PlaceCall::direct("alice", CallType::Audio)),
        486,
    );
    assert_eq!(err, CallError::Busy("bob".into()));
    assert!(h.seen("alice").is_empty());
    // With call waiting the caller may place a second call.
    h.core.set_user_config(&"bob".into(), waiting()).unwrap();
    h.call("bob", "alice", CallType::Audio);
    assert_eq!(h.seen("alice"), ["call-2: incoming Audio call from bob"]);
}

#[test]
fn accepting_a_second_call_while_in_one_is_486() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let first = h.call("alice", "bob", CallType::Audio);
    let second = h.call("carol", "bob", CallType::Audio);
    h.ok("bob", Op::accept(first));
    h.clear();
    let err = h.refused("bob", Op::accept(second), 486);
    assert_eq!(err, CallError::Busy("bob".into()));
    // The second call still rings; bob may decline it.
    assert_eq!(h.member_state(second, "bob"), ParticipantState::Invited);
    h.ok("bob", Op::decline(second, Some(486)));
    assert_eq!(h.seen("carol"), ["call-2: ended, declined by bob (486)"]);
    assert_eq!(h.seen("bob"), ["call-2: ended, declined by bob (486)"]);
    assert!(h.seen("alice").is_empty());
    // Once the first call is over, a new call can be accepted.
    h.ok("alice", Op::hangup(first));
    h.clear();
    let third = h.call("carol", "bob", CallType::Audio);
    h.ok("bob", Op::accept(third));
    assert_eq!(
        h.seen("carol"),
        ["call-3: bob joined", "call-3: status connecting"]
    );
}

#[test]
fn after_the_call_ends_the_user_can_be_called_again() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let first = h.connected("carol", "bob", CallType::Audio);
    h.refused(
        "alice",
        Op::Place(PlaceCall::direct("bob", CallType::Audio)),
        486,
    );
    h.ok("carol", Op::hangup(first));
    h.clear();
    h.call("alice", "bob", CallType::Audio);
    assert_eq!(h.seen("bob"), ["call-2: incoming Audio call from alice"]);
}

#[test]
fn call_waiting_stops_at_the_per_user_call_limit() {
    let mut h = H::with_limits(Limits {
        calls_per_user_max: 2,
        ..Limits::default()
    });
    h.users(&["alice", "carol", "dave", "erin"]);
    h.user_with("bob", &["phone"], waiting());
    h.group("team", &["alice", "bob", "carol", "dave", "erin"]);
    let first = h.connected("alice", "bob", CallType::Audio);
    let second = h.call("carol", "bob", CallType::Audio);
    h.clear();
    // bob is attached to two calls: a third does not ring him.
    let err = h.refused(
        "dave",
        Op::Place(PlaceCall::direct("bob", CallType::Audio)),
        486,
    );
    assert_eq!(err, CallError::Busy("bob".into()));
    // Nor does a group call, an invitation or a notification.
    let reply = h.ok(
        "dave",
        Op::Place(PlaceCall::group(
            "team",
            vec!["bob".into(), "erin".into()],
            CallType::Audio,
        )),
    );
    assert_eq!(
        reply,
        Reply::Placed {
            call: CallId(3),
            busy: vec!["bob".into()],
            unavailable: vec![],
        }
    );
    assert!(h.seen("bob").is_empty());
    h.ok("dave", Op::hangup(CallId(3)));
    let reply = h.ok(
        "dave",
        Op::Place(PlaceCall {
            alert: Alert::Notify,
            ..PlaceCall::group("team", vec!["bob".into(), "erin".into()], CallType::Audio)
        }),
    );
    assert_eq!(
        reply,
        Reply::Placed {
            call: CallId(4),
            busy: vec!["bob".into()],
            unavailable: vec![],
        }
    );
    assert!(h.seen("bob").is_empty());
    // bob himself cannot place a third.
    h.refused(
        "bob",
        Op::Place(PlaceCall::direct("erin", CallType::Audio)),
        486,
    );
    // Once one call is over he can be rung again.
    h.ok("carol", Op::Cancel { call: second });
    h.clear();
    h.call("erin", "bob", CallType::Audio);
    assert_eq!(h.seen("bob"), ["call-5: incoming Audio call from erin"]);
    assert_eq!(h.status(first), CallStatus::Connected);
}

#[test]
fn joining_beyond_the_per_user_call_limit_is_503() {
    let mut h = H::with_limits(Limits {
        calls_per_user_max: 1,
        ..Limits::default()
    });
    h.users(&["alice", "carol", "dave"]);
    h.user_with("bob", &["phone"], waiting());
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("carol", Op::accept(call));
    h.ok("bob", Op::decline(call, None));
    // bob takes another call, then tries to come back to the group call.
    h.call("dave", "bob", CallType::Audio);
    let err = h.refused("bob", Op::Join { call }, 503);
    assert_eq!(err, CallError::Capacity("calls_per_user_max"));
}

#[test]
fn live_calls_are_bounded_with_503() {
    let mut h = H::with_limits(Limits {
        live_calls_max: 1,
        ..Limits::default()
    });
    h.users(&["alice", "bob", "carol", "dave"]);
    let first = h.call("alice", "bob", CallType::Audio);
    let err = h.refused(
        "carol",
        Op::Place(PlaceCall::direct("dave", CallType::Audio)),
        503,
    );
    assert_eq!(err, CallError::Capacity("live_calls_max"));
    assert!(h.seen("dave").is_empty());
    h.ok("alice", Op::Cancel { call: first });
    h.call("carol", "dave", CallType::Audio);
    assert_eq!(h.seen("dave"), ["call-2: incoming Audio call from carol"]);
}
