//! A run replays: the same seed against the same system gives the same cases, the same failure
//! shrunk the same way, and the same feature file, byte for byte.

use crate::{callconf, scratch};

#[test]
fn the_same_seed_finds_the_same_failure_and_writes_the_same_feature() {
    let run = |name: &str| {
        let dir = scratch(name);
        let (code, out) = callconf(&[
            "explore",
            "--inject-fault",
            "no-cancel-event",
            "--seed",
            "3",
            "--cases",
            "300",
            "--out",
            dir.to_str().expect("UTF-8"),
            "--quiet",
        ]);
        assert_eq!(code, 1, "{out}");
        let feature = std::fs::read_to_string(dir.join("explore-seed-3.feature"))
            .expect("the feature is written");
        // The report without its timing line, the directory named alike.
        let report: Vec<String> = out
            .lines()
            .filter(|l| !l.contains(" cases/s"))
            .map(|l| l.replace(dir.to_str().expect("UTF-8"), "DIR"))
            .collect();
        (report, feature)
    };
    let (a, b) = (run("replay-a"), run("replay-b"));
    assert_eq!(a.0, b.0, "the reports differ");
    assert_eq!(a.1, b.1, "the features differ");
}

#[test]
fn a_profile_that_does_not_load_is_refused_with_a_code() {
    let (code, out) = callconf(&["explore", "--profile", "acme", "--cases", "1"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("error 1402") && out.contains("voximplant"),
        "{out}"
    );
}
