//! The wire's per-message costs, JSON against the compact encoding (MessagePack), one message a
//! frame against batches (`mux`): what a load run pays per request and per delivery to encode
//! and decode, before (JSON, a frame per message: the default) and after (the negotiated
//! options of docs/wire-protocol.md §9). The messages are a 1:1 call's: a place request, its
//! reply, an invitation, a participant's state.

use std::sync::Arc;

use callconf::core::{CallId, CallInfo, CallStatus, CallType, Delivery, DeviceId, Event};
use callconf::core::{Op, ParticipantState, PlaceCall, Reply, UserId};
use callconf::net::codec::{BatchWriter, Encoding};
use callconf::net::wire::{ClientMsg, ReadClient, ReadServer, ServerMsg};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn request() -> ClientMsg {
    ClientMsg::Request {
        id: 17,
        op: Op::Place(PlaceCall::direct(UserId::from("k0-u1234"), CallType::Audio)),
    }
}

fn server_msgs() -> Vec<ServerMsg> {
    let info = CallInfo {
        call: CallId(51234),
        call_type: CallType::Audio,
        group: None,
        caller: UserId::from("k0-u17"),
        invitees: vec![UserId::from("k0-u1234")],
        status: CallStatus::Calling,
        created_ms: 123_456,
        custom_data: None,
        headers: vec![],
        transferred_by: None,
    };
    vec![
        ServerMsg::Reply {
            id: 17,
            result: Ok(Reply::Placed {
                call: CallId(51234),
                busy: vec![],
                unavailable: vec![],
            }),
        },
        ServerMsg::Event {
            delivery: Delivery {
                device: DeviceId(1234),
                at_ms: 123_456,
                event: Event::Incoming {
                    info: Arc::new(info),
                },
            },
        },
        ServerMsg::Event {
            delivery: Delivery {
                device: DeviceId(17),
                at_ms: 123_457,
                event: Event::Participant {
                    call: CallId(51234),
                    user: UserId::from("k0-u1234"),
                    state: ParticipantState::Ringing,
                },
            },
        },
    ]
}

fn per_message(c: &mut Criterion) {
    let msgs = server_msgs();
    let req = request();
    let mut g = c.benchmark_group("wire_message");
    g.throughput(Throughput::Elements(1 + msgs.len() as u64));
    for enc in [Encoding::Json, Encoding::Compact] {
        let frames: Vec<_> = msgs.iter().map(|m| enc.frame(m)).collect();
        let req_frame = enc.frame(&req);
        g.bench_function(format!("{}_encode", enc.name()), |b| {
            b.iter(|| {
                let mut n = enc.frame(&req).len();
                for m in &msgs {
                    n += enc.frame(m).len();
                }
                n
            })
        });
        g.bench_function(format!("{}_decode", enc.name()), |b| {
            b.iter(|| {
                let r: ReadClient = enc.read(&req_frame).unwrap();
                let mut n = matches!(r.0, ClientMsg::Request { .. }) as usize;
                for f in &frames {
                    let m: ReadServer = enc.read(f).unwrap();
                    n += matches!(m.0, ServerMsg::Event { .. }) as usize;
                }
                n
            })
        });
    }
    g.finish();
}

/// 64 devices' messages of one wakeup in batch frames, written and read.
fn batched(c: &mut Criterion) {
    let msgs = server_msgs();
    let mut g = c.benchmark_group("wire_batch_64x3");
    g.throughput(Throughput::Elements(64 * msgs.len() as u64));
    for enc in [Encoding::Json, Encoding::Compact] {
        let mut w = BatchWriter::new(enc);
        for ch in 1..=64 {
            for m in &msgs {
                w.push(ch, m);
            }
        }
        let frames: Vec<_> = w.frames().collect();
        g.bench_function(format!("{}_encode", enc.name()), |b| {
            let mut w = BatchWriter::new(enc);
            b.iter(|| {
                for ch in 1..=64 {
                    for m in &msgs {
                        w.push(ch, m);
                    }
                }
                w.frames().map(|f| f.len()).sum::<usize>()
            })
        });
        g.bench_function(format!("{}_decode", enc.name()), |b| {
            b.iter(|| {
                let mut n = 0;
                for f in &frames {
                    let batch: Vec<(u32, ReadServer)> = enc.read_batch(f).unwrap();
                    n += batch.len();
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, per_message, batched);
criterion_main!(benches);
