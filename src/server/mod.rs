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

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::core::{CallError, Core, Delivery, DeviceId, Op, Reply};

/// Bounds of the server's queues.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Commands waiting for the server task.
    pub commands_queued_max: usize,
    /// Events waiting for one device before it is dropped as a slow consumer.
    pub device_events_queued_max: usize,
    /// Trace entries waiting for the trace reader; past this, entries are counted as dropped.
    pub trace_queued_max: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            commands_queued_max: 4096,
            device_events_queued_max: 4096,
            trace_queued_max: 1 << 16,
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
    /// Connect a device whose replies travel with its events (a wire connection): replies to its
    /// [`ServerHandle::submit`]s and its deliveries go to `out` in the order the core produced them.
    ConnectWire {
        device: DeviceId,
        out: mpsc::Sender<Outbound>,
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
    /// The answer to the [`ServerHandle::submit`] with this `id`.
    Reply {
        id: u64,
        result: Result<Reply, CallError>,
    },
    Event(Delivery),
}

/// Where one connected device's output goes.
enum Route {
    /// In-process clients: events only; replies go back on each request's oneshot.
    Events(mpsc::Sender<Delivery>),
    /// Wire connections: replies and events on one queue.
    Wire(mpsc::Sender<Outbound>),
}

impl Route {
    /// Queues `delivery` without waiting; `Err` says the queue is full or closed.
    fn try_deliver(&self, delivery: Delivery) -> Result<(), mpsc::error::TrySendError<()>> {
        match self {
            Route::Events(tx) => tx.try_send(delivery).map_err(unit_err),
            Route::Wire(tx) => tx.try_send(Outbound::Event(delivery)).map_err(unit_err),
        }
    }
}

fn unit_err<T>(e: mpsc::error::TrySendError<T>) -> mpsc::error::TrySendError<()> {
    match e {
        mpsc::error::TrySendError::Full(_) => mpsc::error::TrySendError::Full(()),
        mpsc::error::TrySendError::Closed(_) => mpsc::error::TrySendError::Closed(()),
    }
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
        Self::start_inner(core, config, None)
    }

    /// Starts the server and returns a receiver of its ordered trace.
    pub fn start_traced(core: Core, config: ServerConfig) -> (Self, mpsc::Receiver<TraceEntry>) {
        let (ttx, trx) = mpsc::channel(config.trace_queued_max);
        (Self::start_inner(core, config, Some(ttx)), trx)
    }

    fn start_inner(
        core: Core,
        config: ServerConfig,
        trace: Option<mpsc::Sender<TraceEntry>>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(config.commands_queued_max);
        let shared = Arc::new(Shared {
            state: Mutex::new(ServerState {
                core,
                start: Instant::now(),
                routes: Vec::new(),
                trace,
                armed: None,
            }),
            rearm: Notify::new(),
        });
        tokio::spawn(run(shared.clone(), rx));
        Self { tx, shared }
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
        let now = state.now_ms();
        let result = state.submit(now, device, op);
        let queued = match state.routes.get(device.0 as usize) {
            Some(Some(Route::Wire(out))) => out
                .try_send(Outbound::Reply { id, result })
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
    let start = shared.lock().start;
    let sleep = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(sleep);
    loop {
        let armed = {
            let mut state = shared.lock();
            let next = state.core.poll_timeout();
            if next != state.armed {
                if let Some(ms) = next {
                    sleep.as_mut().reset(start + Duration::from_millis(ms));
                }
                state.armed = next;
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
            () = &mut sleep, if armed.is_some() => {
                let mut state = shared.lock();
                let now = state.now_ms();
                state.core.handle_timeout(now);
                state.armed = None;
                state.route();
            }
        }
    }
}

struct ServerState {
    core: Core,
    start: Instant,
    /// Output queue of each connected device, indexed by device id.
    routes: Vec<Option<Route>>,
    /// The ordered record, if asked for. A reader that falls more than `trace_queued_max`
    /// entries behind loses entries rather than stalling the server.
    trace: Option<mpsc::Sender<TraceEntry>>,
    /// The deadline the server task sleeps until, if any.
    armed: Option<u64>,
}

impl ServerState {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Hands one request to the core and records it in the trace, when tracing.
    fn submit(&mut self, now: u64, device: DeviceId, op: Op) -> Result<Reply, CallError> {
        let traced = self.trace.as_ref().map(|_| op.clone());
        let result = self.core.handle_request(now, device, op);
        if let Some(op) = traced {
            self.record(TraceEntry::Request {
                at_ms: now,
                device,
                op,
                result: result.clone(),
            });
        }
        result
    }

    fn handle(&mut self, command: Command) {
        let now = self.now_ms();
        match command {
            Command::Request { device, op, reply } => {
                let result = self.submit(now, device, op);
                // A requester that stopped waiting does not need its reply.
                let _ = reply.send(result);
                self.route();
            }
            Command::Connect {
                device,
                events,
                reply,
            } => {
                let result = self.connect(now, device, Route::Events(events));
                let _ = reply.send(result);
            }
            Command::ConnectWire { device, out, reply } => {
                let result = self.connect(now, device, Route::Wire(out));
                let _ = reply.send(result);
            }
            Command::Disconnect { device } => self.disconnect(device, false),
            Command::Admin(f) => f(&mut self.core),
        }
    }

    fn connect(&mut self, now: u64, device: DeviceId, route: Route) -> Result<(), CallError> {
        self.core.handle_connect(now, device)?;
        let slot = device.0 as usize;
        if self.routes.len() <= slot {
            self.routes.resize_with(slot + 1, || None);
        }
        self.routes[slot] = Some(route);
        self.record(TraceEntry::Connected { at_ms: now, device });
        Ok(())
    }

    fn disconnect(&mut self, device: DeviceId, slow: bool) {
        let now = self.now_ms();
        if self.core.handle_disconnect(now, device).is_ok() {
            if let Some(route) = self.routes.get_mut(device.0 as usize) {
                *route = None;
            }
            self.record(TraceEntry::Disconnected {
                at_ms: now,
                device,
                slow,
            });
        }
    }

    /// Hands every queued delivery to its device. Bounded: each pass takes one delivery off the
    /// core's queue, and a slow consumer's disconnection adds at most a bounded number more.
    fn route(&mut self) {
        while let Some(delivery) = self.core.poll_event() {
            let device = delivery.device;
            if self.trace.is_some() {
                self.record(TraceEntry::Delivery(delivery.clone()));
            }
            let queued = match self.routes.get(device.0 as usize) {
                Some(Some(route)) => route.try_deliver(delivery),
                _ => Ok(()),
            };
            self.settle(device, queued);
        }
    }

    /// Acts on the outcome of queueing output for `device`: a full queue is a slow consumer,
    /// dropped; a closed one means the device dropped its receiver and is gone.
    fn settle(&mut self, device: DeviceId, queued: Result<(), mpsc::error::TrySendError<()>>) {
        match queued {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(())) => self.disconnect(device, true),
            Err(mpsc::error::TrySendError::Closed(())) => self.disconnect(device, false),
        }
    }

    fn record(&mut self, entry: TraceEntry) {
        if let Some(trace) = &self.trace {
            let _ = trace.try_send(entry);
        }
    }
}
