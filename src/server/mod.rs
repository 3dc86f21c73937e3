//! The reference call server: a [`Core`] behind a lock, one tokio task that adapts it to
//! channels and time, and a direct path for wire connections.
//!
//! In-process clients send [`Command`]s over a bounded queue; the task feeds them to the core
//! with the current time, answers each request on its own oneshot, and routes the core's
//! deliveries to each connected device's bounded event queue. The core's next deadline becomes
//! a tokio sleep, so under tokio's paused clock a 30 s ring timeout costs no wall time, and the
//! run is deterministic.
//!
//! A wire connection's task already runs when its request arrives, so it hands the request to
//! the core itself ([`ServerHandle::submit`]): the lock is held for the core's step and the
//! routing, never across an await, and a request takes no hop through the server task's queue
//! (docs/scenarios.md says what that measured).
//!
//! A device whose event queue is full is a slow consumer: the server disconnects it (as a real
//! server drops a client that stops reading) instead of blocking every other device.
//!
//! Wire connections authenticate ([`auth`]); the administrator provisions and resets the server
//! and drives its manual clock with typed operations ([`admin`]); who exists can also come from
//! a population file ([`population`]).

pub mod admin;
pub mod auth;
pub mod population;
mod state;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::core::{CallError, Core, Delivery, DeviceId, Op, Reply, UserId};
use crate::net::error::Refusal;
use auth::{Credentials, Token};
pub use state::ClockMode;
use state::{Clock, Route, ServerState, TraceLog, unit_err};

/// Bounds of the server's queues.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Commands waiting for the server task.
    pub commands_queued_max: usize,
    /// Events waiting for one device before it is dropped as a slow consumer.
    pub device_events_queued_max: usize,
    /// Trace entries waiting for the trace reader; past this, entries are counted as dropped.
    pub trace_queued_max: usize,
    /// Trace entries kept for the admin channel's `trace` (0: none kept, nothing recorded).
    pub trace_kept_max: usize,
    pub clock: ClockMode,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            commands_queued_max: 4096,
            device_events_queued_max: 4096,
            trace_queued_max: 1 << 16,
            trace_kept_max: 0,
            clock: ClockMode::Wall,
        }
    }
}

/// Why the server could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the call server has stopped")]
pub struct ServerGone;

type AdminFn = Box<dyn FnOnce(&mut Core) + Send>;

/// What the server task is asked to do.
pub enum Command {
    Request {
        device: DeviceId,
        op: Op,
        reply: oneshot::Sender<Result<Reply, CallError>>,
    },
    /// Connect a device; its events go to `events`.
    Connect {
        device: DeviceId,
        events: mpsc::Sender<Delivery>,
        reply: oneshot::Sender<Result<(), CallError>>,
    },
    Disconnect {
        device: DeviceId,
    },
    /// Run a closure against the core (set-up: users, devices, groups; queries).
    Admin(AdminFn),
}

/// What the server queues for a wire-connected device, in order.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// The answer to the [`ServerHandle::submit`] of `device` with this `id`.
    Reply {
        device: DeviceId,
        id: u64,
        result: Result<Reply, CallError>,
    },
    Event(Delivery),
    /// The server closes `device`'s connection (its channel, on a shared connection), for this
    /// reason (code 909 or 910).
    Close {
        device: DeviceId,
        code: u16,
        message: &'static str,
    },
}

/// One line of the server's ordered record of a session.
#[derive(Debug, Clone)]
pub enum TraceEntry {
    Request {
        at_ms: u64,
        device: DeviceId,
        op: Op,
        result: Result<Reply, CallError>,
    },
    Delivery(Delivery),
    Connected {
        at_ms: u64,
        device: DeviceId,
    },
    Disconnected {
        at_ms: u64,
        device: DeviceId,
        /// Dropped by the server as a slow consumer, not by its own wish.
        slow: bool,
    },
}

/// A connection several devices share: its number, and the flag the server sets when it dropped
/// the connection's devices as a slow consumer (their shared queue was full).
#[derive(Debug, Clone)]
pub struct SharedConn {
    pub conn: u64,
    pub dropped: Arc<AtomicBool>,
}

/// A handle to a running server; cheap to clone.
#[derive(Clone)]
pub struct ServerHandle {
    tx: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

/// What the server task and the wire connections share.
struct Shared {
    state: Mutex<ServerState>,
    /// Tells the server task that the core's next deadline came earlier than the one it sleeps
    /// until (a direct submit armed a sooner timer).
    rearm: Notify,
}

impl ServerHandle {
    /// Starts the server task on the current tokio runtime.
    pub fn start(core: Core, config: ServerConfig) -> Self {
        Self::start_with(core, Credentials::default(), &[], config, None)
    }

    /// Starts the server and returns a receiver of its ordered trace.
    pub fn start_traced(core: Core, config: ServerConfig) -> (Self, mpsc::Receiver<TraceEntry>) {
        let (ttx, trx) = mpsc::channel(config.trace_queued_max);
        let server = Self::start_with(core, Credentials::default(), &[], config, Some(ttx));
        (server, trx)
    }

    /// Starts a server whose wire devices authenticate with `credentials`; `faults` are the
    /// deliberate bugs switched on in `core` that every reset must switch on again.
    pub fn start_with(
        core: Core,
        credentials: Credentials,
        faults: &[crate::core::Fault],
        config: ServerConfig,
        trace: Option<mpsc::Sender<TraceEntry>>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(config.commands_queued_max);
        let base_limits = core.limits().clone();
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState {
                core,
                clock: Clock::new(config.clock),
                credentials,
                routes: Vec::new(),
                trace,
                log: TraceLog {
                    kept_max: config.trace_kept_max,
                    ..TraceLog::default()
                },
                armed: None,
                faults: faults.to_vec(),
                base_limits,
                next_conn: 0,
            }),
            rearm: Notify::new(),
        });
        tokio::spawn(run(shared.clone(), rx));
        Self { tx, shared }
    }

    /// How the server's time moves.
    pub fn clock(&self) -> ClockMode {
        self.shared.lock().clock.mode()
    }

    /// Authenticates a wire device and connects it; its replies and events go to `out`.
    /// Returns the device and the connection's number (for [`ServerHandle::disconnect_wire`]).
    /// A refusal changes nothing: no event, no state, no trace entry.
    pub fn connect_wire(
        &self,
        user: &UserId,
        label: &str,
        token: &Token,
        out: mpsc::Sender<Outbound>,
    ) -> Result<(DeviceId, u64), Refusal> {
        let conn = self.open_shared().conn;
        let device = self.connect(user, label, token, out, conn, None)?;
        Ok((device, conn))
    }

    /// Numbers a connection that several devices share (`mux`, docs/wire-protocol.md §9): its
    /// devices connect with [`ServerHandle::connect_shared`] and leave with
    /// [`ServerHandle::disconnect_wire`] under its number.
    pub fn open_shared(&self) -> SharedConn {
        let mut state = self.shared.lock();
        state.next_conn += 1;
        SharedConn {
            conn: state.next_conn,
            dropped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Authenticates one more device of the shared connection `shared`; its replies and events
    /// go to the connection's queue `out`. A refusal changes nothing, for this device and the
    /// connection's others. When `out` is full the server drops every device of the connection
    /// as a slow consumer and sets `shared.dropped`.
    pub fn connect_shared(
        &self,
        user: &UserId,
        label: &str,
        token: &Token,
        out: mpsc::Sender<Outbound>,
        shared: &SharedConn,
    ) -> Result<DeviceId, Refusal> {
        let dropped = Some(shared.dropped.clone());
        self.connect(user, label, token, out, shared.conn, dropped)
    }

    fn connect(
        &self,
        user: &UserId,
        label: &str,
        token: &Token,
        out: mpsc::Sender<Outbound>,
        conn: u64,
        dropped: Option<Arc<AtomicBool>>,
    ) -> Result<DeviceId, Refusal> {
        let mut state = self.shared.lock();
        let device = state
            .credentials
            .authenticate(user, label, token)
            .ok_or(Refusal::Auth)?;
        if state.is_connected(device) {
            return Err(Refusal::AlreadyConnected);
        }
        let route = Route::Wire { conn, out, dropped };
        // Authenticated devices exist in the core, so connecting cannot be refused there.
        state.connect(device, route).map_err(|_| Refusal::Auth)?;
        state.route();
        drop(state);
        self.rearm();
        Ok(device)
    }

    /// The wire connection `conn` of `device` ended (a later connection of it is left alone).
    pub fn disconnect_wire(&self, device: DeviceId, conn: u64) {
        let mut state = self.shared.lock();
        state.disconnect_conn(device, conn);
        state.route();
        drop(state);
        self.rearm();
    }

    /// Runs one administrative operation under the server's lock (see [`admin`]).
    pub fn admin_op(&self, op: admin::AdminOp) -> Result<admin::AdminReply, CallError> {
        let mut state = self.shared.lock();
        let result = state.admin(op);
        drop(state);
        self.rearm();
        result
    }

    /// Closes every wire connection with code 910; their calls end as their devices leave.
    pub fn shutdown(&self) {
        self.shared.lock().evict_all(910, "server shutting down");
    }

    /// Wakes the server task to re-arm its timer (a deadline may have come sooner).
    fn rearm(&self) {
        self.shared.rearm.notify_one();
    }

    pub async fn send(&self, command: Command) -> Result<(), ServerGone> {
        self.tx.send(command).await.map_err(|_| ServerGone)
    }

    /// Sends a request and waits for its reply.
    pub async fn request(
        &self,
        device: DeviceId,
        op: Op,
    ) -> Result<Result<Reply, CallError>, ServerGone> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Request { device, op, reply }).await?;
        rx.await.map_err(|_| ServerGone)
    }

    /// Hands a wire-connected device's request to the core now, on the caller's task. Its reply
    /// is queued on the device's output as [`Outbound::Reply`] ahead of the events the request
    /// caused: the device learns the call id before any event about that call, and one flush can
    /// carry the reply and its events together.
    pub fn submit(&self, device: DeviceId, id: u64, op: Op) {
        let mut state = self.shared.lock();
        let result = state.submit(device, op);
        let queued = match state.routes.get(device.0 as usize) {
            Some(Some(Route::Wire { out, .. })) => out
                .try_send(Outbound::Reply { device, id, result })
                .map_err(unit_err),
            // Not connected (any more), or not over a wire: nobody to answer.
            _ => Ok(()),
        };
        state.settle(device, queued);
        state.route();
        // The server task sleeps until the deadline it armed; a sooner one needs it awake. A
        // later one needs nothing: the early wakeup finds nothing due and re-arms.
        let armed = state.armed;
        let sooner = state
            .core
            .poll_timeout()
            .is_some_and(|next| armed.is_none_or(|a| next < a));
        drop(state);
        if sooner {
            self.shared.rearm.notify_one();
        }
    }

    /// Runs `f` on the core inside the server task and returns its result.
    pub async fn admin<T, F>(&self, f: F) -> Result<T, ServerGone>
    where
        T: Send + 'static,
        F: FnOnce(&mut Core) -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Admin(Box::new(move |core| {
            // The caller may have stopped waiting; then the result has nobody to go to.
            let _ = tx.send(f(core));
        })))
        .await?;
        rx.await.map_err(|_| ServerGone)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        // Poisoned only if a holder panicked, and then the core's state is suspect: stop too.
        self.state.lock().expect("server state lock")
    }
}

/// The server task: commands from in-process clients, and the core's timers. Ends when every
/// handle is gone.
async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<Command>) {
    let sleep = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(sleep);
    loop {
        let armed = {
            let mut state = shared.lock();
            // A manual clock fires deadlines only when the administrator advances it.
            let next = match state.clock {
                Clock::Wall { start } => state.core.poll_timeout().map(|ms| (start, ms)),
                Clock::Manual { .. } => None,
            };
            if next.map(|n| n.1) != state.armed {
                if let Some((start, ms)) = next {
                    sleep.as_mut().reset(start + Duration::from_millis(ms));
                }
                state.armed = next.map(|n| n.1);
            }
            next
        };
        tokio::select! {
            biased;
            command = rx.recv() => {
                let Some(command) = command else { break };
                let mut state = shared.lock();
                state.handle(command);
                // Take whatever else is already queued before routing, so a burst of requests
                // is answered in one pass. Bounded by the queue's capacity.
                while let Ok(command) = rx.try_recv() {
                    state.handle(command);
                }
                state.route();
            }
            () = shared.rearm.notified() => {}
            () = &mut sleep, if armed.is_some() => shared.lock().fire_due(),
        }
    }
}

impl ServerState {
    fn handle(&mut self, command: Command) {
        match command {
            Command::Request { device, op, reply } => {
                let result = self.submit(device, op);
                // A requester that stopped waiting does not need its reply.
                let _ = reply.send(result);
                self.route();
            }
            Command::Connect {
                device,
                events,
                reply,
            } => {
                let result = self.connect(device, Route::Events(events));
                let _ = reply.send(result);
            }
            Command::Disconnect { device } => self.disconnect(device, false),
            Command::Admin(f) => f(&mut self.core),
        }
    }
}
