//! The real-time driver's devices take their steps from the device agent, as the simulator's do:
//! both sides start the media session after the answer (calls reach `connected`), the caller
//! cancels on its script, and declines wait the decline delay, not the answer delay.

use std::sync::Arc;
use std::time::Duration;

use callconf::net::load::{self, RealtimeRun};
use callconf::scenario;
use callconf::sim::{Control, Outcome};

fn run(yaml: &str) -> RealtimeRun {
    let sc = scenario::parse(yaml, "realtime_agent.yaml").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(load::run(
        &sc,
        5,
        Arc::new(Control::new()),
        None,
        callconf::sim::Shard::WHOLE,
    ))
    .unwrap()
}

/// 20 users, 30 calls at 100/s, the callee's behaviour and the caller's script as given.
fn scenario(callee: &str, rest: &str) -> String {
    format!(
        "
name: realtime_agent
population: {{ users: 20, cells: 1 }}
calls:
  total: 30
  arrival: {{ kind: constant, rate_per_s: 100 }}
  mix:
    - {{ share: 0.5, type: audio }}
    - {{ share: 0.5, type: video }}
callee: {callee}
{rest}
"
    )
}

fn only(run: &RealtimeRun, outcome: Outcome) {
    let stats = &run.stats;
    assert_eq!(stats.lost, 0);
    assert_eq!(stats.started + stats.throttled, 30);
    assert_eq!(
        stats.outcomes.get(&outcome).copied(),
        Some(stats.started),
        "{:?}",
        stats.outcomes
    );
}

#[test]
fn answered_calls_reach_connected() {
    let r = run(&scenario(
        "{ answer: 1.0, decline: 0.0, no_answer: 0.0, busy: 0.0, \
         answer_delay_ms: { dist: constant, value: 0 } }",
        "talk_time_ms: { dist: constant, value: 200 }",
    ));
    only(&r, Outcome::Completed);
    assert_eq!(
        r.connected, r.stats.started,
        "both sides started the session"
    );
    // place, ringing, accept, two session starts, hang up.
    assert_eq!(r.stats.requests, 6 * r.stats.started);
}

#[test]
fn the_caller_cancels_on_its_script() {
    let r = run(&scenario(
        "{ answer: 0.0, decline: 0.0, no_answer: 1.0, busy: 0.0 }",
        "caller: { cancel: 1.0, cancel_after_ms: { dist: constant, value: 100 } }
limits: { ring_timeout_ms: 20000 }",
    ));
    only(&r, Outcome::Cancelled);
    assert_eq!(r.connected, 0);
    // place, ringing, cancel.
    assert_eq!(r.stats.requests, 3 * r.stats.started);
    // 30 arrivals over 0.3 s, each cancelled after 0.1 s: far from the 20 s ring timeout.
    assert!(r.wall < Duration::from_secs(5), "{:?}", r.wall);
}

#[test]
fn declines_wait_the_decline_delay_not_the_answer_delay() {
    let r = run(&scenario(
        "{ answer: 0.0, decline: 0.5, no_answer: 0.0, busy: 0.5, \
         answer_delay_ms: { dist: constant, value: 30000 }, \
         decline_delay_ms: { dist: constant, value: 50 } }",
        "",
    ));
    let stats = &r.stats;
    assert_eq!(stats.lost, 0);
    let declined = stats.outcomes.get(&Outcome::Declined).copied().unwrap_or(0);
    let busy = stats.outcomes.get(&Outcome::Busy).copied().unwrap_or(0);
    assert_eq!(declined + busy, stats.started, "{:?}", stats.outcomes);
    assert!(declined > 0 && busy > 0, "{:?}", stats.outcomes);
    assert!(r.wall < Duration::from_secs(10), "{:?}", r.wall);
}

#[test]
fn in_call_actions_follow_the_script() {
    let r = run(&scenario(
        "{ answer: 1.0, decline: 0.0, no_answer: 0.0, busy: 0.0, \
         answer_delay_ms: { dist: constant, value: 0 } }",
        "talk_time_ms: { dist: constant, value: 400 }
actions: { hold: 1.0, hold_ms: { dist: constant, value: 50 }, mute: 1.0, dtmf: 1.0, transfer: 1.0 }",
    ));
    only(&r, Outcome::Completed);
    assert_eq!(r.connected, r.stats.started);
    // The six of every call, then hold, unhold, mute and DTMF; no transfer between two apps.
    assert_eq!(r.stats.requests, 10 * r.stats.started);
}
