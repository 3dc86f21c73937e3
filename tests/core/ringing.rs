//! Ringing: every device of every invitee rings; the first ringing acknowledgement tells the
//! caller once; an invitation that nobody answers times out (30 s by default).

use callconf::core::*;

use crate::harness::H;

fn two_devices(h: &mut H, name: &str) {
    h.user_with(name, &["phone", "tablet"], UserConfig::default());
}

#[test]
fn every_device_of_every_invitee_rings() {
    let mut h = H::new();
    h.user("alice");
    two_devices(&mut h, "bob");
    two_devices(&mut h, "carol");
    h.group("team", &["alice", "bob", "carol"]);
    h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Video),
    );
    for d in ["bob/phone", "bob/tablet", "carol/phone", "carol/tablet"] {
        assert_eq!(
            h.seen(d),
            ["call-1: incoming group Video call in team from alice"],
            "{d}"
        );
    }
    assert!(h.seen("alice").is_empty());
    assert!(h.quiet());
}

#[test]
fn ringing_ack_tells_the_caller_once() {
    let mut h = H::new();
    h.user("alice");
    two_devices(&mut h, "bob");
    let call = h.call("alice", "bob", CallType::Audio);
    h.clear();
    h.ok("bob/tablet", Op::ringing(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob ringing", "call-1: status ringing"]
    );
    // The acknowledging device and its sibling are not in the session: nothing for them.
    assert!(h.seen("bob/tablet").is_empty());
    assert!(h.seen("bob/phone").is_empty());
    assert_eq!(h.status(call), CallStatus::Ringing);
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Ringing);
    // A second device (or the same one) acknowledging again changes nothing.
    assert_eq!(h.ok("bob/phone", Op::ringing(call)), Reply::Done);
    assert_eq!(h.ok("bob/tablet", Op::ringing(call)), Reply::Done);
    assert!(h.quiet());
    assert_eq!(h.status(call), CallStatus::Ringing);
}

#[test]
fn second_invitee_ringing_in_a_group_tells_the_caller_without_a_status_change() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.clear();
    h.ok("bob", Op::ringing(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob ringing", "call-1: status ringing"]
    );
    h.ok("carol", Op::ringing(call));
    assert_eq!(h.seen("alice"), ["call-1: carol ringing"]);
    // Ringing devices hear nothing of each other.
    assert!(h.seen("bob").is_empty());
    assert!(h.seen("carol").is_empty());
}

#[test]
fn ringing_ack_from_the_caller_or_a_non_ringing_device_is_refused() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", Op::ringing(call), 422);
}

#[test]
fn ring_timeout_ends_an_unanswered_one_to_one_call_at_30_s() {
    let mut h = H::new();
    h.user("alice");
    two_devices(&mut h, "bob");
    let call = h.call("alice", "bob", CallType::Audio);
    h.ok("bob/phone", Op::ringing(call));
    h.clear();
    assert_eq!(h.core.poll_timeout(), Some(30_000));
    h.advance(29_999);
    assert!(h.quiet());
    assert_eq!(h.status(call), CallStatus::Ringing);
    assert_eq!(h.core.live_calls(), 1);
    h.advance(1);
    assert_eq!(h.seen("alice"), ["call-1: ended, no answer"]);
    assert_eq!(h.seen("bob/phone"), ["call-1: ended, no answer"]);
    assert_eq!(h.seen("bob/tablet"), ["call-1: ended, no answer"]);
    let snap = h.snapshot(call);
    assert_eq!(snap.status, CallStatus::Ended);
    assert_eq!(snap.end_reason, Some(EndReason::NoAnswer));
    assert_eq!(EndReason::NoAnswer.code(), 408);
    assert_eq!(snap.ended_ms, Some(30_000));
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Missed);
    assert_eq!(h.core.live_calls(), 0);
    assert_eq!(h.core.poll_timeout(), None);
    // Nothing more, ever.
    h.advance(600_000);
    assert!(h.quiet());
    // The users are free again.
    h.call("bob", "alice", CallType::Audio);
    assert_eq!(h.seen("alice"), ["call-2: incoming Audio call from bob"]);
}

#[test]
fn ring_timeout_is_configurable() {
    let mut h = H::with_limits(Limits {
        ring_timeout_ms: 5_000,
        ..Limits::default()
    });
    h.users(&["alice", "bob"]);
    h.advance(100);
    let call = h.call("alice", "bob", CallType::Video);
    h.clear();
    assert_eq!(h.core.poll_timeout(), Some(5_100));
    h.advance(4_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(h.seen("alice"), ["call-1: ended, no answer"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, no answer"]);
    assert_eq!(h.snapshot(call).ended_ms, Some(5_100));
}

#[test]
fn a_late_timer_call_fires_the_timeout_at_its_deadline_stamp() {
    // An adapter that wakes late fires the deadline at the time it is given.
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.clear();
    h.core.handle_timeout(29_000);
    assert!(h.core.poll_event().is_none());
    h.core.handle_timeout(45_000);
    let got: Vec<_> = std::iter::from_fn(|| h.core.poll_event()).collect();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|d| d.at_ms == 45_000
        && d.event
            == Event::Ended {
                call,
                reason: EndReason::NoAnswer
            }));
}

#[test]
fn in_a_group_a_missed_invitee_is_detached_and_the_call_goes_on() {
    let mut h = H::new();
    h.user("alice");
    two_devices(&mut h, "bob");
    h.user("carol");
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.advance(1_000);
    h.ok("carol", Op::accept(call));
    h.clear();
    h.advance(28_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(h.seen("bob/phone"), ["call-1: detached, missed"]);
    assert_eq!(h.seen("bob/tablet"), ["call-1: detached, missed"]);
    assert_eq!(h.seen("alice"), ["call-1: bob missed"]);
    assert_eq!(h.seen("carol"), ["call-1: bob missed"]);
    assert_eq!(h.status(call), CallStatus::Connecting);
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Missed);
    assert_eq!(h.core.live_calls(), 1);
    // The missed device can no longer answer.
    h.refused("bob/tablet", Op::accept(call), 422);
}

#[test]
fn in_a_group_where_nobody_answers_the_call_ends_with_the_last_timeout() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.clear();
    h.advance(30_000);
    // Both deadlines are due at once; they fire in invitation order.
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob missed", "call-1: ended, no answer"]
    );
    assert_eq!(h.seen("bob"), ["call-1: detached, missed"]);
    assert_eq!(h.seen("carol"), ["call-1: ended, no answer"]);
    assert_eq!(h.snapshot(call).end_reason, Some(EndReason::NoAnswer));
}
