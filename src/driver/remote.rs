//! callconf's side of the driver protocol: an adapter process, spoken to over its standard input
//! and output. Every command waits for its response at most the deadline; every event is
//! checked for its device (one callconf opened) and its `seq` (1, 2, 3… per device); anything
//! else the adapter does wrong — exiting, a line that is not a message, a second answer, an
//! answer to no command, silence past the deadline — is a [`RemoteError`], which the suite turns
//! into the verdict *error*. Adapters report; callconf judges.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use tokio::sync::mpsc;

use super::limits::{
    DEVICE_EVENTS_QUEUED_MAX, DIAL_IN_TIMEOUT_MS, EXIT_TIMEOUT_MS, HELLO_TIMEOUT_MS,
};
use super::link::{DialIn, Incoming, Link, keep_tail};
use super::msg::{AdapterMsg, Capabilities, Command, Method, Named, PROTOCOL, Vendor};
use super::peer::Peer;
use crate::core::Event;

/// Why the adapter, not the system under test, is at fault. Codes 1100–1109.
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
    /// 1108: the WebSocket transport: no valid dial-in in time.
    #[error("the adapter did not dial in: {0}")]
    DialIn(String),
    /// 1109: more commands unanswered than callconf keeps in flight (load through an adapter).
    #[error("the adapter left {0} commands unanswered, the most callconf keeps in flight")]
    Backlog(usize),
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
            RemoteError::DialIn(_) => 1108,
            RemoteError::Backlog(_) => 1109,
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

/// How callconf reaches its adapter (docs/driver-protocol.md §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Start the command and speak over its standard input and output.
    Stdio { command: String },
    /// Listen on `addr`, start the command with the URL to dial in
    /// `CALLCONF_DRIVER_URL`, and speak over the WebSocket it opens.
    Listen { command: String, addr: SocketAddr },
    /// Start headless Chromium at the web adapter's page (the built-in one, or `page`),
    /// which dials in to a listener on `addr`.
    Web {
        page: Option<PathBuf>,
        addr: SocketAddr,
    },
}

/// The environment variable that gives a dialing adapter its URL (token included).
pub const DRIVER_URL_ENV: &str = "CALLCONF_DRIVER_URL";

impl Launch {
    /// `--adapter` and `--adapter-listen` read: `web` (or `web PAGE.html`) is the built-in
    /// browser adapter, which always dials in (to `listen`, or any free loopback port);
    /// anything else is a command, over stdio unless `listen` is given.
    pub fn new(adapter: &str, listen: Option<SocketAddr>) -> Launch {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let words = shlex::split(adapter).unwrap_or_default();
        match words.as_slice() {
            [web] if web == "web" => Launch::Web {
                page: None,
                addr: listen.unwrap_or(loopback),
            },
            [web, page] if web == "web" => Launch::Web {
                page: Some(PathBuf::from(page)),
                addr: listen.unwrap_or(loopback),
            },
            _ => match listen {
                None => Launch::Stdio {
                    command: adapter.to_owned(),
                },
                Some(addr) => Launch::Listen {
                    command: adapter.to_owned(),
                    addr,
                },
            },
        }
    }

    fn command(&self) -> &str {
        match self {
            Launch::Stdio { command } | Launch::Listen { command, .. } => command,
            Launch::Web { .. } => "web",
        }
    }
}

/// A running adapter.
pub struct Remote {
    peer: Peer,
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
    /// Starts the adapter and reads its hello.
    pub async fn start(launch: &Launch, deadline: Duration) -> Result<Remote, RemoteError> {
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let (peer, mut lines) = connect(launch, &stderr).await?;
        let hello = read_hello(&mut lines.from).await?;
        Ok(Remote {
            peer,
            stdin: lines.to,
            lines: lines.from,
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
            if let Some(status) = self.peer.try_wait() {
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
            None if !self.peer.exits_by_itself() => {
                "its page closed the driver connection: crashed, or navigated away".to_owned()
            }
            None => "its output closed".to_owned(),
        };
        RemoteError::Exited(what)
    }

    /// Asks the adapter to end, and kills it if it has not exited in time.
    pub async fn end(mut self) {
        if self.broken.is_none() {
            let _ = self.command(Method::End).await;
        }
        if self.peer.exits_by_itself() {
            let _ = self.wait_exit(Duration::from_millis(EXIT_TIMEOUT_MS)).await;
        }
        // Dropping the peer kills what is left of it (a browser is killed at once).
    }
}

/// Reads the adapter's first message, its hello, within [`HELLO_TIMEOUT_MS`].
pub(super) async fn read_hello(from: &mut mpsc::Receiver<Incoming>) -> Result<Hello, RemoteError> {
    let first = tokio::time::timeout(Duration::from_millis(HELLO_TIMEOUT_MS), from.recv()).await;
    match first {
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
            Ok(Hello {
                adapter,
                sdk,
                capabilities,
            })
        }
        Ok(Some(Ok(other))) => Err(RemoteError::Hello(format!("first message {other:?}"))),
        Ok(Some(Err(e))) => Err(RemoteError::Hello(e.to_string())),
        Ok(None) => Err(RemoteError::Hello("the adapter closed its output".into())),
        Err(_) => Err(RemoteError::Hello("timed out".into())),
    }
}

/// Starts the adapter's process as `launch` says and opens its link.
pub(super) async fn connect(
    launch: &Launch,
    stderr: &Arc<Mutex<VecDeque<u8>>>,
) -> Result<(Peer, Link), RemoteError> {
    let spawn_err = |message: String| RemoteError::Spawn {
        command: launch.command().to_owned(),
        message,
    };
    let (dial, mut peer) = match launch {
        Launch::Web { page, addr } => {
            let dial = DialIn::bind(*addr).await?;
            let (peer, pipe) = super::browser::launch(page.as_deref(), &dial.url())?;
            keep_tail(pipe, stderr.clone(), Some(super::browser::CONSOLE_MARK));
            (dial, peer)
        }
        Launch::Stdio { command } | Launch::Listen { command, .. } => {
            let words =
                shlex::split(command).ok_or_else(|| spawn_err("unbalanced quotes".into()))?;
            let (program, args) = words
                .split_first()
                .ok_or_else(|| spawn_err("empty".into()))?;
            let mut cmd = Process::new(program);
            cmd.args(args).stderr(Stdio::piped());
            let dial = match launch {
                Launch::Listen { addr, .. } => {
                    let dial = DialIn::bind(*addr).await?;
                    cmd.env(DRIVER_URL_ENV, dial.url())
                        .stdin(Stdio::null())
                        .stdout(Stdio::null());
                    Some(dial)
                }
                _ => {
                    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
                    None
                }
            };
            let mut peer =
                Peer::spawn(&mut cmd, false, None).map_err(|e| spawn_err(e.to_string()))?;
            let child = peer.child_mut();
            keep_tail(child.stderr.take().expect("piped"), stderr.clone(), None);
            let Some(dial) = dial else {
                let link = super::link::stdio(
                    child.stdin.take().expect("piped"),
                    child.stdout.take().expect("piped"),
                );
                return Ok((peer, link));
            };
            (dial, peer)
        }
    };
    // The dial-in, unless the process ends first.
    let within = Duration::from_millis(DIAL_IN_TIMEOUT_MS);
    let accept = dial.accept(within);
    tokio::pin!(accept);
    // Bounded: the accept has its deadline; each pass waits 50 ms.
    loop {
        tokio::select! {
            link = &mut accept => return link.map(|l| (peer, l)),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                if let Some(status) = peer.try_wait() {
                    return Err(RemoteError::Exited(format!("{status}, before dialing in")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_is_the_browser_adapter_and_anything_else_a_command() {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let fixed: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(
            Launch::new("web", None),
            Launch::Web {
                page: None,
                addr: any
            }
        );
        assert_eq!(
            Launch::new("web 'my page.html'", Some(fixed)),
            Launch::Web {
                page: Some(PathBuf::from("my page.html")),
                addr: fixed
            }
        );
        assert_eq!(
            Launch::new("./web", None),
            Launch::Stdio {
                command: "./web".into()
            }
        );
        assert_eq!(
            Launch::new("callconf adapter", Some(fixed)),
            Launch::Listen {
                command: "callconf adapter".into(),
                addr: fixed
            }
        );
    }
}
