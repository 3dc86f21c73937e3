//! Adapters that break the protocol get a clear, coded reason and never hang or crash the run:
//! one that exits mid-scenario, writes a line that is not JSON, never answers, answers twice,
//! or reports events for a device it does not own (`fixtures/adapters/misbehave.py`).

use std::time::{Duration, Instant};

use super::certify;

const FEATURE: &str = "fixtures/adapters/one_call.feature";

fn run(mode: &str) -> (i32, String, Duration) {
    let adapter = format!("python3 fixtures/adapters/misbehave.py {mode}");
    let started = Instant::now();
    let (code, out) = certify(&[
        "--adapter",
        &adapter,
        "--features",
        FEATURE,
        "--deadline-ms",
        "1000",
    ]);
    (code, out, started.elapsed())
}

#[test]
fn each_misbehaviour_ends_its_scenario_with_a_coded_adapter_error() {
    for (mode, error) in [
        ("exit", "adapter error 1102"),
        ("malformed", "adapter error 1103"),
        ("silent", "adapter error 1104"),
        ("twice", "adapter error 1105"),
        ("foreign", "adapter error 1106"),
    ] {
        let (code, out, took) = run(mode);
        assert_ne!(code, 0, "{mode}: {out}");
        assert!(out.contains(error), "{mode}: expected {error} in:\n{out}");
        assert!(took < Duration::from_secs(30), "{mode} took {took:?}");
    }
}
