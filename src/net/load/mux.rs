//! The real-time load's shared connections (`--mux N`): N devices per WebSocket, each
//! authenticated by its own hello on its own channel (docs/wire-protocol.md §9), one task per
//! connection. What each device does and measures is its [`Device`]'s, as on a connection of
//! its own; what is shared is the transport: every wakeup the task takes all the frames and
//! commands waiting, hands each to its device, fires the devices' due timers, and writes all
//! their requests as batch frames with one flush — SIPp carries every call over one socket.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::Arc;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::calls::{Cmd, Device, Shared};
use super::ws::{Clock, Work, Ws, next_work, on_message, open};
use super::{Link, RealtimeError};
use crate::net::FRAMES_PER_WAKEUP_MAX;
use crate::net::codec::{BatchWriter, Encoding};
use crate::net::limits::MUX_OUT_PER_WAKEUP_MAX;
use crate::net::wire::{ClientMsg, ReadServer, ServerMsg};
use crate::server::auth::Token;

/// Opens one shared connection per `link.mux` devices, authenticates each device on its channel,
/// and starts the connection's task. Returns once every device is welcomed, so that no call is
/// placed to a device whose hello the server has yet to read (it would be unavailable, 480).
pub(super) async fn start(
    url: &str,
    tokens: &[Token],
    receivers: Vec<mpsc::Receiver<(usize, Cmd)>>,
    shared: &Arc<Shared>,
    link: Link,
) -> Result<Vec<tokio::task::JoinHandle<()>>, RealtimeError> {
    let mut tasks = Vec::new();
    let users = tokens.len();
    for (k, rx) in receivers.into_iter().enumerate() {
        let devices = k * link.mux..((k + 1) * link.mux).min(users);
        let mut ws = open(url, link.encoding, true).await?;
        hellos(
            &mut ws,
            devices.clone(),
            &tokens[devices.clone()],
            shared,
            link.encoding,
        )
        .await?;
        let task = connection(devices, ws, rx, shared.clone(), link.encoding);
        tasks.push(tokio::spawn(task));
    }
    Ok(tasks)
}

/// The devices of one connection, with what each wakeup touched.
struct Group {
    first: usize,
    devices: Vec<Device>,
    /// Commands for each device this wakeup.
    pending: Vec<Vec<Cmd>>,
    /// The devices to act on this wakeup (each once: `marked`).
    touched: Vec<usize>,
    marked: Vec<bool>,
    /// Each device's armed timer, and the heap of them (earliest first). A device has at most
    /// one live entry; an entry whose time is no longer its device's is skipped when due.
    armed: Vec<Option<u64>>,
    timers: BinaryHeap<Reverse<(u64, usize)>>,
}

impl Group {
    fn touch(&mut self, local: usize) {
        if !self.marked[local] {
            self.marked[local] = true;
            self.touched.push(local);
        }
    }

    /// Marks the devices whose timer is due by `now_ms`.
    fn due(&mut self, now_ms: u64) {
        while let Some(&Reverse((t, local))) = self.timers.peek() {
            if t > now_ms {
                break;
            }
            self.timers.pop();
            if self.armed[local] == Some(t) {
                self.armed[local] = None;
                self.touch(local);
            }
        }
    }

    /// Acts on every touched device and writes its requests, on its channel.
    fn act(&mut self, shared: &Shared, w: &mut BatchWriter) {
        for local in std::mem::take(&mut self.touched) {
            self.marked[local] = false;
            let dev = &mut self.devices[local];
            dev.act(self.pending[local].drain(..), shared);
            for (id, op) in dev.outbox.drain(..) {
                w.push(channel(local), &ClientMsg::Request { id, op });
            }
            let next = dev.next_timer_ms();
            if next != self.armed[local] {
                self.armed[local] = next;
                if let Some(t) = next {
                    self.timers.push(Reverse((t, local)));
                }
            }
        }
    }

    fn next_due(&self) -> Option<u64> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// One received batch; `false` when the connection is over.
    fn frame(
        &mut self,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        enc: Encoding,
        shared: &Arc<Shared>,
    ) -> bool {
        let msg = match frame {
            Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => m,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return false,
            Some(Ok(_)) => return true,
        };
        let Ok(batch) = enc.read_batch::<ReadServer>(&msg) else {
            return true;
        };
        for (ch, ReadServer(m)) in batch {
            let Some(local) = (ch as usize)
                .checked_sub(1)
                .filter(|l| *l < self.devices.len())
            else {
                // The connection's own channel: only an error comes there, before the close.
                continue;
            };
            if let ServerMsg::Error { .. } = m {
                continue;
            }
            on_message(&mut self.devices[local], m, shared);
            self.touch(local);
        }
        true
    }
}

/// A device's channel: 1 and up (0 is the connection's own).
fn channel(local: usize) -> u32 {
    local as u32 + 1
}

/// Sends the hellos of `devices` on their channels and waits, within the handshake deadline,
/// for every welcome; a refusal is the run's set-up error.
async fn hellos(
    ws: &mut Ws,
    devices: Range<usize>,
    tokens: &[Token],
    shared: &Shared,
    enc: Encoding,
) -> Result<(), RealtimeError> {
    let mut w = BatchWriter::new(enc);
    for (local, (i, token)) in devices.clone().zip(tokens).enumerate() {
        let hello = ClientMsg::hello(shared.ids[i].clone(), "d0", token.clone());
        w.push(channel(local), &hello);
    }
    let io = |()| RealtimeError::Io("the shared connection failed sending the hellos".into());
    send(ws, &mut w).await.map_err(io)?;
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_millis(crate::net::limits::HANDSHAKE_TIMEOUT_MS);
    let mut welcomed = 0;
    // Bounded: each frame counts, and the deadline ends the wait.
    while welcomed < devices.len() {
        let frame = match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(m))) => m,
            Ok(_) => return Err(RealtimeError::Io("the shared connection closed".into())),
            Err(_) => {
                let why = format!("{welcomed} of {} devices welcomed in time", devices.len());
                return Err(RealtimeError::Setup(why));
            }
        };
        if !matches!(frame, Message::Text(_) | Message::Binary(_)) {
            continue;
        }
        let batch = enc
            .read_batch::<ReadServer>(&frame)
            .map_err(RealtimeError::Setup)?;
        for (ch, ReadServer(m)) in batch {
            match m {
                ServerMsg::Welcome { .. } => welcomed += 1,
                ServerMsg::Error { code, message } => {
                    let why = format!("channel {ch}: {code} {message}");
                    return Err(RealtimeError::Setup(why));
                }
                // Nothing else comes before the first call.
                _ => {}
            }
        }
    }
    Ok(())
}

/// One shared connection after its devices' welcomes: the wakeups until it closes or the
/// driver drops the command queue.
async fn connection(
    devices: Range<usize>,
    mut ws: Ws,
    mut cmds: mpsc::Receiver<(usize, Cmd)>,
    shared: Arc<Shared>,
    enc: Encoding,
) {
    let n = devices.len();
    let mut w = BatchWriter::new(enc);
    let options = crate::agent::Options::default();
    let mut g = Group {
        first: devices.start,
        devices: devices
            .map(|i| Device::new(i, &shared, options.clone()))
            .collect(),
        pending: (0..n).map(|_| Vec::new()).collect(),
        touched: Vec::with_capacity(n),
        marked: vec![false; n],
        armed: vec![None; n],
        timers: BinaryHeap::new(),
    };
    let mut batch: Vec<(usize, Cmd)> = Vec::with_capacity(MUX_OUT_PER_WAKEUP_MAX);
    let mut clock = Clock::new();
    // Bounded: ends when the connection closes or fails, or the driver drops the command queue.
    loop {
        clock.set(g.next_due().map(|t| shared.instant_of(t)));
        let work = next_work(
            &mut cmds,
            &mut batch,
            MUX_OUT_PER_WAKEUP_MAX,
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
                if !g.frame(frame, enc, &shared) {
                    return;
                }
            }
        }
        while taken < FRAMES_PER_WAKEUP_MAX {
            let Some(frame) = ws.next().now_or_never() else {
                break;
            };
            taken += 1;
            if !g.frame(frame, enc, &shared) {
                return;
            }
        }
        if batch.len() < MUX_OUT_PER_WAKEUP_MAX {
            let room = MUX_OUT_PER_WAKEUP_MAX - batch.len();
            if let Some(0) = cmds.recv_many(&mut batch, room).now_or_never() {
                return;
            }
        }
        for (i, cmd) in batch.drain(..) {
            let local = i - g.first;
            g.pending[local].push(cmd);
            g.touch(local);
        }
        g.due(shared.now_ms());
        g.act(&shared, &mut w);
        if send(&mut ws, &mut w).await.is_err() {
            return;
        }
    }
}

/// Feeds the batch frames written so far and flushes once.
async fn send(ws: &mut Ws, w: &mut BatchWriter) -> Result<(), ()> {
    if w.is_empty() {
        return Ok(());
    }
    let frames: Vec<Message> = w.frames().collect();
    for f in frames {
        ws.feed(f).await.map_err(|_| ())?;
    }
    ws.flush().await.map_err(|_| ())
}
