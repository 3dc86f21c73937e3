//! Failure lines name an operation as the dialect's SDK does (its profile's `names.operations`),
//! beside the step as written, so a vendor reads `rejectCall(REJECTED)` where the suite says
//! `declines`.

use callconf::conformance::{RunOptions, run};
use callconf::profile::Profile;

const WRONG: &str = "Feature: X\n  Scenario: a wrong expectation\n    Given users alice and bob\n    \
                     And alice calls bob\n    When bob declines with 200\n    Then it fails with 486\n";

fn reason(profile: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "callconf-operation-names-{}-{profile}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x.feature"), WRONG).unwrap();
    let report = run(&RunOptions {
        features: vec![dir.clone()],
        profile: Some(Profile::builtin(profile).unwrap()),
        ..RunOptions::default()
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    report.scenarios[0].reason.clone().unwrap_or_default()
}

#[test]
fn a_failure_line_names_the_vendor_s_operation() {
    let why = reason("cometchat");
    assert!(
        why.contains("`When bob declines with 200` (line 5, cometchat: rejectCall(REJECTED))"),
        "{why}"
    );
}

#[test]
fn a_dialect_that_names_nothing_shows_the_step_alone() {
    let why = reason("canonical");
    assert!(
        why.contains("`When bob declines with 200` (line 5) to fail"),
        "{why}"
    );
}
