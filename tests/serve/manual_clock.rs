//! The manual clock: time moves only when the admin says `advance`, each deadline fires at its
//! own time, a 30 s ring timeout costs no wall time, and two processes given the same inputs
//! write byte-identical traces.

use std::time::{Duration, Instant};

use serde_json::json;

use super::common::{Serve, fixture};

#[test]
fn a_ring_timeout_fires_exactly_when_the_clock_reaches_it_and_costs_no_wall_time() {
    let s = Serve::populated();
    let mut admin = s.admin();
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let (mut bob, _) = s.device("bob", "phone", "bob-secret");
    let started = Instant::now();
    alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}));
    bob.event_where(|e| e["event"] == "incoming");
    let r = admin.ok(json!({"op": "advance", "ms": 29_999}));
    assert_eq!(r["now_ms"], 29_999);
    assert_eq!(r["fired"], json!([]), "nothing is due before 30 s");
    let r = admin.ok(json!({"op": "advance", "ms": 60_000}));
    assert_eq!(r["now_ms"], 89_999);
    let fired = r["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 2, "{fired:?}");
    for d in fired {
        assert_eq!(
            d["at_ms"], 30_000,
            "the deadline fires at its own time: {d}"
        );
        assert_eq!(d["event"]["reason"], "no_answer");
    }
    let e = bob.event_where(|e| e["event"] == "ended");
    assert_eq!(e["reason"], "no_answer");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_clock_stands_still_between_advances() {
    let s = Serve::populated();
    let mut admin = s.admin();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(admin.ok(json!({"op": "status"}))["now_ms"], 0);
}

#[test]
fn advance_on_a_wall_clock_is_422() {
    let s = Serve::start(&["--population", &fixture("two_users.yaml")]);
    let r = s.admin().result(json!({"op": "advance", "ms": 10}));
    assert_eq!(r["Err"]["code"], 422, "{r}");
}

/// One scripted session: every step waits for its reply, so the core sees the same inputs in
/// the same order whatever the scheduling. Returns the whole trace as text.
fn session(s: &Serve) -> String {
    let mut admin = s.admin();
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let (mut bob, _) = s.device("bob", "phone", "bob-secret");
    let (mut carol, _) = s.device("carol", "phone", "carol-secret");
    let call = alice.call(
        json!({"op": "place", "invitees": ["bob"], "call_type": "video", "custom_data": "hi"}),
    )["Ok"]["call"]
        .clone();
    bob.call(json!({"op": "ringing", "call": call}));
    admin.ok(json!({"op": "advance", "ms": 1500}));
    bob.call(json!({"op": "accept", "call": call}));
    bob.call(json!({"op": "start_session", "call": call}));
    alice.call(json!({"op": "start_session", "call": call}));
    let busy = carol.call(json!({"op": "place", "invitees": ["alice"], "call_type": "audio"}));
    assert_eq!(busy["Err"]["code"], 486);
    alice.call(json!({"op": "dtmf", "call": call, "digits": "12#"}));
    admin.ok(json!({"op": "advance", "ms": 5000}));
    alice.call(json!({"op": "hangup", "call": call}));
    carol.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}));
    admin.ok(json!({"op": "advance", "ms": 30_000}));
    drop(carol);
    // The disconnection reaches the server asynchronously; wait until it is in the trace.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let status = admin.ok(json!({"op": "status"}));
        if status["connected"] == 2 || Instant::now() > until {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    admin.ok(json!({"op": "trace"})).to_string()
}

#[test]
fn two_processes_given_the_same_inputs_write_byte_identical_traces() {
    let (a, b) = (Serve::populated(), Serve::populated());
    let (ta, tb) = (session(&a), session(&b));
    assert!(ta.contains("no_answer") && ta.contains("\"dtmf\""), "{ta}");
    assert_eq!(ta, tb);
}
