//! Several devices on one shared connection (`mux`, docs/wire-protocol.md §9): each device
//! authenticates with its own hello on its own channel; a refused hello is answered on its
//! channel, changes nothing, and leaves the connection's other devices as they were.

use serde_json::{Value, json};

use super::common::{Conn, PROTOCOL, Serve, hello};

/// A connection that negotiated `mux` in JSON.
fn shared(s: &Serve) -> Conn {
    let mut c = Conn::open(&s.devices);
    c.send(
        &json!({"type": "open", "protocol": PROTOCOL, "features": ["mux", "later"],
                   "encoding": "json"}),
    );
    let o = c.recv().expect("opened");
    assert_eq!(o["type"], "opened", "{o}");
    // Granted: what the server speaks of what was asked, not the unknown feature.
    assert_eq!(o["features"], json!(["mux"]), "{o}");
    assert_eq!(o["encoding"], "json");
    c
}

/// The next batch's `[channel, message]` pairs.
fn batch(c: &mut Conn) -> Vec<(u64, Value)> {
    let b = c.recv().expect("a batch");
    b.as_array()
        .unwrap_or_else(|| panic!("a batch is an array: {b}"))
        .iter()
        .map(|p| (p[0].as_u64().expect("a channel"), p[1].clone()))
        .collect()
}

/// Pairs until `n` have come for `channel`; all of them, in order (others' are dropped).
fn on_channel(c: &mut Conn, channel: u64, n: usize) -> Vec<Value> {
    let mut got = Vec::new();
    while got.len() < n {
        for (ch, m) in batch(c) {
            if ch == channel {
                got.push(m);
            }
        }
    }
    got
}

/// The next `n` pairs, whatever their channels.
fn pairs(c: &mut Conn, n: usize) -> Vec<(u64, Value)> {
    let mut got = Vec::new();
    while got.len() < n {
        got.extend(batch(c));
    }
    got
}

#[test]
fn each_device_authenticates_on_its_own_channel_and_calls_cross_the_connection() {
    let s = Serve::populated();
    let mut c = shared(&s);
    c.send(&json!([
        [1, hello("alice", "laptop", "alice-secret")],
        [2, hello("bob", "phone", "bob-secret")]
    ]));
    let got: Vec<_> = pairs(&mut c, 2)
        .into_iter()
        .map(|(ch, m)| {
            (
                ch,
                m["type"].as_str().map(str::to_owned),
                m["device"].as_u64(),
            )
        })
        .collect();
    let welcome = Some("welcome".to_owned());
    assert_eq!(
        got,
        vec![(1, welcome.clone(), Some(0)), (2, welcome, Some(1))]
    );
    // Alice calls bob: the reply on alice's channel, the invitation on bob's.
    c.send(&json!([[1, {"type": "request", "id": 7,
        "op": {"op": "place", "invitees": ["bob"], "call_type": "audio"}}]]));
    let (mut reply, mut incoming) = (None, None);
    while reply.is_none() || incoming.is_none() {
        for (ch, m) in batch(&mut c) {
            match (ch, m["type"].as_str()) {
                (1, Some("reply")) => reply = Some(m),
                (2, Some("event")) if m["delivery"]["event"]["event"] == "incoming" => {
                    assert_eq!(m["delivery"]["device"], 1, "{m}");
                    incoming = Some(m);
                }
                _ => {}
            }
        }
    }
    let reply = reply.unwrap();
    assert_eq!(reply["id"], 7);
    assert_eq!(reply["result"]["Ok"]["reply"], "placed", "{reply}");
}

#[test]
fn a_refused_hello_on_a_shared_connection_changes_nothing_and_the_others_go_on() {
    let s = Serve::populated();
    let mut admin = s.admin();
    let mut c = shared(&s);
    c.send(&json!([[1, hello("alice", "laptop", "alice-secret")]]));
    assert_eq!(on_channel(&mut c, 1, 1)[0]["type"], "welcome");
    let before = admin.state();
    // Bob with a wrong token, carol with alice's valid one, a request on a channel without a
    // device: each refused on its own channel.
    c.send(&json!([[2, hello("bob", "phone", "bob-secreT")],
                   [3, hello("carol", "phone", "alice-secret")],
                   [4, {"type": "request", "id": 1, "op": {"op": "get_call", "call": 1}}]]));
    let mut codes = Vec::new();
    while codes.len() < 3 {
        for (ch, m) in batch(&mut c) {
            assert_eq!(m["type"], "error", "{ch} {m}");
            assert!(!m.to_string().contains("secre"), "no token echoed: {m}");
            codes.push((ch, m["code"].as_u64().unwrap()));
        }
    }
    assert_eq!(codes, vec![(2, 902), (3, 902), (4, 904)]);
    assert_eq!(admin.state(), before, "a refused hello changes nothing");
    // Alice's channel goes on.
    c.send(&json!([[1, {"type": "request", "id": 9,
        "op": {"op": "place", "invitees": ["bob"], "call_type": "audio"}}]]));
    let r = on_channel(&mut c, 1, 1).remove(0);
    assert_eq!(
        (r["type"].as_str(), r["id"].as_u64()),
        (Some("reply"), Some(9)),
        "{r}"
    );
    // Bob's refused hello left him offline: unavailable (480). With his right token he joins
    // on the same channel.
    assert_eq!(r["result"]["Err"]["code"], 480, "{r}");
    c.send(&json!([[2, hello("bob", "phone", "bob-secret")]]));
    let w = on_channel(&mut c, 2, 1).remove(0);
    assert_eq!(w["type"], "welcome", "{w}");
}

#[test]
fn a_device_already_connected_alone_is_refused_on_a_shared_connection_with_903() {
    let s = Serve::populated();
    let (_bob, _) = s.device("bob", "phone", "bob-secret");
    let mut c = shared(&s);
    c.send(&json!([
        [5, hello("bob", "phone", "bob-secret")],
        [6, hello("alice", "laptop", "alice-secret")]
    ]));
    let got = pairs(&mut c, 2);
    let (bob, alice) = (&got[0], &got[1]);
    assert_eq!(bob.0, 5);
    assert_eq!(
        (bob.1["type"].as_str(), bob.1["code"].as_u64()),
        (Some("error"), Some(903))
    );
    assert_eq!(
        (alice.0, alice.1["type"].as_str()),
        (6, Some("welcome")),
        "{got:?}"
    );
}

#[test]
fn a_malformed_batch_closes_the_connection_with_900_on_channel_0() {
    let s = Serve::populated();
    let mut c = shared(&s);
    c.send(&json!([[1, hello("alice", "laptop", "alice-secret")]]));
    assert_eq!(on_channel(&mut c, 1, 1)[0]["type"], "welcome");
    c.send(&json!([[1, {"type": "request", "id": 1, "op": {"op": "nope"}}]]));
    let e = on_channel(&mut c, 0, 1).remove(0);
    assert_eq!(
        (e["type"].as_str(), e["code"].as_u64()),
        (Some("error"), Some(900)),
        "{e}"
    );
    assert!(c.is_closed());
}

#[test]
fn an_open_naming_another_protocol_or_encoding_is_901() {
    let s = Serve::populated();
    for (protocol, encoding) in [("callconf-wire/0", "json"), (PROTOCOL, "xml")] {
        let mut c = Conn::open(&s.devices);
        c.send(
            &json!({"type": "open", "protocol": protocol, "features": ["mux"],
                       "encoding": encoding}),
        );
        assert_eq!(c.refusal(), 901, "{protocol} {encoding}");
    }
}
