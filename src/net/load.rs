//! `callconf load --realtime`: the scenario's 1:1 calls placed in wall-clock time by real client
//! connections (one WebSocket per device, JSON frames) against the reference server over
//! loopback. It measures what the transport and server really sustain; the virtual mode
//! measures behaviour at scale.
//!
//! Measured: setup time, ring-to-answer, outcomes, requests and deliveries, and how many calls
//! reached `connected`. Not measured here: per-delivery latency (the server and the driver keep
//! separate clocks).
//!
//! What each device does on its own comes from its [`Agent`], the same as the simulator's
//! devices: it acknowledges ringing, starts the media session after an accept (so calls reach
//! `connected`), and follows its user's part of the call's [`Script`], drawn at the call's arrival
//! as the simulator draws it: the callee answers, declines or rejects as busy after the
//! scenario's answer or decline delay, or lets it ring; the caller cancels after its delay unless
//! answered, and hangs up after the talk time; the call type follows the scenario's mix; the
//! in-call actions' times are drawn at the answer, and the caller holds and sends DTMF, the
//! callee mutes (told by the caller's task, which heard the answer). The agent keeps each
//! device's timers; the device's task sleeps until the next one.
//!
//! Against a server in another process (`--target ws://HOST:PORT --admin ws://HOST:PORT
//! --admin-token-file F`), the driver provisions its own users through the admin channel
//! (`add_user`, and `remove_user` when done) and connects only the clients; with `--shard K/N`
//! each of N generators (processes or machines) takes its share of the users, the calls and the
//! rate, under user names of its own (`k2-u17`), so that they load one server side by side and
//! `callconf merge` adds their reports up.
//!
//! Scope, stated: 1:1 calls only; no blind transfer (it needs an app-to-phone call, and every
//! real-time user is an app: the simulator skips such a transfer too); the network is the real
//! loopback (no latency model, no faults); one cell (a single server).

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
use crate::agent::{
    self, Action, ActionFlags, Agent, Behaviour, InCall, Output, Part, Script, Side, Tag,
};
use crate::core::{
    CallId, CallStatus, CallType, Event, Op, ParticipantState, PlaceCall, Reply, UserId,
};
use crate::scenario::{Arrival, Scenario};
use crate::server::auth::Token;
use crate::server::population::{self, Population};
use crate::server::{ServerConfig, ServerHandle};
use crate::sim::{Control, Outcome, Shard, Stats};

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
    #[error("shard {index}/{count} of {users} users has fewer than 2: lower the shard count")]
    ShardTooSmall { index: u32, count: u32, users: u64 },
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
            RealtimeError::ShardTooSmall { .. } => 806,
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

/// What the driver tells a device: place a call (as its caller; everything after that is its
/// agent's), or do an in-call action of its user's (as the callee, drawn by the caller's task).
#[derive(Debug, Clone, Copy)]
enum Cmd {
    Place {
        to: usize,
        slot: usize,
        call_type: CallType,
    },
    Action {
        call: CallId,
        at_ms: u64,
        action: Action,
    },
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
    connected: AtomicU64,
}

struct CallRecord {
    caller: usize,
    callee: usize,
    placed_ms: u64,
    ringing_ms: Option<u64>,
    answered: bool,
    /// The callee's and the caller's parts of the call's script, and its in-call actions.
    callee_part: Behaviour,
    caller_part: Part,
    talk_ms: u64,
    actions: ActionFlags,
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
    /// Calls whose caller heard the status `connected` (both sides started the media session).
    pub connected: u64,
}

/// A `callconf serve` in another process to load: its device URL, admin URL and admin token.
#[derive(Debug, Clone)]
pub struct Target {
    pub devices_url: String,
    pub admin_url: String,
    pub admin_token: Token,
}

/// This shard's part of `n`: `n / count`, and one more for the first `n % count` shards.
fn share(n: u64, shard: Shard) -> u64 {
    let (i, c) = (u64::from(shard.index), u64::from(shard.count.max(1)));
    n / c + u64::from(i < n % c)
}

/// Where the clients connect, and what to undo at the end.
enum Server {
    /// The reference server in this process.
    InProcess,
    /// A server elsewhere, and the admin channel this run provisioned its users through.
    Remote(Box<super::admin::AdminClient>),
}

/// Provisions `pop`: in process, a server of its own (returns its URL); remote, its users added
/// to the target through the admin channel.
async fn provision(
    pop: &Population,
    sc: &Scenario,
    target: Option<&Target>,
) -> Result<(String, Server), RealtimeError> {
    let Some(t) = target else {
        let (core, credentials) = population::build(pop, &sc.limits, &[])
            .map_err(|e| RealtimeError::Setup(e.to_string()))?;
        let server =
            ServerHandle::start_with(core, credentials, &[], ServerConfig::default(), None);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| RealtimeError::Io(e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| RealtimeError::Io(e.to_string()))?;
        tokio::spawn(super::server::serve(listener, server));
        return Ok((format!("ws://{addr}/"), Server::InProcess));
    };
    let deadline = Duration::from_millis(crate::driver::limits::DEADLINE_MS_DEFAULT);
    let mut admin = super::admin::AdminClient::connect(&t.admin_url, &t.admin_token, deadline)
        .await
        .map_err(|e| RealtimeError::Setup(format!("admin channel {}: {e}", t.admin_url)))?;
    for u in &pop.users {
        let r = admin
            .op(crate::server::admin::AdminOp::AddUser(u.clone()))
            .await
            .map_err(|e| RealtimeError::Setup(format!("admin channel: {e}")))?;
        if let Err(e) = r {
            return Err(RealtimeError::Setup(format!(
                "add_user {}: {} ({})",
                u.name, e.message, e.code
            )));
        }
    }
    Ok((t.devices_url.clone(), Server::Remote(Box::new(admin))))
}

/// Removes the users a remote run added (best effort: the run's figures are already taken).
/// A user whose connection the server has not yet seen close is refused; it is tried again a
/// few times.
async fn unprovision(server: Server, pop: &Population) {
    let Server::Remote(mut admin) = server else {
        return;
    };
    let mut left: Vec<UserId> = pop.users.iter().map(|u| u.name.clone()).collect();
    for _ in 0..REMOVE_ATTEMPTS_MAX {
        let mut refused = Vec::new();
        for user in left {
            let op = crate::server::admin::AdminOp::RemoveUser { user: user.clone() };
            if !matches!(admin.op(op).await, Ok(Ok(_))) {
                refused.push(user);
            }
        }
        if refused.is_empty() {
            return;
        }
        left = refused;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rounds of `remove_user` for a remote run's users before giving up on the stragglers.
const REMOVE_ATTEMPTS_MAX: usize = 5;

/// Runs the scenario in real time: this shard's share of it, against the reference server in
/// this process or against `target`.
pub async fn run(
    sc: &Scenario,
    seed: u64,
    control: Arc<Control>,
    target: Option<&Target>,
    shard: Shard,
) -> Result<RealtimeRun, RealtimeError> {
    if let Some(m) = sc.calls.mix.iter().find(|m| m.participants != 2) {
        return Err(RealtimeError::GroupCalls(m.participants));
    }
    let total = share(sc.calls.total.ok_or(RealtimeError::NoTotal)?, shard);
    let users = share(sc.population.users, shard);
    if users < 2 {
        return Err(RealtimeError::ShardTooSmall {
            index: shard.index,
            count: shard.count,
            users,
        });
    }
    ensure_file_limit(users)?;
    let users = users as usize;
    let mut pop = Population::numbered(users, "d0");
    if shard.count > 1 || target.is_some() {
        // Names of this generator's own, beside other generators' on one server.
        for u in &mut pop.users {
            u.name = UserId::new(&format!("k{}-{}", shard.index, u.name));
        }
    }
    pop.limits = Some(sc.limits.clone());
    let ids: Vec<UserId> = pop.users.iter().map(|u| u.name.clone()).collect();
    let tokens: Vec<Token> = pop
        .users
        .iter()
        .map(|u| u.devices[0].token.clone())
        .collect();
    let (url, server) = provision(&pop, sc, target).await?;
    // This shard's part of the arrival rate.
    let rate_share = 1.0 / f64::from(shard.count.max(1));

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
        connected: AtomicU64::new(0),
    });
    let mut tasks = Vec::new();
    for (i, rx) in receivers.into_iter().enumerate() {
        let (ws, _) = tokio_tungstenite::connect_async_with_config(
            url.as_str(),
            Some(super::ws_config()),
            true,
        )
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
        let due = ((arrivals_by(&sc.calls.arrival, elapsed_s) * rate_share) as u64).min(total);
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
                    // The call's shape and script, drawn as the simulator draws them.
                    let call_type = sc.calls.mix[agent::pick_mix(sc, &mut rng)].call_type;
                    let script = Script::draw(sc, 1, &mut rng);
                    Some((a, b, call_type, script))
                }
            };
            let now = shared.now_ms();
            let Some((caller, callee, call_type, script)) = pair else {
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
                    callee_part: script.callees[0],
                    caller_part: script.caller_part(now, false),
                    talk_ms: script.talk_ms,
                    actions: script.actions,
                },
            );
            shared.stats.lock().expect("stats").record_start(now);
            control.started.fetch_add(1, Ordering::Relaxed);
            let place = Cmd::Place {
                to: callee,
                slot,
                call_type,
            };
            let _ = shared.devices[caller].send(place).await;
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
    let connected = shared.connected.load(Ordering::Relaxed);
    // The clients are gone (aborted above); their users can go too.
    tokio::time::sleep(Duration::from_millis(50)).await;
    unprovision(server, &pop).await;
    Ok(RealtimeRun {
        stats,
        wall,
        cpu,
        connected,
    })
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
    /// The agent's next timer is due.
    Timer,
}

/// One device's own state: its request ids, the calls it takes part in, and its agent.
struct Device {
    me: usize,
    next_id: u64,
    /// Request id → the call slot it is for (place requests only).
    placing: HashMap<u64, usize>,
    /// Request id → its tag, for the requests whose reply the agent awaits (accepts). Bounded
    /// by the calls the agent keeps: each gets its reply or the connection ends.
    awaiting: HashMap<u64, Tag>,
    /// Core call id → slot, for calls this device takes part in.
    slots: HashMap<CallId, usize>,
    agent: Agent,
    /// Requests fed since the last flush.
    fed: usize,
}

/// One device: its connection, and its agent's steps.
///
/// One task owns the whole socket. Each wakeup it takes every frame already received and every
/// command already queued, hands them to the agent, fires the agent's due timers, feeds the
/// requests, and flushes once: a callee that answers at once sends `ringing` and `accept` in one
/// write, as a real client would. Between wakeups it sleeps until the agent's next timer.
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
        awaiting: HashMap::new(),
        slots: HashMap::new(),
        agent: Agent::new(shared.ids[me].clone(), agent::Options::default()),
        fed: 0,
    };
    let mut batch: Vec<Cmd> = Vec::with_capacity(FRAMES_PER_WAKEUP_MAX);
    let mut clock = Clock::new();
    // Bounded: ends when the connection closes or fails, or the driver drops the command queue.
    loop {
        clock.set(dev.agent.poll_timeout().map(|t| shared.instant_of(t)));
        let work = poll_fn(|cx| {
            match cmds.poll_recv_many(cx, &mut batch, FRAMES_PER_WAKEUP_MAX) {
                Poll::Ready(0) => return Poll::Ready(Work::CmdsClosed),
                Poll::Ready(_) => return Poll::Ready(Work::Cmds),
                Poll::Pending => {}
            }
            if let Poll::Ready(frame) = ws.poll_next_unpin(cx) {
                return Poll::Ready(Work::Frame(frame));
            }
            clock.poll(cx).map(|()| Work::Timer)
        })
        .await;
        let mut taken = 0;
        match work {
            Work::CmdsClosed => return,
            Work::Cmds | Work::Timer => {}
            Work::Frame(frame) => {
                taken = 1;
                if !dev.on_frame(frame, &shared) {
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
            if !dev.on_frame(frame, &shared) {
                return;
            }
        }
        if batch.len() < FRAMES_PER_WAKEUP_MAX {
            let room = FRAMES_PER_WAKEUP_MAX - batch.len();
            if let Some(0) = cmds.recv_many(&mut batch, room).now_or_never() {
                return;
            }
        }
        if dev.act(&mut batch, &mut ws, &shared).await.is_err() {
            return;
        }
    }
}

/// A device task's one timer: the agent's next deadline.
struct Clock {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    until: Option<Instant>,
}

impl Clock {
    fn new() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            until: None,
        }
    }

    /// Sleeps until `due` from now on (re-armed only when it changed); `None`: never fires.
    fn set(&mut self, due: Option<Instant>) {
        if let Some(d) = due
            && self.until != Some(d)
        {
            self.sleep.as_mut().reset(d);
        }
        self.until = due;
    }

    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if self.until.is_none() {
            return Poll::Pending;
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl Shared {
    /// The wall-clock instant of agent time `t_ms`.
    fn instant_of(&self, t_ms: u64) -> Instant {
        // Agents arm timers only for calls, and calls start after time zero is set.
        let start = self.start.get().copied().unwrap_or_else(Instant::now);
        start + Duration::from_millis(t_ms)
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
        match cmd {
            Cmd::Place {
                to,
                slot,
                call_type,
            } => {
                let op = Op::Place(PlaceCall::direct(shared.ids[to].clone(), call_type));
                let id = self.request(op, ws, shared).await?;
                self.placing.insert(id, slot);
            }
            Cmd::Action {
                call,
                at_ms,
                action,
            } => {
                // Only for a call still on here (its end may have overtaken the command: the
                // agent would keep an action's call until a closing event that already came).
                // Past the agent's bounds the user skips the action.
                if self.slots.contains_key(&call) {
                    let _ = self
                        .agent
                        .handle_action(shared.now_ms(), call, at_ms, action);
                }
            }
        }
        Ok(())
    }

    /// The wakeup's second half: the commands, the agent's timers due by now (a zero delay's
    /// included), the requests all that decided, and one flush.
    async fn act(&mut self, batch: &mut Vec<Cmd>, ws: &mut Ws, shared: &Shared) -> Result<(), ()> {
        for cmd in batch.drain(..) {
            self.command(cmd, ws, shared).await?;
        }
        self.agent.handle_timeout(shared.now_ms());
        self.steps(ws, shared).await?;
        if self.fed > 0 {
            self.fed = 0;
            ws.flush().await.map_err(|_| ())?;
        }
        Ok(())
    }

    /// Feeds the requests the agent decided on, in its order.
    async fn steps(&mut self, ws: &mut Ws, shared: &Shared) -> Result<(), ()> {
        // Bounded: the agent's queue holds what this wakeup's inputs and timers produced.
        while let Some(out) = self.agent.poll_output() {
            match out {
                Output::Request(op) => {
                    let tag = Tag::of(&op);
                    let id = self.request(op, ws, shared).await?;
                    if tag.awaits_reply() {
                        self.awaiting.insert(id, tag);
                    }
                }
                // No in-call actions are handed out in real-time mode (see the module docs).
                Output::Transfer { .. } => {}
            }
        }
        Ok(())
    }

    /// This device learnt which slot `call` is: a caller's agent gets its user's part.
    fn learn(&mut self, call: CallId, slot: usize, shared: &Shared) {
        self.slots.insert(call, slot);
        let part = match shared.calls.lock().expect("calls").get(&slot) {
            Some(r) if r.caller == self.me => r.caller_part,
            _ => return,
        };
        // Past the agent's bound of calls the caller just lets the call run its course.
        let _ = self.agent.handle_script(shared.now_ms(), call, part);
    }

    /// Handles one received frame; `false` when the connection is over.
    fn on_frame(
        &mut self,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
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
                        Ok(Reply::Placed { call, .. }) => self.learn(call, slot, shared),
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
                } else if let Some(tag) = self.awaiting.remove(&id) {
                    let result = result.as_ref().map_err(|e| e.code);
                    self.agent.handle_reply(shared.now_ms(), tag, result);
                }
                true
            }
            ServerMsg::Event { delivery } => {
                shared.deliveries.fetch_add(1, Ordering::Relaxed);
                self.observe(&delivery.event, shared);
                self.agent.handle_event(shared.now_ms(), &delivery.event);
                true
            }
            ServerMsg::Welcome { .. } | ServerMsg::Error { .. } => true,
        }
    }

    /// What the driver itself does with an event: find the call's slot (and so the user's part
    /// of the script), and measure.
    fn observe(&mut self, event: &Event, shared: &Arc<Shared>) {
        match event {
            Event::Incoming { info } => {
                let me = self.me;
                let candidate = shared.slot_of.lock().expect("slot_of")[me];
                let found = candidate.and_then(|s| {
                    let calls = shared.calls.lock().expect("calls");
                    let r = calls.get(&s)?;
                    (r.callee == me && shared.ids[r.caller] == info.caller)
                        .then_some((s, r.callee_part))
                });
                if let Some((slot, behaviour)) = found {
                    self.slots.insert(info.call, slot);
                    // Before the agent hears of the invitation: its response counts from it.
                    let _ = self.agent.handle_script(
                        shared.now_ms(),
                        info.call,
                        Part::Callee(behaviour),
                    );
                }
            }
            Event::Participant { call, user, state } => {
                self.participant(*call, user, state, shared)
            }
            Event::Status {
                call,
                status: CallStatus::Connected,
            } => {
                let Some(slot) = self.slots.get(call) else {
                    return;
                };
                let calls = shared.calls.lock().expect("calls");
                if calls.get(slot).is_some_and(|r| r.caller == self.me) {
                    shared.connected.fetch_add(1, Ordering::Relaxed);
                }
            }
            Event::Ended { call, reason } => {
                let Some(slot) = self.slots.remove(call) else {
                    return;
                };
                let (caller, answered) = match shared.calls.lock().expect("calls").get(&slot) {
                    Some(r) => (r.caller, r.answered),
                    None => return,
                };
                if caller != self.me {
                    return;
                }
                shared.finish(slot, Outcome::of_end(reason, answered));
            }
            Event::Detached { call, .. } => {
                self.slots.remove(call);
            }
            _ => {}
        }
    }

    /// The caller's view of its callee: ringing (setup time) and the answer (ring to answer).
    fn participant(
        &mut self,
        call: CallId,
        user: &UserId,
        state: &ParticipantState,
        shared: &Arc<Shared>,
    ) {
        let me = self.me;
        let now = shared.now_ms();
        // The server queues a request's reply before the events it causes, but clients must not
        // rely on it (docs/scenarios.md): without the reply yet, find the call by its parties.
        let slot = match self.slots.get(&call) {
            Some(&slot) => slot,
            None => {
                let candidate = shared.slot_of.lock().expect("slot_of")[me];
                let found = candidate.filter(|s| {
                    shared
                        .calls
                        .lock()
                        .expect("calls")
                        .get(s)
                        .is_some_and(|r| r.caller == me && shared.ids[r.callee] == *user)
                });
                let Some(slot) = found else { return };
                self.learn(call, slot, shared);
                slot
            }
        };
        let mut calls = shared.calls.lock().expect("calls");
        let Some(rec) = calls.get_mut(&slot) else {
            return;
        };
        if rec.caller != me || shared.ids[me] == *user {
            return;
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
                let (callee, talk_ms, actions) = (rec.callee, rec.talk_ms, rec.actions);
                drop(calls);
                self.in_call(call, callee, now, talk_ms, actions, shared);
                if let Some(r) = ring {
                    let _ = shared
                        .stats
                        .lock()
                        .expect("stats")
                        .ring_to_answer_ms
                        .record(r.max(1));
                }
            }
            _ => {}
        }
    }

    /// The caller heard the answer: the in-call actions' times are drawn now, as the simulator
    /// draws them; the caller's go to its own agent, the callee's to the callee's task.
    fn in_call(
        &mut self,
        call: CallId,
        callee: usize,
        now: u64,
        talk_ms: u64,
        actions: ActionFlags,
        shared: &Shared,
    ) {
        if actions == ActionFlags::default() {
            return;
        }
        let plan = {
            let mut rng = shared.rng.lock().expect("rng");
            InCall::draw(&shared.sc, now, talk_ms, actions, &mut rng)
        };
        for (at_ms, side, action) in plan.steps() {
            match side {
                Side::Caller => {
                    let _ = self.agent.handle_action(now, call, at_ms, action);
                }
                Side::Callee => {
                    // Not awaited (a device's task never waits on another's queue): a callee
                    // whose queue is full skips the action.
                    let cmd = Cmd::Action {
                        call,
                        at_ms,
                        action,
                    };
                    let _ = shared.devices[callee].try_send(cmd);
                }
            }
        }
    }
}
