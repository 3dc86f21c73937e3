//! The call lifecycle as a sans-IO state machine.
//!
//! Nothing here knows about tokio, sockets, GStreamer or WebRTC. Time enters only as an argument
//! (`now_ms`, milliseconds on any monotonic clock the adapter chooses); the core answers each
//! request at once, queues [`Delivery`]s for devices, and says when it next needs to be woken
//! ([`Core::poll_timeout`]). The shape follows quinn-proto and str0m:
//!
//! ```text
//!   adapter ── handle_request / handle_connect / handle_disconnect / handle_timeout ──▶ Core
//!   adapter ◀── Result<Reply, CallError>,  poll_event() → Delivery,  poll_timeout() ── Core
//! ```
//!
//! Determinism: the same sequence of calls with the same `now_ms` values yields the same replies,
//! the same deliveries in the same order, and the same call ids. The core iterates only over
//! vectors kept in a defined order (members in invitation order, devices in registration order),
//! never over a hash map.
//!
//! Every refusal is decided before anything changes: a handler first checks, then acts, so a
//! refused request leaves no trace and emits no event.

mod call;
mod directory;
mod error;
mod event;
mod fault;
mod ids;
mod in_call;
mod lifecycle;
mod limits;
mod op;
mod policy;
mod validate;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

pub use directory::{Endpoint, Plan, UserConfig};
pub use error::{CallError, Feature, Forbidden};
pub use event::{
    Alert, CallInfo, CallStatus, CallType, Delivery, DetachReason, EndReason, Event, Media,
    ParticipantState, SignalKind, TransferOutcome,
};
#[doc(hidden)]
pub use fault::Fault;
pub use ids::{CallId, DeviceId, GroupId, UserId};
pub use limits::Limits;
pub use op::{CallSnapshot, Headers, MemberSnapshot, Op, PlaceCall, Reply};
pub use policy::{Capability, DTMF_CHARACTERS, Policy};

use call::Call;
use directory::{Device, User};
use fault::Faults;

/// A deadline: `(deadline_ms, call, member index)`. Entries are never removed early; a fired
/// entry whose member is no longer pending with that deadline is stale and ignored.
type Timer = Reverse<(u64, CallId, usize)>;

/// The reference call server's brain.
pub struct Core {
    limits: Limits,
    now_ms: u64,
    users: HashMap<UserId, User>,
    devices: Vec<Device>,
    groups: HashMap<GroupId, Vec<UserId>>,
    /// Boxed: a request takes its call out of the table and puts it back (see
    /// [`Core::handle_request`]), which moves a pointer instead of the whole record.
    calls: HashMap<CallId, Box<Call>>,
    /// Ended calls, oldest first, at most `ended_calls_kept_max`.
    ended_order: VecDeque<CallId>,
    ended: HashMap<CallId, Box<Call>>,
    next_call: u64,
    timers: BinaryHeap<Timer>,
    events: VecDeque<Delivery>,
    /// Deliberate bugs switched on by the property suite ([`Core::inject_fault`]); empty otherwise.
    faults: Faults,
}

impl Core {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            now_ms: 0,
            users: HashMap::default(),
            devices: Vec::new(),
            groups: HashMap::default(),
            calls: HashMap::default(),
            ended_order: VecDeque::new(),
            ended: HashMap::default(),
            next_call: 1,
            timers: BinaryHeap::new(),
            events: VecDeque::new(),
            faults: Faults::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Test-only: switches on a deliberate bug, so that the property suite can prove it catches
    /// it (see `fault.rs`). Never call this outside tests.
    #[doc(hidden)]
    pub fn inject_fault(&mut self, fault: Fault) {
        self.faults.insert(fault);
    }

    #[inline(always)]
    fn fault(&self, fault: Fault) -> bool {
        self.faults.has(fault)
    }

    /// The latest time the core has been given.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    // ----- administration -------------------------------------------------------------------

    /// Registers a user. Fails with 400 on a malformed name or plan, 409-free: a second
    /// registration of the same name is a 400.
    pub fn add_user(&mut self, name: &str, config: UserConfig) -> Result<UserId, CallError> {
        directory::check_name("user", name, self.limits.name_bytes_max)?;
        if config.plan.max_participants < 2
            || config.plan.max_participants > self.limits.participants_per_call_max
        {
            return Err(CallError::bad(
                "plan.max_participants",
                format!(
                    "must be 2..={}, not {}",
                    self.limits.participants_per_call_max, config.plan.max_participants
                ),
            ));
        }
        let id = UserId::new(name);
        if self.users.contains_key(&id) {
            return Err(CallError::bad("user", format!("{name} already exists")));
        }
        if self.users.len() >= self.limits.users_max {
            return Err(CallError::Capacity("users_max"));
        }
        self.users.insert(
            id.clone(),
            User {
                config,
                devices: SmallVec::new(),
                calls: SmallVec::new(),
            },
        );
        Ok(id)
    }

    /// Registers a device of `user`; it starts disconnected (see [`Core::handle_connect`]).
    pub fn add_device(&mut self, user: &UserId, label: &str) -> Result<DeviceId, CallError> {
        directory::check_name("device", label, self.limits.name_bytes_max)?;
        let u = self
            .users
            .get_mut(user)
            .ok_or_else(|| CallError::not_found("user", user))?;
        if u.devices.len() >= self.limits.devices_per_user_max {
            return Err(CallError::Capacity("devices_per_user_max"));
        }
        let id = DeviceId(u32::try_from(self.devices.len()).expect("device count fits u32"));
        u.devices.push(id);
        self.devices.push(Device {
            user: user.clone(),
            label: label.to_owned(),
            online: false,
            removed: false,
        });
        Ok(id)
    }

    /// Removes a device for good. Refused with 404 for an unknown or already removed device and
    /// with 422 while it is connected (the adapter disconnects it first, so that its calls see
    /// it leave as they would see any device go).
    pub fn remove_device(&mut self, device: DeviceId) -> Result<(), CallError> {
        let d = self
            .devices
            .get(device.0 as usize)
            .filter(|d| !d.removed)
            .ok_or_else(|| CallError::not_found("device", device))?;
        if d.online {
            return Err(CallError::state("remove_device", "the device is connected"));
        }
        let user = d.user.clone();
        if let Some(u) = self.users.get_mut(&user) {
            u.devices.retain(|x| *x != device);
        }
        self.devices[device.0 as usize].removed = true;
        Ok(())
    }

    /// Removes a user with their devices and group memberships. Refused with 404 for an unknown
    /// user, and with 422 while any of their devices is connected or they are attached to a
    /// live call (ringing, notified or in session): removal never changes a call under way.
    pub fn remove_user(&mut self, user: &UserId) -> Result<(), CallError> {
        let u = self
            .users
            .get(user)
            .ok_or_else(|| CallError::not_found("user", user))?;
        if u.devices.iter().any(|d| self.devices[d.0 as usize].online) {
            return Err(CallError::state("remove_user", "a device is connected"));
        }
        if !u.calls.is_empty() {
            return Err(CallError::state("remove_user", "the user is in a call"));
        }
        let u = self.users.remove(user).expect("checked above");
        for d in u.devices {
            self.devices[d.0 as usize].removed = true;
        }
        for members in self.groups.values_mut() {
            members.retain(|m| m != user);
        }
        Ok(())
    }

    /// Removes a group; live calls placed in it go on (they keep their own member lists).
    pub fn remove_group(&mut self, group: &GroupId) -> Result<(), CallError> {
        self.groups
            .remove(group)
            .map(|_| ())
            .ok_or_else(|| CallError::not_found("group", group))
    }

    /// Every registered (not removed) device, in registration order.
    pub fn device_ids(&self) -> impl Iterator<Item = DeviceId> + '_ {
        self.devices
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.removed)
            .map(|(i, _)| DeviceId(i as u32))
    }

    /// Users known, in no particular order.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Defines a group and its members (group calls are placed in a group by its members).
    pub fn add_group(&mut self, name: &str, members: &[UserId]) -> Result<GroupId, CallError> {
        directory::check_name("group", name, self.limits.name_bytes_max)?;
        if members.len() > self.limits.group_members_max {
            return Err(CallError::TooLarge {
                field: "group.members",
                len: members.len(),
                max: self.limits.group_members_max,
            });
        }
        if let Some(m) = members.iter().find(|m| !self.users.contains_key(*m)) {
            return Err(CallError::not_found("user", m));
        }
        let id = GroupId::new(name);
        if self.groups.contains_key(&id) {
            return Err(CallError::bad("group", format!("{name} already exists")));
        }
        let mut sorted = members.to_vec();
        sorted.sort();
        sorted.dedup();
        self.groups.insert(id.clone(), sorted);
        Ok(id)
    }

    /// Changes a user's settings (plan, permissions, call waiting); calls under way keep going.
    pub fn set_user_config(&mut self, user: &UserId, config: UserConfig) -> Result<(), CallError> {
        let u = self
            .users
            .get_mut(user)
            .ok_or_else(|| CallError::not_found("user", user))?;
        u.config = config;
        Ok(())
    }

    pub fn user_config(&self, user: &UserId) -> Option<&UserConfig> {
        self.users.get(user).map(|u| &u.config)
    }

    /// The user a device belongs to.
    pub fn device_user(&self, device: DeviceId) -> Option<&UserId> {
        self.devices.get(device.0 as usize).map(|d| &d.user)
    }

    pub fn device_label(&self, device: DeviceId) -> Option<&str> {
        self.devices
            .get(device.0 as usize)
            .map(|d| d.label.as_str())
    }

    pub fn devices_of(&self, user: &UserId) -> &[DeviceId] {
        self.users.get(user).map_or(&[], |u| u.devices.as_slice())
    }

    /// Calls alive right now.
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    // ----- inputs -----------------------------------------------------------------------------

    /// A device comes online. Pending invitations and notifications of its user are delivered to
    /// it at once, so a phone that reconnects while a call rings starts ringing too.
    pub fn handle_connect(&mut self, now_ms: u64, device: DeviceId) -> Result<(), CallError> {
        self.advance(now_ms);
        lifecycle::connect(self, device)
    }

    /// A device goes offline. A session it was in loses its member (which may end the call);
    /// it stops ringing without an event (it could not receive one).
    pub fn handle_disconnect(&mut self, now_ms: u64, device: DeviceId) -> Result<(), CallError> {
        self.advance(now_ms);
        lifecycle::disconnect(self, device)
    }

    /// A device asks for an operation. The reply comes back at once; events for devices are
    /// queued for [`Core::poll_event`].
    pub fn handle_request(
        &mut self,
        now_ms: u64,
        device: DeviceId,
        op: Op,
    ) -> Result<Reply, CallError> {
        self.advance(now_ms);
        let d = self
            .devices
            .get(device.0 as usize)
            .ok_or_else(|| CallError::not_found("device", device))?;
        if !d.online {
            return Err(CallError::NotConnected);
        }
        let user = d.user.clone();
        if let Some(capability) = self.limits.policy.lacking(&op) {
            return Err(CallError::NotInDialect(capability));
        }
        let id = match op {
            Op::Place(place) => return lifecycle::place(self, device, &user, place),
            ref other => other.call().expect("every op but place names a call"),
        };
        // Checked before anything changes, like every other refusal.
        let headers = match op.headers() {
            Some(h) if !h.is_empty() => {
                validate::headers(h, &self.limits)?;
                Some((op.name(), h.clone()))
            }
            _ => None,
        };
        let Some(mut call) = self.calls.remove(&id) else {
            return Err(self.missing_call(id, &user));
        };
        let first = self.events.len();
        let result = self.dispatch(&mut call, device, &user, op);
        if result.is_ok()
            && let Some((with, headers)) = headers
        {
            self.attach_headers(first, id, &user, with, headers);
        }
        self.settle(call);
        result
    }

    /// Fires every deadline due at `now_ms` (ring timeouts, early-media limits).
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.advance(now_ms);
        // Bounded: each pass pops one timer, and the heap holds a finite number of them.
        while let Some(&Reverse((deadline_ms, call_id, member))) = self.timers.peek() {
            if deadline_ms > self.now_ms {
                break;
            }
            self.timers.pop();
            if let Some(mut call) = self.calls.remove(&call_id) {
                lifecycle::deadline(self, &mut call, member, deadline_ms);
                self.settle(call);
            }
        }
    }

    // ----- outputs ----------------------------------------------------------------------------

    /// The next event for a device, in the order produced.
    pub fn poll_event(&mut self) -> Option<Delivery> {
        self.events.pop_front()
    }

    /// When [`Core::handle_timeout`] must next be called, if anything is waiting on time.
    pub fn poll_timeout(&mut self) -> Option<u64> {
        // Drop stale deadlines at the top so that adapters are not woken for nothing.
        while let Some(&Reverse((deadline_ms, call_id, member))) = self.timers.peek() {
            let live = self.calls.get(&call_id).is_some_and(|c| {
                let m = &c.members[member];
                m.state.is_pending() && m.deadline_ms == Some(deadline_ms)
            });
            if live {
                return Some(deadline_ms);
            }
            self.timers.pop();
        }
        None
    }

    /// The state of a call, live or recently ended, without authorization (for tests, traces and
    /// the simulator; devices use [`Op::GetCall`]).
    pub fn call_snapshot(&self, call: CallId) -> Option<CallSnapshot> {
        self.calls
            .get(&call)
            .or_else(|| self.ended.get(&call))
            .map(|c| c.snapshot())
    }

    // ----- internals ----------------------------------------------------------------------------

    fn advance(&mut self, now_ms: u64) {
        // Time never goes back: an adapter whose clock jitters backwards is clamped, not trusted.
        self.now_ms = self.now_ms.max(now_ms);
    }

    fn missing_call(&self, id: CallId, user: &UserId) -> CallError {
        match self.ended.get(&id) {
            Some(c) if c.member_index(user).is_none() => CallError::Forbidden(Forbidden::NotMember),
            Some(_) => CallError::CallEnded,
            None => CallError::not_found("call", id),
        }
    }

    fn dispatch(
        &mut self,
        call: &mut Call,
        device: DeviceId,
        user: &UserId,
        op: Op,
    ) -> Result<Reply, CallError> {
        let Some(idx) = call.member_index(user) else {
            if self.fault(Fault::NonMemberMayEnd) && matches!(op, Op::EndForAll { .. }) {
                self.end_call(call, EndReason::EndedForEveryone { by: user.clone() }); // FAULT
                return Ok(Reply::Done);
            }
            return Err(CallError::Forbidden(Forbidden::NotMember));
        };
        match op {
            Op::Place(_) => unreachable!("placing is handled before a call is looked up"),
            Op::GetCall { .. } => Ok(Reply::Call(call.snapshot())),
            Op::Ringing { .. } => lifecycle::ringing(self, call, idx, device),
            Op::Accept { .. } => lifecycle::accept(self, call, idx, device),
            Op::Decline { code, .. } => lifecycle::decline(self, call, idx, device, code),
            Op::Cancel { .. } => lifecycle::cancel(self, call, idx, device),
            Op::Hangup { .. } => lifecycle::hangup(self, call, idx, device),
            Op::EndForAll { .. } => lifecycle::end_for_all(self, call, idx, device),
            Op::Join { .. } => lifecycle::join(self, call, idx, device),
            Op::Invite { users, .. } => lifecycle::invite(self, call, idx, device, users),
            Op::StartSession { .. } => in_call::start_session(self, call, idx, device),
            Op::Hold { on_hold, .. } => in_call::hold(self, call, idx, device, on_hold),
            Op::Mute { media, muted, .. } => in_call::mute(self, call, idx, device, media, muted),
            Op::Dtmf { digits, .. } => in_call::dtmf(self, call, idx, device, digits),
            Op::Info { mime, body, .. } => in_call::info(self, call, idx, device, mime, body),
            Op::Message { text, .. } => in_call::message(self, call, idx, device, text),
            Op::CustomData { data, .. } => in_call::custom_data(self, call, idx, device, data),
            Op::EarlyMedia { .. } => in_call::early_media(self, call, idx, device),
            Op::Transfer { target, .. } => in_call::transfer(self, call, idx, device, target),
            Op::Signal { to, kind, body, .. } => {
                in_call::signal(self, call, idx, device, to, kind, body)
            }
        }
    }

    /// Puts a call back after a request or deadline: live calls into the table, ended ones into
    /// the bounded memory of ended calls.
    fn settle(&mut self, call: Box<Call>) {
        if call.status == CallStatus::Ended {
            if self.limits.ended_calls_kept_max == 0 {
                return;
            }
            if self.ended_order.len() >= self.limits.ended_calls_kept_max
                && let Some(old) = self.ended_order.pop_front()
            {
                self.ended.remove(&old);
            }
            self.ended_order.push_back(call.id);
            self.ended.insert(call.id, call);
        } else {
            self.calls.insert(call.id, call);
        }
    }

    /// Queues an event for a device; an offline device cannot receive it, so it is dropped.
    fn emit(&mut self, device: DeviceId, event: Event) {
        if self.devices[device.0 as usize].online {
            self.events.push_back(Delivery {
                device,
                at_ms: self.now_ms,
                event,
            });
        }
    }

    /// Puts an [`Event::Headers`] just before the first event that the request whose events
    /// start at `first` caused at each device of another user: the headers ride on what the
    /// operation sends the other side (the caller's `joined` for an accept, the `ended` of a
    /// hangup, the info itself), and the actor's own devices are not told their own headers.
    fn attach_headers(
        &mut self,
        first: usize,
        call: CallId,
        from: &UserId,
        with: &str,
        headers: Vec<(String, String)>,
    ) {
        let caused: Vec<Delivery> = self.events.drain(first..).collect();
        let mut told: Vec<DeviceId> = Vec::new();
        for delivery in caused {
            let other = self.devices[delivery.device.0 as usize].user != *from;
            if other && !told.contains(&delivery.device) {
                told.push(delivery.device);
                self.events.push_back(Delivery {
                    device: delivery.device,
                    at_ms: delivery.at_ms,
                    event: Event::Headers {
                        call,
                        from: from.clone(),
                        with: with.to_owned(),
                        headers: headers.clone(),
                    },
                });
            }
            self.events.push_back(delivery);
        }
    }

    /// Sends `event` to the session audience (the caller while calling, every joined member),
    /// except the device `except`.
    fn emit_session(&mut self, call: &Call, event: Event, except: Option<DeviceId>) {
        for m in &call.members {
            if m.state.in_session()
                && let Some(d) = m.device.filter(|d| Some(*d) != except)
            {
                self.emit(d, event.clone());
            }
        }
    }

    fn set_status(&mut self, call: &mut Call, status: CallStatus) {
        // Status only moves forward; callers check before asking for a change.
        assert!(status > call.status && status != CallStatus::Ended);
        call.status = status;
        self.emit_session(
            call,
            Event::Status {
                call: call.id,
                status,
            },
            None,
        );
    }

    /// Ends a call: every attached device gets [`Event::Ended`], every user is released. A
    /// transferor whose target still rings learns first that its transfer failed.
    fn end_call(&mut self, call: &mut Call, reason: EndReason) {
        assert!(call.status != CallStatus::Ended, "a call ends once");
        if let Some(t) = call.transfer.take() {
            in_call::tell_transfer_failed(self, call, t, TransferOutcome::ABORTED_CODE);
        }
        let event = Event::Ended {
            call: call.id,
            reason: reason.clone(),
        };
        for i in 0..call.members.len() {
            let m = &mut call.members[i];
            let session = match m.state {
                ParticipantState::Calling
                | ParticipantState::Joined
                | ParticipantState::Transferring { .. } => m.device,
                _ => None,
            };
            let alerted = std::mem::take(&mut m.alerted);
            m.deadline_ms = None;
            let user = m.user.clone();
            for d in session.into_iter().chain(alerted) {
                self.emit(d, event.clone());
            }
            self.release(&user, call.id);
        }
        call.status = CallStatus::Ended;
        call.end_reason = Some(reason);
        call.ended_ms = Some(self.now_ms);
    }

    /// The user no longer takes part in `call`.
    fn release(&mut self, user: &UserId, call: CallId) {
        if let Some(u) = self.users.get_mut(user) {
            u.calls.retain(|c| *c != call);
        }
    }

    /// The user takes part in `call` (ringing, notified or in session).
    fn attach(&mut self, user: &UserId, call: CallId) {
        let u = self.users.get_mut(user).expect("members are known users");
        if !u.calls.contains(&call) {
            // Callers check `calls_per_user_max` (as busy or capacity) before attaching.
            assert!(u.calls.len() < self.limits.calls_per_user_max);
            u.calls.push(call);
        }
    }

    /// In the session of a live call other than the one being handled (which is out of the
    /// table while its request runs, so it is never counted). Takes the user's record as well
    /// as its id: a caller that has the record at hand looks the user up once, not once a
    /// question.
    fn in_other_call(&self, user: &UserId, u: &User) -> bool {
        u.calls.iter().any(|c| {
            self.calls.get(c).is_some_and(|call| {
                call.member_index(user).is_some_and(|i| {
                    matches!(
                        call.members[i].state,
                        ParticipantState::Calling
                            | ParticipantState::Joined
                            | ParticipantState::Transferring { .. }
                    )
                })
            })
        })
    }

    /// Busy for a new invitation: in another call without call waiting, or at the per-user cap
    /// (`u` is `user`'s record, as for [`Core::in_other_call`]).
    fn is_busy(&self, user: &UserId, u: &User) -> bool {
        u.calls.len() >= self.limits.calls_per_user_max
            || (!u.config.call_waiting && self.in_other_call(user, u))
    }

    fn has_online_device(&self, u: &User) -> bool {
        u.devices.iter().any(|d| self.devices[d.0 as usize].online)
    }

    fn online_devices(&self, user: &UserId) -> ids::Devices {
        self.users.get(user).map_or_else(ids::Devices::new, |u| {
            u.devices
                .iter()
                .copied()
                .filter(|d| self.devices[d.0 as usize].online)
                .collect()
        })
    }

    fn arm(&mut self, call: CallId, member: usize, deadline_ms: u64) {
        if self.fault(Fault::RingTimeoutNeverFires) {
            return; // FAULT
        }
        self.timers.push(Reverse((deadline_ms, call, member)));
    }
}
