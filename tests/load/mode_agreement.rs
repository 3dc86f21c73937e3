//! One scenario, both modes: the virtual-time simulator and the real-time driver (real
//! WebSocket clients against the reference server) follow the same scenario through the same
//! device agent, so their outcome mixes agree within statistical bounds: answered, declined,
//! busy, unanswered (ring timeout) and cancelled calls, the caller's cancel racing the callee's
//! answer delay.

use std::collections::BTreeMap;
use std::sync::Arc;

use callconf::scenario;
use callconf::sim::{self, Control, Outcome, Shard};

const SCENARIO: &str = "
name: mode_agreement
population: { users: 400, cells: 1 }
calls:
  total: 600
  arrival: { kind: constant, rate_per_s: 300 }
  mix:
    - { share: 0.7, type: audio }
    - { share: 0.3, type: video }
callee:
  answer: 0.5
  decline: 0.2
  no_answer: 0.15
  busy: 0.15
  answer_delay_ms: { dist: uniform, min: 0, max: 400 }
  decline_delay_ms: { dist: constant, value: 50 }
caller:
  cancel: 0.3
  cancel_after_ms: { dist: constant, value: 200 }
talk_time_ms: { dist: constant, value: 100 }
limits: { ring_timeout_ms: 600 }
report: { interval_s: 1 }
";

fn shares(outcomes: &BTreeMap<Outcome, u64>) -> (u64, BTreeMap<Outcome, f64>) {
    let n: u64 = outcomes.values().sum();
    let s = outcomes
        .iter()
        .map(|(k, v)| (*k, *v as f64 / n.max(1) as f64))
        .collect();
    (n, s)
}

#[test]
fn the_outcome_mix_agrees_between_virtual_and_real_time() {
    let sc = scenario::parse(SCENARIO, "mode_agreement.yaml").unwrap();
    let virt = sim::run(&sc, 11, Shard::WHOLE, 1, &Control::new()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let real = rt
        .block_on(callconf::net::load::run(
            &sc,
            11,
            Arc::new(Control::new()),
            None,
            Shard::WHOLE,
        ))
        .unwrap();
    assert_eq!(real.stats.lost, 0);
    assert_eq!(real.stats.throttled, 0, "every arrival placed");
    let (nv, v) = shares(&virt.stats.outcomes);
    let (nr, r) = shares(&real.stats.outcomes);
    assert_eq!((nv, nr), (600, 600), "{v:?} {r:?}");
    eprintln!("virtual   {v:?}\nreal time {r:?}");
    // Each outcome's share: a two-sample difference within 4 standard errors (and a point for
    // the real run's timing: a cancel at 200 ms races answers drawn up to 400 ms).
    for o in v.keys().chain(r.keys()) {
        let (pv, pr) = (
            v.get(o).copied().unwrap_or(0.0),
            r.get(o).copied().unwrap_or(0.0),
        );
        let p = (pv + pr) / 2.0;
        let se = (p * (1.0 - p) * (1.0 / nv as f64 + 1.0 / nr as f64)).sqrt();
        assert!(
            (pv - pr).abs() <= 4.0 * se + 0.01,
            "{o:?}: virtual {pv:.3}, real time {pr:.3}\nvirtual {v:?}\nreal time {r:?}"
        );
    }
    // The scenario exercises every outcome it names.
    for o in [
        Outcome::Completed,
        Outcome::Declined,
        Outcome::Busy,
        Outcome::Cancelled,
    ] {
        assert!(r.get(&o).copied().unwrap_or(0.0) > 0.02, "{o:?}: {r:?}");
    }
}
