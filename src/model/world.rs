//! The model's state: calls, the people in them, who is online, virtual time, and the
//! prediction of the last step.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::core::{CallError, Capability, DeviceId};
use crate::core::{
    CallId, CallInfo, CallSnapshot, CallStatus, CallType, EndReason, Event, Forbidden, GroupId,
    MemberSnapshot, ParticipantState as P, TransferOutcome, UserId,
};

use super::*;

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
    /// The dialect does not have the operation (501).
    NotInDialect(Capability),
}

impl Refusal {
    /// The canonical code of the refusal (the SPEC's table), all a system behind an adapter
    /// reports of it besides its own message.
    pub fn code(&self) -> u16 {
        match self {
            Refusal::BadArgument => 400,
            Refusal::NotConnected => 401,
            Refusal::Forbidden(_) => 403,
            Refusal::NotFound => 404,
            Refusal::HandledElsewhere => 409,
            Refusal::CallEnded => 410,
            Refusal::TooLarge => 413,
            Refusal::InvalidState => 422,
            Refusal::Unavailable(_) => 480,
            Refusal::Busy(_) => 486,
            Refusal::Capacity => 503,
            Refusal::NotInDialect(_) => 501,
        }
    }

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
            CallError::NotInDialect(c) => Refusal::NotInDialect(*c),
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

pub(super) type Answer = Result<Outcome, Refusal>;

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
    pub(super) fn new(user: usize, state: P) -> Self {
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
    pub(super) fn clear_session(&mut self) {
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
pub(super) fn occupied(s: &P) -> bool {
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

    pub(super) fn count(&self, f: impl Fn(&Person) -> bool) -> usize {
        self.people.iter().filter(|p| f(p)).count()
    }

    pub(super) fn info(&self, transferred_by: Option<usize>) -> Arc<CallInfo> {
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
    /// The rules and limits the world follows.
    pub dialect: Arc<Dialect>,
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
    /// The cast `setup` under the canonical lifecycle.
    pub fn new(setup: [UserSetup; USERS]) -> Self {
        Self::with_dialect(setup, Dialect::canonical())
    }

    /// The cast `setup` under `dialect`.
    pub fn with_dialect(setup: [UserSetup; USERS], dialect: Arc<Dialect>) -> Self {
        let online = (0..USERS)
            .flat_map(|user| (0..setup[user].devices).map(move |slot| Dev { user, slot }))
            .collect();
        Self {
            setup,
            online,
            now: 0,
            calls: Vec::new(),
            expect: Expect::default(),
            dialect,
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

    pub(super) fn online_devices(&self, user: usize) -> BTreeSet<Dev> {
        self.devices_of(user)
            .into_iter()
            .filter(|d| self.online.contains(d))
            .collect()
    }

    /// In a session (or transferring away) in a live call other than `except`.
    pub(super) fn occupied_elsewhere(&self, user: usize, except: Option<usize>) -> bool {
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
    pub(super) fn busy(&self, user: usize, except: Option<usize>) -> bool {
        !self.setup[user].call_waiting && self.occupied_elsewhere(user, except)
    }

    pub(super) fn live_calls(&self) -> usize {
        self.calls.iter().filter(|c| c.live()).count()
    }

    // ----- telling devices ------------------------------------------------------------------

    /// A device is told something now, if it is online (an offline one cannot be told).
    pub(super) fn tell(&mut self, d: Dev, event: Event) {
        if self.online.contains(&d) {
            let now = self.now;
            self.expect.events.entry(d).or_default().push((now, event));
        }
    }

    /// Tells the session audience of call `c`, except `except`.
    pub(super) fn tell_session(&mut self, c: usize, event: Event, except: Option<Dev>) {
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

    pub(super) fn set_status(&mut self, c: usize, status: CallStatus) {
        self.calls[c].status = status;
        let id = self.calls[c].id;
        self.tell_session(c, Event::Status { call: id, status }, None);
    }

    /// The call ends: every device still attached (a seat in or waiting on the session, or
    /// ringing) is told once why; a transferor whose target still rings is first told that its
    /// transfer failed (487).
    pub(super) fn end(&mut self, c: usize, reason: EndReason) {
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
            op => Some(self.operation(op)),
        };
        self.expect.outcome = outcome.map(|a| a.unwrap_or_else(Outcome::Refused));
    }

    /// An operation: refused with 501 when the dialect lacks it (after the connection check,
    /// before anything about the call is looked at), else the operation's own rules.
    fn operation(&mut self, step: &Step) -> Answer {
        if let Some(capability) = self.dialect.lacking(step) {
            let by = step.device().expect("an operation has a device");
            return Err(if self.online.contains(&by) {
                Refusal::NotInDialect(capability)
            } else {
                Refusal::NotConnected
            });
        }
        match step {
            Step::Place {
                by,
                to,
                video,
                group,
            } => self.place(*by, to, *video, *group),
            other => self.on_call(other),
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
pub(super) fn check_invitees(users: &[usize], me: usize) -> Result<(), Refusal> {
    let mut seen = BTreeSet::new();
    if users.is_empty() || users.iter().any(|&u| u == me || !seen.insert(u)) {
        return Err(Refusal::BadArgument);
    }
    Ok(())
}
