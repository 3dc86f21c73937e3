//! Under a dialect without the ring acknowledgement (CometChat's default flow) the canonical
//! expectations are translated once: nobody expects `X ringing` or `status ringing`, the call
//! stays `calling` and an invitee `invited` until an answer. A server that acknowledges anyway
//! fails the same text.

use callconf::conformance::{RunOptions, Verdict, run};
use callconf::profile::Profile;

const CALL: &str = r#"Feature: A canonical 1:1 call
  Scenario: alice calls bob, who answers
    Given users alice and bob
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    And the call is ringing
    And bob's state in the call is ringing
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """
"#;

fn graded(profile: &str, server: &str) -> Verdict {
    let dir = std::env::temp_dir().join(format!(
        "callconf-no-ringing-{}-{profile}-{server}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("call.feature"), CALL).unwrap();
    let report = run(&RunOptions {
        features: vec![dir.clone()],
        profile: Some(Profile::builtin(profile).unwrap()),
        emulate: Some(Profile::builtin(server).unwrap()),
        ..RunOptions::default()
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    report.scenarios[0].verdict
}

#[test]
fn a_dialect_without_ringing_is_graded_without_the_acknowledgements() {
    assert_eq!(graded("canonical", "canonical"), Verdict::Passed);
    // CometChat's server never acknowledges; graded as CometChat the same text holds.
    assert_eq!(graded("cometchat", "cometchat"), Verdict::Passed);
}

#[test]
fn a_server_that_acknowledges_fails_a_dialect_without_ringing() {
    assert_eq!(graded("cometchat", "canonical"), Verdict::Failed);
    assert_eq!(graded("canonical", "cometchat"), Verdict::Failed);
}
