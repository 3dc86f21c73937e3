//! The real-time load's bookkeeping, whatever carries the devices' messages: the calls in
//! progress (who placed which, when it rang, whether it was answered), the idle pool, the
//! statistics, and each device's part of the driver's work. A [`Device`] takes the replies and
//! events its transport read, hands them to its [`Agent`] (which decides what the user does),
//! measures, and leaves the requests to send in its outbox; the transport (one WebSocket per
//! device in `ws.rs`, or an adapter hosting every device in `adapter.rs`) only moves them. Why
//! apart: the driver protocol's devices must behave and be measured exactly as the direct
//! connections' are, so there is one copy of this.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::agent::{Action, ActionFlags, Agent, Behaviour, InCall, Output, Part, Side, Tag};
use crate::core::{
    CallId, CallStatus, CallType, Event, Op, ParticipantState, PlaceCall, Reply, UserId,
};
use crate::scenario::Scenario;
use crate::sim::{Control, Outcome, Stats};

/// What the driver tells a device: place a call (as its caller; everything after that is its
/// agent's), or do an in-call action of its user's (as the callee, drawn by the caller's task).
#[derive(Debug, Clone, Copy)]
pub(super) enum Cmd {
    Place {
        to: usize,
        slot: usize,
        call_type: CallType,
    },
    Action {
        call: CallId,
        at_ms: u64,
        action: Action,
    },
}

/// How the driver's commands reach the devices: a queue per device (each device its own task),
/// or one queue for all of them (one task drives every device behind an adapter).
pub(super) enum Route {
    PerDevice(Vec<mpsc::Sender<Cmd>>),
    One(mpsc::Sender<(usize, Cmd)>),
    /// Devices `k * size ..` share connection `k`'s task (`--mux`).
    Groups {
        size: usize,
        tx: Vec<mpsc::Sender<(usize, Cmd)>>,
    },
}

impl Route {
    /// Queues `cmd` for device `dev`, waiting for room.
    pub(super) async fn send(&self, dev: usize, cmd: Cmd) {
        let _ = match self {
            Route::PerDevice(d) => d[dev].send(cmd).await.map_err(|_| ()),
            Route::One(q) => q.send((dev, cmd)).await.map_err(|_| ()),
            Route::Groups { size, tx } => tx[dev / size].send((dev, cmd)).await.map_err(|_| ()),
        };
    }

    /// Queues `cmd` for device `dev` if there is room (a device never waits on another's
    /// queue: a full one skips the command).
    fn try_send(&self, dev: usize, cmd: Cmd) {
        let _ = match self {
            Route::PerDevice(d) => d[dev].try_send(cmd).map_err(|_| ()),
            Route::One(q) => q.try_send((dev, cmd)).map_err(|_| ()),
            Route::Groups { size, tx } => tx[dev / size].try_send((dev, cmd)).map_err(|_| ()),
        };
    }
}

pub(super) struct Shared {
    pub(super) sc: Scenario,
    pub(super) stats: Mutex<Stats>,
    pub(super) idle: Mutex<Vec<usize>>,
    /// Per call slot: when it was placed and whether the caller heard ringing / an answer.
    pub(super) calls: Mutex<HashMap<usize, CallRecord>>,
    /// The call slot each user is in (a user takes part in at most one call at a time: callers
    /// and callees are drawn from the idle pool). Guarded by the `calls` lock's discipline:
    /// written when a call is created and when it finishes.
    pub(super) slot_of: Mutex<Vec<Option<usize>>>,
    pub(super) rng: Mutex<ChaCha8Rng>,
    /// Time zero of the run's statistics: when arrivals begin, after every device has
    /// connected. Set once, before the first call; the report's times and its
    /// `achieved_rate_per_s` (calls started over the last start's time) count from it, so the
    /// 2,000 WebSocket handshakes before the first call are not in the rate's denominator.
    pub(super) start: OnceLock<Instant>,
    pub(super) route: Route,
    /// Set when the transport failed (an adapter broke the protocol): arrivals and the drain
    /// stop.
    pub(super) aborted: AtomicBool,
    pub(super) ids: Vec<UserId>,
    pub(super) control: Arc<Control>,
    pub(super) requests: AtomicU64,
    pub(super) deliveries: AtomicU64,
    pub(super) connected: AtomicU64,
}

pub(super) struct CallRecord {
    pub(super) caller: usize,
    pub(super) callee: usize,
    pub(super) placed_ms: u64,
    pub(super) ringing_ms: Option<u64>,
    pub(super) answered: bool,
    /// The callee's and the caller's parts of the call's script, and its in-call actions.
    pub(super) callee_part: Behaviour,
    pub(super) caller_part: Part,
    pub(super) talk_ms: u64,
    pub(super) actions: ActionFlags,
}

impl Shared {
    pub(super) fn now_ms(&self) -> u64 {
        // Unset only before the first call, when nothing is timed.
        let Some(start) = self.start.get() else {
            return 0;
        };
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn finish(&self, slot: usize, outcome: Outcome) {
        let Some(rec) = self.calls.lock().expect("calls").remove(&slot) else {
            return;
        };
        let success = outcome.is_clean();
        self.stats
            .lock()
            .expect("stats")
            .record_end(self.now_ms(), outcome, success);
        self.control.ended.fetch_add(1, Ordering::Relaxed);
        {
            let mut slot_of = self.slot_of.lock().expect("slot_of");
            slot_of[rec.caller] = None;
            slot_of[rec.callee] = None;
        }
        let mut idle = self.idle.lock().expect("idle");
        idle.push(rec.caller);
        idle.push(rec.callee);
    }
}

impl Shared {
    /// The wall-clock instant of agent time `t_ms`.
    pub(super) fn instant_of(&self, t_ms: u64) -> Instant {
        // Agents arm timers only for calls, and calls start after time zero is set.
        let start = self.start.get().copied().unwrap_or_else(Instant::now);
        start + Duration::from_millis(t_ms)
    }
}

/// One device's own state: its request ids, the calls it takes part in, its agent, and the
/// requests it decided on that its transport has yet to send.
pub(super) struct Device {
    me: usize,
    next_id: u64,
    /// Request id → the call slot it is for (place requests only).
    placing: HashMap<u64, usize>,
    /// Request id → its tag, for the requests whose reply the agent awaits (accepts). Bounded
    /// by the calls the agent keeps: each gets its reply or the connection ends.
    awaiting: HashMap<u64, Tag>,
    /// Core call id → slot, for calls this device takes part in.
    slots: HashMap<CallId, usize>,
    agent: Agent,
    /// Requests to send, with their ids, in order. Bounded by one wakeup's inputs: the
    /// transport takes them all after each [`Device::act`].
    pub(super) outbox: Vec<(u64, Op)>,
}

impl Device {
    /// Device `me`, whose agent takes the automatic steps `options` says.
    pub(super) fn new(me: usize, shared: &Shared, options: crate::agent::Options) -> Self {
        Self {
            me,
            next_id: 0,
            placing: HashMap::new(),
            awaiting: HashMap::new(),
            slots: HashMap::new(),
            agent: Agent::new(shared.ids[me].clone(), options),
            outbox: Vec::new(),
        }
    }

    /// When the agent's next timer is due, in run milliseconds.
    pub(super) fn next_timer_ms(&self) -> Option<u64> {
        self.agent.poll_timeout()
    }

    /// Queues one request (sent by the transport after this wakeup).
    fn request(&mut self, op: Op, shared: &Shared) -> u64 {
        self.next_id += 1;
        shared.requests.fetch_add(1, Ordering::Relaxed);
        self.outbox.push((self.next_id, op));
        self.next_id
    }

    fn command(&mut self, cmd: Cmd, shared: &Shared) {
        match cmd {
            Cmd::Place {
                to,
                slot,
                call_type,
            } => {
                let op = Op::Place(PlaceCall::direct(shared.ids[to].clone(), call_type));
                let id = self.request(op, shared);
                self.placing.insert(id, slot);
            }
            Cmd::Action {
                call,
                at_ms,
                action,
            } => {
                // Only for a call still on here (its end may have overtaken the command: the
                // agent would keep an action's call until a closing event that already came).
                // Past the agent's bounds the user skips the action.
                if self.slots.contains_key(&call) {
                    let _ = self
                        .agent
                        .handle_action(shared.now_ms(), call, at_ms, action);
                }
            }
        }
    }

    /// The wakeup's second half: the commands, the agent's timers due by now (a zero delay's
    /// included), and the requests all that decided, queued in the outbox in order.
    pub(super) fn act(&mut self, cmds: impl IntoIterator<Item = Cmd>, shared: &Shared) {
        for cmd in cmds {
            self.command(cmd, shared);
        }
        self.agent.handle_timeout(shared.now_ms());
        // Bounded: the agent's queue holds what this wakeup's inputs and timers produced.
        while let Some(out) = self.agent.poll_output() {
            match out {
                Output::Request(req) => {
                    let tag = req.tag();
                    let id = self.request(req.op(), shared);
                    if tag.awaits_reply() {
                        self.awaiting.insert(id, tag);
                    }
                }
                // No in-call actions are handed out in real-time mode (see the module docs).
                Output::Transfer { .. } => {}
            }
        }
    }

    /// This device learnt which slot `call` is: a caller's agent gets its user's part.
    fn learn(&mut self, call: CallId, slot: usize, shared: &Shared) {
        self.slots.insert(call, slot);
        let part = match shared.calls.lock().expect("calls").get(&slot) {
            Some(r) if r.caller == self.me => r.caller_part,
            _ => return,
        };
        // Past the agent's bound of calls the caller just lets the call run its course.
        let _ = self.agent.handle_script(shared.now_ms(), call, part);
    }

    /// The reply to request `id` of this device; a refusal as its canonical code.
    pub(super) fn on_reply(&mut self, id: u64, result: Result<&Reply, u16>, shared: &Shared) {
        if let Some(slot) = self.placing.remove(&id) {
            match result {
                Ok(Reply::Placed { call, .. }) => self.learn(*call, slot, shared),
                Ok(_) => {}
                Err(code) => {
                    let outcome = match code {
                        486 => Outcome::Busy,
                        480 => Outcome::Unavailable,
                        _ => Outcome::Rejected,
                    };
                    shared.finish(slot, outcome);
                }
            }
        } else if let Some(tag) = self.awaiting.remove(&id) {
            self.agent
                .handle_reply(shared.now_ms(), tag, result.map(|_| ()));
        }
    }

    /// An event this device received.
    pub(super) fn on_event(&mut self, event: &Event, shared: &Arc<Shared>) {
        shared.deliveries.fetch_add(1, Ordering::Relaxed);
        self.observe(event, shared);
        self.agent.handle_event(shared.now_ms(), event);
    }

    /// What the driver itself does with an event: find the call's slot (and so the user's part
    /// of the script), and measure.
    fn observe(&mut self, event: &Event, shared: &Arc<Shared>) {
        match event {
            Event::Incoming { info } => {
                let me = self.me;
                let candidate = shared.slot_of.lock().expect("slot_of")[me];
                let found = candidate.and_then(|s| {
                    let calls = shared.calls.lock().expect("calls");
                    let r = calls.get(&s)?;
                    (r.callee == me && shared.ids[r.caller] == info.caller)
                        .then_some((s, r.callee_part))
                });
                if let Some((slot, behaviour)) = found {
                    self.slots.insert(info.call, slot);
                    // Before the agent hears of the invitation: its response counts from it.
                    let _ = self.agent.handle_script(
                        shared.now_ms(),
                        info.call,
                        Part::Callee(behaviour),
                    );
                }
            }
            Event::Participant { call, user, state } => {
                self.participant(*call, user, state, shared)
            }
            Event::Status {
                call,
                status: CallStatus::Connected,
            } => {
                let Some(slot) = self.slots.get(call) else {
                    return;
                };
                let calls = shared.calls.lock().expect("calls");
                if calls.get(slot).is_some_and(|r| r.caller == self.me) {
                    shared.connected.fetch_add(1, Ordering::Relaxed);
                }
            }
            Event::Ended { call, reason } => {
                let Some(slot) = self.slots.remove(call) else {
                    return;
                };
                let (caller, answered) = match shared.calls.lock().expect("calls").get(&slot) {
                    Some(r) => (r.caller, r.answered),
                    None => return,
                };
                if caller != self.me {
                    return;
                }
                shared.finish(slot, Outcome::of_end(reason, answered));
            }
            Event::Detached { call, .. } => {
                self.slots.remove(call);
            }
            _ => {}
        }
    }

    /// The caller's view of its callee: ringing (setup time) and the answer (ring to answer).
    fn participant(
        &mut self,
        call: CallId,
        user: &UserId,
        state: &ParticipantState,
        shared: &Arc<Shared>,
    ) {
        let me = self.me;
        let now = shared.now_ms();
        // The server queues a request's reply before the events it causes, but clients must not
        // rely on it (docs/scenarios.md): without the reply yet, find the call by its parties.
        let slot = match self.slots.get(&call) {
            Some(&slot) => slot,
            None => {
                let candidate = shared.slot_of.lock().expect("slot_of")[me];
                let found = candidate.filter(|s| {
                    shared
                        .calls
                        .lock()
                        .expect("calls")
                        .get(s)
                        .is_some_and(|r| r.caller == me && shared.ids[r.callee] == *user)
                });
                let Some(slot) = found else { return };
                self.learn(call, slot, shared);
                slot
            }
        };
        let mut calls = shared.calls.lock().expect("calls");
        let Some(rec) = calls.get_mut(&slot) else {
            return;
        };
        if rec.caller != me || shared.ids[me] == *user {
            return;
        }
        match state {
            ParticipantState::Ringing if rec.ringing_ms.is_none() => {
                rec.ringing_ms = Some(now);
                let setup = now - rec.placed_ms;
                drop(calls);
                shared.stats.lock().expect("stats").record_setup(now, setup);
            }
            ParticipantState::Joined if !rec.answered => {
                rec.answered = true;
                let ring = rec.ringing_ms.map(|r| now - r);
                let (callee, talk_ms, actions) = (rec.callee, rec.talk_ms, rec.actions);
                drop(calls);
                self.in_call(call, callee, now, talk_ms, actions, shared);
                if let Some(r) = ring {
                    let _ = shared
                        .stats
                        .lock()
                        .expect("stats")
                        .ring_to_answer_ms
                        .record(r.max(1));
                }
            }
            _ => {}
        }
    }

    /// The caller heard the answer: the in-call actions' times are drawn now, as the simulator
    /// draws them; the caller's go to its own agent, the callee's to the callee's task.
    fn in_call(
        &mut self,
        call: CallId,
        callee: usize,
        now: u64,
        talk_ms: u64,
        actions: ActionFlags,
        shared: &Shared,
    ) {
        if actions == ActionFlags::default() {
            return;
        }
        let plan = {
            let mut rng = shared.rng.lock().expect("rng");
            InCall::draw(&shared.sc, now, talk_ms, actions, &mut rng)
        };
        for (at_ms, side, action) in plan.steps() {
            match side {
                Side::Caller => {
                    let _ = self.agent.handle_action(now, call, at_ms, action);
                }
                Side::Callee => {
                    // Not awaited (a device's task never waits on another's queue): a callee
                    // whose queue is full skips the action.
                    let cmd = Cmd::Action {
                        call,
                        at_ms,
                        action,
                    };
                    shared.route.try_send(callee, cmd);
                }
            }
        }
    }
}
