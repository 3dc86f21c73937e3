//! The real-time transport end to end: 1:1 call lifecycles through WebSocket connections (JSON
//! frames over loopback TCP) to the reference server, as `callconf load --realtime` places them.
//! One lifecycle is: place, the reply, the callee's invitation, ringing and accept (one write),
//! the caller's "joined", hang up, both "ended" — four requests and a dozen frames.
//!
//! `one_pair` runs lifecycles back to back on one pair of phones: the latency of a call through
//! every layer (serialising, framing, the kernel's loopback, the core, routing). `pairs_64` runs
//! 64 pairs at once, each on its own task as the load driver does: the throughput the two cores
//! give, the figure the 9,000 calls/s bar of `scenarios/realtime_9000.yaml` rests on.

use std::time::{Duration, Instant};

use callconf::core::{CallId, CallType, Event, Limits, Op, ParticipantState, PlaceCall};
use callconf::core::{Reply, UserId};
use callconf::net::wire::{ClientMsg, ServerMsg};
use callconf::server::auth::Token;
use callconf::server::population::{self, Population};
use callconf::server::{ServerConfig, ServerHandle};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Pairs in flight in the throughput bench.
const PAIRS: usize = 64;
/// Frames a phone may skip while waiting for the one it wants; a lifecycle sends each phone
/// about six, so more means the protocol went wrong.
const FRAMES_SKIPPED_MAX: usize = 64;

/// One device's WebSocket connection, speaking the wire protocol.
struct Phone {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    user: UserId,
    next_id: u64,
}

impl Phone {
    async fn connect(addr: std::net::SocketAddr, user: UserId, token: Token) -> Phone {
        let url = format!("ws://{addr}/");
        let config = Some(callconf::net::ws_config());
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, config, true)
            .await
            .expect("connects over loopback");
        let hello = serde_json::to_string(&ClientMsg::hello(user.clone(), "phone", token))
            .expect("serializes");
        ws.send(Message::text(hello)).await.expect("hello sent");
        let mut phone = Phone {
            ws,
            user,
            next_id: 0,
        };
        phone
            .wait(|m| matches!(m, ServerMsg::Welcome { .. }).then_some(()))
            .await;
        phone
    }

    /// Queues a request; it leaves at the next flush.
    async fn feed(&mut self, op: Op) {
        self.next_id += 1;
        let text = serde_json::to_string(&ClientMsg::Request {
            id: self.next_id,
            op,
        })
        .expect("serializes");
        self.ws.feed(Message::text(text)).await.expect("fed");
    }

    async fn send(&mut self, op: Op) {
        self.feed(op).await;
        self.ws.flush().await.expect("flushed");
    }

    /// Reads frames until `want` picks one; bounded by [`FRAMES_SKIPPED_MAX`].
    async fn wait<T>(&mut self, want: impl Fn(ServerMsg) -> Option<T>) -> T {
        for _ in 0..FRAMES_SKIPPED_MAX {
            let frame = self.ws.next().await.expect("open").expect("readable");
            let Message::Text(text) = frame else { continue };
            let msg = ServerMsg::from_json(&text).expect("the server's JSON reads back");
            if let ServerMsg::Error { code, message } = &msg {
                panic!("the server refused: {code} {message}");
            }
            if let Some(t) = want(msg) {
                return t;
            }
        }
        panic!("{FRAMES_SKIPPED_MAX} frames without the expected one");
    }
}

fn event(msg: ServerMsg) -> Option<Event> {
    match msg {
        ServerMsg::Event { delivery } => Some(delivery.event),
        _ => None,
    }
}

/// One complete 1:1 call from `alice` to `bob`.
async fn lifecycle(alice: &mut Phone, bob: &mut Phone) {
    alice
        .send(Op::Place(PlaceCall::direct(
            bob.user.clone(),
            CallType::Audio,
        )))
        .await;
    let call: CallId = alice
        .wait(|m| match m {
            ServerMsg::Reply {
                result: Ok(Reply::Placed { call, .. }),
                ..
            } => Some(call),
            ServerMsg::Reply { result: Err(e), .. } => panic!("place refused: {e:?}"),
            _ => None,
        })
        .await;
    bob.wait(|m| match event(m) {
        Some(Event::Incoming { info }) if info.call == call => Some(()),
        _ => None,
    })
    .await;
    bob.feed(Op::ringing(call)).await;
    bob.send(Op::accept(call)).await;
    let callee = bob.user.clone();
    alice
        .wait(|m| match event(m) {
            Some(Event::Participant {
                call: c,
                user,
                state: ParticipantState::Joined,
            }) if c == call && user == callee => Some(()),
            _ => None,
        })
        .await;
    alice.send(Op::hangup(call)).await;
    let ended = |m| match event(m) {
        Some(Event::Ended { call: c, .. }) if c == call => Some(()),
        _ => None,
    };
    alice.wait(ended).await;
    bob.wait(ended).await;
}

/// A server on loopback with `pairs` caller/callee pairs connected.
async fn pairs(pairs: usize) -> Vec<(Phone, Phone)> {
    let pop = Population::numbered(pairs * 2, "phone");
    let (core, credentials) = population::build(&pop, &Limits::default(), &[]).expect("builds");
    let devices: Vec<(UserId, Token)> = pop
        .users
        .iter()
        .map(|u| (u.name.clone(), u.devices[0].token.clone()))
        .collect();
    let server = ServerHandle::start_with(core, credentials, &[], ServerConfig::default(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds loopback");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(callconf::net::server::serve(listener, server));
    let mut phones = Vec::new();
    for (user, token) in devices {
        phones.push(Phone::connect(addr, user, token).await);
    }
    let mut out = Vec::new();
    while let (Some(bob), Some(alice)) = (phones.pop(), phones.pop()) {
        out.push((alice, bob));
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn realtime(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("realtime_wire");
    g.throughput(Throughput::Elements(1));
    let mut one = rt.block_on(pairs(1));
    g.bench_function("one_pair", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let (alice, bob) = &mut one[0];
                let start = Instant::now();
                for _ in 0..iters {
                    lifecycle(alice, bob).await;
                }
                start.elapsed()
            })
        })
    });

    g.throughput(Throughput::Elements(PAIRS as u64));
    let mut many = Some(rt.block_on(pairs(PAIRS)));
    g.bench_function("pairs_64", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = many
                    .take()
                    .expect("phones are back after every batch")
                    .into_iter()
                    .map(|(mut alice, mut bob)| {
                        tokio::spawn(async move {
                            for _ in 0..iters {
                                lifecycle(&mut alice, &mut bob).await;
                            }
                            (alice, bob)
                        })
                    })
                    .collect();
                let mut back = Vec::with_capacity(PAIRS);
                for t in tasks {
                    back.push(t.await.expect("a pair's task completes"));
                }
                let elapsed = start.elapsed();
                many = Some(back);
                elapsed
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(8));
    targets = realtime
}
criterion_main!(benches);
