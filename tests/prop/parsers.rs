//! Parsers never panic: arbitrary input to everything the project parses gives an error (or a
//! value), never a panic.
//!
//! - Protocol messages as they land: the core's `Op`, `Reply`, `Event`, `Delivery` and
//!   `CallSnapshot` from arbitrary text, arbitrary bytes, and JSON built from the protocol's own
//!   vocabulary (so that parsing gets past the first token); an `Op` that parses is then handed
//!   to a live core, which must answer it.
//! - The validators, through the core: arbitrary strings as DTMF digits, MIME types, bodies,
//!   texts, custom data, headers, names and targets, and any decline code. Each is checked
//!   against the rule it implements, not only for not panicking.
//! - Configuration: `UserConfig`, `Plan`, `Limits` and `PlaceCall` via serde.
//! - YAML scenarios (`scenario::parse`): arbitrary text, and the scenarios shipped in
//!   `scenarios/` cut, spliced and overwritten at arbitrary places; an error always names the file
//!   and a line and column inside the text. `scenario::locate` with arbitrary paths.

use callconf::core::{
    CallId, CallSnapshot, CallType, Core, Delivery, DeviceId, Event, Limits, Op, PlaceCall, Plan,
    Reply, UserConfig, UserId,
};
use callconf::scenario::{self, Seg};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::config;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/prop/parsers.txt"
);

/// Parses `text` as every protocol and configuration type.
fn parse_all(text: &str) {
    let _ = serde_json::from_str::<Op>(text);
    let _ = serde_json::from_str::<Reply>(text);
    let _ = serde_json::from_str::<Event>(text);
    let _ = serde_json::from_str::<Delivery>(text);
    let _ = serde_json::from_str::<CallSnapshot>(text);
    let _ = serde_json::from_str::<PlaceCall>(text);
    let _ = serde_json::from_str::<UserConfig>(text);
    let _ = serde_json::from_str::<Plan>(text);
    let _ = serde_json::from_str::<Limits>(text);
}

/// Words of the protocol, so that generated JSON looks like messages.
const KEYS: &[&str] = &[
    "op",
    "event",
    "reply",
    "call",
    "invitees",
    "call_type",
    "group",
    "alert",
    "custom_data",
    "headers",
    "code",
    "digits",
    "mime",
    "body",
    "text",
    "data",
    "users",
    "target",
    "media",
    "muted",
    "on_hold",
    "kind",
    "to",
    "device",
    "at_ms",
    "info",
    "reason",
    "plan",
    "endpoint",
    "call_waiting",
    "end_call_permission",
    "one_to_one_audio",
    "one_to_one_video",
    "group_calls",
    "max_participants",
    "ring_timeout_ms",
    "dtmf_digits_max",
    "state",
    "status",
    "user",
    "by",
];
const WORDS: &[&str] = &[
    "place",
    "ringing",
    "accept",
    "decline",
    "cancel",
    "hangup",
    "end_for_all",
    "join",
    "invite",
    "start_session",
    "hold",
    "mute",
    "dtmf",
    "info",
    "message",
    "custom_data",
    "early_media",
    "transfer",
    "signal",
    "get_call",
    "audio",
    "video",
    "ring",
    "notify",
    "offer",
    "answer",
    "candidate",
    "app",
    "phone",
    "alice",
    "bob",
    "X-Id",
    "text/plain",
    "123#",
    "",
    "\u{0}",
    "ended",
    "incoming",
    "joined",
    "calling",
];

/// JSON values made of the protocol's words, numbers at the edges, and nesting.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(299),
            Just(603),
            Just(700),
            Just(i64::MAX),
            Just(i64::MIN),
            any::<i64>(),
        ]
        .prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(1e308)),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..7).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A message: an object tagged with an operation or event name, with protocol fields.
fn message() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&["op", "event", "reply"][..]),
        prop::sample::select(WORDS),
        prop::collection::vec((prop::sample::select(KEYS), json()), 0..6),
    )
        .prop_map(|(tag, name, fields)| {
            let mut m: Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            m.insert(tag.to_owned(), Value::from(name));
            Value::Object(m)
        })
}

/// A core with alice and bob in a connected call (c1), and carol idle; all connected.
fn connected_core() -> (Core, [DeviceId; 3]) {
    let mut core = Core::new(Limits::default());
    let mut devices = [DeviceId(0); 3];
    for (n, name) in ["alice", "bob", "carol"].into_iter().enumerate() {
        let user = core.add_user(name, UserConfig::default()).expect("a user");
        devices[n] = core.add_device(&user, "phone").expect("a device");
        core.handle_connect(0, devices[n]).expect("connects");
    }
    core.add_group("team", &["alice".into(), "bob".into(), "carol".into()])
        .expect("a group");
    let [a, b, _] = devices;
    let call = CallId(1);
    core.handle_request(0, a, Op::Place(PlaceCall::direct("bob", CallType::Audio)))
        .expect("placed");
    core.handle_request(0, b, Op::accept(call))
        .expect("accepted");
    core.handle_request(0, a, Op::StartSession { call })
        .expect("started");
    core.handle_request(0, b, Op::StartSession { call })
        .expect("started");
    while core.poll_event().is_some() {}
    (core, devices)
}

fn is_dtmf(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_digit() || "*#ABCDp".contains(c))
}

fn is_mime(s: &str) -> bool {
    let mut parts = s.splitn(2, '/');
    let (t, sub) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    s.len() <= 128 && !t.is_empty() && !sub.is_empty() && !s.chars().any(char::is_whitespace)
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

proptest! {
    #![proptest_config(config(256, REGRESSIONS))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        parse_all(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = serde_json::from_slice::<Op>(&bytes);
        let _ = serde_json::from_slice::<Event>(&bytes);
        let _ = serde_json::from_slice::<Delivery>(&bytes);
        let _ = serde_json::from_slice::<UserConfig>(&bytes);
        let _ = serde_json::from_slice::<Limits>(&bytes);
    }

    /// Protocol-shaped JSON, and every prefix of it (a message cut short as it lands): parsed
    /// as every type; an `Op` that parses is answered by a live core.
    #[test]
    fn protocol_shaped_messages_never_panic(value in prop_oneof![message(), json()]) {
        let text = value.to_string();
        parse_all(&text);
        for cut in (0..text.len()).filter(|i| text.is_char_boundary(*i)).step_by(7) {
            parse_all(&text[..cut]);
        }
        if let Ok(op) = serde_json::from_value::<Op>(value) {
            let (mut core, [a, _, c]) = connected_core();
            for device in [a, c, DeviceId(99)] {
                let _ = core.handle_request(1, device, op.clone());
            }
            core.handle_timeout(u64::MAX / 2);
        }
    }

    /// Well-formed operations whose every text argument is arbitrary: the core answers by its
    /// rules (checked here against their statement), and never panics.
    #[test]
    fn arbitrary_arguments_get_answers_by_the_rules(
        s in prop_oneof![".{0,80}", "[0-9*#A-Dpx ]{0,70}", "[a-z]{0,6}/?[a-z+.-]{0,6}", "X-[A-Za-z-]{0,8}"],
        t in ".{0,40}",
        code in any::<u16>(),
        big in 0usize..9000,
    ) {
        let (mut core, [a, b, c]) = connected_core();
        let call = CallId(1);

        let dtmf = core.handle_request(1, a, Op::Dtmf { call, digits: s.clone() });
        prop_assert_eq!(dtmf.is_ok(), is_dtmf(&s), "dtmf {:?}: {:?}", s, dtmf);

        let body = "b".repeat(big);
        let info = core.handle_request(1, a, Op::Info { call, mime: s.clone(), body, headers: Vec::new() });
        prop_assert_eq!(info.is_ok(), is_mime(&s) && big <= 8192, "info {:?}: {:?}", s, info);

        let text = core.handle_request(1, b, Op::Message { call, text: s.clone() });
        prop_assert_eq!(text.is_ok(), !s.is_empty(), "message {:?}: {:?}", s, text);

        let data = core.handle_request(1, b, Op::CustomData { call, data: t.clone() });
        prop_assert_eq!(data.is_ok(), t.len() <= 200, "custom data {:?}: {:?}", t, data);

        // The code is checked before the state: 400 for a code outside 300-699, else the 409/422
        // of declining a call already answered.
        let decline = core.handle_request(1, b, Op::decline(call, Some(code)));
        let bad = decline.as_ref().err().map(|e| e.code()) == Some(400);
        prop_assert_eq!(bad, !(300..=699).contains(&code), "decline {}: {:?}", code, decline);

        let headers = vec![(s.clone(), t.clone())];
        let place = PlaceCall { headers, ..PlaceCall::direct("alice", CallType::Audio) };
        let placed = core.handle_request(1, c, Op::Place(place));
        let header_ok = s.len() > 2
            && s.as_bytes()[..2].eq_ignore_ascii_case(b"x-")
            && s.len() + t.len() <= 1024;
        // alice is busy in c1, so a well-formed place is refused with 486, a malformed one 400.
        let code = placed.as_ref().err().map(|e| e.code());
        prop_assert_eq!(code, Some(if header_ok { 486 } else { 400 }), "headers {:?}", s);

        for op in [
            Op::Transfer { call, target: UserId::new(&s) },
            Op::Invite { call, users: vec![UserId::new(&s), UserId::new(&t)] },
            Op::Place(PlaceCall::direct(s.as_str(), CallType::Video)),
            Op::Place(PlaceCall::group(s.as_str(), vec![UserId::new(&t)], CallType::Audio)),
            Op::Signal { call, to: Some(UserId::new(&t)), kind: callconf::core::SignalKind::Offer, body: s.clone() },
        ] {
            let _ = core.handle_request(1, a, op);
        }

        let user = core.add_user(&s, UserConfig::default());
        prop_assert_eq!(user.is_ok(), is_name(&s) && !["alice", "bob", "carol"].contains(&s.as_str()));
        let _ = core.add_group(&t, &[UserId::new(&s)]);
        let _ = core.add_device(&UserId::new("carol"), &t);
        while core.poll_event().is_some() {}
    }
}

/// The scenarios shipped with the project (and a small one of our own, so there is always one).
fn scenario_texts() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|x| x == "yaml"));
    paths.sort();
    let mut texts: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    texts.push(
        "name: tiny\npopulation: { users: 10 }\ncalls:\n  total: 5\n  arrival: { kind: poisson, rate_per_s: 1 }\n"
            .into(),
    );
    texts
}

/// An edit of a text: cut it, delete, duplicate or overwrite a line, or insert anything.
#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceLine(usize, String),
    Insert(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let junk = prop_oneof![
        ".{0,20}",
        Just(": ".to_owned()),
        Just("- ".to_owned()),
        Just("{ ".to_owned()),
        Just("\t".to_owned()),
        Just("  -1e999".to_owned()),
        Just(" !!binary AAAA".to_owned()),
        Just("&a [*a, *a]".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\"\\u".to_owned()),
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), junk.clone()).prop_map(|(i, s)| Edit::ReplaceLine(i, s)),
        (any::<usize>(), junk).prop_map(|(i, s)| Edit::Insert(i, s)),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    match edit {
        Edit::Truncate(at) => {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return text[..at].to_owned();
        }
        Edit::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i % n);
        }
        Edit::DuplicateLine(i) if !lines.is_empty() => {
            let line = lines[i % n].clone();
            lines.insert(i % n, line);
        }
        Edit::ReplaceLine(i, s) if !lines.is_empty() => lines[i % n] = s.clone(),
        Edit::Insert(at, s) => {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return format!("{}{s}{}", &text[..at], &text[at..]);
        }
        _ => {}
    }
    lines.join("\n")
}

/// Parses a scenario: an error names the file and a place inside the text.
fn check_scenario(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = scenario::parse(text, "fuzz.yaml") {
        prop_assert_eq!(&e.file, "fuzz.yaml");
        // Lines as YAML counts them: a lone CR breaks a line too.
        let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
        prop_assert!(
            e.line >= 1 && e.line <= lines + 1 && e.column >= 1,
            "{}:{} is outside the text ({} lines): {}",
            e.line,
            e.column,
            lines,
            e.message
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256, REGRESSIONS))]

    #[test]
    fn arbitrary_scenario_text_never_panics(text in ".{0,300}") {
        check_scenario(&text)?;
    }

    #[test]
    fn edited_scenarios_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let texts = scenario_texts();
        let mut text = which.get(&texts).clone();
        for e in &edits {
            text = apply(&text, e);
        }
        check_scenario(&text)?;
    }

    #[test]
    fn locating_any_path_never_panics(
        which in any::<prop::sample::Index>(),
        path in prop::collection::vec(
            prop_oneof![
                "[a-z_]{0,12}".prop_map(Some),
                Just(None),
            ],
            0..6,
        ),
        index in 0usize..8,
    ) {
        let texts = scenario_texts();
        let text = which.get(&texts);
        let segs: Vec<Seg<'_>> = path
            .iter()
            .map(|k| k.as_deref().map_or(Seg::Index(index), Seg::Key))
            .collect();
        let (line, column) = scenario::locate(text, &segs);
        prop_assert!(line >= 1 && line <= text.lines().count().max(1) && column >= 1);
    }
}
