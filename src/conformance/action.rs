//! What a step means, as data: every step of the vocabulary parses its text into one [`Action`],
//! and the [`Stage`](super::stage::Stage) carries actions out against a reference session.
//!
//! Keeping the meaning as data (rather than code that runs while the step text is parsed) lets
//! the checker parse every step of every feature before anything runs, so a malformed argument
//! is reported with its file and line instead of failing half-way through a run.

use std::time::Duration;

use crate::core::{CallStatus, CallType, Feature, Headers, Media, PlaceCall};

/// Which call an operation or expectation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallRef {
    /// The call placed last in the scenario ("the call").
    Last,
    /// `call-N`, as events name it.
    Id(u64),
}

/// One setting of a user's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanChange {
    Excludes(Feature),
    MaxParticipants(usize),
    AudioOnly,
    Full,
}

/// An automatic step of the reference client SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoStep {
    AcknowledgeRinging,
    StartSession,
}

/// Something that sets up the world (users, devices, groups, plans, limits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup {
    /// A field of [`crate::core::Limits`], in its own unit.
    Limit {
        name: String,
        value: u64,
    },
    NoAutoStep(AutoStep),
    /// Run the scenario under this built-in dialect profile (checked when the step is parsed).
    Dialect(String),
    /// Users, each with the devices `labels`.
    Users {
        names: Vec<String>,
        labels: Vec<String>,
    },
    PhoneNumber(String),
    Group {
        name: String,
        members: Vec<String>,
    },
    Plan {
        user: String,
        change: PlanChange,
    },
    CallWaiting(String),
    EndPermission(String),
}

/// An operation of the canonical lifecycle, by one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Place(PlaceCall),
    Ringing(CallRef),
    Accept(CallRef),
    Decline(CallRef, Option<u16>),
    Cancel(CallRef),
    Hangup(CallRef),
    EndForAll(CallRef),
    Join(CallRef),
    Invite(CallRef, Vec<String>),
    StartSession(CallRef),
    Hold(CallRef, bool),
    Mute(CallRef, Media, bool),
    Dtmf(CallRef, String),
    Info {
        call: CallRef,
        mime: String,
        body: String,
    },
    Message(CallRef, String),
    CustomData(CallRef, String),
    EarlyMedia(CallRef),
    Transfer(CallRef, String),
    GetCall(CallRef),
    GoOffline,
    ComeOnline,
    /// The device's SDK registers a call listener under this id (CometChat `addCallListener`).
    AddListener(String),
    /// The device's SDK removes the call listener with this id (`removeCallListener`).
    RemoveListener(String),
}

/// One expected event line of a `sees:` block, optionally stamped with its virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLine {
    pub at_ms: Option<u64>,
    pub text: String,
}

/// A field of an event or reply, by a dotted path into its JSON form, and its expected value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCheck {
    pub path: String,
    pub value: String,
}

/// Something checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// Each device received exactly these events since its last check, in this order.
    Sees {
        devices: Vec<String>,
        lines: Vec<ExpectedLine>,
    },
    /// Each device received exactly these events since its last check, in any order.
    SeesAnyOrder {
        devices: Vec<String>,
        lines: Vec<ExpectedLine>,
    },
    /// `device` is refused, with 501, every capability the scenario's dialect lacks.
    AbsentRefused {
        device: String,
    },
    /// The call listener `listener` of `device` received exactly these events since its last
    /// check (none: it received nothing), in this order.
    ListenerGot {
        device: String,
        listener: String,
        lines: Vec<ExpectedLine>,
    },
    /// Each device received nothing since its last check.
    SeesNothing {
        devices: Vec<String>,
    },
    /// No device received anything since its last check.
    NobodySeesAnything,
    /// The previous operation was refused with `code` (and a message containing `saying`).
    Fails {
        code: u16,
        saying: Option<String>,
    },
    Status {
        call: CallRef,
        status: CallStatus,
    },
    EndReason {
        call: CallRef,
        reason: String,
    },
    EndCode {
        call: CallRef,
        code: u16,
    },
    MemberState {
        call: CallRef,
        user: String,
        state: String,
    },
    OnHold {
        call: CallRef,
        user: String,
        on_hold: bool,
    },
    Muted {
        call: CallRef,
        user: String,
        media: Media,
        muted: bool,
    },
    /// The busy (or unavailable) invitees of the last place or invite reply.
    Invitees {
        busy: bool,
        users: Vec<String>,
    },
    /// Fields of the last operation's reply.
    ReplyFields(Vec<FieldCheck>),
    /// Fields of the last event a device received (or of its last invitation).
    EventFields {
        device: String,
        invitation: bool,
        fields: Vec<FieldCheck>,
        /// The fields are named as the scenario's dialect names the invitation's
        /// (`names.incoming` of its profile), not by canonical path.
        vendor_names: bool,
    },
    /// Every event every device received was checked, and no refusal went unchecked. Appended
    /// to every scenario; may also be written out.
    AllChecked,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Setup(Setup),
    Operate {
        device: String,
        op: Operation,
        /// `X-` headers the operation carries (only those that carry any: [`Operation::carries_headers`]).
        headers: Headers,
    },
    /// Virtual time passes (timers fire on the way).
    Pass(Duration),
    Expect(Expectation),
}

impl Operation {
    /// Whether the core operation this becomes carries `X-` headers ([`crate::core::Op::headers`]).
    pub fn carries_headers(&self) -> bool {
        matches!(
            self,
            Operation::Ringing(_)
                | Operation::Accept(_)
                | Operation::Decline(..)
                | Operation::Hangup(_)
                | Operation::EarlyMedia(_)
                | Operation::Info { .. }
        )
    }

    /// A 1:1 or ad-hoc group call (no group) that rings.
    pub fn place(to: Vec<String>, call_type: CallType, group: Option<String>) -> Self {
        Operation::Place(PlaceCall {
            invitees: to.iter().map(|u| u.as_str().into()).collect(),
            call_type,
            group: group.map(|g| g.as_str().into()),
            alert: crate::core::Alert::Ring,
            custom_data: None,
            headers: Vec::new(),
        })
    }
}
