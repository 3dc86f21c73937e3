//! The example exchange in docs/wire-protocol.md §4 is what the server really sends: this test
//! runs the documented 1:1 call (place, ring, accept, hang up) and compares every frame with the
//! block between the `example:start` and `example:end` markers. On a mismatch it prints the
//! exchange as it is now, ready to paste.

use serde_json::{Value, json};

use super::common::{Conn, Serve, fixture, hello};

/// One line of the transcript: who, which direction, the frame.
fn line(out: &mut Vec<String>, who: &str, arrow: &str, v: &Value) {
    out.push(format!("{who:5} {arrow} {v}"));
}

/// Sends a frame from `who` and records everything both devices receive before it goes quiet:
/// the sender's frames first, then the other's.
fn step(out: &mut Vec<String>, from: (&str, &mut Conn), other: (&str, &mut Conn), frame: Value) {
    line(out, from.0, "→", &frame);
    from.1.send(&frame);
    for m in from.1.drain() {
        line(out, from.0, "←", &m);
    }
    for m in other.1.drain() {
        line(out, other.0, "←", &m);
    }
}

fn req(id: u64, op: Value) -> Value {
    json!({"type": "request", "id": id, "op": op})
}

fn exchange() -> Vec<String> {
    let s = Serve::start(&[
        "--clock",
        "manual",
        "--population",
        &fixture("example.yaml"),
    ]);
    let mut out = Vec::new();
    let mut alice = Conn::open(&s.devices);
    let mut bob = Conn::open(&s.devices);
    let (a, b) = ("alice", "bob");
    step(
        &mut out,
        (a, &mut alice),
        (b, &mut bob),
        hello("alice", "laptop", "alice-secret"),
    );
    step(
        &mut out,
        (b, &mut bob),
        (a, &mut alice),
        hello("bob", "phone", "bob-secret"),
    );
    let place = json!({"op": "place", "invitees": ["bob"], "call_type": "audio"});
    step(&mut out, (a, &mut alice), (b, &mut bob), req(1, place));
    step(
        &mut out,
        (b, &mut bob),
        (a, &mut alice),
        req(1, json!({"op": "ringing", "call": 1})),
    );
    step(
        &mut out,
        (b, &mut bob),
        (a, &mut alice),
        req(2, json!({"op": "accept", "call": 1})),
    );
    let start = json!({"op": "start_session", "call": 1});
    step(
        &mut out,
        (b, &mut bob),
        (a, &mut alice),
        req(3, start.clone()),
    );
    step(&mut out, (a, &mut alice), (b, &mut bob), req(2, start));
    step(
        &mut out,
        (b, &mut bob),
        (a, &mut alice),
        req(4, json!({"op": "hangup", "call": 1})),
    );
    out
}

#[test]
fn the_documented_example_is_what_the_server_sends() {
    let doc = std::fs::read_to_string(format!(
        "{}/docs/wire-protocol.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let begin = doc.find("<!-- example:start -->").expect("start marker");
    let end = doc.find("<!-- example:end -->").expect("end marker");
    let documented: Vec<String> = doc[begin..end]
        .lines()
        .filter(|l| l.starts_with("alice") || l.starts_with("bob"))
        .map(str::to_owned)
        .collect();
    let actual = exchange();
    assert!(
        documented == actual,
        "the example in docs/wire-protocol.md differs from the server; now:\n{}",
        actual.join("\n")
    );
}
