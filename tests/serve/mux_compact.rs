//! The compact encoding (docs/wire-protocol.md §9): MessagePack values in binary frames,
//! negotiated by `open`. The same messages as the JSON ones round trip through the server, and
//! a frame that does not decode is answered with a coded error, not a panic.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::common::{Conn, PROTOCOL, Serve, hello};

fn open_compact(s: &Serve, features: Value) -> Conn {
    let mut c = Conn::open(&s.devices);
    c.send(
        &json!({"type": "open", "protocol": PROTOCOL, "features": features,
                   "encoding": "compact"}),
    );
    let o = c.recv().expect("opened, in JSON");
    assert_eq!(
        (o["type"].as_str(), o["encoding"].as_str()),
        (Some("opened"), Some("compact"))
    );
    c
}

fn send(c: &mut Conn, v: &Value) {
    c.send_frame(Message::binary(rmp_serde::to_vec_named(v).unwrap()));
}

fn recv(c: &mut Conn) -> Value {
    match c.recv_frame().expect("a frame") {
        Message::Binary(b) => rmp_serde::from_slice(&b).expect("MessagePack"),
        other => panic!("not a binary frame: {other:?}"),
    }
}

#[test]
fn a_device_speaks_compact_on_a_connection_of_its_own() {
    let s = Serve::populated();
    let (mut bob, _) = s.device("bob", "phone", "bob-secret");
    let mut c = open_compact(&s, json!([]));
    send(&mut c, &hello("alice", "laptop", "alice-secret"));
    let w = recv(&mut c);
    assert_eq!(
        (w["type"].as_str(), w["device"].as_u64()),
        (Some("welcome"), Some(0)),
        "{w}"
    );
    send(
        &mut c,
        &json!({"type": "request", "id": 3,
        "op": {"op": "place", "invitees": ["bob"], "call_type": "video",
               "headers": [["X-Ticket", "42"]]}}),
    );
    let r = recv(&mut c);
    assert_eq!(r["id"], 3, "{r}");
    assert_eq!(r["result"]["Ok"]["reply"], "placed", "{r}");
    send(
        &mut c,
        &json!({"type": "request", "id": 4, "op": {"op": "get_call", "call": 1}}),
    );
    let snap = loop {
        let m = recv(&mut c);
        if m["type"] == "reply" && m["id"] == 4 {
            break m;
        }
    };
    assert_eq!(snap["result"]["Ok"]["call_type"], "video", "{snap}");
    assert_eq!(snap["result"]["Ok"]["caller"], "alice", "{snap}");
    // The JSON device hears the compact device's call, header and all.
    let inv = bob.event_where(|e| e["event"] == "incoming");
    assert_eq!(inv["info"]["headers"], json!([["X-Ticket", "42"]]), "{inv}");
}

#[test]
fn devices_share_a_compact_connection() {
    let s = Serve::populated();
    let mut c = open_compact(&s, json!(["mux"]));
    send(
        &mut c,
        &json!([
            [1, hello("alice", "laptop", "alice-secret")],
            [2, hello("bob", "phone", "bob-secreT")]
        ]),
    );
    let mut got = Vec::new();
    while got.len() < 2 {
        let b = recv(&mut c);
        for p in b.as_array().expect("a batch") {
            got.push((
                p[0].as_u64().unwrap(),
                p[1]["type"].as_str().unwrap().to_owned(),
                p[1]["code"].as_u64(),
            ));
        }
    }
    assert_eq!(
        got,
        vec![
            (1, "welcome".to_owned(), None),
            (2, "error".to_owned(), Some(902))
        ]
    );
}

#[test]
fn a_malformed_compact_frame_is_a_coded_error() {
    let s = Serve::populated();
    for (features, bytes) in [
        (json!([]), vec![0xc1u8, 0xff, 0x00]),
        (
            json!([]),
            rmp_serde::to_vec_named(&json!({"type": "hello", "user": 7})).unwrap(),
        ),
        (json!(["mux"]), vec![0x92, 0x01]),
        (json!(["mux"]), b"[[1,{}]]".to_vec()),
    ] {
        let mut c = open_compact(&s, features.clone());
        c.send_frame(Message::binary(bytes.clone()));
        let e = recv(&mut c);
        // On a shared connection the connection's own error comes as a batch on channel 0.
        let e = if features == json!(["mux"]) {
            assert_eq!(e[0][0], 0, "{e}");
            e[0][1].clone()
        } else {
            e
        };
        assert_eq!(
            (e["type"].as_str(), e["code"].as_u64()),
            (Some("error"), Some(900)),
            "{features} {bytes:?}: {e}"
        );
        assert!(c.is_closed());
    }
    // A text frame on a compact connection is refused the same way.
    let mut c = open_compact(&s, json!([]));
    c.send_text(&hello("alice", "laptop", "alice-secret").to_string());
    assert_eq!(recv(&mut c)["code"], 900);
    // The server is still there for the next connection.
    let (_a, id) = s.device("alice", "laptop", "alice-secret");
    assert_eq!(id, 0);
}
