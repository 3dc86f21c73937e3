//! Several devices of one user: the first to accept wins, the others are detached, and late
//! answers from them fail with 409 (Stringee code 2, answeredOnAnotherDevice).

use callconf::core::*;

use crate::harness::H;

fn setup() -> (H, CallId) {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet", "laptop"], UserConfig::default());
    let call = h.call("alice", "bob", CallType::Video);
    for d in ["bob/phone", "bob/tablet", "bob/laptop"] {
        assert_eq!(h.seen(d), ["call-1: incoming Video call from alice"], "{d}");
    }
    (h, call)
}

#[test]
fn first_device_to_accept_wins_and_the_others_are_detached() {
    let (mut h, call) = setup();
    h.ok("bob/phone", Op::ringing(call));
    h.clear();
    h.ok("bob/tablet", Op::accept(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob joined", "call-1: status connecting"]
    );
    assert_eq!(h.seen("bob/tablet"), ["call-1: status connecting"]);
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: detached, answered on another device"]
    );
    assert_eq!(
        h.seen("bob/laptop"),
        ["call-1: detached, answered on another device"]
    );
    let snap = h.snapshot(call);
    assert_eq!(snap.members[1].state, ParticipantState::Joined);
    assert_eq!(snap.members[1].device, Some(h.dev("bob/tablet")));
    // The detached devices hear nothing more of the call.
    h.ok("bob/tablet", Op::StartSession { call });
    h.ok("alice", Op::StartSession { call });
    h.ok("alice", Op::hangup(call));
    assert!(h.seen("bob/phone").is_empty());
    assert!(h.seen("bob/laptop").is_empty());
    assert_eq!(
        h.seen("bob/tablet"),
        [
            "call-1: status connected",
            "call-1: ended, hung up by alice"
        ]
    );
}

#[test]
fn late_answers_from_another_device_are_409() {
    let (mut h, call) = setup();
    h.ok("bob/tablet", Op::accept(call));
    for op in [
        Op::accept(call),
        Op::decline(call, None),
        Op::decline(call, Some(486)),
        Op::hangup(call),
        Op::ringing(call),
        Op::early_media(call),
    ] {
        let name = op.name();
        let err = h.refused("bob/phone", op, 409);
        assert_eq!(err, CallError::HandledElsewhere, "{name}");
    }
    // In-call requests from the other device are refused the same way.
    h.refused("bob/laptop", Op::StartSession { call }, 409);
    h.refused(
        "bob/laptop",
        Op::Mute {
            call,
            media: Media::Audio,
            muted: true,
        },
        409,
    );
    assert_eq!(h.status(call), CallStatus::Connecting);
}

#[test]
fn accepting_twice_from_the_same_device_is_422() {
    let (mut h, call) = setup();
    h.ok("bob/tablet", Op::accept(call));
    let err = h.refused("bob/tablet", Op::accept(call), 422);
    assert!(
        matches!(err, CallError::InvalidState { op: "accept", .. }),
        "{err:?}"
    );
    h.refused("bob/tablet", Op::ringing(call), 422);
}

#[test]
fn in_a_group_the_other_devices_of_the_declining_user_cannot_answer() {
    let mut h = H::new();
    h.users(&["alice", "carol"]);
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("bob/phone", Op::decline(call, None));
    h.refused("bob/tablet", Op::accept(call), 409);
    h.refused("bob/tablet", Op::decline(call, None), 409);
    h.refused("bob/phone", Op::decline(call, None), 422);
}

#[test]
fn after_a_one_to_one_decline_the_other_device_gets_410() {
    let (mut h, call) = setup();
    h.ok("bob/laptop", Op::decline(call, None));
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: ended, declined by bob (603)"]
    );
    let err = h.refused("bob/phone", Op::accept(call), 410);
    assert_eq!(err, CallError::CallEnded);
}

#[test]
fn the_callers_other_devices_take_no_part() {
    let mut h = H::new();
    h.user_with("alice", &["phone", "laptop"], UserConfig::default());
    h.user("bob");
    let call = h.call("alice/phone", "bob", CallType::Audio);
    h.ok("bob", Op::ringing(call));
    h.ok("bob", Op::accept(call));
    assert_eq!(
        h.seen("alice/phone"),
        [
            "call-1: bob ringing",
            "call-1: status ringing",
            "call-1: bob joined",
            "call-1: status connecting"
        ]
    );
    assert!(h.seen("alice/laptop").is_empty());
    h.refused("alice/laptop", Op::hangup(call), 409);
    h.refused("alice/laptop", Op::StartSession { call }, 409);
}

#[test]
fn the_callers_other_device_is_refused_409_while_calling() {
    let mut h = H::new();
    h.user_with("alice", &["phone", "laptop"], UserConfig::default());
    h.user("bob");
    let call = h.call("alice/phone", "bob", CallType::Audio);
    // Every request from the device that did not place the call is "handled on another device",
    // whatever the operation.
    for op in [
        Op::Cancel { call },
        Op::hangup(call),
        Op::EndForAll { call },
        Op::Mute {
            call,
            media: Media::Audio,
            muted: true,
        },
        Op::CustomData {
            call,
            data: "x".into(),
        },
    ] {
        let name = op.name();
        let err = h.refused("alice/laptop", op, 409);
        assert_eq!(err, CallError::HandledElsewhere, "{name}");
    }
}
