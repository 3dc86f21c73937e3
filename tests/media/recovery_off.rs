//! With loss recovery off (`Recovery::None`: no RTCP feedback negotiated), nothing is
//! retransmitted and no key frame is asked for: the loss left is the loss the link applied,
//! and the picture is decoded past lost packets (lower quality than with recovery).

use std::time::Duration;

use callconf::media::impair::LinkProfile;
use callconf::media::recovery::Recovery;
use callconf::media::session::{MediaConfig, MediaSession};
use callconf::media::stream::Kind;

#[test]
fn without_recovery_the_applied_loss_stays_lost() {
    let _serial = crate::serial();
    crate::runtime().block_on(async {
        let config = MediaConfig {
            recovery: Recovery::None,
            ..MediaConfig::default()
        };
        let s = MediaSession::start(config, &["alice", "bob"])
            .await
            .expect("session");
        s.place("alice", &["bob"], true).await.expect("place");
        s.accept("bob").await.expect("accept");
        let profile = LinkProfile {
            delay_ms: 150.0,
            loss_pct: 5.0,
            ..LinkProfile::default()
        };
        s.impair("alice", "bob", profile).expect("impair");
        s.run_for(Duration::from_secs(1)).await;
        s.reset_measurements();
        s.run_for(Duration::from_secs(10)).await;
        let r = s.report();
        s.close().await;
        let v = r.stream("alice", "bob", Kind::Video).expect("video stream");
        let t = r.table();
        // 5% holds over the direction's datagrams, not stream by stream (see recovery_on).
        let applied = r.packet_loss("alice", "bob").expect("packets arrived").pct;
        assert!(
            (applied - 5.0).abs() <= 1.5,
            "applied loss {applied:.2}%\n{t}"
        );
        assert!(
            v.packet_loss_pct > 0.0,
            "the video stream lost packets\n{t}"
        );
        assert_eq!(v.residual_loss_pct, v.packet_loss_pct, "{t}");
        assert_eq!(
            (v.packets_recovered, v.retransmissions_sent, v.plis_sent),
            (0, 0, 0),
            "{t}"
        );
        assert!(
            v.frames_incomplete > 0,
            "lost packets cost whole frames\n{t}"
        );
        // Decoding past a loss shows: latency stays one trip, but frames are missing.
        assert!(v.frame_loss_pct >= 2.0, "{t}");
    });
}
