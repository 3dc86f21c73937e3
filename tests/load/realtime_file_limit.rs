//! A real-time run holds both ends of every device's socket, two open files per user. Short of
//! them it raises its soft limit up to the hard one, and below the hard one it stops before
//! connecting, with the numbers, instead of failing at some connection midway.

use std::process::Command;

/// Runs `callconf ARGS` under `sh` after `ulimit LIMIT` (e.g. `-n 300`: soft and hard).
fn callconf_with_limit(limit: &str, args: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit {limit} && exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_callconf"))
        .output()
        .expect("sh runs")
}

#[test]
fn too_low_a_hard_limit_stops_the_run_with_the_numbers() {
    let out = callconf_with_limit(
        "-n 300",
        "load scenarios/realtime_9000.yaml --realtime --quiet",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("4000 users need 8064 open files") && stderr.contains("ulimit -n 8064"),
        "{stderr}"
    );
}

#[test]
fn a_short_soft_limit_is_raised() {
    let text = std::fs::read_to_string("scenarios/realtime_9000.yaml")
        .unwrap()
        .replace("users: 4000", "users: 300")
        .replace("total: 90000", "total: 300")
        .replace("rate_per_s: 9000", "rate_per_s: 600")
        .replace("min: 8900", "min: 1");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("realtime_300_users.yaml");
    std::fs::write(&path, text).unwrap();
    // 300 users need 664 files; the soft limit starts at 300 and the hard one is left as it is.
    let out = callconf_with_limit(
        "-Sn 300",
        &format!("load {} --realtime --quiet", path.display()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
}
