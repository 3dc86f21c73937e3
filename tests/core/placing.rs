//! Placing a call: the incoming-call payload, and every refusal of `place` (each before anything
//! rings and without spending a call id).

use std::sync::Arc;

use callconf::core::*;

use crate::harness::H;

fn incoming(h: &mut H, device: &str) -> Arc<CallInfo> {
    let events = h.events(device);
    match events.as_slice() {
        [Event::Incoming { info }] => info.clone(),
        other => panic!("{device} expected one incoming call, got {other:?}"),
    }
}

fn place(invitees: &[&str]) -> PlaceCall {
    PlaceCall {
        invitees: invitees.iter().map(|u| UserId::new(u)).collect(),
        ..PlaceCall::direct("nobody", CallType::Audio)
    }
}

#[test]
fn one_to_one_incoming_payload_carries_every_field() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    h.advance(1_234);
    let reply = h.ok(
        "alice",
        Op::Place(PlaceCall {
            custom_data: Some("order=42".into()),
            headers: vec![
                ("X-Trace".into(), "abc".into()),
                ("x-lower".into(), "ok".into()),
            ],
            ..PlaceCall::direct("bob", CallType::Video)
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
    let info = incoming(&mut h, "bob");
    assert_eq!(
        *info,
        CallInfo {
            call: CallId(1),
            call_type: CallType::Video,
            group: None,
            caller: "alice".into(),
            invitees: vec!["bob".into()],
            status: CallStatus::Calling,
            created_ms: 1_234,
            custom_data: Some("order=42".into()),
            headers: vec![
                ("X-Trace".into(), "abc".into()),
                ("x-lower".into(), "ok".into())
            ],
            transferred_by: None,
        }
    );
    // The caller is told nothing about its own action.
    assert!(h.seen("alice").is_empty());
    let snap = h.snapshot(CallId(1));
    assert_eq!(snap.created_ms, 1_234);
    assert_eq!(snap.caller, UserId::new("alice"));
    assert_eq!(snap.custom_data.as_deref(), Some("order=42"));
    assert_eq!(
        snap.members
            .iter()
            .map(|m| m.state.clone())
            .collect::<Vec<_>>(),
        [ParticipantState::Calling, ParticipantState::Invited]
    );
}

#[test]
fn group_incoming_payload_names_the_group_and_every_invitee() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    h.advance(7);
    h.place(
        "alice",
        PlaceCall::group("team", vec!["carol".into(), "bob".into()], CallType::Audio),
    );
    for who in ["carol", "bob"] {
        let info = incoming(&mut h, who);
        assert_eq!(
            *info,
            CallInfo {
                call: CallId(1),
                call_type: CallType::Audio,
                group: Some("team".into()),
                caller: "alice".into(),
                // Invitation order, caller not listed.
                invitees: vec!["carol".into(), "bob".into()],
                status: CallStatus::Calling,
                created_ms: 7,
                custom_data: None,
                headers: vec![],
                transferred_by: None,
            }
        );
    }
    assert!(h.seen("alice").is_empty());
}

#[test]
fn call_ids_count_from_one_in_placing_order() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol", "dave"]);
    assert_eq!(h.call("alice", "bob", CallType::Audio), CallId(1));
    assert_eq!(h.call("carol", "dave", CallType::Audio), CallId(2));
}

#[test]
fn unknown_invitee_is_404() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::direct("zoe", CallType::Audio)),
        404,
    );
    assert_eq!(
        err,
        CallError::NotFound {
            kind: "user",
            id: "zoe".into()
        }
    );
    // One unknown user among known ones refuses the whole call.
    h.refused("alice", Op::Place(place(&["bob", "zoe"])), 404);
    assert!(h.seen("bob").is_empty());
}

#[test]
fn calling_oneself_is_400() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    h.refused(
        "alice",
        Op::Place(PlaceCall::direct("alice", CallType::Audio)),
        400,
    );
    h.refused("alice", Op::Place(place(&["bob", "alice"])), 400);
    assert!(h.seen("bob").is_empty());
}

#[test]
fn duplicate_invitee_is_400() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.refused("alice", Op::Place(place(&["bob", "bob"])), 400);
    h.refused("alice", Op::Place(place(&["bob", "carol", "bob"])), 400);
}

#[test]
fn empty_invitee_list_is_400() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    h.refused("alice", Op::Place(place(&[])), 400);
    h.group("team", &["alice", "bob"]);
    h.refused(
        "alice",
        Op::Place(PlaceCall::group("team", vec![], CallType::Audio)),
        400,
    );
}

#[test]
fn header_names_must_start_with_x_dash() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    for name in ["Trace", "X", "X-", "XTrace", "", "Y-Trace"] {
        let p = PlaceCall {
            headers: vec![("X-Good".into(), "1".into()), (name.into(), "v".into())],
            ..PlaceCall::direct("bob", CallType::Audio)
        };
        h.refused("alice", Op::Place(p), 400);
    }
    assert!(h.seen("bob").is_empty());
}

#[test]
fn custom_data_is_at_most_200_bytes() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let with = |data: String| PlaceCall {
        custom_data: Some(data),
        ..PlaceCall::direct("bob", CallType::Audio)
    };
    let err = h.refused("alice", Op::Place(with("x".repeat(201))), 413);
    assert_eq!(
        err,
        CallError::TooLarge {
            field: "custom_data",
            len: 201,
            max: 200
        }
    );
    // Bytes, not characters: 101 two-byte characters are 202 bytes.
    h.refused("alice", Op::Place(with("é".repeat(101))), 413);
    let call = h.place("alice", with("x".repeat(200)));
    let info = incoming(&mut h, "bob");
    assert_eq!(info.custom_data.as_deref().map(str::len), Some(200));
    assert_eq!(h.snapshot(call).custom_data.map(|d| d.len()), Some(200));
}

#[test]
fn group_calls_are_placed_by_and_to_members_of_the_group() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol", "dave"]);
    h.group("team", &["alice", "bob", "carol"]);
    // Invitee outside the group.
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::group(
            "team",
            vec!["bob".into(), "dave".into()],
            CallType::Audio,
        )),
        403,
    );
    assert_eq!(err, CallError::Forbidden(Forbidden::NotGroupMember));
    // Caller outside the group.
    let err = h.refused(
        "dave",
        Op::Place(PlaceCall::group(
            "team",
            vec!["bob".into(), "carol".into()],
            CallType::Audio,
        )),
        403,
    );
    assert_eq!(err, CallError::Forbidden(Forbidden::NotGroupMember));
    // Unknown group.
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::group(
            "nope",
            vec!["bob".into()],
            CallType::Audio,
        )),
        404,
    );
    assert_eq!(
        err,
        CallError::NotFound {
            kind: "group",
            id: "nope".into()
        }
    );
    for u in ["bob", "carol", "dave"] {
        assert!(h.seen(u).is_empty());
    }
}

#[test]
fn one_to_one_call_to_a_user_without_a_connected_device_is_480() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    h.user_with("carol", &[], UserConfig::default());
    h.disconnect("bob");
    h.disconnect("bob/tablet");
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::direct("bob", CallType::Audio)),
        480,
    );
    assert_eq!(err, CallError::Unavailable("bob".into()));
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::direct("carol", CallType::Audio)),
        480,
    );
    assert_eq!(err, CallError::Unavailable("carol".into()));
    // One device back is enough.
    h.connect("bob/tablet");
    h.call("alice", "bob", CallType::Audio);
    assert_eq!(
        h.seen("bob/tablet"),
        ["call-1: incoming Audio call from alice"]
    );
    assert!(h.seen("bob").is_empty());
}

#[test]
fn group_call_rings_only_the_reachable_and_reports_the_others() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol", "dave", "erin"]);
    h.group("team", &["alice", "bob", "carol", "dave"]);
    // bob is busy in a connected call with erin; carol has no connected device.
    let other = h.connected("erin", "bob", CallType::Audio);
    h.disconnect("carol");
    let reply = h.ok(
        "alice",
        Op::Place(PlaceCall::group(
            "team",
            vec!["bob".into(), "carol".into(), "dave".into()],
            CallType::Video,
        )),
    );
    let call = CallId(2);
    assert_eq!(
        reply,
        Reply::Placed {
            call,
            busy: vec!["bob".into()],
            unavailable: vec!["carol".into()],
        }
    );
    assert_eq!(
        h.seen("dave"),
        ["call-2: incoming group Video call in team from alice"]
    );
    assert!(h.seen("bob").is_empty());
    assert!(h.seen("erin").is_empty());
    assert!(h.seen("alice").is_empty());
    assert_eq!(h.member_state(call, "bob"), ParticipantState::Busy);
    assert_eq!(h.member_state(call, "carol"), ParticipantState::Unavailable);
    assert_eq!(h.member_state(call, "dave"), ParticipantState::Invited);
    // bob's call is untouched.
    assert_eq!(h.status(other), CallStatus::Connected);
    // The only reachable invitee declining ends the call: nobody else could answer.
    h.ok("dave", Op::decline(call, None));
    assert_eq!(h.seen("alice"), ["call-2: ended, declined by dave (603)"]);
    assert_eq!(h.seen("dave"), ["call-2: ended, declined by dave (603)"]);
    assert!(h.seen("bob").is_empty());
}

#[test]
fn group_call_where_nobody_can_ring_is_refused() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol", "erin"]);
    h.group("team", &["alice", "bob", "carol"]);
    h.connected("erin", "bob", CallType::Audio);
    h.disconnect("carol");
    let both = PlaceCall::group("team", vec!["carol".into(), "bob".into()], CallType::Audio);
    // Busy wins over unavailable in the refusal.
    let err = h.refused("alice", Op::Place(both), 486);
    assert_eq!(err, CallError::Busy("bob".into()));
    let only_carol = PlaceCall::group("team", vec!["carol".into()], CallType::Audio);
    let err = h.refused("alice", Op::Place(only_carol), 480);
    assert_eq!(err, CallError::Unavailable("carol".into()));
}

#[test]
fn headers_are_bounded_in_number_and_size() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let max = h.core.limits().headers_max;
    let many = |n: usize| PlaceCall {
        headers: (0..n).map(|i| (format!("X-H{i}"), "v".into())).collect(),
        ..PlaceCall::direct("bob", CallType::Audio)
    };
    let err = h.refused("alice", Op::Place(many(max + 1)), 413);
    assert!(
        matches!(
            err,
            CallError::TooLarge {
                field: "headers",
                ..
            }
        ),
        "{err:?}"
    );
    let bytes = h.core.limits().header_bytes_max;
    let big = |value_len: usize| PlaceCall {
        headers: vec![("X-Big".into(), "v".repeat(value_len))],
        ..PlaceCall::direct("bob", CallType::Audio)
    };
    h.refused("alice", Op::Place(big(bytes - 5 + 1)), 413);
    h.place("alice", big(bytes - 5));
    let info = incoming(&mut h, "bob");
    assert_eq!(info.headers[0].1.len(), bytes - 5);
    h.ok("alice", Op::Cancel { call: CallId(1) });
    h.place("alice", many(max));
    assert_eq!(h.events("bob").len(), 2);
}

#[test]
fn a_caller_placing_from_one_device_takes_part_only_there() {
    let mut h = H::new();
    h.user_with("alice", &["phone", "laptop"], UserConfig::default());
    h.user("bob");
    let call = h.call("alice/laptop", "bob", CallType::Audio);
    assert_eq!(
        h.snapshot(call).members[0].device,
        Some(h.dev("alice/laptop"))
    );
    h.ok("bob", Op::accept(call));
    assert_eq!(
        h.seen("alice/laptop"),
        ["call-1: bob joined", "call-1: status connecting"]
    );
    assert!(h.seen("alice/phone").is_empty());
}
