//! The reference client SDK: one [`Device`] per connected phone, laptop or tab.
//!
//! Operations are async methods returning the server's reply or a [`ClientError`] carrying the
//! core's code. Events arrive two ways, as the seed SDKs offer them: listeners registered and
//! removed by id (CometChat `addCallListener(id, …)` / `removeCallListener(id)`), and async
//! streams ([`Device::events`]). A background pump task receives the device's deliveries, runs
//! the SDK's automatic steps, calls the listeners, then publishes to the streams.
//!
//! Automatic steps (each can be switched off in [`DeviceOptions`]) are the device agent's
//! ([`crate::agent`]), the same steps the simulator's and the real-time driver's devices take:
//! - acknowledge ringing when an invitation arrives (Stringee `ringing()`);
//! - start the media session after an accept: the callee on its accept's success, the caller when
//!   the first callee joins (CometChat's default call flow).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use thiserror::Error;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

use crate::agent::{self, Agent, Output, Tag};
use crate::core::{
    CallError, CallId, CallSnapshot, CallType, Delivery, DeviceId, Headers, Media, PlaceCall,
    Reply, SignalKind, UserId,
};
use crate::server::{Command, ServerGone, ServerHandle};

/// Why a client operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server refused the operation.
    #[error("{0} ({code})", code = .0.code())]
    Refused(#[from] CallError),
    #[error(transparent)]
    ServerGone(#[from] ServerGone),
    /// A listener with this id is already registered.
    #[error("a listener with id {0:?} is already registered")]
    DuplicateListener(String),
    /// The server answered with a reply of the wrong kind (a protocol bug).
    #[error("unexpected reply to {op}: {reply:?}")]
    UnexpectedReply { op: &'static str, reply: Box<Reply> },
}

impl ClientError {
    /// The numeric code: the core's for a refusal, 503 when the server is gone, 400 for local
    /// misuse, 500 for a protocol bug.
    pub fn code(&self) -> u16 {
        match self {
            ClientError::Refused(e) => e.code(),
            ClientError::ServerGone(_) => 503,
            ClientError::DuplicateListener(_) => 400,
            ClientError::UnexpectedReply { .. } => 500,
        }
    }
}

/// Per-device behaviour and bounds.
#[derive(Debug, Clone)]
pub struct DeviceOptions {
    pub auto_ringing: bool,
    pub auto_start_session: bool,
    /// Events buffered for each stream before a slow stream reader starts losing them.
    pub stream_events_buffered_max: usize,
    /// Listeners one device may hold.
    pub listeners_max: usize,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        Self {
            auto_ringing: true,
            auto_start_session: true,
            stream_events_buffered_max: 1024,
            listeners_max: 64,
        }
    }
}

/// A placed call: its id and the invitees who could not be rung.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub call: CallId,
    pub busy: Vec<UserId>,
    pub unavailable: Vec<UserId>,
}

type Listener = Arc<dyn Fn(&Delivery) + Send + Sync>;

/// Deliveries a device's pump takes off its queue per wake-up.
const PUMP_BATCH_MAX: usize = 64;
/// Requests the agent decides on in answer to one input (a ringing acknowledgement, a session
/// start): the pump and the operations take them out under the agent's lock, then send them.
const AGENT_STEPS_PER_INPUT_MAX: usize = 4;

struct Shared {
    /// The pump is handling a delivery (automatic steps, listeners) right now.
    busy: AtomicBool,
    /// Registered listeners and open streams, so the pump skips the locks when there are none.
    listener_count: AtomicUsize,
    stream_count: Arc<AtomicUsize>,
    /// Copy-on-write: the pump takes a cheap `Arc` snapshot per event; changes replace it.
    listeners: Mutex<Arc<Vec<(String, Listener)>>>,
    /// The device's automatic steps. Whoever hands it an input takes the requests that input
    /// caused, under the same lock, so an accept's session start is sent (and its refusal
    /// reported) by the accept itself.
    agent: Mutex<Agent>,
    /// Time zero of the agent's clock (none of the client's steps waits on it).
    epoch: Instant,
}

/// A connected device of a user. A cheap handle: clones share the same connection, listeners
/// and streams.
#[derive(Clone)]
pub struct Device {
    id: DeviceId,
    user: UserId,
    server: ServerHandle,
    options: DeviceOptions,
    shared: Arc<Shared>,
    stream: broadcast::Sender<Delivery>,
    /// The server's end of this device's event queue, held weakly so that the queue still closes
    /// when the server drops it; used to see whether deliveries are waiting.
    queue: mpsc::WeakSender<Delivery>,
}

impl Device {
    /// Connects device `id` (registered with the core) of `user`. Streams opened with
    /// [`Device::events`] see every event from the moment they are opened.
    pub async fn connect(
        server: &ServerHandle,
        id: DeviceId,
        user: UserId,
        options: DeviceOptions,
        queue_max: usize,
    ) -> Result<Self, ClientError> {
        let (tx, rx) = mpsc::channel(queue_max);
        let queue = tx.downgrade();
        let (reply, answer) = tokio::sync::oneshot::channel();
        server
            .send(Command::Connect {
                device: id,
                events: tx,
                reply,
            })
            .await?;
        answer.await.map_err(|_| ServerGone)??;
        let (stream, _) = broadcast::channel(options.stream_events_buffered_max);
        let shared = Arc::new(Shared {
            busy: AtomicBool::new(false),
            listener_count: AtomicUsize::new(0),
            stream_count: Arc::new(AtomicUsize::new(0)),
            listeners: Mutex::new(Arc::new(Vec::new())),
            agent: Mutex::new(Agent::new(
                user.clone(),
                agent::Options {
                    auto_ringing: options.auto_ringing,
                    auto_start_session: options.auto_start_session,
                    ..agent::Options::default()
                },
            )),
            epoch: Instant::now(),
        });
        let pump = Pump {
            id,
            server: server.clone(),
            shared: shared.clone(),
            stream: stream.clone(),
        };
        tokio::spawn(pump.run(rx));
        Ok(Self {
            id,
            user,
            server: server.clone(),
            options,
            shared,
            stream,
            queue,
        })
    }

    pub fn id(&self) -> DeviceId {
        self.id
    }

    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// No delivery is waiting for this device and none is being handled: everything the server
    /// sent has reached the listeners and streams, and the automatic steps it caused were sent.
    pub fn is_idle(&self) -> bool {
        let queued = self
            .queue
            .upgrade()
            .is_some_and(|q| q.capacity() < q.max_capacity());
        !queued && !self.shared.busy.load(Ordering::SeqCst)
    }

    /// An async stream of this device's events from now on. A reader that falls more than
    /// `stream_events_buffered_max` events behind skips the oldest ones.
    pub fn events(&self) -> impl Stream<Item = Delivery> + Unpin + use<> {
        let open = StreamCount::new(self.shared.stream_count.clone());
        BroadcastStream::new(self.stream.subscribe()).filter_map(
            move |r: Result<Delivery, BroadcastStreamRecvError>| {
                // The guard lives as long as the stream: dropping the stream closes it.
                let _open = &open;
                r.ok()
            },
        )
    }

    /// Registers a listener under `id`; it is called for every event until removed.
    pub fn add_listener(
        &self,
        id: &str,
        listener: impl Fn(&Delivery) + Send + Sync + 'static,
    ) -> Result<(), ClientError> {
        let mut listeners = self.shared.listeners.lock().expect("listener lock");
        if listeners.iter().any(|(l, _)| l == id) {
            return Err(ClientError::DuplicateListener(id.to_owned()));
        }
        if listeners.len() >= self.options.listeners_max {
            return Err(CallError::Capacity("listeners_max").into());
        }
        Arc::make_mut(&mut listeners).push((id.to_owned(), Arc::new(listener)));
        self.shared
            .listener_count
            .store(listeners.len(), Ordering::SeqCst);
        Ok(())
    }

    /// Removes the listener `id`; returns whether there was one. A removed listener gets nothing.
    pub fn remove_listener(&self, id: &str) -> bool {
        let mut listeners = self.shared.listeners.lock().expect("listener lock");
        let before = listeners.len();
        Arc::make_mut(&mut listeners).retain(|(l, _)| l != id);
        self.shared
            .listener_count
            .store(listeners.len(), Ordering::SeqCst);
        listeners.len() != before
    }

    /// Disconnects the device; the server treats it as gone.
    pub async fn disconnect(&self) -> Result<(), ClientError> {
        self.server
            .send(Command::Disconnect { device: self.id })
            .await?;
        Ok(())
    }

    /// Sends any operation and returns the raw reply.
    pub async fn request(&self, op: Op) -> Result<Reply, ClientError> {
        Ok(self.server.request(self.id, op).await??)
    }

    async fn done(&self, op: Op) -> Result<(), ClientError> {
        let name = op.name();
        match self.request(op).await? {
            Reply::Done => Ok(()),
            reply => Err(ClientError::UnexpectedReply {
                op: name,
                reply: Box::new(reply),
            }),
        }
    }

    pub async fn place_call(&self, place: PlaceCall) -> Result<Placed, ClientError> {
        match self.request(Op::Place(place)).await? {
            Reply::Placed {
                call,
                busy,
                unavailable,
            } => Ok(Placed {
                call,
                busy,
                unavailable,
            }),
            reply => Err(ClientError::UnexpectedReply {
                op: "place",
                reply: Box::new(reply),
            }),
        }
    }

    /// Places a ringing 1:1 call.
    pub async fn call(&self, to: &str, call_type: CallType) -> Result<CallId, ClientError> {
        Ok(self
            .place_call(PlaceCall::direct(to, call_type))
            .await?
            .call)
    }

    pub async fn ringing(&self, call: CallId) -> Result<(), ClientError> {
        self.done(Op::ringing(call)).await
    }

    /// Accepts an invitation; with `auto_start_session` the media session starts right after.
    pub async fn accept(&self, call: CallId) -> Result<(), ClientError> {
        self.accept_with_headers(call, Vec::new()).await
    }

    /// Accepts with `X-` headers for the caller (Voximplant `answer(extraHeaders)`); the
    /// automatic steps follow as after [`Device::accept`].
    pub async fn accept_with_headers(
        &self,
        call: CallId,
        headers: Headers,
    ) -> Result<(), ClientError> {
        self.enter(Op::Accept { call, headers }).await
    }

    pub async fn decline(&self, call: CallId, code: Option<u16>) -> Result<(), ClientError> {
        self.done(Op::decline(call, code)).await
    }

    pub async fn cancel(&self, call: CallId) -> Result<(), ClientError> {
        self.done(Op::Cancel { call }).await
    }

    pub async fn hangup(&self, call: CallId) -> Result<(), ClientError> {
        self.done(Op::hangup(call)).await
    }

    pub async fn end_for_all(&self, call: CallId) -> Result<(), ClientError> {
        self.done(Op::EndForAll { call }).await
    }

    /// Joins a live group call; with `auto_start_session` the media session starts right after.
    pub async fn join(&self, call: CallId) -> Result<(), ClientError> {
        self.enter(Op::Join { call }).await
    }

    /// Enters the session with `op` (accept or join), then takes the agent's steps on its success
    /// (CometChat: the callee starts the media session on its accept's success).
    async fn enter(&self, op: Op) -> Result<(), ClientError> {
        let tag = self.shared.sent(&op);
        self.done(op).await?;
        let steps = self
            .shared
            .with_agent(|a, now_ms| a.handle_reply(now_ms, tag, Ok(())));
        for op in steps {
            self.step(op).await?;
        }
        Ok(())
    }

    /// Sends a request the agent decided on; a refusal goes back to the agent too.
    async fn step(&self, op: Op) -> Result<(), ClientError> {
        let tag = Tag::of(&op);
        let result = self.done(op).await;
        if let Err(e) = &result {
            self.shared.refused(tag, e.code());
        }
        result
    }

    pub async fn invite(&self, call: CallId, users: &[&str]) -> Result<Reply, ClientError> {
        let users = users.iter().map(|u| UserId::new(u)).collect();
        self.request(Op::Invite { call, users }).await
    }

    pub async fn start_session(&self, call: CallId) -> Result<(), ClientError> {
        let op = Op::StartSession { call };
        let tag = self.shared.sent(&op);
        let result = self.done(op).await;
        if let Err(e) = &result {
            self.shared.refused(tag, e.code());
        }
        result
    }

    pub async fn hold(&self, call: CallId) -> Result<(), ClientError> {
        self.done(Op::Hold {
            call,
            on_hold: true,
        })
        .await
    }

    pub async fn unhold(&self, call: CallId) -> Result<(), ClientError> {
        self.done(Op::Hold {
            call,
            on_hold: false,
        })
        .await
    }

    pub async fn mute(&self, call: CallId, media: Media, muted: bool) -> Result<(), ClientError> {
        self.done(Op::Mute { call, media, muted }).await
    }

    pub async fn send_dtmf(&self, call: CallId, digits: &str) -> Result<(), ClientError> {
        let digits = digits.to_owned();
        self.done(Op::Dtmf { call, digits }).await
    }

    pub async fn send_info(&self, call: CallId, mime: &str, body: &str) -> Result<(), ClientError> {
        let (mime, body) = (mime.to_owned(), body.to_owned());
        self.done(Op::Info {
            call,
            mime,
            body,
            headers: Vec::new(),
        })
        .await
    }

    pub async fn send_message(&self, call: CallId, text: &str) -> Result<(), ClientError> {
        let text = text.to_owned();
        self.done(Op::Message { call, text }).await
    }

    pub async fn set_custom_data(&self, call: CallId, data: &str) -> Result<(), ClientError> {
        let data = data.to_owned();
        self.done(Op::CustomData { call, data }).await
    }

    pub async fn start_early_media(&self, call: CallId) -> Result<(), ClientError> {
        self.done(Op::early_media(call)).await
    }

    pub async fn transfer(&self, call: CallId, target: &str) -> Result<(), ClientError> {
        let target = UserId::new(target);
        self.done(Op::Transfer { call, target }).await
    }

    pub async fn signal(
        &self,
        call: CallId,
        to: Option<&str>,
        kind: SignalKind,
        body: &str,
    ) -> Result<(), ClientError> {
        let to = to.map(UserId::new);
        let body = body.to_owned();
        self.done(Op::Signal {
            call,
            to,
            kind,
            body,
        })
        .await
    }

    pub async fn get_call(&self, call: CallId) -> Result<CallSnapshot, ClientError> {
        match self.request(Op::GetCall { call }).await? {
            Reply::Call(snapshot) => Ok(snapshot),
            reply => Err(ClientError::UnexpectedReply {
                op: "get_call",
                reply: Box::new(reply),
            }),
        }
    }
}

impl Shared {
    /// Hands the agent an input and takes the requests it decided on.
    fn with_agent(&self, input: impl FnOnce(&mut Agent, u64)) -> Vec<Op> {
        let now_ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut agent = self.agent.lock().expect("agent lock");
        input(&mut agent, now_ms);
        let mut steps = Vec::new();
        // Bounded: one input makes at most a couple of requests (asserted below).
        while let Some(out) = agent.poll_output() {
            // A client device has no script, so nothing asks it to pick a transfer target.
            if let Output::Request(req) = out {
                steps.push(req.op());
            }
        }
        debug_assert!(steps.len() <= AGENT_STEPS_PER_INPUT_MAX);
        steps
    }

    /// Tells the agent the application sends `op`; returns the tag of its reply.
    fn sent(&self, op: &Op) -> Tag {
        self.agent.lock().expect("agent lock").handle_sent(op)
    }

    /// Tells the agent a request with `tag` was refused with `code`. A refusal makes no further
    /// step (it only undoes a session start that did not happen).
    fn refused(&self, tag: Tag, code: u16) {
        let steps = self.with_agent(|a, now_ms| a.handle_reply(now_ms, tag, Err(code)));
        debug_assert!(steps.is_empty(), "a refusal makes no step: {steps:?}");
    }
}

/// Counts an open event stream for as long as it lives.
struct StreamCount(Arc<AtomicUsize>);

impl StreamCount {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for StreamCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The device's receiving side, run as its own task.
struct Pump {
    id: DeviceId,
    server: ServerHandle,
    shared: Arc<Shared>,
    stream: broadcast::Sender<Delivery>,
}

impl Pump {
    /// Receives this device's deliveries until the server drops the route.
    async fn run(self, mut rx: mpsc::Receiver<Delivery>) {
        // Everything already queued is handled per wake-up (bounded by the batch size).
        let mut batch = Vec::with_capacity(PUMP_BATCH_MAX);
        while rx.recv_many(&mut batch, PUMP_BATCH_MAX).await > 0 {
            self.shared.busy.store(true, Ordering::SeqCst);
            for delivery in batch.drain(..) {
                self.handle(delivery).await;
            }
            self.shared.busy.store(false, Ordering::SeqCst);
        }
    }

    async fn handle(&self, delivery: Delivery) {
        self.automatic_steps(&delivery).await;
        if self.shared.listener_count.load(Ordering::SeqCst) > 0 {
            // A snapshot, so that a listener may add or remove listeners without deadlock.
            let listeners = self.shared.listeners.lock().expect("listener lock").clone();
            for (_, l) in listeners.iter() {
                l(&delivery);
            }
        }
        if self.shared.stream_count.load(Ordering::SeqCst) > 0 {
            // A stream that closed meanwhile just misses it, as a dropped stream should.
            let _ = self.stream.send(delivery);
        }
    }

    async fn automatic_steps(&self, delivery: &Delivery) {
        let steps = self
            .shared
            .with_agent(|a, now_ms| a.handle_event(now_ms, &delivery.event));
        // A refused automatic step (the call ended meanwhile, say) is not this device's error to
        // report: the events that follow tell the story. No automatic step awaits its reply
        // (only accepts and joins do, and those are the application's).
        for op in steps {
            let tag = Tag::of(&op);
            if let Ok(Err(e)) = self.server.request(self.id, op).await {
                self.shared.refused(tag, e.code());
            }
        }
    }
}

pub use crate::core::Op;
