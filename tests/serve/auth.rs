//! Every refused hello is answered with its code, closes the connection, and changes nothing:
//! the server's status and trace are as before, and no connected device hears anything.

use serde_json::json;

use super::common::{Admin, Conn, PROTOCOL, Serve, fixture, hello};

/// A server, with bob connected and an admin watching.
struct Watched {
    s: Serve,
    bob: Conn,
    admin: Admin,
}

fn server() -> Watched {
    let s = Serve::start(&[
        "--clock",
        "manual",
        "--population",
        &fixture("two_users.yaml"),
    ]);
    let (bob, _) = s.device("bob", "phone", "bob-secret");
    let admin = s.admin();
    Watched { s, bob, admin }
}

/// Sends `first` as a new connection's first message and returns the refusal code, checking
/// that nothing changed and that the already connected bob heard nothing.
fn refused(w: &mut Watched, first: serde_json::Value) -> u64 {
    let before = w.admin.state();
    let mut c = Conn::open(&w.s.devices);
    c.send(&first);
    let code = c.refusal();
    assert_eq!(w.admin.state(), before, "a refused hello changes nothing");
    assert!(w.bob.drain().is_empty(), "and tells nobody anything");
    code
}

#[test]
fn a_wrong_token_is_902() {
    let mut w = server();
    assert_eq!(
        refused(&mut w, hello("alice", "laptop", "alice-secreT")),
        902
    );
}

#[test]
fn another_users_device_with_ones_own_valid_token_is_902() {
    let mut w = server();
    // Alice's valid token opens neither bob's phone nor a label alice does not have.
    assert_eq!(refused(&mut w, hello("bob", "phone", "alice-secret")), 902);
    assert_eq!(
        refused(&mut w, hello("alice", "phone", "alice-secret")),
        902
    );
}

#[test]
fn unknown_users_and_devices_are_902_like_a_wrong_token() {
    let mut w = server();
    assert_eq!(
        refused(&mut w, hello("mallory", "laptop", "alice-secret")),
        902
    );
    assert_eq!(
        refused(&mut w, hello("alice", "tablet", "alice-secret")),
        902
    );
}

#[test]
fn a_missing_token_is_malformed_and_names_the_field_not_a_value() {
    let mut w = server();
    let no_token =
        json!({"type": "hello", "protocol": PROTOCOL, "user": "alice", "device": "laptop"});
    assert_eq!(refused(&mut w, no_token), 900);
    let mut c = Conn::open(&w.s.devices);
    // A token of the wrong type: serde would quote the value; the server must not echo it.
    c.send(&json!({"type": "hello", "protocol": PROTOCOL, "user": "alice", "device": 7, "token": "alice-secret"}));
    let m = c.recv().unwrap();
    assert_eq!(m["code"], 900);
    assert!(!m.to_string().contains("alice-secret"), "{m}");
}

#[test]
fn another_protocol_version_or_none_is_901() {
    let mut w = server();
    let mut v2 = hello("alice", "laptop", "alice-secret");
    v2["protocol"] = json!("callconf-wire/2");
    assert_eq!(refused(&mut w, v2), 901);
    let old = json!({"type": "hello", "device": 0});
    assert_eq!(refused(&mut w, old), 901);
}

#[test]
fn a_request_before_the_hello_is_904() {
    let mut w = server();
    let req = json!({"type": "request", "id": 1, "op": {"op": "get_call", "call": 1}});
    assert_eq!(refused(&mut w, req), 904);
}

#[test]
fn a_replayed_hello_for_a_connected_device_is_903_and_the_first_connection_goes_on() {
    let mut w = server();
    let (mut alice, _) = w.s.device("alice", "laptop", "alice-secret");
    assert_eq!(
        refused(&mut w, hello("alice", "laptop", "alice-secret")),
        903
    );
    // The first connection still acts for alice: a request is answered (404: no such call).
    let r = alice.call(json!({"op": "get_call", "call": 99}));
    assert_eq!(r["Err"]["code"], 404, "{r}");
}

#[test]
fn a_second_hello_on_a_welcomed_connection_is_904_and_closes_it() {
    let w = server();
    let (mut alice, _) = w.s.device("alice", "laptop", "alice-secret");
    alice.send(&hello("alice", "laptop", "alice-secret"));
    assert_eq!(alice.refusal(), 904);
    // Alice is offline again, so she can connect anew.
    let (_again, _) = w.s.device("alice", "laptop", "alice-secret");
}

#[test]
fn a_welcomed_device_acts_as_itself() {
    let mut w = server();
    let (mut alice, a) = w.s.device("alice", "laptop", "alice-secret");
    let b = 1;
    assert_ne!(a, b, "bob, provisioned second, is device 1");
    let r = alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}));
    assert_eq!(r["Ok"]["reply"], "placed", "{r}");
    let inc = w.bob.event_where(|e| e["event"] == "incoming");
    assert_eq!(inc["info"]["caller"], "alice");
}
