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
use std::time::Duration;

use super::rig::RigClient;
use crate::client::ClientError;
use crate::core::{CallId, CallSnapshot, Core, Delivery, Op, Reply, UserConfig, UserId};
use crate::driver::msg::Automatic;
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

/// The system under test is broken (an adapter that misbehaved): the scenario's verdict is
/// error, not failed.
#[derive(Debug, Clone)]
pub struct Broken(pub String);

/// One device's recording on the remote side.
#[derive(Default)]
struct Recording {
    events: Vec<Delivery>,
    taken: usize,
}

/// Devices behind an adapter.
pub struct Remote {
    rig: RigClient,
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
    Remote(Remote),
}

impl Sut {
    pub async fn local(config: SessionConfig) -> Sut {
        Sut::Local(Box::new(Session::start(config).await))
    }

    /// A fresh scenario on the rig: the server reset with `limits`, the adapter's devices gone.
    pub async fn remote(rig: RigClient, config: &SessionConfig) -> Result<Sut, Broken> {
        let automatic = Automatic {
            ringing: config.device.auto_ringing,
            start_session: config.device.auto_start_session,
        };
        rig.begin(config.limits.clone(), automatic)
            .await
            .map_err(Broken)?;
        Ok(Sut::Remote(Remote {
            rig,
            users: BTreeMap::new(),
            recordings: BTreeMap::new(),
            configs: HashMap::new(),
        }))
    }

    pub async fn add_user(
        &mut self,
        name: &str,
        labels: &[&str],
        config: UserConfig,
    ) -> Result<(), String> {
        match self {
            Sut::Local(s) => s
                .add_user(name, labels, config)
                .await
                .map_err(|e| e.to_string()),
            Sut::Remote(r) => {
                if r.users.contains_key(name) {
                    return Err(format!("user {name} exists"));
                }
                let owned: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
                r.rig
                    .add_user(name.to_owned(), owned, config.clone())
                    .await?;
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

    pub async fn add_group(&mut self, name: &str, members: &[&str]) -> Result<(), String> {
        match self {
            Sut::Local(s) => s.add_group(name, members).await.map_err(|e| e.to_string()),
            Sut::Remote(r) => {
                let members = members.iter().map(|m| (*m).to_owned()).collect();
                r.rig.add_group(name.to_owned(), members).await
            }
        }
    }

    pub async fn user_config(&mut self, user: &str) -> Result<Option<UserConfig>, String> {
        match self {
            Sut::Local(s) => {
                let id = UserId::new(user);
                s.server()
                    .admin(move |core: &mut Core| core.user_config(&id).cloned())
                    .await
                    .map_err(|e| e.to_string())
            }
            Sut::Remote(r) => Ok(r.configs.get(user).cloned()),
        }
    }

    pub async fn set_user_config(&mut self, user: &str, config: UserConfig) -> Result<(), String> {
        match self {
            Sut::Local(s) => s
                .set_user_config(user, config)
                .await
                .map_err(|e| e.to_string()),
            Sut::Remote(r) => {
                r.rig.set_user(user.to_owned(), config.clone()).await?;
                r.configs.insert(user.to_owned(), config);
                Ok(())
            }
        }
    }

    /// The full name (`user/label`) of a device given as `user` or `user/label`.
    pub fn device_key(&self, name: &str) -> Result<String, String> {
        let known = || self.device_names().join(", ");
        match self {
            Sut::Local(s) => s
                .device_key(name)
                .map_err(|e| format!("{e}; the devices are {}", known())),
            Sut::Remote(r) => r
                .key(name)
                .ok_or_else(|| format!("no device `{name}`; the devices are {}", known())),
        }
    }

    pub fn device_names(&self) -> Vec<String> {
        match self {
            Sut::Local(s) => s.device_names().map(str::to_owned).collect(),
            Sut::Remote(r) => r.users.values().flatten().cloned().collect(),
        }
    }

    /// Device `name` asks for `op`; `Err(String)` for a scenario mistake (an unknown or offline
    /// device), `Ok(Err)` for a refusal.
    pub async fn request(&mut self, name: &str, op: Op) -> Result<Result<Reply, Refusal>, String> {
        match self {
            Sut::Local(s) => {
                let d = s.device(name).map_err(|e| {
                    let known: Vec<&str> = s.device_names().collect();
                    format!(
                        "{e}; the devices are {} (an offline device cannot act)",
                        known.join(", ")
                    )
                })?;
                let done = |r: Result<(), ClientError>| r.map(|()| Reply::Done);
                let r = match op {
                    // These go through the SDK's own methods, which take the automatic steps.
                    Op::Accept { call } => done(d.accept(call).await),
                    Op::Join { call } => done(d.join(call).await),
                    Op::StartSession { call } => done(d.start_session(call).await),
                    other => d.request(other).await,
                };
                Ok(r.map_err(Refusal::from))
            }
            Sut::Remote(r) => {
                let key = r.key(name).ok_or_else(|| format!("no device `{name}`"))?;
                let result = r.rig.op(key, op).await?;
                Ok(result.map_err(|e| Refusal {
                    code: e.code,
                    message: e.message,
                }))
            }
        }
    }

    pub async fn connectivity(
        &mut self,
        name: &str,
        online: bool,
    ) -> Result<Result<(), Refusal>, String> {
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
                    Err(e) => Err(e.to_string()),
                }
            }
            Sut::Remote(r) => {
                let result = r.rig.online(key, online).await?;
                Ok(result.map_err(|e| Refusal {
                    code: e.code,
                    message: e.message,
                }))
            }
        }
    }

    /// Lets `by` pass (virtual time here, the manual clock there), then settles.
    pub async fn advance(&mut self, by: Duration) -> Result<(), String> {
        match self {
            Sut::Local(s) => {
                s.advance(by).await;
                Ok(())
            }
            Sut::Remote(_) => {
                self.settle().await?;
                if let Sut::Remote(r) = self {
                    r.rig
                        .advance(u64::try_from(by.as_millis()).unwrap_or(u64::MAX))
                        .await?;
                }
                self.settle().await
            }
        }
    }

    /// Waits until every device has handled everything sent so far.
    pub async fn settle(&mut self) -> Result<(), String> {
        match self {
            Sut::Local(s) => {
                s.settle().await;
                Ok(())
            }
            Sut::Remote(r) => {
                for (key, events) in r.rig.settle().await? {
                    r.recordings.entry(key).or_default().events.extend(events);
                }
                Ok(())
            }
        }
    }

    /// What device `key` received since the last take.
    pub fn take_new(&mut self, key: &str) -> Result<Vec<Delivery>, String> {
        match self {
            Sut::Local(s) => s.take_new(key).map_err(|e| e.to_string()),
            Sut::Remote(r) => {
                let rec = r
                    .recordings
                    .get_mut(key)
                    .ok_or_else(|| format!("no device `{key}`"))?;
                let new = rec.events[rec.taken..].to_vec();
                rec.taken = rec.events.len();
                Ok(new)
            }
        }
    }

    /// Everything device `key` received.
    pub fn events(&self, key: &str) -> Result<Vec<Delivery>, String> {
        match self {
            Sut::Local(s) => s.events(key).map_err(|e| e.to_string()),
            Sut::Remote(r) => r
                .recordings
                .get(key)
                .map(|rec| rec.events.clone())
                .ok_or_else(|| format!("no device `{key}`")),
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
    pub async fn snapshot(&mut self, call: CallId) -> Result<Option<CallSnapshot>, String> {
        match self {
            Sut::Local(s) => s
                .server()
                .admin(move |core: &mut Core| core.call_snapshot(call))
                .await
                .map_err(|e| e.to_string()),
            Sut::Remote(r) => r.rig.snapshot(call).await,
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
