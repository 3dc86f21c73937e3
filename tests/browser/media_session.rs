//! A media session with one participant's media in Chromium measures both directions with the
//! same report as an all-webrtc-rs session: what Chromium sends is decoded and compared by
//! callconf (latency, PSNR, the tone); what it receives is reported by its page (latency from
//! the marks of the frames it shows, packets from getStats). A session whose browser
//! participant is not a participant is refused naming the field.

use std::time::Duration;

use callconf::media::session::{MediaConfig, MediaSession};
use callconf::media::stream::Kind;

#[test]
fn both_directions_of_a_browser_participant_are_in_the_report() {
    let _serial = crate::serial();
    crate::media_runtime().block_on(async {
        let config = MediaConfig {
            browser: Some("alice".into()),
            ..MediaConfig::default()
        };
        let s = MediaSession::start(config, &["alice", "bob"])
            .await
            .expect("a session with alice in Chromium (scripts/setup installs chromium)");
        s.place("alice", &["bob"], true).await.expect("alice calls");
        s.accept("bob").await.expect("bob accepts");
        for (from, to) in [("alice", "bob"), ("bob", "alice")] {
            let first = s
                .wait_for_media(from, to, Kind::Video, Duration::from_secs(5))
                .await;
            assert!(first.is_some(), "{to} showed no video from {from}");
        }
        s.reset_measurements();
        s.run_for(Duration::from_secs(3)).await;
        let r = s.report();
        let page_errors = s.page_errors();
        s.close().await;
        eprintln!("{}", r.table());
        assert!(page_errors.is_empty(), "{page_errors:?}");
        assert!(r.failures.is_empty(), "{:?}\n{}", r.failures, r.table());
        let video = |from, to| {
            r.stream(from, to, Kind::Video)
                .unwrap_or_else(|| panic!("no video {from}→{to}:\n{}", r.table()))
        };
        let sent = video("alice", "bob");
        let psnr = sent.psnr_db.expect("PSNR of Chromium's frames").median;
        assert!(psnr >= 30.0, "PSNR {psnr:.1} dB:\n{}", r.table());
        let received = video("bob", "alice");
        let latency = received
            .latency_ms
            .expect("latency of the frames the page showed");
        assert!(
            latency.count >= 30,
            "{} frames in 3 s:\n{}",
            latency.count,
            r.table()
        );
        assert!(
            latency.median > 0.0 && latency.median < 150.0,
            "capture → shown in Chromium, median {:.1} ms:\n{}",
            latency.median,
            r.table()
        );
        let tone = r
            .stream("alice", "bob", Kind::Audio)
            .expect("audio alice→bob");
        assert_eq!(tone.tone_matches_sender, Some(true), "{}", r.table());
    });
}

#[test]
fn a_browser_participant_who_is_not_a_participant_is_refused() {
    crate::media_runtime().block_on(async {
        let config = MediaConfig {
            browser: Some("carol".into()),
            ..MediaConfig::default()
        };
        let refused = MediaSession::start(config, &["alice", "bob"]).await;
        let e = refused.err().expect("refused");
        assert!(e.to_string().contains("browser"), "{e}");
        assert!(e.to_string().contains("carol"), "{e}");
    });
}
