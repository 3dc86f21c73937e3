//! Exploring a system whose clock cannot be driven (`callconf adapter --real-time` declares
//! `clock: none`): time-passing steps really wait, every amount of time a multiple of 500 ms
//! and the ring timeout shortened to 1 s so that no operation lands just short of a deadline,
//! and times compared within the real-time slack. Faults of time and of events are found.

use crate::{callconf, count_before, reference_adapter};

/// Steps a case in the clean runs: fewer than the default, so that a loaded host (the other
/// tests run beside these) keeps the server's lead under the 200 ms a real-time case allows.
const STEPS_MAX: &str = "15";

fn real_time_adapter() -> String {
    format!("{} --real-time", reference_adapter())
}

#[test]
fn a_correct_server_agrees_in_real_time() {
    let adapter = real_time_adapter();
    let (code, out) = callconf(&[
        "explore",
        "--adapter",
        &adapter,
        "--cases",
        "8",
        "--seed",
        "5",
        "--steps-max",
        STEPS_MAX,
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ring timeout 1000 ms, real time"), "{out}");
    assert_eq!(count_before(&out, "cases"), Some(8), "{out}");
}

#[test]
fn the_python_adapter_agrees_in_real_time() {
    // The template declares a driven clock; `--real-time` runs it on the wall clock anyway.
    let (code, out) = callconf(&[
        "explore",
        "--adapter",
        "python3 adapters/python/adapter.py",
        "--real-time",
        "--cases",
        "5",
        "--steps-max",
        STEPS_MAX,
        "--seed",
        "5",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("real time"), "{out}");
    assert_eq!(count_before(&out, "cases"), Some(5), "{out}");
}

#[test]
fn a_ring_timeout_that_never_fires_is_found_in_real_time() {
    let adapter = real_time_adapter();
    let (code, out) = callconf(&[
        "explore",
        "--adapter",
        &adapter,
        "--inject-fault",
        "ring-timeout-never-fires",
        "--cases",
        "10",
        "--seed",
        "2",
        "--quiet",
    ]);
    assert_eq!(code, 1, "not found:\n{out}");
    assert!(out.contains("1000 ms") || out.contains("pass"), "{out}");
}

#[test]
fn a_ring_timeout_off_the_quantum_is_refused_in_real_time() {
    let adapter = real_time_adapter();
    let (code, out) = callconf(&[
        "explore",
        "--adapter",
        &adapter,
        "--ring-timeout-ms",
        "2100",
        "--cases",
        "1",
        "--quiet",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("1405") && out.contains("multiple of 500"),
        "{out}"
    );
}
