//! Injected jitter is measured back as the distribution the link model produces: on an
//! audio stream (one 20 ms packet at a time), 80 ms ± 20 ms of delay shows a median and a
//! p95 latency within a few milliseconds of what `LinkModel` predicts for the same packet
//! schedule (FIFO delivery included), on top of the unimpaired baseline.

use std::time::Duration;

use callconf::media::impair::{LinkModel, LinkProfile, Verdict};
use callconf::media::report::{MediaReport, Summary};
use callconf::media::stream::Kind;

const PROFILE: LinkProfile = LinkProfile {
    delay_ms: 80.0,
    jitter_ms: 20.0,
    loss_pct: 0.0,
    burst_len: 1.0,
    loss_model: callconf::media::impair::LossModel::Paced,
    bandwidth_kbps: 0.0,
};

/// The model's added delay for 20 ms audio packets, pooled over several seeds.
fn predicted() -> Summary {
    let mut added = Vec::new();
    for seed in 0..20 {
        let mut m = LinkModel::new(PROFILE, seed);
        for i in 0..500 {
            match m.offer(f64::from(i) * 20.0, 160) {
                Verdict::Deliver { after } => added.push(after.as_secs_f64() * 1000.0),
                other => panic!("no loss or cap set, got {other:?}"),
            }
        }
    }
    Summary::of(&added).expect("samples")
}

fn audio_latency(r: &MediaReport, from: &str, to: &str) -> Summary {
    r.stream(from, to, Kind::Audio)
        .and_then(|s| s.latency_ms)
        .unwrap_or_else(|| panic!("no audio latency {from}→{to}:\n{}", r.table()))
}

#[test]
fn jitter_is_measured_as_the_model_predicts() {
    let _serial = crate::serial();
    let want = predicted();
    crate::runtime().block_on(async {
        let s = crate::alice_calls_bob(false).await;
        s.run_for(Duration::from_secs(1)).await;
        s.reset_measurements();
        s.run_for(Duration::from_secs(2)).await;
        let base = s.report();
        assert!(!base.fell_behind, "baseline fell behind:\n{}", base.table());
        let base_median = audio_latency(&base, "alice", "bob").median;

        s.impair("alice", "bob", PROFILE).expect("impair");
        s.run_for(Duration::from_millis(500)).await;
        s.reset_measurements();
        s.run_for(Duration::from_secs(8)).await;
        let r = s.report();
        s.close().await;
        assert!(!r.fell_behind, "fell behind:\n{}", r.table());
        let got = audio_latency(&r, "alice", "bob");
        let (median, p95) = (got.median - base_median, got.p95 - base_median);
        let msg = format!(
            "measured +{median:.1} / p95 +{p95:.1} ms, model {:.1} / {:.1} ms (baseline {base_median:.1})\n{}",
            want.median,
            want.p95,
            r.table()
        );
        eprintln!("{}", msg.lines().next().unwrap_or_default());
        assert!((median - want.median).abs() <= 5.0, "median: {msg}");
        assert!((p95 - want.p95).abs() <= 8.0, "p95: {msg}");
        // Jitter widens the distribution: the spread is the link's, not the baseline's.
        assert!(got.p95 - got.min >= 25.0, "spread: {msg}");
    });
}
