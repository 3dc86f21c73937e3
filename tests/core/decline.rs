//! Decline: a 1:1 decline ends the call with the SIP code given (603 by default, any 3xx–6xx);
//! in a group the decliner is out and the call goes on until every invitee declined.

use callconf::core::*;

use crate::harness::H;

#[test]
fn one_to_one_decline_ends_the_call_for_everyone() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("bob/phone", Op::ringing(call));
    h.clear();
    assert_eq!(h.ok("bob/tablet", Op::decline(call, None)), Reply::Done);
    assert_eq!(h.seen("alice"), ["call-1: ended, declined by bob (603)"]);
    assert_eq!(
        h.seen("bob/tablet"),
        ["call-1: ended, declined by bob (603)"]
    );
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: ended, declined by bob (603)"]
    );
    let snap = h.snapshot(call);
    let reason = EndReason::Declined {
        by: "bob".into(),
        code: 603,
    };
    assert_eq!(snap.end_reason, Some(reason.clone()));
    assert_eq!(reason.code(), 603);
    assert_eq!(
        h.member_state(call, "bob"),
        ParticipantState::Declined { code: 603 }
    );
    assert_eq!(h.core.live_calls(), 0);
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn decline_takes_any_sip_code_from_300_to_699() {
    for code in [300, 486, 603, 699] {
        let mut h = H::new();
        h.users(&["alice", "bob"]);
        let call = h.call("alice", "bob", CallType::Audio);
        h.clear();
        h.ok("bob", Op::decline(call, Some(code)));
        let line = format!("call-1: ended, declined by bob ({code})");
        assert_eq!(h.seen("alice"), std::slice::from_ref(&line));
        assert_eq!(h.seen("bob"), [line]);
        assert_eq!(
            h.snapshot(call).end_reason,
            Some(EndReason::Declined {
                by: "bob".into(),
                code
            })
        );
    }
}

#[test]
fn decline_with_a_code_outside_300_to_699_is_400() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    for code in [0, 99, 200, 299, 700, 999] {
        let err = h.refused("bob", Op::decline(call, Some(code)), 400);
        assert!(
            matches!(err, CallError::BadArgument { field: "code", .. }),
            "{code}: {err:?}"
        );
    }
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Invited);
}

#[test]
fn the_caller_cannot_decline_its_own_call() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", Op::decline(call, None), 422);
}

#[test]
fn group_decline_detaches_that_invitee_and_the_call_goes_on() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.user("carol");
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.clear();
    h.ok("bob/tablet", Op::decline(call, Some(486)));
    assert_eq!(h.seen("bob/tablet"), ["call-1: detached, declined here"]);
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: detached, declined on another device"]
    );
    assert_eq!(h.seen("alice"), ["call-1: bob declined (486)"]);
    assert!(h.seen("carol").is_empty());
    assert_eq!(h.status(call), CallStatus::Calling);
    assert_eq!(
        h.member_state(call, "bob"),
        ParticipantState::Declined { code: 486 }
    );
    assert_eq!(h.core.live_calls(), 1);
    // carol answers; bob's devices hear nothing of it.
    h.ok("carol", Op::accept(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: carol joined", "call-1: status connecting"]
    );
    assert!(h.seen("bob/phone").is_empty());
    assert!(h.seen("bob/tablet").is_empty());
}

#[test]
fn group_call_ends_declined_when_every_invitee_declines() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("carol", Op::ringing(call));
    h.clear();
    h.ok("bob", Op::decline(call, None));
    assert_eq!(h.seen("bob"), ["call-1: detached, declined here"]);
    assert_eq!(h.seen("alice"), ["call-1: bob declined (603)"]);
    h.ok("carol", Op::decline(call, Some(480)));
    assert_eq!(h.seen("carol"), ["call-1: ended, declined by carol (480)"]);
    assert_eq!(h.seen("alice"), ["call-1: ended, declined by carol (480)"]);
    assert!(h.seen("bob").is_empty());
    assert_eq!(
        h.snapshot(call).end_reason,
        Some(EndReason::Declined {
            by: "carol".into(),
            code: 480
        })
    );
    assert_eq!(h.core.live_calls(), 0);
}

#[test]
fn group_decline_after_someone_answered_never_ends_the_call() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("carol", Op::accept(call));
    h.clear();
    h.ok("bob", Op::decline(call, None));
    assert_eq!(h.seen("bob"), ["call-1: detached, declined here"]);
    assert_eq!(h.seen("alice"), ["call-1: bob declined (603)"]);
    assert_eq!(h.seen("carol"), ["call-1: bob declined (603)"]);
    assert_eq!(h.status(call), CallStatus::Connecting);
}

#[test]
fn a_ringing_invitee_hanging_up_declines_with_603() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.clear();
    h.ok("bob", Op::hangup(call));
    assert_eq!(h.seen("alice"), ["call-1: ended, declined by bob (603)"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, declined by bob (603)"]);
}
