//! Core transitions, with no I/O: how fast the lifecycle state machine itself is.

use std::hint::black_box;

use callconf::core::{
    CallId, CallType, Core, DeviceId, Limits, Op, PlaceCall, Reply, UserConfig, UserId,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// A core with `n` users of one connected device each (`u0`..), in group `g`.
fn core_with(n: usize) -> (Core, Vec<DeviceId>) {
    let mut core = Core::new(Limits::default());
    let mut devices = Vec::new();
    let mut users = Vec::new();
    for i in 0..n {
        let u = core
            .add_user(&format!("u{i}"), UserConfig::default())
            .unwrap();
        let d = core.add_device(&u, "phone").unwrap();
        core.handle_connect(0, d).unwrap();
        devices.push(d);
        users.push(u);
    }
    core.add_group("g", &users).unwrap();
    (core, devices)
}

fn drain(core: &mut Core) -> usize {
    let mut n = 0;
    while let Some(d) = core.poll_event() {
        black_box(d);
        n += 1;
    }
    n
}

fn placed(r: Result<Reply, callconf::core::CallError>) -> CallId {
    match r {
        Ok(Reply::Placed { call, .. }) => call,
        other => panic!("{other:?}"),
    }
}

/// place, ringing, accept, start_session ×2, hangup — with every event drained.
fn one_to_one(core: &mut Core, a: DeviceId, b: DeviceId, to: &UserId, t: u64) {
    let call = placed(core.handle_request(
        t,
        a,
        Op::Place(PlaceCall::direct(to.clone(), CallType::Video)),
    ));
    core.handle_request(t, b, Op::ringing(call)).unwrap();
    core.handle_request(t, b, Op::accept(call)).unwrap();
    core.handle_request(t, a, Op::StartSession { call })
        .unwrap();
    core.handle_request(t, b, Op::StartSession { call })
        .unwrap();
    core.handle_request(t, a, Op::hangup(call)).unwrap();
    drain(core);
}

fn transitions(c: &mut Criterion) {
    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(1));

    g.bench_function("place_1to1", |bench| {
        bench.iter_batched(
            || core_with(2),
            |(mut core, d)| {
                let call = core.handle_request(
                    0,
                    d[0],
                    Op::Place(PlaceCall::direct("u1", CallType::Audio)),
                );
                drain(&mut core);
                (core, call)
            },
            BatchSize::SmallInput,
        );
    });

    g.bench_function("accept", |bench| {
        bench.iter_batched(
            || {
                let (mut core, d) = core_with(2);
                let call = placed(core.handle_request(
                    0,
                    d[0],
                    Op::Place(PlaceCall::direct("u1", CallType::Audio)),
                ));
                drain(&mut core);
                (core, d, call)
            },
            |(mut core, d, call)| {
                core.handle_request(0, d[1], Op::accept(call)).unwrap();
                drain(&mut core);
                core
            },
            BatchSize::SmallInput,
        );
    });

    g.bench_function("ring_timeout", |bench| {
        bench.iter_batched(
            || {
                let (mut core, d) = core_with(2);
                core.handle_request(0, d[0], Op::Place(PlaceCall::direct("u1", CallType::Audio)))
                    .unwrap();
                drain(&mut core);
                core
            },
            |mut core| {
                let t = core.poll_timeout().unwrap();
                core.handle_timeout(t);
                drain(&mut core);
                core
            },
            BatchSize::SmallInput,
        );
    });

    g.bench_function("full_1to1_lifecycle", |bench| {
        let (mut core, d) = core_with(2);
        let to = UserId::new("u1");
        let mut t = 0;
        bench.iter(|| {
            t += 1;
            one_to_one(&mut core, d[0], d[1], &to, t);
        });
    });

    g.bench_function("full_group_lifecycle_8", |bench| {
        let (mut core, d) = core_with(8);
        let invitees: Vec<UserId> = (1..8).map(|i| UserId::new(&format!("u{i}"))).collect();
        bench.iter(|| {
            let place = PlaceCall::group("g", invitees.clone(), CallType::Video);
            let call = placed(core.handle_request(0, d[0], Op::Place(place)));
            for &dev in &d[1..] {
                core.handle_request(0, dev, Op::ringing(call)).unwrap();
                core.handle_request(0, dev, Op::accept(call)).unwrap();
                core.handle_request(0, dev, Op::StartSession { call })
                    .unwrap();
            }
            core.handle_request(0, d[0], Op::EndForAll { call })
                .unwrap();
            drain(&mut core)
        });
    });
    g.finish();
}

criterion_group!(benches, transitions);
criterion_main!(benches);
