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

use super::expect::{Failure, FailureKind};
use super::sut::Sut;
use crate::core::{Alert, CallId, CallType, Capability, Op, PlaceCall, Policy, UserId};
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
        Capability::Ringing => Op::Ringing { call },
        Capability::Accept => Op::Accept { call },
        Capability::Decline => Op::Decline { call, code: None },
        Capability::Cancel => Op::Cancel { call },
        Capability::Hangup => Op::Hangup { call },
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
        },
        Capability::Message => Op::Message {
            call,
            text: "probe".into(),
        },
        Capability::CustomData => Op::CustomData {
            call,
            data: "probe".into(),
        },
        Capability::EarlyMedia => Op::EarlyMedia { call },
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
