//! End for everyone (Stream `endCall`): the host, or a member holding the end-call permission,
//! ends the call for every attached device, ringing ones included.

use callconf::core::*;

use crate::harness::H;

/// alice (host) with bob joined and carol (two devices) still ringing; dave is not a member.
fn setup(bob: UserConfig) -> (H, CallId) {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone"], bob);
    h.user_with("carol", &["phone", "tablet"], UserConfig::default());
    h.user_with(
        "dave",
        &["phone"],
        UserConfig {
            end_call_permission: true,
            ..UserConfig::default()
        },
    );
    h.group("team", &["alice", "bob", "carol", "dave"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("bob", Op::accept(call));
    h.clear();
    (h, call)
}

#[test]
fn the_host_ends_the_call_for_everyone_including_ringing_invitees() {
    let (mut h, call) = setup(UserConfig::default());
    assert_eq!(h.ok("alice", Op::EndForAll { call }), Reply::Done);
    let line = "call-1: ended, ended for everyone by alice";
    for d in ["alice", "bob", "carol/phone", "carol/tablet"] {
        assert_eq!(h.seen(d), [line], "{d}");
    }
    assert!(h.seen("dave").is_empty());
    let reason = EndReason::EndedForEveryone { by: "alice".into() };
    assert_eq!(h.snapshot(call).end_reason, Some(reason.clone()));
    assert_eq!(reason.code(), 200);
    assert_eq!(h.core.live_calls(), 0);
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn the_host_may_end_for_everyone_before_anyone_answered() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.clear();
    h.ok("alice", Op::EndForAll { call });
    assert_eq!(
        h.seen("alice"),
        ["call-1: ended, ended for everyone by alice"]
    );
    assert_eq!(
        h.seen("bob"),
        ["call-1: ended, ended for everyone by alice"]
    );
}

#[test]
fn a_member_holding_the_permission_can_end_for_everyone() {
    let permitted = UserConfig {
        end_call_permission: true,
        ..UserConfig::default()
    };
    let (mut h, call) = setup(permitted);
    h.ok("bob", Op::EndForAll { call });
    let line = "call-1: ended, ended for everyone by bob";
    for d in ["alice", "bob", "carol/phone", "carol/tablet"] {
        assert_eq!(h.seen(d), [line], "{d}");
    }
    assert_eq!(
        h.snapshot(call).end_reason,
        Some(EndReason::EndedForEveryone { by: "bob".into() })
    );
}

#[test]
fn a_member_without_the_permission_is_403() {
    let (mut h, call) = setup(UserConfig::default());
    let err = h.refused("bob", Op::EndForAll { call }, 403);
    assert_eq!(err, CallError::Forbidden(Forbidden::EndCallPermission));
    // A ringing invitee without it too.
    h.refused("carol/tablet", Op::EndForAll { call }, 403);
    assert_eq!(h.status(call), CallStatus::Connecting);
}

#[test]
fn a_non_member_is_403_even_with_the_permission() {
    let (mut h, call) = setup(UserConfig::default());
    let err = h.refused("dave", Op::EndForAll { call }, 403);
    assert_eq!(err, CallError::Forbidden(Forbidden::NotMember));
}

#[test]
fn the_host_after_leaving_can_no_longer_end_for_everyone() {
    let (mut h, call) = setup(UserConfig::default());
    h.ok("carol", Op::accept(call));
    h.ok("alice", Op::hangup(call));
    h.clear();
    h.refused("alice", Op::EndForAll { call }, 422);
    assert_eq!(h.core.live_calls(), 1);
}
