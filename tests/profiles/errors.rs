//! Mistakes in a profile: each a stable code, `file:line:column`, and the valid alternatives.

use callconf::profile::{Profile, ProfileError};

fn err(text: &str) -> ProfileError {
    Profile::parse(text, "profiles/x.yaml", "x").expect_err("the profile is refused")
}

fn at(e: &ProfileError, line: usize) -> String {
    let shown = e.to_string();
    let prefix = format!("profiles/x.yaml:{line}:");
    assert!(
        shown.starts_with(&prefix),
        "{shown:?} starts with {prefix:?}"
    );
    shown
}

#[test]
fn an_unknown_top_level_key_names_the_keys() {
    let text = crate::canonical_with("rules:", "rulez:");
    let e = err(&text);
    assert_eq!(e.code(), 1201);
    let shown = at(&e, crate::line_of(&text, "rulez:"));
    assert!(shown.contains("unknown field `rulez`"), "{shown}");
    assert!(
        shown.contains("`rules`") && shown.contains("`capabilities`"),
        "{shown}"
    );
}

#[test]
fn an_unknown_capability_names_the_capabilities() {
    let text = crate::canonical_with("  hold: true", "  hodl: true");
    let e = err(&text);
    assert_eq!(e.code(), 1201);
    let shown = at(&e, crate::line_of(&text, "hodl"));
    assert!(shown.contains("unknown variant `hodl`"), "{shown}");
    assert!(
        shown.contains("`hold`") && shown.contains("`transfer`"),
        "{shown}"
    );
}

#[test]
fn an_unknown_rule_names_the_rules() {
    let text = crate::canonical_with("  one_inbound_audio: false", "  one_inbound_video: false");
    let e = err(&text);
    assert_eq!(e.code(), 1201);
    let shown = at(&e, crate::line_of(&text, "one_inbound_video"));
    assert!(shown.contains("`one_inbound_audio`"), "{shown}");
}

#[test]
fn a_value_of_the_wrong_type_is_placed() {
    let text = crate::canonical_with("  dtmf: true", "  dtmf: maybe");
    let e = err(&text);
    assert_eq!(e.code(), 1201);
    let shown = at(&e, crate::line_of(&text, "dtmf: maybe"));
    assert!(shown.contains("boolean"), "{shown}");
}

#[test]
fn a_missing_capability_is_named() {
    let text = crate::canonical_with("  hold: true\n", "");
    let e = err(&text);
    assert_eq!(e.code(), 1202);
    let shown = at(&e, crate::line_of(&text, "capabilities:"));
    assert!(shown.contains("hold not listed"), "{shown}");
}

#[test]
fn a_dtmf_character_outside_the_canonical_set_is_refused() {
    let text = crate::canonical_with("rules:", "limits:\n  dtmf_characters: \"0-9\"\nrules:");
    let e = err(&text);
    assert_eq!(e.code(), 1203);
    let shown = at(&e, crate::line_of(&text, "dtmf_characters"));
    assert!(
        shown.contains("'-' is not a DTMF character; valid: 0123456789*#ABCDp"),
        "{shown}"
    );
}

#[test]
fn a_participant_limit_out_of_range_is_refused() {
    let text = crate::canonical_with("rules:", "limits:\n  participants_per_call_max: 1\nrules:");
    let e = err(&text);
    assert_eq!(e.code(), 1203);
    let shown = at(&e, crate::line_of(&text, "participants_per_call_max"));
    assert!(shown.contains("outside the valid 2..=64"), "{shown}");
}

#[test]
fn an_unknown_limit_names_the_limits() {
    let text = crate::canonical_with("rules:", "limits:\n  ring_timeout: 5\nrules:");
    let e = err(&text);
    assert_eq!(e.code(), 1201);
    let shown = at(&e, crate::line_of(&text, "ring_timeout:"));
    assert!(shown.contains("`ring_timeout_ms`"), "{shown}");
}

#[test]
fn a_rule_the_reference_cannot_emulate_is_refused() {
    let text = crate::canonical_with("caller_auto_joins: true", "caller_auto_joins: false");
    let e = err(&text);
    assert_eq!(e.code(), 1204);
    let shown = at(&e, crate::line_of(&text, "caller_auto_joins"));
    assert!(shown.contains("the valid value is true"), "{shown}");
}

#[test]
fn a_code_map_to_no_canonical_code_is_refused() {
    let codes = "codes:\n  - vendor: \"r=1\"\n    canonical: 404\n  - vendor: \"r=9\"\n    canonical: 999\n";
    let text = format!("{}{codes}", crate::canonical_with("", ""));
    let e = err(&text);
    assert_eq!(e.code(), 1205);
    let shown = at(&e, crate::line_of(&text, "vendor: \"r=9\""));
    assert!(
        shown.contains("codes[1]: 999 is not a canonical code; valid: 400"),
        "{shown}"
    );
}

#[test]
fn a_vendor_code_mapped_twice_is_refused() {
    let codes = "codes:\n  - vendor: \"r=1\"\n    canonical: 404\n  - vendor: \"r=1\"\n    canonical: 410\n";
    let text = format!("{}{codes}", crate::canonical_with("", ""));
    let e = err(&text);
    assert_eq!(e.code(), 1205);
    assert!(e.to_string().contains("mapped twice"), "{e}");
}

#[test]
fn an_unknown_profile_name_lists_the_profiles() {
    let e = Profile::resolve("skype").unwrap_err();
    assert_eq!(e.code(), 1206);
    assert!(
        e.to_string()
            .contains("canonical, mirrorfly, cometchat, stringee, voximplant, stream"),
        "{e}"
    );
}

#[test]
fn an_unreadable_file_is_1200() {
    let e = Profile::resolve("/nonexistent/dir/p.yaml").unwrap_err();
    assert_eq!(e.code(), 1200);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/dir/p.yaml: cannot read"),
        "{e}"
    );
}

#[test]
fn not_yaml_is_placed() {
    let e = err("capabilities: [unclosed\n");
    assert_eq!(e.code(), 1201);
    assert!(e.to_string().starts_with("profiles/x.yaml:"), "{e}");
}
