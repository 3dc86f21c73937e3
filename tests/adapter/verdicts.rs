//! The four verdicts keep their meaning: an adapter that lacks an operation makes the scenarios
//! that need it unimplemented (not failed, and the run passes), an adapter that breaks gives an
//! error (JUnit `<error>`, not `<failure>`), and a real failure stays a `<failure>`.

use super::{certify, reference_adapter};

/// A fresh path in the temp directory for a report.
fn report_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("callconf-verdicts-{}-{name}", std::process::id()))
}

#[test]
fn scenarios_needing_an_operation_the_adapter_lacks_are_unimplemented_not_failed() {
    let junit = report_path("without-hold.xml");
    let adapter = format!("{} --without hold", reference_adapter());
    let (code, out) = certify(&[
        "--adapter",
        &adapter,
        "--features",
        "features/hold.feature",
        "--features",
        "features/mute.feature",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "unimplemented is not a failure:\n{out}");
    let row = |tag: &str| {
        out.lines()
            .find(|l| l.contains(&format!("(@{tag})")))
            .unwrap_or_else(|| panic!("no row for @{tag} in:\n{out}"))
            .split_whitespace()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
    };
    // Columns from the right: verdict, skipped, unimplemented, error, failed, passed.
    let hold = row("hold");
    assert_eq!(hold[0], "unimplemented", "{out}");
    assert_eq!(hold[4], "0", "no hold scenario failed: {out}");
    assert_eq!(hold[5], "0", "no hold scenario passed: {out}");
    assert_ne!(hold[2], "0", "{out}");
    let mute = row("mute");
    assert_eq!(mute[0], "pass", "mute needs no hold: {out}");
    assert!(out.contains("the operation `hold` is not among the adapter's capabilities"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let _ = std::fs::remove_file(&junit);
    assert!(xml.contains("type=\"unimplemented\""), "{xml}");
    assert!(
        !xml.contains("<failure") && !xml.contains("<error"),
        "{xml}"
    );
}

#[test]
fn a_broken_adapter_is_a_junit_error_and_a_wrong_answer_a_junit_failure() {
    let junit = report_path("silent.xml");
    let (code, out) = certify(&[
        "--adapter",
        "python3 fixtures/adapters/misbehave.py silent",
        "--features",
        "fixtures/adapters/one_call.feature",
        "--deadline-ms",
        "500",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("verdict: FAIL — 1 error"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<error message=") && xml.contains("adapter error 1104"));
    assert!(!xml.contains("<failure"), "{xml}");

    // The same scenario against a server with a deliberate bug: a failure, not an error.
    let (code, out) = certify(&[
        "--adapter",
        &reference_adapter(),
        "--features",
        "features/cancel.feature",
        "--inject-fault",
        "no-cancel-event",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_ne!(code, 0, "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let _ = std::fs::remove_file(&junit);
    assert!(xml.contains("<failure"), "{xml}");
    assert!(!xml.contains("<error"), "{xml}");
}
