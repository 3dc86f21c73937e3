//! Boundary scenarios generated from a profile's limits (`certify --boundaries`): exactly at a
//! limit succeeds, one over is refused (payload sizes, participants per call); each DTMF character of the canonical set is relayed if
//! the dialect allows it and refused with 400 if not.
//!
//! Why generated: the limits live in the profile, so hand-written boundary scenarios would copy
//! them and go stale the day a profile changes. The generated feature is ordinary Gherkin,
//! checked and run like any other under the run's dialect (so `--emulate` can show a server of
//! another dialect failing it), and its failures read the same.

use std::fmt::Write as _;
use std::path::PathBuf;

use cucumber::gherkin;

use super::error::{ConformanceError, Problem};
use super::steps::filler;
use crate::core::{Capability, DTMF_CHARACTERS};
use crate::profile::Profile;

/// The path the generated feature of `profile` is reported under (no such file exists).
pub fn path(profile: &Profile) -> PathBuf {
    PathBuf::from(format!("generated/boundaries-{}.feature", profile.name))
}

/// The boundary feature of `profile`, parsed and expanded.
pub fn feature(profile: &Profile) -> Result<gherkin::Feature, ConformanceError> {
    let text = text(profile);
    let path = path(profile);
    let mut f = gherkin::Feature::parse(&text, gherkin::GherkinEnv::default()).map_err(|e| {
        ConformanceError::Invalid(vec![Problem {
            path: path.clone(),
            line: 0,
            column: 0,
            message: format!("the generated boundary feature does not parse: {e}"),
        }])
    })?;
    f.path = Some(path);
    Ok(f)
}

/// One scenario: a connected call alice → bob, then `steps`.
fn scenario(out: &mut String, name: &str, steps: &[String]) {
    let _ = writeln!(out, "  Scenario: {name}");
    out.push_str("    Given users alice and bob\n    And alice calls bob\n    And bob accepts\n");
    for s in steps {
        let _ = writeln!(out, "    {s}");
    }
    out.push('\n');
}

/// A payload limit at and one over: `op` is the When step with `{n}` for the size.
fn payload(out: &mut String, what: &str, max: usize, op: &str, seen: &str) {
    let at = op.replace("{n}", &max.to_string());
    let over = op.replace("{n}", &(max + 1).to_string());
    let name = format!("{what} at the limit, {max} bytes, is relayed");
    scenario(out, &name, &[format!("When {at}"), format!("Then {seen}")]);
    let name = format!("{what} one over the limit, {} bytes, is refused", max + 1);
    let steps = [
        format!("When {over}"),
        format!("Then it fails with 413 saying \"over the limit of {max}\""),
        "And nobody sees anything more".to_owned(),
    ];
    scenario(out, &name, &steps);
}

/// The participant limit of one call: a group call placed with exactly `max` members rings
/// everyone; inviting one more is refused with 403 and changes nothing. The host's plan allows
/// the dialect's limit, so it is the dialect's limit that is met.
fn participants(out: &mut String, max: usize, rings: bool) {
    let others: Vec<String> = (2..=max).map(|n| format!("p{n}")).collect();
    let given = format!(
        "    Given users alice, {} and extra\n    And alice's plan allows at most {max} participants\n",
        others.join(", ")
    );
    let to = match others.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let place = format!("    And alice places an audio call to {to}\n");
    let last = others.last().cloned().unwrap_or_default();
    // Without ring acknowledgements in the dialect, an invitee stays invited.
    let state = if rings { "ringing" } else { "invited" };
    let _ = writeln!(
        out,
        "  Scenario: A call at the participant limit, {max} members, rings everyone\n{given}{place}    \
         Then {last}'s state in call-1 is {state}\n"
    );
    let _ = writeln!(
        out,
        "  Scenario: Inviting one over the participant limit of {max} is refused\n{given}{place}    \
         When alice invites extra to the call\n    Then it fails with 403 saying \"at most {max}\"\n    \
         And nobody sees anything more\n"
    );
}

/// The feature text.
pub fn text(profile: &Profile) -> String {
    let d = profile.name.as_str();
    let limits = profile.core_limits();
    let policy = &limits.policy;
    let mut out = format!(
        "@boundaries\nFeature: Boundaries of the {d} dialect\n  Generated from \
         profiles/{d}.yaml: each limit exactly at it and one over.\n\n"
    );
    if policy.has(Capability::CustomData) {
        let n = limits.custom_data_bytes_max;
        let seen = format!(
            "bob sees \"call-1: custom data \"{}\" from alice\"",
            filler(n)
        );
        payload(
            &mut out,
            "Custom data",
            n,
            "alice sets custom data of {n} bytes",
            &seen,
        );
    }
    if policy.has(Capability::Info) {
        let n = limits.info_bytes_max;
        let seen = format!("bob sees \"call-1: info text/plain ({n} B) from alice\"");
        let op = "alice sends info \"text/plain\" of {n} bytes";
        payload(&mut out, "An INFO body", n, op, &seen);
    }
    if policy.has(Capability::Message) {
        let n = limits.message_bytes_max;
        let seen = format!("bob sees \"call-1: message ({n} B) from alice\"");
        payload(
            &mut out,
            "A message",
            n,
            "alice sends a message of {n} bytes",
            &seen,
        );
    }
    if policy.has(Capability::GroupCalls) && policy.has(Capability::Invite) {
        let rings = policy.has(Capability::Ringing);
        participants(&mut out, limits.participants_per_call_max, rings);
    }
    if policy.has(Capability::Dtmf) {
        for c in DTMF_CHARACTERS.chars() {
            let send = format!("When alice sends DTMF \"{c}\"");
            if policy.dtmf_characters.contains(c) {
                let seen = format!("Then bob sees \"call-1: DTMF \"{c}\" from alice\"");
                scenario(&mut out, &format!("DTMF {c:?} is relayed"), &[send, seen]);
            } else {
                let refused = "Then it fails with 400 saying \"is not a DTMF digit\"".to_owned();
                let name = format!("DTMF {c:?} is refused");
                scenario(&mut out, &name, &[send, refused]);
            }
        }
    }
    out
}
