//! The dialect the core emulates: which canonical operations exist and the rules that differ
//! between the calling products callconf models.
//!
//! The reference implementation has one call model; the five vendor APIs are dialects of it
//! (docs/model.md). A dialect is data, built from a profile (`profiles/*.yaml`,
//! [`crate::profile`]), never a vendor name tested in code: every switch below is decided at the
//! one place its rule lives, and the default is the canonical dialect, which is exactly the
//! behaviour the core had before dialects existed. It travels inside [`super::Limits`], so every
//! path that builds or resets a core (a session, `serve`, the admin channel's reset of a
//! certification run) carries it without a second argument.

use serde::{Deserialize, Serialize};

use super::event::Alert;
use super::op::Op;

/// One canonical capability: an operation, or a kind of call `place` can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Place,
    /// Placing a call with a group or several invitees.
    GroupCalls,
    /// Placing a call that notifies instead of ringing.
    Notify,
    Ringing,
    Accept,
    Decline,
    Cancel,
    Hangup,
    EndForAll,
    Join,
    Invite,
    StartSession,
    Hold,
    Mute,
    Dtmf,
    Info,
    Message,
    CustomData,
    EarlyMedia,
    Transfer,
    Signal,
    GetCall,
}

impl Capability {
    /// Every capability, in declaration order.
    pub const ALL: [Capability; 22] = [
        Capability::Place,
        Capability::GroupCalls,
        Capability::Notify,
        Capability::Ringing,
        Capability::Accept,
        Capability::Decline,
        Capability::Cancel,
        Capability::Hangup,
        Capability::EndForAll,
        Capability::Join,
        Capability::Invite,
        Capability::StartSession,
        Capability::Hold,
        Capability::Mute,
        Capability::Dtmf,
        Capability::Info,
        Capability::Message,
        Capability::CustomData,
        Capability::EarlyMedia,
        Capability::Transfer,
        Capability::Signal,
        Capability::GetCall,
    ];

    /// The name in profiles and reports (the operation's name for operations).
    pub const fn name(self) -> &'static str {
        match self {
            Capability::Place => "place",
            Capability::GroupCalls => "group_calls",
            Capability::Notify => "notify",
            Capability::Ringing => "ringing",
            Capability::Accept => "accept",
            Capability::Decline => "decline",
            Capability::Cancel => "cancel",
            Capability::Hangup => "hangup",
            Capability::EndForAll => "end_for_all",
            Capability::Join => "join",
            Capability::Invite => "invite",
            Capability::StartSession => "start_session",
            Capability::Hold => "hold",
            Capability::Mute => "mute",
            Capability::Dtmf => "dtmf",
            Capability::Info => "info",
            Capability::Message => "message",
            Capability::CustomData => "custom_data",
            Capability::EarlyMedia => "early_media",
            Capability::Transfer => "transfer",
            Capability::Signal => "signal",
            Capability::GetCall => "get_call",
        }
    }

    /// Every capability `op` needs: its operation, and for `place` the kind of call.
    pub fn needed_by(op: &Op) -> Vec<Capability> {
        let single = match op {
            Op::Place(p) => {
                let mut caps = vec![Capability::Place];
                if p.group.is_some() || p.invitees.len() > 1 {
                    caps.push(Capability::GroupCalls);
                }
                if p.alert == Alert::Notify {
                    caps.push(Capability::Notify);
                }
                return caps;
            }
            Op::Ringing { .. } => Capability::Ringing,
            Op::Accept { .. } => Capability::Accept,
            Op::Decline { .. } => Capability::Decline,
            Op::Cancel { .. } => Capability::Cancel,
            Op::Hangup { .. } => Capability::Hangup,
            Op::EndForAll { .. } => Capability::EndForAll,
            Op::Join { .. } => Capability::Join,
            Op::Invite { .. } => Capability::Invite,
            Op::StartSession { .. } => Capability::StartSession,
            Op::Hold { .. } => Capability::Hold,
            Op::Mute { .. } => Capability::Mute,
            Op::Dtmf { .. } => Capability::Dtmf,
            Op::Info { .. } => Capability::Info,
            Op::Message { .. } => Capability::Message,
            Op::CustomData { .. } => Capability::CustomData,
            Op::EarlyMedia { .. } => Capability::EarlyMedia,
            Op::Transfer { .. } => Capability::Transfer,
            Op::Signal { .. } => Capability::Signal,
            Op::GetCall { .. } => Capability::GetCall,
        };
        vec![single]
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The DTMF characters of the canonical dialect: RFC 4733's 0-9 * # A-D, and `p` (a pause).
pub const DTMF_CHARACTERS: &str = "0123456789*#ABCDp";

/// A dialect's capabilities and rules. [`Policy::default`] is the canonical dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Capabilities the dialect lacks; requests needing one are refused with 501 before any
    /// other check, so nobody learns anything about a call from an operation that does not exist.
    pub absent: Vec<Capability>,
    /// Characters a DTMF request may hold (a subset of [`DTMF_CHARACTERS`]).
    pub dtmf_characters: String,
    /// `connected` waits until two joined members started their media session; otherwise the
    /// call is connected as soon as two members have joined.
    pub session_start_required: bool,
    /// Blind transfer only between an app and a phone endpoint (403 otherwise).
    pub transfer_app_phone_only: bool,
    /// Custom header names must start with `X-` (400 otherwise).
    pub header_x_prefix_required: bool,
    /// Decline codes are SIP final failure codes, 300–699; otherwise any code 100–699.
    pub reject_codes_3xx_6xx: bool,
    /// Ending a call for everyone needs the end-call permission, the host's too.
    pub end_for_all_host_needs_permission: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            absent: Vec::new(),
            dtmf_characters: DTMF_CHARACTERS.to_owned(),
            session_start_required: true,
            transfer_app_phone_only: true,
            header_x_prefix_required: true,
            reject_codes_3xx_6xx: true,
            end_for_all_host_needs_permission: false,
        }
    }
}

impl Policy {
    /// Does the dialect have `capability`?
    pub fn has(&self, capability: Capability) -> bool {
        !self.absent.contains(&capability)
    }

    /// The first capability `op` needs that the dialect lacks.
    pub fn lacking(&self, op: &Op) -> Option<Capability> {
        if self.absent.is_empty() {
            return None;
        }
        Capability::needed_by(op)
            .into_iter()
            .find(|c| !self.has(*c))
    }

    /// The lowest decline code the dialect accepts.
    pub fn decline_code_min(&self) -> u16 {
        if self.reject_codes_3xx_6xx { 300 } else { 100 }
    }
}
