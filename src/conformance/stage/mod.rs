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
//!
//! The `Given` and `When` steps are carried out here; the `Then` steps are checked in [`then`].

use serde_json::json;

use super::action::{Action, AutoStep, CallRef, Expectation, Operation, PlanChange, Setup};
use super::dialect;
use super::expect::Failure;
use super::rig::RigClient;
use super::sut::{Heard, Refusal, Sut};
use super::trace::{self, TraceBlock};
use crate::client::Placed;
use crate::core::{
    CallId, CallSnapshot, Capability, Endpoint, Event, Feature, Headers, Limits, Op, Plan, Policy,
    Reply, UserConfig, UserId,
};
use crate::driver::msg::ListenerAction;
use crate::profile::{InvitationField, Profile};
use crate::session::SessionConfig;
use std::collections::BTreeMap;
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
    /// `cometchat: rejectCall(REJECTED)`: the dialect's name for the operation, if it has one.
    vendor: Option<String>,
    result: Result<ReplyData, Refusal>,
}

impl LastOp {
    /// The step as failure lines show it: `` `When bob declines` (line 7, cometchat:
    /// rejectCall(REJECTED)) ``.
    fn shown(&self) -> String {
        match &self.vendor {
            Some(v) => format!("`{}` (line {}, {v})", self.step, self.line),
            None => format!("`{}` (line {})", self.step, self.line),
        }
    }
}

/// One scenario's world.
pub struct Stage {
    config: SessionConfig,
    /// The dialect the scenario is graded under (a built-in profile's name) and its policy,
    /// which is the server's too unless the run emulates another (`RunOptions::emulate`).
    dialect: String,
    grading: Arc<Policy>,
    /// The dialect's names for the invitation's fields (`names.incoming` of its profile).
    incoming_names: Arc<BTreeMap<String, InvitationField>>,
    /// The dialect's names for its operations (`names.operations`), for failure lines.
    operation_names: Arc<BTreeMap<Capability, String>>,
    /// The vendor's name for the operation sent last, if the dialect names it.
    vendor_op: Option<String>,
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
    /// What the in-process SDK's call listeners received (`adds the call listener`).
    heard: Heard,
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
            incoming_names: Arc::new(
                profile
                    .map(|p| p.names.incoming.clone())
                    .unwrap_or_default(),
            ),
            operation_names: Arc::new(
                profile
                    .map(|p| p.names.operations.clone())
                    .unwrap_or_default(),
            ),
            vendor_op: None,
            dialect: profile.map_or_else(|| "canonical".to_owned(), |p| p.name.clone()),
            tuned: false,
            session: None,
            calls: Vec::new(),
            last: None,
            unchecked: None,
            trace: Vec::new(),
            heard: Heard::default(),
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
                "{} was refused: {}\n  a refusal must be checked by the step right after it, \
                 e.g. `Then it fails with {}`",
                u.shown(),
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
            Action::Operate {
                device,
                op,
                headers,
            } => self.operate(&device, op, headers, step).await,
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
                self.incoming_names = Arc::new(profile.names.incoming.clone());
                self.operation_names = Arc::new(profile.names.operations.clone());
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
        headers: Headers,
        step: &StepInfo,
    ) -> Result<(), Failure> {
        let s = self.session().await?;
        if matches!(op, Operation::GoOffline | Operation::ComeOnline) {
            device_key(s, device)?;
        }
        let result = match op {
            Operation::GoOffline => self.connectivity(device, false).await?,
            Operation::ComeOnline => self.connectivity(device, true).await?,
            Operation::AddListener(id) => self.listener(device, &id, ListenerAction::Add).await?,
            Operation::RemoveListener(id) => {
                self.listener(device, &id, ListenerAction::Remove).await?
            }
            op => self.request(device, op, headers).await?,
        };
        let s = self.session.as_mut().expect("started above");
        s.settle().await.map_err(Failure::from)?;
        if let Ok(ReplyData::Placed(p)) = &result {
            self.calls.push(p.call);
        }
        let last = LastOp {
            step: step.written(),
            line: step.line,
            // The vendor's name for the operation, so a failure line reads in the SDK's terms.
            vendor: self
                .vendor_op
                .take()
                .map(|name| format!("{}: {name}", self.dialect)),
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

    async fn listener(
        &mut self,
        device: &str,
        id: &str,
        action: ListenerAction,
    ) -> Result<Result<ReplyData, Refusal>, Failure> {
        let s = self.session.as_mut().expect("started by operate");
        let result = s
            .listener(device, id, action, &mut self.heard)
            .await
            .map_err(Failure::from)?;
        Ok(result.map(|_| ReplyData::Done))
    }

    /// What the call listener `id` of `device` received since the last time it was asked.
    pub(super) async fn heard(&mut self, device: &str, id: &str) -> Result<Vec<Event>, Failure> {
        self.session().await?;
        let s = self.session.as_mut().expect("started above");
        let result = s
            .listener(device, id, ListenerAction::Take, &mut self.heard)
            .await
            .map_err(Failure::from)?;
        result.map_err(|r| Failure::new(format!("{device}'s call listener {id:?}: {r}")))
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
        headers: Headers,
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
            Operation::GoOffline
            | Operation::ComeOnline
            | Operation::AddListener(_)
            | Operation::RemoveListener(_) => None,
        };
        let c = call.unwrap_or(CallId(0));
        let op = match op {
            Operation::Place(place) => Op::Place(place),
            Operation::Ringing(_) => Op::ringing(c),
            Operation::Accept(_) => Op::accept(c),
            Operation::Decline(_, code) => Op::decline(c, code),
            Operation::Cancel(_) => Op::Cancel { call: c },
            Operation::Hangup(_) => Op::hangup(c),
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
                headers: Vec::new(),
            },
            Operation::Message(_, text) => Op::Message { call: c, text },
            Operation::CustomData(_, data) => Op::CustomData { call: c, data },
            Operation::EarlyMedia(_) => Op::early_media(c),
            Operation::Transfer(_, to) => Op::Transfer {
                call: c,
                target: UserId::new(&to),
            },
            Operation::GetCall(_) => Op::GetCall { call: c },
            Operation::GoOffline
            | Operation::ComeOnline
            | Operation::AddListener(_)
            | Operation::RemoveListener(_) => {
                unreachable!("connectivity and listeners are handled by operate")
            }
        };
        let mut op = op;
        if !headers.is_empty() {
            // The step checker allows headers only on operations that carry them.
            let name = op.name();
            let slot = op
                .headers_mut()
                .ok_or_else(|| Failure::new(format!("`{name}` carries no headers")))?;
            *slot = headers;
        }
        dialect::gate(&self.grading, &self.dialect, &op)?;
        self.vendor_op = Capability::needed_by(&op)
            .first()
            .and_then(|c| self.operation_names.get(c))
            .cloned();
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
}

fn device_key(s: &Sut, name: &str) -> Result<String, Failure> {
    s.device_key(name).map_err(Failure::from)
}

mod then;
