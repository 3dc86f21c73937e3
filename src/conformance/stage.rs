//! The interpreter of [`Action`]s: one system under test per scenario ([`Sut`]: the reference
//! implementation in this process, in virtual time, or devices behind an adapter), driven only
//! through the device abstraction.
//!
//! Rules it enforces, so that scenarios stay exact:
//! - An operation written with `When` that is refused must be checked by the very next step
//!   (`Then it fails with …`); any other step fails the scenario, naming the refusal.
//! - An operation written with `Given` must succeed; what it causes is taken as seen.
//! - `sees` takes, per device, the events received since that device's previous check.
//! - [`Expectation::AllChecked`] (appended to every scenario) fails on any event no step took.

use serde_json::{Value, json};

use super::action::{
    Action, AutoStep, CallRef, Expectation, ExpectedLine, FieldCheck, Operation, PlanChange, Setup,
};
use super::dialect;
use super::expect::{self, Failure, FailureKind};
use super::rig::RigClient;
use super::sut::{Refusal, Sut};
use super::trace::{self, TraceBlock};
use crate::client::Placed;
use crate::core::{
    CallId, CallSnapshot, Endpoint, Event, Feature, Limits, MemberSnapshot, Op, Plan, Policy,
    Reply, UserConfig, UserId,
};
use crate::profile::Profile;
use crate::session::SessionConfig;
use std::sync::Arc;

/// The step being carried out, as written.
#[derive(Debug, Clone)]
pub struct StepInfo {
    /// `Given`, `When`, `Then`, `And`, `But`.
    pub keyword: String,
    /// Written under `Given` (directly or through `And`/`But`).
    pub staging: bool,
    pub text: String,
    pub line: usize,
}

impl StepInfo {
    /// `When alice calls bob`.
    pub fn written(&self) -> String {
        format!("{} {}", self.keyword.trim(), self.text)
    }
}

/// A successful reply, kept for `the busy invitees are …` and `the reply has:`.
#[derive(Debug, Clone)]
enum ReplyData {
    Done,
    Placed(Placed),
    Invited {
        busy: Vec<UserId>,
        unavailable: Vec<UserId>,
    },
    Call(Box<CallSnapshot>),
}

#[derive(Debug, Clone)]
struct LastOp {
    step: String,
    line: usize,
    result: Result<ReplyData, Refusal>,
}

/// One scenario's world.
pub struct Stage {
    config: SessionConfig,
    /// The dialect the scenario is graded under (a built-in profile's name) and its policy,
    /// which is the server's too unless the run emulates another (`RunOptions::emulate`).
    dialect: String,
    grading: Arc<Policy>,
    /// A limit or an automatic step was changed: too late to pick a dialect, which sets both.
    tuned: bool,
    /// The remote system under test, when the run drives an adapter.
    rig: Option<RigClient>,
    session: Option<Sut>,
    /// Calls placed in the scenario, in order.
    calls: Vec<CallId>,
    last: Option<LastOp>,
    /// A refusal that no step has checked yet.
    unchecked: Option<LastOp>,
    trace: Vec<TraceBlock>,
}

impl Default for Stage {
    fn default() -> Self {
        Self::new(None, None, None)
    }
}

impl Stage {
    /// A stage for the reference implementation in process, or for the remote `rig`, graded
    /// under `profile` (canonical when `None`), with the server emulating `emulated` when given
    /// (else `profile` too).
    pub fn new(
        rig: Option<RigClient>,
        profile: Option<&Profile>,
        emulated: Option<&Profile>,
    ) -> Self {
        let mut config = SessionConfig {
            trace: true,
            ..SessionConfig::default()
        };
        let grading = profile.map(|p| Arc::new(p.policy())).unwrap_or_default();
        if let Some(p) = emulated.or(profile) {
            dialect::apply(&mut config, p);
        }
        Self {
            rig,
            config,
            grading,
            dialect: profile.map_or_else(|| "canonical".to_owned(), |p| p.name.clone()),
            tuned: false,
            session: None,
            calls: Vec::new(),
            last: None,
            unchecked: None,
            trace: Vec::new(),
        }
    }

    /// The trace so far.
    pub fn trace(&self) -> &[TraceBlock] {
        &self.trace
    }

    /// Carries out one step. Runs on the scenario's current-thread, paused-clock runtime.
    pub async fn run(&mut self, action: Action, step: &StepInfo) -> Result<(), Failure> {
        let is_expect = matches!(action, Action::Expect(_));
        let is_setup = matches!(action, Action::Setup(_));
        let result = self.run_inner(action, step).await;
        if let Some(Sut::Local(session)) = self.session.as_mut() {
            let mut entries = trace::take(session);
            if is_setup {
                // Devices connecting as users are added is the same in every scenario.
                entries.retain(|l| l.text != "· connected");
            }
            if !entries.is_empty() || !is_expect {
                self.trace.push(TraceBlock {
                    step: step.written(),
                    line: step.line,
                    entries,
                });
            }
        }
        result
    }

    async fn run_inner(&mut self, action: Action, step: &StepInfo) -> Result<(), Failure> {
        if let Some(u) = &self.unchecked
            && !matches!(action, Action::Expect(Expectation::Fails { .. }))
        {
            let e = u.result.as_ref().err().map(ToString::to_string);
            return Err(Failure::new(format!(
                "`{}` (line {}) was refused: {}\n  a refusal must be checked by the step right \
                 after it, e.g. `Then it fails with {}`",
                u.step,
                u.line,
                e.unwrap_or_default(),
                u.result.as_ref().err().map_or(0, |e| e.code),
            )));
        }
        match action {
            Action::Setup(setup) => {
                self.setup(setup).await?;
                if let Some(s) = &mut self.session {
                    s.settle().await.map_err(Failure::from)?;
                    s.take_all();
                }
                Ok(())
            }
            Action::Operate { device, op } => self.operate(&device, op, step).await,
            Action::Pass(by) => {
                let s = self.session().await?;
                s.advance(by).await.map_err(Failure::from)?;
                if step.staging {
                    s.take_all();
                }
                Ok(())
            }
            Action::Expect(expectation) => self.expect(expectation).await,
        }
    }

    async fn session(&mut self) -> Result<&mut Sut, Failure> {
        if self.session.is_none() {
            let sut = match &self.rig {
                None => Sut::local(self.config.clone()).await,
                Some(rig) => Sut::remote(rig.clone(), &self.config).await?,
            };
            self.session = Some(sut);
        }
        Ok(self.session.as_mut().expect("the session was just started"))
    }

    fn before_users(&self, what: &str) -> Result<(), Failure> {
        if self.session.is_some() {
            return Err(Failure::new(format!(
                "{what} must come before the first user is added"
            )));
        }
        Ok(())
    }

    // ----- Given -------------------------------------------------------------------------------

    async fn setup(&mut self, setup: Setup) -> Result<(), Failure> {
        match setup {
            Setup::Limit { name, value } => {
                self.before_users(&format!("the limit {name}"))?;
                self.tuned = true;
                let mut limits = serde_json::to_value(&self.config.limits)
                    .map_err(|e| Failure::new(e.to_string()))?;
                limits[name.as_str()] = json!(value);
                self.config.limits = serde_json::from_value::<Limits>(limits)
                    .map_err(|e| Failure::new(format!("the limit {name} = {value}: {e}")))?;
            }
            Setup::Dialect(name) => {
                self.before_users(&format!("the dialect {name}"))?;
                if self.tuned {
                    return Err(Failure::new(format!(
                        "the dialect {name} must come before any limit or automatic step it \
                         would replace"
                    )));
                }
                let profile = Profile::builtin(&name).map_err(|e| Failure::new(e.to_string()))?;
                dialect::apply(&mut self.config, &profile);
                self.grading = self.config.limits.policy.clone();
                self.dialect = name;
            }
            Setup::NoAutoStep(step) => {
                self.before_users("switching off an automatic step")?;
                self.tuned = true;
                match step {
                    AutoStep::AcknowledgeRinging => self.config.device.auto_ringing = false,
                    AutoStep::StartSession => self.config.device.auto_start_session = false,
                }
            }
            Setup::Users { names, labels } => {
                let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
                let s = self.session().await?;
                for name in names {
                    s.add_user(&name, &labels, UserConfig::default())
                        .await
                        .map_err(|e| {
                            Failure::from(e.context(&format!("cannot add user {name}")))
                        })?;
                }
            }
            Setup::Group { name, members } => {
                let members: Vec<&str> = members.iter().map(String::as_str).collect();
                self.session()
                    .await?
                    .add_group(&name, &members)
                    .await
                    .map_err(|e| Failure::from(e.context(&format!("cannot add group {name}"))))?;
            }
            Setup::PhoneNumber(user) => {
                self.configure(&user, |c| c.endpoint = Endpoint::Phone)
                    .await?;
            }
            Setup::CallWaiting(user) => self.configure(&user, |c| c.call_waiting = true).await?,
            Setup::EndPermission(user) => {
                self.configure(&user, |c| c.end_call_permission = true)
                    .await?;
            }
            Setup::Plan { user, change } => {
                self.configure(&user, |c| match change {
                    PlanChange::Excludes(Feature::OneToOneAudio) => c.plan.one_to_one_audio = false,
                    PlanChange::Excludes(Feature::OneToOneVideo) => c.plan.one_to_one_video = false,
                    PlanChange::Excludes(Feature::GroupCalls) => c.plan.group_calls = false,
                    PlanChange::MaxParticipants(n) => c.plan.max_participants = n,
                    PlanChange::AudioOnly => c.plan = Plan::audio_only(),
                    PlanChange::Full => c.plan = Plan::full(),
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Changes a user's settings on the server.
    async fn configure(
        &mut self,
        user: &str,
        change: impl FnOnce(&mut UserConfig),
    ) -> Result<(), Failure> {
        let s = self.session().await?;
        let current = s
            .user_config(user)
            .await
            .map_err(Failure::from)?
            .ok_or_else(|| Failure::new(format!("there is no user {user}; add it first")))?;
        let mut config = current;
        change(&mut config);
        s.set_user_config(user, config)
            .await
            .map_err(|e| Failure::from(e.context(&format!("cannot change {user}'s settings"))))
    }

    // ----- When --------------------------------------------------------------------------------

    fn call(&self, call: CallRef) -> Result<CallId, Failure> {
        match call {
            CallRef::Id(n) => Ok(CallId(n)),
            CallRef::Last => self.calls.last().copied().ok_or_else(|| {
                Failure::new("no call has been placed yet, so `the call` names nothing")
            }),
        }
    }

    async fn operate(
        &mut self,
        device: &str,
        op: Operation,
        step: &StepInfo,
    ) -> Result<(), Failure> {
        let s = self.session().await?;
        if matches!(op, Operation::GoOffline | Operation::ComeOnline) {
            device_key(s, device)?;
        }
        let result = match op {
            Operation::GoOffline => self.connectivity(device, false).await?,
            Operation::ComeOnline => self.connectivity(device, true).await?,
            op => self.request(device, op).await?,
        };
        let s = self.session.as_mut().expect("started above");
        s.settle().await.map_err(Failure::from)?;
        if let Ok(ReplyData::Placed(p)) = &result {
            self.calls.push(p.call);
        }
        let last = LastOp {
            step: step.written(),
            line: step.line,
            result,
        };
        if step.staging {
            if let Err(e) = &last.result {
                return Err(Failure::new(format!(
                    "setting the stage failed: `{}` was refused: {e}",
                    last.step
                )));
            }
            s.take_all();
        } else if last.result.is_err() {
            self.unchecked = Some(last.clone());
        }
        self.last = Some(last);
        Ok(())
    }

    async fn connectivity(
        &mut self,
        device: &str,
        online: bool,
    ) -> Result<Result<ReplyData, Refusal>, Failure> {
        let s = self.session.as_mut().expect("started by operate");
        let result = s
            .connectivity(device, online)
            .await
            .map_err(Failure::from)?;
        Ok(result.map(|()| ReplyData::Done))
    }

    /// Sends an operation from `device`; `Err(Failure)` only for a scenario mistake (unknown or
    /// offline device, no call yet), `Ok(Err(..))` for a refusal by the server.
    async fn request(
        &mut self,
        device: &str,
        op: Operation,
    ) -> Result<Result<ReplyData, Refusal>, Failure> {
        let call = match &op {
            Operation::Place(_) => None,
            Operation::Ringing(c)
            | Operation::Accept(c)
            | Operation::Decline(c, _)
            | Operation::Cancel(c)
            | Operation::Hangup(c)
            | Operation::EndForAll(c)
            | Operation::Join(c)
            | Operation::Invite(c, _)
            | Operation::StartSession(c)
            | Operation::Hold(c, _)
            | Operation::Mute(c, _, _)
            | Operation::Dtmf(c, _)
            | Operation::Info { call: c, .. }
            | Operation::Message(c, _)
            | Operation::CustomData(c, _)
            | Operation::EarlyMedia(c)
            | Operation::Transfer(c, _)
            | Operation::GetCall(c) => Some(self.call(*c)?),
            Operation::GoOffline | Operation::ComeOnline => None,
        };
        let c = call.unwrap_or(CallId(0));
        let op = match op {
            Operation::Place(place) => Op::Place(place),
            Operation::Ringing(_) => Op::Ringing { call: c },
            Operation::Accept(_) => Op::Accept { call: c },
            Operation::Decline(_, code) => Op::Decline { call: c, code },
            Operation::Cancel(_) => Op::Cancel { call: c },
            Operation::Hangup(_) => Op::Hangup { call: c },
            Operation::EndForAll(_) => Op::EndForAll { call: c },
            Operation::Join(_) => Op::Join { call: c },
            Operation::Invite(_, users) => Op::Invite {
                call: c,
                users: users.iter().map(|u| UserId::new(u)).collect(),
            },
            Operation::StartSession(_) => Op::StartSession { call: c },
            Operation::Hold(_, on_hold) => Op::Hold { call: c, on_hold },
            Operation::Mute(_, media, muted) => Op::Mute {
                call: c,
                media,
                muted,
            },
            Operation::Dtmf(_, digits) => Op::Dtmf { call: c, digits },
            Operation::Info { mime, body, .. } => Op::Info {
                call: c,
                mime,
                body,
            },
            Operation::Message(_, text) => Op::Message { call: c, text },
            Operation::CustomData(_, data) => Op::CustomData { call: c, data },
            Operation::EarlyMedia(_) => Op::EarlyMedia { call: c },
            Operation::Transfer(_, to) => Op::Transfer {
                call: c,
                target: UserId::new(&to),
            },
            Operation::GetCall(_) => Op::GetCall { call: c },
            Operation::GoOffline | Operation::ComeOnline => {
                unreachable!("connectivity is handled by operate")
            }
        };
        dialect::gate(&self.grading, &self.dialect, &op)?;
        let s = self.session.as_mut().expect("started by operate");
        let result = s.request(device, op).await.map_err(Failure::from)?;
        Ok(result.map(|reply| match reply {
            Reply::Placed {
                call,
                busy,
                unavailable,
            } => ReplyData::Placed(Placed {
                call,
                busy,
                unavailable,
            }),
            Reply::Invited { busy, unavailable } => ReplyData::Invited { busy, unavailable },
            Reply::Call(snap) => ReplyData::Call(Box::new(snap)),
            Reply::Done => ReplyData::Done,
        }))
    }

    // ----- Then --------------------------------------------------------------------------------

    async fn snapshot(&mut self, call: CallRef) -> Result<CallSnapshot, Failure> {
        let id = self.call(call)?;
        let s = self.session().await?;
        s.snapshot(id)
            .await
            .map_err(Failure::from)?
            .ok_or_else(|| Failure::new(format!("there is no {id}")))
    }

    async fn member(
        &mut self,
        call: CallRef,
        user: &str,
    ) -> Result<(CallSnapshot, MemberSnapshot), Failure> {
        let snap = self.snapshot(call).await?;
        let member = snap
            .members
            .iter()
            .find(|m| m.user.as_str() == user)
            .cloned()
            .ok_or_else(|| {
                let members: Vec<&str> = snap.members.iter().map(|m| m.user.as_str()).collect();
                Failure::new(format!(
                    "{user} is not a member of {}; its members are {}",
                    snap.call,
                    members.join(", ")
                ))
            })?;
        Ok((snap, member))
    }

    /// Each of `devices` received exactly `lines` since its last check, as `matches` compares.
    async fn sees(
        &mut self,
        devices: &[String],
        lines: &[ExpectedLine],
        matches: fn(&[ExpectedLine], &[crate::core::Delivery], u64) -> bool,
    ) -> Result<(), Failure> {
        let s = self.session().await?;
        let slack_ms = s.time_slack_ms();
        for d in devices {
            let key = device_key(s, d)?;
            let got = s.take_new(&key).map_err(Failure::from)?;
            if !matches(lines, &got, slack_ms) {
                return Err(expect::mismatch(&key, lines, &got));
            }
        }
        Ok(())
    }

    /// The probe of the dialect's absent capabilities (see `dialect.rs`), on the last call.
    async fn probe(&mut self, device: &str) -> Result<(), Failure> {
        let call = self.calls.last().copied().unwrap_or(CallId(1));
        let policy = self.grading.clone();
        let s = self.session().await?;
        let me = device_key(s, device)?;
        let me_user = me.split('/').next().unwrap_or_default().to_owned();
        let peer = s
            .device_names()
            .into_iter()
            .filter_map(|d| d.split('/').next().map(str::to_owned))
            .find(|u| *u != me_user)
            .ok_or_else(|| Failure::new("the probe needs a second user to call"))?;
        dialect::probe(s, &policy, &me, call, &UserId::new(&peer)).await?;
        Ok(())
    }

    async fn expect(&mut self, expectation: Expectation) -> Result<(), Failure> {
        match expectation {
            Expectation::Sees { devices, lines } => {
                self.sees(&devices, &lines, expect::lines_match).await
            }
            Expectation::SeesAnyOrder { devices, lines } => {
                self.sees(&devices, &lines, expect::lines_match_any_order)
                    .await
            }
            Expectation::AbsentRefused { device } => self.probe(&device).await,
            Expectation::SeesNothing { devices } => {
                let s = self.session().await?;
                for d in devices {
                    let key = device_key(s, &d)?;
                    let got = s.take_new(&key).map_err(Failure::from)?;
                    if !got.is_empty() {
                        return Err(expect::mismatch(&key, &[], &got));
                    }
                }
                Ok(())
            }
            Expectation::NobodySeesAnything | Expectation::AllChecked => {
                let all = matches!(expectation, Expectation::AllChecked);
                let s = self.session().await?;
                let names: Vec<String> = s.device_names();
                let mut message = String::new();
                let mut first: Option<(String, Vec<String>)> = None;
                for name in names {
                    let got = s.take_new(&name).map_err(Failure::from)?;
                    if got.is_empty() {
                        continue;
                    }
                    let lines: Vec<String> = got.iter().map(expect::stamped).collect();
                    message.push_str(&expect::block(&name, &lines));
                    first.get_or_insert((name, lines));
                }
                match first {
                    None => Ok(()),
                    Some((device, actual)) => Err(Failure {
                        message: if all {
                            format!(
                                "devices received events that no step checked (add `Then … \
                                 sees:` steps for them)\n{message}"
                            )
                        } else {
                            format!("devices received events:\n{message}")
                        },
                        device: Some(device),
                        expected: Vec::new(),
                        actual,
                        kind: FailureKind::Mismatch,
                    }),
                }
            }
            Expectation::Fails { code, saying } => {
                self.unchecked = None;
                let Some(last) = &self.last else {
                    return Err(Failure::new("no operation came before this step"));
                };
                match &last.result {
                    Ok(_) => Err(Failure::new(format!(
                        "expected `{}` (line {}) to fail with {code}, but it succeeded",
                        last.step, last.line
                    ))),
                    Err(e) if e.code != code => Err(Failure::new(format!(
                        "expected `{}` (line {}) to fail with {code}, but it failed with {}: {e}",
                        last.step, last.line, e.code
                    ))),
                    Err(e) => match saying {
                        Some(text) if !e.to_string().contains(&text) => Err(Failure::new(format!(
                            "`{}` failed with {code} as expected, but saying \"{e}\", \
                                 which does not contain \"{text}\"",
                            last.step
                        ))),
                        _ => Ok(()),
                    },
                }
            }
            Expectation::Status { call, status } => {
                let snap = self.snapshot(call).await?;
                if snap.status == status {
                    Ok(())
                } else {
                    Err(Failure::new(format!(
                        "expected {} to be {status}, but it is {}",
                        snap.call, snap.status
                    )))
                }
            }
            Expectation::EndReason { call, reason } => {
                let snap = self.snapshot(call).await?;
                match &snap.end_reason {
                    Some(r) if r.to_string() == reason => Ok(()),
                    Some(r) => Err(Failure::new(format!(
                        "expected {} to have ended: {reason}\n  but it ended: {r}",
                        snap.call
                    ))),
                    None => Err(Failure::new(format!(
                        "expected {} to have ended: {reason}\n  but it is still {}",
                        snap.call, snap.status
                    ))),
                }
            }
            Expectation::EndCode { call, code } => {
                let snap = self.snapshot(call).await?;
                match &snap.end_reason {
                    Some(r) if r.code() == code => Ok(()),
                    Some(r) => Err(Failure::new(format!(
                        "expected {} to have ended with code {code}, but it ended with {} ({r})",
                        snap.call,
                        r.code()
                    ))),
                    None => Err(Failure::new(format!(
                        "expected {} to have ended with code {code}, but it is still {}",
                        snap.call, snap.status
                    ))),
                }
            }
            Expectation::MemberState { call, user, state } => {
                let (snap, m) = self.member(call, &user).await?;
                if m.state.to_string() == state {
                    Ok(())
                } else {
                    Err(Failure::new(format!(
                        "expected {user}'s state in {} to be {state}, but it is {}",
                        snap.call, m.state
                    )))
                }
            }
            Expectation::OnHold {
                call,
                user,
                on_hold,
            } => {
                let (snap, m) = self.member(call, &user).await?;
                if m.on_hold == on_hold {
                    Ok(())
                } else {
                    let is = if m.on_hold { "on hold" } else { "not on hold" };
                    Err(Failure::new(format!("{user} has {} {is}", snap.call)))
                }
            }
            Expectation::Muted {
                call,
                user,
                media,
                muted,
            } => {
                let (snap, m) = self.member(call, &user).await?;
                let is = match media {
                    crate::core::Media::Audio => m.audio_muted,
                    crate::core::Media::Video => m.video_muted,
                };
                if is == muted {
                    Ok(())
                } else {
                    let word = if is { "muted" } else { "unmuted" };
                    Err(Failure::new(format!(
                        "{user}'s {media:?} in {} is {word}",
                        snap.call
                    )))
                }
            }
            Expectation::Invitees { busy, users } => {
                let kind = if busy { "busy" } else { "unavailable" };
                let got: Vec<String> = match self.last.as_ref().map(|l| &l.result) {
                    Some(Ok(ReplyData::Placed(p))) => {
                        { if busy { &p.busy } else { &p.unavailable } }
                            .iter()
                            .map(ToString::to_string)
                            .collect()
                    }
                    Some(Ok(ReplyData::Invited {
                        busy: b,
                        unavailable: u,
                    })) => if busy { b } else { u }
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    _ => {
                        return Err(Failure::new(
                            "the last operation was not a successful place or invite",
                        ));
                    }
                };
                if got == users {
                    Ok(())
                } else {
                    let show = |v: &[String]| {
                        if v.is_empty() {
                            "none".to_owned()
                        } else {
                            v.join(", ")
                        }
                    };
                    Err(Failure::new(format!(
                        "expected the {kind} invitees to be {}, but they are {}",
                        show(&users),
                        show(&got)
                    )))
                }
            }
            Expectation::ReplyFields(fields) => {
                let value = match self.last.as_ref().map(|l| &l.result) {
                    Some(Ok(reply)) => reply_json(reply),
                    Some(Err(e)) => {
                        return Err(Failure::new(format!(
                            "the last operation was refused ({e}); there is no reply to look at"
                        )));
                    }
                    None => return Err(Failure::new("no operation came before this step")),
                };
                let slack_ms = self.session().await?.time_slack_ms();
                check_fields("the reply", &value, &fields, slack_ms)
            }
            Expectation::EventFields {
                device,
                invitation,
                fields,
            } => {
                let s = self.session().await?;
                let key = device_key(s, &device)?;
                let events = s.events(&key).map_err(Failure::from)?;
                let found = events.iter().rev().find(|d| {
                    !invitation
                        || matches!(d.event, Event::Incoming { .. } | Event::Notified { .. })
                });
                let Some(d) = found else {
                    let what = if invitation {
                        "an invitation"
                    } else {
                        "any event"
                    };
                    return Err(Failure::new(format!("{key} has not received {what}")));
                };
                let value =
                    serde_json::to_value(&d.event).map_err(|e| Failure::new(e.to_string()))?;
                let what = format!("the event `{}`", d.event);
                check_fields(&what, &value, &fields, s.time_slack_ms())
            }
        }
    }
}

fn device_key(s: &Sut, name: &str) -> Result<String, Failure> {
    s.device_key(name).map_err(Failure::from)
}

fn reply_json(reply: &ReplyData) -> Value {
    match reply {
        ReplyData::Done => json!({}),
        ReplyData::Placed(p) => json!({
            "call": p.call,
            "busy": p.busy,
            "unavailable": p.unavailable,
        }),
        ReplyData::Invited { busy, unavailable } => json!({
            "busy": busy,
            "unavailable": unavailable,
        }),
        ReplyData::Call(snapshot) => serde_json::to_value(snapshot).unwrap_or(Value::Null),
    }
}

/// The value at a dotted path (`info.invitees`, `members.1.state`).
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A JSON value as a table cell: `none` for null, lists joined with `, `.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Checks `fields` of `value`. A field named `…_ms` is a time (units last): it matches within
/// `slack_ms`, as event times do (0 with a driven clock).
fn check_fields(
    what: &str,
    value: &Value,
    fields: &[FieldCheck],
    slack_ms: u64,
) -> Result<(), Failure> {
    let near = |v: &Value, f: &FieldCheck| {
        f.path.ends_with("_ms")
            && matches!((v.as_u64(), f.value.parse::<u64>()), (Some(a), Ok(b)) if a.abs_diff(b) <= slack_ms)
    };
    let mut wrong = Vec::new();
    for f in fields {
        match lookup(value, &f.path) {
            Some(v) if show(v) == f.value || near(v, f) => {}
            Some(v) => wrong.push(format!(
                "  `{}` is `{}`, expected `{}`",
                f.path,
                show(v),
                f.value
            )),
            None => wrong.push(format!("  `{}` does not exist", f.path)),
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    Err(Failure::new(format!(
        "{what} does not have the expected fields:\n{}\n  its fields:\n{}",
        wrong.join("\n"),
        pretty
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_fields_match_within_the_slack_and_others_exactly() {
        let v = json!({"created_ms": 3004, "call": 1});
        let check = |path: &str, value: &str| FieldCheck {
            path: path.into(),
            value: value.into(),
        };
        assert!(check_fields("r", &v, &[check("created_ms", "3000")], 0).is_err());
        assert!(check_fields("r", &v, &[check("created_ms", "3000")], 250).is_ok());
        assert!(check_fields("r", &v, &[check("created_ms", "3300")], 250).is_err());
        // Only `…_ms` fields are times.
        assert!(check_fields("r", &v, &[check("call", "2")], 250).is_err());
    }

    #[test]
    fn field_paths() {
        let v = json!({"info": {"invitees": ["bob", "carol"], "group": null, "n": 3}});
        assert_eq!(
            lookup(&v, "info.invitees").map(show),
            Some("bob, carol".into())
        );
        assert_eq!(
            lookup(&v, "info.invitees.1").map(show),
            Some("carol".into())
        );
        assert_eq!(lookup(&v, "info.group").map(show), Some("none".into()));
        assert_eq!(lookup(&v, "info.n").map(show), Some("3".into()));
        assert!(lookup(&v, "info.nope").is_none());
    }
}
