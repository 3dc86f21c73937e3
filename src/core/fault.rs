//! Fault injection for testing the testers: deliberate bugs that the suites must catch.
//!
//! The property suite (`tests/prop/faults.rs`) switches one of these on in a running core and
//! checks that the model-based state-machine test fails, and that the failure shrinks to a short
//! readable sequence; `callconf serve --inject-fault NAME` starts a reference server with one on,
//! so that a certification run against it can be shown to catch that bug. Nothing else may use
//! this: a core starts with every fault off, and each hook
//! is a single bit test at the place the fault lives, so a production core pays one predictable
//! branch and nothing more.

/// One deliberate bug. The hooks live where the correct behaviour is decided:
///
/// | fault | hook | correct behaviour it breaks |
/// |---|---|---|
/// | [`Fault::SecondDeviceAlsoJoins`] | `lifecycle::accept` | at most one device per user is in a call's session (409 for the others) |
/// | [`Fault::NoCancelEvent`] | `lifecycle::cancel` | ringing devices get the `Ended` of a cancelled call |
/// | [`Fault::RingTimeoutNeverFires`] | `Core::arm` | an unanswered invitation ends at the ring timeout |
/// | [`Fault::NonMemberMayEnd`] | `Core::dispatch` | a non-member is refused (403) and changes nothing |
/// | [`Fault::EventAfterEnd`] | `lifecycle::leave` | nothing about a call reaches a device after its `Ended` |
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A second device of a user already in the session may accept too, and takes the session.
    SecondDeviceAlsoJoins,
    /// Cancelling a call does not tell the invitees' ringing devices.
    NoCancelEvent,
    /// Deadlines are never armed, so a ring timeout never fires.
    RingTimeoutNeverFires,
    /// Anyone, member or not, may end a call for everyone.
    NonMemberMayEnd,
    /// When a hang-up ends the call, the others are also told the leaver left, after the end.
    EventAfterEnd,
}

impl Fault {
    /// Every fault, in declaration order.
    pub const ALL: [Fault; 5] = [
        Fault::SecondDeviceAlsoJoins,
        Fault::NoCancelEvent,
        Fault::RingTimeoutNeverFires,
        Fault::NonMemberMayEnd,
        Fault::EventAfterEnd,
    ];

    /// The fault's name on the command line (`--inject-fault NAME`).
    pub const fn name(self) -> &'static str {
        match self {
            Fault::SecondDeviceAlsoJoins => "second-device-also-joins",
            Fault::NoCancelEvent => "no-cancel-event",
            Fault::RingTimeoutNeverFires => "ring-timeout-never-fires",
            Fault::NonMemberMayEnd => "non-member-may-end",
            Fault::EventAfterEnd => "event-after-end",
        }
    }

    /// The fault named `name`, if any (see [`Fault::name`]).
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The set of faults switched on; empty in every core nobody injected into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Faults(u8);

impl Faults {
    #[inline(always)]
    pub(crate) fn has(self, fault: Fault) -> bool {
        self.0 & (1 << fault as u8) != 0
    }

    pub(crate) fn insert(&mut self, fault: Fault) {
        self.0 |= 1 << fault as u8;
    }
}
