//! Ring timeouts of calls placed over the wire fire on time. Wire requests reach the core on the
//! connection's own task, so the server task learns of a sooner deadline only when told; a lost
//! wakeup would leave every unanswered call ringing until the drain gives up and counts it lost.

use std::sync::Arc;
use std::time::Duration;

use callconf::scenario;
use callconf::sim::{Control, Outcome};

const SCENARIO: &str = "
name: realtime_no_answer
seed: 3
population: { users: 20, cells: 1 }
calls:
  total: 30
  arrival: { kind: constant, rate_per_s: 100 }
callee:
  answer: 0.0
  decline: 0.0
  no_answer: 1.0
  busy: 0.0
  answer_delay_ms: { dist: constant, value: 0 }
talk_time_ms: { dist: constant, value: 0 }
limits: { ring_timeout_ms: 300 }
";

#[test]
fn unanswered_wire_calls_end_at_the_ring_timeout() {
    let sc = scenario::parse(SCENARIO, "realtime_no_answer.yaml").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let callconf::net::load::RealtimeRun { stats, wall, .. } = rt
        .block_on(callconf::net::load::run(
            &sc,
            3,
            Arc::new(Control::new()),
            None,
            callconf::sim::Shard::WHOLE,
        ))
        .unwrap();
    assert_eq!(stats.lost, 0);
    assert_eq!(stats.started + stats.throttled, 30);
    assert_eq!(
        stats.outcomes.get(&Outcome::NoAnswer).copied(),
        Some(stats.started),
        "{:?}",
        stats.outcomes
    );
    // 30 arrivals over 0.3 s, each ringing 0.3 s: well under the drain's 120 s grace.
    assert!(wall < Duration::from_secs(5), "{wall:?}");
}
