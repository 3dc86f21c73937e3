//! `callconf certify` on a user's own feature files: what passes, what fails and how it says so,
//! and the errors for malformed input (file:line and what is wrong, bad tag expressions).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use callconf::conformance::report::{html, libtest, table};
use callconf::conformance::{ConformanceError, RunOptions, Verdict, run};

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory holding `files` (name, text).
fn dir(files: &[(&str, &str)]) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "callconf-certify-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).unwrap();
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    TempDir(d)
}

fn opts(d: &TempDir) -> RunOptions {
    RunOptions {
        features: vec![d.0.clone()],
        ..RunOptions::default()
    }
}

const PASSING: &str = r#"@my-sdk
Feature: My SDK rings
  Scenario: A call rings and is declined
    Given users alice and bob
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When bob declines
    Then alice and bob see "call-1: ended, declined by bob (603)"
"#;

#[test]
fn a_users_own_features_run_and_count_under_their_tag() {
    let d = dir(&[("mine.feature", PASSING)]);
    let report = run(&opts(&d)).unwrap();
    assert!(report.ok());
    assert_eq!(report.passed(), 1);
    let tallies = report.by_capability();
    assert_eq!(tallies.len(), 1);
    assert_eq!(tallies[0].capability, "my-sdk");
    let s = &report.scenarios[0];
    assert_eq!(s.snapshot, "mine__a-call-rings-and-is-declined");
    // The trace holds every request and event under its step.
    let trace = callconf::conformance::trace::render(&s.trace);
    assert!(trace.contains("When bob declines\n"), "{trace}");
    assert!(
        trace.contains("← call-1: ended, declined by bob (603)"),
        "{trace}"
    );
    let t = table::render(&report);
    assert!(t.contains("my-sdk"), "{t}");
    assert!(t.contains("verdict: PASS"), "{t}");
    assert!(libtest::result_line(&report, 0).starts_with("test result: ok. 1 passed; 0 failed"));
}

#[test]
fn a_broken_expectation_fails_with_expected_and_actual() {
    let broken = PASSING.replace("call-1: status ringing\n", "call-1: status connected\n");
    let d = dir(&[("mine.feature", &broken)]);
    let report = run(&opts(&d)).unwrap();
    assert!(!report.ok());
    let s = &report.scenarios[0];
    assert_eq!(s.verdict, Verdict::Failed);
    let f = s.failure.as_ref().unwrap();
    assert_eq!(f.step, "And alice sees:");
    assert_eq!(f.line, 7);
    assert_eq!(
        f.failure.expected,
        ["call-1: bob ringing", "call-1: status connected"]
    );
    assert_eq!(
        f.failure.actual,
        ["call-1: bob ringing", "call-1: status ringing"]
    );
    assert!(f.failure.message.contains("- call-1: status connected"));
    assert!(f.failure.message.contains("+ call-1: status ringing"));
    let reason = s.reason.as_deref().unwrap();
    assert!(
        reason
            .contains("saw `call-1: status ringing` where `call-1: status connected` was expected"),
        "{reason}"
    );
    let page = html::render(&report);
    assert!(page.contains("<span class=\"del\">call-1: status connected</span>"));
    assert!(page.contains("Full trace"));
    assert!(
        libtest::result_line(&report, 0).starts_with("test result: FAILED. 0 passed; 1 failed")
    );
}

#[test]
fn events_no_step_checked_fail_the_scenario() {
    let unchecked = PASSING.replace(
        "    Then alice and bob see \"call-1: ended, declined by bob (603)\"\n",
        "    Then alice sees \"call-1: ended, declined by bob (603)\"\n",
    );
    let d = dir(&[("mine.feature", &unchecked)]);
    let report = run(&opts(&d)).unwrap();
    let f = report.scenarios[0].failure.as_ref().unwrap();
    assert_eq!(f.step, "Then every event has been checked");
    assert!(
        f.failure.message.contains("bob/phone"),
        "{}",
        f.failure.message
    );
    assert!(
        f.failure
            .message
            .contains("[0s] call-1: ended, declined by bob (603)")
    );
}

#[test]
fn a_refusal_must_be_checked_by_the_next_step() {
    let text = r#"Feature: refusals
  Scenario: unchecked refusal
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When bob accepts
    Then alice sees nothing
"#;
    let d = dir(&[("r.feature", text)]);
    let report = run(&opts(&d)).unwrap();
    let f = report.scenarios[0].failure.as_ref().unwrap();
    assert!(
        f.failure
            .message
            .contains("`When bob accepts` (line 6) was refused"),
        "{}",
        f.failure.message
    );
    assert!(f.failure.message.contains("Then it fails with 422"));
}

#[test]
fn malformed_files_and_unknown_steps_are_reported_with_file_and_line() {
    let d = dir(&[
        (
            "a.feature",
            "Feature: a\n  Scenario: s\n    Given users alice and bob\n    When alice cals bob\n",
        ),
        (
            "b.feature",
            "Feature: b\n  Scenario: s\n    Given users alice\n    When alice places a call with:\n      | to | bob |\n      | type |\n",
        ),
    ]);
    let err = run(&opts(&d)).unwrap_err();
    let ConformanceError::Invalid(problems) = &err else {
        panic!("{err}");
    };
    assert_eq!(problems.len(), 2, "{err}");
    assert!(problems[0].path.ends_with("a.feature"));
    assert_eq!(problems[0].line, 4);
    assert!(
        problems[0]
            .message
            .contains("unknown step `When alice cals bob`")
    );
    assert!(problems[0].message.contains("When <device> calls <user>"));
    assert!(problems[1].path.ends_with("b.feature"));
    assert_eq!(problems[1].line, 6);
    let text = err.to_string();
    assert!(text.contains("a.feature:4:5: unknown step"), "{text}");
}

#[test]
fn a_bad_tag_expression_is_an_error() {
    let d = dir(&[("mine.feature", PASSING)]);
    for bad in ["@hold and", "hold", "(@a"] {
        let err = run(&RunOptions {
            tags: Some(bad.into()),
            ..opts(&d)
        })
        .unwrap_err();
        assert!(
            matches!(err, ConformanceError::BadTags { .. }),
            "{bad}: {err}"
        );
    }
    let report = run(&RunOptions {
        tags: Some("not @my-sdk".into()),
        ..opts(&d)
    })
    .unwrap();
    assert_eq!(report.scenarios.len(), 0);
    assert_eq!(report.filtered_out, 1);
}

#[test]
fn a_missing_directory_is_an_error() {
    let err = run(&RunOptions {
        features: vec!["/nonexistent/callconf-features".into()],
        ..RunOptions::default()
    })
    .unwrap_err();
    assert!(matches!(err, ConformanceError::Read { .. }), "{err}");
}

#[test]
fn the_vendor_fixture_directory_certifies() {
    let opts = RunOptions {
        features: vec![std::path::PathBuf::from("fixtures/vendor-features")],
        ..RunOptions::default()
    };
    let report = run(&opts).unwrap();
    assert!(report.ok(), "{}", table::render(&report));
    assert_eq!(report.passed(), 2);
    assert_eq!(report.by_capability()[0].capability, "acme-sdk");
}

const HOLD: &str = r#"Feature: Hold under a dialect
  Scenario: Alice holds the call
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice holds the call
    Then bob sees "call-1: alice held the call"
"#;

fn profile(name: &str) -> Option<callconf::profile::Profile> {
    Some(callconf::profile::Profile::builtin(name).unwrap())
}

#[test]
fn a_scenario_needing_what_the_profile_lacks_is_unimplemented_not_failed() {
    let d = dir(&[("hold.feature", HOLD)]);
    let canonical = run(&opts(&d)).unwrap();
    assert_eq!(canonical.scenarios[0].verdict, Verdict::Passed);
    let report = run(&RunOptions {
        profile: profile("mirrorfly"),
        ..opts(&d)
    })
    .unwrap();
    let s = &report.scenarios[0];
    assert_eq!(s.verdict, Verdict::Unimplemented, "{:?}", s.reason);
    let reason = s.reason.as_deref().unwrap();
    assert!(
        reason.contains("the dialect `mirrorfly` has no `hold`"),
        "{reason}"
    );
    // Stringee has hold: the same scenario passes under it.
    let stringee = run(&RunOptions {
        profile: profile("stringee"),
        ..opts(&d)
    })
    .unwrap();
    assert_eq!(stringee.scenarios[0].verdict, Verdict::Passed);
}

#[test]
fn reports_name_the_dialect_and_its_vendor() {
    let d = dir(&[("hold.feature", HOLD)]);
    let report = run(&RunOptions {
        profile: profile("stringee"),
        ..opts(&d)
    })
    .unwrap();
    let under = "under the dialect stringee (Stringee web StringeeCall, seed 002)";
    assert!(
        table::render(&report).contains(under),
        "{}",
        table::render(&report)
    );
    assert!(html::render(&report).contains(under));
    let canonical = run(&opts(&d)).unwrap();
    assert!(!table::render(&canonical).contains("under the dialect"));
}

#[test]
fn a_profile_changes_outcomes_where_its_rules_differ() {
    let dtmf = r#"Feature: Tones
  Scenario: Alice sends A
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice sends DTMF "A"
    Then bob sees "call-1: DTMF \"A\" from alice"
"#;
    let d = dir(&[("tones.feature", dtmf)]);
    assert_eq!(
        run(&opts(&d)).unwrap().scenarios[0].verdict,
        Verdict::Passed
    );
    let vox = run(&RunOptions {
        profile: profile("voximplant"),
        ..opts(&d)
    })
    .unwrap();
    assert_eq!(vox.scenarios[0].verdict, Verdict::Failed);
    assert!(
        vox.scenarios[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("(0-9 * # p) (400)")
    );
}

#[test]
fn the_dialect_step_names_a_known_profile() {
    let bad = "Feature: X\n  Scenario: Y\n    Given the dialect is \"skype\"\n    And users alice and bob\n";
    let d = dir(&[("bad.feature", bad)]);
    let err = run(&opts(&d)).unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, ConformanceError::Invalid(_)), "{shown}");
    assert!(shown.contains("bad.feature:3"), "{shown}");
    assert!(
        shown.contains("no profile `skype`; the profiles are canonical"),
        "{shown}"
    );
}

#[test]
fn the_probe_is_unimplemented_where_the_dialect_lacks_nothing() {
    let probe = "Feature: X\n  Scenario: Y\n    Given users alice and bob\n    And alice calls bob\n    Then alice is refused every operation the dialect lacks\n";
    let d = dir(&[("probe.feature", probe)]);
    let report = run(&opts(&d)).unwrap();
    let s = &report.scenarios[0];
    assert_eq!(s.verdict, Verdict::Unimplemented);
    assert!(
        s.reason.as_deref().unwrap().contains("nothing to probe"),
        "{:?}",
        s.reason
    );
    let report = run(&RunOptions {
        profile: profile("stream"),
        ..opts(&d)
    })
    .unwrap();
    assert_eq!(
        report.scenarios[0].verdict,
        Verdict::Passed,
        "{:?}",
        report.scenarios[0].reason
    );
}

#[test]
fn the_matrix_counts_every_capability_under_every_dialect() {
    use callconf::conformance::report::matrix;
    let d = dir(&[("hold.feature", HOLD)]);
    let m = matrix::run_matrix(&opts(&d)).unwrap();
    assert_eq!(
        m.dialects,
        [
            "canonical",
            "mirrorfly",
            "cometchat",
            "stringee",
            "voximplant",
            "stream"
        ]
    );
    let [row] = &m.rows[..] else {
        panic!("one capability: {:?}", m.rows)
    };
    let shown: Vec<String> = row.cells.iter().map(matrix::Cell::short).collect();
    // Hold exists only in Stringee's dialect (and the canonical one).
    assert_eq!(
        shown,
        ["1/0/0", "0/0/1", "0/0/1", "1/0/0", "0/0/1", "0/0/1"]
    );
    assert!(m.complete());
    let table = matrix::table(&m);
    assert!(table.contains("canonical   mirrorfly"), "{table}");
    assert!(matrix::html_page(&m).contains("<h2>Dialect matrix</h2>"));
}

#[test]
fn the_dialect_comes_before_the_limits_it_replaces() {
    let late = "Feature: X\n  Scenario: Y\n    Given the limit dtmf_digits_max is 4\n    And the dialect is \"voximplant\"\n    And users alice and bob\n";
    let d = dir(&[("late.feature", late)]);
    let report = run(&opts(&d)).unwrap();
    let s = &report.scenarios[0];
    assert_eq!(s.verdict, Verdict::Failed);
    assert!(
        s.reason
            .as_deref()
            .unwrap()
            .contains("must come before any limit"),
        "{:?}",
        s.reason
    );
}

/// Verdicts by scenario location.
fn verdicts(report: &callconf::conformance::RunReport) -> Vec<(String, Verdict)> {
    report
        .scenarios
        .iter()
        .map(|s| (s.location(), s.verdict))
        .collect()
}

fn with(v: &[(String, Verdict)], pick: &[Verdict]) -> std::collections::BTreeSet<String> {
    v.iter()
        .filter(|(_, verdict)| pick.contains(verdict))
        .map(|(l, _)| l.clone())
        .collect()
}

/// A server emulating dialect A, certified under the canonical profile, fails exactly where A
/// differs from the canonical dialect: the scenarios A's own run fails (a rule changes the
/// outcome) plus those it leaves unimplemented (A refuses with 501 what canonical has), and no
/// others. And a canonical server certified as A fails A's probe: declaring a capability absent
/// cannot hide that the server still has it.
#[test]
fn cross_profile_runs_fail_exactly_where_the_dialects_differ() {
    let project = RunOptions {
        features: vec![std::path::PathBuf::from("features")],
        ..RunOptions::default()
    };
    for a in ["voximplant", "stringee", "stream"] {
        let own = verdicts(
            &run(&RunOptions {
                profile: profile(a),
                ..project.clone()
            })
            .unwrap(),
        );
        let cross = verdicts(
            &run(&RunOptions {
                emulate: profile(a),
                profile: profile("canonical"),
                ..project.clone()
            })
            .unwrap(),
        );
        // A's own run leaves out the scenarios of a rule A has not (skipped, not applicable);
        // graded canonical, they run against A's server, and must fail.
        let differ = with(
            &own,
            &[Verdict::Failed, Verdict::Unimplemented, Verdict::Skipped],
        )
        .difference(&with(&cross, &[Verdict::Skipped]))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>();
        assert!(
            with(&own, &[Verdict::Failed]).is_empty(),
            "{a}: its own run fails"
        );
        // The run-level probe is the one scenario unimplemented under the canonical grading.
        let probe = with(&cross, &[Verdict::Unimplemented]);
        assert_eq!(probe.len(), 1, "{a}: {probe:?}");
        let expected: std::collections::BTreeSet<String> =
            differ.difference(&probe).cloned().collect();
        let failed = with(&cross, &[Verdict::Failed]);
        assert!(!failed.is_empty(), "{a}");
        assert_eq!(
            failed, expected,
            "{a}: the failures differ from where the dialects differ"
        );
        eprintln!(
            "server {a}, graded canonical: {} scenarios fail: {failed:?}",
            failed.len()
        );
    }
    let hidden = run(&RunOptions {
        emulate: profile("canonical"),
        profile: profile("mirrorfly"),
        ..project.clone()
    })
    .unwrap();
    // The probe catches the capabilities MirrorFly declares absent; the only other failures are
    // the scenarios of the rules MirrorFly has not (any decline code, any header name), which a
    // canonical server keeps.
    let failed: Vec<_> = hidden.failures().map(|s| s.location()).collect();
    assert!(
        failed.contains(&"features/probe.feature:8".to_owned()),
        "{failed:?}"
    );
    let rules_off: Vec<String> = hidden
        .failures()
        .filter(|s| s.path != std::path::Path::new("features/probe.feature"))
        .map(|s| {
            let rule = s.tags.iter().find(|t| t.starts_with("rule:!"));
            rule.cloned()
                .unwrap_or_else(|| format!("untagged {}", s.location()))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        rules_off,
        [
            "rule:!header_x_prefix_required",
            "rule:!reject_codes_3xx_6xx"
        ]
    );
}

fn names_of(r: &callconf::conformance::RunReport) -> Vec<String> {
    r.scenarios.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn boundary_scenarios_are_generated_from_the_profile_limits() {
    let d = dir(&[("hold.feature", HOLD)]);
    let only_boundaries = |p: &str, emulate: Option<&str>| {
        run(&RunOptions {
            profile: profile(p),
            emulate: emulate.and_then(profile),
            boundaries: true,
            tags: Some("@boundaries".into()),
            ..opts(&d)
        })
        .unwrap()
    };
    let vox = only_boundaries("voximplant", None);
    assert!(vox.ok(), "{}", table::render(&vox));
    // 200/201 custom data, 8192/8193 info and message, the participant limit at and one over,
    // 17 DTMF characters.
    assert_eq!(vox.passed(), 6 + 2 + 17);
    assert!(
        names_of(&vox).contains(&"Inviting one over the participant limit of 64 is refused".into()),
        "{:?}",
        names_of(&vox)
    );
    let names: Vec<&str> = vox.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"DTMF 'A' is refused"), "{names:?}");
    assert!(names.contains(&"Custom data one over the limit, 201 bytes, is refused"));
    let canonical = only_boundaries("canonical", None);
    let names: Vec<&str> = canonical
        .scenarios
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(names.contains(&"DTMF 'A' is relayed"), "{names:?}");
    // A canonical server certified as Voximplant fails exactly the four tones Voximplant lacks.
    let cross = only_boundaries("voximplant", Some("canonical"));
    let failed: Vec<&str> = cross.failures().map(|s| s.name.as_str()).collect();
    assert_eq!(
        failed,
        [
            "DTMF 'A' is refused",
            "DTMF 'B' is refused",
            "DTMF 'C' is refused",
            "DTMF 'D' is refused"
        ]
    );
}
