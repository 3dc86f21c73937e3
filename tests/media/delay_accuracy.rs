//! Injected one-way delay of 0, 50, 150 and 300 ms is measured back within ±5 ms, for video
//! (frame number read from the decoded picture) and audio (RTP timestamp), on one call whose
//! link profile changes between measurement windows.

use std::time::Duration;

use callconf::media::impair::LinkProfile;
use callconf::media::stream::Kind;

const TOLERANCE_MS: f64 = 5.0;

#[test]
fn injected_delay_is_measured_within_5_ms() {
    let _serial = crate::serial();
    crate::runtime().block_on(async {
        let s = crate::alice_calls_bob(true).await;
        s.run_for(Duration::from_secs(1)).await;
        s.reset_measurements();
        s.run_for(Duration::from_secs(2)).await;
        let base = s.report();
        assert!(!base.fell_behind, "baseline window fell behind:\n{}", base.table());
        let median = |r: &callconf::media::report::MediaReport, k: Kind| {
            r.stream("alice", "bob", k)
                .and_then(|st| st.latency_ms)
                .unwrap_or_else(|| panic!("no {k} latency:\n{}", r.table()))
                .median
        };
        let base_video = median(&base, Kind::Video);
        let base_audio = median(&base, Kind::Audio);
        let mut lines = Vec::new();
        for delay in [0.0, 50.0, 150.0, 300.0] {
            s.impair(
                "alice",
                "bob",
                LinkProfile {
                    delay_ms: delay,
                    ..LinkProfile::default()
                },
            )
            .expect("impair");
            s.run_for(Duration::from_millis(700 + 2 * delay as u64)).await;
            s.reset_measurements();
            s.run_for(Duration::from_secs(2)).await;
            let r = s.report();
            assert!(!r.fell_behind, "fell behind at {delay} ms:\n{}", r.table());
            for (k, base) in [(Kind::Video, base_video), (Kind::Audio, base_audio)] {
                let added = median(&r, k) - base;
                lines.push(format!("{k} {delay} ms → +{added:.1} ms"));
                assert!(
                    (added - delay).abs() <= TOLERANCE_MS,
                    "{k}: injected {delay} ms, measured +{added:.1} ms over the baseline {base:.1} ms\n{}",
                    r.table()
                );
            }
        }
        eprintln!("baseline video {base_video:.1} ms, audio {base_audio:.1} ms; {lines:?}");
        s.close().await;
    });
}
