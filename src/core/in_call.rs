//! What members do inside a call: start the media session, hold, mute, DTMF, info, messages,
//! custom data, early media, blind transfer and the relay of media negotiation.
//!
//! Arguments are checked first (400/413), then the member's state (409/422), then the change is
//! made and told to the other members of the session.

use super::call::{Call, Member, Transfer};
use super::error::{CallError, Forbidden};
use super::event::{
    CallStatus, CallType, DetachReason, EndReason, Event, Media, ParticipantState, SignalKind,
    TransferOutcome,
};
use super::ids::{DeviceId, UserId};
use super::lifecycle::{check_answer, check_joined, check_session};
use super::op::Reply;
use super::{Core, validate};

use ParticipantState as P;

pub(super) fn start_session(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    check_joined(call, i, device, "start_session")?;
    if call.members[i].session_started {
        return Err(CallError::state(
            "start_session",
            "the session is already started",
        ));
    }
    call.members[i].session_started = true;
    let started = call
        .members
        .iter()
        .filter(|m| m.state == P::Joined && m.session_started)
        .count();
    if call.status == CallStatus::Connecting && started >= 2 {
        core.set_status(call, CallStatus::Connected);
    }
    Ok(Reply::Done)
}

fn check_connected(call: &Call, op: &'static str) -> Result<(), CallError> {
    if call.status == CallStatus::Connected {
        Ok(())
    } else {
        Err(CallError::state(op, format!("the call is {}", call.status)))
    }
}

pub(super) fn hold(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    on_hold: bool,
) -> Result<Reply, CallError> {
    check_joined(call, i, device, "hold")?;
    check_connected(call, "hold")?;
    if call.members[i].on_hold == on_hold {
        let state = if on_hold { "on hold" } else { "not on hold" };
        return Err(CallError::state("hold", state));
    }
    call.members[i].on_hold = on_hold;
    let event = Event::Hold {
        call: call.id,
        user: call.members[i].user.clone(),
        on_hold,
    };
    core.emit_session(call, event, Some(device));
    Ok(Reply::Done)
}

pub(super) fn mute(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    media: Media,
    muted: bool,
) -> Result<Reply, CallError> {
    if media == Media::Video && call.call_type == CallType::Audio {
        return Err(CallError::bad("media", "an audio call has no video track"));
    }
    check_session(call, i, device, "mute")?;
    let m = &mut call.members[i];
    let flag = match media {
        Media::Audio => &mut m.audio_muted,
        Media::Video => &mut m.video_muted,
    };
    if *flag == muted {
        let state = if muted { "already muted" } else { "not muted" };
        return Err(CallError::state("mute", state));
    }
    *flag = muted;
    let event = Event::Track {
        call: call.id,
        user: m.user.clone(),
        media,
        muted,
    };
    core.emit_session(call, event, Some(device));
    Ok(Reply::Done)
}

pub(super) fn dtmf(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    digits: String,
) -> Result<Reply, CallError> {
    validate::dtmf(&digits, &core.limits)?;
    check_joined(call, i, device, "dtmf")?;
    check_connected(call, "dtmf")?;
    let event = Event::Dtmf {
        call: call.id,
        from: call.members[i].user.clone(),
        digits,
    };
    core.emit_session(call, event, Some(device));
    Ok(Reply::Done)
}

pub(super) fn info(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    mime: String,
    body: String,
) -> Result<Reply, CallError> {
    validate::mime(&mime, &core.limits)?;
    validate::size("body", &body, core.limits.info_bytes_max)?;
    check_joined(call, i, device, "info")?;
    check_connected(call, "info")?;
    let event = Event::Info {
        call: call.id,
        from: call.members[i].user.clone(),
        mime,
        body,
    };
    core.emit_session(call, event, Some(device));
    Ok(Reply::Done)
}

pub(super) fn message(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    text: String,
) -> Result<Reply, CallError> {
    if text.is_empty() {
        return Err(CallError::bad("text", "must not be empty"));
    }
    validate::size("text", &text, core.limits.message_bytes_max)?;
    check_joined(call, i, device, "message")?;
    check_connected(call, "message")?;
    let event = Event::Message {
        call: call.id,
        from: call.members[i].user.clone(),
        text,
    };
    core.emit_session(call, event, Some(device));
    Ok(Reply::Done)
}

pub(super) fn custom_data(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    data: String,
) -> Result<Reply, CallError> {
    validate::size("custom_data", &data, core.limits.custom_data_bytes_max)?;
    check_session(call, i, device, "custom_data")?;
    call.custom_data = Some(data.clone());
    let event = Event::CustomData {
        call: call.id,
        from: call.members[i].user.clone(),
        data,
    };
    core.emit_session(call, event, Some(device));
    Ok(Reply::Done)
}

/// An invitee plays media to the caller before answering. From then on the invitation is bounded
/// by the early-media limit instead of the ring timeout (Voximplant: at most 60 s).
pub(super) fn early_media(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    check_answer(call, i, device, "early_media")?;
    if call.members[i].early_media {
        return Err(CallError::state(
            "early_media",
            "early media already started",
        ));
    }
    let deadline_ms = core.now_ms + core.limits.early_media_ms_max;
    let m = &mut call.members[i];
    m.early_media = true;
    m.deadline_ms = Some(deadline_ms);
    let user = m.user.clone();
    core.arm(call.id, i, deadline_ms);
    let event = Event::EarlyMedia {
        call: call.id,
        from: user,
    };
    core.emit_session(call, event, None);
    Ok(Reply::Done)
}

/// Blind transfer of a connected 1:1 call: the transferor leaves the session at once and waits
/// for the outcome; the target rings; the remaining party stays and is told.
pub(super) fn transfer(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    target: UserId,
) -> Result<Reply, CallError> {
    let me = call.members[i].user.clone();
    if target == me {
        return Err(CallError::bad(
            "target",
            "cannot transfer a call to oneself",
        ));
    }
    if !core.users.contains_key(&target) {
        return Err(CallError::not_found("user", &target));
    }
    check_joined(call, i, device, "transfer")?;
    check_connected(call, "transfer")?;
    if call.is_group {
        return Err(CallError::state("transfer", "a group call"));
    }
    if call.transfer.is_some() {
        return Err(CallError::state("transfer", "a transfer is under way"));
    }
    // Connected 1:1 with this member joined: the other joined member exists, else it had ended.
    let other = call
        .members
        .iter()
        .position(|m| m.state == P::Joined && m.user != me)
        .expect("a connected 1:1 call has two joined members");
    let same_kind =
        core.users[&me].config.endpoint == core.users[&call.members[other].user].config.endpoint;
    if same_kind && core.limits.policy.transfer_app_phone_only {
        return Err(CallError::Forbidden(Forbidden::TransferNotAllowed));
    }
    let existing = call.member_index(&target);
    if existing.is_some_and(|j| call.members[j].is_active()) {
        return Err(CallError::state(
            "transfer",
            format!("{target} is already in the call"),
        ));
    }
    if existing.is_none() && call.members.len() >= core.limits.participants_per_call_max {
        let max = core.limits.participants_per_call_max;
        return Err(CallError::Forbidden(Forbidden::ParticipantLimit(max)));
    }
    // Known: checked above.
    if core.is_busy(&target, &core.users[&target]) {
        return Err(CallError::Busy(target.to_string()));
    }
    let devices = core.online_devices(&target);
    if devices.is_empty() {
        return Err(CallError::Unavailable(target.to_string()));
    }

    let j = existing.unwrap_or_else(|| {
        call.members.push(Member::new(target.clone(), P::Invited));
        call.members.len() - 1
    });
    let deadline_ms = core.now_ms + core.limits.ring_timeout_ms;
    let t = &mut call.members[j];
    t.reset_session();
    t.handled_by = None;
    t.state = P::Invited;
    t.alerted = devices;
    t.deadline_ms = Some(deadline_ms);
    let transferring = P::Transferring { to: target.clone() };
    call.members[i].state = transferring.clone();
    call.transfer = Some(Transfer { from: i, target: j });
    core.attach(&target, call.id);
    core.arm(call.id, j, deadline_ms);
    let event = Event::Participant {
        call: call.id,
        user: me.clone(),
        state: transferring,
    };
    core.emit_session(call, event, None);
    let info = call.info(Some(me));
    for d in call.members[j].alerted.clone() {
        core.emit(d, Event::Incoming { info: info.clone() });
    }
    Ok(Reply::Done)
}

/// The transfer target answered: the transferor is told and leaves.
pub(super) fn transfer_succeeded(core: &mut Core, call: &mut Call) {
    let t = call
        .transfer
        .take()
        .expect("called only with a transfer under way");
    let target = call.members[t.target].user.clone();
    let m = &mut call.members[t.from];
    let device = m.device;
    m.state = P::Transferred;
    m.reset_session();
    let user = m.user.clone();
    if let Some(d) = device {
        core.emit(
            d,
            Event::TransferResult {
                call: call.id,
                target,
                outcome: TransferOutcome::Succeeded,
            },
        );
        core.emit(
            d,
            Event::Detached {
                call: call.id,
                reason: DetachReason::Transferred,
            },
        );
    }
    core.release(&user, call.id);
    let event = Event::Participant {
        call: call.id,
        user,
        state: P::Transferred,
    };
    core.emit_session(call, event, None);
}

/// The transfer target declined, timed out or vanished: the transferor is told, and the party
/// left alone is released with the call's end.
pub(super) fn transfer_failed(core: &mut Core, call: &mut Call, code: u16) {
    let t = call
        .transfer
        .take()
        .expect("called only with a transfer under way");
    tell_transfer_failed(core, call, t, code);
    core.end_call(call, EndReason::TransferFailed { code });
}

/// Tells the transferor of `t` that its transfer failed with `code`.
pub(super) fn tell_transfer_failed(core: &mut Core, call: &Call, t: Transfer, code: u16) {
    let target = call.members[t.target].user.clone();
    if let Some(d) = call.members[t.from].device {
        core.emit(
            d,
            Event::TransferResult {
                call: call.id,
                target,
                outcome: TransferOutcome::Failed { code },
            },
        );
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn signal(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    to: Option<UserId>,
    kind: SignalKind,
    body: String,
) -> Result<Reply, CallError> {
    validate::size("body", &body, core.limits.signal_bytes_max)?;
    check_joined(call, i, device, "signal")?;
    let targets: Vec<DeviceId> = match &to {
        Some(u) => {
            let j = call
                .member_index(u)
                .filter(|&j| j != i && call.members[j].state == P::Joined)
                .ok_or_else(|| CallError::state("signal", format!("{u} is not in the session")))?;
            call.members[j].device.into_iter().collect()
        }
        None => call
            .members
            .iter()
            .enumerate()
            .filter(|(j, m)| *j != i && m.state == P::Joined)
            .filter_map(|(_, m)| m.device)
            .collect(),
    };
    let from = call.members[i].user.clone();
    for d in targets {
        core.emit(
            d,
            Event::Signal {
                call: call.id,
                from: from.clone(),
                from_device: device,
                kind,
                body: body.clone(),
            },
        );
    }
    Ok(Reply::Done)
}
