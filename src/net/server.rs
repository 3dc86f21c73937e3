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

use super::error::{Refusal, redact_literals};
use super::limits::{CLOSE_WRITE_TIMEOUT_MS, CONNECTIONS_MAX, HANDSHAKE_TIMEOUT_MS};
use super::wire::{ClientMsg, PROTOCOL, ServerMsg, WireError};
use super::{CONNECTION_EVENTS_QUEUED_MAX, FRAMES_PER_WAKEUP_MAX};
use crate::core::DeviceId;
use crate::server::{Outbound, ServerHandle};

type Ws = WebSocketStream<TcpStream>;

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

fn outbound_text(out: Outbound) -> Result<Message, Refusal> {
    Ok(text(&match out {
        Outbound::Reply { id, result } => ServerMsg::Reply {
            id,
            result: result.map_err(|e| WireError::from(&e)),
        },
        Outbound::Event(delivery) => ServerMsg::Event { delivery },
        Outbound::Close { code: 910, .. } => return Err(Refusal::ShuttingDown),
        Outbound::Close { message, .. } => return Err(Refusal::Removed(message)),
    }))
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
fn short(s: &str) -> &str {
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
    let (out_tx, mut out) = mpsc::channel(CONNECTION_EVENTS_QUEUED_MAX);
    let hello = match tokio::time::timeout_at(deadline, ws.next()).await {
        Ok(frame) => read_hello(frame),
        Err(_) => Err(Some(Refusal::HandshakeTimeout)),
    };
    let refused = match hello {
        Ok((user, label, token)) => match server.connect_wire(&user, &label, &token, out_tx) {
            Ok((device, conn)) => {
                info!(%peer, %user, device = %label, id = device.0, "device authenticated");
                let welcome = ServerMsg::Welcome {
                    protocol: PROTOCOL.to_owned(),
                    device,
                };
                let why = if ws.send(text(&welcome)).await.is_ok() {
                    run(&mut ws, device, &server, &mut out).await
                } else {
                    None
                };
                server.disconnect_wire(device, conn);
                if let Some(r) = &why {
                    refuse(&mut ws, r).await;
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
        refuse(&mut ws, &r).await;
    }
}

type Frame = Option<Result<Message, WsError>>;

/// The hello's user, device label and token, or why not (`None`: the peer went away).
fn read_hello(
    frame: Frame,
) -> Result<(crate::core::UserId, String, crate::server::auth::Token), Option<Refusal>> {
    let t = match frame {
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(Message::Binary(_))) => {
            return Err(Some(Refusal::Malformed(
                "binary frames are not part of the protocol".into(),
            )));
        }
        Some(Err(WsError::Capacity(_))) => return Err(Some(Refusal::TooLarge)),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(None),
        Some(Ok(_)) => return Err(Some(Refusal::OutOfOrder("expected hello first"))),
    };
    match ClientMsg::from_json(&t) {
        Ok(ClientMsg::Hello {
            protocol,
            user,
            device,
            token,
        }) => {
            if protocol != PROTOCOL {
                return Err(Some(Refusal::Protocol(format!("`{}`", short(&protocol)))));
            }
            Ok((user, device, token))
        }
        Ok(ClientMsg::Request { .. }) => Err(Some(Refusal::OutOfOrder("expected hello first"))),
        Err(e) => {
            // An old or foreign hello without a protocol is a version mismatch, not noise.
            if t.contains("\"hello\"") && !t.contains("\"protocol\"") {
                return Err(Some(Refusal::Protocol("(none named)".into())));
            }
            // The frame may hold a token: no value of it goes into the message.
            Err(Some(Refusal::Malformed(redact_literals(&e.to_string()))))
        }
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
                if let Some(end) = handle_frame(device, server, frame) {
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
            if let Some(end) = handle_frame(device, server, frame) {
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
            let msg = match outbound_text(o) {
                Ok(msg) => msg,
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
fn handle_frame(device: DeviceId, server: &ServerHandle, frame: Frame) -> Option<Option<Refusal>> {
    let t = match frame {
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(Message::Binary(_))) => {
            let why = "binary frames are not part of the protocol";
            return Some(Some(Refusal::Malformed(why.into())));
        }
        Some(Err(WsError::Capacity(_))) => return Some(Some(Refusal::TooLarge)),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Some(None),
        Some(Ok(_)) => return None,
    };
    match ClientMsg::from_json(&t) {
        Ok(ClientMsg::Request { id, op }) => {
            server.submit(device, id, op);
            None
        }
        Ok(ClientMsg::Hello { .. }) => Some(Some(Refusal::OutOfOrder("hello sent twice"))),
        Err(e) => Some(Some(Refusal::Malformed(redact_literals(&e.to_string())))),
    }
}
