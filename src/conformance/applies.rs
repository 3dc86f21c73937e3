//! Which scenarios apply under a dialect: the tags that say so.
//!
//! The canonical features run under every profile. Most of a dialect's differences need nothing
//! from a feature: an absent capability makes a scenario unimplemented (`dialect::gate`), a limit
//! is the dialect's own, and the missing ring acknowledgement is translated once
//! (`dialect::expected_lines`). What remains are scenarios that check a *rule* — decline codes
//! only 300–699, `X-` header names, the media session before `connected` — whose outcome is
//! different where the rule is off. A copy of such a scenario per dialect would drift; instead
//! the scenario, or one `Examples:` block of an outline, carries a condition tag, and another
//! block states the outcome where the rule does not hold:
//!
//! ```gherkin
//! @rule:reject_codes_3xx_6xx
//! Examples: where decline codes are 300–699
//!   | code |
//!   | 200  |
//! @rule:!reject_codes_3xx_6xx
//! Examples: where any SIP code may decline
//!   | code |
//!   | 100  |
//! ```
//!
//! | tag | applies where |
//! |---|---|
//! | `@rule:NAME` | the dialect has the rule `NAME` (a key of a profile's `rules`) |
//! | `@rule:!NAME` | the dialect has not |
//! | `@dtmf:CHARS` | every one of `CHARS` is a DTMF character of the dialect |
//! | `@dtmf:!CHARS` | none of them is |
//!
//! A scenario that does not apply is reported as skipped, with the reason; it is neither passed
//! nor failed, and the scenario that does apply says what the dialect does instead.

use crate::profile::{Profile, Rules};

/// The prefix of a rule condition tag (`@rule:NAME`, `@rule:!NAME`).
pub const RULE_TAG: &str = "rule:";
/// The prefix of a DTMF condition tag (`@dtmf:CHARS`, `@dtmf:!CHARS`).
pub const DTMF_TAG: &str = "dtmf:";

/// A dialect condition a tag states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The rule `name` is on (`on`) or off.
    Rule { name: String, on: bool },
    /// Every one of `chars` is a DTMF character of the dialect (`present`), or none is.
    Dtmf { chars: String, present: bool },
}

impl Condition {
    /// The condition `tag` (written without its `@`) states: `None` for a tag that is no
    /// condition, an error naming what is wrong for a malformed one.
    pub fn of_tag(tag: &str) -> Option<Result<Self, String>> {
        let tag = tag.strip_prefix('@').unwrap_or(tag);
        if let Some(rest) = tag.strip_prefix(RULE_TAG) {
            let (on, name) = negated(rest);
            return Some(if Rules::NAMES.contains(&name) {
                Ok(Condition::Rule {
                    name: name.to_owned(),
                    on,
                })
            } else {
                Err(format!(
                    "the tag `@{tag}` names no rule; the rules are {}",
                    Rules::NAMES.join(", ")
                ))
            });
        }
        if let Some(rest) = tag.strip_prefix(DTMF_TAG) {
            let (present, chars) = negated(rest);
            let known = crate::core::DTMF_CHARACTERS;
            return Some(match chars.chars().find(|c| !known.contains(*c)) {
                _ if chars.is_empty() => Err(format!("the tag `@{tag}` names no DTMF character")),
                Some(c) => Err(format!(
                    "the tag `@{tag}` names {c:?}, which is no DTMF character ({known})"
                )),
                None => Ok(Condition::Dtmf {
                    chars: chars.to_owned(),
                    present,
                }),
            });
        }
        None
    }

    /// Whether the condition holds under `profile`.
    pub fn holds(&self, profile: &Profile) -> bool {
        match self {
            Condition::Rule { name, on } => profile.rules.named(name) == Some(*on),
            Condition::Dtmf { chars, present } => {
                let set = profile.policy().dtmf_characters;
                chars.chars().all(|c| set.contains(c) == *present)
            }
        }
    }

    /// The condition as a reader says it: "the rule X holds", "none of the DTMF characters
    /// ABCD exists".
    fn describe(&self) -> String {
        match self {
            Condition::Rule { name, on: true } => format!("the rule {name} holds"),
            Condition::Rule { name, on: false } => format!("the rule {name} does not hold"),
            Condition::Dtmf {
                chars,
                present: true,
            } => format!("every one of the DTMF characters {chars} exists"),
            Condition::Dtmf {
                chars,
                present: false,
            } => format!("none of the DTMF characters {chars} exists"),
        }
    }
}

/// `!NAME` → (false, NAME); `NAME` → (true, NAME).
fn negated(s: &str) -> (bool, &str) {
    match s.strip_prefix('!') {
        Some(rest) => (false, rest),
        None => (true, s),
    }
}

/// Why a scenario with `tags` does not apply under `profile`, or `None` when it does (a
/// malformed condition tag is the checker's to report, and is ignored here).
pub fn not_applicable<'a>(
    tags: impl IntoIterator<Item = &'a str>,
    profile: &Profile,
) -> Option<String> {
    // A tag can reach a scenario twice (an outline's Examples tags are also its own).
    let mut unmet: Vec<String> = tags
        .into_iter()
        .filter_map(Condition::of_tag)
        .filter_map(Result::ok)
        .filter(|c| !c.holds(profile))
        .map(|c| c.describe())
        .collect();
    unmet.sort();
    unmet.dedup();
    if unmet.is_empty() {
        return None;
    }
    Some(format!(
        "does not apply under the dialect {}: it is for dialects where {} (another scenario or \
         Examples block states {}'s outcome)",
        profile.name,
        unmet.join(" and "),
        profile.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str) -> Profile {
        Profile::builtin(name).unwrap()
    }

    #[test]
    fn a_rule_condition_holds_where_the_dialect_has_the_rule() {
        let c = Condition::of_tag("@rule:reject_codes_3xx_6xx")
            .unwrap()
            .unwrap();
        assert!(c.holds(&builtin("canonical")));
        assert!(!c.holds(&builtin("cometchat")));
        let not = Condition::of_tag("rule:!reject_codes_3xx_6xx")
            .unwrap()
            .unwrap();
        assert!(not.holds(&builtin("cometchat")));
    }

    #[test]
    fn a_dtmf_condition_reads_the_dialect_set() {
        let abcd = Condition::of_tag("dtmf:ABCD").unwrap().unwrap();
        assert!(abcd.holds(&builtin("canonical")));
        assert!(!abcd.holds(&builtin("voximplant")));
        let none = Condition::of_tag("dtmf:!A").unwrap().unwrap();
        assert!(none.holds(&builtin("voximplant")));
    }

    #[test]
    fn malformed_conditions_name_the_alternatives() {
        let e = Condition::of_tag("rule:hold_twice").unwrap().unwrap_err();
        assert!(e.contains("session_start_required"), "{e}");
        let e = Condition::of_tag("dtmf:Z").unwrap().unwrap_err();
        assert!(e.contains("'Z'"), "{e}");
        assert!(Condition::of_tag("hold").is_none());
    }

    #[test]
    fn the_reason_names_what_the_dialect_lacks() {
        let why = not_applicable(["decline", "rule:reject_codes_3xx_6xx"], &builtin("stream"));
        let why = why.unwrap();
        assert!(
            why.contains("where the rule reject_codes_3xx_6xx holds"),
            "{why}"
        );
        assert!(not_applicable(["rule:reject_codes_3xx_6xx"], &builtin("canonical")).is_none());
    }
}
