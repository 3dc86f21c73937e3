//! SIGTERM stops the server cleanly: open calls end with a reason, every device is sent 910
//! and a close frame, and the process exits with success.

use serde_json::json;

use super::common::{Serve, fixture};

#[test]
fn sigterm_ends_calls_tells_every_device_910_and_exits_cleanly() {
    let s = Serve::start(&["--population", &fixture("two_users.yaml")]);
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let (mut bob, _) = s.device("bob", "phone", "bob-secret");
    let call = alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}))["Ok"]
        ["call"]
        .clone();
    bob.event_where(|e| e["event"] == "incoming");
    bob.call(json!({"op": "accept", "call": call}));
    alice.event_where(|e| e["event"] == "participant" && e["state"] == "joined");
    let (clean, log) = s.stop();
    assert!(clean, "exit status: {log}");
    // Alice (device 0) is closed first: her call ends, and bob hears why before his own 910.
    assert_eq!(alice.closing().1, 910);
    let (events, code) = bob.closing();
    assert_eq!(code, 910);
    let ended = events.last().expect("bob's last event");
    assert_eq!(ended["event"], "ended");
    assert_eq!(ended["reason"], json!({"disconnected": {"user": "alice"}}));
    assert!(log.contains("shutting down"), "{log}");
}
