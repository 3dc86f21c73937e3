//! `callconf load --realtime --adapter CMD` refuses, before any call, an adapter that lacks an
//! operation the scenario's users need, naming it.

use std::process::Command;

use crate::adapter_scenario_file as scenario_file;

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
