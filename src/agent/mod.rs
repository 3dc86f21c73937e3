//! What a device does on its own, written once, as a sans-IO state machine.
//!
//! A device reacts to what it is told without its application asking: it acknowledges ringing
//! when an invitation arrives (Stringee `ringing()`), and it starts the media session once it is
//! in one (CometChat's default call flow: the callee on its accept's or join's success, a device
//! already in the session, such as the caller, when another member joins). A device of a load
//! scenario also follows its user's [`Part`] of the call's [`Script`]: answer, decline or reject
//! as busy after a delay, cancel after a delay unless answered, end the call after the talk time,
//! and timed in-call actions (hold, mute, DTMF, blind transfer). The reference client SDK
//! ([`crate::client`]), the simulator ([`crate::sim`]) and the real-time load driver
//! ([`crate::net::load`]) all take these steps from here.
//!
//! Like [`crate::core`], nothing here knows about tokio or sockets; time enters only as an
//! argument (`now_ms`, on any monotonic millisecond clock the driver chooses; it never goes back):
//!
//! ```text
//!   driver ── handle_event / handle_reply / handle_sent / handle_script / handle_action ──▶ Agent
//!             forget / handle_timeout / handle_timer
//!   driver ◀── poll_output() → Output,  poll_timeout() or poll_timer() ── Agent
//! ```
//!
//! After every input the driver drains [`Agent::poll_output`] (requests to send now, in order)
//! and then the timers. Timers live in one of two places ([`TimerHome`]): in the agent, which
//! says when it next needs [`Agent::handle_timeout`] ([`Agent::poll_timeout`]), or in a driver
//! that has an event queue of its own (the simulator), which is handed each timer once as it is
//! armed ([`Agent::poll_timer`]) and hands it back when due ([`Agent::handle_timer`]). The second
//! keeps the simulator's order of same-millisecond events exactly what arming order makes it.
//!
//! Determinism: the same inputs with the same times give the same outputs in the same order. The
//! agent keeps its calls in a vector and its timers ordered by `(due, arming order)`.
//!
//! Bounds: the agent keeps state for at most [`Options::calls_max`] calls (state goes with the
//! call's closing event, or [`Agent::forget`]) and arms at most
//! [`Options::timers_per_call_max`] timers per call; the output queue holds what one input
//! produced until the driver drains it.

mod fifo;
mod script;
mod state;

use std::collections::BinaryHeap;
use std::collections::binary_heap::PeekMut;

use thiserror::Error;

pub use script::{
    Action, ActionFlags, Behaviour, CallerPart, DTMF_DIGITS, InCall, Part, Script, Side, pick_mix,
};

use crate::core::{CallId, Event, Op, ParticipantState, UserId};
use fifo::Fifo;
use state::{Armed, CallState, Calls, Pending, Role, Step, Want};

/// Where the agent's timers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerHome {
    /// In the agent: the driver asks [`Agent::poll_timeout`] and calls [`Agent::handle_timeout`].
    Agent,
    /// In the driver's own event queue: each timer is handed out once by [`Agent::poll_timer`]
    /// and comes back through [`Agent::handle_timer`]. A timer of a call the agent no longer
    /// knows fires as nothing.
    Driver,
}

/// A device agent's behaviour and bounds, units last. Eight bytes (the bounds are small numbers):
/// it sits in every agent, on the line every input reads first.
#[derive(Debug, Clone)]
pub struct Options {
    /// Acknowledge ringing when an invitation arrives.
    pub auto_ringing: bool,
    /// Start the media session after entering it (accept or join succeeded), and when another
    /// member joins a session this device is already in.
    pub auto_start_session: bool,
    pub timers: TimerHome,
    /// Calls one agent keeps state for at once. A device is attached to at most the core's
    /// `calls_per_user_max` calls (8 by default); the rest is room for calls whose closing
    /// event is still on its way.
    pub calls_max: u16,
    /// Timers armed over one call's life: a response per invitation (the core delivers an
    /// invitation again after a reconnect), the cancel, the end of the talk, and the in-call
    /// actions (at most six from a script).
    pub timers_per_call_max: u16,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            auto_ringing: true,
            auto_start_session: true,
            timers: TimerHome::Agent,
            calls_max: 16,
            timers_per_call_max: 16,
        }
    }
}

/// A refused input: a bound of [`Options`] would be exceeded. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AgentError {
    #[error("the agent already keeps state for calls_max ({0}) calls")]
    CallsMax(u16),
    #[error("the call already armed timers_per_call_max ({0}) timers")]
    TimersPerCallMax(u16),
}

/// What the agent wants done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Send this request ([`Request::op`]) from the agent's device. If its [`Request::tag`]
    /// awaits its reply, hand the reply to [`Agent::handle_reply`].
    Request(Request),
    /// The script's blind transfer of `call` is due. The target is a choice about the population,
    /// which the agent does not know: the driver picks one and sends [`Op::Transfer`], or skips
    /// the step.
    Transfer { call: CallId },
}

/// A request the agent decided, in 16 bytes: its [`Op`] (a hundred bytes, a heap string for DTMF)
/// is built only when the driver sends it. Why: the simulator holds each request in its event
/// queue for the network's latency, and boxing an `Op` for that was an allocation, a copy and a
/// free per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request(Pending);

impl Request {
    /// The operation to send.
    pub fn op(self) -> Op {
        self.0.op()
    }

    /// [`Tag::of`] the operation, without building it.
    pub fn tag(self) -> Tag {
        self.0.tag()
    }
}

/// What a request's reply means to the agent: accepts and joins carry their call (the session
/// starts on their success), and so do session starts (a refused one did not start anything);
/// every other request carries nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tag(Answers);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Answers {
    #[default]
    Other,
    Enter(CallId),
    Start(CallId),
}

impl Tag {
    pub fn of(op: &Op) -> Self {
        Tag(match op {
            Op::Accept { call, .. } | Op::Join { call } => Answers::Enter(*call),
            Op::StartSession { call } => Answers::Start(*call),
            _ => Answers::Other,
        })
    }

    /// Whether the agent needs this request's reply to take its next step (an accept's or a
    /// join's); a driver may drop the others, or hand them in all the same.
    pub fn awaits_reply(self) -> bool {
        matches!(self.0, Answers::Enter(_))
    }
}

/// A timer the agent armed, as handed to a driver that keeps the timers ([`TimerHome::Driver`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    call: CallId,
    step: Step,
}

impl Timer {
    pub fn call(&self) -> CallId {
        self.call
    }
}

/// Outputs, and timers to hand out, kept inline: one input makes at most two of each (an
/// invitation: the ringing acknowledgement and the response's timer).
const INLINE_QUEUED: usize = 2;

/// One device's own behaviour (see the module docs).
///
/// Laid out in declaration order, what every input touches first (why: the simulator keeps one
/// agent per device, and a cache line of an agent is one miss of an input; the hot fields span
/// about three of them).
#[derive(Debug)]
#[repr(C)]
pub struct Agent {
    now_ms: u64,
    options: Options,
    calls: Calls,
    outputs: Fifo<Pending, INLINE_QUEUED>,
    /// [`TimerHome::Driver`]: timers armed and not yet handed out.
    armed: Fifo<(u64, Timer), INLINE_QUEUED>,
    /// [`TimerHome::Agent`]: the pending timers, made with the first one (a driver that keeps
    /// the timers never needs them, and they would be 32 bytes in each of its agents).
    own: Option<Box<OwnTimers>>,
    user: UserId,
}

/// The timers of an agent that keeps its own ([`TimerHome::Agent`]).
#[derive(Debug, Default)]
struct OwnTimers {
    /// Earliest on top.
    heap: BinaryHeap<Armed>,
    /// Arming order, for timers due at the same millisecond.
    seq: u64,
}

impl Agent {
    /// The agent of a device of `user` (its own joins are not "another member joined").
    pub fn new(user: UserId, options: Options) -> Self {
        Self {
            now_ms: 0,
            options,
            calls: Calls::default(),
            outputs: Fifo::new(),
            armed: Fifo::new(),
            own: None,
            user,
        }
    }

    pub fn user(&self) -> &UserId {
        &self.user
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Calls the agent keeps state for right now.
    pub fn tracked_calls(&self) -> usize {
        self.calls.len()
    }

    // ----- inputs -----------------------------------------------------------------------------

    /// The device received `event`.
    pub fn handle_event(&mut self, now_ms: u64, event: &Event) {
        self.advance(now_ms);
        match event {
            Event::Incoming { info } => self.incoming(info.call),
            Event::Participant {
                call,
                user,
                state: ParticipantState::Joined,
            } if *user != self.user => self.other_joined(*call),
            // Nothing about the call reaches the device after its closing event.
            Event::Ended { call, .. } | Event::Detached { call, .. } => self.forget(*call),
            _ => {}
        }
    }

    /// The reply to a request this device sent, with the [`Tag::of`] that request: `Ok` for any
    /// success (what the reply carries is the application's business, not the agent's), an error
    /// as its code.
    pub fn handle_reply(&mut self, now_ms: u64, tag: Tag, result: Result<(), u16>) {
        self.advance(now_ms);
        if !self.options.auto_start_session {
            return;
        }
        match (tag.0, result) {
            // A device at its bound of calls does not start the session; the call still
            // connects when the application starts it.
            (Answers::Enter(call), Ok(_)) if self.entry(call).is_ok() => self.start(call),
            (Answers::Start(call), Err(_)) => {
                // Refused (not in the session yet, not a member): nothing started, so the
                // automatic start still comes, and a call this device is not in leaves no state.
                if let Some(c) = self.calls.get_mut(call) {
                    c.started = false;
                    if c.is_bare() {
                        self.calls.remove(call);
                    }
                }
            }
            _ => {}
        }
    }

    /// The device sends `op` for its application (not from [`Agent::poll_output`]); returns the
    /// tag of its reply. An application that starts the session itself is not started twice.
    pub fn handle_sent(&mut self, op: &Op) -> Tag {
        if let Op::StartSession { call } = op
            && self.options.auto_start_session
            && self.entry(*call).is_ok()
            && let Some(c) = self.calls.get_mut(*call)
        {
            c.started = true;
        }
        Tag::of(op)
    }

    /// Assigns the device's user its part of `call`'s script. A caller's part counts its cancel
    /// from [`CallerPart::placed_ms`] and its talk from the answer (so it may come after either).
    /// A callee's part takes effect at the invitation: assign it before the [`Event::Incoming`]
    /// is handed in; every invitation delivered for the call (again after a reconnect) starts the
    /// response anew.
    pub fn handle_script(
        &mut self,
        now_ms: u64,
        call: CallId,
        part: Part,
    ) -> Result<(), AgentError> {
        self.advance(now_ms);
        self.entry(call)?;
        let c = self.calls.get_mut(call).expect("just made");
        c.role = Role::from(part);
        let Part::Caller(p) = part else {
            return Ok(());
        };
        match (c.answered_ms, p.cancel_after_ms) {
            (Some(answered_ms), _) => {
                let at_ms = (answered_ms + p.talk_ms).max(self.now_ms);
                self.arm(call, at_ms, Step::EndOfTalk)
            }
            (None, Some(after_ms)) => {
                let at_ms = (p.placed_ms + after_ms).max(self.now_ms);
                self.arm(call, at_ms, Step::Cancel)
            }
            (None, None) => Ok(()),
        }
    }

    /// The user will do `action` in `call` at `at_ms` (an [`InCall`] step, or a driver's own).
    pub fn handle_action(
        &mut self,
        now_ms: u64,
        call: CallId,
        at_ms: u64,
        action: Action,
    ) -> Result<(), AgentError> {
        self.advance(now_ms);
        self.entry(call)?;
        self.arm(call, at_ms.max(self.now_ms), Step::Act(action))
    }

    /// Drops everything about `call`: its state and the timers still in the agent. For a driver
    /// that knows the call is over before the device hears so (the simulator ends a call's
    /// scripts when its first member hears of the end).
    pub fn forget(&mut self, call: CallId) {
        if !self.calls.remove(call) {
            return;
        }
        if let Some(own) = &mut self.own
            && !own.heap.is_empty()
        {
            own.heap.retain(|a| a.timer.call != call);
        }
        if !self.armed.is_empty() {
            self.armed.retain(|(_, t)| t.call != call);
        }
    }

    /// Fires every timer due at `now_ms` ([`TimerHome::Agent`]).
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.advance(now_ms);
        // Bounded: each pass pops one timer of a heap holding at most
        // calls_max × timers_per_call_max.
        while let Some(a) = self.pop_due() {
            self.fire(a.timer);
        }
    }

    /// The earliest of the agent's own timers, taken out if it is due.
    fn pop_due(&mut self) -> Option<Armed> {
        let top = self.own.as_mut()?.heap.peek_mut()?;
        (top.at_ms <= self.now_ms).then(|| PeekMut::pop(top))
    }

    /// A timer handed out by [`Agent::poll_timer`] is due ([`TimerHome::Driver`]).
    pub fn handle_timer(&mut self, now_ms: u64, timer: Timer) {
        self.advance(now_ms);
        self.fire(timer);
    }

    // ----- outputs ----------------------------------------------------------------------------

    /// The next thing to do now, in the order decided.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop().map(Pending::output)
    }

    /// When [`Agent::handle_timeout`] must next be called ([`TimerHome::Agent`]).
    pub fn poll_timeout(&self) -> Option<u64> {
        self.own.as_ref()?.heap.peek().map(|a| a.at_ms)
    }

    /// The next timer armed since the last call, with its due time ([`TimerHome::Driver`]).
    pub fn poll_timer(&mut self) -> Option<(u64, Timer)> {
        self.armed.pop()
    }

    // ----- internals --------------------------------------------------------------------------

    fn advance(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
    }

    /// Makes sure the agent keeps state for `call`, if it has room.
    fn entry(&mut self, call: CallId) -> Result<(), AgentError> {
        if self.calls.get(call).is_some() {
            return Ok(());
        }
        if self.calls.len() >= usize::from(self.options.calls_max) {
            return Err(AgentError::CallsMax(self.options.calls_max));
        }
        self.calls.insert(CallState::new(call));
        Ok(())
    }

    fn incoming(&mut self, call: CallId) {
        if self.options.auto_ringing {
            self.want(call, Want::Ringing);
        }
        let (delay_ms, step) = match self.calls.get(call).map(|c| c.role) {
            Some(Role::Callee(Behaviour::Answer { delay_ms })) => (delay_ms, Step::Accept),
            Some(Role::Callee(Behaviour::Decline { delay_ms })) => (delay_ms, Step::Decline(603)),
            Some(Role::Callee(Behaviour::Busy { delay_ms })) => (delay_ms, Step::Decline(486)),
            _ => return,
        };
        // Past the bound the device rings on without its user reacting again.
        let _ = self.arm(call, self.now_ms + delay_ms, step);
    }

    /// Another member joined a session this device is in.
    fn other_joined(&mut self, call: CallId) {
        if self.calls.get(call).is_none()
            && (!self.options.auto_start_session || self.entry(call).is_err())
        {
            return;
        }
        let now_ms = self.now_ms;
        let c = self.calls.get_mut(call).expect("checked");
        if c.answered_ms.is_none() {
            c.answered_ms = Some(now_ms);
            // The caller's talk counts from the first answer.
            if let Role::Caller { talk_ms, .. } = c.role {
                let _ = self.arm(call, now_ms + talk_ms, Step::EndOfTalk);
            }
        }
        self.start(call);
    }

    fn start(&mut self, call: CallId) {
        if !self.options.auto_start_session {
            return;
        }
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        if !c.started {
            c.started = true;
            self.want(call, Want::StartSession);
        }
    }

    fn want(&mut self, call: CallId, want: Want) {
        self.outputs.push(Pending { call, want });
    }

    fn arm(&mut self, call: CallId, at_ms: u64, step: Step) -> Result<(), AgentError> {
        let max = self.options.timers_per_call_max;
        let c = self
            .calls
            .get_mut(call)
            .expect("timers are armed for known calls");
        if c.timers_armed >= u32::from(max) {
            return Err(AgentError::TimersPerCallMax(max));
        }
        c.timers_armed += 1;
        let timer = Timer { call, step };
        match self.options.timers {
            TimerHome::Agent => {
                let own = self.own.get_or_insert_default();
                own.heap.push(Armed {
                    at_ms,
                    seq: own.seq,
                    timer,
                });
                own.seq += 1;
            }
            TimerHome::Driver => self.armed.push((at_ms, timer)),
        }
        Ok(())
    }

    fn fire(&mut self, timer: Timer) {
        if let Some(p) = self.calls.get(timer.call).and_then(|c| c.due(timer.step)) {
            self.outputs.push(p);
        }
    }
}

#[cfg(test)]
mod layout {
    /// The simulator keeps an agent per device, ten thousand a cell, and each input reads one:
    /// its size is its share of the cell's working set (it was 296 bytes, 24 of them timers that
    /// a simulated device never has). A larger agent is a choice to make on purpose.
    #[test]
    fn an_agent_fits_in_four_cache_lines() {
        assert!(
            std::mem::size_of::<super::Agent>() <= 4 * 64,
            "an agent is {} bytes",
            std::mem::size_of::<super::Agent>()
        );
        assert_eq!(std::mem::size_of::<super::Options>(), 8);
    }
}
