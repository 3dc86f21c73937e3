//! The same scenario and seed give a byte-identical JSON report, whatever the thread count.

use callconf::sim::Shard;

use crate::{run, small};

#[test]
fn same_seed_same_bytes_across_runs_and_thread_counts() {
    let sc = small();
    let a = run(&sc, 7, Shard::WHOLE, 1).to_json();
    let b = run(&sc, 7, Shard::WHOLE, 2).to_json();
    let c = run(&sc, 7, Shard::WHOLE, 4).to_json();
    assert_eq!(a, b);
    assert_eq!(a, c);
    let other = run(&sc, 8, Shard::WHOLE, 2).to_json();
    assert_ne!(a, other, "a different seed gives a different run");
}

#[test]
fn every_started_call_has_exactly_one_outcome() {
    let sc = small();
    let r = run(&sc, 7, Shard::WHOLE, 2);
    let outcomes: u64 = r.outcomes.values().sum();
    assert_eq!(r.calls.started, 400);
    assert_eq!(outcomes + r.calls.lost, r.calls.started);
    assert_eq!(r.calls.lost, 0);
    assert_eq!(r.calls.succeeded + r.calls.failed, outcomes);
    let rows: u64 = r.timeseries.iter().map(|row| row.interval.ended).sum();
    assert_eq!(rows, outcomes, "the time series accounts for every end");
}
