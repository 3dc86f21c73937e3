//! The wire's frame parsers never panic, and the server never panics or hangs on what a
//! connection sends: arbitrary bytes, and valid frames of `callconf-wire/1` cut and spliced at
//! arbitrary places, fed to the one-pass readers (which must accept exactly what the derived
//! serde readers accept), to the admin reader, to the population reader, and over a real
//! WebSocket to a running server, which must answer every frame with a reply or a coded
//! error and go on serving other devices.

use std::sync::OnceLock;
use std::time::Duration;

use callconf::core::Limits;
use callconf::net::admin::AdminClientMsg;
use callconf::net::server::{Front, serve_front};
use callconf::net::wire::{ClientMsg, ServerMsg};
use callconf::server::population::{self, Population};
use callconf::server::{ServerConfig, ServerHandle};
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use tokio_tungstenite::tungstenite::Message;

use crate::config;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/prop/frames.txt"
);

/// Valid frames of both directions and of the admin channel.
const FRAMES: &[&str] = &[
    r#"{"type":"hello","protocol":"callconf-wire/1","user":"alice","device":"laptop","token":"alice-secret"}"#,
    r#"{"type":"request","id":1,"op":{"op":"place","invitees":["bob"],"call_type":"audio"}}"#,
    r#"{"type":"request","id":2,"op":{"op":"accept","call":1}}"#,
    r#"{"type":"request","id":3,"op":{"op":"decline","call":1,"code":486}}"#,
    r#"{"type":"request","id":4,"op":{"op":"dtmf","call":1,"digits":"12#"}}"#,
    r#"{"type":"request","id":5,"op":{"op":"signal","call":1,"to":null,"kind":"offer","body":"v=0"}}"#,
    r#"{"type":"welcome","protocol":"callconf-wire/1","device":0}"#,
    r#"{"type":"reply","id":1,"result":{"Ok":{"reply":"placed","call":1,"busy":[],"unavailable":[]}}}"#,
    r#"{"type":"reply","id":8,"result":{"Err":{"code":410,"message":"the call has ended"}}}"#,
    r#"{"type":"event","delivery":{"device":1,"at_ms":0,"event":{"event":"status","call":1,"status":"ringing"}}}"#,
    r#"{"type":"error","code":902,"message":"authentication failed"}"#,
    r#"{"type":"hello","protocol":"callconf-wire/1","token":"admin"}"#,
    r#"{"type":"request","id":1,"op":{"op":"add_user","name":"x","devices":[{"label":"a","token":"t"}]}}"#,
    r#"{"type":"request","id":2,"op":{"op":"advance","ms":1000}}"#,
];

/// A frame made from valid ones: cut, spliced, or with junk inserted.
fn frame() -> impl Strategy<Value = String> {
    let pick = 0..FRAMES.len();
    let junk = prop_oneof![
        ".{0,12}",
        Just("\"".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just(",\"x\":1".to_owned())
    ];
    prop_oneof![
        (pick.clone(), any::<usize>()).prop_map(|(i, at)| cut(FRAMES[i], at).to_owned()),
        (pick.clone(), pick.clone(), any::<usize>(), any::<usize>()).prop_map(|(i, j, a, b)| {
            format!(
                "{}{}",
                cut(FRAMES[i], a),
                &FRAMES[j][cut(FRAMES[j], b).len()..]
            )
        }),
        (pick.clone(), any::<usize>(), junk).prop_map(|(i, at, j)| {
            let head = cut(FRAMES[i], at);
            format!("{head}{j}{}", &FRAMES[i][head.len()..])
        }),
        pick.prop_map(|i| FRAMES[i].to_owned()),
        ".{0,120}",
    ]
}

fn cut(s: &str, at: usize) -> &str {
    let mut at = at % (s.len() + 1);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

fn check_readers(text: &str) -> Result<(), TestCaseError> {
    let fast = ClientMsg::from_json(text).ok();
    let derived = serde_json::from_str::<ClientMsg>(text).ok();
    prop_assert_eq!(fast, derived, "client readers disagree on {}", text);
    let fast = ServerMsg::from_json(text).ok();
    let derived = serde_json::from_str::<ServerMsg>(text).ok();
    prop_assert_eq!(fast, derived, "server readers disagree on {}", text);
    let _ = serde_json::from_str::<AdminClientMsg>(text);
    let _ = serde_json::from_str::<Population>(text);
    let _ = population::parse(text, "fuzz.yaml");
    Ok(())
}

/// A server in its own thread, with users alice/laptop and bob/phone; its device URL.
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let yaml = "users:\n  - name: alice\n    devices: [{label: laptop, token: alice-secret}]\n  - name: bob\n    devices: [{label: phone, token: bob-secret}]\n";
                let pop = population::parse(yaml, "fuzz").unwrap();
                let (core, creds) = population::build(&pop, &Limits::default(), &[]).unwrap();
                let server = ServerHandle::start_with(core, creds, &[], ServerConfig::default(), None);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(format!("ws://{}", listener.local_addr().unwrap())).unwrap();
                let (_keep, stop) = tokio::sync::watch::channel(false);
                serve_front(listener, server, Front::new(stop)).await;
            });
        });
        rx.recv_timeout(Duration::from_secs(10)).unwrap()
    })
}

/// Sends `frames` on one connection (after a valid hello when `hello`), reading every answer
/// within a deadline; then checks that bob can still connect and be answered. `Err` names what
/// went wrong.
async fn drive(hello: bool, frames: &[String]) -> Result<(), String> {
    let deadline = Duration::from_secs(5);
    let url = server();
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| e.to_string())?;
    if hello {
        ws.send(Message::text(FRAMES[0]))
            .await
            .map_err(|e| e.to_string())?;
    }
    for f in frames {
        if ws.send(Message::text(f.clone())).await.is_err() {
            break; // The server closed: a coded error came first (checked below).
        }
    }
    // Read until the server closes or goes quiet; every message must be one of ours.
    loop {
        match tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
            Err(_) | Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(Message::Text(t)))) => {
                let m = ServerMsg::from_json(&t).map_err(|e| format!("{e}: {t}"))?;
                if let ServerMsg::Error { code, .. } = m
                    && !(900..=910).contains(&code)
                {
                    return Err(format!("connection error with code {code}"));
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    }
    drop(ws);
    // The server still serves: bob connects and is answered.
    let check = async {
        let (mut bob, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| e.to_string())?;
        let hello = r#"{"type":"hello","protocol":"callconf-wire/1","user":"bob","device":"phone","token":"bob-secret"}"#;
        bob.send(Message::text(hello))
            .await
            .map_err(|e| e.to_string())?;
        let Some(Ok(Message::Text(t))) = bob.next().await else {
            return Err("no welcome for bob".to_owned());
        };
        match ServerMsg::from_json(&t) {
            Ok(ServerMsg::Welcome { .. }) => Ok(()),
            // Bob's previous connection may not have been noticed closed yet.
            Ok(ServerMsg::Error { code: 903, .. }) => Ok(()),
            other => Err(format!("bob got {other:?}")),
        }
    };
    tokio::time::timeout(deadline, check)
        .await
        .map_err(|_| "the server hung".to_owned())?
}

proptest! {
    #![proptest_config(config(512, REGRESSIONS))]

    #[test]
    fn arbitrary_bytes_never_panic_the_frame_readers(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check_readers(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn cut_and_spliced_frames_are_read_alike_by_both_readers(text in frame()) {
        check_readers(&text)?;
    }
}

proptest! {
    // Each case opens real connections; 64 of them take a few seconds.
    #![proptest_config(config(64, REGRESSIONS))]

    #[test]
    fn a_server_fed_cut_and_spliced_frames_answers_with_codes_and_goes_on(
        hello in any::<bool>(),
        frames in prop::collection::vec(frame(), 1..6),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result = rt.block_on(drive(hello, &frames));
        prop_assert!(result.is_ok(), "{:?}", result);
    }
}
