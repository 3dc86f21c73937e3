//! `callconf load --realtime --adapter CMD` refuses, before any call, an adapter that lacks an
//! operation the scenario's users need, naming it.

use std::process::Command;

const SCENARIO: &str = "name: adapter_one_to_one
seed: 5
population: { users: 20, cells: 1 }
calls:
  total: 20
  arrival: { kind: constant, rate_per_s: 100 }
callee: { answer: 1.0, decline: 0.0, no_answer: 0.0, busy: 0.0,
          answer_delay_ms: { dist: constant, value: 0 } }
talk_time_ms: { dist: constant, value: 0 }
actions: { mute: 0.5 }
";

/// The scenario, written to a file of its own for this test.
fn scenario_file(test: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("callconf-{test}-{}.yaml", std::process::id()));
    std::fs::write(&path, SCENARIO).unwrap();
    path
}

#[test]
fn an_adapter_without_hangup_is_refused_naming_it() {
    let bin = env!("CARGO_BIN_EXE_callconf");
    let sc = scenario_file("unfit");
    let out = Command::new(bin)
        .arg("load")
        .arg(&sc)
        .args(["--realtime", "--quiet"])
        .args([
            "--adapter",
            &format!("'{bin}' adapter --without hangup,mute,transfer"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the adapter cannot carry this load")
            && stderr.contains("does not list: hangup, mute")
            && !stderr.contains("transfer"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&sc);
}
