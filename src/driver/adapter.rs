//! `callconf adapter`: the reference client behind the driver protocol. callconf (or anyone)
//! speaks `callconf-driver/1` on its standard input and output; each device it opens is a
//! WebSocket connection to a `callconf serve` speaking `callconf-wire/1`, and its automatic steps
//! come from the shared device agent ([`crate::agent`]), as the in-process client's do.
//!
//! One task reads commands; one task per device owns its socket; one task writes every line, so
//! lines never interleave. Every wait has a deadline and every queue a bound.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::limits::{
    ADAPTER_DEVICES_MAX, DEVICE_COMMANDS_QUEUED_MAX, DEVICE_LISTENERS_MAX,
    LISTENER_EVENTS_KEPT_MAX, OPEN_TIMEOUT_MS,
};
use super::lines::{InLine, line_reader, line_writer};
use super::msg::{AdapterMsg, Automatic, Capabilities, ClockCapability, Command, Method, Named};
use super::msg::{ListenerAction, OPERATIONS, Open, PROTOCOL, Provisioning};
use crate::agent::{Agent, Options, Output, Tag};
use crate::core::{Event, Op, Reply, UserId};
use crate::net::wire::{ClientMsg, ServerMsg, WireError};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone, clap::Args)]
pub struct AdapterArgs {
    /// The wire URL of the server; overrides the `server` of each `device.open`.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Leave these operations out of the hello's capabilities and answer them with 1002
    /// (comma-separated `op` names, e.g. `hold,transfer`): behave like an SDK that lacks them.
    #[arg(long, value_name = "OPS", value_delimiter = ',')]
    pub without: Vec<String>,
    /// Declare the clock as `none`: callconf then runs the suite in real time, as against an
    /// SUT whose clock it cannot drive (the server it starts runs on the wall clock).
    #[arg(long)]
    pub real_time: bool,
    /// Speak the driver protocol over a WebSocket dialed to this URL (`certify
    /// --adapter-listen`) instead of standard input and output; by default the URL in
    /// CALLCONF_DRIVER_URL, when it is set.
    #[arg(long, value_name = "URL")]
    pub dial: Option<String>,
}

/// Runs the adapter until `session.end` or the end of its input; returns the exit code.
pub fn run(args: &AdapterArgs) -> std::io::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(session(args))
}

/// The adapter's hello, for `args`.
pub fn hello(args: &AdapterArgs) -> AdapterMsg {
    AdapterMsg::Hello {
        protocol: PROTOCOL.to_owned(),
        adapter: Named {
            name: "callconf-reference-adapter".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        sdk: Named {
            name: "callconf-wire-client".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        capabilities: Capabilities {
            operations: OPERATIONS
                .iter()
                .filter(|o| !args.without.iter().any(|w| w == *o))
                .map(|s| (*s).to_owned())
                .collect(),
            provisioning: Provisioning::Server,
            clock: if args.real_time {
                ClockCapability::None
            } else {
                ClockCapability::Server
            },
            max_devices: ADAPTER_DEVICES_MAX,
            automatic: vec!["ringing".into(), "start_session".into()],
            listeners: true,
        },
    }
}

fn line(msg: &AdapterMsg) -> String {
    serde_json::to_string(msg).expect("adapter messages serialize")
}

fn success(id: u64, result: Value) -> String {
    line(&AdapterMsg::Success { id, result })
}

fn failure(id: Option<u64>, code: u16, message: impl Into<String>) -> String {
    line(&AdapterMsg::Error {
        id,
        code,
        message: message.into(),
        vendor: None,
    })
}

type Out = mpsc::Sender<String>;

/// What the command reader asks of a device task.
enum ToDevice {
    Op {
        id: u64,
        op: Op,
    },
    Listener {
        id: u64,
        listener: String,
        action: ListenerAction,
    },
    Close {
        done: oneshot::Sender<()>,
    },
}

/// How the adapter's output is flushed at the end: the stdout thread, or the socket's task.
enum Flush {
    Thread(std::thread::JoinHandle<()>),
    Task(tokio::task::JoinHandle<()>),
}

/// The adapter's end of the driver protocol: standard input and output, or the WebSocket it
/// dials (`--dial`, or `CALLCONF_DRIVER_URL`).
async fn open_link(args: &AdapterArgs) -> std::io::Result<(Out, mpsc::Receiver<InLine>, Flush)> {
    let dial = args
        .dial
        .clone()
        .or_else(|| std::env::var(super::remote::DRIVER_URL_ENV).ok());
    match dial {
        None => {
            let (out, writer) = line_writer(std::io::stdout());
            Ok((out, line_reader(std::io::stdin()), Flush::Thread(writer)))
        }
        Some(url) => {
            let within = Duration::from_millis(OPEN_TIMEOUT_MS);
            let (out, input, task) = super::link::dial(&url, within)
                .await
                .map_err(|e| std::io::Error::other(format!("cannot dial callconf: {e}")))?;
            Ok((out, input, Flush::Task(task)))
        }
    }
}

async fn session(args: &AdapterArgs) -> std::io::Result<i32> {
    let server = args.server.clone();
    let (out, mut input, flush) = open_link(args).await?;
    let _ = out.send(line(&hello(args))).await;
    let mut devices: HashMap<String, mpsc::Sender<ToDevice>> = HashMap::new();
    // Bounded: ends with the input, or at `session.end`.
    let code = loop {
        let text = match input.recv().await {
            None => break 0, // End of input: callconf went away.
            Some(InLine::TooLong) => {
                let _ = out
                    .send(failure(None, 1000, "line over the size limit"))
                    .await;
                break 1;
            }
            Some(InLine::Line(t)) => t,
        };
        let cmd: Command = match serde_json::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                let _ = out
                    .send(failure(None, 1000, format!("malformed command: {e}")))
                    .await;
                continue;
            }
        };
        match cmd.read() {
            Err((code, message)) => {
                let _ = out.send(failure(Some(cmd.id), code, message)).await;
            }
            Ok(Method::Op { op, .. }) if args.without.iter().any(|w| w == op.name()) => {
                let message = format!("{} is not supported (--without)", op.name());
                let _ = out.send(failure(Some(cmd.id), 1002, message)).await;
            }
            Ok(Method::End) => {
                close_all(&mut devices).await;
                let _ = out.send(success(cmd.id, json!({}))).await;
                break 0;
            }
            Ok(method) => {
                let reply = handle(&mut devices, &out, server.as_deref(), cmd.id, method).await;
                if let Some(l) = reply {
                    let _ = out.send(l).await;
                }
            }
        }
    };
    close_all(&mut devices).await;
    drop(out);
    match flush {
        Flush::Thread(writer) => {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        Flush::Task(task) => {
            let _ = tokio::time::timeout(Duration::from_millis(OPEN_TIMEOUT_MS), task).await;
        }
    }
    Ok(code)
}

/// Carries out one command; the line to answer with now, if the answer is not left to a device.
async fn handle(
    devices: &mut HashMap<String, mpsc::Sender<ToDevice>>,
    out: &Out,
    server: Option<&str>,
    id: u64,
    method: Method,
) -> Option<String> {
    match method {
        Method::Open(open) => {
            if devices.contains_key(&open.device) {
                return Some(failure(
                    Some(id),
                    1000,
                    format!("{} is already open", open.device),
                ));
            }
            if devices.len() >= ADAPTER_DEVICES_MAX {
                return Some(failure(Some(id), 1004, "max_devices reached"));
            }
            let url = server.unwrap_or(&open.server).to_owned();
            match connect(&url, &open).await {
                Ok((ws, device_id)) => {
                    let (tx, rx) = mpsc::channel(DEVICE_COMMANDS_QUEUED_MAX);
                    let user = open.user.clone();
                    tokio::spawn(device(
                        open.device.clone(),
                        user,
                        open.automatic,
                        ws,
                        rx,
                        out.clone(),
                    ));
                    devices.insert(open.device, tx);
                    Some(success(id, json!({ "device_id": device_id })))
                }
                Err((code, message)) => Some(failure(Some(id), code, message)),
            }
        }
        Method::Close { device } => match devices.remove(&device) {
            Some(tx) => {
                close(tx).await;
                Some(success(id, json!({})))
            }
            None => Some(failure(Some(id), 1003, format!("no device {device}"))),
        },
        Method::Op { device, op } => match devices.get(&device) {
            // The device task answers when the server's reply arrives.
            Some(tx) => match tx.try_send(ToDevice::Op { id, op }) {
                Ok(()) => None,
                Err(_) => Some(failure(Some(id), 1004, format!("{device} is gone or busy"))),
            },
            None => Some(failure(Some(id), 1003, format!("no device {device}"))),
        },
        Method::Listener {
            device,
            listener,
            action,
        } => match devices.get(&device) {
            Some(tx) => match tx.try_send(ToDevice::Listener {
                id,
                listener,
                action,
            }) {
                Ok(()) => None,
                Err(_) => Some(failure(Some(id), 1004, format!("{device} is gone or busy"))),
            },
            None => Some(failure(Some(id), 1003, format!("no device {device}"))),
        },
        Method::Reset => {
            close_all(devices).await;
            Some(success(id, json!({})))
        }
        Method::End => unreachable!("handled by the session loop"),
    }
}

async fn close(tx: mpsc::Sender<ToDevice>) {
    let (done, closed) = oneshot::channel();
    if tx.send(ToDevice::Close { done }).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_millis(OPEN_TIMEOUT_MS), closed).await;
    }
}

async fn close_all(devices: &mut HashMap<String, mpsc::Sender<ToDevice>>) {
    let mut names: Vec<String> = devices.keys().cloned().collect();
    names.sort();
    for n in names {
        if let Some(tx) = devices.remove(&n) {
            close(tx).await;
        }
    }
}

/// Connects and authenticates one device; its id, or the code and message to answer with.
async fn connect(url: &str, open: &Open) -> Result<(Ws, u32), (u16, String)> {
    let deadline = Duration::from_millis(OPEN_TIMEOUT_MS);
    let attempt = async {
        let config = Some(crate::net::ws_config());
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, config, true)
            .await
            .map_err(|e| (1004, format!("cannot connect to {url}: {e}")))?;
        let hello = ClientMsg::hello(
            open.user.clone(),
            open.label.clone(),
            open.credentials.token.clone(),
        );
        let text = serde_json::to_string(&hello).expect("serializes");
        ws.send(Message::text(text))
            .await
            .map_err(|e| (1004, e.to_string()))?;
        // Bounded by the deadline around this block.
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => match ServerMsg::from_json(&t) {
                    Ok(ServerMsg::Welcome { device, .. }) => return Ok((ws, device.0)),
                    Ok(ServerMsg::Error { code, message }) => {
                        return Err((
                            1004,
                            format!("the server refused the hello: {code} {message}"),
                        ));
                    }
                    _ => return Err((1004, format!("expected welcome, got {t}"))),
                },
                Some(Ok(_)) => {}
                _ => return Err((1004, "the server closed the connection".to_owned())),
            }
        }
    };
    tokio::time::timeout(deadline, attempt)
        .await
        .unwrap_or_else(|_| Err((1004, format!("no welcome within {OPEN_TIMEOUT_MS} ms"))))
}

/// What a request sent on the wire is waiting for.
enum Pending {
    /// A command's operation: answer command `id`.
    Command { id: u64, tag: Tag },
    /// An automatic step: nobody to answer; the agent hears the reply.
    Auto(Tag),
}

/// One device: its socket, its agent, its requests in flight.
struct DeviceTask {
    name: String,
    agent: Agent,
    start: Instant,
    next_wire_id: u64,
    pending: HashMap<u64, Pending>,
    seq: u64,
    out: Out,
    listeners: Listeners,
}

/// The device's call listeners by id, each with what it received since it was last taken: the
/// listener registry an SDK keeps, as `device.listener` reports it. A removed listener keeps
/// what it got before and can still be taken from; it hears nothing more until added again.
#[derive(Default)]
struct Listeners(Vec<Heard>);

struct Heard {
    id: String,
    active: bool,
    events: Vec<Event>,
    overflowed: bool,
}

impl Listeners {
    /// Carries out one `device.listener` command; the line that answers it.
    fn apply(&mut self, id: u64, listener: String, action: ListenerAction) -> String {
        let at = self.0.iter().position(|h| h.id == listener);
        let active = |at: Option<usize>, all: &[Heard]| at.is_some_and(|i| all[i].active);
        match action {
            ListenerAction::Add if active(at, &self.0) => failure(
                Some(id),
                400,
                format!("a listener with id {listener:?} is already registered"),
            ),
            ListenerAction::Add => {
                let registered = self.0.iter().filter(|h| h.active).count();
                if registered >= DEVICE_LISTENERS_MAX {
                    return failure(
                        Some(id),
                        503,
                        format!("at most {DEVICE_LISTENERS_MAX} listeners per device"),
                    );
                }
                match at {
                    Some(i) => self.0[i].active = true,
                    None => self.0.push(Heard {
                        id: listener,
                        active: true,
                        events: Vec::new(),
                        overflowed: false,
                    }),
                }
                success(id, json!({}))
            }
            ListenerAction::Remove => {
                let removed = active(at, &self.0);
                if let Some(i) = at {
                    self.0[i].active = false;
                }
                success(id, json!({ "removed": removed }))
            }
            ListenerAction::Take => {
                let Some(i) = at else {
                    return failure(Some(id), 404, format!("no listener with id {listener:?}"));
                };
                let heard = &mut self.0[i];
                if std::mem::take(&mut heard.overflowed) {
                    heard.events.clear();
                    return failure(
                        Some(id),
                        1004,
                        format!("listener {listener:?} got over {LISTENER_EVENTS_KEPT_MAX} events"),
                    );
                }
                success(id, json!({ "events": std::mem::take(&mut heard.events) }))
            }
        }
    }

    /// Hands an event to every registered listener, in registration order.
    fn hear(&mut self, event: &Event) {
        for heard in self.0.iter_mut().filter(|h| h.active) {
            if heard.events.len() < LISTENER_EVENTS_KEPT_MAX {
                heard.events.push(event.clone());
            } else {
                heard.overflowed = true;
            }
        }
    }
}

async fn device(
    name: String,
    user: UserId,
    automatic: Automatic,
    mut ws: Ws,
    mut rx: mpsc::Receiver<ToDevice>,
    out: Out,
) {
    let options = Options {
        auto_ringing: automatic.ringing,
        auto_start_session: automatic.start_session,
        ..Options::default()
    };
    let mut d = DeviceTask {
        name,
        agent: Agent::new(user, options),
        start: Instant::now(),
        next_wire_id: 0,
        pending: HashMap::new(),
        seq: 0,
        out,
        listeners: Listeners::default(),
    };
    // Bounded: ends on close, when the socket ends, or when the reader is gone.
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(ToDevice::Op { id, op }) => {
                    let tag = d.agent.handle_sent(&op);
                    if d.send(&mut ws, op, Pending::Command { id, tag }).await.is_err() {
                        let _ = d.out.send(failure(Some(id), 1004, "the server connection is gone")).await;
                    }
                }
                Some(ToDevice::Listener { id, listener, action }) => {
                    let answer = d.listeners.apply(id, listener, action);
                    let _ = d.out.send(answer).await;
                }
                Some(ToDevice::Close { done }) => {
                    let _ = ws.close(None).await;
                    d.fail_pending().await;
                    let _ = done.send(());
                    return;
                }
                None => return,
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    if d.on_frame(&mut ws, &t).await.is_err() {
                        d.fail_pending().await;
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => {
                    d.fail_pending().await;
                    // Wait for the close command so the name stays taken until callconf knows.
                    while let Some(cmd) = rx.recv().await {
                        match cmd {
                            ToDevice::Close { done } => { let _ = done.send(()); return; }
                            ToDevice::Op { id, .. } | ToDevice::Listener { id, .. } => {
                                let _ = d.out.send(failure(Some(id), 1004, "the server connection is gone")).await;
                            }
                        }
                    }
                    return;
                }
            },
        }
    }
}

impl DeviceTask {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn send(&mut self, ws: &mut Ws, op: Op, pending: Pending) -> Result<(), ()> {
        self.next_wire_id += 1;
        let id = self.next_wire_id;
        let text = serde_json::to_string(&ClientMsg::Request { id, op }).expect("serializes");
        ws.send(Message::text(text)).await.map_err(|_| ())?;
        self.pending.insert(id, pending);
        Ok(())
    }

    /// Sends what the agent wants done now.
    async fn drain_agent(&mut self, ws: &mut Ws) -> Result<(), ()> {
        // Bounded: one input makes at most a couple of outputs.
        while let Some(o) = self.agent.poll_output() {
            if let Output::Request(req) = o {
                self.send(ws, req.op(), Pending::Auto(req.tag())).await?;
            }
        }
        Ok(())
    }

    async fn on_frame(&mut self, ws: &mut Ws, text: &str) -> Result<(), ()> {
        let now = self.now_ms();
        match ServerMsg::from_json(text) {
            Ok(ServerMsg::Reply { id, result }) => {
                let reply: Result<(), u16> = result.as_ref().map(|_| ()).map_err(|e| e.code);
                match self.pending.remove(&id) {
                    Some(Pending::Command { id: cmd, tag }) => {
                        self.agent.handle_reply(now, tag, reply);
                        let _ = self.out.send(answer(cmd, &result)).await;
                    }
                    Some(Pending::Auto(tag)) => self.agent.handle_reply(now, tag, reply),
                    None => {}
                }
                self.drain_agent(ws).await
            }
            Ok(ServerMsg::Event { delivery }) => {
                self.seq += 1;
                let event = AdapterMsg::Event {
                    device: self.name.clone(),
                    seq: self.seq,
                    event: delivery.event.clone(),
                };
                let _ = self.out.send(line(&event)).await;
                self.listeners.hear(&delivery.event);
                self.agent.handle_event(now, &delivery.event);
                self.drain_agent(ws).await
            }
            Ok(ServerMsg::Error { .. }) | Err(_) => Err(()),
            Ok(ServerMsg::Welcome { .. }) => Ok(()),
        }
    }

    /// Answers every command still waiting: the connection is gone.
    async fn fail_pending(&mut self) {
        let mut ids: Vec<u64> = self
            .pending
            .values()
            .filter_map(|p| match p {
                Pending::Command { id, .. } => Some(*id),
                Pending::Auto(_) => None,
            })
            .collect();
        ids.sort_unstable();
        self.pending.clear();
        for id in ids {
            let _ = self
                .out
                .send(failure(Some(id), 1004, "the server connection is gone"))
                .await;
        }
    }
}

/// The response to a command whose operation the server answered.
fn answer(id: u64, result: &Result<Reply, WireError>) -> String {
    match result {
        Ok(reply) => success(id, json!({ "reply": reply })),
        Err(e) => line(&AdapterMsg::Error {
            id: Some(id),
            code: e.code,
            message: e.message.clone(),
            vendor: Some(super::msg::Vendor {
                code: json!(e.code),
                message: Some(e.message.clone()),
            }),
        }),
    }
}
