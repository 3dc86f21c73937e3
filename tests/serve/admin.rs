//! The admin channel provisions without closures: users, devices with tokens, groups, plans and
//! permissions; refused operations change nothing; a reset closes every device with 909.

use serde_json::json;

use super::common::{Admin, Conn, PROTOCOL, Serve};

fn empty() -> Serve {
    Serve::start(&["--clock", "manual"])
}

#[test]
fn a_wrong_admin_token_is_902() {
    let s = empty();
    let mut c = Conn::open(&s.admin);
    c.send(&json!({"type": "hello", "protocol": PROTOCOL, "token": "guess"}));
    assert_eq!(c.refusal(), 902);
}

#[test]
fn users_and_devices_added_over_the_admin_channel_can_connect_and_call() {
    let s = empty();
    let mut admin = s.admin();
    let r = admin.ok(
        json!({"op": "add_user", "name": "ann", "devices": [{"label": "web", "token": "ann-t"}]}),
    );
    assert_eq!(r["devices"], json!([0]));
    admin.ok(json!({"op": "add_user", "name": "ben"}));
    let r = admin.ok(json!({"op": "add_device", "user": "ben", "label": "app", "token": "ben-t"}));
    assert_eq!(r["devices"], json!([1]));
    let (mut ann, _) = s.device("ann", "web", "ann-t");
    let (mut ben, _) = s.device("ben", "app", "ben-t");
    let r = ann.call(json!({"op": "place", "invitees": ["ben"], "call_type": "video"}));
    assert_eq!(r["Ok"]["reply"], "placed", "{r}");
    ben.event_where(|e| e["event"] == "incoming");
}

#[test]
fn plans_and_groups_set_over_the_admin_channel_take_effect() {
    let s = Serve::populated();
    let mut admin = s.admin();
    let audio_only = json!({"one_to_one_audio": true, "one_to_one_video": false, "group_calls": false, "max_participants": 2});
    admin.ok(json!({"op": "set_user", "user": "alice", "plan": audio_only}));
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let r = alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "video"}));
    assert_eq!(r["Err"]["code"], 403, "{r}");
    admin.ok(json!({"op": "add_group", "name": "team", "members": ["alice", "bob", "carol"]}));
    let again = admin.result(json!({"op": "add_group", "name": "team", "members": ["alice"]}));
    assert_eq!(again["Err"]["code"], 400, "{again}");
    admin.ok(json!({"op": "remove_group", "group": "team"}));
    let gone = admin.result(json!({"op": "remove_group", "group": "team"}));
    assert_eq!(gone["Err"]["code"], 404, "{gone}");
}

#[test]
fn refused_admin_operations_change_nothing() {
    let s = Serve::populated();
    let mut admin = s.admin();
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let before = admin.state();
    let refusals = [
        (json!({"op": "add_user", "name": "alice"}), 400),
        (
            json!({"op": "add_user", "name": "dan", "devices": [{"label": "a", "token": "x"}, {"label": "a", "token": "y"}]}),
            400,
        ),
        (
            json!({"op": "add_device", "user": "alice", "label": "laptop", "token": "x"}),
            400,
        ),
        (
            json!({"op": "add_device", "user": "alice", "label": "new", "token": ""}),
            400,
        ),
        (
            json!({"op": "add_device", "user": "zed", "label": "new", "token": "x"}),
            404,
        ),
        (json!({"op": "remove_user", "user": "alice"}), 422),
        (
            json!({"op": "add_group", "name": "g", "members": ["alice", "zed"]}),
            404,
        ),
        (
            json!({"op": "provision", "population": {"users": [{"name": "x"}, {"name": "x"}]}}),
            400,
        ),
        (json!({"op": "advance", "ms": 100_000_000_000u64}), 413),
    ];
    for (op, code) in refusals {
        let r = admin.result(op.clone());
        assert_eq!(r["Err"]["code"], code, "{op} → {r}");
        assert_eq!(admin.state(), before, "{op} changed something");
    }
    assert!(alice.drain().is_empty());
    // Alice is still connected and served.
    let r = alice.call(json!({"op": "get_call", "call": 1}));
    assert_eq!(r["Err"]["code"], 404);
}

#[test]
fn removing_a_connected_device_closes_it_with_909_and_its_token_stops_working() {
    let s = Serve::populated();
    let mut admin = s.admin();
    let (mut bob, _) = s.device("bob", "phone", "bob-secret");
    admin.ok(json!({"op": "remove_device", "user": "bob", "label": "phone"}));
    assert_eq!(bob.refusal(), 909);
    let mut again = Conn::open(&s.devices);
    again.send(&super::common::hello("bob", "phone", "bob-secret"));
    assert_eq!(again.refusal(), 902);
    admin.ok(json!({"op": "remove_user", "user": "bob"}));
    let status = admin.ok(json!({"op": "status"}));
    assert_eq!(status["users"], 2);
}

#[test]
fn a_reset_ends_calls_closes_devices_with_909_and_empties_the_server() {
    let s = Serve::populated();
    let mut admin = s.admin();
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let (mut bob, _) = s.device("bob", "phone", "bob-secret");
    alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}));
    admin.ok(json!({"op": "advance", "ms": 250}));
    admin.ok(json!({"op": "reset"}));
    // Alice, evicted first, leaves her call: bob hears it end before his own 909.
    assert_eq!(alice.closing().1, 909);
    let (events, code) = bob.closing();
    assert_eq!(code, 909);
    let ended = events.last().expect("bob's last event");
    assert_eq!(
        ended["reason"],
        json!({"disconnected": {"user": "alice"}}),
        "{ended}"
    );
    let status = admin.ok(json!({"op": "status"}));
    assert_eq!(status["users"], 0);
    assert_eq!(status["connected"], 0);
    assert_eq!(status["now_ms"], 0, "the manual clock is back at 0");
    assert_eq!(status["trace_next"], 0);
    // Provisioning again brings the population back.
    let pop =
        json!({"users": [{"name": "alice", "devices": [{"label": "laptop", "token": "new"}]}]});
    admin.ok(json!({"op": "provision", "population": pop}));
    let (_alice, id) = s.device("alice", "laptop", "new");
    assert_eq!(id, 0);
}

#[test]
fn the_admin_reads_limits_and_calls() {
    let s = Serve::populated();
    let mut admin: Admin = s.admin();
    let limits = admin.ok(json!({"op": "limits"}));
    assert_eq!(limits["limits"]["ring_timeout_ms"], 30000);
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let (_bob, _) = s.device("bob", "phone", "bob-secret");
    let r = alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}));
    let call = r["Ok"]["call"].clone();
    let snap = admin.ok(json!({"op": "get_call", "call": call}));
    assert_eq!(snap["call"]["caller"], "alice", "{snap}");
    assert_eq!(snap["call"]["status"], "calling");
}
