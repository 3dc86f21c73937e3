//! The remote system under test of `certify --adapter`: a `callconf serve` (its own, started
//! with `--clock manual`, or one given with `--server`), reached through its admin channel, and
//! devices behind an adapter process speaking `callconf-driver/1`. Scenarios run one at a time
//! against it (one clock, reset between them).
//!
//! The clock is driven when the server's is manual and the adapter says its SUT runs on it
//! (`capabilities.clock: "server"`); otherwise time is real: `N seconds pass` really waits (up
//! to a limit) and event times are compared with a slack.
//!
//! The rig lives on its own thread with its own runtime, because each scenario's stage runs on
//! a runtime that ends with the scenario; stages talk to the rig through [`RigClient`].
//!
//! Settling is exact, not a guess: the server's trace says how many events it delivered to
//! each device, and the rig waits until the adapter has reported that many for each (then one
//! short quiet window, for the automatic steps the last events caused). The trace also gives
//! every event its server time, which the adapter's events do not carry.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::core::{CallId, CallSnapshot, Delivery, DeviceId, Limits, Op, Reply, UserConfig};
use crate::driver::fleet::{Fleet, Route};
use crate::driver::msg::{
    Automatic, Capabilities, ClockCapability, Credentials, ListenerAction, Method, Named, Open,
};
use crate::driver::remote::{Launch, Refused, RemoteError};
use crate::net::admin::AdminClient;
use crate::server::ClockMode;
use crate::server::admin::{AdminOp, AdminReply, TraceRecord};
use crate::server::auth::Token;
use crate::server::population::{DeviceSpec, GroupSpec, UserSpec};

pub use super::rig_client::RigClient;

/// How to build a rig.
#[derive(Debug, Clone)]
pub struct RigConfig {
    /// How to start and reach the adapter.
    pub adapter: Launch,
    /// Users whose devices go through another adapter (`--adapter-for`).
    pub routes: Vec<Route>,
    /// The `callconf` binary that runs `serve`.
    pub serve_binary: PathBuf,
    /// `--inject-fault` names for the server.
    pub faults: Vec<String>,
    /// The wait for each adapter response and for each settle.
    pub deadline: Duration,
    /// After the counts agree, how long nothing more must come.
    pub quiet: Duration,
    /// The clock of the server the rig starts (`Wall` for a real-time run).
    pub clock: ClockMode,
    /// A running server to use instead of starting one.
    pub server: Option<ExternalServer>,
    /// `--profile` for the server the rig starts (each scenario's reset carries its dialect's
    /// limits and policy too, so both agree).
    pub profile: Option<String>,
}

/// A `callconf serve` started by someone else: its device and admin URLs and admin token.
#[derive(Debug, Clone)]
pub struct ExternalServer {
    pub devices_url: String,
    pub admin_url: String,
    pub admin_token: Token,
}

/// What a scenario learns when the rig begins it: the adapter's hello, and whether the clock
/// is driven.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    pub adapter: Named,
    pub sdk: Named,
    pub capabilities: Capabilities,
    pub clock_driven: bool,
}

pub(super) type Answer<T> = oneshot::Sender<Result<T, String>>;

/// A request to the rig thread, with where its answer goes.
pub(super) enum Job {
    Stop {
        answer: Answer<()>,
    },
    Begin {
        limits: Limits,
        automatic: Automatic,
        answer: Answer<Started>,
    },
    AddUser {
        name: String,
        labels: Vec<String>,
        config: UserConfig,
        answer: Answer<()>,
    },
    AddGroup {
        name: String,
        members: Vec<String>,
        answer: Answer<()>,
    },
    SetUser {
        user: String,
        config: UserConfig,
        answer: Answer<()>,
    },
    Op {
        key: String,
        op: Op,
        answer: oneshot::Sender<Result<Result<Reply, Refused>, String>>,
    },
    Online {
        key: String,
        online: bool,
        answer: oneshot::Sender<Result<Result<(), Refused>, String>>,
    },
    Listener {
        key: String,
        listener: String,
        action: ListenerAction,
        answer: oneshot::Sender<Result<Result<serde_json::Value, Refused>, String>>,
    },
    Advance {
        ms: u64,
        answer: Answer<()>,
    },
    Settle {
        answer: Answer<BTreeMap<String, Vec<Delivery>>>,
    },
    Snapshot {
        call: CallId,
        answer: Answer<Option<CallSnapshot>>,
    },
}

/// Starts the server, the admin connection and the adapter on a thread of their own; the
/// thread's job queue and what the adapter declared.
pub(super) fn spawn(config: RigConfig) -> Result<(std::sync::mpsc::Sender<Job>, Started), String> {
    let (jobs, rx) = std::sync::mpsc::channel::<Job>();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("callconf-rig".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                let mut rig = match Rig::start(config).await {
                    Ok(r) => {
                        let _ = ready_tx.send(Ok(r.started.clone()));
                        r
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(job) = rx.recv() {
                    if let Job::Stop { answer } = job {
                        rig.stop().await;
                        let _ = answer.send(Ok(()));
                        return;
                    }
                    rig.handle(job).await;
                }
                rig.stop().await;
            });
        })
        .map_err(|e| e.to_string())?;
    let started = ready
        .recv()
        .map_err(|_| "the rig thread ended".to_owned())??;
    Ok((jobs, started))
}

/// One device of the current scenario.
struct Dev {
    user: String,
    label: String,
    id: DeviceId,
    token: Token,
    online: bool,
    /// Events the adapter reported (counted since the scenario began).
    reported: u64,
}

struct Rig {
    config: RigConfig,
    /// The server the rig started (none for `--server`).
    serve: Option<Child>,
    devices_url: String,
    admin: AdminClient,
    adapter: Option<Fleet>,
    /// The first adapter's hello and the clock, for every scenario.
    started: Started,
    automatic: Automatic,
    devs: BTreeMap<String, Dev>,
    /// Server times of deliveries not yet reported, per device id.
    pending_at: HashMap<DeviceId, VecDeque<u64>>,
    /// Deliveries the server made, per device id, since the scenario began.
    delivered: HashMap<DeviceId, u64>,
    trace_next: u64,
}

pub use crate::driver::peer::die_with_parent;

fn admin_err(e: impl std::fmt::Display) -> String {
    format!("admin channel: {e}")
}

/// Starts `callconf serve` on a free loopback port with `clock`, reads its banner and opens its
/// admin channel.
async fn spawn_serve(
    config: &RigConfig,
    clock: ClockMode,
) -> Result<(Child, String, AdminClient), String> {
    let dir = std::env::temp_dir().join(format!("callconf-rig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let token = Token::random();
    let token_file = dir.join("admin.token");
    std::fs::write(&token_file, token.expose()).map_err(|e| e.to_string())?;
    let mut cmd = Process::new(&config.serve_binary);
    let clock = match clock {
        ClockMode::Manual => "manual",
        ClockMode::Wall => "wall",
    };
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--clock",
        clock,
        "--log",
        "warn",
    ])
    .arg("--admin-token-file")
    .arg(&token_file);
    for f in &config.faults {
        cmd.args(["--inject-fault", f]);
    }
    if let Some(p) = &config.profile {
        cmd.args(["--profile", p]);
    }
    die_with_parent(&mut cmd);
    let mut serve = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", config.serve_binary.display()))?;
    let stdout = serve.stdout.take().expect("piped");
    let banner = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        line
    });
    let line = tokio::time::timeout(Duration::from_secs(20), banner)
        .await
        .map_err(|_| "callconf serve printed no banner".to_owned())?
        .unwrap_or_default();
    let _ = std::fs::remove_file(&token_file);
    let word_after = |key: &str| {
        let mut it = line.split_whitespace();
        it.find(|w| *w == key)
            .and_then(|_| it.next())
            .map(str::to_owned)
    };
    let (Some(devices_url), Some(admin_url)) = (word_after("devices"), word_after("admin")) else {
        let _ = serve.kill();
        return Err(format!("unexpected banner from callconf serve: {line:?}"));
    };
    match AdminClient::connect(&admin_url, &token, config.deadline).await {
        Ok(admin) => Ok((serve, devices_url, admin)),
        Err(e) => {
            let _ = serve.kill();
            Err(admin_err(e))
        }
    }
}

impl Rig {
    async fn start(config: RigConfig) -> Result<Rig, String> {
        // The adapter first: whether its SUT runs on a drivable clock decides the server's.
        let remote = Fleet::start(&config.adapter, &config.routes, config.deadline)
            .await
            .map_err(|e| e.to_string())?;
        let hello = remote.hello().clone();
        let wants_driven = hello.capabilities.clock == ClockCapability::Server;
        let (serve, devices_url, admin) = match &config.server {
            Some(ext) => {
                let admin = AdminClient::connect(&ext.admin_url, &ext.admin_token, config.deadline)
                    .await
                    .map_err(admin_err)?;
                (None, ext.devices_url.clone(), admin)
            }
            None => {
                let clock = if wants_driven {
                    config.clock
                } else {
                    ClockMode::Wall
                };
                let (child, devices_url, admin) = spawn_serve(&config, clock).await?;
                (Some(child), devices_url, admin)
            }
        };
        let mut rig = Rig {
            started: Started {
                adapter: hello.adapter,
                sdk: hello.sdk,
                capabilities: hello.capabilities,
                clock_driven: false,
            },
            config,
            serve,
            devices_url,
            admin,
            adapter: Some(remote),
            automatic: Automatic::default(),
            devs: BTreeMap::new(),
            pending_at: HashMap::new(),
            delivered: HashMap::new(),
            trace_next: 0,
        };
        let AdminReply::Status { clock, .. } = rig.admin(AdminOp::Status).await? else {
            return Err("unexpected admin reply to status".into());
        };
        rig.started.clock_driven = wants_driven && clock == ClockMode::Manual;
        Ok(rig)
    }

    async fn stop(mut self) {
        if let Some(a) = self.adapter.take() {
            a.end().await;
        }
        if let Some(mut serve) = self.serve.take() {
            let _ = serve.kill();
            let _ = serve.wait();
        }
    }

    /// Runs an admin operation; a refusal and a broken channel both end the step.
    async fn admin(&mut self, op: AdminOp) -> Result<AdminReply, String> {
        let r = self.admin.op(op).await.map_err(admin_err)?;
        r.map_err(|e| format!("{} ({})", e.message, e.code))
    }

    /// The adapter, started anew after one that broke.
    async fn adapter(&mut self) -> Result<&mut Fleet, String> {
        if self.adapter.is_none() {
            let config = &self.config;
            let remote = Fleet::start(&config.adapter, &config.routes, config.deadline)
                .await
                .map_err(|e| e.to_string())?;
            self.adapter = Some(remote);
        }
        Ok(self.adapter.as_mut().expect("just started"))
    }

    /// Marks the adapter broken: the error verdict's reason, with its log's tail.
    fn broken(&mut self, e: &RemoteError) -> String {
        let tail = self
            .adapter
            .take()
            .map(|a| a.stderr_tail())
            .unwrap_or_default();
        let lines: Vec<&str> = tail.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n  ");
        if tail.is_empty() {
            format!("adapter error {}: {e}", e.code())
        } else {
            format!("adapter error {}: {e}\n  adapter log:\n  {tail}", e.code())
        }
    }

    async fn command(&mut self, m: Method) -> Result<Result<serde_json::Value, Refused>, String> {
        let result = self.adapter().await?.command(m).await;
        result.map_err(|e| self.broken(&e))
    }

    async fn handle(&mut self, job: Job) {
        match job {
            Job::Stop { .. } => unreachable!("the rig thread stops itself"),
            Job::Begin {
                limits,
                automatic,
                answer,
            } => {
                let _ = answer.send(self.begin(limits, automatic).await);
            }
            Job::AddUser {
                name,
                labels,
                config,
                answer,
            } => {
                let _ = answer.send(self.add_user(name, labels, config).await);
            }
            Job::AddGroup {
                name,
                members,
                answer,
            } => {
                let op = AdminOp::AddGroup(GroupSpec {
                    name: name.as_str().into(),
                    members: members.iter().map(|m| m.as_str().into()).collect(),
                });
                let _ = answer.send(self.admin(op).await.map(drop));
            }
            Job::SetUser {
                user,
                config,
                answer,
            } => {
                let op = AdminOp::SetUser {
                    user: user.as_str().into(),
                    plan: Some(config.plan),
                    endpoint: Some(config.endpoint),
                    call_waiting: Some(config.call_waiting),
                    end_call_permission: Some(config.end_call_permission),
                };
                let _ = answer.send(self.admin(op).await.map(drop));
            }
            Job::Op { key, op, answer } => {
                let r = self.op(key, op).await;
                let _ = answer.send(r);
            }
            Job::Online {
                key,
                online,
                answer,
            } => {
                let r = self.online(&key, online).await;
                let _ = answer.send(r);
            }
            Job::Listener {
                key,
                listener,
                action,
                answer,
            } => {
                let method = Method::Listener {
                    device: key,
                    listener,
                    action,
                };
                let _ = answer.send(self.command(method).await);
            }
            Job::Advance { ms, answer } => {
                let r = if self.started.clock_driven {
                    self.admin(AdminOp::Advance { ms }).await.map(drop)
                } else {
                    // Real time: the caller bounds `ms` (WALL_PASS_MS_MAX).
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(())
                };
                let _ = answer.send(r);
            }
            Job::Settle { answer } => {
                let _ = answer.send(self.settle().await);
            }
            Job::Snapshot { call, answer } => {
                let r = match self.admin(AdminOp::GetCall { call }).await {
                    Ok(AdminReply::Call { call }) => Ok(call),
                    Ok(other) => Err(format!("unexpected admin reply {other:?}")),
                    Err(e) => Err(e),
                };
                let _ = answer.send(r);
            }
        }
    }

    async fn begin(&mut self, limits: Limits, automatic: Automatic) -> Result<Started, String> {
        if self.adapter.is_some()
            && let Err(e) = self.command(Method::Reset).await?
        {
            return Err(format!("session.reset refused: {}", e.message));
        }
        self.admin(AdminOp::Reset {
            limits: Some(limits),
        })
        .await?;
        self.automatic = automatic;
        self.devs.clear();
        self.pending_at.clear();
        self.delivered.clear();
        self.trace_next = 0;
        self.adapter().await?;
        Ok(self.started.clone())
    }

    async fn add_user(
        &mut self,
        name: String,
        labels: Vec<String>,
        config: UserConfig,
    ) -> Result<(), String> {
        let devices: Vec<DeviceSpec> = labels
            .iter()
            .map(|l| DeviceSpec {
                label: l.clone(),
                token: Token::random(),
            })
            .collect();
        let spec = UserSpec {
            name: name.as_str().into(),
            plan: Some(config.plan),
            endpoint: config.endpoint,
            call_waiting: config.call_waiting,
            end_call_permission: config.end_call_permission,
            devices: devices.clone(),
        };
        let ids = match self.admin(AdminOp::AddUser(spec)).await? {
            AdminReply::Devices { devices } => devices,
            other => return Err(format!("unexpected admin reply {other:?}")),
        };
        for (d, id) in devices.into_iter().zip(ids) {
            let key = format!("{name}/{}", d.label);
            self.devs.insert(
                key.clone(),
                Dev {
                    user: name.clone(),
                    label: d.label,
                    id,
                    token: d.token,
                    online: false,
                    reported: 0,
                },
            );
            if let Err(e) = self.online(&key, true).await? {
                return Err(format!(
                    "device.open {key} refused: {} ({})",
                    e.message, e.code
                ));
            }
        }
        Ok(())
    }

    async fn online(&mut self, key: &str, online: bool) -> Result<Result<(), Refused>, String> {
        let Some(d) = self.devs.get(key) else {
            return Err(format!("no device {key}"));
        };
        if d.online == online {
            return Ok(Ok(()));
        }
        let method = if online {
            Method::Open(Open {
                device: key.to_owned(),
                user: d.user.as_str().into(),
                label: d.label.clone(),
                server: self.devices_url.clone(),
                credentials: Credentials {
                    token: d.token.clone(),
                },
                automatic: self.automatic,
            })
        } else {
            Method::Close {
                device: key.to_owned(),
            }
        };
        let r = self.command(method).await?;
        if r.is_ok()
            && let Some(d) = self.devs.get_mut(key)
        {
            d.online = online;
        }
        Ok(r.map(|_| ()))
    }

    async fn op(&mut self, key: String, op: Op) -> Result<Result<Reply, Refused>, String> {
        let r = self.command(Method::Op { device: key, op }).await?;
        Ok(match r {
            Ok(v) => {
                let reply = v.get("reply").cloned().unwrap_or_default();
                match serde_json::from_value::<Reply>(reply) {
                    Ok(reply) => Ok(reply),
                    Err(e) => {
                        return Err(format!(
                            "adapter error 1103: the result of device.op is not a reply: {e}"
                        ));
                    }
                }
            }
            Err(refused) => Err(refused),
        })
    }

    /// Reads new trace entries; counts deliveries per device and keeps their times.
    async fn read_trace(&mut self) -> Result<bool, String> {
        let mut any = false;
        // Bounded: each read takes at most the trace's page, and the trace is finite.
        loop {
            let op = AdminOp::Trace {
                from: self.trace_next,
                max: None,
            };
            let AdminReply::Trace { entries, next, .. } = self.admin(op).await? else {
                return Err("unexpected admin reply to trace".into());
            };
            if entries.is_empty() {
                return Ok(any);
            }
            any = true;
            self.trace_next = next;
            // A page not full is the end of the trace: no second request to learn it.
            let last_page = entries.len() < crate::net::limits::TRACE_READ_MAX;
            for e in entries {
                if let TraceRecord::Delivery { delivery, .. } = e {
                    *self.delivered.entry(delivery.device).or_insert(0) += 1;
                    self.pending_at
                        .entry(delivery.device)
                        .or_default()
                        .push_back(delivery.at_ms);
                }
            }
            if last_page {
                return Ok(any);
            }
        }
    }

    /// Events the adapter reported for `key`: taken before, and waiting.
    fn reported(&self, key: &str, d: &Dev) -> u64 {
        d.reported + self.adapter.as_ref().map_or(0, |a| a.queued(key) as u64)
    }

    fn behind(&self) -> bool {
        self.devs
            .iter()
            .any(|(k, d)| self.delivered.get(&d.id).copied().unwrap_or(0) > self.reported(k, d))
    }

    async fn settle(&mut self) -> Result<BTreeMap<String, Vec<Delivery>>, String> {
        let until = tokio::time::Instant::now() + self.config.deadline;
        let mut out: BTreeMap<String, Vec<Delivery>> = BTreeMap::new();
        loop {
            self.read_trace().await?;
            // Wait for the adapter to report what the server delivered.
            while self.behind() {
                let left = until.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    let late: Vec<String> = self
                        .devs
                        .iter()
                        .filter(|(k, d)| {
                            self.delivered.get(&d.id).copied().unwrap_or(0) > self.reported(k, d)
                        })
                        .map(|(k, d)| {
                            format!(
                                "{k} ({} of {})",
                                self.reported(k, d),
                                self.delivered.get(&d.id).copied().unwrap_or(0)
                            )
                        })
                        .collect();
                    let e = RemoteError::Timeout {
                        method: format!("events for {}", late.join(", ")),
                        deadline_ms: self.config.deadline.as_millis() as u64,
                    };
                    return Err(self.broken(&e));
                }
                // The next event, as soon as it comes; the trace is read again only when
                // nothing came (automatic steps may have made the server deliver more).
                let step = left.min(Duration::from_millis(50));
                match self.adapter().await?.next_message(step).await {
                    Ok(true) => {}
                    Ok(false) => {
                        self.read_trace().await?;
                    }
                    Err(e) => return Err(self.broken(&e)),
                }
            }
            // Automatic steps the last events caused reach the server within the quiet window.
            let quiet = self.config.quiet;
            if let Err(e) = self.adapter().await?.quiet(quiet, quiet).await {
                return Err(self.broken(&e));
            }
            if !self.read_trace().await? && !self.behind() {
                // Every delivery is read and reported: the times line up with the events.
                self.collect(&mut out);
                return Ok(out);
            }
            if tokio::time::Instant::now() >= until {
                return Err(
                    "the system did not settle: devices keep sending each other work".into(),
                );
            }
        }
    }

    /// Moves the adapter's events into `out`, each with its server time.
    fn collect(&mut self, out: &mut BTreeMap<String, Vec<Delivery>>) {
        let Some(adapter) = self.adapter.as_mut() else {
            return;
        };
        for (key, d) in self.devs.iter_mut() {
            for event in adapter.take_events(key) {
                d.reported += 1;
                let at_ms = self
                    .pending_at
                    .get_mut(&d.id)
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(0);
                out.entry(key.clone()).or_default().push(Delivery {
                    device: d.id,
                    at_ms,
                    event,
                });
            }
        }
    }
}
