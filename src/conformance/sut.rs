//! The system under test, as the scenario stage drives it: one device abstraction with two
//! implementations — the reference implementation in this process (a [`Session`] of the
//! reference server and client SDK, in virtual time), and a remote one (devices behind an
//! adapter process, a `callconf serve --clock manual` of its own; [`super::rig`]). A replay of a
//! recorded transcript is meant to be the third.
//!
//! Everything the stage needs goes through here: provisioning, operations, connectivity, time,
//! settling, each device's events, and the server-state queries (`the call is connected`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::expect::{Failure, FailureKind};
use super::rig::{RigClient, Started};
use crate::client::ClientError;
use crate::core::{CallId, CallSnapshot, Core, Delivery, Event, Op, Reply, UserConfig, UserId};
use crate::driver::msg::{Automatic, ListenerAction};
use crate::server::TraceEntry;
use crate::session::{Session, SessionConfig};

/// A refused operation: the canonical code and the system's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl From<ClientError> for Refusal {
    fn from(e: ClientError) -> Self {
        let message = match &e {
            ClientError::Refused(c) => c.to_string(),
            other => other.to_string(),
        };
        Refusal {
            code: e.code(),
            message,
        }
    }
}

/// Why the stage could not carry out a step; each kind gives the scenario its own verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SutError {
    /// The scenario names something the system does not have (an unknown or offline device):
    /// failed.
    Scenario(String),
    /// The adapter or the server behind it broke (crashed, timed out, broke the protocol):
    /// error.
    Broken(String),
    /// The step needs what the adapter declared it cannot do: unimplemented.
    Unsupported(String),
}

impl SutError {
    /// The same error with `what` in front of its message.
    pub fn context(self, what: &str) -> SutError {
        match self {
            SutError::Scenario(m) => SutError::Scenario(format!("{what}: {m}")),
            SutError::Broken(m) => SutError::Broken(format!("{what}: {m}")),
            SutError::Unsupported(m) => SutError::Unsupported(format!("{what}: {m}")),
        }
    }
}

impl From<SutError> for Failure {
    fn from(e: SutError) -> Failure {
        match e {
            SutError::Scenario(m) => Failure::of(FailureKind::Mismatch, m),
            SutError::Broken(m) => Failure::of(FailureKind::Broken, m),
            SutError::Unsupported(m) => Failure::of(FailureKind::Unsupported, m),
        }
    }
}

/// What the in-process SDK's call listeners received, per `(device key, listener id)`.
pub type Heard = BTreeMap<(String, String), Arc<Mutex<Vec<Event>>>>;

fn lock(log: &Mutex<Vec<Event>>) -> std::sync::MutexGuard<'_, Vec<Event>> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}

/// The code with which an adapter answers an operation it does not support
/// (docs/driver-protocol.md §4).
pub const UNSUPPORTED_OPERATION: u16 = 1002;

/// One device's recording on the remote side.
#[derive(Default)]
struct Recording {
    events: Vec<Delivery>,
    taken: usize,
}

/// Devices behind an adapter.
pub struct Remote {
    rig: RigClient,
    /// What the adapter declared, and whether the server's clock is driven.
    started: Started,
    /// user → its device keys, in registration order.
    users: BTreeMap<String, Vec<String>>,
    recordings: BTreeMap<String, Recording>,
    configs: HashMap<String, UserConfig>,
}

impl Remote {
    /// The full name of a device given as `user` (its first device) or `user/label`.
    fn key(&self, name: &str) -> Option<String> {
        if self.recordings.contains_key(name) {
            return Some(name.to_owned());
        }
        self.users.get(name).and_then(|k| k.first()).cloned()
    }
}

pub enum Sut {
    Local(Box<Session>),
    Remote(Box<Remote>),
}

impl Sut {
    pub async fn local(config: SessionConfig) -> Sut {
        Sut::Local(Box::new(Session::start(config).await))
    }

    /// A fresh scenario on the rig: the server reset with `limits`, the adapter's devices gone.
    /// Unsupported when the scenario switches off an automatic step the adapter cannot.
    pub async fn remote(rig: RigClient, config: &SessionConfig) -> Result<Sut, SutError> {
        let automatic = Automatic {
            ringing: config.device.auto_ringing,
            start_session: config.device.auto_start_session,
        };
        let started = rig
            .begin(config.limits.clone(), automatic)
            .await
            .map_err(SutError::Broken)?;
        let can_switch_off = |step: &str| started.capabilities.automatic.iter().any(|a| a == step);
        for (step, on) in [
            ("ringing", automatic.ringing),
            ("start_session", automatic.start_session),
        ] {
            if !on && !can_switch_off(step) {
                return Err(SutError::Unsupported(format!(
                    "the scenario switches off the automatic step `{step}`, which the adapter \
                     declares it cannot (capabilities.automatic)"
                )));
            }
        }
        Ok(Sut::Remote(Box::new(Remote {
            rig,
            started,
            users: BTreeMap::new(),
            recordings: BTreeMap::new(),
            configs: HashMap::new(),
        })))
    }

    pub async fn add_user(
        &mut self,
        name: &str,
        labels: &[&str],
        config: UserConfig,
    ) -> Result<(), SutError> {
        match self {
            Sut::Local(s) => s
                .add_user(name, labels, config)
                .await
                .map_err(|e| SutError::Scenario(e.to_string())),
            Sut::Remote(r) => {
                if r.users.contains_key(name) {
                    return Err(SutError::Scenario(format!("user {name} exists")));
                }
                let owned: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
                r.rig
                    .add_user(name.to_owned(), owned, config.clone())
                    .await
                    .map_err(SutError::Broken)?;
                let keys: Vec<String> = labels.iter().map(|l| format!("{name}/{l}")).collect();
                for k in &keys {
                    r.recordings.insert(k.clone(), Recording::default());
                }
                r.users.insert(name.to_owned(), keys);
                r.configs.insert(name.to_owned(), config);
                Ok(())
            }
        }
    }

    pub async fn add_group(&mut self, name: &str, members: &[&str]) -> Result<(), SutError> {
        match self {
            Sut::Local(s) => s
                .add_group(name, members)
                .await
                .map_err(|e| SutError::Scenario(e.to_string())),
            Sut::Remote(r) => {
                let members = members.iter().map(|m| (*m).to_owned()).collect();
                r.rig
                    .add_group(name.to_owned(), members)
                    .await
                    .map_err(SutError::Broken)
            }
        }
    }

    pub async fn user_config(&mut self, user: &str) -> Result<Option<UserConfig>, SutError> {
        match self {
            Sut::Local(s) => {
                let id = UserId::new(user);
                s.server()
                    .admin(move |core: &mut Core| core.user_config(&id).cloned())
                    .await
                    .map_err(|e| SutError::Broken(e.to_string()))
            }
            Sut::Remote(r) => Ok(r.configs.get(user).cloned()),
        }
    }

    pub async fn set_user_config(
        &mut self,
        user: &str,
        config: UserConfig,
    ) -> Result<(), SutError> {
        match self {
            Sut::Local(s) => s
                .set_user_config(user, config)
                .await
                .map_err(|e| SutError::Scenario(e.to_string())),
            Sut::Remote(r) => {
                r.rig
                    .set_user(user.to_owned(), config.clone())
                    .await
                    .map_err(SutError::Broken)?;
                r.configs.insert(user.to_owned(), config);
                Ok(())
            }
        }
    }

    /// The full name (`user/label`) of a device given as `user` or `user/label`.
    pub fn device_key(&self, name: &str) -> Result<String, SutError> {
        let known = || self.device_names().join(", ");
        match self {
            Sut::Local(s) => s
                .device_key(name)
                .map_err(|e| SutError::Scenario(format!("{e}; the devices are {}", known()))),
            Sut::Remote(r) => r.key(name).ok_or_else(|| {
                SutError::Scenario(format!("no device `{name}`; the devices are {}", known()))
            }),
        }
    }

    pub fn device_names(&self) -> Vec<String> {
        match self {
            Sut::Local(s) => s.device_names().map(str::to_owned).collect(),
            Sut::Remote(r) => r.users.values().flatten().cloned().collect(),
        }
    }

    /// How far an event's time may be from the time a `sees` line gives: 0 with a driven
    /// clock, where every time is exact; a real-time run is only as exact as its host.
    pub fn time_slack_ms(&self) -> u64 {
        match self {
            Sut::Local(_) => 0,
            Sut::Remote(r) if r.started.clock_driven => 0,
            Sut::Remote(_) => crate::driver::limits::WALL_TIME_SLACK_MS,
        }
    }

    /// Device `name` asks for `op`; `Err` for a scenario mistake (an unknown or offline
    /// device), a broken adapter or an operation it does not have; `Ok(Err)` for a refusal.
    pub async fn request(
        &mut self,
        name: &str,
        op: Op,
    ) -> Result<Result<Reply, Refusal>, SutError> {
        match self {
            Sut::Local(s) => {
                let d = s.device(name).map_err(|e| {
                    let known: Vec<&str> = s.device_names().collect();
                    SutError::Scenario(format!(
                        "{e}; the devices are {} (an offline device cannot act)",
                        known.join(", ")
                    ))
                })?;
                let done = |r: Result<(), ClientError>| r.map(|()| Reply::Done);
                let r = match op {
                    // These go through the SDK's own methods, which take the automatic steps.
                    Op::Accept { call, headers } => {
                        done(d.accept_with_headers(call, headers).await)
                    }
                    Op::Join { call } => done(d.join(call).await),
                    Op::StartSession { call } => done(d.start_session(call).await),
                    other => d.request(other).await,
                };
                Ok(r.map_err(Refusal::from))
            }
            Sut::Remote(r) => {
                let key = r
                    .key(name)
                    .ok_or_else(|| SutError::Scenario(format!("no device `{name}`")))?;
                let what = op.name();
                if !r.started.capabilities.operations.iter().any(|o| o == what) {
                    return Err(SutError::Unsupported(format!(
                        "the operation `{what}` is not among the adapter's \
                         capabilities.operations"
                    )));
                }
                let result = r.rig.op(key, op).await.map_err(SutError::Broken)?;
                match result {
                    Err(e) if e.code == UNSUPPORTED_OPERATION => {
                        Err(SutError::Unsupported(format!(
                            "the adapter answered `{what}` with {UNSUPPORTED_OPERATION} \
                             (unsupported operation): {}",
                            e.message
                        )))
                    }
                    other => Ok(other.map_err(|e| Refusal {
                        code: e.code,
                        message: e.message,
                    })),
                }
            }
        }
    }

    /// A call listener of device `name`'s SDK, by id (CometChat `addCallListener(id)` /
    /// `removeCallListener(id)`): add it, remove it, or take what it received since the last
    /// take. A removed listener can still be taken from, so that anything the SDK hands it after
    /// its removal shows. `heard` keeps what the in-process SDK's listeners received; an adapter
    /// keeps its own. `Ok(Err)` is a refusal (an id registered twice, an unknown id taken).
    pub async fn listener(
        &mut self,
        name: &str,
        listener: &str,
        action: ListenerAction,
        heard: &mut Heard,
    ) -> Result<Result<Vec<Event>, Refusal>, SutError> {
        let key = self.device_key(name)?;
        match self {
            Sut::Local(s) => {
                let d = s
                    .device(&key)
                    .map_err(|e| SutError::Scenario(e.to_string()))?;
                let slot = (key, listener.to_owned());
                Ok(match action {
                    ListenerAction::Add => {
                        let log = heard.entry(slot).or_default().clone();
                        d.add_listener(listener, move |delivery| {
                            lock(&log).push(delivery.event.clone());
                        })
                        .map(|()| Vec::new())
                        .map_err(Refusal::from)
                    }
                    ListenerAction::Remove => {
                        d.remove_listener(listener);
                        Ok(Vec::new())
                    }
                    ListenerAction::Take => match heard.get(&slot) {
                        Some(log) => Ok(std::mem::take(&mut *lock(log))),
                        None => Err(Refusal {
                            code: 404,
                            message: format!("no listener with id {listener:?}"),
                        }),
                    },
                })
            }
            Sut::Remote(r) => {
                if !r.started.capabilities.listeners {
                    return Err(SutError::Unsupported(
                        "the adapter does not declare capabilities.listeners (device.listener)"
                            .to_owned(),
                    ));
                }
                let result = r
                    .rig
                    .listener(key, listener.to_owned(), action)
                    .await
                    .map_err(SutError::Broken)?;
                match result {
                    Err(e) => Ok(Err(Refusal {
                        code: e.code,
                        message: e.message,
                    })),
                    Ok(v) if action == ListenerAction::Take => {
                        let events = v.get("events").cloned().unwrap_or_default();
                        serde_json::from_value::<Vec<Event>>(events)
                            .map(Ok)
                            .map_err(|e| {
                                SutError::Broken(format!(
                                    "adapter error 1103: the result of device.listener take is \
                                     not {{\"events\": [...]}} of events: {e}"
                                ))
                            })
                    }
                    Ok(_) => Ok(Ok(Vec::new())),
                }
            }
        }
    }

    pub async fn connectivity(
        &mut self,
        name: &str,
        online: bool,
    ) -> Result<Result<(), Refusal>, SutError> {
        let key = self.device_key(name)?;
        match self {
            Sut::Local(s) => {
                let r = if online {
                    s.reconnect(&key).await
                } else {
                    s.disconnect(&key).await
                };
                match r {
                    Ok(()) => Ok(Ok(())),
                    Err(crate::session::SessionError::Client(e)) => Ok(Err(e.into())),
                    Err(e) => Err(SutError::Scenario(e.to_string())),
                }
            }
            Sut::Remote(r) => {
                let result = r.rig.online(key, online).await.map_err(SutError::Broken)?;
                Ok(result.map_err(|e| Refusal {
                    code: e.code,
                    message: e.message,
                }))
            }
        }
    }

    /// Lets `by` pass (virtual time here, the manual clock there, or really waiting where the
    /// server's clock is not driven), then settles.
    pub async fn advance(&mut self, by: Duration) -> Result<(), SutError> {
        match self {
            Sut::Local(s) => {
                s.advance(by).await;
                Ok(())
            }
            Sut::Remote(r) => {
                let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
                let wait_max = crate::driver::limits::WALL_PASS_MS_MAX;
                if !r.started.clock_driven && ms > wait_max {
                    return Err(SutError::Unsupported(format!(
                        "letting {ms} ms pass needs a driven clock: the system under test's \
                         clock is real time, and waits longer than {wait_max} ms are not made"
                    )));
                }
                self.settle().await?;
                if let Sut::Remote(r) = self {
                    r.rig.advance(ms).await.map_err(SutError::Broken)?;
                }
                self.settle().await
            }
        }
    }

    /// Waits until every device has handled everything sent so far.
    pub async fn settle(&mut self) -> Result<(), SutError> {
        match self {
            Sut::Local(s) => {
                s.settle().await;
                Ok(())
            }
            Sut::Remote(r) => {
                for (key, events) in r.rig.settle().await.map_err(SutError::Broken)? {
                    r.recordings.entry(key).or_default().events.extend(events);
                }
                Ok(())
            }
        }
    }

    /// What device `key` received since the last take.
    pub fn take_new(&mut self, key: &str) -> Result<Vec<Delivery>, SutError> {
        match self {
            Sut::Local(s) => s
                .take_new(key)
                .map_err(|e| SutError::Scenario(e.to_string())),
            Sut::Remote(r) => {
                let rec = r
                    .recordings
                    .get_mut(key)
                    .ok_or_else(|| SutError::Scenario(format!("no device `{key}`")))?;
                let new = rec.events[rec.taken..].to_vec();
                rec.taken = rec.events.len();
                Ok(new)
            }
        }
    }

    /// Everything device `key` received.
    pub fn events(&self, key: &str) -> Result<Vec<Delivery>, SutError> {
        match self {
            Sut::Local(s) => s.events(key).map_err(|e| SutError::Scenario(e.to_string())),
            Sut::Remote(r) => r
                .recordings
                .get(key)
                .map(|rec| rec.events.clone())
                .ok_or_else(|| SutError::Scenario(format!("no device `{key}`"))),
        }
    }

    pub fn take_all(&mut self) {
        match self {
            Sut::Local(s) => s.take_all(),
            Sut::Remote(r) => {
                for rec in r.recordings.values_mut() {
                    rec.taken = rec.events.len();
                }
            }
        }
    }

    /// A call's state on the server, without authorization.
    pub async fn snapshot(&mut self, call: CallId) -> Result<Option<CallSnapshot>, SutError> {
        match self {
            Sut::Local(s) => s
                .server()
                .admin(move |core: &mut Core| core.call_snapshot(call))
                .await
                .map_err(|e| SutError::Broken(e.to_string())),
            Sut::Remote(r) => r.rig.snapshot(call).await.map_err(SutError::Broken),
        }
    }

    /// The server's trace since the last take (in process only).
    pub fn take_trace(&mut self) -> Vec<TraceEntry> {
        match self {
            Sut::Local(s) => s.take_trace(),
            Sut::Remote(_) => Vec::new(),
        }
    }
}
