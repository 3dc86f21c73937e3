//! What the core tells devices: one [`Event`] enum, each variant about one call.
//!
//! Delivery rules (the contract the conformance suite checks):
//! - A device is *attached* to a call while it rings or is notified for it, or is the device its
//!   user is in the session with. Only attached devices receive a call's events.
//! - Every attached device receives exactly one closing event: [`Event::Ended`] when the call
//!   itself ends, or [`Event::Detached`] when this device stops taking part while the call goes
//!   on. Nothing about that call reaches it afterwards.
//! - Ringing and notified devices receive only their invitation and its closing event; the session
//!   audience (the caller's device and every joined device) receives participant, status and
//!   in-call events.
//! - The device that acted gets its reply; it is not sent an event about its own action, except the
//!   call-wide ones (status changes and the closing event).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ids::{CallId, DeviceId, GroupId, UserId};

/// Audio-only or audio-and-video call (MirrorFly `callType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallType {
    Audio,
    Video,
}

/// One kind of media track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Audio,
    Video,
}

/// How invitees are alerted (Stream `ring` / `notify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    /// Every device of every invitee rings until answered, declined, cancelled or timed out.
    Ring,
    /// Invitees are told the call exists and may join; nothing rings and nothing times out. The
    /// caller is in the session at once.
    Notify,
}

/// The call's status; it only moves forward, `Calling → Ringing → Connecting → Connected → Ended`
/// (steps may be skipped, e.g. a call cancelled while calling goes straight to `Ended`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Invitations sent, no device has acknowledged ringing yet.
    Calling,
    /// At least one invitee's device acknowledged that it rings.
    Ringing,
    /// Someone accepted; the media session is being started.
    Connecting,
    /// At least two members started the media session.
    Connected,
    Ended,
}

/// One member's part in a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantState {
    /// The caller, before anyone accepted.
    Calling,
    /// Invited; devices alerted, none has acknowledged ringing.
    Invited,
    /// Invited and at least one device rings.
    Ringing,
    /// Told of the call without ringing; may join.
    Notified,
    /// In the session.
    Joined,
    /// Declined the invitation, with the SIP code given (603 by default).
    Declined { code: u16 },
    /// Did not answer before the ring timeout.
    Missed,
    /// Was busy in another call when invited.
    Busy,
    /// Had no connected device when invited.
    Unavailable,
    /// Left the session (hang up).
    Left,
    /// Lost its connection while in the session.
    Disconnected,
    /// Blind-transferred the call to `to` and waits for the outcome.
    Transferring { to: UserId },
    /// Was transferred out of the call.
    Transferred,
}

impl ParticipantState {
    /// Invited and not yet answered: devices are alerted and a deadline runs.
    pub fn is_pending(&self) -> bool {
        matches!(self, ParticipantState::Invited | ParticipantState::Ringing)
    }

    /// In the session audience (receives in-call events).
    pub fn in_session(&self) -> bool {
        matches!(self, ParticipantState::Calling | ParticipantState::Joined)
    }
}

/// Why a call ended. Exactly one per call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EndReason {
    /// Normal clearing: a 1:1 side hung up, or a group call fell below two members.
    HungUp { by: UserId },
    /// The caller cancelled before the first accept.
    Cancelled { by: UserId },
    /// Declined: the 1:1 callee, or the last of the group's invitees when all declined.
    Declined { by: UserId, code: u16 },
    /// Nobody answered before the ring (or early-media) timeout.
    NoAnswer,
    /// A host or permission holder ended the call for everyone.
    EndedForEveryone { by: UserId },
    /// A member's device lost its connection and the call could not go on.
    Disconnected { user: UserId },
    /// A blind transfer failed and the remaining party was left alone.
    TransferFailed { code: u16 },
}

impl EndReason {
    /// The SIP-like code of this end (200 for a normal clearing).
    pub fn code(&self) -> u16 {
        match self {
            EndReason::HungUp { .. } | EndReason::EndedForEveryone { .. } => 200,
            EndReason::Cancelled { .. } => 487,
            EndReason::Declined { code, .. } => *code,
            EndReason::NoAnswer => 408,
            EndReason::Disconnected { .. } => 480,
            EndReason::TransferFailed { code } => *code,
        }
    }
}

/// Why one device stopped taking part in a call that goes on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DetachReason {
    /// Another device of the same user accepted or joined.
    AnsweredElsewhere,
    /// Another device of the same user declined.
    DeclinedElsewhere,
    /// This device declined (group call: the call goes on without this user).
    Declined,
    /// The ring timed out for this user (group call).
    Missed,
    /// This device's user left the session.
    Left,
    /// This device's user transferred the call away.
    Transferred,
}

/// An opaque media-negotiation message relayed between members (the media path's SDP and ICE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Offer,
    Answer,
    Candidate,
}

/// The incoming-call payload (MirrorFly `incomingCallListener`, CometChat `Call` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    pub call: CallId,
    pub call_type: CallType,
    /// `None` for a 1:1 call.
    pub group: Option<GroupId>,
    pub caller: UserId,
    /// Everyone invited, in invitation order (the caller is not listed).
    pub invitees: Vec<UserId>,
    pub status: CallStatus,
    /// When the call was placed, in core milliseconds.
    pub created_ms: u64,
    pub custom_data: Option<String>,
    pub headers: Vec<(String, String)>,
    /// Set when this invitation comes from a blind transfer.
    pub transferred_by: Option<UserId>,
}

/// Result of a blind transfer, told to the transferor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    Succeeded,
    /// Failed with the target's code (486 busy, 480 unavailable, 603 declined, 408 no answer),
    /// or [`TransferOutcome::ABORTED_CODE`] when the call ended while the target still rang.
    Failed {
        code: u16,
    },
}

impl TransferOutcome {
    /// The code of a transfer cut short because its call ended first (SIP 487 Request
    /// Terminated, as a REFER's NOTIFY reports it).
    pub const ABORTED_CODE: u16 = 487;
}

/// Something a device is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
pub enum Event {
    /// This device rings for a call.
    Incoming { info: Arc<CallInfo> },
    /// This device is told of a call it may join; it does not ring.
    Notified { info: Arc<CallInfo> },
    /// A member's state changed.
    Participant {
        call: CallId,
        user: UserId,
        state: ParticipantState,
    },
    /// The call's status moved forward (never sent for `Ended`: see [`Event::Ended`]).
    Status { call: CallId, status: CallStatus },
    /// A member put the call on hold or resumed it.
    Hold {
        call: CallId,
        user: UserId,
        on_hold: bool,
    },
    /// A member muted or unmuted a track.
    Track {
        call: CallId,
        user: UserId,
        media: Media,
        muted: bool,
    },
    Dtmf {
        call: CallId,
        from: UserId,
        digits: String,
    },
    Info {
        call: CallId,
        from: UserId,
        mime: String,
        body: String,
    },
    Message {
        call: CallId,
        from: UserId,
        text: String,
    },
    CustomData {
        call: CallId,
        from: UserId,
        data: String,
    },
    /// An invitee started early media before answering (Voximplant `startEarlyMedia`).
    EarlyMedia { call: CallId, from: UserId },
    /// The `X-` headers another member's operation carried (`with`: the operation's name, e.g.
    /// `accept`). It comes just before the first event that operation causes at this device,
    /// as SIP headers ride on the message they belong to.
    Headers {
        call: CallId,
        from: UserId,
        with: String,
        headers: Vec<(String, String)>,
    },
    /// A media-negotiation message from another member's session device.
    Signal {
        call: CallId,
        from: UserId,
        from_device: DeviceId,
        kind: SignalKind,
        body: String,
    },
    /// The outcome of this device's blind transfer.
    TransferResult {
        call: CallId,
        target: UserId,
        outcome: TransferOutcome,
    },
    /// The call ended. Closing event.
    Ended { call: CallId, reason: EndReason },
    /// This device no longer takes part; the call goes on. Closing event.
    Detached { call: CallId, reason: DetachReason },
}

impl Event {
    /// The call this event is about.
    pub fn call(&self) -> CallId {
        match self {
            Event::Incoming { info } | Event::Notified { info } => info.call,
            Event::Participant { call, .. }
            | Event::Status { call, .. }
            | Event::Hold { call, .. }
            | Event::Track { call, .. }
            | Event::Dtmf { call, .. }
            | Event::Info { call, .. }
            | Event::Message { call, .. }
            | Event::CustomData { call, .. }
            | Event::EarlyMedia { call, .. }
            | Event::Headers { call, .. }
            | Event::Signal { call, .. }
            | Event::TransferResult { call, .. }
            | Event::Ended { call, .. }
            | Event::Detached { call, .. } => *call,
        }
    }

    /// Whether this is the last event the device receives for the call.
    pub fn is_closing(&self) -> bool {
        matches!(self, Event::Ended { .. } | Event::Detached { .. })
    }
}

/// One event for one device, stamped with the core time it was produced at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub device: DeviceId,
    pub at_ms: u64,
    pub event: Event,
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallStatus::Calling => "calling",
            CallStatus::Ringing => "ringing",
            CallStatus::Connecting => "connecting",
            CallStatus::Connected => "connected",
            CallStatus::Ended => "ended",
        })
    }
}

impl fmt::Display for ParticipantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParticipantState::Calling => f.write_str("calling"),
            ParticipantState::Invited => f.write_str("invited"),
            ParticipantState::Ringing => f.write_str("ringing"),
            ParticipantState::Notified => f.write_str("notified"),
            ParticipantState::Joined => f.write_str("joined"),
            ParticipantState::Declined { code } => write!(f, "declined ({code})"),
            ParticipantState::Missed => f.write_str("missed"),
            ParticipantState::Busy => f.write_str("busy"),
            ParticipantState::Unavailable => f.write_str("unavailable"),
            ParticipantState::Left => f.write_str("left"),
            ParticipantState::Disconnected => f.write_str("disconnected"),
            ParticipantState::Transferring { to } => write!(f, "transferring to {to}"),
            ParticipantState::Transferred => f.write_str("transferred"),
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::HungUp { by } => write!(f, "hung up by {by}"),
            EndReason::Cancelled { by } => write!(f, "cancelled by {by}"),
            EndReason::Declined { by, code } => write!(f, "declined by {by} ({code})"),
            EndReason::NoAnswer => f.write_str("no answer"),
            EndReason::EndedForEveryone { by } => write!(f, "ended for everyone by {by}"),
            EndReason::Disconnected { user } => write!(f, "{user} disconnected"),
            EndReason::TransferFailed { code } => write!(f, "transfer failed ({code})"),
        }
    }
}

impl fmt::Display for TransferOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferOutcome::Succeeded => f.write_str("succeeded"),
            TransferOutcome::Failed { code } => write!(f, "failed ({code})"),
        }
    }
}

impl fmt::Display for DetachReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DetachReason::AnsweredElsewhere => "answered on another device",
            DetachReason::DeclinedElsewhere => "declined on another device",
            DetachReason::Declined => "declined here",
            DetachReason::Missed => "missed",
            DetachReason::Left => "left",
            DetachReason::Transferred => "transferred",
        })
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Incoming { info } => {
                let kind = match info.group {
                    Some(ref g) => format!("group {:?} call in {g}", info.call_type),
                    None => format!("{:?} call", info.call_type),
                };
                write!(f, "{}: incoming {kind} from {}", info.call, info.caller)?;
                if let Some(by) = &info.transferred_by {
                    write!(f, " (transferred by {by})")?;
                }
                Ok(())
            }
            Event::Notified { info } => {
                write!(f, "{}: notified of a call by {}", info.call, info.caller)
            }
            Event::Participant { call, user, state } => write!(f, "{call}: {user} {state}"),
            Event::Status { call, status } => write!(f, "{call}: status {status}"),
            Event::Hold {
                call,
                user,
                on_hold,
            } => {
                let what = if *on_hold { "held" } else { "resumed" };
                write!(f, "{call}: {user} {what} the call")
            }
            Event::Track {
                call,
                user,
                media,
                muted,
            } => {
                let what = if *muted { "muted" } else { "unmuted" };
                write!(f, "{call}: {user} {what} {media:?}")
            }
            Event::Dtmf { call, from, digits } => write!(f, "{call}: DTMF {digits:?} from {from}"),
            Event::Info {
                call,
                from,
                mime,
                body,
            } => write!(f, "{call}: info {mime} ({} B) from {from}", body.len()),
            Event::Message { call, from, text } => {
                write!(f, "{call}: message ({} B) from {from}", text.len())
            }
            Event::CustomData { call, from, data } => {
                write!(f, "{call}: custom data {data:?} from {from}")
            }
            Event::EarlyMedia { call, from } => write!(f, "{call}: early media from {from}"),
            Event::Headers {
                call,
                from,
                with,
                headers,
            } => {
                write!(f, "{call}: headers from {from} with {with}:")?;
                for (i, (name, value)) in headers.iter().enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    write!(f, "{sep}{name}: {value}")?;
                }
                Ok(())
            }
            Event::Signal {
                call, from, kind, ..
            } => write!(f, "{call}: {kind:?} from {from}"),
            Event::TransferResult {
                call,
                target,
                outcome,
            } => write!(f, "{call}: transfer to {target}: {outcome}"),
            Event::Ended { call, reason } => write!(f, "{call}: ended, {reason}"),
            Event::Detached { call, reason } => write!(f, "{call}: detached, {reason}"),
        }
    }
}
