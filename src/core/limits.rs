//! Every limit of the reference implementation, in one place, units last.
//!
//! The defaults are the ones the seed documents state (Voximplant: 8192-byte INFO and message
//! bodies, 200-byte custom data, 60 s of early media; the usual 30 s ring timeout). Everything that
//! grows with input (calls, members, devices, queued timers) has a bound here, so a hostile or
//! buggy client cannot make the core grow without limit.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::policy::Policy;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// How long an invitation rings before it ends as missed.
    pub ring_timeout_ms: u64,
    /// How long an unanswered call may stay in early media (Voximplant session limit).
    pub early_media_ms_max: u64,
    /// Members of one call, the caller included, whatever the plan says.
    pub participants_per_call_max: usize,
    /// Devices one user may register.
    pub devices_per_user_max: usize,
    /// Calls one user may be attached to at once (ringing, placing, in session).
    pub calls_per_user_max: usize,
    /// Calls alive at once in one core.
    pub live_calls_max: usize,
    /// Users one core may know.
    pub users_max: usize,
    /// Members of one group.
    pub group_members_max: usize,
    /// Body of an in-call INFO (`sendInfo`).
    pub info_bytes_max: usize,
    /// MIME type of an in-call INFO.
    pub mime_bytes_max: usize,
    /// Text of an in-call message (`sendMessage`).
    pub message_bytes_max: usize,
    /// Custom call data (`customData`).
    pub custom_data_bytes_max: usize,
    /// Digits in one DTMF request.
    pub dtmf_digits_max: usize,
    /// One opaque media-negotiation message (an SDP offer or answer, a candidate).
    pub signal_bytes_max: usize,
    /// `X-` headers on one request.
    pub headers_max: usize,
    /// Name plus value of one header.
    pub header_bytes_max: usize,
    /// Names (user, group, device label) given by the application.
    pub name_bytes_max: usize,
    /// Ended calls remembered, so that a late request gets "call ended" (410) instead of
    /// "no such call" (404) and the final state can still be queried.
    pub ended_calls_kept_max: usize,
    /// The dialect emulated: capabilities and rules (not a limit, but it goes wherever the
    /// limits go, see `policy.rs`); canonical by default. Shared: cores are built and reset
    /// from cloned limits, and a dialect never changes under a running core.
    pub policy: Arc<Policy>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            ring_timeout_ms: 30_000,
            early_media_ms_max: 60_000,
            participants_per_call_max: 64,
            devices_per_user_max: 8,
            calls_per_user_max: 8,
            live_calls_max: 1 << 20,
            users_max: 1 << 22,
            group_members_max: 256,
            info_bytes_max: 8192,
            mime_bytes_max: 128,
            message_bytes_max: 8192,
            custom_data_bytes_max: 200,
            dtmf_digits_max: 64,
            signal_bytes_max: 64 * 1024,
            headers_max: 16,
            header_bytes_max: 1024,
            name_bytes_max: 128,
            ended_calls_kept_max: 4096,
            policy: Arc::default(),
        }
    }
}
