//! A profile names the invitation's fields as the vendor does (`names.incoming`); a scenario
//! checks the payload by those names, each read as the canonical field it carries. A name the
//! profile does not give, or a canonical field that does not exist, is a clear error.

use callconf::conformance::{RunOptions, Verdict, run};
use callconf::profile::{InvitationField, Profile};

#[test]
fn mirrorfly_names_every_field_of_its_incoming_payload() {
    let p = Profile::builtin("mirrorfly").unwrap();
    let names: Vec<(&str, InvitationField)> = p
        .names
        .incoming
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        names,
        [
            ("callTime", InvitationField::CreatedMs),
            ("callType", InvitationField::CallType),
            ("groupId", InvitationField::Group),
            ("roomId", InvitationField::Call),
            ("status", InvitationField::Status),
            ("toUsers", InvitationField::Invitees),
            ("userJid", InvitationField::Caller),
        ]
    );
}

#[test]
fn a_field_that_is_not_canonical_is_refused_with_its_place() {
    let text = crate::canonical_with(
        "rules:",
        "names:\n  incoming:\n    callTime: created_at\nrules:",
    );
    let e = Profile::parse(&text, "profiles/x.yaml", "x").expect_err("refused");
    assert_eq!(e.code(), 1201);
    let shown = e.to_string();
    let line = crate::line_of(&text, "callTime");
    assert!(
        shown.starts_with(&format!("profiles/x.yaml:{line}:")),
        "{shown}"
    );
    assert!(shown.contains("created_ms"), "the valid fields: {shown}");
}

fn graded(profile: &str, table: &str) -> (Verdict, String) {
    let text = format!(
        "Feature: Payload\n  Scenario: by vendor names\n    Given users alice and bob\n    \
         When alice calls bob\n    Then the invitation bob received has, in the dialect's names:\n{table}"
    );
    let dir = std::env::temp_dir().join(format!(
        "callconf-invitation-names-{}-{profile}-{}",
        std::process::id(),
        table.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("payload.feature"), text).unwrap();
    let report = run(&RunOptions {
        features: vec![dir.clone()],
        profile: Some(Profile::builtin(profile).unwrap()),
        ..RunOptions::default()
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let s = &report.scenarios[0];
    (s.verdict, s.reason.clone().unwrap_or_default())
}

#[test]
fn a_name_the_dialect_does_not_give_fails_naming_those_it_gives() {
    let (v, why) = graded("mirrorfly", "      | callerId | alice |\n");
    assert_eq!(v, Verdict::Failed);
    assert!(
        why.contains("names no invitation field `callerId`"),
        "{why}"
    );
    assert!(why.contains("userJid"), "{why}");
    let (v, why) = graded("canonical", "      | userJid | alice |\n");
    assert_eq!(v, Verdict::Failed);
    assert!(why.contains("no `names.incoming`"), "{why}");
}

#[test]
fn a_wrong_value_under_a_vendor_name_fails() {
    let (v, _) = graded("mirrorfly", "      | userJid | bob |\n");
    assert_eq!(v, Verdict::Failed);
}
