//! A WebSocket front for the reference server: each connection is one device, speaking
//! [`super::wire`] JSON. The connection is only a transport: requests go to the same server task
//! (and so the same sans-IO core) as in-process clients.

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use super::wire::{ClientMsg, ServerMsg};
use crate::server::{Command, ServerHandle};

/// Events queued per connection before the device counts as a slow consumer.
const CONNECTION_EVENTS_QUEUED_MAX: usize = 4096;

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

async fn connection(stream: TcpStream, server: ServerHandle) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    // The first message names the device.
    let device = match source.next().await {
        Some(Ok(Message::Text(t))) => match serde_json::from_str::<ClientMsg>(&t) {
            Ok(ClientMsg::Hello { device }) => device,
            Ok(other) => {
                let message = format!("expected hello first, got {other:?}");
                let _ = sink.send(text(&ServerMsg::Error { message })).await;
                return;
            }
            Err(e) => {
                let message = format!("malformed message: {e}");
                let _ = sink.send(text(&ServerMsg::Error { message })).await;
                return;
            }
        },
        _ => return,
    };
    let (events_tx, mut events) = mpsc::channel(CONNECTION_EVENTS_QUEUED_MAX);
    let (reply, answer) = oneshot::channel();
    let connect = Command::Connect {
        device,
        events: events_tx,
        reply,
    };
    if server.send(connect).await.is_err() {
        return;
    }
    match answer.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let message = format!("cannot connect {device}: {e}");
            let _ = sink.send(text(&ServerMsg::Error { message })).await;
            return;
        }
        Err(_) => return,
    }
    if sink
        .send(text(&ServerMsg::Welcome { device }))
        .await
        .is_err()
    {
        return;
    }
    // Replies come back through this queue so one writer owns the socket.
    let (out_tx, mut out) = mpsc::channel::<ServerMsg>(CONNECTION_EVENTS_QUEUED_MAX);
    let writer = async {
        // Bounded: ends when both queues close (the reader and the server dropped them).
        loop {
            let msg = tokio::select! {
                Some(d) = events.recv() => ServerMsg::Event { delivery: d },
                Some(m) = out.recv() => m,
                else => break,
            };
            if sink.feed(text(&msg)).await.is_err() {
                break;
            }
            // Send what is already queued in the same flush.
            while let Ok(d) = events.try_recv() {
                if sink
                    .feed(text(&ServerMsg::Event { delivery: d }))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
    };
    let reader = async {
        while let Some(Ok(frame)) = source.next().await {
            let Message::Text(t) = frame else {
                if matches!(frame, Message::Close(_)) {
                    break;
                }
                continue;
            };
            match serde_json::from_str::<ClientMsg>(&t) {
                Ok(ClientMsg::Request { id, op }) => {
                    let Ok(result) = server.request(device, op).await else {
                        break;
                    };
                    let result = result.map_err(|e| (&e).into());
                    if out_tx.send(ServerMsg::Reply { id, result }).await.is_err() {
                        break;
                    }
                }
                Ok(ClientMsg::Hello { .. }) => {
                    let message = "hello sent twice".to_owned();
                    let _ = out_tx.send(ServerMsg::Error { message }).await;
                    break;
                }
                Err(e) => {
                    let message = format!("malformed message: {e}");
                    let _ = out_tx.send(ServerMsg::Error { message }).await;
                    break;
                }
            }
        }
        drop(out_tx);
        let _ = server.send(Command::Disconnect { device }).await;
    };
    tokio::join!(reader, writer);
}
