//! A WebSocket front for the reference server: each connection is one device, speaking
//! [`super::wire`] JSON. The connection is only a transport: its requests go to the same sans-IO
//! core as in-process clients' (handed over on the connection's own task, see
//! [`ServerHandle::submit`]).
//!
//! One task per connection owns the whole socket (no split halves behind a lock). Each wakeup it
//! takes every request already received and everything the server queued for the device, feeds
//! the frames, and flushes once: a reply and the events that follow it leave in one write.

use std::future::poll_fn;
use std::task::Poll;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::wire::{ClientMsg, ServerMsg, WireError};
use super::{CONNECTION_EVENTS_QUEUED_MAX, FRAMES_PER_WAKEUP_MAX};
use crate::core::DeviceId;
use crate::server::{Command, Outbound, ServerHandle};

/// Accepts connections until the listener fails; each connection runs in its own task.
pub async fn serve(listener: TcpListener, server: ServerHandle) {
    // Bounded by the listener: it ends when accepting fails (the socket closed).
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, server.clone()));
    }
}

fn text(msg: &ServerMsg) -> Message {
    Message::text(serde_json::to_string(msg).expect("server messages serialize"))
}

fn outbound_text(out: Outbound) -> Message {
    text(&match out {
        Outbound::Reply { id, result } => ServerMsg::Reply {
            id,
            result: result.map_err(|e| WireError::from(&e)),
        },
        Outbound::Event(delivery) => ServerMsg::Event { delivery },
    })
}

/// What woke the connection.
enum Work {
    /// The server queued output (already moved into the batch).
    Out,
    /// The server dropped the device (slow consumer, or the server stopped).
    OutClosed,
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
}

/// Whether the connection goes on after a frame.
enum Next {
    Continue,
    Close,
}

async fn connection(stream: TcpStream, server: ServerHandle) {
    let Ok(mut ws) =
        tokio_tungstenite::accept_async_with_config(stream, Some(super::ws_config())).await
    else {
        return;
    };
    // The first message names the device.
    let device = match ws.next().await {
        Some(Ok(Message::Text(t))) => match ClientMsg::from_json(&t) {
            Ok(ClientMsg::Hello { device }) => device,
            Ok(other) => {
                let message = format!("expected hello first, got {other:?}");
                let _ = ws.send(text(&ServerMsg::Error { message })).await;
                return;
            }
            Err(e) => {
                let message = format!("malformed message: {e}");
                let _ = ws.send(text(&ServerMsg::Error { message })).await;
                return;
            }
        },
        _ => return,
    };
    let (out_tx, mut out) = mpsc::channel(CONNECTION_EVENTS_QUEUED_MAX);
    let (reply, answer) = oneshot::channel();
    let connect = Command::ConnectWire {
        device,
        out: out_tx,
        reply,
    };
    if server.send(connect).await.is_err() {
        return;
    }
    match answer.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let message = format!("cannot connect {device}: {e}");
            let _ = ws.send(text(&ServerMsg::Error { message })).await;
            return;
        }
        Err(_) => return,
    }
    if ws.send(text(&ServerMsg::Welcome { device })).await.is_ok() {
        run(&mut ws, device, &server, &mut out).await;
    }
    let _ = server.send(Command::Disconnect { device }).await;
}

/// The connection after the handshake. Bounded: ends when the socket closes or fails, or the
/// server drops the device's queue.
async fn run(
    ws: &mut WebSocketStream<TcpStream>,
    device: DeviceId,
    server: &ServerHandle,
    out: &mut mpsc::Receiver<Outbound>,
) {
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
            Work::OutClosed => return,
            Work::Out => {}
            Work::Frame(frame) => {
                taken = 1;
                if let Next::Close = handle_frame(ws, device, server, frame).await {
                    return;
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
            if let Next::Close = handle_frame(ws, device, server, frame).await {
                return;
            }
        }
        // Everything the server has queued for the device so far leaves in one flush.
        if batch.len() < FRAMES_PER_WAKEUP_MAX {
            let room = FRAMES_PER_WAKEUP_MAX - batch.len();
            if let Some(0) = out.recv_many(&mut batch, room).now_or_never() {
                return;
            }
        }
        if batch.is_empty() {
            continue;
        }
        for o in batch.drain(..) {
            if ws.feed(outbound_text(o)).await.is_err() {
                return;
            }
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}

async fn handle_frame(
    ws: &mut WebSocketStream<TcpStream>,
    device: DeviceId,
    server: &ServerHandle,
    frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Next {
    let t = match frame {
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Next::Close,
        Some(Ok(_)) => return Next::Continue,
    };
    match ClientMsg::from_json(&t) {
        Ok(ClientMsg::Request { id, op }) => {
            server.submit(device, id, op);
            Next::Continue
        }
        Ok(ClientMsg::Hello { .. }) => {
            let message = "hello sent twice".to_owned();
            let _ = ws.send(text(&ServerMsg::Error { message })).await;
            Next::Close
        }
        Err(e) => {
            let message = format!("malformed message: {e}");
            let _ = ws.send(text(&ServerMsg::Error { message })).await;
            Next::Close
        }
    }
}
