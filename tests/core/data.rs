//! In-call data (Voximplant `sendInfo`, `sendMessage`, `customData`): bounded payloads relayed to
//! the other members of the session only.

use callconf::core::*;

use crate::harness::H;

fn info(call: CallId, mime: &str, body: String) -> Op {
    Op::Info {
        call,
        mime: mime.into(),
        body,
        headers: Vec::new(),
    }
}

fn connected() -> (H, CallId) {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    (h, call)
}

#[test]
fn info_up_to_8192_bytes_is_relayed_to_the_other_member() {
    let (mut h, call) = connected();
    let body = "a".repeat(8192);
    assert_eq!(
        h.ok("alice", info(call, "application/json", body.clone())),
        Reply::Done
    );
    assert_eq!(
        h.events("bob"),
        [Event::Info {
            call,
            from: "alice".into(),
            mime: "application/json".into(),
            body
        }]
    );
    assert!(h.seen("alice").is_empty());
    assert!(h.seen("carol").is_empty());
    h.ok("bob", info(call, "text/plain", "{}".into()));
    assert_eq!(h.seen("alice"), ["call-1: info text/plain (2 B) from bob"]);
    assert!(h.seen("bob").is_empty());
}

#[test]
fn info_over_8192_bytes_is_413() {
    let (mut h, call) = connected();
    let err = h.refused(
        "alice",
        info(call, "application/json", "a".repeat(8193)),
        413,
    );
    assert_eq!(
        err,
        CallError::TooLarge {
            field: "body",
            len: 8193,
            max: 8192
        }
    );
}

#[test]
fn info_with_a_malformed_mime_type_is_400() {
    let (mut h, call) = connected();
    for mime in [
        "",
        "json",
        "/json",
        "text/",
        "text /plain",
        "text/ plain",
        "/",
    ] {
        let err = h.refused("alice", info(call, mime, "{}".into()), 400);
        assert!(
            matches!(err, CallError::BadArgument { field: "mime", .. }),
            "{mime:?}: {err:?}"
        );
    }
    // An over-long MIME type is 413.
    let long = format!("application/{}", "x".repeat(200));
    h.refused("alice", info(call, &long, "{}".into()), 413);
}

#[test]
fn message_up_to_8192_bytes_is_relayed_and_bounded() {
    let (mut h, call) = connected();
    let text = "é".repeat(4096); // 8192 bytes
    h.ok(
        "bob",
        Op::Message {
            call,
            text: text.clone(),
        },
    );
    assert_eq!(
        h.events("alice"),
        [Event::Message {
            call,
            from: "bob".into(),
            text
        }]
    );
    assert!(h.seen("bob").is_empty());
    let err = h.refused(
        "bob",
        Op::Message {
            call,
            text: "a".repeat(8193),
        },
        413,
    );
    assert_eq!(
        err,
        CallError::TooLarge {
            field: "text",
            len: 8193,
            max: 8192
        }
    );
    let err = h.refused(
        "bob",
        Op::Message {
            call,
            text: String::new(),
        },
        400,
    );
    assert!(
        matches!(err, CallError::BadArgument { field: "text", .. }),
        "{err:?}"
    );
}

#[test]
fn custom_data_up_to_200_bytes_is_relayed_and_kept() {
    let (mut h, call) = connected();
    let data = "d".repeat(200);
    h.ok(
        "alice",
        Op::CustomData {
            call,
            data: data.clone(),
        },
    );
    assert_eq!(
        h.events("bob"),
        [Event::CustomData {
            call,
            from: "alice".into(),
            data: data.clone()
        }]
    );
    assert!(h.seen("alice").is_empty());
    assert_eq!(h.snapshot(call).custom_data, Some(data));
    let err = h.refused(
        "bob",
        Op::CustomData {
            call,
            data: "d".repeat(201),
        },
        413,
    );
    assert_eq!(
        err,
        CallError::TooLarge {
            field: "custom_data",
            len: 201,
            max: 200
        }
    );
}

#[test]
fn in_call_data_never_reaches_ringing_devices_or_non_members() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol", "dave"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    h.ok("bob", Op::accept(call));
    h.ok("alice", Op::StartSession { call });
    h.ok("bob", Op::StartSession { call });
    h.clear();
    h.ok("alice", info(call, "application/json", "{}".into()));
    h.ok(
        "alice",
        Op::Message {
            call,
            text: "hi".into(),
        },
    );
    h.ok(
        "alice",
        Op::CustomData {
            call,
            data: "k=v".into(),
        },
    );
    assert_eq!(
        h.seen("bob"),
        [
            "call-1: info application/json (2 B) from alice",
            "call-1: message (2 B) from alice",
            "call-1: custom data \"k=v\" from alice"
        ]
    );
    assert!(h.seen("alice").is_empty());
    assert!(h.seen("carol").is_empty());
    assert!(h.seen("dave").is_empty());
}

#[test]
fn info_and_message_need_a_connected_call() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", info(call, "text/plain", "x".into()), 422);
    h.refused(
        "alice",
        Op::Message {
            call,
            text: "x".into(),
        },
        422,
    );
    h.refused(
        "bob",
        Op::CustomData {
            call,
            data: "x".into(),
        },
        422,
    );
    // The caller may update the custom data while calling.
    h.ok(
        "alice",
        Op::CustomData {
            call,
            data: "x".into(),
        },
    );
    assert!(h.quiet());
    assert_eq!(h.snapshot(call).custom_data.as_deref(), Some("x"));
}
