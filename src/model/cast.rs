//! The cast of a case: four users, their devices and settings, and the groups.

use std::fmt;

use crate::core::{Endpoint, Feature, Plan, UserConfig, UserId};

/// A device: a user's first (`a`) or second (`b`) device.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dev {
    pub user: usize,
    pub slot: usize,
}

impl Dev {
    pub fn label(self) -> &'static str {
        ["a", "b"][self.slot]
    }

    /// The session's name of the device, `u1/b`.
    pub fn key(self) -> String {
        format!("u{}/{}", self.user, self.label())
    }
}

impl fmt::Debug for Dev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "u{}/{}", self.user, self.label())
    }
}

pub fn user_name(u: usize) -> String {
    format!("u{u}")
}

pub fn user_id(u: usize) -> UserId {
    UserId::new(&user_name(u))
}

/// A user's plan (MirrorFly: a call outside the plan is 403).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanKind {
    /// Everything, up to 8 participants.
    Full,
    /// Everything, up to 3 participants.
    Small,
    /// 1:1 audio calls only.
    AudioOnly,
}

impl PlanKind {
    pub fn allows(self, feature: Feature) -> bool {
        match self {
            PlanKind::Full | PlanKind::Small => true,
            PlanKind::AudioOnly => feature == Feature::OneToOneAudio,
        }
    }

    pub fn max_participants(self) -> usize {
        match self {
            PlanKind::Full => 8,
            PlanKind::Small => 3,
            PlanKind::AudioOnly => 2,
        }
    }
}

/// One user's fixed settings.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UserSetup {
    /// 1 or 2 devices.
    pub devices: usize,
    pub call_waiting: bool,
    /// May end any call they are a member of for everyone.
    pub may_end: bool,
    /// A phone number rather than an app user (transfer needs one of each).
    pub phone: bool,
    pub plan: PlanKind,
}

impl UserSetup {
    /// The user's configuration as a server is given it.
    pub fn config(&self) -> UserConfig {
        UserConfig {
            plan: match self.plan {
                PlanKind::Full => Plan::full(),
                PlanKind::Small => Plan {
                    max_participants: 3,
                    ..Plan::full()
                },
                PlanKind::AudioOnly => Plan::audio_only(),
            },
            endpoint: if self.phone {
                Endpoint::Phone
            } else {
                Endpoint::App
            },
            call_waiting: self.call_waiting,
            end_call_permission: self.may_end,
        }
    }
}

impl fmt::Debug for UserSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} device(s)", self.devices)?;
        if self.phone {
            f.write_str(", phone")?;
        }
        if self.call_waiting {
            f.write_str(", call waiting")?;
        }
        if self.may_end {
            f.write_str(", may end calls")?;
        }
        if self.plan != PlanKind::Full {
            write!(f, ", plan {:?}", self.plan)?;
        }
        Ok(())
    }
}
