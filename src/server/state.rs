//! What the server holds behind its lock: the core, its clock, the credentials, where each
//! connected device's output goes, and the ordered trace. Every change to them happens here,
//! under the lock, so the core's order is the order every device and the trace see.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::auth::Credentials;
use super::{Outbound, TraceEntry};
use crate::core::{CallError, Core, Delivery, DeviceId, Fault, Limits, Op, Reply};

/// How the server's time moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    /// Real time (tokio's clock: paused in tests, so a 30 s timeout costs no wall time there).
    #[default]
    Wall,
    /// Time moves only when the admin channel says `advance`: runs from another process are
    /// deterministic, and timers cost no wall time.
    Manual,
}

pub(super) enum Clock {
    Wall { start: Instant },
    Manual { now_ms: u64 },
}

impl Clock {
    pub(super) fn new(mode: ClockMode) -> Self {
        match mode {
            ClockMode::Wall => Clock::Wall {
                start: Instant::now(),
            },
            ClockMode::Manual => Clock::Manual { now_ms: 0 },
        }
    }

    pub(super) fn mode(&self) -> ClockMode {
        match self {
            Clock::Wall { .. } => ClockMode::Wall,
            Clock::Manual { .. } => ClockMode::Manual,
        }
    }
}

/// Where one connected device's output goes.
pub(super) enum Route {
    /// In-process clients: events only; replies go back on each request's oneshot.
    Events(mpsc::Sender<Delivery>),
    /// Wire connections: replies and events on one queue; `conn` tells this connection from a
    /// later one of the same device.
    Wire {
        conn: u64,
        out: mpsc::Sender<Outbound>,
        /// Set on a connection several devices share: the flag that tells it the server
        /// dropped its devices (its queue was full).
        dropped: Option<Arc<AtomicBool>>,
    },
}

impl Route {
    /// Queues `delivery` without waiting; `Err` says the queue is full or closed.
    fn try_deliver(&self, delivery: Delivery) -> Result<(), mpsc::error::TrySendError<()>> {
        match self {
            Route::Events(tx) => tx.try_send(delivery).map_err(unit_err),
            Route::Wire { out, .. } => out.try_send(Outbound::Event(delivery)).map_err(unit_err),
        }
    }
}

pub(super) fn unit_err<T>(e: mpsc::error::TrySendError<T>) -> mpsc::error::TrySendError<()> {
    match e {
        mpsc::error::TrySendError::Full(_) => mpsc::error::TrySendError::Full(()),
        mpsc::error::TrySendError::Closed(_) => mpsc::error::TrySendError::Closed(()),
    }
}

/// The trace entries the admin channel can read back, numbered from 0 in order.
#[derive(Default)]
pub(super) struct TraceLog {
    pub(super) entries: VecDeque<TraceEntry>,
    /// The number of the first entry in `entries`.
    pub(super) first_seq: u64,
    pub(super) kept_max: usize,
}

impl TraceLog {
    fn push(&mut self, entry: TraceEntry) {
        if self.kept_max == 0 {
            return;
        }
        if self.entries.len() >= self.kept_max {
            self.entries.pop_front();
            self.first_seq += 1;
        }
        self.entries.push_back(entry);
    }

    pub(super) fn next_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }
}

pub(super) struct ServerState {
    pub(super) core: Core,
    pub(super) clock: Clock,
    pub(super) credentials: Credentials,
    /// Output queue of each connected device, indexed by device id.
    pub(super) routes: Vec<Option<Route>>,
    /// The ordered record for an in-process reader, if asked for. A reader that falls more
    /// than `trace_queued_max` entries behind loses entries rather than stalling the server.
    pub(super) trace: Option<mpsc::Sender<TraceEntry>>,
    /// The ordered record the admin channel reads.
    pub(super) log: TraceLog,
    /// The deadline the server task sleeps until, if any.
    pub(super) armed: Option<u64>,
    /// Switched on in every core this server builds, resets included.
    pub(super) faults: Vec<Fault>,
    /// The limits a reset without limits returns to.
    pub(super) base_limits: Limits,
    /// Numbers wire connections.
    pub(super) next_conn: u64,
}

impl ServerState {
    pub(super) fn now_ms(&self) -> u64 {
        match &self.clock {
            Clock::Wall { start } => u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            Clock::Manual { now_ms } => *now_ms,
        }
    }

    /// Hands one request to the core and records it.
    pub(super) fn submit(&mut self, device: DeviceId, op: Op) -> Result<Reply, CallError> {
        let now = self.now_ms();
        let traced = self.tracing().then(|| op.clone());
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

    pub(super) fn connect(&mut self, device: DeviceId, route: Route) -> Result<(), CallError> {
        let now = self.now_ms();
        self.core.handle_connect(now, device)?;
        let slot = device.0 as usize;
        if self.routes.len() <= slot {
            self.routes.resize_with(slot + 1, || None);
        }
        self.routes[slot] = Some(route);
        self.record(TraceEntry::Connected { at_ms: now, device });
        Ok(())
    }

    /// Whether `device` has a route now (in process or over the wire).
    pub(super) fn is_connected(&self, device: DeviceId) -> bool {
        matches!(self.routes.get(device.0 as usize), Some(Some(_)))
    }

    /// Disconnects `device` if its route is the wire connection `conn` (a later connection of
    /// the same device is left alone).
    pub(super) fn disconnect_conn(&mut self, device: DeviceId, conn: u64) {
        let ours = matches!(
            self.routes.get(device.0 as usize),
            Some(Some(Route::Wire { conn: c, .. })) if *c == conn
        );
        if ours {
            self.disconnect(device, false);
        }
    }

    /// Disconnects every device of the shared connection `conn` as a slow consumer.
    fn disconnect_shared(&mut self, conn: u64) {
        let ours: Vec<DeviceId> = (0..self.routes.len())
            .filter(|&i| matches!(&self.routes[i], Some(Route::Wire { conn: c, .. }) if *c == conn))
            .map(|i| DeviceId(i as u32))
            .collect();
        for d in ours {
            self.disconnect(d, true);
        }
    }

    pub(super) fn disconnect(&mut self, device: DeviceId, slow: bool) {
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

    /// Closes a device's connection on the server's initiative: the reason goes ahead of the
    /// end of its queue, then the device leaves the core as any disconnecting device does.
    pub(super) fn evict(&mut self, device: DeviceId, code: u16, message: &'static str) {
        if let Some(Some(Route::Wire { out, .. })) = self.routes.get(device.0 as usize) {
            // A full queue means a slow consumer, closed as such; nothing more to say then.
            let _ = out.try_send(Outbound::Close {
                device,
                code,
                message,
            });
        }
        self.disconnect(device, false);
        self.route();
    }

    /// [`ServerState::evict`]s every connected device, in id order.
    pub(super) fn evict_all(&mut self, code: u16, message: &'static str) {
        let connected: Vec<DeviceId> = (0..self.routes.len())
            .map(|i| DeviceId(i as u32))
            .filter(|d| self.is_connected(*d))
            .collect();
        for d in connected {
            self.evict(d, code, message);
        }
    }

    /// Hands every queued delivery to its device. Bounded: each pass takes one delivery off the
    /// core's queue, and a slow consumer's disconnection adds at most a bounded number more.
    pub(super) fn route(&mut self) {
        self.route_into(None);
    }

    /// [`ServerState::route`], also copying each delivery into `fired`.
    pub(super) fn route_into(&mut self, mut fired: Option<&mut Vec<Delivery>>) {
        while let Some(delivery) = self.core.poll_event() {
            let device = delivery.device;
            if self.tracing() {
                self.record(TraceEntry::Delivery(delivery.clone()));
            }
            if let Some(f) = fired.as_deref_mut() {
                f.push(delivery.clone());
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
    pub(super) fn settle(
        &mut self,
        device: DeviceId,
        queued: Result<(), mpsc::error::TrySendError<()>>,
    ) {
        match queued {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(())) => {
                let shared = match self.routes.get(device.0 as usize) {
                    Some(Some(Route::Wire {
                        conn,
                        dropped: Some(flag),
                        ..
                    })) => Some((*conn, flag.clone())),
                    _ => None,
                };
                match shared {
                    // One queue for the connection's devices: all of them are slow.
                    Some((conn, flag)) => {
                        flag.store(true, Ordering::Release);
                        self.disconnect_shared(conn);
                    }
                    None => self.disconnect(device, true),
                }
            }
            Err(mpsc::error::TrySendError::Closed(())) => self.disconnect(device, false),
        }
    }

    fn tracing(&self) -> bool {
        self.trace.is_some() || self.log.kept_max > 0
    }

    pub(super) fn record(&mut self, entry: TraceEntry) {
        if let Some(trace) = &self.trace {
            let _ = trace.try_send(entry.clone());
        }
        self.log.push(entry);
    }

    /// Fires the core's deadlines due by now (wall clock).
    pub(super) fn fire_due(&mut self) {
        let now = self.now_ms();
        self.core.handle_timeout(now);
        self.armed = None;
        self.route();
    }

    /// Moves the manual clock forward by `ms`, firing each deadline at its own time, in order;
    /// returns every delivery that caused. Refused (422) on a wall clock.
    pub(super) fn advance(&mut self, ms: u64) -> Result<Vec<Delivery>, CallError> {
        let Clock::Manual { now_ms } = self.clock else {
            return Err(CallError::InvalidState {
                op: "advance",
                state: "the clock is wall time".into(),
            });
        };
        let target = now_ms.saturating_add(ms);
        let mut fired = Vec::new();
        // Bounded: each pass fires at least the earliest deadline, and deadlines are finite.
        while let Some(at) = self.core.poll_timeout().filter(|t| *t <= target) {
            self.clock = Clock::Manual {
                now_ms: at.max(now_ms),
            };
            self.core.handle_timeout(at);
            self.route_into(Some(&mut fired));
        }
        self.clock = Clock::Manual { now_ms: target };
        Ok(fired)
    }
}
