//! The stage's handle on a remote system under test: [`RigClient`]. It has two backends behind
//! the same methods — the live rig thread ([`super::rig`]: a server, its admin channel and an
//! adapter process), and the replay of a recorded transcript — so that `callconf verify` can
//! re-grade a certification run without the vendor's SDK: the stage asks the same questions in
//! the same order, and the replay answers each from the recording.
//!
//! A live handle can record every exchange (the question and its answer) into a [`Transcript`].
//! The exchanges are the stage's questions, not the raw protocol lines: they carry the server's
//! (virtual) times and each device's events in the order the device reported them, so two runs
//! against the manual clock record byte-identical transcripts.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::oneshot;

use super::rig::{self, Job, RigConfig, Started};
use crate::core::{CallId, CallSnapshot, Delivery, Limits, Op, Reply, UserConfig};
use crate::driver::msg::{Automatic, ListenerAction};
use crate::driver::remote::Refused;

/// One question the stage asks the system under test.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    /// A scenario begins: the server reset with these limits, the adapter's devices gone.
    Begin {
        limits: Limits,
        automatic: Automatic,
    },
    AddUser {
        name: String,
        labels: Vec<String>,
        config: UserConfig,
    },
    AddGroup {
        name: String,
        members: Vec<String>,
    },
    SetUser {
        user: String,
        config: UserConfig,
    },
    Op {
        device: String,
        op: Op,
    },
    Online {
        device: String,
        online: bool,
    },
    Listener {
        device: String,
        listener: String,
        action: ListenerAction,
    },
    Advance {
        ms: u64,
    },
    Settle,
    Snapshot {
        call: CallId,
    },
}

/// One line of `transcript.ndjson`: the question, and the answer as `{"Ok": …}` or
/// `{"Err": "why"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// 1, 2, 3… over the whole run.
    pub n: u64,
    /// The scenario, counted by `begin`s from 1.
    pub scenario: u64,
    pub call: Value,
    pub result: Value,
}

/// The recording of a live run.
#[derive(Debug, Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<Line>>>);

impl Transcript {
    fn push(&self, call: &Call, result: Value) {
        let mut lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let scenario =
            lines.last().map_or(0, |l| l.scenario) + u64::from(matches!(call, Call::Begin { .. }));
        let n = lines.len() as u64 + 1;
        lines.push(Line {
            n,
            scenario,
            call: serde_json::to_value(call).unwrap_or(Value::Null),
            result,
        });
    }

    /// The recording as NDJSON: one line per exchange.
    pub fn to_ndjson(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for l in lines.iter() {
            out.push_str(&serde_json::to_string(l).unwrap_or_default());
            out.push('\n');
        }
        out
    }
}

/// What is left of a transcript being replayed.
#[derive(Debug, Default)]
struct ReplayState {
    lines: VecDeque<Line>,
    /// The first way the stage's questions departed from the recording.
    departed: Option<String>,
}

#[derive(Clone)]
enum Backend {
    Live {
        jobs: std::sync::mpsc::Sender<Job>,
        tap: Option<Transcript>,
    },
    Replay(Arc<Mutex<ReplayState>>),
}

/// A handle on the system under test; cheap to clone.
#[derive(Clone)]
pub struct RigClient {
    backend: Backend,
    started: Started,
    deadline: Duration,
    quiet: Duration,
}

impl std::fmt::Debug for RigClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RigClient")
    }
}

/// Sends one job to the rig thread and waits for its answer.
macro_rules! ask {
    ($jobs:ident, $variant:ident { $($f:ident),* }) => {{
        let (answer, rx) = oneshot::channel();
        $jobs
            .send(Job::$variant { $($f,)* answer })
            .map_err(|_| "the rig has stopped".to_owned())?;
        rx.await.map_err(|_| "the rig has stopped".to_owned())?
    }};
}

impl RigClient {
    /// Starts the server, the admin connection and the adapter on a thread of their own;
    /// with `tap`, every exchange is recorded into it.
    pub fn start(config: RigConfig, tap: Option<Transcript>) -> Result<RigClient, String> {
        let (deadline, quiet) = (config.deadline, config.quiet);
        let (jobs, started) = rig::spawn(config)?;
        Ok(RigClient {
            backend: Backend::Live { jobs, tap },
            started,
            deadline,
            quiet,
        })
    }

    /// A handle that answers from `lines` (a recorded transcript) instead of a live system.
    pub fn replay(lines: Vec<Line>, started: Started, deadline: Duration, quiet: Duration) -> Self {
        RigClient {
            backend: Backend::Replay(Arc::new(Mutex::new(ReplayState {
                lines: lines.into(),
                departed: None,
            }))),
            started,
            deadline,
            quiet,
        }
    }

    /// After a replay: how its questions departed from the recording, or how many recorded
    /// exchanges no question asked for; `None` when the replay used the transcript exactly.
    pub fn replay_leftover(&self) -> Option<String> {
        let Backend::Replay(state) = &self.backend else {
            return None;
        };
        let state = state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = &state.departed {
            return Some(d.clone());
        }
        state.lines.front().map(|l| {
            format!(
                "{} recorded exchanges were never asked for, from line {} on",
                state.lines.len(),
                l.n
            )
        })
    }

    /// The adapter's hello and the clock.
    pub fn started(&self) -> &Started {
        &self.started
    }

    /// The deadline and the quiet window.
    pub fn timing(&self) -> (Duration, Duration) {
        (self.deadline, self.quiet)
    }

    /// The system under test and the settings that bear on its verdicts, for reports:
    /// `acme-calls 4.7.1 through acme-adapter 1.2.0 (clock driven; deadline 5000 ms, quiet
    /// 2 ms)`.
    pub fn describe(&self) -> String {
        let s = &self.started;
        format!(
            "{} {} through {} {} ({}; deadline {} ms, quiet {} ms)",
            s.sdk.name,
            s.sdk.version,
            s.adapter.name,
            s.adapter.version,
            if s.clock_driven {
                "clock driven"
            } else {
                "real time"
            },
            self.deadline.as_millis(),
            self.quiet.as_millis()
        )
    }

    /// Ends the adapter and the server and waits (bounded) until they are gone; a run that
    /// ends without it still leaves nothing behind (they die with this process).
    pub fn stop(&self) {
        let Backend::Live { jobs, .. } = &self.backend else {
            return;
        };
        let (answer, rx) = oneshot::channel();
        if jobs.send(Job::Stop { answer }).is_ok() {
            let _ = rx.blocking_recv();
        }
    }

    /// Asks `call`: live, through `live` (and recorded); in a replay, from the next recorded
    /// exchange, which must be the same question.
    async fn exchange<T, F>(&self, call: Call, live: F) -> Result<T, String>
    where
        T: Serialize + DeserializeOwned,
        F: AsyncFnOnce(&std::sync::mpsc::Sender<Job>) -> Result<T, String>,
    {
        match &self.backend {
            Backend::Live { jobs, tap } => {
                let result = live(jobs).await;
                if let Some(tap) = tap {
                    tap.push(&call, serde_json::to_value(&result).unwrap_or(Value::Null));
                }
                result
            }
            Backend::Replay(state) => {
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                let asked = serde_json::to_value(&call).unwrap_or(Value::Null);
                let depart = |state: &mut ReplayState, why: String| {
                    state.departed.get_or_insert(why.clone());
                    Err(format!("replay: {why}"))
                };
                // A new scenario starts at the next recorded `begin`: what a scenario that
                // ended early in the re-grade left unasked is skipped (and remembered), so that
                // each scenario is re-graded on its own.
                if matches!(call, Call::Begin { .. }) {
                    let mut skipped = 0;
                    // Bounded: each pass removes a line.
                    while state
                        .lines
                        .front()
                        .is_some_and(|l| l.call.get("begin").is_none())
                    {
                        state.lines.pop_front();
                        skipped += 1;
                    }
                    if skipped > 0 {
                        let why = format!("{skipped} recorded exchanges were not asked for");
                        state.departed.get_or_insert(why);
                    }
                }
                let Some(line) = state.lines.pop_front() else {
                    return depart(&mut state, format!("the transcript ends before `{asked}`"));
                };
                if line.call != asked {
                    let why = format!(
                        "transcript line {} records `{}` where the suite asks `{asked}`",
                        line.n, line.call
                    );
                    return depart(&mut state, why);
                }
                match serde_json::from_value::<Result<T, String>>(line.result) {
                    Ok(r) => r,
                    Err(e) => depart(
                        &mut state,
                        format!("transcript line {} has a malformed result: {e}", line.n),
                    ),
                }
            }
        }
    }

    pub async fn begin(&self, limits: Limits, automatic: Automatic) -> Result<Started, String> {
        let call = Call::Begin {
            limits: limits.clone(),
            automatic,
        };
        self.exchange(call, async |jobs| ask!(jobs, Begin { limits, automatic }))
            .await
    }

    pub async fn add_user(
        &self,
        name: String,
        labels: Vec<String>,
        config: UserConfig,
    ) -> Result<(), String> {
        let call = Call::AddUser {
            name: name.clone(),
            labels: labels.clone(),
            config: config.clone(),
        };
        self.exchange(call, async |jobs| {
            ask!(
                jobs,
                AddUser {
                    name,
                    labels,
                    config
                }
            )
        })
        .await
    }

    pub async fn add_group(&self, name: String, members: Vec<String>) -> Result<(), String> {
        let call = Call::AddGroup {
            name: name.clone(),
            members: members.clone(),
        };
        self.exchange(call, async |jobs| ask!(jobs, AddGroup { name, members }))
            .await
    }

    pub async fn set_user(&self, user: String, config: UserConfig) -> Result<(), String> {
        let call = Call::SetUser {
            user: user.clone(),
            config: config.clone(),
        };
        self.exchange(call, async |jobs| ask!(jobs, SetUser { user, config }))
            .await
    }

    pub async fn op(&self, key: String, op: Op) -> Result<Result<Reply, Refused>, String> {
        let call = Call::Op {
            device: key.clone(),
            op: op.clone(),
        };
        self.exchange(call, async |jobs| ask!(jobs, Op { key, op }))
            .await
    }

    pub async fn online(&self, key: String, online: bool) -> Result<Result<(), Refused>, String> {
        let call = Call::Online {
            device: key.clone(),
            online,
        };
        self.exchange(call, async |jobs| ask!(jobs, Online { key, online }))
            .await
    }

    /// `device.listener`: its result as the adapter gave it, or the refusal.
    pub async fn listener(
        &self,
        key: String,
        listener: String,
        action: ListenerAction,
    ) -> Result<Result<Value, Refused>, String> {
        let call = Call::Listener {
            device: key.clone(),
            listener: listener.clone(),
            action,
        };
        self.exchange(call, async |jobs| {
            ask!(
                jobs,
                Listener {
                    key,
                    listener,
                    action
                }
            )
        })
        .await
    }

    pub async fn advance(&self, ms: u64) -> Result<(), String> {
        self.exchange(Call::Advance { ms }, async |jobs| {
            ask!(jobs, Advance { ms })
        })
        .await
    }

    /// Waits until the adapter reported everything the server delivered; the new events.
    pub async fn settle(&self) -> Result<BTreeMap<String, Vec<Delivery>>, String> {
        self.exchange(Call::Settle, async |jobs| ask!(jobs, Settle {}))
            .await
    }

    pub async fn snapshot(&self, call: CallId) -> Result<Option<CallSnapshot>, String> {
        self.exchange(Call::Snapshot { call }, async |jobs| {
            ask!(jobs, Snapshot { call })
        })
        .await
    }
}
