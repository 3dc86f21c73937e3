//! Invariants of the call lifecycle, checked after every step on what the system under test
//! showed: the answer to the step, the events each device received, and the server's state of
//! every call. They use the model only for the cast (who has call waiting, which device is whose);
//! a fault that the model comparison is switched off for must still trip one of them.
//!
//! What a device "believes" is tracked the way an SDK would: it rings from an incoming call until
//! that call's closing event; it is in a session from its own successful place, accept or join
//! until its closing event; it forgets everything when it goes offline; and it knows the hold and
//! mute state of the others from the events it got, after reading the call when it entered.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::{
    CallId, CallSnapshot, CallStatus, Delivery, DeviceId, EndReason, Event, Forbidden, Media,
    MemberSnapshot, ParticipantState as P, UserId,
};

use crate::model::Step;
use crate::model::{Dev, Outcome, Refusal, USERS, World, user_id};

/// What one step showed.
pub struct Observation {
    pub step: Step,
    /// The call the step is about, as the system under test resolved it.
    pub call: Option<CallId>,
    pub outcome: Option<Outcome>,
    /// The call as the actor read it right after a successful accept or join.
    pub seed: Option<CallSnapshot>,
    pub events: BTreeMap<Dev, Vec<Delivery>>,
    pub snapshots: Vec<CallSnapshot>,
    pub now: u64,
    pub online: BTreeSet<Dev>,
}

/// Hold and mute, as one device believes them of one member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags {
    held: bool,
    audio_muted: bool,
    video_muted: bool,
}

impl Flags {
    fn of(m: &MemberSnapshot) -> Self {
        Self {
            held: m.on_hold,
            audio_muted: m.audio_muted,
            video_muted: m.video_muted,
        }
    }
}

pub struct Observer {
    call_waiting: [bool; USERS],
    devices: BTreeMap<DeviceId, Dev>,
    /// The end each device was told of each call.
    told_end: BTreeMap<(Dev, CallId), EndReason>,
    ringing: BTreeSet<(Dev, CallId)>,
    seated: BTreeSet<(Dev, CallId)>,
    /// Since when each pending invitation (user, call) has been ringing.
    pending_since: BTreeMap<(UserId, CallId), u64>,
    views: BTreeMap<(Dev, CallId), BTreeMap<UserId, Flags>>,
    /// Sessions a device entered without reading the call (a dialect without the call-state
    /// query): it cannot know the hold and mute states from before, so they are not checked.
    unread: BTreeSet<(Dev, CallId)>,
    /// The server's calls after the previous step.
    before: Vec<CallSnapshot>,
    /// The dialect's ring timeout.
    ring_timeout_ms: u64,
    /// How far the server's times may be from the case's (0 with a driven clock).
    slack_ms: u64,
}

fn is_pending(s: &P) -> bool {
    matches!(s, P::Invited | P::Ringing)
}

fn is_seated(s: &P) -> bool {
    matches!(s, P::Calling | P::Joined)
}

impl Observer {
    pub fn new(world: &World) -> Self {
        Self {
            call_waiting: std::array::from_fn(|u| world.setup[u].call_waiting),
            devices: world
                .devices()
                .into_iter()
                .map(|d| (world.device_id(d), d))
                .collect(),
            told_end: BTreeMap::new(),
            ringing: BTreeSet::new(),
            seated: BTreeSet::new(),
            pending_since: BTreeMap::new(),
            views: BTreeMap::new(),
            unread: BTreeSet::new(),
            before: Vec::new(),
            ring_timeout_ms: world.dialect.ring_timeout_ms,
            slack_ms: 0,
        }
    }

    /// The same observer, for a system whose times may be `slack_ms` from the case's (real
    /// time).
    pub fn with_slack_ms(self, slack_ms: u64) -> Self {
        Self { slack_ms, ..self }
    }

    pub fn observe(&mut self, o: &Observation) -> Result<(), String> {
        let result = self.check(o);
        self.before = o.snapshots.clone();
        result
    }

    fn check(&mut self, o: &Observation) -> Result<(), String> {
        self.refusals_change_nothing(o)?;
        self.own_effects(o);
        for (&d, list) in &o.events {
            for delivery in list {
                self.event(o, d, delivery)?;
            }
        }
        self.one_state_one_end(o)?;
        self.one_device_per_user(o)?;
        self.one_call_per_user(o)?;
        self.ringing_stops(o)?;
        self.ring_timeout(o)?;
        self.hold_and_mute_agree(o)
    }

    /// A refused operation leaves no trace: no event, no call changed. A non-member is always
    /// refused.
    fn refusals_change_nothing(&self, o: &Observation) -> Result<(), String> {
        if let (Some((by, _)), Some(call)) = (o.step.actor_and_call(), o.call)
            && let Some(before) = self.before.get(call.0 as usize - 1)
            && !before.members.iter().any(|m| m.user == user_id(by.user))
            && !matches!(
                o.outcome,
                Some(Outcome::Refused(
                    Refusal::Forbidden(Forbidden::NotMember) | Refusal::NotConnected
                ))
            )
        {
            return Err(format!(
                "a non-member changed or saw {call:?}: {:?}",
                o.outcome
            ));
        }
        if matches!(o.outcome, Some(Outcome::Refused(_))) {
            if !o.events.is_empty() {
                return Err(format!("a refused operation sent events: {:?}", o.events));
            }
            if o.snapshots != self.before {
                return Err("a refused operation changed a call".into());
            }
        }
        Ok(())
    }

    /// What the actor itself knows from its own successful operation.
    fn own_effects(&mut self, o: &Observation) {
        let call = o.call.unwrap_or(CallId(0));
        match (&o.step, &o.outcome) {
            (Step::Offline { dev }, _) => {
                self.ringing.retain(|(d, _)| d != dev);
                self.seated.retain(|(d, _)| d != dev);
                self.views.retain(|(d, _), _| d != dev);
                self.unread.retain(|(d, _)| d != dev);
            }
            (Step::Place { by, .. }, Some(Outcome::Placed { call, .. })) => {
                self.seated.insert((*by, *call));
                self.views.insert((*by, *call), BTreeMap::new());
            }
            (Step::Accept { by, .. } | Step::Join { by, .. }, Some(Outcome::Done)) => {
                let key = (*by, call);
                self.ringing.remove(&key);
                self.seated.insert(key);
                let Some(seed) = o.seed.as_ref() else {
                    self.unread.insert(key);
                    self.views.insert(key, BTreeMap::new());
                    return;
                };
                self.unread.remove(&key);
                let view = seed
                    .members
                    .iter()
                    .filter(|m| is_seated(&m.state))
                    .map(|m| (m.user.clone(), Flags::of(m)))
                    .collect();
                self.views.insert(key, view);
            }
            (Step::Decline { by, .. }, Some(Outcome::Done)) => {
                self.ringing.remove(&(*by, call));
            }
            (Step::Hold { by, on, .. }, Some(Outcome::Done)) => {
                if let Some(view) = self.views.get_mut(&(*by, call)) {
                    view.entry(user_id(by.user)).or_default().held = *on;
                }
            }
            (
                Step::Mute {
                    by, video, muted, ..
                },
                Some(Outcome::Done),
            ) => {
                if let Some(view) = self.views.get_mut(&(*by, call)) {
                    let flags = view.entry(user_id(by.user)).or_default();
                    if *video {
                        flags.video_muted = *muted;
                    } else {
                        flags.audio_muted = *muted;
                    }
                }
            }
            _ => {}
        }
    }

    /// One event reaching device `d`.
    fn event(&mut self, o: &Observation, d: Dev, delivery: &Delivery) -> Result<(), String> {
        let call = delivery.event.call();
        let key = (d, call);
        let what = format!("{d:?} got `{}`", delivery.event);
        if self.told_end.contains_key(&key) {
            return Err(format!("{what} after the call's end"));
        }
        let snapshot = o
            .snapshots
            .get((call.0 as usize).wrapping_sub(1))
            .ok_or_else(|| format!("{what} about a call the server does not have"))?;
        if !snapshot.members.iter().any(|m| m.user == user_id(d.user)) {
            return Err(format!(
                "{what}, but u{} is not a member of {call:?}",
                d.user
            ));
        }
        if self.ringing.contains(&key) && !delivery.event.is_closing() {
            return Err(format!(
                "{what} while ringing: a ringing device only hears the end of its invitation"
            ));
        }
        match &delivery.event {
            Event::Incoming { .. } => {
                self.ringing.insert(key);
            }
            Event::Ended { reason, .. } => {
                if snapshot.end_reason.as_ref() != Some(reason) {
                    return Err(format!(
                        "{what}, but the call's end is {:?}",
                        snapshot.end_reason
                    ));
                }
                self.told_end.insert(key, reason.clone());
            }
            Event::Hold { user, on_hold, .. } => {
                if let Some(view) = self.views.get_mut(&key) {
                    view.entry(user.clone()).or_default().held = *on_hold;
                }
            }
            Event::Track {
                user, media, muted, ..
            } => {
                if let Some(view) = self.views.get_mut(&key) {
                    let flags = view.entry(user.clone()).or_default();
                    match media {
                        Media::Audio => flags.audio_muted = *muted,
                        Media::Video => flags.video_muted = *muted,
                    }
                }
            }
            Event::Participant { user, state, .. } => {
                if let Some(view) = self.views.get_mut(&key) {
                    if *state == P::Joined {
                        view.insert(user.clone(), Flags::default());
                    } else {
                        view.remove(user);
                    }
                }
            }
            _ => {}
        }
        if delivery.event.is_closing() {
            self.ringing.remove(&key);
            self.seated.remove(&key);
            self.views.remove(&key);
            self.unread.remove(&key);
        }
        Ok(())
    }

    /// Each call is in exactly one state; an ended call has exactly one reason and end time and
    /// never changes again; the status never goes back.
    fn one_state_one_end(&self, o: &Observation) -> Result<(), String> {
        if o.snapshots.len() < self.before.len() {
            return Err("the server forgot a call".into());
        }
        for (n, s) in o.snapshots.iter().enumerate() {
            let ended = s.status == CallStatus::Ended;
            if ended != s.end_reason.is_some() || ended != s.ended_ms.is_some() {
                return Err(format!(
                    "{:?} is {} with end reason {:?} at {:?}",
                    s.call, s.status, s.end_reason, s.ended_ms
                ));
            }
            if let Some(b) = self.before.get(n) {
                if b.status == CallStatus::Ended && b != s {
                    return Err(format!("{:?} changed after it ended", s.call));
                }
                if s.status < b.status {
                    return Err(format!(
                        "{:?} went back from {} to {}",
                        s.call, b.status, s.status
                    ));
                }
            }
        }
        Ok(())
    }

    /// No two devices of one user are in the same call's session, and a device that believes it
    /// is in a session is that member's session device in the server.
    fn one_device_per_user(&self, o: &Observation) -> Result<(), String> {
        let mut seats: BTreeMap<(CallId, usize), Vec<Dev>> = BTreeMap::new();
        for &(d, call) in &self.seated {
            seats.entry((call, d.user)).or_default().push(d);
        }
        for ((call, user), devices) in &seats {
            if devices.len() > 1 {
                return Err(format!(
                    "u{user} is in the session of {call:?} on several devices: {devices:?}"
                ));
            }
            let s = &o.snapshots[call.0 as usize - 1];
            let member = s.members.iter().find(|m| m.user == user_id(*user));
            let seat = member
                .and_then(|m| m.device)
                .and_then(|id| self.devices.get(&id));
            if s.status == CallStatus::Ended || seat != Some(&devices[0]) {
                return Err(format!(
                    "{:?} believes it is in the session of {call:?}, but the server has {:?}",
                    devices[0], member
                ));
            }
        }
        Ok(())
    }

    /// Without call waiting, a user is in at most one call at a time.
    fn one_call_per_user(&self, o: &Observation) -> Result<(), String> {
        for u in (0..USERS).filter(|u| !self.call_waiting[*u]) {
            let calls: Vec<CallId> = o
                .snapshots
                .iter()
                .filter(|s| s.status != CallStatus::Ended)
                .filter(|s| {
                    s.members.iter().any(|m| {
                        m.user == user_id(u)
                            && matches!(m.state, P::Calling | P::Joined | P::Transferring { .. })
                    })
                })
                .map(|s| s.call)
                .collect();
            if calls.len() > 1 {
                return Err(format!(
                    "u{u} has no call waiting but is in several calls: {calls:?}"
                ));
            }
        }
        Ok(())
    }

    /// A device rings only while its user's invitation is pending in a live call.
    fn ringing_stops(&self, o: &Observation) -> Result<(), String> {
        for &(d, call) in &self.ringing {
            let s = &o.snapshots[call.0 as usize - 1];
            let member = s.members.iter().find(|m| m.user == user_id(d.user));
            if s.status == CallStatus::Ended || !member.is_some_and(|m| is_pending(&m.state)) {
                return Err(format!(
                    "{d:?} still rings for {call:?}, which is {} with u{} {:?}",
                    s.status,
                    d.user,
                    member.map(|m| m.state.to_string())
                ));
            }
        }
        Ok(())
    }

    /// A pending invitation started with the invitee's devices ringing, and is over before the
    /// ring timeout has passed.
    fn ring_timeout(&mut self, o: &Observation) -> Result<(), String> {
        let mut pending = BTreeMap::new();
        for s in o.snapshots.iter().filter(|s| s.status != CallStatus::Ended) {
            for m in s.members.iter().filter(|m| is_pending(&m.state)) {
                let key = (m.user.clone(), s.call);
                let since = match self.pending_since.get(&key) {
                    Some(t) => *t,
                    None => o
                        .events
                        .iter()
                        .filter(|(d, _)| user_id(d.user) == m.user)
                        .flat_map(|(_, list)| list)
                        .filter(|e| {
                            e.event.call() == s.call && matches!(e.event, Event::Incoming { .. })
                        })
                        .map(|e| e.at_ms)
                        .min()
                        .ok_or_else(|| {
                            format!("{} is invited to {:?} but no device rang", m.user, s.call)
                        })?,
                };
                if o.now >= since + self.ring_timeout_ms + self.slack_ms {
                    return Err(format!(
                        "{} has been invited to {:?} since {since} ms and still is at {} ms",
                        m.user, s.call, o.now
                    ));
                }
                pending.insert(key, since);
            }
        }
        self.pending_since = pending;
        Ok(())
    }

    /// Every device in a session knows the hold and mute state of everyone in it, its own user
    /// included, as the server has it.
    fn hold_and_mute_agree(&self, o: &Observation) -> Result<(), String> {
        for s in o.snapshots.iter().filter(|s| s.status != CallStatus::Ended) {
            let seated: Vec<&MemberSnapshot> =
                s.members.iter().filter(|m| is_seated(&m.state)).collect();
            for m in &seated {
                let Some(d) = m.device.and_then(|id| self.devices.get(&id)) else {
                    return Err(format!("{} is in {:?} without a device", m.user, s.call));
                };
                let Some(view) = self.views.get(&(*d, s.call)) else {
                    if o.online.contains(d) {
                        return Err(format!("{d:?} is in {:?} without knowing it", s.call));
                    }
                    continue;
                };
                if self.unread.contains(&(*d, s.call)) {
                    continue;
                }
                for other in &seated {
                    let believed = view.get(&other.user).copied().unwrap_or_default();
                    if believed != Flags::of(other) {
                        return Err(format!(
                            "{d:?} believes {} in {:?} is {believed:?}, but it is {:?}",
                            other.user,
                            s.call,
                            Flags::of(other)
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
