//! The dialect a case runs under: the part of a vendor profile (`profiles/<name>.yaml`) the
//! model needs to predict, as the model's own data.
//!
//! Why the model reads the profile itself instead of the core's `Policy`: the model is the
//! second, independent statement of the rules. It takes the same *data* (which operations
//! exist, four switches, three limits) and applies it in its own code, so a dialect the core
//! emulates wrongly disagrees with the model instead of being copied by it.
//!
//! What a dialect changes in the model:
//! - an operation it lacks is refused with 501 before anything about the call is looked at
//!   (and the generator never offers one);
//! - `session_start_required`: off, a call is connected as soon as two members have joined;
//! - `transfer_app_phone_only`: off, a blind transfer may be between any two endpoints;
//! - `reject_codes_3xx_6xx`: off, a decline code may be anything from 100 to 699;
//! - `end_for_all_host_needs_permission`: on, the host needs the end-call permission too;
//! - the DTMF characters and digits allowed, and the ring timeout.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use crate::core::Capability;
use crate::profile::Profile;

use super::Step;

/// The rules and limits of one dialect, as the model applies them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// The profile's name (`canonical`, `voximplant`, or a file's stem).
    pub name: String,
    /// Operations the dialect does not have.
    pub absent: BTreeSet<Capability>,
    pub session_start_required: bool,
    pub transfer_app_phone_only: bool,
    pub reject_codes_3xx_6xx: bool,
    pub end_for_all_host_needs_permission: bool,
    /// The characters a DTMF request may hold.
    pub dtmf_characters: String,
    pub dtmf_digits_max: usize,
    pub ring_timeout_ms: u64,
}

/// The SPEC's canonical lifecycle, written out (a test holds it equal to
/// `profiles/canonical.yaml`).
static CANONICAL: LazyLock<Arc<Dialect>> = LazyLock::new(|| {
    Arc::new(Dialect {
        name: "canonical".into(),
        absent: BTreeSet::new(),
        session_start_required: true,
        transfer_app_phone_only: true,
        reject_codes_3xx_6xx: true,
        end_for_all_host_needs_permission: false,
        dtmf_characters: "0123456789*#ABCDp".into(),
        dtmf_digits_max: 64,
        ring_timeout_ms: 30_000,
    })
});

impl Dialect {
    /// The canonical lifecycle.
    pub fn canonical() -> Arc<Dialect> {
        CANONICAL.clone()
    }

    /// The dialect `profile` states; a limit it leaves out keeps the canonical value.
    pub fn of(profile: &Profile) -> Dialect {
        let canonical = Dialect::canonical();
        let rules = &profile.rules;
        let limits = &profile.limits;
        Dialect {
            name: profile.name.clone(),
            absent: profile.absent().into_iter().collect(),
            session_start_required: rules.session_start_required,
            transfer_app_phone_only: rules.transfer_app_phone_only,
            reject_codes_3xx_6xx: rules.reject_codes_3xx_6xx,
            end_for_all_host_needs_permission: rules.end_for_all_host_needs_permission,
            dtmf_characters: limits
                .dtmf_characters
                .clone()
                .unwrap_or_else(|| canonical.dtmf_characters.clone()),
            dtmf_digits_max: limits.dtmf_digits_max.unwrap_or(canonical.dtmf_digits_max),
            ring_timeout_ms: limits.ring_timeout_ms.unwrap_or(canonical.ring_timeout_ms),
        }
    }

    /// The same dialect with another ring timeout (a real-time run shortens it).
    pub fn with_ring_timeout_ms(&self, ring_timeout_ms: u64) -> Dialect {
        Dialect {
            ring_timeout_ms,
            ..self.clone()
        }
    }

    pub fn has(&self, capability: Capability) -> bool {
        !self.absent.contains(&capability)
    }

    /// The first operation `step` needs that the dialect lacks.
    pub fn lacking(&self, step: &Step) -> Option<Capability> {
        needs(step).into_iter().find(|c| !self.has(*c))
    }

    /// Does the dialect have every operation `step` needs?
    pub fn allows(&self, step: &Step) -> bool {
        self.lacking(step).is_none()
    }

    /// The lowest decline code the dialect takes.
    pub fn decline_code_min(&self) -> u16 {
        if self.reject_codes_3xx_6xx { 300 } else { 100 }
    }

    /// The operations the generator may use under this dialect, as the driver protocol names
    /// them.
    pub fn operations(&self) -> Vec<&'static str> {
        OPERATIONS
            .into_iter()
            .filter(|c| self.has(*c))
            .map(Capability::name)
            .collect()
    }
}

/// Every operation the generator uses (a capability's name is the driver protocol's name of
/// the operation).
const OPERATIONS: [Capability; 15] = [
    Capability::Place,
    Capability::Ringing,
    Capability::Accept,
    Capability::StartSession,
    Capability::Decline,
    Capability::Cancel,
    Capability::Hangup,
    Capability::EndForAll,
    Capability::Join,
    Capability::Invite,
    Capability::Hold,
    Capability::Mute,
    Capability::Dtmf,
    Capability::Transfer,
    Capability::GetCall,
];

/// The operations (capabilities) a step uses: a group call needs group calls besides placing.
fn needs(step: &Step) -> Vec<Capability> {
    let one = match step {
        Step::Place { to, group, .. } => {
            let mut caps = vec![Capability::Place];
            if group.is_some() || to.len() > 1 {
                caps.push(Capability::GroupCalls);
            }
            return caps;
        }
        Step::Ring { .. } => Capability::Ringing,
        Step::Accept { .. } => Capability::Accept,
        Step::StartSession { .. } => Capability::StartSession,
        Step::Decline { .. } => Capability::Decline,
        Step::Cancel { .. } => Capability::Cancel,
        Step::Hangup { .. } => Capability::Hangup,
        Step::EndForAll { .. } => Capability::EndForAll,
        Step::Join { .. } => Capability::Join,
        Step::Invite { .. } => Capability::Invite,
        Step::Hold { .. } => Capability::Hold,
        Step::Mute { .. } => Capability::Mute,
        Step::Dtmf { .. } => Capability::Dtmf,
        Step::Transfer { .. } => Capability::Transfer,
        Step::GetCall { .. } => Capability::GetCall,
        Step::Advance { .. } | Step::Offline { .. } | Step::Online { .. } => return Vec::new(),
    };
    vec![one]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical dialect written out here is the one `profiles/canonical.yaml` states.
    #[test]
    fn canonical_is_the_canonical_profile() {
        let profile = Profile::builtin("canonical").expect("the built-in canonical profile");
        assert_eq!(Dialect::of(&profile), *Dialect::canonical());
    }

    /// A dialect's absent operations are neither offered nor allowed; the rest are.
    #[test]
    fn operations_follow_the_capabilities() {
        let cometchat = Dialect::of(&Profile::builtin("cometchat").expect("cometchat"));
        let ops = cometchat.operations();
        for absent in [
            "ringing",
            "hold",
            "dtmf",
            "transfer",
            "end_for_all",
            "get_call",
        ] {
            assert!(!ops.contains(&absent), "{absent} in {ops:?}");
        }
        assert!(
            ops.contains(&"start_session") && ops.contains(&"join"),
            "{ops:?}"
        );
        assert_eq!(Dialect::canonical().operations().len(), OPERATIONS.len());
    }
}
