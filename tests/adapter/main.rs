//! `callconf certify --adapter`: the conformance suite out of process, through the reference
//! adapter and through the Python template adapter, against a `callconf serve --clock manual`
//! that certify starts itself; and proof that certification through an adapter catches every
//! deliberate bug the server can be started with.

mod dial_in;
mod dialects;
mod external_server;
mod faults;
mod fleet;
mod listeners;
mod misbehaving;
mod real_time;
mod suite;
mod verdicts;

use std::process::{Command, Output};

/// Runs `callconf certify ARGS` and returns its exit code and output.
pub fn certify(args: &[&str]) -> (i32, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_callconf"))
        .arg("certify")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("callconf runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The reference adapter's command line.
pub fn reference_adapter() -> String {
    format!("{} adapter", env!("CARGO_BIN_EXE_callconf"))
}

/// The passed count of a run's verdict line (`verdict: PASS — 232 passed, …`).
pub fn passed(out: &str) -> usize {
    out.lines()
        .find(|l| l.starts_with("verdict:"))
        .and_then(|l| l.split(" passed").next())
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
