//! One case against a system under test: the cast provisioned, then each step carried out,
//! compared with the model's prediction, and the invariants checked on what the system showed.
//!
//! The system is a [`Sut`], the same device abstraction `certify` drives: the reference
//! implementation in this process, or devices behind an adapter. So a case sees exactly what a
//! scenario sees: each operation's answer (a reply, or a refusal's canonical code), every event
//! each device reported with the server's time, and each call's state from the server's admin
//! channel. A refusal is compared by its code only: an SDK reports the code and its own text, not
//! the model's reason (the in-process property test compares the reasons too).
//!
//! The SDKs' automatic steps are off (ring acknowledgement and starting the media session are
//! steps of their own), so every request in a case is one the case asked for. An operation of an
//! offline device is not sent: it has no connection to send it on, and the model says 401.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::client::DeviceOptions;
use crate::conformance::sut::{Sut, SutError};
use crate::core::{
    Alert, CallError, CallId, CallSnapshot, Delivery, GroupId, Limits, Media, Op, PlaceCall, Reply,
    UserId,
};
use crate::driver::limits::{REAL_TIME_ADVANCE_MARGIN_MS, REAL_TIME_DRIFT_MS_MAX};
use crate::model::compare::{check_events, check_snapshots, with_times_of};
use crate::model::invariants::{Observation, Observer};
use crate::model::{
    Dev, Dialect, GROUPS, LIVE_CALLS_MAX, Outcome, Step, USERS, World, call_type, user_name,
};
use crate::session::SessionConfig;

/// Why a case stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    /// The system disagreed with the model or broke an invariant at this step (counting from
    /// 1): the case fails, and is shrunk.
    Fails { step: usize, reason: String },
    /// The system broke (the adapter crashed, timed out, broke the protocol) or cannot do a
    /// step: exploring stops.
    Broken(SutError),
}

/// The limits a system is reset with under `dialect`: `base` (a profile's limits and policy)
/// with the model's ring timeout and live-call limit.
pub fn limits_of(dialect: &Dialect, base: &Limits) -> Limits {
    Limits {
        ring_timeout_ms: dialect.ring_timeout_ms,
        live_calls_max: LIVE_CALLS_MAX,
        ..base.clone()
    }
}

/// The session every case starts from: `limits`, the automatic steps off.
pub fn session_config(limits: Limits) -> SessionConfig {
    SessionConfig {
        limits,
        device: DeviceOptions {
            auto_ringing: false,
            auto_start_session: false,
            ..DeviceOptions::default()
        },
        ..SessionConfig::default()
    }
}

/// A case under way.
pub struct Case {
    sut: Sut,
    observer: Observer,
    /// Every device of the cast.
    devices: Vec<Dev>,
    online: BTreeSet<Dev>,
    /// Calls the model has placed before the current step, to resolve the calls steps count
    /// back to.
    placed: usize,
    /// How far an event's time may be from the model's (0 with a driven clock).
    slack_ms: u64,
    /// When the case began, about when the server's clock was reset to 0 (real time).
    began: Instant,
    /// The dialect has the call-state query: a device reads the call after entering it.
    can_read_calls: bool,
    /// Real time: when the step that lets time pass ends.
    pass_until: Option<Instant>,
    done: usize,
}

impl Case {
    /// Provisions `cast` (its users, their devices and settings, the groups) on `sut`, freshly
    /// reset.
    pub async fn start(mut sut: Sut, cast: &World) -> Result<Case, CaseError> {
        for u in 0..USERS {
            let labels: Vec<&str> = cast.devices_of(u).iter().map(|d| d.label()).collect();
            sut.add_user(&user_name(u), &labels, cast.setup[u].config())
                .await
                .map_err(|e| CaseError::Broken(e.context("provisioning the cast")))?;
        }
        for (name, members) in GROUPS {
            let members: Vec<String> = members.iter().map(|u| user_name(*u)).collect();
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            sut.add_group(name, &members)
                .await
                .map_err(|e| CaseError::Broken(e.context("provisioning the groups")))?;
        }
        let began = Instant::now();
        let slack_ms = sut.time_slack_ms();
        Ok(Case {
            sut,
            observer: Observer::new(cast).with_slack_ms(slack_ms),
            devices: cast.devices(),
            online: cast.online.clone(),
            placed: 0,
            slack_ms,
            began,
            can_read_calls: cast.dialect.has(crate::core::Capability::GetCall),
            pass_until: None,
            done: 0,
        })
    }

    /// Real time only, before `step` is applied to `world`: the model's clock catches up with
    /// the server's while nothing is due (no invitation rings), so that the times of later
    /// events agree again; while something is due it must not jump (a deadline would move),
    /// and the case cannot go on if the server gets too far ahead. A step that lets time pass
    /// is given the instant it ends at.
    pub fn before(&mut self, world: &mut World, step: &Step) -> Result<(), CaseError> {
        if self.slack_ms == 0 {
            return Ok(());
        }
        let ahead = self.elapsed_ms().saturating_sub(world.now);
        if ahead > 0 && !world.rings() {
            world.step(&Step::Advance { ms: ahead });
        } else if ahead > REAL_TIME_DRIFT_MS_MAX {
            return Err(CaseError::Broken(SutError::Unsupported(format!(
                "in real time the server's clock ran {ahead} ms ahead of the case's while an \
                 invitation rang (at most {REAL_TIME_DRIFT_MS_MAX} ms keep event times within \
                 the {} ms slack): the steps are too slow for real time; try fewer steps a \
                 case (--steps-max)",
                self.slack_ms
            ))));
        }
        if let Step::Advance { ms } = step {
            // As far ahead of the model as the server already is, so the lead does not grow;
            // a margin more when a ring timeout is due at the end, so it has fired on the
            // server when the events are read.
            let end = world.now + ms;
            let lead = self.elapsed_ms().saturating_sub(world.now);
            let margin = if world.due_at(end) {
                REAL_TIME_ADVANCE_MARGIN_MS
            } else {
                0
            };
            self.pass_until = Some(self.began + Duration::from_millis(end + lead + margin));
        }
        Ok(())
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.began.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Carries out `step` and compares it with `model`, the model's state after the step.
    pub async fn step(&mut self, step: &Step, model: &World) -> Result<(), CaseError> {
        self.done += 1;
        let done = self.done;
        let fails = |reason: String| CaseError::Fails { step: done, reason };
        let call = step.actor_and_call().map(|(_, b)| b.resolve(self.placed));
        let (seen, seed) = self.perform(step).await.map_err(CaseError::Broken)?;
        let seed = seed.map_err(fails)?;
        let events = self.take_events().map_err(CaseError::Broken)?;
        let snapshots = self.snapshots(model.calls.len()).await?;
        self.placed = model.calls.len();
        let outcome = agree(&seen, &model.expect.outcome, self.slack_ms).map_err(fails)?;
        check_events(model, &events, self.slack_ms).map_err(fails)?;
        check_snapshots(model, &snapshots, self.slack_ms).map_err(fails)?;
        let observation = Observation {
            step: step.clone(),
            call,
            outcome,
            seed,
            events,
            snapshots,
            now: model.now,
            online: self.online.clone(),
        };
        self.observer
            .observe(&observation)
            .map_err(|e| fails(format!("breaks an invariant: {e}")))
    }

    /// Does `step`; its answer, and for a successful accept or join the call's state as the
    /// device then reads it (how an SDK learns the hold and mute states of those already in it).
    async fn perform(&mut self, step: &Step) -> Result<(Option<Seen>, Read), SutError> {
        let seen = match step {
            Step::Advance { ms } => {
                // In real time, until the instant `before` set.
                let pass = match self.pass_until.take() {
                    Some(until) => until.saturating_duration_since(Instant::now()),
                    None => Duration::from_millis(*ms),
                };
                self.sut.advance(pass).await?;
                return Ok((None, Ok(None)));
            }
            Step::Offline { dev } | Step::Online { dev } => {
                let online = matches!(step, Step::Online { .. });
                match self.sut.connectivity(&dev.key(), online).await? {
                    Ok(()) => {}
                    Err(e) => {
                        return Err(SutError::Broken(format!(
                            "{} {}: {e}",
                            dev.key(),
                            if online {
                                "could not connect"
                            } else {
                                "could not disconnect"
                            }
                        )));
                    }
                }
                if online {
                    self.online.insert(*dev);
                } else {
                    self.online.remove(dev);
                }
                self.sut.settle().await?;
                return Ok((None, Ok(None)));
            }
            _ => {
                let by = step.device().unwrap_or(Dev { user: 0, slot: 0 });
                let op = self.op(step);
                if !self.online.contains(&by) {
                    // Nothing to send it on: the SDK is not connected.
                    Err(CallError::NotConnected.code())
                } else {
                    let is_entry = matches!(op, Op::Accept { .. } | Op::Join { .. });
                    let call = op.call();
                    let answer = self.sut.request(&by.key(), op).await?;
                    let seen: Seen = answer.map_err(|e| e.code);
                    self.sut.settle().await?;
                    if is_entry && seen == Ok(Reply::Done) && self.can_read_calls {
                        let seed = self.read_call(by, call).await?;
                        return Ok((Some(seen), seed));
                    }
                    seen
                }
            }
        };
        self.sut.settle().await?;
        Ok((Some(seen), Ok(None)))
    }

    /// The call as device `by` reads it with the call-state query; the dialect has it, so a
    /// refusal is a disagreement with the model.
    async fn read_call(&mut self, by: Dev, call: Option<CallId>) -> Result<Read, SutError> {
        let Some(call) = call else {
            return Ok(Ok(None));
        };
        Ok(
            match self.sut.request(&by.key(), Op::GetCall { call }).await? {
                Ok(Reply::Call(s)) => Ok(Some(s)),
                other => Err(format!(
                    "{} could not read call-{} right after entering it (the dialect has the \
                 call-state query): {other:?}",
                    by.key(),
                    call.0
                )),
            },
        )
    }

    /// The operation `step` asks for.
    fn op(&self, step: &Step) -> Op {
        let call = step
            .actor_and_call()
            .map_or(CallId(0), |(_, b)| b.resolve(self.placed));
        let user = |u: &usize| UserId::new(&user_name(*u));
        match step {
            Step::Place {
                to, video, group, ..
            } => Op::Place(PlaceCall {
                invitees: to.iter().map(user).collect(),
                call_type: call_type(*video),
                group: group.map(|g| GroupId::new(GROUPS[g].0)),
                alert: Alert::Ring,
                custom_data: None,
                headers: Vec::new(),
            }),
            Step::Ring { .. } => Op::ringing(call),
            Step::Accept { .. } => Op::accept(call),
            Step::StartSession { .. } => Op::StartSession { call },
            Step::Decline { code, .. } => Op::decline(call, *code),
            Step::Cancel { .. } => Op::Cancel { call },
            Step::Hangup { .. } => Op::hangup(call),
            Step::EndForAll { .. } => Op::EndForAll { call },
            Step::Join { .. } => Op::Join { call },
            Step::Invite { users, .. } => Op::Invite {
                call,
                users: users.iter().map(user).collect(),
            },
            Step::Hold { on, .. } => Op::Hold { call, on_hold: *on },
            Step::Mute { video, muted, .. } => Op::Mute {
                call,
                media: if *video { Media::Video } else { Media::Audio },
                muted: *muted,
            },
            Step::Dtmf { digits, .. } => Op::Dtmf {
                call,
                digits: digits.clone(),
            },
            Step::Transfer { to, .. } => Op::Transfer {
                call,
                target: user(to),
            },
            Step::GetCall { .. } => Op::GetCall { call },
            Step::Advance { .. } | Step::Offline { .. } | Step::Online { .. } => {
                unreachable!("time and presence are not operations")
            }
        }
    }

    /// What each device reported during the step.
    fn take_events(&mut self) -> Result<BTreeMap<Dev, Vec<Delivery>>, SutError> {
        let mut out = BTreeMap::new();
        for d in &self.devices {
            let list = self.sut.take_new(&d.key())?;
            if !list.is_empty() {
                out.insert(*d, list);
            }
        }
        Ok(out)
    }

    /// Every call the server holds, by id: as many as the model placed, and one more if the
    /// server has more.
    async fn snapshots(&mut self, placed: usize) -> Result<Vec<CallSnapshot>, CaseError> {
        let mut out = Vec::with_capacity(placed + 1);
        for n in 1..=placed as u64 + 1 {
            match self.sut.snapshot(CallId(n)).await {
                Ok(Some(s)) => out.push(s),
                Ok(None) => break,
                Err(e) => return Err(CaseError::Broken(e.context("reading the calls"))),
            }
        }
        Ok(out)
    }
}

/// An answer as the system gave it: the reply, or a refusal's code.
type Seen = Result<Reply, u16>;

/// The call as a device read it after entering it (none if it did not enter), or why it could
/// not.
type Read = Result<Option<CallSnapshot>, String>;

/// What the model's outcome looks like from outside.
fn seen_of_model(o: &Outcome) -> Seen {
    match o.clone() {
        Outcome::Placed {
            call,
            busy,
            unavailable,
        } => Ok(Reply::Placed {
            call,
            busy,
            unavailable,
        }),
        Outcome::Invited { busy, unavailable } => Ok(Reply::Invited { busy, unavailable }),
        Outcome::Snapshot(s) => Ok(Reply::Call(*s)),
        Outcome::Done => Ok(Reply::Done),
        Outcome::Refused(r) => Err(r.code()),
    }
}

/// The answer, if it agrees with the model's (then as the model words it, for the invariants);
/// a call's times in it within `slack_ms`.
fn agree(
    seen: &Option<Seen>,
    model: &Option<Outcome>,
    slack_ms: u64,
) -> Result<Option<Outcome>, String> {
    let mut predicted = model.as_ref().map(seen_of_model);
    if let (Some(Ok(Reply::Call(got))), Some(Ok(Reply::Call(want)))) = (seen, &mut predicted) {
        *want = with_times_of(got, want.clone(), slack_ms);
    }
    if *seen == predicted {
        return Ok(model.clone());
    }
    Err(format!(
        "the answer is {}; the model says {}",
        show_seen(seen),
        match model {
            Some(Outcome::Refused(r)) => format!("refused with {} ({r:?})", r.code()),
            _ => show_seen(&predicted),
        }
    ))
}

fn show_seen(s: &Option<Seen>) -> String {
    match s {
        None => "nothing".into(),
        Some(Err(code)) => format!("refused with {code}"),
        Some(Ok(reply)) => format!("{reply:?}"),
    }
}
