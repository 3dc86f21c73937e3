//! The relay of media negotiation (SDP offers and answers, ICE candidates) between the session
//! devices of joined members: to one user or to every other joined member, never to ringing
//! devices.

use callconf::core::*;

use crate::harness::H;

fn signal(call: CallId, to: Option<&str>, kind: SignalKind, body: &str) -> Op {
    Op::Signal {
        call,
        to: to.map(UserId::new),
        kind,
        body: body.into(),
    }
}

/// alice calls bob (two devices) and carol; bob accepts on his tablet; carol still rings.
fn setup() -> (H, CallId) {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.users(&["carol", "dave"]);
    h.group("team", &["alice", "bob", "carol", "dave"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Video),
    );
    h.ok("bob/tablet", Op::accept(call));
    h.clear();
    (h, call)
}

#[test]
fn signals_are_relayed_to_one_joined_member() {
    let (mut h, call) = setup();
    assert_eq!(
        h.ok(
            "alice",
            signal(call, Some("bob"), SignalKind::Offer, "v=0 offer")
        ),
        Reply::Done
    );
    assert_eq!(
        h.events("bob/tablet"),
        [Event::Signal {
            call,
            from: "alice".into(),
            from_device: h.dev("alice"),
            kind: SignalKind::Offer,
            body: "v=0 offer".into()
        }]
    );
    assert!(h.seen("alice").is_empty());
    assert!(h.seen("bob/phone").is_empty());
    assert!(h.seen("carol").is_empty());
    h.ok(
        "bob/tablet",
        signal(call, Some("alice"), SignalKind::Answer, "v=0 answer"),
    );
    assert_eq!(
        h.events("alice"),
        [Event::Signal {
            call,
            from: "bob".into(),
            from_device: h.dev("bob/tablet"),
            kind: SignalKind::Answer,
            body: "v=0 answer".into()
        }]
    );
    assert!(h.quiet());
}

#[test]
fn broadcast_signals_reach_every_other_joined_member_only() {
    let (mut h, call) = setup();
    h.ok(
        "bob/tablet",
        signal(call, None, SignalKind::Candidate, "c1"),
    );
    assert_eq!(h.seen("alice"), ["call-1: Candidate from bob"]);
    assert!(h.seen("carol").is_empty());
    assert!(h.seen("bob/tablet").is_empty());
    h.ok("carol", Op::accept(call));
    h.clear();
    h.ok("alice", signal(call, None, SignalKind::Candidate, "c2"));
    assert_eq!(h.seen("bob/tablet"), ["call-1: Candidate from alice"]);
    assert_eq!(h.seen("carol"), ["call-1: Candidate from alice"]);
    assert!(h.seen("alice").is_empty());
    assert!(h.seen("bob/phone").is_empty());
    assert!(h.seen("dave").is_empty());
}

#[test]
fn signals_to_or_from_a_member_not_in_the_session_are_422() {
    let (mut h, call) = setup();
    // To a ringing invitee.
    let err = h.refused(
        "alice",
        signal(call, Some("carol"), SignalKind::Offer, "o"),
        422,
    );
    assert!(
        matches!(err, CallError::InvalidState { op: "signal", .. }),
        "{err:?}"
    );
    // From a ringing invitee.
    h.refused(
        "carol",
        signal(call, Some("alice"), SignalKind::Offer, "o"),
        422,
    );
    h.refused("carol", signal(call, None, SignalKind::Candidate, "c"), 422);
    // To oneself, and to a user who is not a member.
    h.refused(
        "alice",
        signal(call, Some("alice"), SignalKind::Offer, "o"),
        422,
    );
    h.refused(
        "alice",
        signal(call, Some("dave"), SignalKind::Offer, "o"),
        422,
    );
    // From the other device of a joined member.
    h.refused("bob/phone", signal(call, None, SignalKind::Offer, "o"), 409);
    // To a member who left.
    h.ok("carol", Op::accept(call));
    h.ok("carol", Op::hangup(call));
    h.clear();
    h.refused(
        "alice",
        signal(call, Some("carol"), SignalKind::Offer, "o"),
        422,
    );
    h.refused("carol", signal(call, None, SignalKind::Offer, "o"), 422);
}

#[test]
fn the_caller_cannot_signal_before_anyone_answered() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", signal(call, None, SignalKind::Offer, "o"), 422);
    h.refused(
        "alice",
        signal(call, Some("bob"), SignalKind::Offer, "o"),
        422,
    );
    h.refused(
        "bob",
        signal(call, Some("alice"), SignalKind::Offer, "o"),
        422,
    );
}

#[test]
fn a_signal_body_over_the_limit_is_413() {
    let (mut h, call) = setup();
    let max = h.core.limits().signal_bytes_max;
    h.ok(
        "alice",
        signal(call, Some("bob"), SignalKind::Offer, &"s".repeat(max)),
    );
    assert_eq!(h.events("bob/tablet").len(), 1);
    let err = h.refused(
        "alice",
        signal(call, Some("bob"), SignalKind::Offer, &"s".repeat(max + 1)),
        413,
    );
    assert_eq!(
        err,
        CallError::TooLarge {
            field: "body",
            len: max + 1,
            max
        }
    );
}
