//! Explore is bounded and says why it cannot run: the time budget stops new cases, an adapter
//! that lacks operations the model generates is refused up front with a coded error, and an
//! adapter that cannot be driven or breaks ends the run with a code, never a hang.

use std::time::{Duration, Instant};

use crate::{callconf, count_before};

#[test]
fn the_time_budget_stops_generating_cases() {
    let started = Instant::now();
    let (code, out) = callconf(&[
        "explore",
        "--cases",
        "100000000",
        "--time-budget",
        "1s",
        "--seed",
        "5",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the time budget ran out"), "{out}");
    let report = out
        .lines()
        .find(|l| l.contains("cases/s"))
        .unwrap_or_default();
    let cases = count_before(report, "cases").unwrap_or(0);
    assert!(cases > 0 && cases < 100_000_000, "{out}");
    assert!(started.elapsed() < Duration::from_secs(30), "{out}");
}

#[test]
fn an_adapter_lacking_operations_is_refused_up_front_naming_them() {
    let (code, out) = callconf(&[
        "explore",
        "--adapter",
        "python3 fixtures/adapters/misbehave.py silent",
        "--cases",
        "5",
        "--deadline-ms",
        "1000",
        "--quiet",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("error 1401"), "{out}");
    assert!(out.contains("lack ringing, accept"), "{out}");
}

#[test]
fn an_adapter_that_does_not_start_is_a_coded_error() {
    let (code, out) = callconf(&[
        "explore",
        "--adapter",
        "/nonexistent/adapter",
        "--cases",
        "5",
        "--quiet",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("error 1404"), "{out}");
}
