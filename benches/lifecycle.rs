//! Full 1:1 lifecycles through the in-process reference server and client devices, in virtual
//! time on one core (a current-thread tokio runtime with a paused clock), many caller/callee pairs
//! at once. Two flows:
//! - `place_ring_accept_hangup`: the lifecycle, four requests;
//! - `with_sessions`: the same plus both sides starting the media session (CometChat's flow),
//!   six requests, the call reaching `connected` before the hang-up.

use std::time::{Duration, Instant};

use callconf::client::DeviceOptions;
use callconf::core::{CallType, UserConfig};
use callconf::session::{Session, SessionConfig, runtime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Caller/callee pairs running lifecycles at once; throughput is measured at each level.
const PAIRS: [usize; 2] = [32, 128];
const LIFECYCLES_PER_PAIR: u64 = 16;

async fn cast(pairs: usize) -> Session {
    let config = SessionConfig {
        device: DeviceOptions {
            auto_ringing: false,
            auto_start_session: false,
            ..DeviceOptions::default()
        },
        record: false,
        ..SessionConfig::default()
    };
    let mut s = Session::start(config).await;
    for i in 0..pairs {
        s.add_user(&format!("a{i}"), &["phone"], UserConfig::default())
            .await
            .unwrap();
        s.add_user(&format!("b{i}"), &["phone"], UserConfig::default())
            .await
            .unwrap();
    }
    s
}

/// Runs `per_pair` lifecycles on every pair concurrently; returns the wall time taken.
async fn run(s: &Session, pairs: usize, per_pair: u64, sessions: bool) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let a = s.device(&format!("a{i}")).unwrap().clone();
        let b = s.device(&format!("b{i}")).unwrap().clone();
        let callee = format!("b{i}");
        tasks.push(async move {
            for _ in 0..per_pair {
                let call = a.call(&callee, CallType::Video).await.unwrap();
                b.ringing(call).await.unwrap();
                b.accept(call).await.unwrap();
                if sessions {
                    b.start_session(call).await.unwrap();
                    a.start_session(call).await.unwrap();
                }
                a.hangup(call).await.unwrap();
            }
        });
    }
    futures::future::join_all(tasks).await;
    s.settle().await;
    started.elapsed()
}

fn lifecycles(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("server_clients");
    for pairs in PAIRS {
        let s = rt.block_on(cast(pairs));
        g.throughput(Throughput::Elements(pairs as u64 * LIFECYCLES_PER_PAIR));
        for (name, sessions) in [("place_ring_accept_hangup", false), ("with_sessions", true)] {
            g.bench_function(format!("{name}/{pairs}_pairs"), |bench| {
                bench.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            total += run(&s, pairs, LIFECYCLES_PER_PAIR, sessions).await;
                        }
                        total
                    })
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, lifecycles);
criterion_main!(benches);
