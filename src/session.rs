//! An in-process, multi-user call session in virtual time: a reference server, users with named
//! devices, and everything each device received, recorded in order.
//!
//! This is the harness the demo, the Gherkin conformance steps, the client tests and the
//! property tests share. Run it on a current-thread tokio runtime with a paused clock: then
//! [`Session::settle`] knows exactly when every device has handled everything it was sent (no
//! preemption can split a pump's receive from its busy flag), time only moves when
//! [`Session::advance`] moves it, and a run replays identically.
//!
//! Devices are named `user/label`; a bare `user` names that user's first device.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thiserror::Error;
use tokio::time::Instant;

use crate::client::{ClientError, Device, DeviceOptions};
use crate::core::{CallError, Core, Delivery, DeviceId, Limits, UserConfig, UserId};
use crate::server::{ServerConfig, ServerHandle, TraceEntry};

/// Bounds of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub limits: Limits,
    pub server: ServerConfig,
    pub device: DeviceOptions,
    /// Events recorded per device; past this the oldest are dropped (and counted).
    pub events_recorded_max: usize,
    /// Rounds [`Session::settle`] waits for devices to go idle before it reports a livelock.
    pub settle_rounds_max: usize,
    /// Record what every device receives ([`Session::events`]); off for benchmarks.
    pub record: bool,
    /// Keep the server's ordered trace of requests and deliveries ([`Session::take_trace`]).
    pub trace: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            server: ServerConfig::default(),
            device: DeviceOptions::default(),
            events_recorded_max: 1 << 16,
            settle_rounds_max: 100_000,
            record: true,
            trace: false,
        }
    }
}

/// A session-level failure: a name that does not resolve, or a refused set-up step.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("no device named {0:?} (devices are named user or user/label)")]
    UnknownDevice(String),
    #[error("{0:?} already exists")]
    Exists(String),
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl From<CallError> for SessionError {
    fn from(e: CallError) -> Self {
        SessionError::Client(ClientError::Refused(e))
    }
}

impl From<crate::server::ServerGone> for SessionError {
    fn from(e: crate::server::ServerGone) -> Self {
        SessionError::Client(ClientError::ServerGone(e))
    }
}

/// What one device received.
#[derive(Default)]
struct Recording {
    events: VecDeque<Delivery>,
    dropped: u64,
    /// How many of `events` were already taken by [`Session::take_new`].
    taken: usize,
}

pub struct Session {
    config: SessionConfig,
    server: ServerHandle,
    start: Instant,
    /// `user/label` → device, in name order.
    devices: BTreeMap<String, Device>,
    /// user → its device names, in registration order.
    users: BTreeMap<String, Vec<String>>,
    names: BTreeMap<DeviceId, String>,
    recordings: BTreeMap<String, Arc<Mutex<Recording>>>,
    trace: Option<tokio::sync::mpsc::Receiver<TraceEntry>>,
}

impl Session {
    pub async fn start(config: SessionConfig) -> Self {
        let core = Core::new(config.limits.clone());
        let (server, trace) = if config.trace {
            let (server, trace) = ServerHandle::start_traced(core, config.server.clone());
            (server, Some(trace))
        } else {
            (ServerHandle::start(core, config.server.clone()), None)
        };
        Self {
            config,
            server,
            trace,
            start: Instant::now(),
            devices: BTreeMap::new(),
            users: BTreeMap::new(),
            names: BTreeMap::new(),
            recordings: BTreeMap::new(),
        }
    }

    pub fn server(&self) -> &ServerHandle {
        &self.server
    }

    /// Milliseconds of virtual time since the session started (the core's clock).
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Registers a user with devices `labels`, all connected and recorded.
    pub async fn add_user(
        &mut self,
        name: &str,
        labels: &[&str],
        config: UserConfig,
    ) -> Result<(), SessionError> {
        if self.users.contains_key(name) {
            return Err(SessionError::Exists(name.to_owned()));
        }
        let user = name.to_owned();
        let owned: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        let ids = self
            .server
            .admin(move |core: &mut Core| {
                let u = core.add_user(&user, config)?;
                owned
                    .iter()
                    .map(|l| core.add_device(&u, l))
                    .collect::<Result<Vec<_>, CallError>>()
            })
            .await??;
        let mut keys = Vec::new();
        for (id, label) in ids.into_iter().zip(labels) {
            let key = format!("{name}/{label}");
            self.names.insert(id, key.clone());
            self.connect_device(&key, id, UserId::new(name)).await?;
            keys.push(key);
        }
        self.users.insert(name.to_owned(), keys);
        Ok(())
    }

    async fn connect_device(
        &mut self,
        key: &str,
        id: DeviceId,
        user: UserId,
    ) -> Result<(), SessionError> {
        let device = Device::connect(
            &self.server,
            id,
            user,
            self.config.device.clone(),
            self.config.server.device_events_queued_max,
        )
        .await?;
        if self.config.record {
            let recording = self.recordings.entry(key.to_owned()).or_default().clone();
            let max = self.config.events_recorded_max;
            device.add_listener("callconf.session.recorder", move |d| {
                let mut r = recording.lock().expect("recording lock");
                if r.events.len() >= max {
                    r.events.pop_front();
                    r.taken = r.taken.saturating_sub(1);
                    r.dropped += 1;
                }
                r.events.push_back(d.clone());
            })?;
        }
        self.devices.insert(key.to_owned(), device);
        Ok(())
    }

    pub async fn add_group(&mut self, name: &str, members: &[&str]) -> Result<(), SessionError> {
        let name = name.to_owned();
        let members: Vec<UserId> = members.iter().map(|m| UserId::new(m)).collect();
        self.server
            .admin(move |core: &mut Core| core.add_group(&name, &members))
            .await??;
        Ok(())
    }

    /// Changes a user's plan, permissions or call waiting.
    pub async fn set_user_config(
        &self,
        user: &str,
        config: UserConfig,
    ) -> Result<(), SessionError> {
        let user = UserId::new(user);
        self.server
            .admin(move |core: &mut Core| core.set_user_config(&user, config))
            .await??;
        Ok(())
    }

    /// The full name (`user/label`) of a device given as `user` or `user/label`.
    pub fn device_key(&self, name: &str) -> Result<String, SessionError> {
        if self.names.values().any(|k| k == name) {
            return Ok(name.to_owned());
        }
        self.users
            .get(name)
            .and_then(|keys| keys.first())
            .cloned()
            .ok_or_else(|| SessionError::UnknownDevice(name.to_owned()))
    }

    /// The connected device `name`.
    pub fn device(&self, name: &str) -> Result<&Device, SessionError> {
        let key = self.device_key(name)?;
        self.devices
            .get(&key)
            .ok_or(SessionError::UnknownDevice(key))
    }

    /// The name of a device id.
    pub fn device_name(&self, id: DeviceId) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// Every device name, in order.
    pub fn device_names(&self) -> impl Iterator<Item = &str> {
        self.names.values().map(String::as_str)
    }

    /// The devices of `user`, in registration order.
    pub fn devices_of(&self, user: &str) -> &[String] {
        self.users.get(user).map_or(&[], Vec::as_slice)
    }

    /// Takes a device offline; what it was sent before is kept in its recording.
    pub async fn disconnect(&mut self, name: &str) -> Result<(), SessionError> {
        let key = self.device_key(name)?;
        if let Some(device) = self.devices.remove(&key) {
            device.disconnect().await?;
        }
        self.settle().await;
        Ok(())
    }

    /// Brings a device back online.
    pub async fn reconnect(&mut self, name: &str) -> Result<(), SessionError> {
        let key = self.device_key(name)?;
        if self.devices.contains_key(&key) {
            return Ok(());
        }
        let (&id, _) = self
            .names
            .iter()
            .find(|(_, k)| **k == key)
            .ok_or_else(|| SessionError::UnknownDevice(key.clone()))?;
        let user = key.split('/').next().unwrap_or_default().to_owned();
        self.connect_device(&key, id, UserId::new(&user)).await?;
        self.settle().await;
        Ok(())
    }

    /// Waits, without moving the clock, until the server has handled every command and every
    /// device has handled every delivery (including the requests its automatic steps sent).
    pub async fn settle(&self) {
        for _ in 0..self.config.settle_rounds_max {
            // A round trip through the server: everything sent before it has been handled and
            // its deliveries queued.
            if self.server.admin(|_| ()).await.is_err() {
                return;
            }
            if self.devices.values().all(Device::is_idle) {
                // One more round trip: an automatic step sent just now is handled too.
                let _ = self.server.admin(|_| ()).await;
                if self.devices.values().all(Device::is_idle) {
                    return;
                }
            }
            tokio::task::yield_now().await;
        }
        panic!(
            "the session did not settle in {} rounds: devices keep sending each other work",
            self.config.settle_rounds_max
        );
    }

    /// Lets `by` of virtual time pass (ring timeouts fire on the way), then settles.
    pub async fn advance(&self, by: Duration) {
        self.settle().await;
        tokio::time::sleep(by).await;
        self.settle().await;
    }

    /// Everything device `name` received so far.
    pub fn events(&self, name: &str) -> Result<Vec<Delivery>, SessionError> {
        let key = self.device_key(name)?;
        Ok(self
            .recordings
            .get(&key)
            .map(|r| {
                r.lock()
                    .expect("recording lock")
                    .events
                    .iter()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// What device `name` received since the last call for it.
    pub fn take_new(&self, name: &str) -> Result<Vec<Delivery>, SessionError> {
        let key = self.device_key(name)?;
        Ok(self.recordings.get(&key).map_or_else(Vec::new, |r| {
            let mut r = r.lock().expect("recording lock");
            let new = r.events.range(r.taken..).cloned().collect();
            r.taken = r.events.len();
            new
        }))
    }

    /// Marks everything received so far as taken, on every device.
    pub fn take_all(&self) {
        for r in self.recordings.values() {
            let mut r = r.lock().expect("recording lock");
            r.taken = r.events.len();
        }
    }

    /// Events lost because a recording was full.
    pub fn dropped(&self) -> u64 {
        self.recordings
            .values()
            .map(|r| r.lock().expect("recording lock").dropped)
            .sum()
    }

    /// The server's ordered trace since the last call (empty unless `trace` was set).
    pub fn take_trace(&mut self) -> Vec<TraceEntry> {
        let mut out = Vec::new();
        if let Some(trace) = &mut self.trace {
            while let Ok(entry) = trace.try_recv() {
                out.push(entry);
            }
        }
        out
    }

    /// Every recorded delivery of every device, ordered by time then device name (stable within
    /// a device), as `(device name, delivery)`.
    pub fn all_events(&self) -> Vec<(String, Delivery)> {
        let mut all: Vec<(String, Delivery)> = self
            .recordings
            .iter()
            .flat_map(|(k, r)| {
                let r = r.lock().expect("recording lock");
                r.events
                    .iter()
                    .map(|d| (k.clone(), d.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_by(|a, b| a.1.at_ms.cmp(&b.1.at_ms).then_with(|| a.0.cmp(&b.0)));
        all
    }
}

/// Builds the current-thread, paused-clock runtime a [`Session`] is meant to run on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds")
}

/// `Duration` from milliseconds, for step code that reads nicer with it.
pub fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}
