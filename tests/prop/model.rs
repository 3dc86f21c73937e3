//! The reference model of the call lifecycle.
//!
//! Written from the SPEC's rules and the delivery contract in `core::event`, not from the core's
//! code: a call is a list of people (the host first, then everyone invited, in order), each with
//! a state, the device they sit in the session with, and the devices ringing for them. Every
//! operation is a small function that first decides the answer (checks in a fixed order, each
//! one naming the refusal it gives) and only then changes the world and writes down, per
//! device, the events that device must receive. Nothing here is clever: busy-ness, audiences and
//! counts are recomputed by scanning, never cached.
//!
//! The model also knows what is outside the lifecycle proper: which devices are online (an
//! offline device is told nothing and may ask nothing: 401), and virtual time (a ring times out
//! exactly `RING_TIMEOUT_MS` after the invitation, in deadline order).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use callconf::core::{CallError, DeviceId, Feature};
use callconf::core::{
    CallId, CallInfo, CallSnapshot, CallStatus, CallType, DetachReason, EndReason, Event,
    Forbidden, GroupId, Media, MemberSnapshot, ParticipantState as P, TransferOutcome, UserId,
};

use crate::ops::Step;

/// Users in the world, named `u0`..`u3`.
pub const USERS: usize = 4;
/// The server's ring timeout (the core's default).
pub const RING_TIMEOUT_MS: u64 = 30_000;
/// Calls alive at once; a fourth is refused with 503 (`Limits::live_calls_max`).
pub const LIVE_CALLS_MAX: usize = 3;
/// DTMF digits in one request (`Limits::dtmf_digits_max`, the default).
pub const DTMF_DIGITS_MAX: usize = 64;
/// The groups: a name and its members.
pub const GROUPS: [(&str, &[usize]); 2] = [("all", &[0, 1, 2, 3]), ("trio", &[0, 1, 2])];

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

/// Why an operation is refused, as precisely as the model predicts it: the code, and for 403,
/// 480 and 486 what the core names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadArgument,
    NotConnected,
    Forbidden(Forbidden),
    NotFound,
    HandledElsewhere,
    CallEnded,
    TooLarge,
    InvalidState,
    Unavailable(String),
    Busy(String),
    Capacity,
}

impl Refusal {
    pub fn of(e: &CallError) -> Refusal {
        match e {
            CallError::BadArgument { .. } => Refusal::BadArgument,
            CallError::NotConnected => Refusal::NotConnected,
            CallError::Forbidden(f) => Refusal::Forbidden(*f),
            CallError::NotFound { .. } => Refusal::NotFound,
            CallError::HandledElsewhere => Refusal::HandledElsewhere,
            CallError::CallEnded => Refusal::CallEnded,
            CallError::TooLarge { .. } => Refusal::TooLarge,
            CallError::InvalidState { .. } => Refusal::InvalidState,
            CallError::Unavailable(u) => Refusal::Unavailable(u.clone()),
            CallError::Busy(u) => Refusal::Busy(u.clone()),
            CallError::Capacity(_) => Refusal::Capacity,
            other => panic!("a refusal the model does not know: {other:?}"),
        }
    }
}

/// What an operation answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Placed {
        call: CallId,
        busy: Vec<UserId>,
        unavailable: Vec<UserId>,
    },
    Invited {
        busy: Vec<UserId>,
        unavailable: Vec<UserId>,
    },
    Snapshot(Box<CallSnapshot>),
    Done,
    Refused(Refusal),
}

type Answer = Result<Outcome, Refusal>;

/// The prediction for one step: its answer (none for time passing and presence changes) and
/// every event each device must receive, stamped with the time it is sent.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub outcome: Option<Outcome>,
    pub events: BTreeMap<Dev, Vec<(u64, Event)>>,
}

/// One person of a call.
#[derive(Clone, Debug)]
pub struct Person {
    pub user: usize,
    pub state: P,
    /// The device this person is in the session with (host, joined, transferring).
    pub seat: Option<Dev>,
    /// The devices ringing for this person.
    pub ringing: BTreeSet<Dev>,
    /// The device that last answered, declined or joined for this person: another device of the
    /// same user is then told "handled on another device" (409).
    pub handled_on: Option<Dev>,
    /// When the invitation times out.
    pub rings_until: Option<u64>,
    pub started: bool,
    pub held: bool,
    pub audio_muted: bool,
    pub video_muted: bool,
}

impl Person {
    fn new(user: usize, state: P) -> Self {
        Self {
            user,
            state,
            seat: None,
            ringing: BTreeSet::new(),
            handled_on: None,
            rings_until: None,
            started: false,
            held: false,
            audio_muted: false,
            video_muted: false,
        }
    }

    /// Leaving the session or being invited afresh: no seat, no deadline, media flags cleared.
    fn clear_session(&mut self) {
        self.seat = None;
        self.rings_until = None;
        self.started = false;
        self.held = false;
        self.audio_muted = false;
        self.video_muted = false;
    }
}

/// The session audience: the host while calling, and everyone joined.
pub fn in_session(s: &P) -> bool {
    matches!(s, P::Calling | P::Joined)
}

/// Invited and not answered yet.
pub fn pending(s: &P) -> bool {
    matches!(s, P::Invited | P::Ringing)
}

/// Still taking part: in the session, invited, or waiting for a transfer's outcome.
pub fn active(s: &P) -> bool {
    in_session(s) || pending(s) || matches!(s, P::Transferring { .. })
}

/// "In a call" for busy-ness: in a session, or waiting for the outcome of one's transfer.
fn occupied(s: &P) -> bool {
    in_session(s) || matches!(s, P::Transferring { .. })
}

#[derive(Clone, Debug)]
pub struct CallM {
    pub id: CallId,
    pub video: bool,
    pub group: Option<usize>,
    pub is_group: bool,
    pub created: u64,
    pub status: CallStatus,
    pub ended: Option<(EndReason, u64)>,
    /// The host first, then every invited user in invitation order. Nobody is ever removed.
    pub people: Vec<Person>,
    /// Someone other than the host has joined at least once.
    pub answered: bool,
    /// A blind transfer under way: (transferor, target), as indexes into `people`.
    pub transfer: Option<(usize, usize)>,
}

impl CallM {
    pub fn live(&self) -> bool {
        self.ended.is_none()
    }

    pub fn person_of(&self, user: usize) -> Option<usize> {
        self.people.iter().position(|p| p.user == user)
    }

    fn count(&self, f: impl Fn(&Person) -> bool) -> usize {
        self.people.iter().filter(|p| f(p)).count()
    }

    fn info(&self, transferred_by: Option<usize>) -> Arc<CallInfo> {
        Arc::new(CallInfo {
            call: self.id,
            call_type: call_type(self.video),
            group: self.group.map(|g| GroupId::new(GROUPS[g].0)),
            caller: user_id(self.people[0].user),
            invitees: self.people[1..].iter().map(|p| user_id(p.user)).collect(),
            status: self.status,
            created_ms: self.created,
            custom_data: None,
            headers: Vec::new(),
            transferred_by: transferred_by.map(user_id),
        })
    }
}

pub fn call_type(video: bool) -> CallType {
    if video {
        CallType::Video
    } else {
        CallType::Audio
    }
}

/// The model's whole world.
#[derive(Clone)]
pub struct World {
    pub setup: [UserSetup; USERS],
    pub online: BTreeSet<Dev>,
    pub now: u64,
    /// Every call placed, by id - 1.
    pub calls: Vec<CallM>,
    /// What the last step must have produced.
    pub expect: Expect,
}

impl fmt::Debug for World {
    /// Only the set-up: the initial state of a shrunk case reads as a cast list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (u, s) in self.setup.iter().enumerate() {
            m.entry(&format_args!("u{u}"), s);
        }
        m.finish()
    }
}

impl World {
    pub fn new(setup: [UserSetup; USERS]) -> Self {
        let online = (0..USERS)
            .flat_map(|user| (0..setup[user].devices).map(move |slot| Dev { user, slot }))
            .collect();
        Self {
            setup,
            online,
            now: 0,
            calls: Vec::new(),
            expect: Expect::default(),
        }
    }

    pub fn devices(&self) -> Vec<Dev> {
        (0..USERS).flat_map(|u| self.devices_of(u)).collect()
    }

    pub fn devices_of(&self, user: usize) -> Vec<Dev> {
        (0..self.setup[user].devices)
            .map(|slot| Dev { user, slot })
            .collect()
    }

    pub fn has_device(&self, d: Dev) -> bool {
        d.user < USERS && d.slot < self.setup[d.user].devices
    }

    /// Devices are registered user by user, device by device.
    pub fn device_id(&self, d: Dev) -> DeviceId {
        let before: usize = self.setup[..d.user].iter().map(|s| s.devices).sum();
        DeviceId(u32::try_from(before + d.slot).expect("few devices"))
    }

    fn online_devices(&self, user: usize) -> BTreeSet<Dev> {
        self.devices_of(user)
            .into_iter()
            .filter(|d| self.online.contains(d))
            .collect()
    }

    /// In a session (or transferring away) in a live call other than `except`.
    fn occupied_elsewhere(&self, user: usize, except: Option<usize>) -> bool {
        self.calls.iter().enumerate().any(|(c, call)| {
            Some(c) != except
                && call.live()
                && call
                    .people
                    .iter()
                    .any(|p| p.user == user && occupied(&p.state))
        })
    }

    /// Cannot take another call: occupied elsewhere and no call waiting.
    fn busy(&self, user: usize, except: Option<usize>) -> bool {
        !self.setup[user].call_waiting && self.occupied_elsewhere(user, except)
    }

    fn live_calls(&self) -> usize {
        self.calls.iter().filter(|c| c.live()).count()
    }

    // ----- telling devices ------------------------------------------------------------------

    /// A device is told something now, if it is online (an offline one cannot be told).
    fn tell(&mut self, d: Dev, event: Event) {
        if self.online.contains(&d) {
            let now = self.now;
            self.expect.events.entry(d).or_default().push((now, event));
        }
    }

    /// Tells the session audience of call `c`, except `except`.
    fn tell_session(&mut self, c: usize, event: Event, except: Option<Dev>) {
        let seats: Vec<Dev> = self.calls[c]
            .people
            .iter()
            .filter(|p| in_session(&p.state))
            .filter_map(|p| p.seat)
            .filter(|d| Some(*d) != except)
            .collect();
        for d in seats {
            self.tell(d, event.clone());
        }
    }

    fn set_status(&mut self, c: usize, status: CallStatus) {
        self.calls[c].status = status;
        let id = self.calls[c].id;
        self.tell_session(c, Event::Status { call: id, status }, None);
    }

    /// The call ends: every device still attached (a seat in or waiting on the session, or
    /// ringing) is told once why; a transferor whose target still rings is first told that its
    /// transfer failed (487).
    fn end(&mut self, c: usize, reason: EndReason) {
        if let Some((from, to)) = self.calls[c].transfer.take() {
            self.tell_transfer_failed(c, from, to, TransferOutcome::ABORTED_CODE);
        }
        let id = self.calls[c].id;
        let mut attached = Vec::new();
        for p in &mut self.calls[c].people {
            if occupied(&p.state) {
                attached.extend(p.seat);
            }
            attached.extend(std::mem::take(&mut p.ringing));
            p.rings_until = None;
        }
        for d in attached {
            self.tell(
                d,
                Event::Ended {
                    call: id,
                    reason: reason.clone(),
                },
            );
        }
        let call = &mut self.calls[c];
        call.status = CallStatus::Ended;
        call.ended = Some((reason, self.now));
    }

    // ----- the steps ------------------------------------------------------------------------

    /// Applies one step, recording its prediction in `self.expect`.
    pub fn step(&mut self, step: &Step) {
        self.expect = Expect::default();
        let outcome = match step {
            Step::Advance { ms } => {
                self.advance(*ms);
                None
            }
            Step::Offline { dev } => {
                self.offline(*dev);
                None
            }
            Step::Online { dev } => {
                self.online_again(*dev);
                None
            }
            Step::Place {
                by,
                to,
                video,
                group,
            } => Some(self.place(*by, to, *video, *group)),
            other => Some(self.on_call(other)),
        };
        self.expect.outcome = outcome.map(|a| a.unwrap_or_else(Outcome::Refused));
    }

    fn place(&mut self, by: Dev, to: &[usize], video: bool, group: Option<usize>) -> Answer {
        if !self.online.contains(&by) {
            return Err(Refusal::NotConnected);
        }
        let me = by.user;
        check_invitees(to, me)?;
        let is_group = group.is_some() || to.len() > 1;
        if let Some(g) = group {
            let members = GROUPS[g].1;
            if !members.contains(&me) || to.iter().any(|u| !members.contains(u)) {
                return Err(Refusal::Forbidden(Forbidden::NotGroupMember));
            }
        }
        let plan = self.setup[me].plan;
        let feature = match (is_group, video) {
            (true, _) => Feature::GroupCalls,
            (false, false) => Feature::OneToOneAudio,
            (false, true) => Feature::OneToOneVideo,
        };
        if !plan.allows(feature) {
            return Err(Refusal::Forbidden(Forbidden::NotInPlan(feature)));
        }
        if to.len() + 1 > plan.max_participants() {
            return Err(Refusal::Forbidden(Forbidden::ParticipantLimit(
                plan.max_participants(),
            )));
        }
        if self.busy(me, None) {
            return Err(Refusal::Busy(user_name(me)));
        }
        if self.live_calls() >= LIVE_CALLS_MAX {
            return Err(Refusal::Capacity);
        }
        let (busy, unavailable) = self.sort_invitees(to, None);
        if busy.len() + unavailable.len() == to.len() {
            // Nobody can ring.
            return Err(match busy.first() {
                Some(&u) => Refusal::Busy(user_name(u)),
                None => Refusal::Unavailable(user_name(unavailable[0])),
            });
        }
        let id = CallId(self.calls.len() as u64 + 1);
        let mut host = Person::new(me, P::Calling);
        host.seat = Some(by);
        host.handled_on = Some(by);
        let mut people = vec![host];
        for &u in to {
            people.push(self.invitation(u, &busy, &unavailable));
        }
        self.calls.push(CallM {
            id,
            video,
            group,
            is_group,
            created: self.now,
            status: CallStatus::Calling,
            ended: None,
            people,
            answered: false,
            transfer: None,
        });
        let c = self.calls.len() - 1;
        let info = self.calls[c].info(None);
        let ringing: Vec<Dev> = self.calls[c]
            .people
            .iter()
            .flat_map(|p| p.ringing.iter().copied())
            .collect();
        for d in ringing {
            self.tell(d, Event::Incoming { info: info.clone() });
        }
        Ok(Outcome::Placed {
            call: id,
            busy: busy.into_iter().map(user_id).collect(),
            unavailable: unavailable.into_iter().map(user_id).collect(),
        })
    }

    /// Who of `users` cannot be rung: busy ones, then (of the rest) those with no device online.
    fn sort_invitees(&self, users: &[usize], call: Option<usize>) -> (Vec<usize>, Vec<usize>) {
        let busy: Vec<usize> = users
            .iter()
            .copied()
            .filter(|&u| self.busy(u, call))
            .collect();
        let unavailable = users
            .iter()
            .copied()
            .filter(|u| !busy.contains(u) && self.online_devices(*u).is_empty())
            .collect();
        (busy, unavailable)
    }

    /// A fresh invitation of `u`: ringing on every online device until the ring timeout.
    fn invitation(&self, u: usize, busy: &[usize], unavailable: &[usize]) -> Person {
        if busy.contains(&u) {
            Person::new(u, P::Busy)
        } else if unavailable.contains(&u) {
            Person::new(u, P::Unavailable)
        } else {
            let mut p = Person::new(u, P::Invited);
            p.ringing = self.online_devices(u);
            p.rings_until = Some(self.now + RING_TIMEOUT_MS);
            p
        }
    }

    /// Every operation on an existing call: the common checks, then the operation's own.
    fn on_call(&mut self, step: &Step) -> Answer {
        let (by, back) = step.actor_and_call().expect("an operation on a call");
        if !self.online.contains(&by) {
            return Err(Refusal::NotConnected);
        }
        let c = back.resolve(self.calls.len()).0 as usize - 1;
        if c >= self.calls.len() {
            return Err(Refusal::NotFound);
        }
        let Some(i) = self.calls[c].person_of(by.user) else {
            return Err(Refusal::Forbidden(Forbidden::NotMember));
        };
        if !self.calls[c].live() {
            return Err(Refusal::CallEnded);
        }
        match step {
            Step::GetCall { .. } => Ok(Outcome::Snapshot(Box::new(self.snapshot(c)))),
            Step::Ring { .. } => self.ring(c, i, by),
            Step::Accept { .. } => self.accept(c, i, by),
            Step::Decline { code, .. } => self.decline(c, i, by, *code),
            Step::Cancel { .. } => self.cancel(c, i, by),
            Step::Hangup { .. } => self.hangup(c, i, by),
            Step::EndForAll { .. } => self.end_for_all(c, i, by),
            Step::Join { .. } => self.join(c, i, by),
            Step::Invite { users, .. } => self.invite(c, i, by, users),
            Step::StartSession { .. } => self.start_session(c, i, by),
            Step::Hold { on, .. } => self.hold(c, i, by, *on),
            Step::Mute { video, muted, .. } => self.mute(c, i, by, *video, *muted),
            Step::Dtmf { digits, .. } => self.dtmf(c, i, by, digits),
            Step::Transfer { to, .. } => self.transfer(c, i, by, *to),
            Step::Place { .. }
            | Step::Advance { .. }
            | Step::Offline { .. }
            | Step::Online { .. } => {
                unreachable!("not an operation on a call")
            }
        }
    }

    /// May `by` answer person `i`'s invitation? Only a device it rings on; once the invitation
    /// was handled, another device of that user hears "handled on another device" (409).
    fn check_answer(&self, c: usize, i: usize, by: Dev) -> Result<(), Refusal> {
        let p = &self.calls[c].people[i];
        if pending(&p.state) {
            if p.ringing.contains(&by) {
                Ok(())
            } else {
                Err(Refusal::InvalidState)
            }
        } else if p.handled_on.is_some_and(|d| d != by) {
            Err(Refusal::HandledElsewhere)
        } else {
            Err(Refusal::InvalidState)
        }
    }

    /// Is `by` person `i`'s seat in the session?
    fn check_seat(&self, c: usize, i: usize, by: Dev) -> Result<(), Refusal> {
        let p = &self.calls[c].people[i];
        if !in_session(&p.state) {
            Err(Refusal::InvalidState)
        } else if p.seat != Some(by) {
            Err(Refusal::HandledElsewhere)
        } else {
            Ok(())
        }
    }

    /// Seated, and joined (not the host still waiting for an answer).
    fn check_joined(&self, c: usize, i: usize, by: Dev) -> Result<(), Refusal> {
        self.check_seat(c, i, by)?;
        if self.calls[c].people[i].state == P::Joined {
            Ok(())
        } else {
            Err(Refusal::InvalidState)
        }
    }

    fn check_connected(&self, c: usize) -> Result<(), Refusal> {
        if self.calls[c].status == CallStatus::Connected {
            Ok(())
        } else {
            Err(Refusal::InvalidState)
        }
    }

    fn ring(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        self.check_answer(c, i, by)?;
        if self.calls[c].people[i].state == P::Invited {
            self.calls[c].people[i].state = P::Ringing;
            let (id, user) = (self.calls[c].id, user_id(self.calls[c].people[i].user));
            let event = Event::Participant {
                call: id,
                user,
                state: P::Ringing,
            };
            self.tell_session(c, event, None);
            if self.calls[c].status == CallStatus::Calling {
                self.set_status(c, CallStatus::Ringing);
            }
        }
        Ok(Outcome::Done)
    }

    fn accept(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        self.check_answer(c, i, by)?;
        if self.busy(by.user, Some(c)) {
            return Err(Refusal::Busy(user_name(by.user)));
        }
        self.sit(c, i, by);
        Ok(Outcome::Done)
    }

    /// Person `i` enters the session on `by` (accept or join).
    fn sit(&mut self, c: usize, i: usize, by: Dev) {
        if self.calls[c].transfer.is_some_and(|(_, to)| to == i) {
            self.transfer_succeeded(c);
        }
        let id = self.calls[c].id;
        let p = &mut self.calls[c].people[i];
        let others: Vec<Dev> = std::mem::take(&mut p.ringing)
            .into_iter()
            .filter(|d| *d != by)
            .collect();
        p.clear_session();
        p.state = P::Joined;
        p.seat = Some(by);
        p.handled_on = Some(by);
        let user = user_id(p.user);
        for d in others {
            self.tell(
                d,
                Event::Detached {
                    call: id,
                    reason: DetachReason::AnsweredElsewhere,
                },
            );
        }
        let call = &mut self.calls[c];
        // The caller joins automatically when the first callee accepts (Stream).
        if call.people[0].state == P::Calling {
            call.people[0].state = P::Joined;
        }
        if i != 0 {
            call.answered = true;
        }
        let event = Event::Participant {
            call: id,
            user,
            state: P::Joined,
        };
        self.tell_session(c, event, Some(by));
        if self.calls[c].status < CallStatus::Connecting {
            self.set_status(c, CallStatus::Connecting);
        }
    }

    fn decline(&mut self, c: usize, i: usize, by: Dev, code: Option<u16>) -> Answer {
        let code = code.unwrap_or(603);
        if !(300..=699).contains(&code) {
            return Err(Refusal::BadArgument);
        }
        self.check_answer(c, i, by)?;
        self.invitation_over(c, i, Some(by), P::Declined { code });
        Ok(Outcome::Done)
    }

    /// Person `i`'s invitation is over without an answer (declined on `by`, or timed out).
    fn invitation_over(&mut self, c: usize, i: usize, by: Option<Dev>, state: P) {
        let p = &mut self.calls[c].people[i];
        p.rings_until = None;
        if by.is_some() {
            p.handled_on = by;
        }
        p.state = state.clone();
        let user = p.user;
        let code = match state {
            P::Declined { code } => code,
            _ => EndReason::NoAnswer.code(),
        };
        if self.calls[c].transfer.is_some_and(|(_, to)| to == i) {
            self.transfer_failed(c, code);
            return;
        }
        let call = &self.calls[c];
        if !call.answered && call.count(|p| pending(&p.state)) == 0 {
            // Nobody answered and nobody is left to: the call stops.
            let someone_missed = call.count(|p| p.state == P::Missed) > 0;
            let reason = match state {
                P::Declined { code } if !someone_missed => EndReason::Declined {
                    by: user_id(user),
                    code,
                },
                _ => EndReason::NoAnswer,
            };
            self.end(c, reason);
            return;
        }
        let id = call.id;
        for d in std::mem::take(&mut self.calls[c].people[i].ringing) {
            let reason = match (&state, Some(d) == by) {
                (P::Declined { .. }, true) => DetachReason::Declined,
                (P::Declined { .. }, false) => DetachReason::DeclinedElsewhere,
                _ => DetachReason::Missed,
            };
            self.tell(d, Event::Detached { call: id, reason });
        }
        let event = Event::Participant {
            call: id,
            user: user_id(user),
            state,
        };
        self.tell_session(c, event, None);
    }

    fn cancel(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        if i != 0 {
            return Err(Refusal::Forbidden(Forbidden::NotCaller));
        }
        let host = &self.calls[c].people[0];
        if host.state != P::Calling {
            return Err(Refusal::InvalidState);
        }
        if host.seat != Some(by) {
            return Err(Refusal::HandledElsewhere);
        }
        let by = user_id(host.user);
        self.end(c, EndReason::Cancelled { by });
        Ok(Outcome::Done)
    }

    fn hangup(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        match self.calls[c].people[i].state {
            // The caller before any answer cancels; a ringing invitee declines.
            P::Calling => self.cancel(c, i, by),
            P::Invited | P::Ringing => self.decline(c, i, by, None),
            P::Joined => {
                self.check_seat(c, i, by)?;
                let who = user_id(by.user);
                self.leave(c, i, P::Left, EndReason::HungUp { by: who });
                Ok(Outcome::Done)
            }
            _ => self.check_answer(c, i, by).map(|()| Outcome::Done),
        }
    }

    /// Person `i` leaves the session. A 1:1 call ends; a group call ends when nobody is left, or
    /// one is left after someone had answered.
    fn leave(&mut self, c: usize, i: usize, state: P, reason: EndReason) {
        let call = &self.calls[c];
        let others = call.count(|p| p.state == P::Joined) - 1;
        if !call.is_group || others == 0 || (others == 1 && call.answered) {
            self.end(c, reason);
            self.calls[c].people[i].state = state;
            return;
        }
        let id = call.id;
        let p = &mut self.calls[c].people[i];
        let seat = p.seat;
        p.state = state.clone();
        p.clear_session();
        let user = user_id(p.user);
        if let Some(d) = seat {
            self.tell(
                d,
                Event::Detached {
                    call: id,
                    reason: DetachReason::Left,
                },
            );
        }
        self.tell_session(
            c,
            Event::Participant {
                call: id,
                user,
                state,
            },
            None,
        );
    }

    fn end_for_all(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        if i != 0 && !self.setup[by.user].may_end {
            return Err(Refusal::Forbidden(Forbidden::EndCallPermission));
        }
        self.check_seat(c, i, by)?;
        self.end(
            c,
            EndReason::EndedForEveryone {
                by: user_id(by.user),
            },
        );
        Ok(Outcome::Done)
    }

    fn join(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        let call = &self.calls[c];
        let p = &call.people[i];
        if in_session(&p.state) {
            return Err(if p.seat == Some(by) {
                Refusal::InvalidState
            } else {
                Refusal::HandledElsewhere
            });
        }
        if !call.is_group {
            return Err(Refusal::Forbidden(Forbidden::NotGroupCall));
        }
        if matches!(p.state, P::Transferring { .. } | P::Transferred) {
            return Err(Refusal::InvalidState);
        }
        if self.busy(by.user, Some(c)) {
            return Err(Refusal::Busy(user_name(by.user)));
        }
        if !active(&p.state) {
            let max = self.setup[call.people[0].user].plan.max_participants();
            if call.count(|p| active(&p.state)) + 1 > max {
                return Err(Refusal::Forbidden(Forbidden::ParticipantLimit(max)));
            }
        }
        self.sit(c, i, by);
        Ok(Outcome::Done)
    }

    fn invite(&mut self, c: usize, i: usize, by: Dev, users: &[usize]) -> Answer {
        if !self.calls[c].is_group {
            return Err(Refusal::Forbidden(Forbidden::NotGroupCall));
        }
        self.check_seat(c, i, by)?;
        check_invitees(users, by.user)?;
        let call = &self.calls[c];
        if let Some(g) = call.group
            && users.iter().any(|u| !GROUPS[g].1.contains(u))
        {
            return Err(Refusal::Forbidden(Forbidden::NotGroupMember));
        }
        if users.iter().any(|&u| {
            call.person_of(u)
                .is_some_and(|j| active(&call.people[j].state))
        }) {
            return Err(Refusal::InvalidState);
        }
        let max = self.setup[call.people[0].user].plan.max_participants();
        if call.count(|p| active(&p.state)) + users.len() > max {
            return Err(Refusal::Forbidden(Forbidden::ParticipantLimit(max)));
        }
        let (busy, unavailable) = self.sort_invitees(users, Some(c));
        let mut rung = Vec::new();
        for &u in users {
            let fresh = self.invitation(u, &busy, &unavailable);
            let call = &mut self.calls[c];
            let j = match call.person_of(u) {
                Some(j) => {
                    call.people[j] = fresh;
                    j
                }
                None => {
                    call.people.push(fresh);
                    call.people.len() - 1
                }
            };
            if pending(&call.people[j].state) {
                rung.push(j);
            }
        }
        let info = self.calls[c].info(None);
        let id = self.calls[c].id;
        for j in rung {
            let p = &self.calls[c].people[j];
            let (user, ringing) = (p.user, p.ringing.clone());
            for d in ringing {
                self.tell(d, Event::Incoming { info: info.clone() });
            }
            let event = Event::Participant {
                call: id,
                user: user_id(user),
                state: P::Invited,
            };
            self.tell_session(c, event, Some(by));
        }
        Ok(Outcome::Invited {
            busy: busy.into_iter().map(user_id).collect(),
            unavailable: unavailable.into_iter().map(user_id).collect(),
        })
    }

    fn start_session(&mut self, c: usize, i: usize, by: Dev) -> Answer {
        self.check_joined(c, i, by)?;
        if self.calls[c].people[i].started {
            return Err(Refusal::InvalidState);
        }
        self.calls[c].people[i].started = true;
        let call = &self.calls[c];
        // Connected once two members in the session have started their media.
        if call.status == CallStatus::Connecting
            && call.count(|p| p.state == P::Joined && p.started) >= 2
        {
            self.set_status(c, CallStatus::Connected);
        }
        Ok(Outcome::Done)
    }

    fn hold(&mut self, c: usize, i: usize, by: Dev, on: bool) -> Answer {
        self.check_joined(c, i, by)?;
        self.check_connected(c)?;
        let p = &mut self.calls[c].people[i];
        if p.held == on {
            return Err(Refusal::InvalidState);
        }
        p.held = on;
        let event = Event::Hold {
            call: self.calls[c].id,
            user: user_id(by.user),
            on_hold: on,
        };
        self.tell_session(c, event, Some(by));
        Ok(Outcome::Done)
    }

    fn mute(&mut self, c: usize, i: usize, by: Dev, video: bool, muted: bool) -> Answer {
        if video && !self.calls[c].video {
            return Err(Refusal::BadArgument);
        }
        self.check_seat(c, i, by)?;
        let p = &mut self.calls[c].people[i];
        let flag = if video {
            &mut p.video_muted
        } else {
            &mut p.audio_muted
        };
        if *flag == muted {
            return Err(Refusal::InvalidState);
        }
        *flag = muted;
        let event = Event::Track {
            call: self.calls[c].id,
            user: user_id(by.user),
            media: if video { Media::Video } else { Media::Audio },
            muted,
        };
        self.tell_session(c, event, Some(by));
        Ok(Outcome::Done)
    }

    fn dtmf(&mut self, c: usize, i: usize, by: Dev, digits: &str) -> Answer {
        if digits.is_empty() {
            return Err(Refusal::BadArgument);
        }
        if digits.len() > DTMF_DIGITS_MAX {
            return Err(Refusal::TooLarge);
        }
        if !digits.chars().all(|d| "0123456789*#ABCDp".contains(d)) {
            return Err(Refusal::BadArgument);
        }
        self.check_joined(c, i, by)?;
        self.check_connected(c)?;
        let event = Event::Dtmf {
            call: self.calls[c].id,
            from: user_id(by.user),
            digits: digits.to_owned(),
        };
        self.tell_session(c, event, Some(by));
        Ok(Outcome::Done)
    }

    /// Blind transfer of a connected 1:1 call between an app user and a phone: the transferor
    /// waits aside, the target rings with `transferred_by`, the other party stays.
    fn transfer(&mut self, c: usize, i: usize, by: Dev, target: usize) -> Answer {
        if target == by.user {
            return Err(Refusal::BadArgument);
        }
        self.check_joined(c, i, by)?;
        self.check_connected(c)?;
        let call = &self.calls[c];
        if call.is_group || call.transfer.is_some() {
            return Err(Refusal::InvalidState);
        }
        let other = call
            .people
            .iter()
            .find(|p| p.state == P::Joined && p.user != by.user)
            .expect("a connected 1:1 call has two joined members");
        if self.setup[by.user].phone == self.setup[other.user].phone {
            return Err(Refusal::Forbidden(Forbidden::TransferNotAllowed));
        }
        let existing = call.person_of(target);
        if existing.is_some_and(|j| active(&call.people[j].state)) {
            return Err(Refusal::InvalidState);
        }
        if self.busy(target, Some(c)) {
            return Err(Refusal::Busy(user_name(target)));
        }
        if self.online_devices(target).is_empty() {
            return Err(Refusal::Unavailable(user_name(target)));
        }
        let fresh = self.invitation(target, &[], &[]);
        let call = &mut self.calls[c];
        let j = match existing {
            Some(j) => {
                call.people[j] = fresh;
                j
            }
            None => {
                call.people.push(fresh);
                call.people.len() - 1
            }
        };
        let waiting = P::Transferring {
            to: user_id(target),
        };
        call.people[i].state = waiting.clone();
        call.transfer = Some((i, j));
        let id = call.id;
        let event = Event::Participant {
            call: id,
            user: user_id(by.user),
            state: waiting,
        };
        self.tell_session(c, event, None);
        let info = self.calls[c].info(Some(by.user));
        for d in self.calls[c].people[j].ringing.clone() {
            self.tell(d, Event::Incoming { info: info.clone() });
        }
        Ok(Outcome::Done)
    }

    fn transfer_succeeded(&mut self, c: usize) {
        let (from, to) = self.calls[c].transfer.take().expect("a transfer");
        let id = self.calls[c].id;
        let target = user_id(self.calls[c].people[to].user);
        let p = &mut self.calls[c].people[from];
        let seat = p.seat;
        p.state = P::Transferred;
        p.clear_session();
        let user = user_id(p.user);
        if let Some(d) = seat {
            let result = Event::TransferResult {
                call: id,
                target,
                outcome: TransferOutcome::Succeeded,
            };
            self.tell(d, result);
            let detached = Event::Detached {
                call: id,
                reason: DetachReason::Transferred,
            };
            self.tell(d, detached);
        }
        let event = Event::Participant {
            call: id,
            user,
            state: P::Transferred,
        };
        self.tell_session(c, event, None);
    }

    fn transfer_failed(&mut self, c: usize, code: u16) {
        let (from, to) = self.calls[c].transfer.take().expect("a transfer");
        self.tell_transfer_failed(c, from, to, code);
        self.end(c, EndReason::TransferFailed { code });
    }

    fn tell_transfer_failed(&mut self, c: usize, from: usize, to: usize, code: u16) {
        let id = self.calls[c].id;
        if let Some(d) = self.calls[c].people[from].seat {
            let target = user_id(self.calls[c].people[to].user);
            let event = Event::TransferResult {
                call: id,
                target,
                outcome: TransferOutcome::Failed { code },
            };
            self.tell(d, event);
        }
    }

    /// Time passes; each invitation whose ring timeout falls due is missed, in deadline order
    /// (ties by call, then by invitation order), each at its own instant.
    fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        loop {
            let due = self
                .calls
                .iter()
                .enumerate()
                .filter(|(_, call)| call.live())
                .flat_map(|(c, call)| {
                    call.people.iter().enumerate().filter_map(move |(i, p)| {
                        p.rings_until
                            .filter(|t| pending(&p.state) && *t <= until)
                            .map(|t| (t, c, i))
                    })
                })
                .min();
            let Some((t, c, i)) = due else { break };
            self.now = t;
            self.invitation_over(c, i, None, P::Missed);
        }
        self.now = until;
    }

    /// A device goes offline: it stops ringing (silently: it cannot be told), and a session it
    /// sits in loses its member. A transferor keeps waiting for its outcome.
    fn offline(&mut self, d: Dev) {
        if !self.online.remove(&d) {
            return;
        }
        for c in 0..self.calls.len() {
            if !self.calls[c].live() {
                continue;
            }
            let Some(i) = self.calls[c].person_of(d.user) else {
                continue;
            };
            let p = &mut self.calls[c].people[i];
            p.ringing.remove(&d);
            if p.seat != Some(d) {
                continue;
            }
            let reason = EndReason::Disconnected {
                user: user_id(d.user),
            };
            match p.state {
                P::Calling => self.end(c, reason),
                P::Joined => self.leave(c, i, P::Disconnected, reason),
                _ => {}
            }
        }
    }

    /// A device comes back: it starts ringing for every invitation of its user still pending.
    fn online_again(&mut self, d: Dev) {
        if !self.online.insert(d) {
            return;
        }
        for c in 0..self.calls.len() {
            let call = &self.calls[c];
            if !call.live() {
                continue;
            }
            let Some(i) = call.person_of(d.user) else {
                continue;
            };
            if !pending(&call.people[i].state) || call.people[i].ringing.contains(&d) {
                continue;
            }
            let transferred_by = call
                .transfer
                .filter(|(_, to)| *to == i)
                .map(|(from, _)| call.people[from].user);
            let info = call.info(transferred_by);
            self.calls[c].people[i].ringing.insert(d);
            self.tell(d, Event::Incoming { info });
        }
    }

    /// The call as the call-state query shows it.
    pub fn snapshot(&self, c: usize) -> CallSnapshot {
        let call = &self.calls[c];
        CallSnapshot {
            call: call.id,
            call_type: call_type(call.video),
            group: call.group.map(|g| GroupId::new(GROUPS[g].0)),
            caller: user_id(call.people[0].user),
            status: call.status,
            end_reason: call.ended.as_ref().map(|(r, _)| r.clone()),
            created_ms: call.created,
            ended_ms: call.ended.as_ref().map(|(_, t)| *t),
            members: call
                .people
                .iter()
                .map(|p| MemberSnapshot {
                    user: user_id(p.user),
                    state: p.state.clone(),
                    device: p.seat.map(|d| self.device_id(d)),
                    on_hold: p.held,
                    audio_muted: p.audio_muted,
                    video_muted: p.video_muted,
                })
                .collect(),
            custom_data: None,
        }
    }
}

/// A list of users to invite: not empty, nobody twice, not oneself.
fn check_invitees(users: &[usize], me: usize) -> Result<(), Refusal> {
    let mut seen = BTreeSet::new();
    if users.is_empty() || users.iter().any(|&u| u == me || !seen.insert(u)) {
        return Err(Refusal::BadArgument);
    }
    Ok(())
}

/// The model as proptest-state-machine sees it.
pub struct Lifecycle;

impl proptest_state_machine::ReferenceStateMachine for Lifecycle {
    type State = World;
    type Transition = Step;

    fn init_state() -> proptest::strategy::BoxedStrategy<World> {
        crate::ops::init_state()
    }

    fn transitions(state: &World) -> proptest::strategy::BoxedStrategy<Step> {
        crate::ops::transitions(state)
    }

    fn apply(mut state: World, step: &Step) -> World {
        state.step(step);
        state
    }

    fn preconditions(state: &World, step: &Step) -> bool {
        crate::ops::valid(state, step)
    }
}
