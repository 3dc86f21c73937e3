//! An adapter that says hello and then answers nothing ends a `load --adapter` run with the
//! driver protocol's timeout (1104) within the deadline, instead of hanging.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::adapter_scenario_file as scenario_file;

#[test]
fn a_silent_adapter_times_out() {
    let hello = r#"{"type":"hello","protocol":"callconf-driver/1","adapter":{"name":"mute","version":"0"},"sdk":{"name":"none","version":"0"},"capabilities":{"operations":["place","accept","decline","cancel","hangup","hold","mute","dtmf"],"provisioning":"server","clock":"none","max_devices":100000,"automatic":[]}}"#;
    let script = std::env::temp_dir().join(format!("callconf-silent-{}.sh", std::process::id()));
    std::fs::write(&script, format!("echo '{hello}'\nexec sleep 60\n")).unwrap();
    let bin = env!("CARGO_BIN_EXE_callconf");
    let sc = scenario_file("silent");
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("load")
        .arg(&sc)
        .args(["--realtime", "--quiet"])
        .args(["--adapter", &format!("sh '{}'", script.display())])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not answer `device.open` within 5000 ms")
            && stderr.contains("driver code 1104"),
        "{stderr}"
    );
    // The deadline (5 s) and the adapter's kill, not the adapter's 60 s.
    assert!(started.elapsed() < Duration::from_secs(30));
    let _ = std::fs::remove_file(&script);
    let _ = std::fs::remove_file(&sc);
}
