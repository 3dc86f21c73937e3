//! Placing, ringing, answering and ending calls, and what device presence does to them.
//!
//! Each handler checks everything first and acts only once nothing can fail any more, so a
//! refusal changes nothing (see the module docs of `core`).

use std::mem;

use super::call::{Call, Member, Members};
use super::error::{CallError, Feature, Forbidden};
use super::event::{Alert, CallStatus, CallType, DetachReason, EndReason, Event, ParticipantState};
use super::ids::{CallId, DeviceId, Devices, UserId};
use super::op::{PlaceCall, Reply};
use super::{Core, Fault, validate};

use ParticipantState as P;

pub(super) fn place(
    core: &mut Core,
    device: DeviceId,
    user: &UserId,
    p: PlaceCall,
) -> Result<Reply, CallError> {
    validate::invitees(&p.invitees, user)?;
    if let Some(u) = p.invitees.iter().find(|u| !core.users.contains_key(*u)) {
        return Err(CallError::not_found("user", u));
    }
    if let Some(data) = &p.custom_data {
        validate::size("custom_data", data, core.limits.custom_data_bytes_max)?;
    }
    validate::headers(&p.headers, &core.limits)?;
    let is_group = p.group.is_some() || p.invitees.len() > 1;
    if let Some(g) = &p.group {
        let members = core
            .groups
            .get(g)
            .ok_or_else(|| CallError::not_found("group", g))?;
        let outside = |u: &UserId| members.binary_search(u).is_err();
        if outside(user) || p.invitees.iter().any(outside) {
            return Err(CallError::Forbidden(Forbidden::NotGroupMember));
        }
    }
    let caller = &core.users[user];
    let plan = caller.config.plan;
    let feature = match (is_group, p.call_type) {
        (true, _) => Feature::GroupCalls,
        (false, CallType::Audio) => Feature::OneToOneAudio,
        (false, CallType::Video) => Feature::OneToOneVideo,
    };
    if !plan.allows(feature) {
        return Err(CallError::Forbidden(Forbidden::NotInPlan(feature)));
    }
    if p.invitees.len() + 1 > plan.max_participants {
        return Err(CallError::Forbidden(Forbidden::ParticipantLimit(
            plan.max_participants,
        )));
    }
    if caller.calls.len() >= core.limits.calls_per_user_max
        || (!caller.config.call_waiting && core.in_other_call(user, caller))
    {
        return Err(CallError::Busy(user.to_string()));
    }
    if core.calls.len() >= core.limits.live_calls_max {
        return Err(CallError::Capacity("live_calls_max"));
    }

    let split = split_invitees(core, &p.invitees, p.alert);
    if p.alert == Alert::Ring && split.reached == 0 {
        // Nobody can ring: a 1:1 call to a busy or absent user is refused outright, as is a group
        // call where every invitee is.
        return Err(match split.busy.first() {
            Some(u) => CallError::Busy(u.to_string()),
            None => CallError::Unavailable(split.unavailable[0].to_string()),
        });
    }

    // Nothing can fail from here on.
    let id = CallId(core.next_call);
    core.next_call += 1;
    let now_ms = core.now_ms;
    let ring_deadline_ms = now_ms + core.limits.ring_timeout_ms;
    let mut host = Member::new(
        user.clone(),
        match p.alert {
            Alert::Ring => P::Calling,
            Alert::Notify => P::Joined,
        },
    );
    host.device = Some(device);
    host.handled_by = Some(device);
    let mut members = Members::with_capacity(1 + p.invitees.len());
    members.push(host);
    for u in &p.invitees {
        let member = if split.busy.contains(u) {
            Member::new(u.clone(), P::Busy)
        } else if split.unavailable.contains(u) {
            Member::new(u.clone(), P::Unavailable)
        } else {
            let mut m = Member::new(
                u.clone(),
                match p.alert {
                    Alert::Ring => P::Invited,
                    Alert::Notify => P::Notified,
                },
            );
            m.alerted = core.online_devices(u);
            if p.alert == Alert::Ring {
                m.deadline_ms = Some(ring_deadline_ms);
            }
            m
        };
        members.push(member);
    }
    let call = Call {
        id,
        call_type: p.call_type,
        group: p.group,
        is_group,
        alert: p.alert,
        created_ms: now_ms,
        ended_ms: None,
        status: match p.alert {
            Alert::Ring => CallStatus::Calling,
            Alert::Notify => CallStatus::Connecting,
        },
        end_reason: None,
        members,
        accepted: false,
        transfer: None,
        custom_data: p.custom_data,
        headers: p.headers,
    };
    core.attach(user, id);
    let info = call.info(None);
    let event = match p.alert {
        Alert::Ring => Event::Incoming { info },
        Alert::Notify => Event::Notified { info },
    };
    for (i, m) in call.members.iter().enumerate().skip(1) {
        if !m.is_active() {
            continue;
        }
        core.attach(&m.user, id);
        if let Some(deadline_ms) = m.deadline_ms {
            core.arm(id, i, deadline_ms);
        }
        for &d in &m.alerted {
            core.emit(d, event.clone());
        }
    }
    core.calls.insert(id, Box::new(call));
    Ok(Reply::Placed {
        call: id,
        busy: split.busy,
        unavailable: split.unavailable,
    })
}

/// Invitees sorted by what can be done for them now.
pub(super) struct Split {
    /// How many can be alerted (only the count is needed: placing refuses a call with none).
    pub(super) reached: usize,
    pub(super) busy: Vec<UserId>,
    pub(super) unavailable: Vec<UserId>,
}

pub(super) fn split_invitees(core: &Core, users: &[UserId], alert: Alert) -> Split {
    let mut split = Split {
        reached: 0,
        busy: Vec::new(),
        unavailable: Vec::new(),
    };
    for u in users {
        // Looked up once for every question below.
        let rec = &core.users[u];
        let at_cap = rec.calls.len() >= core.limits.calls_per_user_max;
        match alert {
            // A notification disturbs nobody, so only the per-user cap keeps a user out.
            Alert::Notify if at_cap => split.busy.push(u.clone()),
            Alert::Notify => split.reached += 1,
            Alert::Ring if core.is_busy(u, rec) => split.busy.push(u.clone()),
            Alert::Ring if !core.has_online_device(rec) => split.unavailable.push(u.clone()),
            Alert::Ring => split.reached += 1,
        }
    }
    split
}

/// May `device` answer (ack, accept, decline, early media) member `i`'s invitation?
pub(super) fn check_answer(
    call: &Call,
    i: usize,
    device: DeviceId,
    op: &'static str,
) -> Result<(), CallError> {
    let m = &call.members[i];
    if m.state.is_pending() {
        return if m.alerted.contains(&device) {
            Ok(())
        } else {
            Err(CallError::state(
                op,
                "the call is not ringing on this device",
            ))
        };
    }
    match m.handled_by {
        Some(d) if d != device => Err(CallError::HandledElsewhere),
        _ => Err(CallError::state(op, &m.state)),
    }
}

/// Is `device` member `i`'s session device?
pub(super) fn check_session(
    call: &Call,
    i: usize,
    device: DeviceId,
    op: &'static str,
) -> Result<(), CallError> {
    let m = &call.members[i];
    if m.state.in_session() {
        return if m.device == Some(device) {
            Ok(())
        } else {
            Err(CallError::HandledElsewhere)
        };
    }
    Err(CallError::state(op, &m.state))
}

/// Like [`check_session`], and the member has joined (not the caller still waiting).
pub(super) fn check_joined(
    call: &Call,
    i: usize,
    device: DeviceId,
    op: &'static str,
) -> Result<(), CallError> {
    check_session(call, i, device, op)?;
    if call.members[i].state == P::Joined {
        Ok(())
    } else {
        Err(CallError::state(op, "nobody has answered yet"))
    }
}

pub(super) fn ringing(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    check_answer(call, i, device, "ringing")?;
    if call.members[i].state == P::Invited {
        call.members[i].state = P::Ringing;
        let event = Event::Participant {
            call: call.id,
            user: call.members[i].user.clone(),
            state: P::Ringing,
        };
        core.emit_session(call, event, None);
        if call.status == CallStatus::Calling {
            core.set_status(call, CallStatus::Ringing);
        }
    }
    Ok(Reply::Done)
}

pub(super) fn accept(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    if core.fault(Fault::SecondDeviceAlsoJoins) && call.members[i].state == P::Joined {
        join_member(core, call, i, device); // FAULT: another device of a joined user gets in too
        return Ok(Reply::Done);
    }
    check_answer(call, i, device, "accept")?;
    check_not_busy(core, &call.members[i].user)?;
    join_member(core, call, i, device);
    Ok(Reply::Done)
}

fn check_not_busy(core: &Core, user: &UserId) -> Result<(), CallError> {
    let u = &core.users[user];
    if !u.config.call_waiting && core.in_other_call(user, u) {
        Err(CallError::Busy(user.to_string()))
    } else {
        Ok(())
    }
}

pub(super) fn decline(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    code: Option<u16>,
) -> Result<Reply, CallError> {
    let code = validate::decline_code(code, &core.limits)?;
    check_answer(call, i, device, "decline")?;
    invitee_out(core, call, i, Some(device), P::Declined { code });
    Ok(Reply::Done)
}

pub(super) fn cancel(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    if i != 0 {
        return Err(CallError::Forbidden(Forbidden::NotCaller));
    }
    let host = &call.members[0];
    if host.state != P::Calling {
        return Err(CallError::state("cancel", "the call was already answered"));
    }
    if host.device != Some(device) {
        // As for every other request from a device that is not the member's session device.
        return Err(CallError::HandledElsewhere);
    }
    let by = host.user.clone();
    if core.fault(Fault::NoCancelEvent) {
        call.members.iter_mut().for_each(|m| m.alerted.clear()); // FAULT: ringing devices untold
    }
    core.end_call(call, EndReason::Cancelled { by });
    Ok(Reply::Done)
}

pub(super) fn hangup(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    match call.members[i].state {
        P::Calling => cancel(core, call, i, device),
        P::Invited | P::Ringing => decline(core, call, i, device, None),
        P::Joined => {
            check_session(call, i, device, "hangup")?;
            let by = call.members[i].user.clone();
            leave(core, call, i, P::Left, EndReason::HungUp { by });
            Ok(Reply::Done)
        }
        _ => check_answer(call, i, device, "hangup").map(|()| Reply::Done),
    }
}

pub(super) fn end_for_all(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    let user = call.members[i].user.clone();
    let needs_permission = i != 0 || core.limits.policy.end_for_all_host_needs_permission;
    if needs_permission && !core.users[&user].config.end_call_permission {
        return Err(CallError::Forbidden(Forbidden::EndCallPermission));
    }
    check_session(call, i, device, "end_for_all")?;
    core.end_call(call, EndReason::EndedForEveryone { by: user });
    Ok(Reply::Done)
}

pub(super) fn join(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
) -> Result<Reply, CallError> {
    let m = &call.members[i];
    // A member already in the session gets the same answer whatever the kind of call.
    match m.state {
        P::Calling | P::Joined if m.device == Some(device) => {
            return Err(CallError::state("join", "already in the call"));
        }
        P::Calling | P::Joined => return Err(CallError::HandledElsewhere),
        _ => {}
    }
    if !call.is_group && m.state != P::Notified {
        return Err(CallError::Forbidden(Forbidden::NotGroupCall));
    }
    if matches!(m.state, P::Transferring { .. } | P::Transferred) {
        return Err(CallError::state("join", &m.state));
    }
    check_not_busy(core, &m.user)?;
    if !m.is_active() {
        if core.users[&m.user].calls.len() >= core.limits.calls_per_user_max {
            return Err(CallError::Capacity("calls_per_user_max"));
        }
        let max = core.users[call.host()].config.plan.max_participants;
        if call.active_count() + 1 > max {
            return Err(CallError::Forbidden(Forbidden::ParticipantLimit(max)));
        }
    }
    join_member(core, call, i, device);
    Ok(Reply::Done)
}

pub(super) fn invite(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    device: DeviceId,
    users: Vec<UserId>,
) -> Result<Reply, CallError> {
    if !call.is_group {
        return Err(CallError::Forbidden(Forbidden::NotGroupCall));
    }
    check_session(call, i, device, "invite")?;
    validate::invitees(&users, &call.members[i].user)?;
    if let Some(u) = users.iter().find(|u| !core.users.contains_key(*u)) {
        return Err(CallError::not_found("user", u));
    }
    if let Some(g) = &call.group
        && users
            .iter()
            .any(|u| core.groups[g].binary_search(u).is_err())
    {
        return Err(CallError::Forbidden(Forbidden::NotGroupMember));
    }
    let mut new_members = 0;
    for u in &users {
        match call.member_index(u) {
            Some(j) if call.members[j].is_active() => {
                return Err(CallError::state(
                    "invite",
                    format!("{u} is already in the call"),
                ));
            }
            Some(_) => {}
            None => new_members += 1,
        }
    }
    let hard_max = core.limits.participants_per_call_max;
    if call.members.len() + new_members > hard_max {
        return Err(CallError::Forbidden(Forbidden::ParticipantLimit(hard_max)));
    }
    let max = core.users[call.host()].config.plan.max_participants;
    if call.active_count() + users.len() > max {
        return Err(CallError::Forbidden(Forbidden::ParticipantLimit(max)));
    }

    let split = split_invitees(core, &users, Alert::Ring);
    let deadline_ms = core.now_ms + core.limits.ring_timeout_ms;
    let inviter = device;
    let mut rung = Vec::new();
    for u in &users {
        let j = match call.member_index(u) {
            Some(j) => j,
            None => {
                call.members.push(Member::new(u.clone(), P::Invited));
                call.members.len() - 1
            }
        };
        let m = &mut call.members[j];
        m.reset_session();
        m.handled_by = None;
        m.state = if split.busy.contains(u) {
            P::Busy
        } else if split.unavailable.contains(u) {
            P::Unavailable
        } else {
            m.alerted = core.online_devices(u);
            m.deadline_ms = Some(deadline_ms);
            rung.push(j);
            P::Invited
        };
    }
    let info = call.info(None);
    for j in rung {
        let user = call.members[j].user.clone();
        core.attach(&user, call.id);
        core.arm(call.id, j, deadline_ms);
        for d in call.members[j].alerted.clone() {
            core.emit(d, Event::Incoming { info: info.clone() });
        }
        let event = Event::Participant {
            call: call.id,
            user,
            state: P::Invited,
        };
        core.emit_session(call, event, Some(inviter));
    }
    Ok(Reply::Invited {
        busy: split.busy,
        unavailable: split.unavailable,
    })
}

/// A deadline fired for member `i`; ignored unless it is still that member's live deadline.
pub(super) fn deadline(core: &mut Core, call: &mut Call, i: usize, deadline_ms: u64) {
    let m = &call.members[i];
    if m.state.is_pending() && m.deadline_ms == Some(deadline_ms) {
        invitee_out(core, call, i, None, P::Missed);
    }
}

/// Member `i` enters the session on `device` (accept, or join).
pub(super) fn join_member(core: &mut Core, call: &mut Call, i: usize, device: DeviceId) {
    if call.transfer.is_some_and(|t| t.target == i) {
        super::in_call::transfer_succeeded(core, call);
    }
    let m = &mut call.members[i];
    let others: Devices = mem::take(&mut m.alerted)
        .into_iter()
        .filter(|d| *d != device)
        .collect();
    m.reset_session();
    m.state = P::Joined;
    m.device = Some(device);
    m.handled_by = Some(device);
    let user = m.user.clone();
    for d in others {
        core.emit(
            d,
            Event::Detached {
                call: call.id,
                reason: DetachReason::AnsweredElsewhere,
            },
        );
    }
    core.attach(&user, call.id);
    if call.members[0].state == P::Calling {
        // The caller joins automatically when the first callee accepts (Stream).
        call.members[0].state = P::Joined;
    }
    if i != 0 {
        call.accepted = true;
    }
    let event = Event::Participant {
        call: call.id,
        user,
        state: P::Joined,
    };
    core.emit_session(call, event, Some(device));
    if call.status < CallStatus::Connecting {
        core.set_status(call, CallStatus::Connecting);
    }
    if !core.limits.policy.session_start_required
        && call.status == CallStatus::Connecting
        && call.joined_count() >= 2
    {
        core.set_status(call, CallStatus::Connected);
    }
}

/// Member `i`, in the session, leaves it (hang up, lost connection). A 1:1 call ends; a group
/// call ends when nobody is left, or when one member is left after someone had answered.
pub(super) fn leave(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    state: ParticipantState,
    reason: EndReason,
) {
    let joined_after = call.joined_count() - 1;
    let ends = !call.is_group || joined_after == 0 || (joined_after == 1 && call.accepted);
    if ends {
        core.end_call(call, reason);
        call.members[i].state = state;
        if core.fault(Fault::EventAfterEnd) {
            // FAULT: the others are told the leaver left after they were told the call ended.
            let m = &call.members[i];
            let event = Event::Participant {
                call: call.id,
                user: m.user.clone(),
                state: m.state.clone(),
            };
            core.emit_session(call, event, None);
        }
        return;
    }
    let m = &mut call.members[i];
    let device = m.device;
    m.state = state.clone();
    m.reset_session();
    let user = m.user.clone();
    if let Some(d) = device {
        core.emit(
            d,
            Event::Detached {
                call: call.id,
                reason: DetachReason::Left,
            },
        );
    }
    core.release(&user, call.id);
    let event = Event::Participant {
        call: call.id,
        user,
        state,
    };
    core.emit_session(call, event, None);
}

/// Invitee `i` is out (declined on `actor`, or missed): the call ends if nobody is left to
/// answer and nobody has, otherwise this user's devices are detached and the session told.
pub(super) fn invitee_out(
    core: &mut Core,
    call: &mut Call,
    i: usize,
    actor: Option<DeviceId>,
    state: ParticipantState,
) {
    let user = call.members[i].user.clone();
    call.members[i].deadline_ms = None;
    if let Some(a) = actor {
        call.members[i].handled_by = Some(a);
    }
    call.members[i].state = state.clone();
    if call.transfer.is_some_and(|t| t.target == i) {
        let code = match state {
            P::Declined { code } => code,
            _ => EndReason::NoAnswer.code(),
        };
        super::in_call::transfer_failed(core, call, code);
        return;
    }
    if !call.accepted && call.alert == Alert::Ring && call.pending_count() == 0 {
        let any_missed = call.members.iter().any(|m| m.state == P::Missed);
        let reason = match state {
            P::Declined { code } if !any_missed => EndReason::Declined { by: user, code },
            _ => EndReason::NoAnswer,
        };
        core.end_call(call, reason);
        return;
    }
    for d in mem::take(&mut call.members[i].alerted) {
        let reason = match (&state, Some(d) == actor) {
            (P::Declined { .. }, true) => DetachReason::Declined,
            (P::Declined { .. }, false) => DetachReason::DeclinedElsewhere,
            _ => DetachReason::Missed,
        };
        core.emit(
            d,
            Event::Detached {
                call: call.id,
                reason,
            },
        );
    }
    core.release(&user, call.id);
    let event = Event::Participant {
        call: call.id,
        user,
        state,
    };
    core.emit_session(call, event, None);
}

pub(super) fn connect(core: &mut Core, device: DeviceId) -> Result<(), CallError> {
    let d = core
        .devices
        .get_mut(device.0 as usize)
        .filter(|d| !d.removed)
        .ok_or_else(|| CallError::not_found("device", device))?;
    if d.online {
        return Ok(());
    }
    d.online = true;
    let user = d.user.clone();
    for id in core.users[&user].calls.clone() {
        let Some(mut call) = core.calls.remove(&id) else {
            continue;
        };
        if let Some(i) = call.member_index(&user) {
            let m = &call.members[i];
            let alertable = m.state.is_pending() || m.state == P::Notified;
            if alertable && !m.alerted.contains(&device) {
                let transferred_by = call
                    .transfer
                    .filter(|t| t.target == i)
                    .map(|t| call.members[t.from].user.clone());
                let info = call.info(transferred_by);
                let event = if m.state == P::Notified {
                    Event::Notified { info }
                } else {
                    Event::Incoming { info }
                };
                call.members[i].alerted.push(device);
                core.emit(device, event);
            }
        }
        core.settle(call);
    }
    Ok(())
}

pub(super) fn disconnect(core: &mut Core, device: DeviceId) -> Result<(), CallError> {
    let d = core
        .devices
        .get_mut(device.0 as usize)
        .ok_or_else(|| CallError::not_found("device", device))?;
    if !d.online {
        return Ok(());
    }
    d.online = false;
    let user = d.user.clone();
    for id in core.users[&user].calls.clone() {
        let Some(mut call) = core.calls.remove(&id) else {
            continue;
        };
        if let Some(i) = call.member_index(&user) {
            call.members[i].alerted.retain(|x| *x != device);
            let m = &call.members[i];
            if m.device == Some(device) {
                let reason = EndReason::Disconnected { user: user.clone() };
                match m.state {
                    P::Calling => core.end_call(&mut call, reason),
                    P::Joined => leave(core, &mut call, i, P::Disconnected, reason),
                    // A transferor that drops still has its transfer carried out.
                    _ => {}
                }
            }
        }
        core.settle(call);
    }
    Ok(())
}
