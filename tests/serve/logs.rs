//! The operator's log: a line per connection authenticated, refused (with the code) and closed,
//! and per admin operation — and never a token, neither a device's nor the admin's.

use serde_json::json;

use super::common::{ADMIN_TOKEN, Conn, Serve, fixture, hello};

#[test]
fn the_log_tells_what_happened_and_never_a_token() {
    let s = Serve::start(&["--log", "debug", "--population", &fixture("two_users.yaml")]);
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let mut wrong = Conn::open(&s.devices);
    wrong.send(&hello("bob", "phone", "bob-WRONG-zz9"));
    assert_eq!(wrong.refusal(), 902);
    let mut admin = s.admin();
    admin
        .ok(json!({"op": "add_device", "user": "carol", "label": "tab", "token": "carol-NEW-qq1"}));
    let bad = admin.result(json!({"op": "add_user", "name": "alice"}));
    assert_eq!(bad["Err"]["code"], 400);
    alice.send_text("{not json");
    assert_eq!(alice.refusal(), 900);
    let (_, log) = s.stop();
    for line in [
        "device authenticated",
        "device refused",
        "code=902",
        "admin authenticated",
        "op=\"add_device\"",
        "admin operation refused",
        "device connection closed",
        "code=900",
    ] {
        assert!(log.contains(line), "missing {line:?} in:\n{log}");
    }
    for secret in [
        "alice-secret",
        "bob-WRONG-zz9",
        "carol-NEW-qq1",
        "bob-secret",
        ADMIN_TOKEN,
    ] {
        assert!(!log.contains(secret), "{secret} leaked into:\n{log}");
    }
}
