//! Joining a live group call late, inviting more users into it, and `notify` calls that tell
//! instead of ringing (Stream `getOrCreate({notify})`, `join`).

use callconf::core::*;

use crate::harness::H;

/// Group call from alice to bob and carol; carol accepted; inboxes cleared.
fn carol_answered(h: &mut H) -> CallId {
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("carol", Op::accept(call));
    h.clear();
    call
}

#[test]
fn a_user_who_declined_can_join_later() {
    let mut h = H::new();
    let call = carol_answered(&mut h);
    h.ok("bob", Op::decline(call, None));
    assert_eq!(h.seen("bob"), ["call-1: detached, declined here"]);
    h.clear();
    assert_eq!(h.ok("bob", Op::Join { call }), Reply::Done);
    assert_eq!(h.seen("alice"), ["call-1: bob joined"]);
    assert_eq!(h.seen("carol"), ["call-1: bob joined"]);
    assert!(h.seen("bob").is_empty());
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Joined);
    // bob is in the session audience again.
    h.ok(
        "carol",
        Op::CustomData {
            call,
            data: "x".into(),
        },
    );
    assert_eq!(h.seen("bob"), ["call-1: custom data \"x\" from carol"]);
    // Joining twice from the same device is 422.
    h.refused("bob", Op::Join { call }, 422);
}

#[test]
fn a_user_who_missed_can_join_later() {
    let mut h = H::new();
    let call = carol_answered(&mut h);
    h.advance(30_000);
    assert_eq!(h.seen("bob"), ["call-1: detached, missed"]);
    assert_eq!(h.seen("alice"), ["call-1: bob missed"]);
    assert_eq!(h.seen("carol"), ["call-1: bob missed"]);
    h.advance(10_000);
    h.ok("bob", Op::Join { call });
    assert_eq!(h.seen("alice"), ["call-1: bob joined"]);
    assert_eq!(h.seen("carol"), ["call-1: bob joined"]);
    assert!(h.seen("bob").is_empty());
}

#[test]
fn a_user_who_left_can_join_again_and_a_ringing_invitee_can_join_like_accepting() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.user("carol");
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("carol", Op::accept(call));
    h.clear();
    h.ok("bob/tablet", Op::Join { call });
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: detached, answered on another device"]
    );
    assert!(h.seen("bob/tablet").is_empty());
    assert_eq!(h.seen("alice"), ["call-1: bob joined"]);
    h.ok("carol", Op::hangup(call));
    h.clear();
    h.ok("carol", Op::Join { call });
    assert_eq!(h.seen("alice"), ["call-1: carol joined"]);
    assert_eq!(h.seen("bob/tablet"), ["call-1: carol joined"]);
}

#[test]
fn joining_a_one_to_one_call_is_403() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    let err = h.refused("bob", Op::Join { call }, 403);
    assert_eq!(err, CallError::Forbidden(Forbidden::NotGroupCall));
}

/// alice and bob connected in a group call in `team`; carol, dave, erin, frank in the group too.
fn connected_group(h: &mut H) -> CallId {
    h.users(&["alice", "bob", "carol", "dave", "erin", "frank"]);
    h.group("team", &["alice", "bob", "carol", "dave", "erin", "frank"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into()], CallType::Audio),
    );
    h.ok("bob", Op::accept(call));
    h.ok("alice", Op::StartSession { call });
    h.ok("bob", Op::StartSession { call });
    h.clear();
    call
}

#[test]
fn inviting_more_users_into_a_live_group_call() {
    let mut h = H::new();
    let call = connected_group(&mut h);
    // dave is busy with frank, erin has no connected device.
    let other = h.connected("frank", "dave", CallType::Audio);
    h.disconnect("erin");
    h.advance(2_000);
    let reply = h.ok(
        "bob",
        Op::Invite {
            call,
            users: vec!["carol".into(), "dave".into(), "erin".into()],
        },
    );
    assert_eq!(
        reply,
        Reply::Invited {
            busy: vec!["dave".into()],
            unavailable: vec!["erin".into()],
        }
    );
    let events = h.events("carol");
    match events.as_slice() {
        [Event::Incoming { info }] => {
            assert_eq!(info.call, call);
            assert_eq!(info.group, Some("team".into()));
            assert_eq!(info.caller, UserId::new("alice"));
            assert_eq!(info.status, CallStatus::Connected);
            assert_eq!(
                info.invitees,
                [
                    UserId::new("bob"),
                    "carol".into(),
                    "dave".into(),
                    "erin".into()
                ]
            );
        }
        other => panic!("carol: {other:?}"),
    }
    // The session is told, except the inviter (it acted).
    assert_eq!(h.seen("alice"), ["call-1: carol invited"]);
    assert!(h.seen("bob").is_empty());
    assert!(h.seen("dave").is_empty());
    assert!(h.seen("frank").is_empty());
    assert_eq!(h.member_state(call, "carol"), ParticipantState::Invited);
    assert_eq!(h.member_state(call, "dave"), ParticipantState::Busy);
    assert_eq!(h.member_state(call, "erin"), ParticipantState::Unavailable);
    assert_eq!(h.status(other), CallStatus::Connected);
    // The invitation rings and is answered like any other.
    h.ok("carol", Op::ringing(call));
    assert_eq!(h.seen("alice"), ["call-1: carol ringing"]);
    assert_eq!(h.seen("bob"), ["call-1: carol ringing"]);
    h.ok("carol", Op::accept(call));
    assert_eq!(h.seen("alice"), ["call-1: carol joined"]);
    assert_eq!(h.seen("bob"), ["call-1: carol joined"]);
    assert!(h.seen("carol").is_empty());
}

#[test]
fn an_invitation_into_a_live_call_times_out_on_its_own_clock() {
    let mut h = H::new();
    let call = connected_group(&mut h);
    h.advance(10_000);
    h.ok(
        "alice",
        Op::Invite {
            call,
            users: vec!["carol".into()],
        },
    );
    h.clear();
    assert_eq!(h.core.poll_timeout(), Some(40_000));
    h.advance(29_999);
    assert!(h.quiet());
    h.advance(1);
    assert_eq!(h.seen("carol"), ["call-1: detached, missed"]);
    assert_eq!(h.seen("alice"), ["call-1: carol missed"]);
    assert_eq!(h.seen("bob"), ["call-1: carol missed"]);
    assert_eq!(h.status(call), CallStatus::Connected);
    // A missed user can be invited again.
    h.ok(
        "bob",
        Op::Invite {
            call,
            users: vec!["carol".into()],
        },
    );
    assert_eq!(
        h.seen("carol"),
        ["call-1: incoming group Audio call in team from alice"]
    );
    assert_eq!(h.seen("alice"), ["call-1: carol invited"]);
}

#[test]
fn invite_refusals() {
    let mut h = H::new();
    let call = connected_group(&mut h);
    // Someone already in the call.
    let err = h.refused(
        "alice",
        Op::Invite {
            call,
            users: vec!["bob".into()],
        },
        422,
    );
    assert!(
        matches!(err, CallError::InvalidState { op: "invite", .. }),
        "{err:?}"
    );
    // Someone already ringing.
    h.ok(
        "alice",
        Op::Invite {
            call,
            users: vec!["carol".into()],
        },
    );
    h.refused(
        "bob",
        Op::Invite {
            call,
            users: vec!["carol".into()],
        },
        422,
    );
    // A ringing invitee cannot invite.
    h.refused(
        "carol",
        Op::Invite {
            call,
            users: vec!["dave".into()],
        },
        422,
    );
    // Malformed lists.
    for users in [
        vec![],
        vec!["dave".into(), "dave".into()],
        vec!["alice".into()],
    ] {
        h.refused("alice", Op::Invite { call, users }, 400);
    }
    h.refused(
        "alice",
        Op::Invite {
            call,
            users: vec!["zoe".into()],
        },
        404,
    );
    // Outside the call's group.
    h.user("zed");
    let err = h.refused(
        "alice",
        Op::Invite {
            call,
            users: vec!["zed".into()],
        },
        403,
    );
    assert_eq!(err, CallError::Forbidden(Forbidden::NotGroupMember));
}

#[test]
fn invite_into_a_one_to_one_call_is_403() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    let err = h.refused(
        "alice",
        Op::Invite {
            call,
            users: vec!["carol".into()],
        },
        403,
    );
    assert_eq!(err, CallError::Forbidden(Forbidden::NotGroupCall));
    assert!(h.seen("carol").is_empty());
}

#[test]
fn notify_tells_without_ringing_and_the_host_is_joined_at_once() {
    let mut h = H::new();
    h.users(&["alice", "carol"]);
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall {
            alert: Alert::Notify,
            ..PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Video)
        },
    );
    for d in ["bob/phone", "bob/tablet", "carol"] {
        let events = h.events(d);
        match events.as_slice() {
            [Event::Notified { info }] => {
                assert_eq!(info.call, call);
                assert_eq!(info.status, CallStatus::Connecting);
                assert_eq!(info.group, Some("team".into()));
            }
            other => panic!("{d}: {other:?}"),
        }
    }
    assert!(h.seen("alice").is_empty());
    assert_eq!(h.status(call), CallStatus::Connecting);
    assert_eq!(h.member_state(call, "alice"), ParticipantState::Joined);
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Notified);
    // Nothing rings, so nothing times out.
    assert_eq!(h.core.poll_timeout(), None);
    h.advance(3_600_000);
    assert!(h.quiet());
    // Nothing to acknowledge or accept: a notified invitee joins.
    h.refused("bob", Op::ringing(call), 422);
    h.refused("bob", Op::accept(call), 422);
    h.ok("bob/tablet", Op::Join { call });
    assert_eq!(h.seen("alice"), ["call-1: bob joined"]);
    assert_eq!(
        h.seen("bob/phone"),
        ["call-1: detached, answered on another device"]
    );
    assert!(h.seen("bob/tablet").is_empty());
    assert!(h.seen("carol").is_empty());
    h.ok("alice", Op::StartSession { call });
    h.ok("bob/tablet", Op::StartSession { call });
    assert_eq!(h.seen("alice"), ["call-1: status connected"]);
    assert_eq!(h.seen("bob/tablet"), ["call-1: status connected"]);
    assert!(h.seen("carol").is_empty());
    // carol is still notified; the call ending tells her.
    h.ok("alice", Op::EndForAll { call });
    assert_eq!(
        h.seen("carol"),
        ["call-1: ended, ended for everyone by alice"]
    );
}

#[test]
fn notify_one_to_one_reaches_an_offline_user_when_they_connect() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    h.disconnect("bob");
    let reply = h.ok(
        "alice",
        Op::Place(PlaceCall {
            alert: Alert::Notify,
            ..PlaceCall::direct("bob", CallType::Audio)
        }),
    );
    assert_eq!(
        reply,
        Reply::Placed {
            call: CallId(1),
            busy: vec![],
            unavailable: vec![],
        }
    );
    let call = CallId(1);
    h.connect("bob");
    assert_eq!(h.seen("bob"), ["call-1: notified of a call by alice"]);
    h.ok("bob", Op::Join { call });
    assert_eq!(h.seen("alice"), ["call-1: bob joined"]);
    // The notify host cannot cancel (it is already in the session), but can hang up.
    h.refused("alice", Op::Cancel { call }, 422);
    h.ok("alice", Op::hangup(call));
    assert_eq!(h.seen("alice"), ["call-1: ended, hung up by alice"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, hung up by alice"]);
}

#[test]
fn joining_again_is_422_from_the_same_device_and_409_from_another_in_any_call() {
    // Group call.
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.group("team", &["alice", "bob"]);
    let call = h.place(
        "alice",
        PlaceCall {
            alert: Alert::Notify,
            ..PlaceCall::group("team", vec!["bob".into()], CallType::Audio)
        },
    );
    h.ok("bob", Op::Join { call });
    h.refused("bob", Op::Join { call }, 422);
    h.refused("bob/tablet", Op::Join { call }, 409);
    h.refused("alice", Op::Join { call }, 422);
    // 1:1 notify call: the same codes.
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = h.place(
        "alice",
        PlaceCall {
            alert: Alert::Notify,
            ..PlaceCall::direct("bob", CallType::Audio)
        },
    );
    h.ok("bob", Op::Join { call });
    assert_eq!(
        h.seen("bob/tablet"),
        [
            "call-1: notified of a call by alice",
            "call-1: detached, answered on another device"
        ]
    );
    h.refused("bob", Op::Join { call }, 422);
    let err = h.refused("bob/tablet", Op::Join { call }, 409);
    assert_eq!(err, CallError::HandledElsewhere);
    h.refused("alice", Op::Join { call }, 422);
}
