//! `callconf load --realtime`: the scenario's 1:1 calls placed in wall-clock time by real client
//! connections (one WebSocket per device, JSON frames) against the reference server over
//! loopback. It measures what the transport and server really sustain; the virtual mode
//! measures behaviour at scale.
//!
//! Measured: setup time, ring-to-answer, outcomes, requests and deliveries. Not measured here:
//! per-delivery latency (the server and the driver keep separate clocks).
//!
//! Scope, stated: 1:1 calls only; callee answer/decline/no-answer/busy, answer delay, talk time
//! and caller cancel follow the scenario; the network is the real loopback (no latency model, no
//! faults); one cell (a single server).

use std::collections::HashMap;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Poll;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::FRAMES_PER_WAKEUP_MAX;
use super::wire::{ClientMsg, ServerMsg};
use crate::core::{CallId, Event, Op, ParticipantState, PlaceCall, Reply, UserId};
use crate::scenario::{Arrival, Scenario};
use crate::server::auth::Token;
use crate::server::population::{self, Population};
use crate::server::{ServerConfig, ServerHandle};
use crate::sim::{Control, Outcome, Stats};

#[derive(Debug, Error)]
pub enum RealtimeError {
    #[error("real-time mode runs 1:1 calls only; the mix asks for {0}-party calls")]
    GroupCalls(u32),
    #[error("real-time mode needs `calls.total`")]
    NoTotal,
    #[error("network: {0}")]
    Io(String),
    #[error("the server refused set-up: {0}")]
    Setup(String),
    #[error(
        "{users} users need {needed} open files (a socket at each end of each device's \
         connection) but the process may open {limit}: raise it (`ulimit -n {needed}`) or lower \
         `population.users`"
    )]
    FileLimit { users: u64, needed: u64, limit: u64 },
}

impl RealtimeError {
    /// The stable numeric code.
    pub fn code(&self) -> u16 {
        match self {
            RealtimeError::GroupCalls(_) => 801,
            RealtimeError::NoTotal => 802,
            RealtimeError::Io(_) => 803,
            RealtimeError::Setup(_) => 804,
            RealtimeError::FileLimit { .. } => 805,
        }
    }
}

/// Open files the process needs besides the connections' sockets (listener, runtime, stdio).
const FILES_SPARE: u64 = 64;

/// Makes room for `users` connections: both ends of each socket live in this process. Raises
/// the soft open-file limit up to the hard one when it is short (as SIPp does for its sockets),
/// so a run fails here with the numbers, not at the 500th connection with "too many open files".
fn ensure_file_limit(users: u64) -> Result<(), RealtimeError> {
    let needed = users * 2 + FILES_SPARE;
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(RealtimeError::Io(format!(
            "getrlimit: {}",
            std::io::Error::last_os_error()
        )));
    }
    if lim.rlim_cur >= needed {
        return Ok(());
    }
    if lim.rlim_max < needed {
        return Err(RealtimeError::FileLimit {
            users,
            needed,
            limit: lim.rlim_max,
        });
    }
    let raised = libc::rlimit {
        rlim_cur: needed,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above; a soft limit at most the hard one is always allowed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(RealtimeError::Io(format!(
            "setrlimit: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// What the caller's device does with a call.
#[derive(Debug, Clone, Copy)]
enum Cmd {
    Place { to: usize, slot: usize },
    Accept { call: CallId },
    Decline { call: CallId, code: u16 },
    Hangup { call: CallId },
}

struct Shared {
    sc: Scenario,
    stats: Mutex<Stats>,
    idle: Mutex<Vec<usize>>,
    /// Per call slot: when it was placed and whether the caller heard ringing / an answer.
    calls: Mutex<HashMap<usize, CallRecord>>,
    /// The call slot each user is in (a user takes part in at most one call at a time: callers
    /// and callees are drawn from the idle pool). Guarded by the `calls` lock's discipline:
    /// written when a call is created and when it finishes.
    slot_of: Mutex<Vec<Option<usize>>>,
    rng: Mutex<ChaCha8Rng>,
    /// Time zero of the run's statistics: when arrivals begin, after every device has
    /// connected. Set once, before the first call; the report's times and its
    /// `achieved_rate_per_s` (calls started over the last start's time) count from it, so the
    /// 2,000 WebSocket handshakes before the first call are not in the rate's denominator.
    start: OnceLock<Instant>,
    devices: Vec<mpsc::Sender<Cmd>>,
    ids: Vec<UserId>,
    control: Arc<Control>,
    done: AtomicBool,
    requests: AtomicU64,
    deliveries: AtomicU64,
}

struct CallRecord {
    caller: usize,
    callee: usize,
    placed_ms: u64,
    ringing_ms: Option<u64>,
    answered: bool,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        // Unset only before the first call, when nothing is timed.
        let Some(start) = self.start.get() else {
            return 0;
        };
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn finish(&self, slot: usize, outcome: Outcome) {
        let Some(rec) = self.calls.lock().expect("calls").remove(&slot) else {
            return;
        };
        let success = outcome.is_clean();
        self.stats
            .lock()
            .expect("stats")
            .record_end(self.now_ms(), outcome, success);
        self.control.ended.fetch_add(1, Ordering::Relaxed);
        {
            let mut slot_of = self.slot_of.lock().expect("slot_of");
            slot_of[rec.caller] = None;
            slot_of[rec.callee] = None;
        }
        let mut idle = self.idle.lock().expect("idle");
        idle.push(rec.caller);
        idle.push(rec.callee);
    }
}

/// What a real-time run measured.
pub struct RealtimeRun {
    pub stats: Stats,
    /// From the first arrival until every call ended (or the drain gave up).
    pub wall: Duration,
    /// CPU time the whole process (server, clients, kernel work on their behalf) used over
    /// `wall`: a run that falls short of its rate with the cores busy is CPU-bound.
    pub cpu: Duration,
}

/// Runs the scenario in real time.
pub async fn run(
    sc: &Scenario,
    seed: u64,
    control: Arc<Control>,
) -> Result<RealtimeRun, RealtimeError> {
    if let Some(m) = sc.calls.mix.iter().find(|m| m.participants != 2) {
        return Err(RealtimeError::GroupCalls(m.participants));
    }
    let total = sc.calls.total.ok_or(RealtimeError::NoTotal)?;
    ensure_file_limit(sc.population.users)?;
    let users = sc.population.users as usize;
    let mut pop = Population::numbered(users, "d0");
    pop.limits = Some(sc.limits.clone());
    let (core, credentials) = population::build(&pop, &sc.limits, &[])
        .map_err(|e| RealtimeError::Setup(e.to_string()))?;
    let ids: Vec<UserId> = pop.users.iter().map(|u| u.name.clone()).collect();
    let tokens: Vec<Token> = pop
        .users
        .iter()
        .map(|u| u.devices[0].token.clone())
        .collect();
    let server = ServerHandle::start_with(core, credentials, &[], ServerConfig::default(), None);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| RealtimeError::Io(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| RealtimeError::Io(e.to_string()))?;
    tokio::spawn(super::server::serve(listener, server));

    let interval_ms = (sc.report.interval_s * 1000.0).round().max(1.0) as u64;
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for _ in 0..users {
        let (tx, rx) = mpsc::channel(64);
        senders.push(tx);
        receivers.push(rx);
    }
    let shared = Arc::new(Shared {
        sc: sc.clone(),
        stats: Mutex::new(Stats::new(interval_ms)),
        idle: Mutex::new((0..users).rev().collect()),
        calls: Mutex::new(HashMap::new()),
        slot_of: Mutex::new(vec![None; users]),
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        start: OnceLock::new(),
        devices: senders,
        ids,
        control: control.clone(),
        done: AtomicBool::new(false),
        requests: AtomicU64::new(0),
        deliveries: AtomicU64::new(0),
    });
    let mut tasks = Vec::new();
    for (i, rx) in receivers.into_iter().enumerate() {
        let url = format!("ws://{addr}/");
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(super::ws_config()), true)
                .await
                .map_err(|e| RealtimeError::Io(e.to_string()))?;
        let hello = ClientMsg::hello(shared.ids[i].clone(), "d0", tokens[i].clone());
        tasks.push(tokio::spawn(device(i, hello, ws, rx, shared.clone())));
    }
    // Arrivals, paced against the wall clock in 1 ms ticks (the timer's resolution).
    // One time zero for the statistics, the pacing and the wall time.
    let begin = *shared.start.get_or_init(Instant::now);
    let cpu_begin = crate::cpu::process_cpu_time();
    let mut placed: u64 = 0;
    let mut slot = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Bounded: stops after `total` arrivals or when interrupted.
    while placed < total && !control.interrupt.load(Ordering::Relaxed) {
        tick.tick().await;
        let elapsed_s = begin.elapsed().as_secs_f64();
        let due = (arrivals_by(&sc.calls.arrival, elapsed_s) as u64).min(total);
        while placed < due {
            placed += 1;
            let pair = {
                let mut idle = shared.idle.lock().expect("idle");
                if idle.len() < 2 {
                    None
                } else {
                    let mut rng = shared.rng.lock().expect("rng");
                    let i = rng.random_range(0..idle.len());
                    let a = idle.swap_remove(i);
                    let j = rng.random_range(0..idle.len());
                    let b = idle.swap_remove(j);
                    Some((a, b))
                }
            };
            let now = shared.now_ms();
            let Some((caller, callee)) = pair else {
                shared.stats.lock().expect("stats").record_throttled(now);
                continue;
            };
            slot += 1;
            {
                let mut slot_of = shared.slot_of.lock().expect("slot_of");
                slot_of[caller] = Some(slot);
                slot_of[callee] = Some(slot);
            }
            shared.calls.lock().expect("calls").insert(
                slot,
                CallRecord {
                    caller,
                    callee,
                    placed_ms: now,
                    ringing_ms: None,
                    answered: false,
                },
            );
            shared.stats.lock().expect("stats").record_start(now);
            control.started.fetch_add(1, Ordering::Relaxed);
            let _ = shared.devices[caller]
                .send(Cmd::Place { to: callee, slot })
                .await;
        }
    }
    // Drain: every placed call ends (talk times and the ring timeout bound it).
    let drain_deadline =
        Instant::now() + Duration::from_millis(sc.limits.ring_timeout_ms + 120_000);
    while !shared.calls.lock().expect("calls").is_empty() && Instant::now() < drain_deadline {
        if control.interrupt.load(Ordering::Relaxed) {
            let slots: Vec<usize> = shared
                .calls
                .lock()
                .expect("calls")
                .keys()
                .copied()
                .collect();
            for s in slots {
                shared.finish(s, Outcome::Interrupted);
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let wall = begin.elapsed();
    let cpu = crate::cpu::process_cpu_time().saturating_sub(cpu_begin);
    shared.done.store(true, Ordering::Relaxed);
    let lost = shared.calls.lock().expect("calls").len() as u64;
    for t in tasks {
        t.abort();
    }
    let mut stats = std::mem::replace(
        &mut *shared.stats.lock().expect("stats"),
        Stats::new(interval_ms),
    );
    stats.lost += lost;
    stats.requests = shared.requests.load(Ordering::Relaxed);
    stats.deliveries = shared.deliveries.load(Ordering::Relaxed);
    stats.finish();
    Ok(RealtimeRun { stats, wall, cpu })
}

/// Arrivals due by `t_s` seconds (Poisson runs at its mean rate in real time).
fn arrivals_by(arrival: &Arrival, t_s: f64) -> f64 {
    match *arrival {
        Arrival::Constant { rate_per_s } | Arrival::Poisson { rate_per_s } => rate_per_s * t_s,
        Arrival::Ramp {
            from_per_s,
            to_per_s,
            over_s,
        } => {
            let a = (to_per_s - from_per_s) / (2.0 * over_s);
            if t_s <= over_s {
                from_per_s * t_s + a * t_s * t_s
            } else {
                from_per_s * over_s + a * over_s * over_s + to_per_s * (t_s - over_s)
            }
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What woke a device.
enum Work {
    /// Commands arrived (already moved into the batch).
    Cmds,
    /// Every sender of commands is gone.
    CmdsClosed,
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
}

/// One device's own state: its request ids and the calls it takes part in.
struct Device {
    me: usize,
    next_id: u64,
    /// Request id → the call slot it is for (place requests only).
    placing: HashMap<u64, usize>,
    /// Core call id → slot, for calls this device takes part in.
    slots: HashMap<CallId, usize>,
    /// Commands due now (a zero answer delay or talk time), sent in this wakeup.
    due: Vec<Cmd>,
    /// Requests fed since the last flush.
    fed: usize,
}

/// One device: its connection, and the scripted reactions of its user.
///
/// One task owns the whole socket. Each wakeup it takes every frame already received and every
/// command already queued, reacts, feeds the requests, and flushes once: a callee that answers
/// at once sends `ringing` and `accept` in one write, as a real client would.
async fn device(
    me: usize,
    hello: ClientMsg,
    mut ws: Ws,
    mut cmds: mpsc::Receiver<Cmd>,
    shared: Arc<Shared>,
) {
    let hello = serde_json::to_string(&hello).expect("serializes");
    if ws.send(Message::text(hello)).await.is_err() {
        return;
    }
    let mut dev = Device {
        me,
        next_id: 0,
        placing: HashMap::new(),
        slots: HashMap::new(),
        due: Vec::new(),
        fed: 0,
    };
    let mut batch: Vec<Cmd> = Vec::with_capacity(FRAMES_PER_WAKEUP_MAX);
    // Bounded: ends when the connection closes or fails, or the driver drops the command queue.
    loop {
        let work = poll_fn(|cx| {
            match cmds.poll_recv_many(cx, &mut batch, FRAMES_PER_WAKEUP_MAX) {
                Poll::Ready(0) => return Poll::Ready(Work::CmdsClosed),
                Poll::Ready(_) => return Poll::Ready(Work::Cmds),
                Poll::Pending => {}
            }
            ws.poll_next_unpin(cx).map(Work::Frame)
        })
        .await;
        let mut taken = 0;
        match work {
            Work::CmdsClosed => return,
            Work::Cmds => {}
            Work::Frame(frame) => {
                taken = 1;
                if !dev.on_frame(frame, &mut ws, &shared).await {
                    return;
                }
            }
        }
        // The other frames already received. No wait (`now_or_never`): the next wait polls the
        // socket again with this task's waker.
        while taken < FRAMES_PER_WAKEUP_MAX {
            let Some(frame) = ws.next().now_or_never() else {
                break;
            };
            taken += 1;
            if !dev.on_frame(frame, &mut ws, &shared).await {
                return;
            }
        }
        if batch.len() < FRAMES_PER_WAKEUP_MAX {
            let room = FRAMES_PER_WAKEUP_MAX - batch.len();
            if let Some(0) = cmds.recv_many(&mut batch, room).now_or_never() {
                return;
            }
        }
        batch.append(&mut dev.due);
        for cmd in batch.drain(..) {
            if dev.command(cmd, &mut ws, &shared).await.is_err() {
                return;
            }
        }
        if dev.fed > 0 {
            dev.fed = 0;
            if ws.flush().await.is_err() {
                return;
            }
        }
    }
}

impl Device {
    /// Feeds one request (sent at the next flush).
    async fn request(&mut self, op: Op, ws: &mut Ws, shared: &Shared) -> Result<u64, ()> {
        self.next_id += 1;
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let msg = serde_json::to_string(&ClientMsg::Request {
            id: self.next_id,
            op,
        })
        .expect("serializes");
        ws.feed(Message::text(msg)).await.map_err(|_| ())?;
        self.fed += 1;
        Ok(self.next_id)
    }

    async fn command(&mut self, cmd: Cmd, ws: &mut Ws, shared: &Shared) -> Result<(), ()> {
        let op = match cmd {
            Cmd::Place { to, slot } => {
                let op = Op::Place(PlaceCall::direct(
                    shared.ids[to].clone(),
                    shared.sc.calls.mix[0].call_type,
                ));
                let id = self.request(op, ws, shared).await?;
                self.placing.insert(id, slot);
                return Ok(());
            }
            Cmd::Accept { call } => Op::Accept { call },
            Cmd::Decline { call, code } => Op::Decline {
                call,
                code: Some(code),
            },
            Cmd::Hangup { call } => Op::Hangup { call },
        };
        self.request(op, ws, shared).await.map(|_| ())
    }

    /// Handles one received frame; `false` when the connection is over.
    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        ws: &mut Ws,
        shared: &Arc<Shared>,
    ) -> bool {
        let t = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return false,
            Some(Ok(_)) => return true,
        };
        let Ok(msg) = ServerMsg::from_json(&t) else {
            return true;
        };
        match msg {
            ServerMsg::Reply { id, result } => {
                if let Some(slot) = self.placing.remove(&id) {
                    match result {
                        Ok(Reply::Placed { call, .. }) => {
                            self.slots.insert(call, slot);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            let outcome = match e.code {
                                486 => Outcome::Busy,
                                480 => Outcome::Unavailable,
                                _ => Outcome::Rejected,
                            };
                            shared.finish(slot, outcome);
                        }
                    }
                }
                true
            }
            ServerMsg::Event { delivery } => {
                shared.deliveries.fetch_add(1, Ordering::Relaxed);
                self.react(delivery.event, ws, shared).await.is_ok()
            }
            ServerMsg::Welcome { .. } | ServerMsg::Error { .. } => true,
        }
    }

    async fn react(&mut self, event: Event, ws: &mut Ws, shared: &Arc<Shared>) -> Result<(), ()> {
        let me = self.me;
        let now = shared.now_ms();
        match event {
            Event::Incoming { info } => {
                // Acknowledge ringing, then follow the callee's script.
                let candidate = shared.slot_of.lock().expect("slot_of")[me];
                let slot = candidate.filter(|s| {
                    shared
                        .calls
                        .lock()
                        .expect("calls")
                        .get(s)
                        .is_some_and(|r| r.callee == me && shared.ids[r.caller] == info.caller)
                });
                if let Some(slot) = slot {
                    self.slots.insert(info.call, slot);
                }
                self.request(Op::Ringing { call: info.call }, ws, shared)
                    .await?;
                let (x, delay) = {
                    let mut rng = shared.rng.lock().expect("rng");
                    let x: f64 = rng.random();
                    (x, shared.sc.callee.answer_delay_ms.sample_ms(&mut *rng))
                };
                let e = &shared.sc.callee;
                let cmd = if x < e.answer {
                    Some(Cmd::Accept { call: info.call })
                } else if x < e.answer + e.decline {
                    Some(Cmd::Decline {
                        call: info.call,
                        code: 603,
                    })
                } else if x < e.answer + e.decline + e.busy {
                    Some(Cmd::Decline {
                        call: info.call,
                        code: 486,
                    })
                } else {
                    None
                };
                if let Some(cmd) = cmd {
                    self.schedule(shared, delay, cmd);
                }
            }
            Event::Participant { call, user, state } => {
                // The server queues a request's reply before the events it causes, but clients
                // must not rely on it (docs/scenarios.md): without the reply yet, find the call
                // by its parties.
                let slot =
                    match self.slots.get(&call) {
                        Some(&slot) => slot,
                        None => {
                            let candidate = shared.slot_of.lock().expect("slot_of")[me];
                            let found =
                                candidate.filter(|s| {
                                    shared.calls.lock().expect("calls").get(s).is_some_and(|r| {
                                        r.caller == me && shared.ids[r.callee] == user
                                    })
                                });
                            let Some(slot) = found else { return Ok(()) };
                            self.slots.insert(call, slot);
                            slot
                        }
                    };
                let mut calls = shared.calls.lock().expect("calls");
                let Some(rec) = calls.get_mut(&slot) else {
                    return Ok(());
                };
                if rec.caller != me || shared.ids[me] == user {
                    return Ok(());
                }
                match state {
                    ParticipantState::Ringing if rec.ringing_ms.is_none() => {
                        rec.ringing_ms = Some(now);
                        let setup = now - rec.placed_ms;
                        drop(calls);
                        shared.stats.lock().expect("stats").record_setup(now, setup);
                    }
                    ParticipantState::Joined if !rec.answered => {
                        rec.answered = true;
                        let ring = rec.ringing_ms.map(|r| now - r);
                        drop(calls);
                        if let Some(r) = ring {
                            let _ = shared
                                .stats
                                .lock()
                                .expect("stats")
                                .ring_to_answer_ms
                                .record(r.max(1));
                        }
                        let talk = {
                            let mut rng = shared.rng.lock().expect("rng");
                            shared.sc.talk_time_ms.sample_ms(&mut *rng)
                        };
                        self.schedule(shared, talk, Cmd::Hangup { call });
                    }
                    _ => {}
                }
            }
            Event::Ended { call, reason } => {
                let Some(slot) = self.slots.remove(&call) else {
                    return Ok(());
                };
                let (caller, answered) = match shared.calls.lock().expect("calls").get(&slot) {
                    Some(r) => (r.caller, r.answered),
                    None => return Ok(()),
                };
                if caller != me {
                    return Ok(());
                }
                let outcome = Outcome::of_end(&reason, answered);
                shared.finish(slot, outcome);
            }
            Event::Detached { call, .. } => {
                self.slots.remove(&call);
            }
            _ => {}
        }
        Ok(())
    }

    /// Sends `cmd` after `delay_ms`: in this wakeup for 0 (no timer, no extra task), else
    /// through the device's command queue when the timer fires.
    fn schedule(&mut self, shared: &Arc<Shared>, delay_ms: u64, cmd: Cmd) {
        if delay_ms == 0 {
            self.due.push(cmd);
            return;
        }
        let tx = shared.devices[self.me].clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let _ = tx.send(cmd).await;
        });
    }
}
