//! What an agent keeps: its calls' state, its timers' steps, and its decided requests in compact
//! form (a request becomes an [`Op`] only when the driver takes it).

use std::cmp::Ordering;

use super::script::{Action, Behaviour, DTMF_DIGITS, Part};
use super::{Answers, Output, Request, Tag, Timer};
use crate::core::{CallId, Media, Op};

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Accept,
    Decline(u16),
    /// The caller gives up, unless the call was answered meanwhile.
    Cancel,
    /// The talk time is over: the caller hangs up (or ends the call for everyone).
    EndOfTalk,
    Act(Action),
}

/// A decided request, 16 bytes instead of an [`Op`]'s hundred: the queue of them sits inline in
/// the agent (see `fifo.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) call: CallId,
    pub(super) want: Want,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    Ringing,
    StartSession,
    Accept,
    Decline(u16),
    Cancel,
    Hangup,
    EndForAll,
    Hold(bool),
    Mute,
    Dtmf,
    Transfer,
}

impl Pending {
    pub(super) fn output(self) -> Output {
        match self.want {
            Want::Transfer => Output::Transfer { call: self.call },
            _ => Output::Request(Request(self)),
        }
    }

    pub(super) fn tag(self) -> Tag {
        match self.want {
            Want::Accept => Tag(Answers::Enter(self.call)),
            Want::StartSession => Tag(Answers::Start(self.call)),
            _ => Tag(Answers::Other),
        }
    }

    pub(super) fn op(self) -> Op {
        let call = self.call;
        match self.want {
            Want::Ringing => Op::ringing(call),
            Want::StartSession => Op::StartSession { call },
            Want::Accept => Op::accept(call),
            Want::Decline(code) => Op::decline(call, Some(code)),
            Want::Cancel => Op::Cancel { call },
            Want::Hangup => Op::hangup(call),
            Want::EndForAll => Op::EndForAll { call },
            Want::Hold(on_hold) => Op::Hold { call, on_hold },
            Want::Mute => Op::Mute {
                call,
                media: Media::Audio,
                muted: true,
            },
            Want::Dtmf => Op::Dtmf {
                call,
                digits: DTMF_DIGITS.to_owned(),
            },
            Want::Transfer => unreachable!("a transfer is handed out as Output::Transfer"),
        }
    }
}

/// A timer in the agent's own queue.
#[derive(Debug, Clone, Copy)]
pub(super) struct Armed {
    pub(super) at_ms: u64,
    /// Arming order: timers due at the same millisecond fire in the order they were armed.
    pub(super) seq: u64,
    pub(super) timer: Timer,
}

impl Ord for Armed {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the heap's top is the earliest.
        (other.at_ms, other.seq).cmp(&(self.at_ms, self.seq))
    }
}

impl PartialOrd for Armed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Armed {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ms, self.seq) == (other.at_ms, other.seq)
    }
}

impl Eq for Armed {}

/// What a device's user does in a call, as far as it is still to come: a caller's cancel is
/// armed when its part arrives, so only what the answer needs is kept (why so little: see
/// [`Calls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Unscripted,
    Caller { talk_ms: u64, end_for_all: bool },
    Callee(Behaviour),
}

impl From<Part> for Role {
    fn from(part: Part) -> Self {
        match part {
            Part::Caller(p) => Role::Caller {
                talk_ms: p.talk_ms,
                end_for_all: p.end_for_all,
            },
            Part::Callee(b) => Role::Callee(b),
        }
    }
}

/// What the agent remembers of one call.
#[derive(Debug, Clone)]
pub(super) struct CallState {
    pub(super) call: CallId,
    pub(super) role: Role,
    /// When this device heard that another member joined (for a caller: the answer).
    pub(super) answered_ms: Option<u64>,
    pub(super) timers_armed: u32,
    /// The media session was started here, or asked for.
    pub(super) started: bool,
}

impl CallState {
    pub(super) fn new(call: CallId) -> Self {
        Self {
            call,
            role: Role::Unscripted,
            answered_ms: None,
            timers_armed: 0,
            started: false,
        }
    }

    /// Nothing worth keeping: no script, no answer seen, no session started, no timer.
    pub(super) fn is_bare(&self) -> bool {
        self.role == Role::Unscripted
            && self.answered_ms.is_none()
            && !self.started
            && self.timers_armed == 0
    }

    /// What a timer of this call does when it fires, if anything.
    pub(super) fn due(&self, step: Step) -> Option<Pending> {
        let want = match step {
            Step::Accept => Want::Accept,
            Step::Decline(code) => Want::Decline(code),
            Step::Cancel if self.answered_ms.is_some() => return None,
            Step::Cancel => Want::Cancel,
            Step::EndOfTalk => match self.role {
                Role::Caller {
                    end_for_all: true, ..
                } => Want::EndForAll,
                _ => Want::Hangup,
            },
            Step::Act(Action::Hold) => Want::Hold(true),
            Step::Act(Action::Unhold) => Want::Hold(false),
            Step::Act(Action::Mute) => Want::Mute,
            Step::Act(Action::Dtmf) => Want::Dtmf,
            Step::Act(Action::Transfer) => Want::Transfer,
            Step::Act(Action::Hangup) => Want::Hangup,
        };
        Some(Pending {
            call: self.call,
            want,
        })
    }
}

/// The calls an agent keeps state for. A device is in one call most of the time, so the first
/// lives inline, and a call's state is kept small (why: see `fifo.rs`); more go to a vector.
#[derive(Debug, Clone, Default)]
#[repr(C)]
pub(super) struct Calls {
    first: Option<CallState>,
    more: Vec<CallState>,
}

impl Calls {
    pub(super) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.more.len()
    }

    pub(super) fn get(&self, call: CallId) -> Option<&CallState> {
        match &self.first {
            Some(c) if c.call == call => Some(c),
            _ => self.more.iter().find(|c| c.call == call),
        }
    }

    pub(super) fn get_mut(&mut self, call: CallId) -> Option<&mut CallState> {
        match &mut self.first {
            Some(c) if c.call == call => Some(c),
            _ => self.more.iter_mut().find(|c| c.call == call),
        }
    }

    pub(super) fn insert(&mut self, state: CallState) {
        if self.first.is_none() {
            self.first = Some(state);
        } else {
            self.more.push(state);
        }
    }

    /// Removes `call`'s state; returns whether there was one.
    pub(super) fn remove(&mut self, call: CallId) -> bool {
        if self.first.as_ref().is_some_and(|c| c.call == call) {
            // The vector's last moves inline, so the first slot is the one in use.
            self.first = self.more.pop();
            return true;
        }
        match self.more.iter().position(|c| c.call == call) {
            Some(i) => {
                self.more.swap_remove(i);
                true
            }
            None => false,
        }
    }
}
