//! The real-time mode: calls placed in wall-clock time through WebSocket connections to the
//! reference server over loopback, every one ending with its scripted outcome.

use std::sync::Arc;

use callconf::scenario;
use callconf::sim::{Control, Outcome};

#[test]
fn calls_complete_over_loopback_websockets() {
    let text = std::fs::read_to_string("scenarios/realtime_9000.yaml").unwrap();
    let mut sc = scenario::parse(&text, "scenarios/realtime_9000.yaml").unwrap();
    sc.population.users = 50;
    sc.calls.total = Some(200);
    sc.calls.arrival = scenario::Arrival::Constant { rate_per_s: 400.0 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let callconf::net::load::RealtimeRun { stats, .. } = rt
        .block_on(callconf::net::load::run(
            &sc,
            1,
            Arc::new(Control::new()),
            None,
            callconf::sim::Shard::WHOLE,
        ))
        .unwrap();
    assert_eq!(stats.started + stats.throttled, 200);
    assert_eq!(stats.lost, 0);
    assert_eq!(stats.failed, 0);
    assert_eq!(
        stats.outcomes.get(&Outcome::Completed).copied(),
        Some(stats.started)
    );
    // place, ringing, accept, a session start on each side, hang up per call; every call also
    // delivers its events.
    assert_eq!(stats.requests, 6 * stats.started);
    assert!(
        stats.deliveries >= 6 * stats.started,
        "{}",
        stats.deliveries
    );
}

#[test]
fn group_calls_are_refused_in_realtime_mode() {
    let text = std::fs::read_to_string("scenarios/group_heavy.yaml").unwrap();
    let sc = scenario::parse(&text, "scenarios/group_heavy.yaml").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(callconf::net::load::run(
            &sc,
            1,
            Arc::new(Control::new()),
            None,
            callconf::sim::Shard::WHOLE,
        ))
        .err()
        .unwrap();
    assert!(err.to_string().contains("1:1 calls only"), "{err}");
}
