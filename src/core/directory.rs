//! Who exists: users with their plans and permissions, their devices, and groups. This is the
//! administrative side of the core, set up before calls flow (a test's givens, a load scenario's
//! population).

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::error::{CallError, Feature};
use super::ids::{CallId, Devices, UserId};

/// A plan's entitlements (MirrorFly: a call outside the plan fails with 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub one_to_one_audio: bool,
    pub one_to_one_video: bool,
    pub group_calls: bool,
    /// Members of one call, the caller included.
    pub max_participants: usize,
}

impl Plan {
    /// Everything, up to eight participants.
    pub const fn full() -> Self {
        Self {
            one_to_one_audio: true,
            one_to_one_video: true,
            group_calls: true,
            max_participants: 8,
        }
    }

    /// 1:1 audio only.
    pub const fn audio_only() -> Self {
        Self {
            one_to_one_audio: true,
            one_to_one_video: false,
            group_calls: false,
            max_participants: 2,
        }
    }

    pub fn allows(&self, feature: Feature) -> bool {
        match feature {
            Feature::OneToOneAudio => self.one_to_one_audio,
            Feature::OneToOneVideo => self.one_to_one_video,
            Feature::GroupCalls => self.group_calls,
        }
    }
}

impl Default for Plan {
    fn default() -> Self {
        Self::full()
    }
}

/// Whether a user is an app user or a phone number reached over the PSTN (Stringee: transfer is
/// allowed only for app-to-phone or phone-to-app calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    #[default]
    App,
    Phone,
}

/// A user's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub plan: Plan,
    #[serde(default)]
    pub endpoint: Endpoint,
    /// Ring this user even while in another call, and let them be in several.
    #[serde(default)]
    pub call_waiting: bool,
    /// May end any call they are a member of for everyone.
    #[serde(default)]
    pub end_call_permission: bool,
}

impl Default for UserConfig {
    fn default() -> Self {
        Self {
            plan: Plan::full(),
            endpoint: Endpoint::App,
            call_waiting: false,
            end_call_permission: false,
        }
    }
}

/// Inline, as a user's record sits in the core's table: a vector each had put the user's devices
/// and calls on two heap lines of their own, read on nearly every request.
pub(crate) struct User {
    pub(crate) config: UserConfig,
    pub(crate) devices: Devices,
    /// Live calls this user is attached to, oldest first (bounded by `calls_per_user_max`); inline
    /// up to two (call waiting), more spill over to the heap.
    pub(crate) calls: SmallVec<[CallId; 2]>,
}

pub(crate) struct Device {
    pub(crate) user: UserId,
    pub(crate) label: String,
    pub(crate) online: bool,
    /// Removed by the administrator: it can never connect again, and its id is not reused (ids
    /// index the device table and appear in traces, so a new device never takes an old id).
    pub(crate) removed: bool,
}

pub(crate) fn check_name(field: &'static str, name: &str, max: usize) -> Result<(), CallError> {
    if name.is_empty() {
        return Err(CallError::bad(field, "must not be empty"));
    }
    if name.len() > max {
        return Err(CallError::TooLarge {
            field,
            len: name.len(),
            max,
        });
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(CallError::bad(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}
