//! Cancel: the caller withdraws the call until the first accept (CometChat `rejectCall(CANCELLED)`,
//! Stream `leave({reject, reason:'cancel'})`); every ringing device is told.

use callconf::core::*;

use crate::harness::H;

fn setup() -> (H, CallId) {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.user("carol");
    let call = h.call("alice", "bob", CallType::Audio);
    (h, call)
}

#[test]
fn caller_cancels_with_cancel_before_the_first_accept() {
    let (mut h, call) = setup();
    h.ok("bob/phone", Op::ringing(call));
    h.clear();
    assert_eq!(h.ok("alice", Op::Cancel { call }), Reply::Done);
    assert_eq!(h.seen("alice"), ["call-1: ended, cancelled by alice"]);
    assert_eq!(h.seen("bob/phone"), ["call-1: ended, cancelled by alice"]);
    assert_eq!(h.seen("bob/tablet"), ["call-1: ended, cancelled by alice"]);
    let reason = EndReason::Cancelled { by: "alice".into() };
    assert_eq!(h.snapshot(call).end_reason, Some(reason.clone()));
    assert_eq!(reason.code(), 487);
    assert_eq!(h.core.live_calls(), 0);
    assert_eq!(h.core.poll_timeout(), None);
    h.advance(60_000);
    assert!(h.quiet());
}

#[test]
fn caller_hanging_up_before_the_first_accept_cancels() {
    let (mut h, call) = setup();
    h.clear();
    h.ok("alice", Op::hangup(call));
    assert_eq!(h.seen("alice"), ["call-1: ended, cancelled by alice"]);
    assert_eq!(h.seen("bob/phone"), ["call-1: ended, cancelled by alice"]);
    assert_eq!(h.seen("bob/tablet"), ["call-1: ended, cancelled by alice"]);
    assert_eq!(
        h.snapshot(call).end_reason,
        Some(EndReason::Cancelled { by: "alice".into() })
    );
}

#[test]
fn group_cancel_reaches_every_device_still_ringing() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.users(&["carol", "dave"]);
    h.group("team", &["alice", "bob", "carol", "dave"]);
    let call = h.place(
        "alice",
        PlaceCall::group(
            "team",
            vec!["bob".into(), "carol".into(), "dave".into()],
            CallType::Video,
        ),
    );
    h.ok("dave", Op::decline(call, None));
    h.clear();
    h.ok("alice", Op::Cancel { call });
    let line = "call-1: ended, cancelled by alice";
    assert_eq!(h.seen("alice"), [line]);
    assert_eq!(h.seen("bob/phone"), [line]);
    assert_eq!(h.seen("bob/tablet"), [line]);
    assert_eq!(h.seen("carol"), [line]);
    // dave was already detached.
    assert!(h.seen("dave").is_empty());
}

#[test]
fn cancel_after_the_first_accept_is_422() {
    let (mut h, call) = setup();
    h.ok("bob/tablet", Op::accept(call));
    let err = h.refused("alice", Op::Cancel { call }, 422);
    assert!(
        matches!(err, CallError::InvalidState { op: "cancel", .. }),
        "{err:?}"
    );
    // The same in a group call once one invitee accepted.
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("bob", Op::accept(call));
    h.refused("alice", Op::Cancel { call }, 422);
}

#[test]
fn cancel_by_a_member_who_is_not_the_caller_is_403() {
    let (mut h, call) = setup();
    let err = h.refused("bob/phone", Op::Cancel { call }, 403);
    assert_eq!(err, CallError::Forbidden(Forbidden::NotCaller));
    h.ok("bob/phone", Op::accept(call));
    h.refused("bob/phone", Op::Cancel { call }, 403);
    // A non-member is not a member first.
    let err = h.refused("carol", Op::Cancel { call }, 403);
    assert_eq!(err, CallError::Forbidden(Forbidden::NotMember));
}

#[test]
fn cancel_from_another_device_of_the_caller_is_refused() {
    let mut h = H::new();
    h.user_with("alice", &["phone", "laptop"], UserConfig::default());
    h.user("bob");
    let call = h.call("alice/phone", "bob", CallType::Audio);
    h.refused("alice/laptop", Op::Cancel { call }, 409);
    h.refused("alice/laptop", Op::hangup(call), 409);
    // The placing device still can.
    h.ok("alice/phone", Op::Cancel { call });
    assert_eq!(h.seen("bob"), ["call-1: ended, cancelled by alice"]);
    assert!(h.seen("alice/laptop").is_empty());
}

#[test]
fn cancel_after_the_end_is_410() {
    let (mut h, call) = setup();
    h.ok("alice", Op::Cancel { call });
    h.refused("alice", Op::Cancel { call }, 410);
}
