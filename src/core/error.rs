//! Refusals, with stable numeric codes in a SIP-like space.
//!
//! Every refusal leaves the core exactly as it was: no state change and no event. The codes are
//! part of the public contract (the Gherkin suite, the driver protocol and the load reports print
//! them), so a variant's code never changes once released.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CallError {
    /// 400: an argument is malformed (bad DTMF digit, SIP code out of range, header without
    /// `X-`, empty invitee list, calling oneself…).
    #[error("bad argument `{field}`: {reason}")]
    BadArgument { field: &'static str, reason: String },
    /// 401: the device is not connected, so it cannot act.
    #[error("device is not connected")]
    NotConnected,
    /// 403: the caller may not do this (not a member, no permission, not in the plan…).
    #[error("forbidden: {0}")]
    Forbidden(Forbidden),
    /// 404: no such user, device, group or call.
    #[error("no such {kind} `{id}`")]
    NotFound { kind: &'static str, id: String },
    /// 409: the invitation was handled on another device of the same user (Stringee code 2).
    #[error("the call was handled on another device")]
    HandledElsewhere,
    /// 410: the call existed but has ended.
    #[error("the call has ended")]
    CallEnded,
    /// 413: a payload is over its limit.
    #[error("`{field}` is {len} bytes, over the limit of {max}")]
    TooLarge {
        field: &'static str,
        len: usize,
        max: usize,
    },
    /// 422: the operation is well formed but not valid in the call's or member's current state.
    #[error("`{op}` is not valid while {state}")]
    InvalidState { op: &'static str, state: String },
    /// 480: the user has no connected device.
    #[error("user `{0}` is unavailable")]
    Unavailable(String),
    /// 486: the user is already in a call and call waiting is off.
    #[error("user `{0}` is busy")]
    Busy(String),
    /// 501: the dialect the server emulates has no such operation or kind of call (its
    /// profile's capabilities, [`super::Policy`]).
    #[error("the dialect has no `{0}`")]
    NotInDialect(super::policy::Capability),
    /// 503: a capacity limit of this server is reached (live calls, calls per user, devices).
    #[error("capacity limit `{0}` reached")]
    Capacity(&'static str),
}

/// The kinds of 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Forbidden {
    #[error("not a member of the call")]
    NotMember,
    #[error("not a member of the group")]
    NotGroupMember,
    #[error("the plan does not include {0}")]
    NotInPlan(Feature),
    #[error("the plan allows at most {0} participants")]
    ParticipantLimit(usize),
    #[error("only the host or a holder of the end-call permission may end the call for everyone")]
    EndCallPermission,
    #[error("only the caller may cancel")]
    NotCaller,
    #[error("transfer is allowed only for app-to-phone or phone-to-app calls")]
    TransferNotAllowed,
    #[error("only group calls can be joined or extended")]
    NotGroupCall,
}

/// A plan entitlement (MirrorFly: "if the feature is unavailable for your plan, 403").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Feature {
    OneToOneAudio,
    OneToOneVideo,
    GroupCalls,
}

impl std::fmt::Display for Feature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Feature::OneToOneAudio => "1:1 audio calls",
            Feature::OneToOneVideo => "1:1 video calls",
            Feature::GroupCalls => "group calls",
        })
    }
}

impl CallError {
    /// The stable numeric code.
    pub fn code(&self) -> u16 {
        match self {
            CallError::BadArgument { .. } => 400,
            CallError::NotConnected => 401,
            CallError::Forbidden(_) => 403,
            CallError::NotFound { .. } => 404,
            CallError::HandledElsewhere => 409,
            CallError::CallEnded => 410,
            CallError::TooLarge { .. } => 413,
            CallError::InvalidState { .. } => 422,
            CallError::Unavailable(_) => 480,
            CallError::Busy(_) => 486,
            CallError::NotInDialect(_) => 501,
            CallError::Capacity(_) => 503,
        }
    }

    pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> Self {
        CallError::BadArgument {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl ToString) -> Self {
        CallError::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub(crate) fn state(op: &'static str, state: impl ToString) -> Self {
        CallError::InvalidState {
            op,
            state: state.to_string(),
        }
    }
}
