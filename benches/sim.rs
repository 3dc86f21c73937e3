//! The deterministic simulator: full 1:1 call lifecycles (arrival, place, ring, answer, talk,
//! hang up, with network delay) per second of CPU, one cell on one thread.

use callconf::scenario;
use callconf::sim::{self, Control, Shard};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CALLS: u64 = 20_000;

fn simulate(c: &mut Criterion) {
    let text = std::fs::read_to_string("scenarios/million.yaml").expect("run from the crate root");
    let mut sc = scenario::parse(&text, "scenarios/million.yaml").expect("million.yaml is valid");
    sc.calls.total = Some(CALLS);
    sc.population.cells = 1;
    sc.population.users = 40_000;
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(CALLS));
    g.sample_size(20);
    g.bench_function("one_cell_1to1_lifecycles", |b| {
        b.iter(|| {
            let control = Control::new();
            let r = sim::run(&sc, 42, Shard::WHOLE, 1, &control).expect("runs");
            assert_eq!(r.stats.started, CALLS);
            r.stats.succeeded
        });
    });
    g.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
