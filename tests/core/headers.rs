//! `X-` headers on operations other than placing a call (Voximplant's `extraHeaders` on
//! `answer`, `reject`, `hangup`, `ring`, `startEarlyMedia` and `sendInfo`): they ride on what the
//! operation sends the other side, are checked like a new call's headers before anything changes,
//! and never come back to the sender's own devices.

use callconf::core::*;

use crate::harness::H;

fn h(pairs: &[(&str, &str)]) -> Headers {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn an_answer_s_headers_come_just_before_the_caller_s_joined_and_not_to_the_answerer() {
    let mut hs = H::new();
    hs.user("alice");
    hs.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let call = hs.call("alice", "bob", CallType::Audio);
    hs.clear();
    let headers = h(&[("X-Ticket", "77"), ("X-Queue", "sales")]);
    hs.ok(
        "bob/tablet",
        Op::Accept {
            call,
            headers: headers.clone(),
        },
    );
    assert_eq!(
        hs.seen("alice"),
        [
            "call-1: headers from bob with accept: X-Ticket: 77; X-Queue: sales",
            "call-1: bob joined",
            "call-1: status connecting",
        ]
    );
    // bob's other device learns the call was answered elsewhere, without bob's own headers.
    let phone = hs.events("bob/phone");
    assert!(!phone.iter().any(|e| matches!(e, Event::Headers { .. })));
    assert!(!phone.is_empty());
    assert!(
        !hs.events("bob/tablet")
            .iter()
            .any(|e| matches!(e, Event::Headers { .. }))
    );
}

#[test]
fn a_hang_up_s_headers_reach_every_other_member_once_before_the_first_event() {
    let mut hs = H::new();
    hs.users(&["alice", "bob", "carol"]);
    hs.group("team", &["alice", "bob", "carol"]);
    let call = hs.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio),
    );
    hs.ok("bob", Op::accept(call));
    hs.ok("carol", Op::accept(call));
    hs.clear();
    hs.ok(
        "bob",
        Op::Hangup {
            call,
            headers: h(&[("X-Reason", "done")]),
        },
    );
    for who in ["alice", "carol"] {
        let seen = hs.seen(who);
        assert_eq!(
            seen.first().map(String::as_str),
            Some("call-1: headers from bob with hangup: X-Reason: done"),
            "{who} saw {seen:?}"
        );
        assert_eq!(
            seen.iter().filter(|l| l.contains("headers from")).count(),
            1,
            "{who} saw {seen:?}"
        );
    }
    assert_eq!(hs.seen("bob"), ["call-1: detached, left"]);
}

#[test]
fn a_header_without_x_refuses_the_answer_and_changes_nothing() {
    let mut hs = H::new();
    hs.users(&["alice", "bob"]);
    let call = hs.call("alice", "bob", CallType::Audio);
    hs.clear();
    let before = hs.snapshot(call);
    let e = hs.refused(
        "bob",
        Op::Accept {
            call,
            headers: h(&[("Ticket", "77")]),
        },
        400,
    );
    assert!(e.to_string().contains("must start with X-"), "{e}");
    assert!(hs.quiet());
    assert_eq!(hs.snapshot(call), before);
    hs.ok("bob", Op::accept(call));
    assert_eq!(
        hs.seen("alice"),
        ["call-1: bob joined", "call-1: status connecting"]
    );
}

#[test]
fn too_many_or_too_long_headers_are_refused_with_413() {
    let limits = Limits::default();
    let mut hs = H::with_limits(limits.clone());
    hs.users(&["alice", "bob"]);
    let call = hs.connected("alice", "bob", CallType::Audio);
    hs.clear();
    let many: Headers = (0..=limits.headers_max)
        .map(|i| (format!("X-H{i}"), "v".to_owned()))
        .collect();
    let info = |headers| Op::Info {
        call,
        mime: "text/plain".into(),
        body: "hi".into(),
        headers,
    };
    hs.refused("alice", info(many), 413);
    let long = vec![("X-Long".to_owned(), "v".repeat(limits.header_bytes_max))];
    hs.refused("alice", info(long), 413);
    assert!(hs.quiet());
    // At the limits the info travels with its headers.
    let at: Headers = (0..limits.headers_max)
        .map(|i| (format!("X-H{i}"), "v".to_owned()))
        .collect();
    hs.ok("alice", info(at));
    let seen = hs.seen("bob");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].starts_with("call-1: headers from alice with info: X-H0: v; X-H1: v"));
}

#[test]
fn headers_of_a_refused_operation_go_nowhere() {
    let mut hs = H::new();
    hs.users(&["alice", "bob"]);
    let call = hs.connected("alice", "bob", CallType::Audio);
    hs.clear();
    // Early media is for an invitee before answering; bob has answered.
    hs.refused(
        "bob",
        Op::EarlyMedia {
            call,
            headers: h(&[("X-Prompt", "music")]),
        },
        422,
    );
    assert!(hs.quiet());
}

#[test]
fn an_operation_without_headers_reads_and_writes_as_before() {
    let op = Op::accept(CallId(3));
    let json = serde_json::to_string(&op).unwrap();
    assert_eq!(json, r#"{"op":"accept","call":3}"#);
    let with: Op =
        serde_json::from_str(r#"{"op":"accept","call":3,"headers":[["X-A","1"]]}"#).unwrap();
    assert_eq!(with.headers(), Some(&h(&[("X-A", "1")])));
    // Operations that carry no headers refuse the field like any unknown one.
    assert!(serde_json::from_str::<Op>(r#"{"op":"cancel","call":3,"headers":[]}"#).is_err());
}
