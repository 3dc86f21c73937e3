//! The real-time load's own transport: one WebSocket per device, straight to the server, JSON
//! frames of `callconf-wire/1`. A task per device owns its socket and its [`Device`]; what the
//! device does and measures is in `calls.rs`, shared with the adapter transport.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::RealtimeError;
use super::calls::{Cmd, Device, Shared};
use crate::net::FRAMES_PER_WAKEUP_MAX;
use crate::net::codec::{Encoding, FEATURE_MUX, Negotiation};
use crate::net::limits::HANDSHAKE_TIMEOUT_MS;
use crate::net::wire::{ClientMsg, PROTOCOL, ReadServer, ServerMsg};
use crate::server::auth::Token;

pub(super) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects every device to `url` and starts its task. A connection in the compact encoding
/// negotiates it first (an `open` without `mux`).
pub(super) async fn start(
    url: &str,
    tokens: &[Token],
    receivers: Vec<mpsc::Receiver<Cmd>>,
    shared: &Arc<Shared>,
    enc: Encoding,
) -> Result<Vec<tokio::task::JoinHandle<()>>, RealtimeError> {
    let mut tasks = Vec::new();
    for (i, rx) in receivers.into_iter().enumerate() {
        let ws = if enc == Encoding::Json {
            connect(url).await?
        } else {
            open(url, enc, false).await?
        };
        let hello = ClientMsg::hello(shared.ids[i].clone(), "d0", tokens[i].clone());
        tasks.push(tokio::spawn(device(i, hello, ws, rx, shared.clone(), enc)));
    }
    Ok(tasks)
}

/// A WebSocket to `url`.
pub(super) async fn connect(url: &str) -> Result<Ws, RealtimeError> {
    let config = Some(crate::net::ws_config());
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, config, true)
        .await
        .map_err(|e| RealtimeError::Io(e.to_string()))?;
    Ok(ws)
}

/// A WebSocket to `url` on which the server granted `enc` (and `mux`, if asked), within the
/// handshake deadline.
pub(super) async fn open(url: &str, enc: Encoding, mux: bool) -> Result<Ws, RealtimeError> {
    let mut ws = connect(url).await?;
    let features = if mux {
        vec![FEATURE_MUX.to_owned()]
    } else {
        vec![]
    };
    let open = Negotiation::Open {
        protocol: PROTOCOL.to_owned(),
        features: features.clone(),
        encoding: enc.name().to_owned(),
    };
    let text = serde_json::to_string(&open).expect("serializes");
    ws.send(Message::text(text))
        .await
        .map_err(|e| RealtimeError::Io(e.to_string()))?;
    let deadline = Duration::from_millis(HANDSHAKE_TIMEOUT_MS);
    let answer = match tokio::time::timeout(deadline, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Negotiation>(&t).ok(),
        _ => None,
    };
    match answer {
        Some(Negotiation::Opened {
            features: f,
            encoding,
            ..
        }) if f == features && encoding == enc.name() => Ok(ws),
        other => Err(RealtimeError::Setup(format!(
            "the server did not grant encoding {} with features {features:?}: {other:?}",
            enc.name()
        ))),
    }
}

/// What woke a connection's task (one device's, or a shared connection's).
pub(super) enum Work {
    /// Commands arrived (already moved into the batch).
    Cmds,
    /// Every sender of commands is gone.
    CmdsClosed,
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    /// The agent's next timer is due.
    Timer,
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
    enc: Encoding,
) {
    if ws.send(enc.frame(&hello)).await.is_err() {
        return;
    }
    let mut dev = Device::new(me, &shared, crate::agent::Options::default());
    let mut batch: Vec<Cmd> = Vec::with_capacity(FRAMES_PER_WAKEUP_MAX);
    let mut clock = Clock::new();
    // Bounded: ends when the connection closes or fails, or the driver drops the command queue.
    loop {
        clock.set(dev.next_timer_ms().map(|t| shared.instant_of(t)));
        let work = next_work(
            &mut cmds,
            &mut batch,
            FRAMES_PER_WAKEUP_MAX,
            &mut ws,
            &mut clock,
        )
        .await;
        let mut taken = 0;
        match work {
            Work::CmdsClosed => return,
            Work::Cmds | Work::Timer => {}
            Work::Frame(frame) => {
                taken = 1;
                if !on_frame(&mut dev, frame, &shared, enc) {
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
            if !on_frame(&mut dev, frame, &shared, enc) {
                return;
            }
        }
        if batch.len() < FRAMES_PER_WAKEUP_MAX {
            let room = FRAMES_PER_WAKEUP_MAX - batch.len();
            if let Some(0) = cmds.recv_many(&mut batch, room).now_or_never() {
                return;
            }
        }
        dev.act(batch.drain(..), &shared);
        if flush(&mut dev, &mut ws, enc).await.is_err() {
            return;
        }
    }
}

/// Feeds the device's requests and flushes once.
async fn flush(dev: &mut Device, ws: &mut Ws, enc: Encoding) -> Result<(), ()> {
    if dev.outbox.is_empty() {
        return Ok(());
    }
    for (id, op) in dev.outbox.drain(..) {
        let msg = enc.frame(&ClientMsg::Request { id, op });
        ws.feed(msg).await.map_err(|_| ())?;
    }
    ws.flush().await.map_err(|_| ())
}

/// Handles one received frame; `false` when the connection is over.
fn on_frame(
    dev: &mut Device,
    frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    shared: &Arc<Shared>,
    enc: Encoding,
) -> bool {
    let msg = match frame {
        Some(Ok(Message::Text(t))) if enc == Encoding::Json => ServerMsg::from_json(&t).ok(),
        Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
            enc.read::<ReadServer>(&m).ok().map(|m| m.0)
        }
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return false,
        Some(Ok(_)) => return true,
    };
    if let Some(msg) = msg {
        on_message(dev, msg, shared);
    }
    true
}

/// One message from the server to this device.
pub(super) fn on_message(dev: &mut Device, msg: ServerMsg, shared: &Arc<Shared>) {
    match msg {
        ServerMsg::Reply { id, result } => {
            dev.on_reply(id, result.as_ref().map_err(|e| e.code), shared);
        }
        ServerMsg::Event { delivery } => dev.on_event(&delivery.event, shared),
        ServerMsg::Welcome { .. } | ServerMsg::Error { .. } => {}
    }
}

/// The next thing to do, commands first (up to `max` of them moved into `batch`), then a frame
/// from the server, then the timer: so a busy socket cannot starve the commands.
pub(super) async fn next_work<T>(
    cmds: &mut mpsc::Receiver<T>,
    batch: &mut Vec<T>,
    max: usize,
    ws: &mut Ws,
    clock: &mut Clock,
) -> Work {
    poll_fn(|cx| {
        match cmds.poll_recv_many(cx, batch, max) {
            Poll::Ready(0) => return Poll::Ready(Work::CmdsClosed),
            Poll::Ready(_) => return Poll::Ready(Work::Cmds),
            Poll::Pending => {}
        }
        if let Poll::Ready(frame) = ws.poll_next_unpin(cx) {
            return Poll::Ready(Work::Frame(frame));
        }
        clock.poll(cx).map(|()| Work::Timer)
    })
    .await
}

/// A device task's one timer: the agent's next deadline.
pub(super) struct Clock {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    until: Option<Instant>,
}

impl Clock {
    pub(super) fn new() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            until: None,
        }
    }

    /// Sleeps until `due` from now on (re-armed only when it changed); `None`: never fires.
    pub(super) fn set(&mut self, due: Option<Instant>) {
        if let Some(d) = due
            && self.until != Some(d)
        {
            self.sleep.as_mut().reset(d);
        }
        self.until = due;
    }

    pub(super) fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if self.until.is_none() {
            return Poll::Pending;
        }
        self.sleep.as_mut().poll(cx)
    }
}
