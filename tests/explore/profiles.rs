//! Exploring under a dialect: only the dialect's operations are generated, the model predicts
//! with its rules and limits, and a failure found is written as a feature that names the
//! dialect, so `certify` runs it under the same rules.

use crate::{callconf, count_before, reference_adapter, scratch};

const PROFILES: [&str; 6] = [
    "canonical",
    "mirrorfly",
    "cometchat",
    "stringee",
    "voximplant",
    "stream",
];

/// A clean run's case count, or the whole output as the reason it is not one.
fn clean(out: &str, code: i32, cases: u64) {
    assert_eq!(code, 0, "{out}");
    assert_eq!(count_before(out, "cases"), Some(cases), "{out}");
    assert!(out.contains("no failure"), "{out}");
}

#[test]
fn every_profile_agrees_with_the_reference_in_process() {
    for profile in PROFILES {
        let (code, out) = callconf(&[
            "explore",
            "--profile",
            profile,
            "--cases",
            "200",
            "--seed",
            "3",
            "--quiet",
        ]);
        assert!(out.contains(&format!("dialect {profile}")), "{out}");
        clean(&out, code, 200);
    }
}

#[test]
fn dialects_agree_through_the_reference_adapter() {
    let adapter = reference_adapter();
    for profile in ["cometchat", "voximplant", "stream"] {
        let (code, out) = callconf(&[
            "explore",
            "--adapter",
            &adapter,
            "--profile",
            profile,
            "--cases",
            "25",
            "--seed",
            "5",
            "--quiet",
        ]);
        clean(&out, code, 25);
    }
}

/// A dialect of one's own, from a file: explored under its name, and the feature found is to
/// be run with the same file (the feature's dialect step knows only the built-in names).
#[test]
fn a_profile_file_is_explored_and_its_feature_says_to_pass_it() {
    let dir = scratch("explore-profile-file");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/profiles/voximplant.yaml"
    ))
    .expect("the voximplant profile");
    let file = dir.join("acme.yaml");
    std::fs::write(&file, text).expect("a profile file");
    let file = file.to_str().expect("a UTF-8 path");
    let out_dir = dir.join("out");
    let (code, out) = callconf(&[
        "explore",
        "--profile",
        file,
        "--inject-fault",
        "no-cancel-event",
        "--seed",
        "7",
        "--cases",
        "400",
        "--out",
        out_dir.to_str().expect("a UTF-8 path"),
        "--quiet",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("dialect acme"), "{out}");
    assert!(
        out.contains(&format!("run it:  callconf certify --profile '{file}'")),
        "{out}"
    );
}

#[test]
fn a_failure_under_a_dialect_is_written_as_a_feature_of_that_dialect() {
    let dir = scratch("explore-voximplant-fault");
    let out_dir = dir.to_str().expect("a UTF-8 path");
    let adapter = reference_adapter();
    let (code, out) = callconf(&[
        "explore",
        "--adapter",
        &adapter,
        "--profile",
        "voximplant",
        "--inject-fault",
        "event-after-end",
        "--seed",
        "7",
        "--cases",
        "400",
        "--out",
        out_dir,
        "--quiet",
    ]);
    assert_eq!(code, 1, "event-after-end was not found:\n{out}");
    let feature = dir.join("explore-seed-7.feature");
    let text = std::fs::read_to_string(&feature).expect("a written feature");
    assert!(
        text.contains("Given the dialect is \"voximplant\""),
        "{text}"
    );
    let path = feature.to_str().expect("a UTF-8 path");
    let (code, faulty) = callconf(&[
        "certify",
        "--adapter",
        &adapter,
        "--inject-fault",
        "event-after-end",
        "--features",
        path,
    ]);
    assert_eq!(code, 1, "passes against the faulty server:\n{faulty}");
    let (code, correct) = callconf(&["certify", "--adapter", &adapter, "--features", path]);
    assert_eq!(code, 0, "fails against a correct server:\n{correct}");
}
