//! One cell of a simulation: a slice of the population with its own reference [`Core`], its own
//! seeded random stream and its own event queue, run as a discrete-event simulation in virtual
//! milliseconds. Nothing is shared with other cells, so a cell gives the same result whether it
//! runs alone (a shard), beside others on another thread, or in a single run.
//!
//! Devices talk to the server through a modelled network: every request and every delivery is
//! delayed by a latency sampled from the scenario's network profile (loss shows as a
//! retransmission delay, as on a reliable transport). Each device has its own [`Agent`] that takes
//! its steps (acknowledging ringing, starting the session, its user's part of the call's script);
//! the cell draws the scripts from its random stream, hands the parts out, and carries the
//! agents' requests and timers through its one event queue, so that a timer fires in the order
//! it was armed among everything else due at the same millisecond.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::arrivals::Arrivals;
use super::script::expected;
use super::stats::{Outcome, Stats};
use super::wheel::Wheel;
use crate::agent::{
    self, Action, Agent, Behaviour, InCall, Output, Part, Script, Side, Tag, TimerHome,
};
use crate::core::{
    CallId, Core, Delivery, DeviceId, Endpoint, Event, Op, ParticipantState, PlaceCall, Plan,
    Reply, UserConfig, UserId,
};
use crate::scenario::{Dist, Fault, Scenario};

/// How much of the run one cell does.
#[derive(Debug, Clone)]
pub struct CellPlan {
    pub index: u32,
    pub cells: u32,
    pub seed: u64,
    /// Global index of this cell's first user, and how many users it has.
    pub first_user: u64,
    pub users: u64,
    pub concurrent_max: Option<u64>,
}

/// Shared with the thread that shows progress and handles Ctrl-C.
pub struct Control {
    pub interrupt: AtomicBool,
    pub started: AtomicU64,
    pub ended: AtomicU64,
}

impl Control {
    pub fn new() -> Self {
        Self {
            interrupt: AtomicBool::new(false),
            started: AtomicU64::new(0),
            ended: AtomicU64::new(0),
        }
    }
}

impl Default for Control {
    fn default() -> Self {
        Self::new()
    }
}

/// A call's slot plus the slot's generation: a scheduled action of a call that has ended never
/// touches the next call placed in the same slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    slot: u32,
    generation: u32,
}

/// A pending event, a few words: every event is moved into the queue's slab and out of it again,
/// and the slab holds every pending event of the cell (a few per live call). So an agent's request
/// travels in its compact form, a reply as its outcome only (all that its receiver reads), and
/// the rare large payloads (the cell's own operations, deliveries: 100 to 170 bytes) are boxed.
#[derive(Debug)]
enum Ev {
    Arrival,
    /// A request reaches the server.
    Request {
        call: Key,
        device: DeviceId,
        req: Req,
    },
    /// A reply reaches the device that asked: the cell's own place request, or one whose reply
    /// its agent awaits; an error as its code.
    Reply {
        call: Key,
        device: DeviceId,
        placed: bool,
        tag: Tag,
        result: Result<(), u16>,
    },
    /// A delivery reaches its device.
    Deliver(Box<Delivery>),
    /// A timer of a device's agent is due.
    Timer {
        device: DeviceId,
        timer: agent::Timer,
    },
    CoreTimer,
    Connectivity {
        device: DeviceId,
        online: bool,
    },
}

/// A request on its way: an agent's, or one the cell makes for its users (placing, and the
/// transfer to a target the cell picks).
#[derive(Debug)]
enum Req {
    Agent(agent::Request),
    Cell(Box<Op>),
}

impl Req {
    fn tag(&self) -> Tag {
        match self {
            Req::Agent(r) => r.tag(),
            Req::Cell(op) => Tag::of(op),
        }
    }
}

struct SimUser {
    id: UserId,
    /// The user's first device, the one that places, decides and is in the session (the others
    /// only ring). A user's devices are numbered consecutively from it; kept as the id rather
    /// than a vector of them, which cost a cold heap line on nearly every event of a call.
    first_device: DeviceId,
    phone: bool,
    /// In a simulated call (as caller, callee or transfer target).
    engaged: bool,
}

struct SimCall {
    generation: u32,
    caller: u32,
    /// Inline up to four: a cold heap line less on most of the call's events.
    callees: SmallVec<[u32; 4]>,
    script: Script,
    core: Option<CallId>,
    placed_ms: u64,
    ringing_ms: Option<u64>,
    answered: bool,
    transfer_target: Option<(u32, Behaviour)>,
    expected: Option<Outcome>,
}

pub struct Cell<'a> {
    sc: &'a Scenario,
    plan: CellPlan,
    control: &'a Control,
    core: Core,
    rng: ChaCha8Rng,
    now_ms: u64,
    /// Pending events, popped in `(time, push order)` order.
    queue: Wheel<Ev>,
    users: Vec<SimUser>,
    device_user: Vec<u32>,
    /// One per device, indexed by device id.
    agents: Vec<Agent>,
    idle: Vec<u32>,
    calls: Vec<Option<SimCall>>,
    /// Generation of each slot, bumped when a call leaves it.
    gens: Vec<u32>,
    free: Vec<u32>,
    by_core: FxHashMap<CallId, Key>,
    /// When the last message on each device's connection arrives, per direction: a connection
    /// delivers in order, so a later message never overtakes an earlier one.
    up_last_ms: Vec<u64>,
    down_last_ms: Vec<u64>,
    active: u64,
    arrivals: Arrivals,
    core_timer_ms: Option<u64>,
    /// The network's latency when every message has the same one ([`Network::fixed_latency_ms`]):
    /// taken as it is instead of walking the profile for each of the ~17 messages of a call.
    ///
    /// [`Network::fixed_latency_ms`]: crate::scenario::Network::fixed_latency_ms
    fixed_latency_ms: Option<u64>,
    /// Event latencies not yet in `stats.event_latency_ms`, as `(value, count)`: a run of equal
    /// values (the common case: one latency for every message) is recorded at once, which gives
    /// the same histogram as recording each.
    latency_run: (u64, u64),
    /// Calls started and ended since the last update of `control`'s progress counts: they are
    /// published every `INTERRUPT_CHECK_EVENTS` events, not per call, as the counters are shared
    /// by every thread (an update per call would move their cache line between the cores).
    unpublished: (u64, u64),
    pub stats: Stats,
}

/// Events handled between looks at the interrupt flag.
const INTERRUPT_CHECK_EVENTS: u64 = 4096;

impl<'a> Cell<'a> {
    pub fn new(sc: &'a Scenario, plan: CellPlan, control: &'a Control) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
        let mut core = Core::new(sc.limits.clone());
        let mut users = Vec::with_capacity(plan.users as usize);
        let devices_max = plan.users as usize * sc.population.devices_per_user as usize;
        let mut device_user = Vec::with_capacity(devices_max);
        let mut agents = Vec::with_capacity(devices_max);
        // One buffer for every name: a `format!` each was two allocations a user.
        let mut name = String::new();
        for i in 0..plan.users {
            let global = plan.first_user + i;
            let config = user_config(sc, &mut rng);
            let phone = config.endpoint == Endpoint::Phone;
            name.clear();
            let _ = write!(name, "u{global}");
            let id = core
                .add_user(&name, config)
                .expect("validated population fits the core's limits");
            // Validated: every user has at least one device.
            let first_device = DeviceId(device_user.len() as u32);
            for d in 0..sc.population.devices_per_user {
                name.clear();
                let _ = write!(name, "d{d}");
                let dev = core
                    .add_device(&id, &name)
                    .expect("validated devices_per_user fits the core's limits");
                core.handle_connect(0, dev).expect("a new device connects");
                assert_eq!(
                    dev.0 as usize,
                    device_user.len(),
                    "devices are numbered in order"
                );
                device_user.push(i as u32);
                agents.push(device_agent(&id));
            }
            users.push(SimUser {
                id: id.clone(),
                first_device,
                phone,
                engaged: false,
            });
        }
        let device_count = device_user.len();
        let arrivals = Arrivals::new(sc, plan.index, plan.cells);
        let mut cell = Self {
            sc,
            control,
            core,
            rng,
            now_ms: 0,
            queue: Wheel::new(),
            idle: (0..plan.users as u32).rev().collect(),
            users,
            device_user,
            agents,
            calls: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            by_core: FxHashMap::default(),
            up_last_ms: vec![0; device_count],
            down_last_ms: vec![0; device_count],
            active: 0,
            arrivals,
            core_timer_ms: None,
            fixed_latency_ms: sc.network.fixed_latency_ms(),
            latency_run: (0, 0),
            unpublished: (0, 0),
            stats: Stats::new((sc.report.interval_s * 1000.0).round().max(1.0) as u64),
            plan,
        };
        cell.schedule_faults();
        if let Some(t) = cell.arrivals.next(&mut cell.rng) {
            cell.push(t, Ev::Arrival);
        }
        cell
    }

    fn push(&mut self, at_ms: u64, ev: Ev) {
        self.queue.push(at_ms, ev);
    }

    /// Runs until every call has ended (or the run is interrupted).
    pub fn run(mut self) -> Stats {
        let mut handled: u64 = 0;
        // Bounded: arrivals stop (by count or duration), every call ends by a scripted action or
        // a core deadline, and each event schedules finitely many more.
        while let Some((at_ms, ev)) = self.queue.pop() {
            handled += 1;
            if handled.is_multiple_of(INTERRUPT_CHECK_EVENTS) {
                self.publish();
                if self.control.interrupt.load(AtomicOrdering::Relaxed) {
                    self.interrupt();
                    break;
                }
            }
            self.now_ms = at_ms;
            match ev {
                Ev::Arrival => self.arrival(),
                Ev::Request { call, device, req } => self.request(call, device, req),
                Ev::Reply {
                    call,
                    device,
                    placed,
                    tag,
                    result,
                } => self.reply(call, device, placed, tag, result),
                Ev::Deliver(d) => self.deliver(d),
                Ev::Timer { device, timer } => self.timer(device, timer),
                Ev::CoreTimer => {
                    self.core_timer_ms = None;
                    self.core.handle_timeout(self.now_ms);
                    self.after_core();
                }
                Ev::Connectivity { device, online } => self.connectivity(device, online),
            }
        }
        self.flush_latency();
        self.publish();
        // Calls still alive with an empty queue were lost by the server.
        let lost = self.calls.iter().filter(|c| c.is_some()).count() as u64;
        self.stats.lost += lost;
        self.stats
    }

    /// Adds the calls started and ended since the last time to the shared progress counts.
    fn publish(&mut self) {
        let (started, ended) = std::mem::take(&mut self.unpublished);
        self.control
            .started
            .fetch_add(started, AtomicOrdering::Relaxed);
        self.control.ended.fetch_add(ended, AtomicOrdering::Relaxed);
    }

    fn interrupt(&mut self) {
        let now = self.now_ms;
        for slot in 0..self.calls.len() {
            if let Some(c) = &self.calls[slot] {
                let key = Key {
                    slot: slot as u32,
                    generation: c.generation,
                };
                self.finish(key, now, Outcome::Interrupted);
            }
        }
        self.queue.clear();
    }

    // ----- the network --------------------------------------------------------------------

    /// One-way delay of a message sent now, with the profile in force and loss as resends.
    fn latency_ms(&mut self) -> u64 {
        if let Some(fixed) = self.fixed_latency_ms {
            return fixed;
        }
        let net = &self.sc.network;
        let now_s = self.now_ms as f64 / 1000.0;
        let mut dist: &Dist = &net.latency_ms;
        let mut loss = net.loss_pct;
        for phase in &net.schedule {
            if now_s >= phase.at_s && now_s < phase.at_s + phase.duration_s {
                if let Some(d) = &phase.latency_ms {
                    dist = d;
                }
                if let Some(l) = phase.loss_pct {
                    loss = l;
                }
            }
        }
        let mut delay = dist.sample_ms(&mut self.rng);
        // Each loss costs one retransmission timeout; at most a few in a row (loss < 100%).
        for _ in 0..8 {
            if loss > 0.0 && self.rng.random::<f64>() * 100.0 < loss {
                delay += net.retransmit_ms;
            } else {
                break;
            }
        }
        delay
    }

    fn send(&mut self, call: Key, device: DeviceId, req: Req) {
        let lat = self.latency_ms();
        let last = &mut self.up_last_ms[device.0 as usize];
        let at = (self.now_ms + lat).max(*last);
        *last = at;
        self.stats.requests += 1;
        self.push(at, Ev::Request { call, device, req });
    }

    /// When a message sent now to `device` arrives, in order on its connection.
    fn downstream(&mut self, device: DeviceId) -> u64 {
        let lat = self.latency_ms();
        let last = &mut self.down_last_ms[device.0 as usize];
        let at = (self.now_ms + lat).max(*last);
        *last = at;
        let latency = (at - self.now_ms).max(1);
        match &mut self.latency_run {
            (value, count) if *value == latency => *count += 1,
            _ => {
                self.flush_latency();
                self.latency_run = (latency, 1);
            }
        }
        at
    }

    fn flush_latency(&mut self) {
        let (value, count) = std::mem::take(&mut self.latency_run);
        if count > 0 {
            let _ = self.stats.event_latency_ms.record_n(value, count);
        }
    }

    // ----- arrivals ---------------------------------------------------------------------------

    fn arrival(&mut self) {
        if let Some(t) = self.arrivals.next(&mut self.rng) {
            self.push(t, Ev::Arrival);
        }
        let now = self.now_ms;
        let mix = agent::pick_mix(self.sc, &mut self.rng);
        let participants = self.sc.calls.mix[mix].participants as usize;
        let call_type = self.sc.calls.mix[mix].call_type;
        let capped = self.plan.concurrent_max.is_some_and(|m| self.active >= m);
        if capped || self.idle.len() < participants {
            self.stats.record_throttled(now);
            return;
        }
        let caller = self.take_idle();
        let callees: SmallVec<[u32; 4]> = (1..participants).map(|_| self.take_idle()).collect();
        let script = Script::draw(self.sc, callees.len(), &mut self.rng);
        let expected = expected(&script, self.sc, participants);
        let key = self.alloc(SimCall {
            generation: 0,
            caller,
            callees,
            script,
            core: None,
            placed_ms: now,
            ringing_ms: None,
            answered: false,
            transfer_target: None,
            expected,
        });
        self.active += 1;
        self.stats.record_start(now);
        self.unpublished.0 += 1;
        let c = self.get(key).expect("just allocated");
        let place = if participants > 2 {
            let invitees: Vec<UserId> = c.callees.iter().map(|&u| self.user_id(u)).collect();
            let mut p = PlaceCall::direct(invitees[0].clone(), call_type);
            p.invitees = invitees;
            p
        } else {
            PlaceCall::direct(self.user_id(c.callees[0]), call_type)
        };
        let device = self.users[caller as usize].first_device;
        self.send(key, device, Req::Cell(Box::new(Op::Place(place))));
    }

    fn take_idle(&mut self) -> u32 {
        let i = self.rng.random_range(0..self.idle.len());
        let u = self.idle.swap_remove(i);
        self.users[u as usize].engaged = true;
        u
    }

    fn release_user(&mut self, u: u32) {
        if self.users[u as usize].engaged {
            self.users[u as usize].engaged = false;
            self.idle.push(u);
        }
    }

    fn alloc(&mut self, mut call: SimCall) -> Key {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.calls.push(None);
                self.gens.push(0);
                (self.calls.len() - 1) as u32
            }
        };
        call.generation = self.gens[slot as usize];
        self.calls[slot as usize] = Some(call);
        Key {
            slot,
            generation: self.gens[slot as usize],
        }
    }

    /// The live call `key` names, if it has not ended.
    fn get(&self, key: Key) -> Option<&SimCall> {
        self.calls[key.slot as usize]
            .as_ref()
            .filter(|c| c.generation == key.generation)
    }

    fn get_mut(&mut self, key: Key) -> Option<&mut SimCall> {
        self.calls[key.slot as usize]
            .as_mut()
            .filter(|c| c.generation == key.generation)
    }

    fn user_id(&self, local: u32) -> UserId {
        self.users[local as usize].id.clone()
    }

    /// The local index of a user named `u<global>` in this cell.
    fn local_of(&self, id: &UserId) -> Option<u32> {
        let global: u64 = id.as_str().strip_prefix('u')?.parse().ok()?;
        let local = global.checked_sub(self.plan.first_user)?;
        (local < self.plan.users).then_some(local as u32)
    }

    // ----- the server ----------------------------------------------------------------------------

    fn request(&mut self, call: Key, device: DeviceId, req: Req) {
        let tag = req.tag();
        let op = match req {
            Req::Agent(r) => r.op(),
            Req::Cell(op) => *op,
        };
        let placed = matches!(op, Op::Place(_));
        let result = self.core.handle_request(self.now_ms, device, op);
        if let (true, Ok(Reply::Placed { call: id, .. })) = (placed, &result) {
            // The simulator sees the whole system: the call is known before any device hears
            // of it, so a callee's invitation always finds its script.
            self.by_core.insert(*id, call);
            if let Some(c) = self.get_mut(call) {
                c.core = Some(*id);
            }
        }
        // Only the replies someone waits for travel: the cell's to its place requests, and the
        // agent's to its accepts (the session starts on their success).
        if placed || tag.awaits_reply() {
            let at = self.downstream(device);
            let result = result.map(|_| ()).map_err(|e| e.code());
            self.push(
                at,
                Ev::Reply {
                    call,
                    device,
                    placed,
                    tag,
                    result,
                },
            );
        }
        self.after_core();
    }

    /// Sends the core's deliveries on their way and re-arms its deadline.
    fn after_core(&mut self) {
        while let Some(d) = self.core.poll_event() {
            // Every delivery travels (its latency is sampled, recorded and keeps the connection's
            // order), but only those a simulated device reacts to need a place in the queue.
            let at = self.downstream(d.device);
            self.stats.deliveries += 1;
            let reacts = matches!(
                d.event,
                Event::Incoming { .. }
                    | Event::Ended { .. }
                    | Event::Participant {
                        state: ParticipantState::Ringing | ParticipantState::Joined,
                        ..
                    }
            );
            if reacts {
                self.push(at, Ev::Deliver(Box::new(d)));
            }
        }
        if let Some(t) = self.core.poll_timeout()
            && self.core_timer_ms.is_none_or(|armed| t < armed)
        {
            self.core_timer_ms = Some(t);
            self.push(t, Ev::CoreTimer);
        }
    }

    // ----- devices ---------------------------------------------------------------------------------

    fn reply(
        &mut self,
        call: Key,
        device: DeviceId,
        placed: bool,
        tag: Tag,
        result: Result<(), u16>,
    ) {
        let Some(c) = self.get(call) else {
            return;
        };
        if !placed {
            let now = self.now_ms;
            self.agents[device.0 as usize].handle_reply(now, tag, result);
            self.drain(call, device);
            return;
        }
        match result {
            Ok(_) => {
                let id = c.core.expect("a placed call has its core id");
                let part = c.script.caller_part(c.placed_ms, c.callees.len() > 1);
                let now = self.now_ms;
                self.agents[device.0 as usize]
                    .handle_script(now, id, part)
                    .expect("a simulated device is in one call at a time");
                self.drain(call, device);
            }
            Err(code) => {
                let outcome = match code {
                    486 => Outcome::Busy,
                    480 => Outcome::Unavailable,
                    _ => Outcome::Rejected,
                };
                self.finish(call, self.now_ms, outcome);
            }
        }
    }

    /// Carries out what `device`'s agent decided: its requests first, in order, then its new
    /// timers into the queue (the order the simulator has always pushed them in).
    fn drain(&mut self, call: Key, device: DeviceId) {
        let d = device.0 as usize;
        while let Some(out) = self.agents[d].poll_output() {
            match out {
                Output::Request(req) => self.send(call, device, Req::Agent(req)),
                Output::Transfer { call: id } => self.transfer(call, device, id),
            }
        }
        while let Some((at, timer)) = self.agents[d].poll_timer() {
            self.push(at, Ev::Timer { device, timer });
        }
    }

    fn timer(&mut self, device: DeviceId, timer: agent::Timer) {
        // A timer of a call that has finished finds no key (and its agent forgot the call).
        let Some(&key) = self.by_core.get(&timer.call()) else {
            return;
        };
        let now = self.now_ms;
        self.agents[device.0 as usize].handle_timer(now, timer);
        self.drain(key, device);
    }

    // Taken in its box, as it left the queue: unboxing it first would copy it once more.
    #[allow(clippy::boxed_local)]
    fn deliver(&mut self, d: Box<Delivery>) {
        let Some(&key) = self.by_core.get(&d.event.call()) else {
            return;
        };
        if self.get(key).is_none() {
            return;
        }
        let now = self.now_ms;
        let user = self.device_user[d.device.0 as usize];
        let caller = self.get(key).expect("checked").caller;
        match &d.event {
            Event::Incoming { info } => self.assign_callee(key, user, d.device, info.call),
            Event::Participant {
                user: who,
                state: ParticipantState::Joined,
                ..
            } if user == caller => self.backstop(key, who),
            _ => {}
        }
        self.agents[d.device.0 as usize].handle_event(now, &d.event);
        self.drain(key, d.device);
        match d.event {
            Event::Participant {
                user: who,
                state: ParticipantState::Ringing,
                ..
            } => {
                let from_caller = self.local_of(&who) == Some(user);
                let c = self.get_mut(key).expect("checked");
                if c.caller == user && c.ringing_ms.is_none() && !from_caller {
                    c.ringing_ms = Some(now);
                    let setup = now - c.placed_ms;
                    self.stats.record_setup(now, setup);
                }
            }
            Event::Participant {
                state: ParticipantState::Joined,
                call: id,
                ..
            } if user == caller => self.answered(key, id),
            Event::Ended { reason, .. } => {
                // The first member to hear of the end closes the call (the caller may have
                // left a group call that went on without it).
                let answered = self.get(key).expect("checked").answered;
                self.finish(key, self.now_ms, Outcome::of_end(&reason, answered));
            }
            _ => {}
        }
    }

    /// Gives the deciding device of an invitee (its first) the invitee's part of the script.
    fn assign_callee(&mut self, key: Key, user: u32, device: DeviceId, id: CallId) {
        if self.users[user as usize].first_device != device {
            return;
        }
        let c = self.get(key).expect("checked");
        let behaviour = match c.callees.iter().position(|&u| u == user) {
            Some(i) => c.script.callees[i],
            None => match c.transfer_target {
                Some((t, b)) if t == user => b,
                _ => return,
            },
        };
        let now = self.now_ms;
        self.agents[device.0 as usize]
            .handle_script(now, id, Part::Callee(behaviour))
            .expect("a simulated device is in one call at a time");
    }

    /// With faults, each callee leaves on its own a little after the caller would have, so that a
    /// call whose caller vanished (only faults make callers vanish) still ends.
    fn backstop(&mut self, key: Key, who: &UserId) {
        if self.sc.faults.is_empty() {
            return;
        }
        let c = self.get(key).expect("checked");
        let (caller, talk, id) = (c.caller, c.script.talk_ms, c.core);
        let Some(callee) = self.local_of(who).filter(|u| *u != caller) else {
            return;
        };
        let (Some(id), device) = (id, self.users[callee as usize].first_device) else {
            return;
        };
        let now = self.now_ms;
        self.agents[device.0 as usize]
            .handle_action(now, id, now + talk + 5_000, Action::Hangup)
            .expect("a simulated device is in one call at a time");
        self.drain(key, device);
    }

    /// The caller heard the first answer: the in-call actions' times are drawn now, and each is
    /// handed to its side's agent in the order drawn.
    fn answered(&mut self, key: Key, id: CallId) {
        let now = self.now_ms;
        let c = self.get_mut(key).expect("checked");
        if c.answered {
            return;
        }
        c.answered = true;
        let (ringing_ms, talk, actions) = (c.ringing_ms, c.script.talk_ms, c.script.actions);
        let (caller, first_callee) = (c.caller, c.callees.first().copied());
        let caller_dev = self.users[caller as usize].first_device;
        let callee_dev = first_callee.map(|u| self.users[u as usize].first_device);
        if let Some(r) = ringing_ms {
            let _ = self.stats.ring_to_answer_ms.record((now - r).max(1));
        }
        let plan = InCall::draw(self.sc, now, talk, actions, &mut self.rng);
        for (at, side, action) in plan.steps() {
            let device = match side {
                Side::Caller => caller_dev,
                Side::Callee => match callee_dev {
                    Some(d) => d,
                    None => continue,
                },
            };
            self.agents[device.0 as usize]
                .handle_action(now, id, at, action)
                .expect("a script's in-call actions fit an agent's bounds");
            self.drain(key, device);
        }
    }

    /// The callee's scripted blind transfer is due: to an idle user of the cell, who answers by a
    /// callee's script of its own. Skipped in group calls, when nobody is idle, and unless the
    /// call is app-to-phone (Stringee's condition for a transfer).
    fn transfer(&mut self, key: Key, device: DeviceId, id: CallId) {
        let Some(c) = self.get(key) else {
            return;
        };
        let Some(u) = c.callees.first().copied() else {
            return;
        };
        if c.callees.len() > 1 || self.idle.is_empty() {
            return;
        }
        if self.users[u as usize].phone == self.users[c.caller as usize].phone {
            return;
        }
        let target = self.take_idle();
        let behaviour = Script::draw_callee(self.sc, &mut self.rng);
        let c = self.get_mut(key).expect("checked");
        c.transfer_target = Some((target, behaviour));
        c.expected = None;
        let target = self.user_id(target);
        let transfer = Op::Transfer { call: id, target };
        self.send(key, device, Req::Cell(Box::new(transfer)));
    }

    fn finish(&mut self, key: Key, at_ms: u64, outcome: Outcome) {
        if self.get(key).is_none() {
            return;
        }
        let c = self.calls[key.slot as usize].take().expect("checked");
        if let Some(id) = c.core {
            self.by_core.remove(&id);
        }
        if let Some(id) = c.core {
            // The call's scripts end with it, whether or not the devices have heard of the end
            // yet. Only a member's first device keeps state for a call: it places, decides and
            // is the one in the session; the others only ring.
            let members = std::iter::once(c.caller)
                .chain(c.callees.iter().copied())
                .chain(c.transfer_target.map(|(t, _)| t));
            for u in members {
                let d = self.users[u as usize].first_device;
                self.agents[d.0 as usize].forget(id);
            }
        }
        self.gens[key.slot as usize] = self.gens[key.slot as usize].wrapping_add(1);
        self.free.push(key.slot);
        self.active -= 1;
        let success = match c.expected {
            Some(e) => e == outcome,
            None => outcome.is_clean(),
        };
        self.stats.record_end(at_ms, outcome, success);
        self.unpublished.1 += 1;
        self.release_user(c.caller);
        for u in c.callees {
            self.release_user(u);
        }
        if let Some((t, _)) = c.transfer_target {
            self.release_user(t);
        }
    }

    // ----- faults --------------------------------------------------------------------------------

    fn schedule_faults(&mut self) {
        let devices = self.device_user.len() as u32;
        for fault in &self.sc.faults {
            let (at_s, share, back_s) = match *fault {
                Fault::Partition {
                    at_s,
                    duration_s,
                    share,
                } => (at_s, share, duration_s),
                Fault::Crash {
                    at_s,
                    share,
                    reconnect_after_s,
                } => (at_s, share, reconnect_after_s),
            };
            let at = (at_s * 1000.0).round() as u64;
            let back = at + (back_s * 1000.0).round() as u64;
            for d in 0..devices {
                if self.rng.random::<f64>() < share {
                    let device = DeviceId(d);
                    self.push(
                        at,
                        Ev::Connectivity {
                            device,
                            online: false,
                        },
                    );
                    self.push(
                        back,
                        Ev::Connectivity {
                            device,
                            online: true,
                        },
                    );
                }
            }
        }
    }

    fn connectivity(&mut self, device: DeviceId, online: bool) {
        let result = if online {
            self.core.handle_connect(self.now_ms, device)
        } else {
            self.core.handle_disconnect(self.now_ms, device)
        };
        debug_assert!(result.is_ok(), "simulated devices exist");
        self.after_core();
        if !online {
            // Calls that ended with nobody online to hear it are closed from the core's view.
            let user = self.device_user[device.0 as usize];
            // The core never keeps a call whose members are all gone; if it ended it with nobody
            // online to hear, close it here from the server's view.
            let ended: Vec<(Key, Outcome)> = self
                .calls
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let c = c.as_ref()?;
                    let involved = c.caller == user || c.callees.contains(&user);
                    let snap = self.core.call_snapshot(c.core?)?;
                    let reason = snap.end_reason.filter(|_| involved)?;
                    let key = Key {
                        slot: i as u32,
                        generation: c.generation,
                    };
                    Some((key, Outcome::of_end(&reason, c.answered)))
                })
                .collect();
            for (key, outcome) in ended {
                self.finish(key, self.now_ms, outcome);
            }
        }
    }
}

/// A simulated device's agent; the cell keeps its timers, in its one event queue.
fn device_agent(user: &UserId) -> Agent {
    let options = agent::Options {
        timers: TimerHome::Driver,
        ..agent::Options::default()
    };
    Agent::new(user.clone(), options)
}

fn user_config(sc: &Scenario, rng: &mut ChaCha8Rng) -> UserConfig {
    let p = &sc.population;
    let plan = if p.plans.is_empty() {
        Plan::full()
    } else {
        let mut x: f64 = rng.random();
        let mut chosen = p.plans[p.plans.len() - 1].plan;
        for s in &p.plans {
            if x < s.share {
                chosen = s.plan;
                break;
            }
            x -= s.share;
        }
        chosen
    };
    UserConfig {
        plan,
        endpoint: if rng.random::<f64>() < p.phone_share {
            Endpoint::Phone
        } else {
            Endpoint::App
        },
        call_waiting: rng.random::<f64>() < p.call_waiting_share,
        end_call_permission: false,
    }
}
