//! The server's side of a shared (`mux`) device connection (docs/wire-protocol.md §9): many
//! devices on one WebSocket, each authenticated by its own hello on a channel the client numbers,
//! every frame a batch of `[channel, message]` pairs in the negotiated encoding.
//!
//! Each device is exactly what it is on a connection of its own: its hello is checked the same
//! way (a refusal is answered on its channel and changes nothing, for it or the connection's
//! other devices), its requests go to the same core, its replies and events are the same
//! messages. What is shared is the transport: one task, one read and one write per wakeup for
//! all of them, and one output queue ([`MUX_EVENTS_QUEUED_MAX`]): a connection that does not
//! read fast enough loses all its devices as one slow consumer (908).

use std::collections::HashMap;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::task::Poll;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tracing::info;

use super::FRAMES_PER_WAKEUP_MAX;
use super::codec::{BatchWriter, Encoding};
use super::error::{Refusal, redact_literals};
use super::limits::{MUX_DEVICES_MAX, MUX_EVENTS_QUEUED_MAX, MUX_OUT_PER_WAKEUP_MAX};
use super::server::{Frame, Ws, hello_of, outbound_msg, refuse_with};
use super::wire::{ClientMsg, PROTOCOL, ReadClient, ServerMsg};
use crate::core::DeviceId;
use crate::server::{Outbound, ServerHandle, SharedConn};

/// The channel of the connection itself: its own errors (a malformed frame, a shutdown).
pub const CONNECTION_CHANNEL: u32 = 0;

/// The devices on one shared connection, both ways.
struct Channels {
    device_of: HashMap<u32, DeviceId>,
    channel_of: HashMap<DeviceId, u32>,
    /// Whether any device was ever welcomed (until then the handshake deadline holds).
    welcomed: bool,
}

/// A shared connection after its `opened`; ends when the socket closes or fails, or the server
/// ends it. Every device that joined leaves the server when it ends.
pub(super) async fn connection(
    mut ws: Ws,
    peer: SocketAddr,
    server: ServerHandle,
    enc: Encoding,
    deadline: Instant,
) {
    let shared = server.open_shared();
    let (tx, mut out) = mpsc::channel(MUX_EVENTS_QUEUED_MAX);
    let mut ch = Channels {
        device_of: HashMap::new(),
        channel_of: HashMap::new(),
        welcomed: false,
    };
    let mut link = Link {
        ws: &mut ws,
        server: &server,
        shared: &shared,
        tx,
        writer: BatchWriter::new(enc),
        enc,
        peer,
    };
    let why = link.run(&mut ch, &mut out, deadline).await;
    for device in ch.channel_of.keys() {
        server.disconnect_wire(*device, shared.conn);
    }
    let devices = ch.channel_of.len();
    match &why {
        Some(r) => {
            let wire = r.wire();
            let mut w = BatchWriter::new(enc);
            let error = ServerMsg::Error {
                code: wire.code,
                message: wire.message,
            };
            w.push(CONNECTION_CHANNEL, &error);
            let frame = w.frames().next().expect("one message, one frame");
            refuse_with(&mut ws, r, frame).await;
            info!(%peer, devices, code = r.code(), reason = %r, "shared connection closed");
        }
        None => info!(%peer, devices, "shared connection closed by the client"),
    }
}

/// What woke the connection.
enum Work {
    Out,
    Frame(Frame),
    /// The handshake deadline passed without a welcomed device.
    Late,
}

struct Link<'a> {
    ws: &'a mut Ws,
    server: &'a ServerHandle,
    shared: &'a SharedConn,
    /// The connection's output queue, handed to each device that joins.
    tx: mpsc::Sender<Outbound>,
    writer: BatchWriter,
    enc: Encoding,
    peer: SocketAddr,
}

impl Link<'_> {
    /// The wakeups: take the frames received and the output queued, answer, flush once.
    async fn run(
        &mut self,
        ch: &mut Channels,
        out: &mut mpsc::Receiver<Outbound>,
        deadline: Instant,
    ) -> Option<Refusal> {
        let mut batch: Vec<Outbound> = Vec::with_capacity(MUX_OUT_PER_WAKEUP_MAX);
        let mut late = Box::pin(tokio::time::sleep_until(deadline));
        loop {
            let work = poll_fn(|cx| {
                if let Poll::Ready(n) = out.poll_recv_many(cx, &mut batch, MUX_OUT_PER_WAKEUP_MAX) {
                    // Never 0: this task holds a sender itself.
                    debug_assert!(n > 0);
                    return Poll::Ready(Work::Out);
                }
                if let Poll::Ready(frame) = self.ws.poll_next_unpin(cx) {
                    return Poll::Ready(Work::Frame(frame));
                }
                if !ch.welcomed {
                    return late.as_mut().poll(cx).map(|()| Work::Late);
                }
                Poll::Pending
            })
            .await;
            let mut taken = 0;
            match work {
                Work::Late => return Some(Refusal::HandshakeTimeout),
                Work::Out => {}
                Work::Frame(frame) => {
                    taken = 1;
                    if let Some(end) = self.frame(ch, frame) {
                        return end;
                    }
                }
            }
            while taken < FRAMES_PER_WAKEUP_MAX {
                let Some(frame) = self.ws.next().now_or_never() else {
                    break;
                };
                taken += 1;
                if let Some(end) = self.frame(ch, frame) {
                    return end;
                }
            }
            if batch.len() < MUX_OUT_PER_WAKEUP_MAX {
                let room = MUX_OUT_PER_WAKEUP_MAX - batch.len();
                let _ = out.recv_many(&mut batch, room).now_or_never();
            }
            if self.shared.dropped.load(Ordering::Acquire) {
                // The server already disconnected every device of the connection.
                ch.channel_of.clear();
                ch.device_of.clear();
                return Some(Refusal::SlowConsumer);
            }
            for o in batch.drain(..) {
                if let Some(end) = self.outbound(ch, o) {
                    let _ = self.send().await;
                    return Some(end);
                }
            }
            if self.send().await.is_err() {
                return None;
            }
        }
    }

    /// Feeds the batch frames written so far and flushes once.
    async fn send(&mut self) -> Result<(), WsError> {
        if self.writer.is_empty() {
            return Ok(());
        }
        let frames: Vec<Message> = self.writer.frames().collect();
        for f in frames {
            self.ws.feed(f).await?;
        }
        self.ws.flush().await
    }

    /// One queued output onto its device's channel; `Some`: the connection ends (shutdown).
    fn outbound(&mut self, ch: &mut Channels, o: Outbound) -> Option<Refusal> {
        let device = match &o {
            Outbound::Reply { device, .. } | Outbound::Close { device, .. } => *device,
            Outbound::Event(d) => d.device,
        };
        // A device that left (removed a moment ago) has nobody to tell.
        let channel = *ch.channel_of.get(&device)?;
        match outbound_msg(o) {
            Ok(msg) => self.writer.push(channel, &msg),
            Err(Refusal::ShuttingDown) => return Some(Refusal::ShuttingDown),
            Err(closing) => {
                // The administrator removed this one device: its channel closes, the rest go on.
                self.channel_error(channel, &closing);
                ch.channel_of.remove(&device);
                ch.device_of.remove(&channel);
            }
        }
        None
    }

    fn channel_error(&mut self, channel: u32, r: &Refusal) {
        let wire = r.wire();
        let error = ServerMsg::Error {
            code: wire.code,
            message: wire.message,
        };
        self.writer.push(channel, &error);
    }

    /// One received frame; `Some(end)` when the connection is over (`end`: the server's reason).
    fn frame(&mut self, ch: &mut Channels, frame: Frame) -> Option<Option<Refusal>> {
        let msg = match frame {
            Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => m,
            Some(Err(WsError::Capacity(_))) => return Some(Some(Refusal::TooLarge)),
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Some(None),
            Some(Ok(_)) => return None,
        };
        // A batch that does not decode cannot be put down to one device: the connection's 900.
        // It may hold tokens: no value of it goes into the message.
        let batch: Vec<(u32, ReadClient)> = match self.enc.read_batch(&msg) {
            Ok(b) => b,
            Err(e) => return Some(Some(Refusal::Malformed(redact_literals(&e)))),
        };
        for (channel, ReadClient(m)) in batch {
            if channel == CONNECTION_CHANNEL {
                let why = "channel 0 is the connection's own; devices use 1 and up";
                return Some(Some(Refusal::Malformed(why.into())));
            }
            match m {
                ClientMsg::Request { id, op } => match ch.device_of.get(&channel) {
                    Some(&device) => self.server.submit(device, id, op),
                    None => {
                        let r = Refusal::OutOfOrder("no device on this channel: hello first");
                        self.channel_error(channel, &r);
                    }
                },
                hello @ ClientMsg::Hello { .. } => self.hello(ch, channel, hello),
            }
        }
        None
    }

    /// A device's hello on `channel`: welcomed there, or refused there and nothing changes.
    fn hello(&mut self, ch: &mut Channels, channel: u32, hello: ClientMsg) {
        let refusal = if ch.device_of.contains_key(&channel) {
            Refusal::OutOfOrder("hello sent twice on this channel")
        } else if ch.device_of.len() >= MUX_DEVICES_MAX {
            Refusal::TooManyDevices
        } else {
            let joined = hello_of(hello).and_then(|(user, label, token)| {
                let tx = self.tx.clone();
                self.server
                    .connect_shared(&user, &label, &token, tx, self.shared)
                    .map(|d| (d, user, label))
            });
            match joined {
                Ok((device, user, label)) => {
                    ch.device_of.insert(channel, device);
                    ch.channel_of.insert(device, channel);
                    ch.welcomed = true;
                    let peer = self.peer;
                    info!(%peer, %user, device = %label, id = device.0, channel, "device authenticated on a shared connection");
                    let welcome = ServerMsg::Welcome {
                        protocol: PROTOCOL.to_owned(),
                        device,
                    };
                    self.writer.push(channel, &welcome);
                    return;
                }
                Err(r) => r,
            }
        };
        let peer = self.peer;
        info!(%peer, channel, code = refusal.code(), reason = %refusal, "device refused on a shared connection");
        self.channel_error(channel, &refusal);
    }
}
