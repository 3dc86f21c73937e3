//! callconf's side of the driver protocol: an adapter process, spoken to over its standard input
//! and output. Every command waits for its response at most the deadline; every event is
//! checked for its device (one callconf opened) and its `seq` (1, 2, 3… per device); anything
//! else the adapter does wrong — exiting, a line that is not a message, a second answer, an
//! answer to no command, silence past the deadline — is a [`RemoteError`], which the suite turns
//! into the verdict *error*. Adapters report; callconf judges.

use std::collections::{HashMap, HashSet, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use std::process::{Child, Command as Process};
use thiserror::Error;

use tokio::sync::mpsc;

use super::lines::{InLine, line_reader, line_writer};

use super::limits::{
    DEVICE_EVENTS_QUEUED_MAX, EXIT_TIMEOUT_MS, HELLO_TIMEOUT_MS, LINES_QUEUED_MAX,
    STDERR_KEPT_BYTES,
};
use super::msg::{AdapterMsg, Capabilities, Command, Method, Named, PROTOCOL, Vendor};
use crate::core::Event;

/// Why the adapter, not the system under test, is at fault. Codes 1100–1107.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RemoteError {
    /// 1100: the command could not be started.
    #[error("cannot start the adapter `{command}`: {message}")]
    Spawn { command: String, message: String },
    /// 1101: no valid hello in time.
    #[error("the adapter sent no valid hello within {HELLO_TIMEOUT_MS} ms: {0}")]
    Hello(String),
    /// 1102: the adapter's process ended.
    #[error("the adapter exited ({0})")]
    Exited(String),
    /// 1103: a line that is not a message of callconf-driver/1.
    #[error("the adapter wrote a line that is not a callconf-driver/1 message: {0}")]
    Malformed(String),
    /// 1104: no response within the deadline.
    #[error("the adapter did not answer `{method}` within {deadline_ms} ms")]
    Timeout { method: String, deadline_ms: u64 },
    /// 1105: a response to no command in flight (a second answer, or an unknown id).
    #[error(
        "the adapter answered command {0}, which was not waiting (a second answer, or an id callconf never sent)"
    )]
    Unexpected(u64),
    /// 1106: an event for a device callconf did not open, or out of sequence.
    #[error("the adapter reported {0}")]
    BadEvent(String),
    /// 1107: more events queued for one device than callconf keeps.
    #[error("the adapter flooded {0} with events")]
    Flood(String),
}

impl RemoteError {
    pub fn code(&self) -> u16 {
        match self {
            RemoteError::Spawn { .. } => 1100,
            RemoteError::Hello(_) => 1101,
            RemoteError::Exited(_) => 1102,
            RemoteError::Malformed(_) => 1103,
            RemoteError::Timeout { .. } => 1104,
            RemoteError::Unexpected(_) => 1105,
            RemoteError::BadEvent(_) => 1106,
            RemoteError::Flood(_) => 1107,
        }
    }
}

/// A refusal the adapter reported for a command: the canonical code, and the SDK's own.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Refused {
    pub code: u16,
    pub message: String,
    pub vendor: Option<Vendor>,
}

/// What the adapter said of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub adapter: Named,
    pub sdk: Named,
    pub capabilities: Capabilities,
}

/// What the reader task hands over: a message, or why the stream ended.
type Incoming = Result<AdapterMsg, RemoteError>;

/// A running adapter.
pub struct Remote {
    child: Child,
    /// Lines to the adapter's standard input, written by their own thread.
    stdin: mpsc::Sender<String>,
    lines: mpsc::Receiver<Incoming>,
    hello: Hello,
    next_id: u64,
    deadline: Duration,
    /// Events received and not yet taken, per device name.
    events: HashMap<String, VecDeque<Event>>,
    /// The last `seq` seen per device.
    seqs: HashMap<String, u64>,
    open: HashSet<String>,
    /// Set once the adapter misbehaved: every later call returns it.
    broken: Option<RemoteError>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
}

impl Remote {
    /// Starts `command` (split like a shell would, no shell involved) and reads its hello.
    pub async fn start(command: &str, deadline: Duration) -> Result<Remote, RemoteError> {
        let spawn_err = |message: String| RemoteError::Spawn {
            command: command.to_owned(),
            message,
        };
        let words = shlex::split(command).ok_or_else(|| spawn_err("unbalanced quotes".into()))?;
        let (program, args) = words
            .split_first()
            .ok_or_else(|| spawn_err("empty".into()))?;
        let mut cmd = Process::new(program);
        crate::conformance::rig::die_with_parent(&mut cmd);
        let mut child = cmd
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_err(e.to_string()))?;
        let (stdin, _writer) = line_writer(child.stdin.take().expect("piped"));
        let mut lines = messages(line_reader(child.stdout.take().expect("piped")));
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        keep_stderr(child.stderr.take().expect("piped"), stderr.clone());
        let first =
            tokio::time::timeout(Duration::from_millis(HELLO_TIMEOUT_MS), lines.recv()).await;
        let hello = match first {
            Ok(Some(Ok(AdapterMsg::Hello {
                protocol,
                adapter,
                sdk,
                capabilities,
            }))) => {
                if protocol != PROTOCOL {
                    return Err(RemoteError::Hello(format!(
                        "protocol `{protocol}`, not {PROTOCOL}"
                    )));
                }
                Hello {
                    adapter,
                    sdk,
                    capabilities,
                }
            }
            Ok(Some(Ok(other))) => {
                return Err(RemoteError::Hello(format!("first message {other:?}")));
            }
            Ok(Some(Err(e))) => return Err(RemoteError::Hello(e.to_string())),
            Ok(None) => return Err(RemoteError::Hello("the adapter closed its output".into())),
            Err(_) => return Err(RemoteError::Hello("timed out".into())),
        };
        Ok(Remote {
            child,
            stdin,
            lines,
            hello,
            next_id: 0,
            deadline,
            events: HashMap::new(),
            seqs: HashMap::new(),
            open: HashSet::new(),
            broken: None,
            stderr,
        })
    }

    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// The last bytes the adapter wrote to its standard error.
    pub fn stderr_tail(&self) -> String {
        let kept = self.stderr.lock().expect("stderr lock");
        String::from_utf8_lossy(&kept.iter().copied().collect::<Vec<u8>>()).into_owned()
    }

    /// Sends a command and waits for its response; events that arrive meanwhile are kept.
    pub async fn command(&mut self, method: Method) -> Result<Result<Value, Refused>, RemoteError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        let result = self.command_inner(method).await;
        if let Err(e) = &result {
            self.broken = Some(e.clone());
        }
        result
    }

    async fn command_inner(
        &mut self,
        method: Method,
    ) -> Result<Result<Value, Refused>, RemoteError> {
        self.next_id += 1;
        let id = self.next_id;
        // A device's events may arrive before its open is answered, so it counts as open (with
        // its seq from 1) from the command on; a reset forgets devices once it is answered, as
        // events the adapter sent before answering still belong to them.
        if let Method::Open(o) = &method {
            self.open.insert(o.device.clone());
            self.seqs.insert(o.device.clone(), 0);
        }
        let resets = matches!(method, Method::Reset);
        let cmd = Command::new(id, &method);
        let text = serde_json::to_string(&cmd).expect("commands serialize");
        let timeout = RemoteError::Timeout {
            method: cmd.method.clone(),
            deadline_ms: u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX),
        };
        match tokio::time::timeout(self.deadline, self.stdin.send(text)).await {
            Err(_) => return Err(timeout),
            Ok(Err(_)) => return Err(self.exited().await),
            Ok(Ok(())) => {}
        }
        let until = tokio::time::Instant::now() + self.deadline;
        // Bounded by the deadline: each pass takes one line.
        loop {
            let msg = match tokio::time::timeout_at(until, self.lines.recv()).await {
                Err(_) => return Err(timeout),
                Ok(None) => return Err(self.exited().await),
                Ok(Some(Err(e))) => return Err(e),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                AdapterMsg::Success { id: got, result } if got == id => {
                    if resets {
                        self.open.clear();
                        self.seqs.clear();
                        self.events.clear();
                    }
                    return Ok(Ok(result));
                }
                AdapterMsg::Error {
                    id: Some(got),
                    code,
                    message,
                    vendor,
                } if got == id => {
                    return Ok(Err(Refused {
                        code,
                        message,
                        vendor,
                    }));
                }
                other => self.take(other)?,
            }
        }
    }

    /// Waits up to `max` for one message from the adapter and files it; whether one came.
    /// `Err` if the adapter misbehaves.
    pub async fn next_message(&mut self, max: Duration) -> Result<bool, RemoteError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        let result = match tokio::time::timeout(max, self.lines.recv()).await {
            Err(_) => Ok(false),
            Ok(None) => Err(self.exited().await),
            Ok(Some(Err(e))) => Err(e),
            Ok(Some(Ok(m))) => self.take(m).map(|()| true),
        };
        if let Err(e) = &result {
            self.broken = Some(e.clone());
        }
        result
    }

    /// Reads events until none comes for `window` (or `max` passes); `Err` if the adapter
    /// misbehaves meanwhile.
    pub async fn quiet(&mut self, window: Duration, max: Duration) -> Result<(), RemoteError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        let until = tokio::time::Instant::now() + max;
        let result = loop {
            let wait = window.min(until.saturating_duration_since(tokio::time::Instant::now()));
            match tokio::time::timeout(wait, self.lines.recv()).await {
                Err(_) => break Ok(()),
                Ok(None) => break Err(self.exited().await),
                Ok(Some(Err(e))) => break Err(e),
                Ok(Some(Ok(m))) => {
                    if let Err(e) = self.take(m) {
                        break Err(e);
                    }
                }
            }
            if tokio::time::Instant::now() >= until {
                break Ok(());
            }
        };
        if let Err(e) = &result {
            self.broken = Some(e.clone());
        }
        result
    }

    /// Files a message that is not the awaited response.
    fn take(&mut self, msg: AdapterMsg) -> Result<(), RemoteError> {
        match msg {
            AdapterMsg::Event { device, seq, event } => {
                if !self.open.contains(&device) {
                    return Err(RemoteError::BadEvent(format!(
                        "an event for `{device}`, a device callconf did not open"
                    )));
                }
                let last = self.seqs.entry(device.clone()).or_insert(0);
                if seq != *last + 1 {
                    return Err(RemoteError::BadEvent(format!(
                        "event seq {seq} for `{device}` after {last}"
                    )));
                }
                *last = seq;
                let q = self.events.entry(device.clone()).or_default();
                if q.len() >= DEVICE_EVENTS_QUEUED_MAX {
                    return Err(RemoteError::Flood(device));
                }
                q.push_back(event);
                Ok(())
            }
            AdapterMsg::Success { id, .. } | AdapterMsg::Error { id: Some(id), .. } => {
                Err(RemoteError::Unexpected(id))
            }
            AdapterMsg::Error {
                id: None, message, ..
            } => Err(RemoteError::Malformed(format!(
                "an error for no command: {message}"
            ))),
            AdapterMsg::Hello { .. } => Err(RemoteError::Malformed("a second hello".into())),
        }
    }

    /// Events of `device` received since the last take, in order.
    pub fn take_events(&mut self, device: &str) -> Vec<Event> {
        self.events
            .get_mut(device)
            .map(|q| q.drain(..).collect())
            .unwrap_or_default()
    }

    /// Events of `device` received and not yet taken.
    pub fn queued(&self, device: &str) -> usize {
        self.events.get(device).map_or(0, VecDeque::len)
    }

    /// Waits (bounded) for the process to end; its status, if it ended.
    async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let until = tokio::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if tokio::time::Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn exited(&mut self) -> RemoteError {
        let what = match self.wait_exit(Duration::from_millis(500)).await {
            Some(s) => s.to_string(),
            None => "its output closed".to_owned(),
        };
        RemoteError::Exited(what)
    }

    /// Asks the adapter to end, and kills it if it has not exited in time.
    pub async fn end(mut self) {
        if self.broken.is_none() {
            let _ = self.command(Method::End).await;
        }
        if self
            .wait_exit(Duration::from_millis(EXIT_TIMEOUT_MS))
            .await
            .is_none()
        {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        // Never leave an adapter behind, whatever path the run took.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The adapter's output lines read as messages; a line that is not one ends the stream with
/// its error.
fn messages(mut lines: mpsc::Receiver<InLine>) -> mpsc::Receiver<Incoming> {
    let (tx, rx) = mpsc::channel(LINES_QUEUED_MAX);
    tokio::spawn(async move {
        while let Some(l) = lines.recv().await {
            let msg = match l {
                InLine::TooLong => Err(RemoteError::Malformed("a line over 1 MiB".into())),
                InLine::Line(text) => serde_json::from_str::<AdapterMsg>(&text).map_err(|e| {
                    let shown: String = text.chars().take(200).collect();
                    RemoteError::Malformed(format!("{e}: {shown}"))
                }),
            };
            let stop = msg.is_err();
            if tx.send(msg).await.is_err() || stop {
                return;
            }
        }
    });
    rx
}

/// Keeps the last [`STDERR_KEPT_BYTES`] of the adapter's standard error, on its own thread.
fn keep_stderr(mut pipe: std::process::ChildStderr, kept: Arc<Mutex<VecDeque<u8>>>) {
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                return;
            }
            let mut k = kept.lock().expect("stderr lock");
            k.extend(&buf[..n]);
            while k.len() > STDERR_KEPT_BYTES {
                k.pop_front();
            }
        }
    });
}
