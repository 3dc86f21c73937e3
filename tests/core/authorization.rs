//! Authorization: only members act on a call (403 otherwise, before anything else is looked
//! at), unknown calls are 404, and a non-member never hears anything of a call.

use callconf::core::*;

use crate::harness::H;

/// Every operation on `call`, with well-formed arguments.
fn every_op(call: CallId) -> Vec<Op> {
    vec![
        Op::ringing(call),
        Op::accept(call),
        Op::decline(call, None),
        Op::Cancel { call },
        Op::hangup(call),
        Op::EndForAll { call },
        Op::Join { call },
        Op::Invite {
            call,
            users: vec!["bob".into()],
        },
        Op::StartSession { call },
        Op::Hold {
            call,
            on_hold: true,
        },
        Op::Mute {
            call,
            media: Media::Audio,
            muted: true,
        },
        Op::Dtmf {
            call,
            digits: "1".into(),
        },
        Op::Info {
            call,
            mime: "text/plain".into(),
            body: "x".into(),
            headers: Vec::new(),
        },
        Op::Message {
            call,
            text: "x".into(),
        },
        Op::CustomData {
            call,
            data: "x".into(),
        },
        Op::early_media(call),
        Op::Transfer {
            call,
            target: "bob".into(),
        },
        Op::Signal {
            call,
            to: None,
            kind: SignalKind::Offer,
            body: "o".into(),
        },
        Op::GetCall { call },
    ]
}

/// A connected group call alice + bob with carol ringing; dave is in the group but not invited,
/// erin is outside the group. Both have end-call permission.
fn setup() -> (H, CallId) {
    let mut h = H::new();
    let admin = UserConfig {
        end_call_permission: true,
        ..UserConfig::default()
    };
    h.users(&["alice", "bob", "carol"]);
    h.user_with("dave", &["phone"], admin.clone());
    h.user_with("erin", &["phone"], admin);
    h.group("team", &["alice", "bob", "carol", "dave"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Video),
    );
    h.ok("bob", Op::accept(call));
    h.ok("alice", Op::StartSession { call });
    h.ok("bob", Op::StartSession { call });
    h.clear();
    (h, call)
}

#[test]
fn a_non_member_is_403_for_every_operation_on_a_live_call() {
    let (mut h, call) = setup();
    for who in ["dave", "erin"] {
        for op in every_op(call) {
            let name = op.name();
            let err = h.refused(who, op, 403);
            assert_eq!(
                err,
                CallError::Forbidden(Forbidden::NotMember),
                "{who} {name}"
            );
        }
    }
    assert_eq!(h.status(call), CallStatus::Connected);
}

#[test]
fn membership_is_checked_before_the_arguments() {
    let (mut h, call) = setup();
    h.refused(
        "erin",
        Op::Dtmf {
            call,
            digits: "not digits".into(),
        },
        403,
    );
    h.refused("erin", Op::decline(call, Some(200)), 403);
    h.refused(
        "erin",
        Op::Message {
            call,
            text: "x".repeat(100_000),
        },
        403,
    );
}

#[test]
fn a_non_member_is_403_on_an_ended_call_and_a_member_410() {
    let (mut h, call) = setup();
    h.ok("alice", Op::EndForAll { call });
    for op in every_op(call) {
        let name = op.name();
        let err = h.refused("dave", op, 403);
        assert_eq!(err, CallError::Forbidden(Forbidden::NotMember), "{name}");
    }
    for who in ["alice", "bob", "carol"] {
        for op in every_op(call) {
            let name = op.name();
            let err = h.refused(who, op, 410);
            assert_eq!(err, CallError::CallEnded, "{who} {name}");
        }
    }
}

#[test]
fn an_unknown_call_is_404() {
    let (mut h, _) = setup();
    let nope = CallId(999);
    for who in ["alice", "dave"] {
        for op in every_op(nope) {
            let name = op.name();
            let err = h.refused(who, op, 404);
            assert_eq!(
                err,
                CallError::NotFound {
                    kind: "call",
                    id: "call-999".into()
                },
                "{who} {name}"
            );
        }
    }
}

#[test]
fn an_unknown_device_is_404() {
    let (mut h, call) = setup();
    let err = h
        .core
        .handle_request(h.now_ms, DeviceId(999), Op::GetCall { call })
        .unwrap_err();
    assert_eq!(err.code(), 404);
    assert_eq!(
        h.core.handle_connect(0, DeviceId(999)).unwrap_err().code(),
        404
    );
    assert_eq!(
        h.core
            .handle_disconnect(0, DeviceId(999))
            .unwrap_err()
            .code(),
        404
    );
    assert!(h.core.poll_event().is_none());
}

#[test]
fn a_non_member_never_receives_any_event_of_the_call() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.user_with("dave", &["phone", "tablet"], UserConfig::default());
    h.group("team", &["alice", "bob", "carol", "dave"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Video),
    );
    let script = vec![
        ("bob", Op::ringing(call)),
        ("carol", Op::early_media(call)),
        ("bob", Op::accept(call)),
        ("alice", Op::StartSession { call }),
        ("bob", Op::StartSession { call }),
        (
            "alice",
            Op::Signal {
                call,
                to: None,
                kind: SignalKind::Offer,
                body: "o".into(),
            },
        ),
        (
            "bob",
            Op::Hold {
                call,
                on_hold: true,
            },
        ),
        (
            "bob",
            Op::Mute {
                call,
                media: Media::Video,
                muted: true,
            },
        ),
        (
            "alice",
            Op::Dtmf {
                call,
                digits: "12".into(),
            },
        ),
        (
            "alice",
            Op::Info {
                call,
                mime: "a/b".into(),
                body: "x".into(),
                headers: Vec::new(),
            },
        ),
        (
            "alice",
            Op::Message {
                call,
                text: "x".into(),
            },
        ),
        (
            "alice",
            Op::CustomData {
                call,
                data: "x".into(),
            },
        ),
        ("carol", Op::decline(call, None)),
        ("carol", Op::Join { call }),
        ("carol", Op::hangup(call)),
        ("alice", Op::EndForAll { call }),
    ];
    for (who, op) in script {
        h.ok(who, op);
        assert!(h.events("dave").is_empty());
        assert!(h.events("dave/tablet").is_empty());
    }
    // The members did hear things.
    assert!(!h.events("bob").is_empty());
}
