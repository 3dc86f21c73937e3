//! Running and grading scenarios under a dialect profile.
//!
//! A scenario runs under one dialect: the run's (`certify --profile NAME`), else canonical, unless
//! it says `Given the dialect is "NAME"`. The dialect sets the core's limits and policy (the
//! reference server emulates it, in process or behind a rig, whose reset carries the limits) and
//! the reference SDK's automatic steps (a dialect without `ringing` acknowledges nothing).
//!
//! Grading: a step that needs a capability the dialect lacks makes the scenario
//! **unimplemented**, not failed, because the scenario asks for something the SDK need not have.
//! That alone would let a profile hide a bug by declaring a feature absent, so the probe step
//! checks the other half: the system under test really refuses every absent capability with 501.

use super::action::ExpectedLine;
use super::expect::{Failure, FailureKind};
use super::sut::Sut;
use crate::core::{Alert, CallId, CallStatus, CallType, Capability, Op, PlaceCall, Policy, UserId};
use crate::profile::Profile;
use crate::session::SessionConfig;

/// The code a system under test refuses an operation its dialect lacks with.
pub const ABSENT_CODE: u16 = 501;

/// Switches `config` to `profile`: its limits and policy, and the reference SDK's automatic
/// steps as far as the dialect has them (a dialect set earlier is replaced entirely).
pub fn apply(config: &mut SessionConfig, profile: &Profile) {
    config.limits = profile.core_limits();
    let policy = &config.limits.policy;
    let default = crate::client::DeviceOptions::default();
    config.device.auto_ringing = default.auto_ringing && policy.has(Capability::Ringing);
    config.device.auto_start_session =
        default.auto_start_session && policy.has(Capability::StartSession);
}

// ----- Expectations without the ring acknowledgement ----------------------------------------
//
// The canonical features are written for an SDK that acknowledges ringing on its own (the
// `ringing` operation, an automatic step). A dialect without `ringing` (CometChat's default
// flow) never acknowledges, and that changes three things and nothing else: nobody is told
// `call-N: X ringing` or `call-N: status ringing`, the call stays `calling` until the first
// answer, and an invitee stays `invited` until it answers. Translating the expectations here,
// once, lets one feature text hold for every dialect; the system under test must still send
// exactly what is left (a ring acknowledgement it sends anyway fails the step).

/// Whether the dialect acknowledges ringing; when not, expectations are translated below.
pub fn acknowledges_ringing(policy: &Policy) -> bool {
    policy.has(Capability::Ringing)
}

/// `lines` as the dialect sees them: without the ring acknowledgements when it has none.
pub fn expected_lines(policy: &Policy, lines: &[ExpectedLine]) -> Vec<ExpectedLine> {
    if acknowledges_ringing(policy) {
        return lines.to_vec();
    }
    lines
        .iter()
        .filter(|l| !is_ring_acknowledgement(&l.text))
        .cloned()
        .collect()
}

/// `call-N: WHO ringing`: a member's ringing acknowledgement, or the call's status
/// (`call-N: status ringing`), which only an acknowledgement causes.
fn is_ring_acknowledgement(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    matches!(words[..], [call, _, "ringing"] if call.starts_with("call-") && call.ends_with(':'))
}

/// The call status expected under the dialect for the canonical `status`.
pub fn expected_status(policy: &Policy, status: CallStatus) -> CallStatus {
    match status {
        CallStatus::Ringing if !acknowledges_ringing(policy) => CallStatus::Calling,
        other => other,
    }
}

/// The member state expected under the dialect for the canonical `state` (as written).
pub fn expected_member_state<'a>(policy: &Policy, state: &'a str) -> &'a str {
    match state {
        "ringing" if !acknowledges_ringing(policy) => "invited",
        other => other,
    }
}

/// Unsupported when `op` needs a capability the dialect `name` lacks.
pub fn gate(policy: &Policy, name: &str, op: &Op) -> Result<(), Failure> {
    match policy.lacking(op) {
        None => Ok(()),
        Some(c) => Err(Failure::of(
            FailureKind::NotInDialect,
            format!(
                "the dialect `{name}` has no `{c}` (its profile's capabilities), so the \
                 scenario cannot run under it"
            ),
        )),
    }
}

/// One request that needs `capability` and nothing else absent in `policy`, on `call`; `peer`
/// is a user to call or invite.
fn probe_op(capability: Capability, call: CallId, peer: &UserId) -> Op {
    let place = |group: bool, alert: Alert| {
        let mut p = PlaceCall::direct(peer.clone(), CallType::Audio);
        if group {
            p.invitees.push(UserId::new("callconf-probe-nobody"));
        }
        p.alert = alert;
        Op::Place(p)
    };
    match capability {
        Capability::Place => place(false, Alert::Ring),
        Capability::GroupCalls => place(true, Alert::Ring),
        Capability::Notify => place(false, Alert::Notify),
        Capability::Ringing => Op::ringing(call),
        Capability::Accept => Op::accept(call),
        Capability::Decline => Op::decline(call, None),
        Capability::Cancel => Op::Cancel { call },
        Capability::Hangup => Op::hangup(call),
        Capability::EndForAll => Op::EndForAll { call },
        Capability::Join => Op::Join { call },
        Capability::Invite => Op::Invite {
            call,
            users: vec![peer.clone()],
        },
        Capability::StartSession => Op::StartSession { call },
        Capability::Hold => Op::Hold {
            call,
            on_hold: true,
        },
        Capability::Mute => Op::Mute {
            call,
            media: crate::core::Media::Audio,
            muted: true,
        },
        Capability::Dtmf => Op::Dtmf {
            call,
            digits: "1".into(),
        },
        Capability::Info => Op::Info {
            call,
            mime: "text/plain".into(),
            body: "probe".into(),
            headers: Vec::new(),
        },
        Capability::Message => Op::Message {
            call,
            text: "probe".into(),
        },
        Capability::CustomData => Op::CustomData {
            call,
            data: "probe".into(),
        },
        Capability::EarlyMedia => Op::early_media(call),
        Capability::Transfer => Op::Transfer {
            call,
            target: peer.clone(),
        },
        Capability::Signal => Op::Signal {
            call,
            to: None,
            kind: crate::core::SignalKind::Offer,
            body: "probe".into(),
        },
        Capability::GetCall => Op::GetCall { call },
    }
}

/// The probe: `device` asks for every capability `policy` lacks, on `call`, and each must be
/// refused with [`ABSENT_CODE`]. Returns how many were probed; a dialect that lacks nothing
/// cannot be probed: unimplemented under it, not a pass.
pub async fn probe(
    sut: &mut Sut,
    policy: &Policy,
    device: &str,
    call: CallId,
    peer: &UserId,
) -> Result<usize, Failure> {
    if policy.absent.is_empty() {
        return Err(Failure::of(
            FailureKind::NotInDialect,
            "the dialect lacks no capability, so there is nothing to probe",
        ));
    }
    for &capability in &policy.absent {
        let op = probe_op(capability, call, peer);
        let shown = op.to_string();
        let answer = sut.request(device, op).await.map_err(Failure::from)?;
        match answer {
            Err(r) if r.code == ABSENT_CODE => {}
            Err(r) => {
                return Err(Failure::new(format!(
                    "the dialect lacks `{capability}`, but `{shown}` was refused with {} \
                     instead of {ABSENT_CODE}: {}",
                    r.code, r.message
                )));
            }
            Ok(reply) => {
                return Err(Failure::new(format!(
                    "the dialect lacks `{capability}`, but `{shown}` succeeded: {reply:?}"
                )));
            }
        }
    }
    Ok(policy.absent.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> ExpectedLine {
        ExpectedLine {
            at_ms: None,
            text: text.into(),
        }
    }

    #[test]
    fn without_ringing_the_acknowledgements_are_not_expected() {
        let without = Policy {
            absent: vec![Capability::Ringing],
            ..Policy::default()
        };
        let lines = [
            line("call-1: bob ringing"),
            line("call-1: status ringing"),
            line("call-1: bob accepted"),
            line("call-12: DTMF \"ringing\" from bob"),
        ];
        let kept: Vec<String> = expected_lines(&without, &lines)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(
            kept,
            ["call-1: bob accepted", "call-12: DTMF \"ringing\" from bob"]
        );
        assert_eq!(expected_lines(&Policy::default(), &lines).len(), 4);
        assert_eq!(
            expected_status(&without, CallStatus::Ringing),
            CallStatus::Calling
        );
        assert_eq!(expected_member_state(&without, "ringing"), "invited");
        assert_eq!(
            expected_member_state(&Policy::default(), "ringing"),
            "ringing"
        );
    }
}
