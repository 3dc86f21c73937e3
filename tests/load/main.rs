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
mod realtime_mux;
mod realtime_mux_target;
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

/// A small 1:1 scenario with muting, for the `load --adapter` tests of unfit and broken adapters.
const ADAPTER_SCENARIO: &str = "name: adapter_one_to_one
seed: 5
population: { users: 20, cells: 1 }
calls:
  total: 20
  arrival: { kind: constant, rate_per_s: 100 }
callee: { answer: 1.0, decline: 0.0, no_answer: 0.0, busy: 0.0,
          answer_delay_ms: { dist: constant, value: 0 } }
talk_time_ms: { dist: constant, value: 0 }
actions: { mute: 0.5 }
";

/// [`ADAPTER_SCENARIO`], written to a file of its own for the test named `test`.
pub fn adapter_scenario_file(test: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("callconf-{test}-{}.yaml", std::process::id()));
    std::fs::write(&path, ADAPTER_SCENARIO).unwrap();
    path
}
