//! One call's record: its members and what each of them is doing.

use std::sync::Arc;

use smallvec::SmallVec;

use super::event::{Alert, CallInfo, CallStatus, CallType, EndReason, ParticipantState};
use super::ids::{CallId, DeviceId, Devices, GroupId, UserId};
use super::op::{CallSnapshot, MemberSnapshot};

/// A call's members, inline up to two (every 1:1 call): with a heap buffer, each request on a
/// call read its record and then the members' buffer, a cold line apart once the call had waited
/// (ringing, talking) among thousands of others; a group call spills over to the heap.
pub(crate) type Members = SmallVec<[Member; 2]>;

pub(crate) struct Member {
    pub(crate) user: UserId,
    pub(crate) state: ParticipantState,
    /// The device in the session (the caller's placing device, the device that accepted or
    /// joined, a transferor's device while it waits for the outcome).
    pub(crate) device: Option<DeviceId>,
    /// Devices ringing or notified for this member.
    pub(crate) alerted: Devices,
    /// The device that last answered, declined or joined for this member, so that another
    /// device of the same user is told 409 "handled on another device".
    pub(crate) handled_by: Option<DeviceId>,
    /// When the pending invitation expires (ring timeout, or early-media limit).
    pub(crate) deadline_ms: Option<u64>,
    pub(crate) session_started: bool,
    pub(crate) early_media: bool,
    pub(crate) on_hold: bool,
    pub(crate) audio_muted: bool,
    pub(crate) video_muted: bool,
}

impl Member {
    pub(crate) fn new(user: UserId, state: ParticipantState) -> Self {
        Self {
            user,
            state,
            device: None,
            alerted: Devices::new(),
            handled_by: None,
            deadline_ms: None,
            session_started: false,
            early_media: false,
            on_hold: false,
            audio_muted: false,
            video_muted: false,
        }
    }

    /// Whether the user still takes part (and so is attached to the call).
    pub(crate) fn is_active(&self) -> bool {
        self.state.in_session()
            || self.state.is_pending()
            || matches!(
                self.state,
                ParticipantState::Notified | ParticipantState::Transferring { .. }
            )
    }

    /// Leave the session or the invitation: media flags reset so a later join starts clean.
    pub(crate) fn reset_session(&mut self) {
        self.device = None;
        self.deadline_ms = None;
        self.session_started = false;
        self.early_media = false;
        self.on_hold = false;
        self.audio_muted = false;
        self.video_muted = false;
    }
}

/// A blind transfer under way: `from` transferred to `target` (member indexes).
#[derive(Clone, Copy)]
pub(crate) struct Transfer {
    pub(crate) from: usize,
    pub(crate) target: usize,
}

pub(crate) struct Call {
    pub(crate) id: CallId,
    pub(crate) call_type: CallType,
    pub(crate) group: Option<GroupId>,
    pub(crate) is_group: bool,
    pub(crate) alert: Alert,
    pub(crate) created_ms: u64,
    pub(crate) ended_ms: Option<u64>,
    pub(crate) status: CallStatus,
    pub(crate) end_reason: Option<EndReason>,
    /// Member 0 is the caller (host). Members are never removed, only change state, so an index
    /// names the same member for the call's whole life.
    pub(crate) members: Members,
    /// Someone other than the caller has joined at least once.
    pub(crate) accepted: bool,
    pub(crate) transfer: Option<Transfer>,
    pub(crate) custom_data: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Call {
    pub(crate) fn host(&self) -> &UserId {
        &self.members[0].user
    }

    /// The index of `user`'s member. Members are distinct by name (placing refuses a repeated
    /// invitee and the caller among them; invite and transfer reuse an existing member), so at
    /// most one matches.
    pub(crate) fn member_index(&self, user: &UserId) -> Option<usize> {
        debug_assert!(
            self.members
                .iter()
                .filter(|m| &m.user == user)
                .nth(1)
                .is_none(),
            "members are distinct by name"
        );
        self.members.iter().position(|m| &m.user == user)
    }

    pub(crate) fn joined_count(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.state == ParticipantState::Joined)
            .count()
    }

    pub(crate) fn pending_count(&self) -> usize {
        self.members.iter().filter(|m| m.state.is_pending()).count()
    }

    pub(crate) fn active_count(&self) -> usize {
        self.members.iter().filter(|m| m.is_active()).count()
    }

    pub(crate) fn info(&self, transferred_by: Option<UserId>) -> Arc<CallInfo> {
        Arc::new(CallInfo {
            call: self.id,
            call_type: self.call_type,
            group: self.group.clone(),
            caller: self.host().clone(),
            invitees: self.members[1..].iter().map(|m| m.user.clone()).collect(),
            status: self.status,
            created_ms: self.created_ms,
            custom_data: self.custom_data.clone(),
            headers: self.headers.clone(),
            transferred_by,
        })
    }

    pub(crate) fn snapshot(&self) -> CallSnapshot {
        CallSnapshot {
            call: self.id,
            call_type: self.call_type,
            group: self.group.clone(),
            caller: self.host().clone(),
            status: self.status,
            end_reason: self.end_reason.clone(),
            created_ms: self.created_ms,
            ended_ms: self.ended_ms,
            members: self
                .members
                .iter()
                .map(|m| MemberSnapshot {
                    user: m.user.clone(),
                    state: m.state.clone(),
                    device: m.device,
                    on_hold: m.on_hold,
                    audio_muted: m.audio_muted,
                    video_muted: m.video_muted,
                })
                .collect(),
            custom_data: self.custom_data.clone(),
        }
    }
}
