//! `--inject-fault NAME` starts a server with one of the core's deliberate bugs on, so that a
//! certification run can be shown to catch it; an unknown name is refused with the known ones.

use std::process::Command;

use serde_json::json;

use super::common::{Serve, fixture};

#[test]
fn an_unknown_fault_is_935_with_the_known_names() {
    let out = Command::new(env!("CARGO_BIN_EXE_callconf"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--inject-fault",
            "gremlins",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error 935") && err.contains("ring-timeout-never-fires"),
        "{err}"
    );
}

/// Alice calls bob, nobody answers, and the manual clock passes the ring timeout: whether the
/// call ended.
fn unanswered_call_ends(args: &[&str]) -> bool {
    let mut all = vec!["--clock", "manual", "--population"];
    let pop = fixture("two_users.yaml");
    all.push(&pop);
    all.extend_from_slice(args);
    let s = Serve::start(&all);
    let mut admin = s.admin();
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let (_bob, _) = s.device("bob", "phone", "bob-secret");
    alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}));
    let fired = admin.ok(json!({"op": "advance", "ms": 60_000}))["fired"].clone();
    !fired.as_array().unwrap().is_empty()
}

#[test]
fn an_injected_fault_changes_what_the_server_does() {
    assert!(unanswered_call_ends(&[]));
    assert!(!unanswered_call_ends(&[
        "--inject-fault",
        "ring-timeout-never-fires"
    ]));
}

#[test]
fn an_injected_fault_survives_a_reset() {
    let pop = fixture("two_users.yaml");
    let s = Serve::start(&[
        "--clock",
        "manual",
        "--inject-fault",
        "ring-timeout-never-fires",
    ]);
    let mut admin = s.admin();
    let text = std::fs::read_to_string(&pop).unwrap();
    let population: serde_json::Value = yaml_value(&text);
    admin.ok(json!({"op": "provision", "population": population}));
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let (_bob, _) = s.device("bob", "phone", "bob-secret");
    alice.call(json!({"op": "place", "invitees": ["bob"], "call_type": "audio"}));
    let fired = admin.ok(json!({"op": "advance", "ms": 60_000}))["fired"].clone();
    assert_eq!(fired, json!([]));
}

fn yaml_value(yaml: &str) -> serde_json::Value {
    serde_yaml::from_str(yaml).unwrap()
}
