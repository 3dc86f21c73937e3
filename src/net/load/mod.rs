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
//! Two transports carry the devices' messages ([`Via`]); what a device does and what is
//! measured is one piece of code for both (`calls.rs`):
//!
//! - this process's own connections: a task and a WebSocket per device (`ws.rs`), or, with
//!   `--mux N`, a task and a WebSocket per N devices, each authenticated on its own channel of
//!   the shared connection (`mux.rs`); JSON frames, or the compact encoding (`--encoding`);
//! - an adapter process hosting every device (`--adapter CMD`, `adapter.rs`), driven through the
//!   driver protocol as certify drives it, so a vendor loads its SDK with the adapter it
//!   certifies with. The SDK takes the automatic steps (ringing, session starts); the agents
//!   here take only the user's.
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

mod adapter;
mod calls;
mod mux;
mod provision;
mod ws;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::agent::{self, Script};
use crate::core::UserId;
use crate::driver::remote::{Launch, RemoteError};
use crate::net::codec::Encoding;
use crate::net::limits::{ADAPTER_COMMANDS_QUEUED_MAX, DRAIN_SPARE_MS};
use crate::scenario::{Arrival, Scenario};
use crate::server::auth::Token;
use crate::server::population::Population;
use crate::sim::{Control, Outcome, Shard, Stats};
use calls::{CallRecord, Cmd, Route, Shared};
use provision::{ensure_file_limit, provision, unprovision};

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
    #[error("the adapter failed: {0} (driver code {code})", code = .0.code())]
    Adapter(RemoteError),
    #[error("the adapter cannot carry this load: {0}")]
    AdapterUnfit(String),
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
            RealtimeError::Adapter(_) => 807,
            RealtimeError::AdapterUnfit(_) => 808,
        }
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
    /// The adapter the devices went through (its hello's name and version), if any.
    pub through: Option<String>,
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

/// How this process's own connections carry the devices (docs/wire-protocol.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Devices per WebSocket connection: 1 is a connection of its own per device; more share
    /// one (`mux`), each device authenticated on its own channel.
    pub mux: usize,
    /// The frames' encoding: JSON (the default) or the compact binary one.
    pub encoding: Encoding,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            mux: 1,
            encoding: Encoding::Json,
        }
    }
}

/// How the devices reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// WebSockets from this process: one per device, or shared by `mux` devices.
    Connections(Link),
    /// Every device hosted by one adapter process, driven through the driver protocol
    /// (docs/driver-protocol.md); the adapter's devices connect to the server.
    Adapter(Launch),
}

/// Runs the scenario in real time through this process's own connections: this shard's share
/// of it, against the reference server in this process or against `target`.
pub async fn run(
    sc: &Scenario,
    seed: u64,
    control: Arc<Control>,
    target: Option<&Target>,
    shard: Shard,
) -> Result<RealtimeRun, RealtimeError> {
    let via = Via::Connections(Link::default());
    run_via(sc, seed, control, target, shard, &via).await
}

/// Runs the scenario in real time with the devices reached `via` connections of this process
/// or an adapter; otherwise as [`run`].
pub async fn run_via(
    sc: &Scenario,
    seed: u64,
    control: Arc<Control>,
    target: Option<&Target>,
    shard: Shard,
    via: &Via,
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
    let mut pop = Population::numbered(users as usize, "d0");
    if shard.count > 1 || target.is_some() {
        // Names of this generator's own, beside other generators' on one server.
        for u in &mut pop.users {
            u.name = UserId::new(&format!("k{}-{}", shard.index, u.name));
        }
    }
    pop.limits = Some(sc.limits.clone());
    let (url, server) = provision(&pop, sc, target).await?;
    let plan = Plan {
        sc,
        seed,
        total,
        // This shard's part of the arrival rate.
        rate_share: 1.0 / f64::from(shard.count.max(1)),
        pop: &pop,
        url: &url,
    };
    let result = drive(&plan, control, via).await;
    // The clients are gone (aborted, or closed by the adapter); their users can go too.
    tokio::time::sleep(Duration::from_millis(50)).await;
    unprovision(server, &pop).await;
    result
}

/// One run's inputs, once provisioned.
struct Plan<'a> {
    sc: &'a Scenario,
    seed: u64,
    total: u64,
    rate_share: f64,
    pop: &'a Population,
    url: &'a str,
}

/// The devices' transport, once started.
enum Transport {
    Tasks(Vec<tokio::task::JoinHandle<()>>),
    Adapter(adapter::Hosted),
}

/// Connects the devices, places the calls, waits for them to end, and takes the figures.
async fn drive(
    p: &Plan<'_>,
    control: Arc<Control>,
    via: &Via,
) -> Result<RealtimeRun, RealtimeError> {
    let users = p.pop.users.len();
    let (route, inbox) = match via {
        Via::Connections(link) if link.mux > 1 => {
            let size = link.mux;
            let (tx, rx) = (0..users.div_ceil(size))
                .map(|_| mpsc::channel(ADAPTER_COMMANDS_QUEUED_MAX))
                .unzip();
            (Route::Groups { size, tx }, Inbox::Groups(rx))
        }
        Via::Connections(_) => {
            let (tx, rx) = (0..users).map(|_| mpsc::channel(64)).unzip();
            (Route::PerDevice(tx), Inbox::PerDevice(rx))
        }
        Via::Adapter(_) => {
            let (tx, rx) = mpsc::channel(ADAPTER_COMMANDS_QUEUED_MAX);
            (Route::One(tx), Inbox::One(rx))
        }
    };
    let shared = shared_state(p, control, route);
    let tokens: Vec<Token> = p
        .pop
        .users
        .iter()
        .map(|u| u.devices[0].token.clone())
        .collect();
    let transport = match (via, inbox) {
        (Via::Adapter(launch), Inbox::One(rx)) => {
            Transport::Adapter(adapter::start(launch, p.url, &tokens, rx, &shared).await?)
        }
        (Via::Connections(link), Inbox::PerDevice(rx)) => {
            Transport::Tasks(ws::start(p.url, &tokens, rx, &shared, link.encoding).await?)
        }
        (Via::Connections(link), Inbox::Groups(rx)) => {
            Transport::Tasks(mux::start(p.url, &tokens, rx, &shared, *link).await?)
        }
        _ => unreachable!("made together above"),
    };
    let helper_cpu = || match &transport {
        Transport::Adapter(h) => h.cpu_time(),
        Transport::Tasks(_) => Duration::ZERO,
    };
    // One time zero for the statistics, the pacing and the wall time.
    let begin = *shared.start.get_or_init(Instant::now);
    let cpu_begin = crate::cpu::process_cpu_time() + helper_cpu();
    arrivals(p, &shared).await;
    drain(&shared).await;
    let wall = begin.elapsed();
    let cpu = (crate::cpu::process_cpu_time() + helper_cpu()).saturating_sub(cpu_begin);
    let lost = shared.calls.lock().expect("calls").len() as u64;
    let through = match transport {
        Transport::Tasks(tasks) => {
            tasks.iter().for_each(|t| t.abort());
            None
        }
        Transport::Adapter(hosted) => {
            let named = format!("{} {}", hosted.adapter.name, hosted.adapter.version);
            hosted.stop().await?;
            Some(named)
        }
    };
    let interval_ms = shared.stats.lock().expect("stats").interval_ms;
    let mut stats = std::mem::replace(
        &mut *shared.stats.lock().expect("stats"),
        Stats::new(interval_ms),
    );
    stats.lost += lost;
    stats.requests = shared.requests.load(Ordering::Relaxed);
    stats.deliveries = shared.deliveries.load(Ordering::Relaxed);
    stats.finish();
    Ok(RealtimeRun {
        stats,
        wall,
        cpu,
        connected: shared.connected.load(Ordering::Relaxed),
        through,
    })
}

/// The run's bookkeeping before the first call: every user idle, no statistics yet.
fn shared_state(p: &Plan<'_>, control: Arc<Control>, route: Route) -> Arc<Shared> {
    let users = p.pop.users.len();
    let interval_ms = (p.sc.report.interval_s * 1000.0).round().max(1.0) as u64;
    Arc::new(Shared {
        sc: p.sc.clone(),
        stats: Mutex::new(Stats::new(interval_ms)),
        idle: Mutex::new((0..users).rev().collect()),
        // At most one call per two users: sized once, so that placing a call never grows
        // (and rehashes) the table under the lock every device event takes.
        calls: Mutex::new(HashMap::with_capacity(users / 2 + 1)),
        slot_of: Mutex::new(vec![None; users]),
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(p.seed)),
        start: OnceLock::new(),
        route,
        aborted: AtomicBool::new(false),
        ids: p.pop.users.iter().map(|u| u.name.clone()).collect(),
        control,
        requests: AtomicU64::new(0),
        deliveries: AtomicU64::new(0),
        connected: AtomicU64::new(0),
    })
}

/// The receiving ends of [`Route`].
enum Inbox {
    PerDevice(Vec<mpsc::Receiver<Cmd>>),
    One(mpsc::Receiver<(usize, Cmd)>),
    Groups(Vec<mpsc::Receiver<(usize, Cmd)>>),
}

/// Whether arrivals and the drain should stop early.
fn stopping(shared: &Shared) -> bool {
    shared.control.interrupt.load(Ordering::Relaxed) || shared.aborted.load(Ordering::Relaxed)
}

/// Arrivals, paced against the wall clock in 1 ms ticks (the timer's resolution).
async fn arrivals(p: &Plan<'_>, shared: &Shared) {
    let begin = *shared.start.get_or_init(Instant::now);
    let mut placed: u64 = 0;
    let mut slot = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Bounded: stops after `total` arrivals, when interrupted, or when the transport failed.
    while placed < p.total && !stopping(shared) {
        tick.tick().await;
        let elapsed_s = begin.elapsed().as_secs_f64();
        let due =
            ((arrivals_by(&p.sc.calls.arrival, elapsed_s) * p.rate_share) as u64).min(p.total);
        while placed < due {
            placed += 1;
            slot += 1;
            place(p.sc, shared, slot).await;
        }
    }
}

/// One arrival: two idle users, the call's shape and script drawn as the simulator draws them,
/// and the place command to the caller; throttled when fewer than two users are idle.
async fn place(sc: &Scenario, shared: &Shared, slot: usize) {
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
            let call_type = sc.calls.mix[agent::pick_mix(sc, &mut rng)].call_type;
            let script = Script::draw(sc, 1, &mut rng);
            Some((a, b, call_type, script))
        }
    };
    let now = shared.now_ms();
    let Some((caller, callee, call_type, script)) = pair else {
        shared.stats.lock().expect("stats").record_throttled(now);
        return;
    };
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
    shared.control.started.fetch_add(1, Ordering::Relaxed);
    let place = Cmd::Place {
        to: callee,
        slot,
        call_type,
    };
    shared.route.send(caller, place).await;
}

/// Waits for every placed call to end (talk times and the ring timeout bound it); on an
/// interruption the calls still on end as interrupted.
async fn drain(shared: &Shared) {
    let limit_ms = shared.sc.limits.ring_timeout_ms + DRAIN_SPARE_MS;
    let deadline = Instant::now() + Duration::from_millis(limit_ms);
    while !shared.calls.lock().expect("calls").is_empty() && Instant::now() < deadline {
        if shared.aborted.load(Ordering::Relaxed) {
            return;
        }
        if shared.control.interrupt.load(Ordering::Relaxed) {
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
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
