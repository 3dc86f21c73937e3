//! A scenario or an outline's Examples block that checks a dialect rule says so with a tag
//! (`@rule:NAME`, `@rule:!NAME`, `@dtmf:CHARS`): it runs where the condition holds and is
//! skipped, with the reason, where it does not; the block for the other dialects states their
//! outcome; and a malformed condition is refused with its file and line before anything runs.

use callconf::conformance::{ConformanceError, RunOptions, Verdict, run};
use callconf::profile::Profile;

const DECLINE: &str = r#"Feature: Decline codes
  Scenario Outline: A decline with <code>
    Given users alice and bob
    And alice calls bob
    When bob declines with <code>
    Then <outcome>

    @rule:reject_codes_3xx_6xx
    Examples: where decline codes are 300-699
      | code | outcome                                     |
      | 200  | it fails with 400 saying "in 300-699"        |

    @rule:!reject_codes_3xx_6xx
    Examples: where any SIP code declines
      | code | outcome                                                 |
      | 200  | alice and bob see "call-1: ended, declined by bob (200)" |
"#;

fn run_in(
    dir: &std::path::Path,
    text: &str,
    profile: &str,
) -> Result<callconf::conformance::RunReport, ConformanceError> {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("decline.feature"), text).unwrap();
    run(&RunOptions {
        features: vec![dir.to_owned()],
        profile: Some(Profile::builtin(profile).unwrap()),
        ..RunOptions::default()
    })
}

fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("callconf-applies-{}-{name}", std::process::id()))
}

#[test]
fn each_dialect_runs_the_block_of_its_rule_and_skips_the_other() {
    let dir = scratch("blocks");
    for profile in ["canonical", "stream"] {
        let report = run_in(&dir, DECLINE, profile).unwrap();
        assert!(
            report.ok(),
            "{profile}: {:?}",
            report.failures().collect::<Vec<_>>()
        );
        let count = |v: Verdict| report.scenarios.iter().filter(|s| s.verdict == v).count();
        assert_eq!(
            (count(Verdict::Passed), count(Verdict::Skipped)),
            (1, 1),
            "{profile}"
        );
        let skipped = report
            .scenarios
            .iter()
            .find(|s| s.verdict == Verdict::Skipped)
            .unwrap();
        let reason = skipped.reason.as_deref().unwrap();
        assert!(
            reason.contains(&format!("the dialect {profile}")),
            "{reason}"
        );
        assert!(reason.contains("reject_codes_3xx_6xx"), "{reason}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_block_run_under_the_wrong_dialect_fails() {
    // The same outcome rows with the tags swapped: each dialect now runs the other's block.
    let swapped = DECLINE
        .replace("@rule:reject_codes_3xx_6xx", "@rule:TMP")
        .replace("@rule:!reject_codes_3xx_6xx", "@rule:reject_codes_3xx_6xx")
        .replace("@rule:TMP", "@rule:!reject_codes_3xx_6xx");
    let dir = scratch("swapped");
    for profile in ["canonical", "stream"] {
        let report = run_in(&dir, &swapped, profile).unwrap();
        assert_eq!(report.failures().count(), 1, "{profile}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_condition_on_the_dialect_s_dtmf_characters() {
    let text = r#"Feature: Tones
  @dtmf:ABCD
  Scenario: A is relayed
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice sends DTMF "A"
    Then bob sees "call-1: DTMF \"A\" from alice"
"#;
    let dir = scratch("dtmf");
    let canonical = run_in(&dir, text, "canonical").unwrap();
    assert_eq!(canonical.scenarios[0].verdict, Verdict::Passed);
    let voximplant = run_in(&dir, text, "voximplant").unwrap();
    assert_eq!(voximplant.scenarios[0].verdict, Verdict::Skipped);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_malformed_condition_is_refused_with_its_place() {
    let bad = DECLINE.replace("@rule:!reject_codes_3xx_6xx", "@rule:!reject_codes");
    let dir = scratch("bad");
    let Err(ConformanceError::Invalid(problems)) = run_in(&dir, &bad, "canonical") else {
        panic!("a rule that does not exist is refused")
    };
    let p = &problems[0];
    assert_eq!(
        p.line,
        bad.lines()
            .position(|l| l.contains("any SIP code declines"))
            .unwrap()
            + 1
    );
    assert!(p.message.contains("names no rule"), "{}", p.message);
    assert!(p.message.contains("reject_codes_3xx_6xx"), "{}", p.message);
    std::fs::remove_dir_all(&dir).ok();
}
