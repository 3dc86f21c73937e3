//! The load simulator as a user sees it: scenarios load or fail with a position, runs replay
//! byte for byte, shards merge into the single run, thresholds decide.

mod bad_input;
mod determinism;
mod golden;
mod mode_agreement;
mod realtime;
mod realtime_adapter;
mod realtime_adapter_silent;
mod realtime_adapter_target;
mod realtime_adapter_unfit;
mod realtime_agent;
mod realtime_file_limit;
mod realtime_ring_timeout;
mod realtime_target;
mod scenarios;
mod shards;

use callconf::report::Report;
use callconf::scenario::{self, Scenario};
use callconf::sim::{self, Control, Shard};

/// The smoke scenario, shrunk so debug-build tests stay fast.
pub fn small() -> Scenario {
    let text = std::fs::read_to_string("scenarios/smoke.yaml").unwrap();
    let mut sc = scenario::parse(&text, "scenarios/smoke.yaml").unwrap();
    sc.calls.total = Some(400);
    sc
}

pub fn run(sc: &Scenario, seed: u64, shard: Shard, threads: usize) -> Report {
    let control = Control::new();
    let r = sim::run(sc, seed, shard, threads, &control).unwrap();
    Report::new(&sc.name, "virtual", &r, sc.population.cells, &sc.thresholds)
}
