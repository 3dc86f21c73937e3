//! `certify --profile NAME --adapter CMD`: the reference server emulating a dialect, behind an
//! adapter, passes that dialect's whole suite as the in-process run does: the same passes,
//! with what the dialect lacks unimplemented and its rules' other scenarios skipped. CometChat
//! (no ring acknowledgement, the session step) and Stream (its own rules) through the
//! reference adapter; Voximplant through the Python one.

use super::{certify, passed, reference_adapter};

fn same_as_in_process(profile: &str, adapter: &str) {
    let (code, local) = certify(&["--profile", profile]);
    assert_eq!(code, 0, "{local}");
    // A quiet window of 10 ms, not the default 2: an adapter's automatic steps (a callee's
    // ringing acknowledgement) must reach the server within it, and with the other tests of this
    // binary running beside it on two cores one once came later, so that a scenario's next
    // "nobody sees anything more" saw it (busy.feature:28 under stream, 2026-12-04).
    let (code, out) = certify(&[
        "--profile",
        profile,
        "--adapter",
        adapter,
        "--quiet-ms",
        "10",
    ]);
    assert_eq!(code, 0, "{profile} through {adapter}:\n{out}");
    assert_eq!(passed(&out), passed(&local), "{out}");
    assert!(passed(&out) > 150, "{out}");
    let verdict = out
        .lines()
        .find(|l| l.starts_with("verdict:"))
        .unwrap_or_default();
    let local_verdict = local
        .lines()
        .find(|l| l.starts_with("verdict:"))
        .unwrap_or_default();
    // `verdict: PASS — 184 passed, 105 unimplemented, 11 skipped, in 7.23s`: all but the time.
    let counts = |v: &str| {
        v.rsplit_once(", in ")
            .map(|(c, _)| c.to_owned())
            .unwrap_or_default()
    };
    assert_eq!(counts(verdict), counts(local_verdict), "{out}");
}

#[test]
fn cometchat_through_the_reference_adapter() {
    same_as_in_process("cometchat", &reference_adapter());
}

#[test]
fn stream_through_the_reference_adapter() {
    same_as_in_process("stream", &reference_adapter());
}

#[test]
fn voximplant_through_the_python_adapter() {
    same_as_in_process("voximplant", "python3 adapters/python/adapter.py");
}
