//! What devices ask of the core: one [`Op`] per canonical operation, and its [`Reply`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::event::{Alert, CallStatus, CallType, EndReason, Media, ParticipantState, SignalKind};
use super::ids::{CallId, DeviceId, GroupId, UserId};

/// Custom headers as `(name, value)` pairs, in the order given.
pub type Headers = Vec<(String, String)>;

/// Placing a call (MirrorFly `makeVoiceCall`/`makeVideoCall`, CometChat `initiateCall`, Stream
/// `getOrCreate({ring})`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceCall {
    /// Who to call. One user and no group is a 1:1 call; a group or several users is a group call.
    pub invitees: Vec<UserId>,
    pub call_type: CallType,
    #[serde(default)]
    pub group: Option<GroupId>,
    #[serde(default = "ring")]
    pub alert: Alert,
    #[serde(default)]
    pub custom_data: Option<String>,
    /// Custom headers; names must start with `X-`.
    #[serde(default)]
    pub headers: Headers,
}

fn ring() -> Alert {
    Alert::Ring
}

impl PlaceCall {
    /// A ringing 1:1 call.
    pub fn direct(to: impl Into<UserId>, call_type: CallType) -> Self {
        Self {
            invitees: vec![to.into()],
            call_type,
            group: None,
            alert: Alert::Ring,
            custom_data: None,
            headers: Vec::new(),
        }
    }

    /// A ringing group call in `group`.
    pub fn group(group: impl Into<GroupId>, invitees: Vec<UserId>, call_type: CallType) -> Self {
        Self {
            invitees,
            call_type,
            group: Some(group.into()),
            alert: Alert::Ring,
            custom_data: None,
            headers: Vec::new(),
        }
    }
}

/// An operation requested by a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op", deny_unknown_fields)]
#[non_exhaustive]
pub enum Op {
    Place(PlaceCall),
    /// "This device rings" (Stringee `ringing()`), sent back to the caller.
    Ringing {
        call: CallId,
        /// `X-` headers that travel with this operation (Voximplant `extraHeaders`); see
        /// [`Op::headers`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Headers,
    },
    Accept {
        call: CallId,
        /// `X-` headers that travel with this operation (Voximplant `extraHeaders`); see
        /// [`Op::headers`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Headers,
    },
    /// Decline an invitation with a SIP code in 300–699 (default 603).
    Decline {
        call: CallId,
        code: Option<u16>,
        /// `X-` headers that travel with this operation (Voximplant `extraHeaders`); see
        /// [`Op::headers`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Headers,
    },
    /// The caller withdraws the call before the first accept (CometChat `rejectCall(CANCELLED)`).
    Cancel {
        call: CallId,
    },
    /// Leave the call. The caller before any accept cancels; a ringing invitee declines; in a
    /// 1:1 call the call ends; in a group call it goes on while two or more remain.
    Hangup {
        call: CallId,
        /// `X-` headers that travel with this operation (Voximplant `extraHeaders`); see
        /// [`Op::headers`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Headers,
    },
    /// End the call for everyone (Stream `endCall`): the host, or a holder of the permission.
    EndForAll {
        call: CallId,
    },
    /// Join a live group call without (or after) an invitation.
    Join {
        call: CallId,
    },
    /// Invite more users into a live group call.
    Invite {
        call: CallId,
        users: Vec<UserId>,
    },
    /// This member's media session started (CometChat `startSession`).
    StartSession {
        call: CallId,
    },
    Hold {
        call: CallId,
        on_hold: bool,
    },
    Mute {
        call: CallId,
        media: Media,
        muted: bool,
    },
    /// DTMF digits: 0-9 * # A-D and p (pause).
    Dtmf {
        call: CallId,
        digits: String,
    },
    Info {
        call: CallId,
        mime: String,
        body: String,
        /// `X-` headers that travel with this operation (Voximplant `extraHeaders`); see
        /// [`Op::headers`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Headers,
    },
    Message {
        call: CallId,
        text: String,
    },
    CustomData {
        call: CallId,
        data: String,
    },
    /// An invitee plays media before answering (Voximplant `startEarlyMedia`).
    EarlyMedia {
        call: CallId,
        /// `X-` headers that travel with this operation (Voximplant `extraHeaders`); see
        /// [`Op::headers`].
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Headers,
    },
    /// Blind transfer to `target`; the transferor leaves and is told the outcome.
    Transfer {
        call: CallId,
        target: UserId,
    },
    /// Relay an opaque media-negotiation message to one member, or to every other member.
    Signal {
        call: CallId,
        to: Option<UserId>,
        kind: SignalKind,
        body: String,
    },
    /// The call's current state (Voximplant `state()`).
    GetCall {
        call: CallId,
    },
}

/// The headers field of the operations that carry `X-` headers, by reference or mutably
/// (whichever `$op` is): the one list both accessors of [`Op`] read.
macro_rules! carried_headers {
    ($op:expr) => {
        match $op {
            Op::Ringing { headers, .. }
            | Op::Accept { headers, .. }
            | Op::Decline { headers, .. }
            | Op::Hangup { headers, .. }
            | Op::EarlyMedia { headers, .. }
            | Op::Info { headers, .. } => Some(headers),
            _ => None,
        }
    };
}

impl Op {
    /// The operation's name, as used in errors and traces.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Place(_) => "place",
            Op::Ringing { .. } => "ringing",
            Op::Accept { .. } => "accept",
            Op::Decline { .. } => "decline",
            Op::Cancel { .. } => "cancel",
            Op::Hangup { .. } => "hangup",
            Op::EndForAll { .. } => "end_for_all",
            Op::Join { .. } => "join",
            Op::Invite { .. } => "invite",
            Op::StartSession { .. } => "start_session",
            Op::Hold { .. } => "hold",
            Op::Mute { .. } => "mute",
            Op::Dtmf { .. } => "dtmf",
            Op::Info { .. } => "info",
            Op::Message { .. } => "message",
            Op::CustomData { .. } => "custom_data",
            Op::EarlyMedia { .. } => "early_media",
            Op::Transfer { .. } => "transfer",
            Op::Signal { .. } => "signal",
            Op::GetCall { .. } => "get_call",
        }
    }

    /// Ringing back to the caller, without headers.
    pub fn ringing(call: CallId) -> Op {
        Op::Ringing {
            call,
            headers: Vec::new(),
        }
    }

    /// Accepting, without headers.
    pub fn accept(call: CallId) -> Op {
        Op::Accept {
            call,
            headers: Vec::new(),
        }
    }

    /// Declining with `code` (603 when `None`), without headers.
    pub fn decline(call: CallId, code: Option<u16>) -> Op {
        Op::Decline {
            call,
            code,
            headers: Vec::new(),
        }
    }

    /// Hanging up, without headers.
    pub fn hangup(call: CallId) -> Op {
        Op::Hangup {
            call,
            headers: Vec::new(),
        }
    }

    /// Starting early media, without headers.
    pub fn early_media(call: CallId) -> Op {
        Op::EarlyMedia {
            call,
            headers: Vec::new(),
        }
    }

    /// The `X-` headers this operation carries to the other side, if it is one that carries
    /// them: ringing, accept, decline, hangup, early media and info (Voximplant's `ring`,
    /// `answer`, `reject`, `hangup`, `startEarlyMedia` and `sendInfo` take `extraHeaders`).
    /// Placing a call carries its own in [`PlaceCall::headers`], which reach the invitation.
    pub fn headers(&self) -> Option<&Headers> {
        carried_headers!(self)
    }

    /// The headers of an operation that carries them, to fill in; `None` for the others.
    pub fn headers_mut(&mut self) -> Option<&mut Headers> {
        carried_headers!(self)
    }

    /// The names of the operations that carry headers, for messages.
    pub const CARRYING_HEADERS: [&'static str; 6] = [
        "ringing",
        "accept",
        "decline",
        "hangup",
        "early_media",
        "info",
    ];

    /// The call the operation is about; `None` for placing a call.
    pub fn call(&self) -> Option<CallId> {
        match self {
            Op::Place(_) => None,
            Op::Ringing { call, .. }
            | Op::Accept { call, .. }
            | Op::Decline { call, .. }
            | Op::Cancel { call }
            | Op::Hangup { call, .. }
            | Op::EndForAll { call }
            | Op::Join { call }
            | Op::Invite { call, .. }
            | Op::StartSession { call }
            | Op::Hold { call, .. }
            | Op::Mute { call, .. }
            | Op::Dtmf { call, .. }
            | Op::Info { call, .. }
            | Op::Message { call, .. }
            | Op::CustomData { call, .. }
            | Op::EarlyMedia { call, .. }
            | Op::Transfer { call, .. }
            | Op::Signal { call, .. }
            | Op::GetCall { call } => Some(*call),
        }
    }
}

/// The answer to a successful operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum Reply {
    /// The call exists; `busy` and `unavailable` invitees were not rung (group calls only: a 1:1
    /// call to a busy or unavailable user is refused with 486 / 480).
    Placed {
        call: CallId,
        busy: Vec<UserId>,
        unavailable: Vec<UserId>,
    },
    /// Users added to a live call; the same split as `Placed`.
    Invited {
        busy: Vec<UserId>,
        unavailable: Vec<UserId>,
    },
    Call(CallSnapshot),
    Done,
}

/// One member as seen in a [`CallSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSnapshot {
    pub user: UserId,
    pub state: ParticipantState,
    /// The device in the session, if any.
    pub device: Option<DeviceId>,
    pub on_hold: bool,
    pub audio_muted: bool,
    pub video_muted: bool,
}

/// A call's state as the call-state query returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSnapshot {
    pub call: CallId,
    pub call_type: CallType,
    pub group: Option<GroupId>,
    pub caller: UserId,
    pub status: CallStatus,
    pub end_reason: Option<EndReason>,
    pub created_ms: u64,
    pub ended_ms: Option<u64>,
    pub members: Vec<MemberSnapshot>,
    pub custom_data: Option<String>,
}

impl fmt::Display for Op {
    /// A one-line summary for timelines: the operation, its call and its main argument.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Place(p) => {
                let to: Vec<&str> = p.invitees.iter().map(UserId::as_str).collect();
                let kind = match p.call_type {
                    CallType::Audio => "audio",
                    CallType::Video => "video",
                };
                match &p.group {
                    Some(g) => write!(f, "place {kind} call in {g} to {}", to.join(", ")),
                    None => write!(f, "place {kind} call to {}", to.join(", ")),
                }
            }
            Op::Decline { call, code, .. } => write!(f, "decline {call} ({})", code.unwrap_or(603)),
            Op::Invite { call, users } => {
                let users: Vec<&str> = users.iter().map(UserId::as_str).collect();
                write!(f, "invite {} into {call}", users.join(", "))
            }
            Op::Hold { call, on_hold } => {
                write!(f, "{} {call}", if *on_hold { "hold" } else { "unhold" })
            }
            Op::Mute { call, media, muted } => {
                let what = if *muted { "mute" } else { "unmute" };
                write!(f, "{what} {media:?} in {call}")
            }
            Op::Dtmf { call, digits } => write!(f, "dtmf {digits:?} in {call}"),
            Op::Transfer { call, target } => write!(f, "transfer {call} to {target}"),
            other => match other.call() {
                Some(call) => write!(f, "{} {call}", other.name()),
                None => f.write_str(other.name()),
            },
        }
    }
}
