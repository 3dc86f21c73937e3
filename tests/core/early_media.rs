//! Early media (Voximplant `startEarlyMedia`): an invitee plays media before answering; the
//! invitation then lasts at most the early-media limit (60 s) instead of the ring timeout.

use callconf::core::*;

use crate::harness::H;

#[test]
fn early_media_is_told_to_the_caller() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = h.call("alice", "bob", CallType::Audio);
    h.clear();
    assert_eq!(h.ok("bob/tablet", Op::early_media(call)), Reply::Done);
    assert_eq!(
        h.events("alice"),
        [Event::EarlyMedia {
            call,
            from: "bob".into()
        }]
    );
    assert!(h.seen("bob/tablet").is_empty());
    assert!(h.seen("bob/phone").is_empty());
    // The invitation is still pending; bob can answer as usual.
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Invited);
    h.ok("bob/tablet", Op::accept(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob joined", "call-1: status connecting"]
    );
}

#[test]
fn an_invitation_in_early_media_ends_at_60_s_not_at_the_ring_timeout() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("bob", Op::early_media(call));
    h.clear();
    assert_eq!(h.core.poll_timeout(), Some(60_000));
    h.advance(30_000);
    assert!(h.quiet(), "the ring timeout no longer applies");
    assert_eq!(h.core.live_calls(), 1);
    h.advance(29_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(h.seen("alice"), ["call-1: ended, no answer"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, no answer"]);
    assert_eq!(h.snapshot(call).ended_ms, Some(60_000));
    assert_eq!(h.snapshot(call).end_reason, Some(EndReason::NoAnswer));
}

#[test]
fn the_early_media_limit_counts_from_its_start() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.advance(10_000);
    h.ok("bob", Op::early_media(call));
    h.clear();
    h.advance(59_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(h.seen("alice"), ["call-1: ended, no answer"]);
    assert_eq!(h.snapshot(call).ended_ms, Some(70_000));
}

#[test]
fn with_a_longer_ring_timeout_early_media_still_ends_at_60_s() {
    let mut h = H::with_limits(Limits {
        ring_timeout_ms: 120_000,
        ..Limits::default()
    });
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("bob", Op::early_media(call));
    h.clear();
    h.advance(59_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(h.seen("alice"), ["call-1: ended, no answer"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, no answer"]);
    assert_eq!(h.snapshot(call).ended_ms, Some(60_000));
    // The stale ring deadline at 120 s fires nothing.
    h.advance(120_000);
    assert!(h.quiet());
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn the_early_media_limit_is_configurable() {
    let mut h = H::with_limits(Limits {
        early_media_ms_max: 10_000,
        ..Limits::default()
    });
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Video);
    h.ok("bob", Op::early_media(call));
    h.clear();
    h.advance(9_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(h.seen("alice"), ["call-1: ended, no answer"]);
}

#[test]
fn early_media_twice_is_422() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("bob", Op::early_media(call));
    let err = h.refused("bob", Op::early_media(call), 422);
    assert!(
        matches!(
            err,
            CallError::InvalidState {
                op: "early_media",
                ..
            }
        ),
        "{err:?}"
    );
    h.refused("bob/tablet", Op::early_media(call), 422);
    assert_eq!(h.core.poll_timeout(), Some(60_000));
}

#[test]
fn early_media_from_the_caller_or_after_answering_is_422() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", Op::early_media(call), 422);
    h.ok("bob", Op::accept(call));
    h.refused("bob", Op::early_media(call), 422);
}

#[test]
fn in_a_group_early_media_reaches_the_whole_session() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("bob", Op::accept(call));
    h.clear();
    h.ok("carol", Op::early_media(call));
    assert_eq!(h.seen("alice"), ["call-1: early media from carol"]);
    assert_eq!(h.seen("bob"), ["call-1: early media from carol"]);
    assert!(h.seen("carol").is_empty());
    h.advance(60_000);
    assert_eq!(h.seen("carol"), ["call-1: detached, missed"]);
    assert_eq!(h.seen("alice"), ["call-1: carol missed"]);
}
