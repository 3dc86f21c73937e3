//! The real-time load through the driver protocol (`callconf load --realtime --adapter CMD`):
//! one adapter process hosts every device of this generator, the way a vendor certifies its
//! SDK, and its devices connect to the server. So a vendor loads its SDK and its backend with
//! the adapter it already has.
//!
//! What each user does is decided here, by the same [`Device`]s (and so the same agents) as
//! over direct connections: callconf tells the adapter each operation (`device.op`: place,
//! accept, decline, cancel, hang up, the in-call actions) when the user's part of the script
//! says. The automatic steps (acknowledging ringing, starting the media session) are the
//! SDK's own (§3.3 of docs/driver-protocol.md), left on in the adapter, as a real application
//! would leave them; the devices' agents here do not take them again.
//!
//! One task drives every device: it reads the adapter's answers and events, hands each to its
//! device, fires the agents' timers, and sends what they decided, with many commands in flight
//! ([`Pipeline`]). Every command has the deadline of `--deadline-ms`' default; an adapter that
//! breaks the protocol ends the run with its error (code 807, and the driver code).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::RealtimeError;
use super::calls::{Cmd, Device, Shared};
use crate::core::Reply;
use crate::driver::limits::{DEADLINE_MS_DEFAULT, OPENS_IN_FLIGHT_MAX};
use crate::driver::msg::{Automatic, Credentials, Method, Named, OpResult, Open, Provisioning};
use crate::driver::pipeline::{Delivery, Pipeline};
use crate::driver::remote::{Launch, RemoteError};
use crate::net::FRAMES_PER_WAKEUP_MAX;
use crate::server::auth::Token;

/// The adapter hosting this run's devices, and the task driving them.
pub(super) struct Hosted {
    pid: u32,
    pub(super) adapter: Named,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), RemoteError>>,
}

impl Hosted {
    /// CPU time the adapter's process has used so far.
    pub(super) fn cpu_time(&self) -> Duration {
        crate::cpu::child_cpu_time(self.pid).unwrap_or_default()
    }

    /// Ends the session (the adapter closes its devices and exits); the adapter's error, if it
    /// broke the protocol during the run.
    pub(super) async fn stop(self) -> Result<(), RealtimeError> {
        let _ = self.stop.send(());
        // The task ends the session within the deadline and the exit timeout.
        match self.task.await {
            Ok(r) => r.map_err(RealtimeError::Adapter),
            Err(e) => Err(RealtimeError::Io(format!("the adapter's driver task: {e}"))),
        }
    }
}

/// Starts the adapter, checks it can carry the load, opens every device, and starts the task
/// that drives them.
pub(super) async fn start(
    launch: &Launch,
    url: &str,
    tokens: &[Token],
    inbox: mpsc::Receiver<(usize, Cmd)>,
    shared: &Arc<Shared>,
) -> Result<Hosted, RealtimeError> {
    let deadline = Duration::from_millis(DEADLINE_MS_DEFAULT);
    let mut pipe = Pipeline::start(launch, deadline)
        .await
        .map_err(RealtimeError::Adapter)?;
    fit(&pipe, shared)?;
    let names: Vec<String> = shared.ids.iter().map(|u| format!("{u}/d0")).collect();
    open_all(&mut pipe, url, tokens, &names, shared).await?;
    let adapter = pipe.hello().adapter.clone();
    let pid = pipe.pid();
    // The SDK takes the automatic steps; the agents here only the user's.
    let options = crate::agent::Options {
        auto_ringing: false,
        auto_start_session: false,
        ..crate::agent::Options::default()
    };
    let driver = Driver {
        devices: (0..names.len())
            .map(|i| Device::new(i, shared, options.clone()))
            .collect(),
        index: names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect(),
        armed: vec![None; names.len()],
        names,
        pipe,
        ops: HashMap::new(),
        timers: BinaryHeap::new(),
        shared: shared.clone(),
    };
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(driver.run(inbox, stopped));
    Ok(Hosted {
        pid,
        adapter,
        stop,
        task,
    })
}

/// Refuses an adapter that cannot carry the run: users provisioned through callconf's server,
/// room for every device, and the operations the users' scripts send.
fn fit(pipe: &Pipeline, shared: &Shared) -> Result<(), RealtimeError> {
    let caps = &pipe.hello().capabilities;
    if caps.provisioning != Provisioning::Server {
        return Err(RealtimeError::AdapterUnfit(
            "it needs accounts made beforehand (`provisioning: accounts`); load provisions \
             users on the server"
                .into(),
        ));
    }
    let users = shared.ids.len();
    if caps.max_devices < users {
        return Err(RealtimeError::AdapterUnfit(format!(
            "it holds at most {} devices and this generator has {users} users: run more \
             generators (--shard K/N), each with its own adapter",
            caps.max_devices
        )));
    }
    let a = &shared.sc.actions;
    let mut needed = vec!["place", "accept", "decline", "cancel", "hangup"];
    for (p, op) in [(a.hold, "hold"), (a.mute, "mute"), (a.dtmf, "dtmf")] {
        if p > 0.0 {
            needed.push(op);
        }
    }
    let missing: Vec<&str> = needed
        .into_iter()
        .filter(|op| !caps.operations.iter().any(|o| o == op))
        .collect();
    if !missing.is_empty() {
        return Err(RealtimeError::AdapterUnfit(format!(
            "the scenario's users need operations its hello does not list: {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Opens every device, [`OPENS_IN_FLIGHT_MAX`] at a time.
async fn open_all(
    pipe: &mut Pipeline,
    url: &str,
    tokens: &[Token],
    names: &[String],
    shared: &Shared,
) -> Result<(), RealtimeError> {
    let mut pending: HashMap<u64, usize> = HashMap::new();
    let mut next = 0;
    // Bounded: each pass sends opens up to the window, then takes one message; every open is
    // answered within the deadline or `next` fails.
    while next < names.len() || !pending.is_empty() {
        while next < names.len() && pending.len() < OPENS_IN_FLIGHT_MAX {
            let open = Open {
                device: names[next].clone(),
                user: shared.ids[next].clone(),
                label: "d0".into(),
                server: url.to_owned(),
                credentials: Credentials {
                    token: tokens[next].clone(),
                },
                automatic: Automatic::default(),
            };
            let id = pipe
                .send(&Method::Open(open))
                .await
                .map_err(RealtimeError::Adapter)?;
            pending.insert(id, next);
            next += 1;
        }
        // Events before any call (none are expected) carry nothing to act on.
        if let Delivery::Answer { id, result } =
            pipe.next().await.map_err(RealtimeError::Adapter)?
            && let Some(i) = pending.remove(&id)
            && let Err(r) = result
        {
            return Err(RealtimeError::Setup(format!(
                "device.open {}: {} {}",
                names[i], r.code, r.message
            )));
        }
    }
    Ok(())
}

/// What woke the driver.
enum Wake {
    Delivery(Delivery),
    Cmds,
    Timer,
}

/// The one task driving every device behind the adapter.
struct Driver {
    pipe: Pipeline,
    devices: Vec<Device>,
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// Command id → the device and its own request id.
    ops: HashMap<u64, (usize, u64)>,
    /// Agents' next timers, earliest first; an entry that no longer matches `armed` is stale.
    timers: BinaryHeap<Reverse<(u64, usize)>>,
    armed: Vec<Option<u64>>,
    shared: Arc<Shared>,
}

impl Driver {
    async fn run(
        mut self,
        inbox: mpsc::Receiver<(usize, Cmd)>,
        stopped: oneshot::Receiver<()>,
    ) -> Result<(), RemoteError> {
        let r = self.serve(inbox, stopped).await;
        if r.is_err() {
            self.shared.aborted.store(true, Ordering::Relaxed);
        }
        self.pipe.end().await;
        r
    }

    /// Bounded: ends when stopped, when the command queue closes, or on the adapter's error.
    async fn serve(
        &mut self,
        mut inbox: mpsc::Receiver<(usize, Cmd)>,
        mut stopped: oneshot::Receiver<()>,
    ) -> Result<(), RemoteError> {
        let mut batch = Vec::with_capacity(FRAMES_PER_WAKEUP_MAX);
        loop {
            let due = self.timers.peek().map(|Reverse((t, _))| *t);
            let at = self.shared.instant_of(due.unwrap_or(0));
            let wake = tokio::select! {
                biased;
                _ = &mut stopped => return Ok(()),
                d = self.pipe.next() => Wake::Delivery(d?),
                n = inbox.recv_many(&mut batch, FRAMES_PER_WAKEUP_MAX) => {
                    if n == 0 {
                        return Ok(());
                    }
                    Wake::Cmds
                }
                _ = tokio::time::sleep_until(at), if due.is_some() => Wake::Timer,
            };
            match wake {
                Wake::Delivery(d) => self.deliver(d).await?,
                Wake::Cmds => {
                    for (dev, cmd) in batch.drain(..) {
                        self.act(dev, Some(cmd)).await?;
                    }
                }
                Wake::Timer => self.fire().await?,
            }
        }
    }

    async fn deliver(&mut self, d: Delivery) -> Result<(), RemoteError> {
        match d {
            Delivery::Answer { id, result } => {
                let Some((dev, local)) = self.ops.remove(&id) else {
                    return Ok(());
                };
                let result: Result<Reply, u16> = match result {
                    Ok(v) => Ok(serde_json::from_value::<OpResult>(v)
                        .map(|r| r.reply)
                        .map_err(|e| {
                            RemoteError::Malformed(format!("the result of command {id}: {e}"))
                        })?),
                    Err(refused) => Err(refused.code),
                };
                let shared = &self.shared;
                self.devices[dev].on_reply(local, result.as_ref().map_err(|c| *c), shared);
                self.act(dev, None).await
            }
            Delivery::Event { device, event } => {
                // The pipeline lets through only devices opened, all of them in the index.
                let Some(&dev) = self.index.get(&device) else {
                    return Ok(());
                };
                self.devices[dev].on_event(&event, &self.shared);
                self.act(dev, None).await
            }
        }
    }

    /// Fires the agents' timers due by now.
    async fn fire(&mut self) -> Result<(), RemoteError> {
        let now = self.shared.now_ms();
        // Bounded: each pass pops one entry; entries are pushed only on a change of a timer.
        while let Some(&Reverse((t, dev))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            if self.armed[dev] == Some(t) {
                self.armed[dev] = None;
                self.act(dev, None).await?;
            }
        }
        Ok(())
    }

    /// Device `dev`'s wakeup: `cmd`, its due timers, and the operations it decided on, sent.
    async fn act(&mut self, dev: usize, cmd: Option<Cmd>) -> Result<(), RemoteError> {
        self.devices[dev].act(cmd, &self.shared);
        let outbox = std::mem::take(&mut self.devices[dev].outbox);
        for (local, op) in outbox {
            let device = self.names[dev].clone();
            let id = self.pipe.send(&Method::Op { device, op }).await?;
            self.ops.insert(id, (dev, local));
        }
        let next = self.devices[dev].next_timer_ms();
        if next != self.armed[dev] {
            self.armed[dev] = next;
            if let Some(t) = next {
                self.timers.push(Reverse((t, dev)));
            }
        }
        Ok(())
    }
}
