//! The WebSocket front of the reference server for devices: each connection is one
//! authenticated device speaking `callconf-wire/1` ([`super::wire`]). The connection is only a
//! transport: its requests go to the same sans-IO core as in-process clients' (handed over on
//! the connection's own task, see [`ServerHandle::submit`]).
//!
//! Every wait is bounded: a connection slot is taken before the WebSocket handshake and given
//! back when the connection ends ([`super::limits::CONNECTIONS_MAX`]); the handshake and the
//! hello must finish within [`super::limits::HANDSHAKE_TIMEOUT_MS`]; a message over
//! [`super::limits::MESSAGE_BYTES_MAX`] is refused by tungstenite before it is buffered whole.
//! Every server-initiated close says why first: an `error` message with its code, then a close
//! frame.
//!
//! One task per connection owns the whole socket (no split halves behind a lock). Each wakeup it
//! takes every request already received and everything the server queued for the device, feeds
//! the frames, and flushes once: a reply and the events that follow it leave in one write.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};
use tracing::{debug, info, warn};

use super::codec::{Encoding, FEATURE_MUX, Negotiation};
use super::error::{Refusal, redact_literals};
use super::limits::{CLOSE_WRITE_TIMEOUT_MS, CONNECTIONS_MAX, HANDSHAKE_TIMEOUT_MS};
use super::wire::{ClientMsg, PROTOCOL, ReadClient, ServerMsg, WireError};
use super::{CONNECTION_EVENTS_QUEUED_MAX, FRAMES_PER_WAKEUP_MAX};
use crate::core::DeviceId;
use crate::server::{Outbound, ServerHandle};

pub(crate) type Ws = WebSocketStream<TcpStream>;

/// What the accept loops share: the connection slots and the shutdown signal.
#[derive(Clone)]
pub struct Front {
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) stop: watch::Receiver<bool>,
}

impl Front {
    /// A front with [`CONNECTIONS_MAX`] slots; it stops when `stop` turns true.
    pub fn new(stop: watch::Receiver<bool>) -> Self {
        Self::with_slots(CONNECTIONS_MAX, stop)
    }

    pub fn with_slots(slots: usize, stop: watch::Receiver<bool>) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            stop,
        }
    }

    /// Takes a connection slot, or answers the stream with 907 and closes it.
    pub(crate) async fn admit(
        &self,
        stream: TcpStream,
        config: tokio_tungstenite::tungstenite::protocol::WebSocketConfig,
    ) -> Option<(OwnedSemaphorePermit, TcpStream)> {
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => Some((permit, stream)),
            Err(_) => {
                tokio::spawn(async move {
                    let handshake =
                        tokio_tungstenite::accept_async_with_config(stream, Some(config));
                    let deadline = Duration::from_millis(CLOSE_WRITE_TIMEOUT_MS);
                    if let Ok(Ok(mut ws)) = tokio::time::timeout(deadline, handshake).await {
                        refuse(&mut ws, &Refusal::ServerFull).await;
                    }
                });
                None
            }
        }
    }
}

/// Accepts device connections until the listener fails; each runs in its own task. No limit
/// on connections but the process's (the in-process load driver's own server).
pub async fn serve(listener: TcpListener, server: ServerHandle) {
    let (_keep, stop) = watch::channel(false);
    serve_front(listener, server, Front::new(stop)).await;
}

/// Accepts device connections until `front` is told to stop or the listener fails.
pub async fn serve_front(listener: TcpListener, server: ServerHandle, front: Front) {
    let accept = front.clone();
    accept
        .accept_loop(
            listener,
            "device",
            super::ws_config(),
            |stream, peer, permit| {
                tokio::spawn(connection(stream, peer, server.clone(), permit));
            },
        )
        .await;
}

impl Front {
    /// Accepts connections until told to stop or the listener fails; each admitted one goes
    /// to `spawn` with its slot, the others are answered 907.
    pub(crate) async fn accept_loop(
        &self,
        listener: TcpListener,
        what: &'static str,
        config: tokio_tungstenite::tungstenite::protocol::WebSocketConfig,
        spawn: impl Fn(TcpStream, SocketAddr, OwnedSemaphorePermit),
    ) {
        let mut stop = self.stop.clone();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        warn!(error = %e, what, "listener failed");
                        return;
                    }
                },
                () = stopped(&mut stop) => return,
            };
            let _ = stream.set_nodelay(true);
            match self.admit(stream, config).await {
                Some((permit, stream)) => spawn(stream, peer, permit),
                None => info!(%peer, what, code = 907, "connection refused: too many connections"),
            }
        }
    }
}

/// Resolves when the stop signal turns true (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, so callers' futures stay `Send`.
    let _ = stop.wait_for(|s| *s).await;
}

pub(crate) fn text(msg: &ServerMsg) -> Message {
    Message::text(serde_json::to_string(msg).expect("server messages serialize"))
}

/// The wire message of one queued output, or the connection's end (`Err`: why).
pub(crate) fn outbound_msg(out: Outbound) -> Result<ServerMsg, Refusal> {
    Ok(match out {
        Outbound::Reply { id, result, .. } => ServerMsg::Reply {
            id,
            result: result.map_err(|e| WireError::from(&e)),
        },
        Outbound::Event(delivery) => ServerMsg::Event { delivery },
        Outbound::Close { code: 910, .. } => return Err(Refusal::ShuttingDown),
        Outbound::Close { message, .. } => return Err(Refusal::Removed(message)),
    })
}

/// Sends the refusal's `error` message and a close frame, each within the close deadline.
pub(crate) async fn refuse<S>(ws: &mut WebSocketStream<S>, refusal: &Refusal)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let wire = refusal.wire();
    let msg = text(&ServerMsg::Error {
        code: wire.code,
        message: wire.message.clone(),
    });
    refuse_with(ws, refusal, msg).await;
}

/// [`refuse`] with the `error` message already framed (in a negotiated encoding, or a batch).
pub(crate) async fn refuse_with<S>(ws: &mut WebSocketStream<S>, refusal: &Refusal, msg: Message)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let wire = refusal.wire();
    let code = match refusal {
        Refusal::ShuttingDown => CloseCode::Away,
        Refusal::TooLarge => CloseCode::Size,
        Refusal::Malformed(_) => CloseCode::Unsupported,
        _ => CloseCode::Policy,
    };
    let frame = CloseFrame {
        code,
        reason: format!("{} {}", wire.code, short(&wire.message)).into(),
    };
    let deadline = Duration::from_millis(CLOSE_WRITE_TIMEOUT_MS);
    let _ = tokio::time::timeout(deadline, async {
        if ws.send(msg).await.is_ok() {
            let _ = ws.close(Some(frame)).await;
        }
    })
    .await;
}

/// A close frame's reason is at most 123 bytes.
pub(crate) fn short(s: &str) -> &str {
    let mut end = s.len().min(100);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    server: ServerHandle,
    _slot: OwnedSemaphorePermit,
) {
    debug!(%peer, "device connection accepted");
    let deadline = tokio::time::Instant::now() + Duration::from_millis(HANDSHAKE_TIMEOUT_MS);
    let handshake = tokio_tungstenite::accept_async_with_config(stream, Some(super::ws_config()));
    let mut ws = match tokio::time::timeout_at(deadline, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            info!(%peer, error = %e, "device connection closed: WebSocket handshake failed");
            return;
        }
        Err(_) => {
            info!(%peer, code = 906, "device connection closed: no WebSocket handshake in time");
            return;
        }
    };
    let Ok(first) = tokio::time::timeout_at(deadline, ws.next()).await else {
        info!(%peer, code = 906, "device refused: no hello in time");
        refuse(&mut ws, &Refusal::HandshakeTimeout).await;
        return;
    };
    let (enc, hello) = match negotiate(&first) {
        None => (Encoding::Json, first),
        Some(Err(r)) => {
            info!(%peer, code = r.code(), reason = %r, "device refused");
            refuse(&mut ws, &r).await;
            return;
        }
        Some(Ok((opened, enc, mux))) => {
            if ws.send(Message::text(opened)).await.is_err() {
                return;
            }
            if mux {
                super::mux_server::connection(ws, peer, server, enc, deadline).await;
                return;
            }
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Ok(frame) => (enc, frame),
                Err(_) => {
                    let r = Refusal::HandshakeTimeout;
                    refuse_with(&mut ws, &r, error_frame(enc, &r)).await;
                    return;
                }
            }
        }
    };
    single(ws, peer, &server, enc, hello).await;
}

/// One device's connection, from its hello on, in `enc`.
async fn single(mut ws: Ws, peer: SocketAddr, server: &ServerHandle, enc: Encoding, hello: Frame) {
    let (out_tx, mut out) = mpsc::channel(CONNECTION_EVENTS_QUEUED_MAX);
    let refused = match read_hello(hello, enc) {
        Ok((user, label, token)) => match server.connect_wire(&user, &label, &token, out_tx) {
            Ok((device, conn)) => {
                info!(%peer, %user, device = %label, id = device.0, "device authenticated");
                let welcome = ServerMsg::Welcome {
                    protocol: PROTOCOL.to_owned(),
                    device,
                };
                let why = if ws.send(enc.frame(&welcome)).await.is_ok() {
                    run(&mut ws, device, server, &mut out, enc).await
                } else {
                    None
                };
                server.disconnect_wire(device, conn);
                if let Some(r) = &why {
                    refuse_with(&mut ws, r, error_frame(enc, r)).await;
                }
                match &why {
                    Some(r) => {
                        info!(%peer, id = device.0, code = r.code(), reason = %r, "device connection closed")
                    }
                    None => info!(%peer, id = device.0, "device connection closed by the device"),
                }
                return;
            }
            Err(r) => Some(r),
        },
        Err(r) => r,
    };
    if let Some(r) = refused {
        info!(%peer, code = r.code(), reason = %r, "device refused");
        refuse_with(&mut ws, &r, error_frame(enc, &r)).await;
    }
}

/// The `error` message of `r` as one frame of `enc`.
fn error_frame(enc: Encoding, r: &Refusal) -> Message {
    let wire = r.wire();
    enc.frame(&ServerMsg::Error {
        code: wire.code,
        message: wire.message,
    })
}

pub(crate) type Frame = Option<Result<Message, WsError>>;

/// Whether the first frame is an `open` (`None`: it is not, a hello perhaps); if so, the
/// `opened` answer, the encoding and whether the connection is shared (`mux`).
fn negotiate(first: &Frame) -> Option<Result<(String, Encoding, bool), Refusal>> {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    let Some(Ok(Message::Text(t))) = first else {
        return None;
    };
    match serde_json::from_str::<Kind>(t) {
        Ok(Kind { kind: Some(k) }) if k == "open" => {}
        _ => return None,
    }
    let open = match serde_json::from_str::<Negotiation>(t) {
        Ok(Negotiation::Open {
            protocol,
            features,
            encoding,
        }) => (protocol, features, encoding),
        Ok(Negotiation::Opened { .. }) => unreachable!("the type said open"),
        Err(e) => return Some(Err(Refusal::Malformed(redact_literals(&e.to_string())))),
    };
    let (protocol, features, encoding) = open;
    if protocol != PROTOCOL {
        return Some(Err(Refusal::Protocol(format!("`{}`", short(&protocol)))));
    }
    let Some(enc) = Encoding::parse(&encoding) else {
        let why = format!("encoding `{}` (json and compact are)", short(&encoding));
        return Some(Err(Refusal::Protocol(why)));
    };
    let mux = features.iter().any(|f| f == FEATURE_MUX);
    let opened = Negotiation::Opened {
        protocol: PROTOCOL.to_owned(),
        features: if mux {
            vec![FEATURE_MUX.to_owned()]
        } else {
            vec![]
        },
        encoding: enc.name().to_owned(),
    };
    Some(Ok((
        serde_json::to_string(&opened).expect("serializes"),
        enc,
        mux,
    )))
}

/// The hello's user, device label and token, or why not (`None`: the peer went away).
fn read_hello(frame: Frame, enc: Encoding) -> Result<Hello, Option<Refusal>> {
    let msg = match frame {
        Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => m,
        Some(Err(WsError::Capacity(_))) => return Err(Some(Refusal::TooLarge)),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(None),
        Some(Ok(_)) => return Err(Some(Refusal::OutOfOrder("expected hello first"))),
    };
    match decode(&msg, enc, true) {
        Ok(m) => hello_of(m).map_err(Some),
        Err(r) => Err(Some(r)),
    }
}

/// A hello's user, device label and token.
pub(crate) type Hello = (crate::core::UserId, String, crate::server::auth::Token);

/// The hello's parts, or why not.
pub(crate) fn hello_of(msg: ClientMsg) -> Result<Hello, Refusal> {
    match msg {
        ClientMsg::Hello {
            protocol,
            user,
            device,
            token,
        } => {
            if protocol != PROTOCOL {
                return Err(Refusal::Protocol(format!("`{}`", short(&protocol))));
            }
            Ok((user, device, token))
        }
        ClientMsg::Request { .. } => Err(Refusal::OutOfOrder("expected hello first")),
    }
}

/// One client message from a data frame of `enc`, or the 900 (901 for a JSON `hello` frame
/// that names no protocol) it earns. A frame may hold a token: no value of it goes into the message.
pub(crate) fn decode(msg: &Message, enc: Encoding, hello: bool) -> Result<ClientMsg, Refusal> {
    match (enc, msg) {
        (Encoding::Json, Message::Text(t)) => ClientMsg::from_json(t).map_err(|e| {
            // An old or foreign hello without a protocol is a version mismatch, not noise.
            if hello && t.contains("\"hello\"") && !t.contains("\"protocol\"") {
                return Refusal::Protocol("(none named)".into());
            }
            Refusal::Malformed(redact_literals(&e.to_string()))
        }),
        (Encoding::Json, _) => Err(Refusal::Malformed(
            "binary frames are not part of the protocol".into(),
        )),
        _ => enc
            .read::<ReadClient>(msg)
            .map(|m| m.0)
            .map_err(|e| Refusal::Malformed(redact_literals(&e))),
    }
}

/// What woke the connection.
enum Work {
    /// The server queued output (already moved into the batch).
    Out,
    /// The server dropped the device (slow consumer, or the server stopped).
    OutClosed,
    Frame(Frame),
}

/// The connection after the handshake. Bounded: ends when the socket closes or fails, or the
/// server drops or closes the device. Returns why the server ends it, if it does.
async fn run(
    ws: &mut Ws,
    device: DeviceId,
    server: &ServerHandle,
    out: &mut mpsc::Receiver<Outbound>,
    enc: Encoding,
) -> Option<Refusal> {
    let mut batch: Vec<Outbound> = Vec::with_capacity(FRAMES_PER_WAKEUP_MAX);
    loop {
        let work = poll_fn(|cx| {
            match out.poll_recv_many(cx, &mut batch, FRAMES_PER_WAKEUP_MAX) {
                Poll::Ready(0) => return Poll::Ready(Work::OutClosed),
                Poll::Ready(_) => return Poll::Ready(Work::Out),
                Poll::Pending => {}
            }
            ws.poll_next_unpin(cx).map(Work::Frame)
        })
        .await;
        let mut taken = 0;
        match work {
            Work::OutClosed => return Some(Refusal::SlowConsumer),
            Work::Out => {}
            Work::Frame(frame) => {
                taken = 1;
                if let Some(end) = handle_frame(device, server, frame, enc) {
                    return end;
                }
            }
        }
        // Take the other requests already received. No wait (`now_or_never`): the next wait
        // polls the socket again with this task's waker.
        while taken < FRAMES_PER_WAKEUP_MAX {
            let Some(frame) = ws.next().now_or_never() else {
                break;
            };
            taken += 1;
            if let Some(end) = handle_frame(device, server, frame, enc) {
                return end;
            }
        }
        // Everything the server has queued for the device so far leaves in one flush. A queue
        // the server closed still holds what it queued before, a closing reason perhaps.
        let mut closed = false;
        if batch.len() < FRAMES_PER_WAKEUP_MAX {
            let room = FRAMES_PER_WAKEUP_MAX - batch.len();
            closed = matches!(out.recv_many(&mut batch, room).now_or_never(), Some(0));
        }
        if batch.is_empty() {
            if closed {
                return Some(Refusal::SlowConsumer);
            }
            continue;
        }
        for o in batch.drain(..) {
            let msg = match outbound_msg(o) {
                Ok(msg) => enc.frame(&msg),
                Err(closing) => {
                    let _ = ws.flush().await;
                    return Some(closing);
                }
            };
            if ws.feed(msg).await.is_err() {
                return None;
            }
        }
        if ws.flush().await.is_err() {
            return None;
        }
        if closed {
            return Some(Refusal::SlowConsumer);
        }
    }
}

/// Handles one frame; `Some(end)` when the connection is over (`end`: the server's reason).
fn handle_frame(
    device: DeviceId,
    server: &ServerHandle,
    frame: Frame,
    enc: Encoding,
) -> Option<Option<Refusal>> {
    let msg = match frame {
        Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => m,
        Some(Err(WsError::Capacity(_))) => return Some(Some(Refusal::TooLarge)),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Some(None),
        Some(Ok(_)) => return None,
    };
    match decode(&msg, enc, false) {
        Ok(ClientMsg::Request { id, op }) => {
            server.submit(device, id, op);
            None
        }
        Ok(ClientMsg::Hello { .. }) => Some(Some(Refusal::OutOfOrder("hello sent twice"))),
        Err(r) => Some(Some(r)),
    }
}
