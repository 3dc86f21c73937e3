//! Freezes with loss recovery: on a clean link nothing is retransmitted and the video never
//! freezes; under loss with a long round trip, the decoder waits for each retransmission, and
//! each such stall longer than `FREEZE_GAP_MS` is counted as a freeze, at most one per packet
//! recovered (a stall needs a repair to end) and never a give-up (no frame skipped).

use std::time::Duration;

use callconf::media::impair::LinkProfile;
use callconf::media::stream::Kind;

#[test]
fn stalls_for_retransmissions_are_counted_as_freezes_and_a_clean_link_has_none() {
    let _serial = crate::serial();
    crate::runtime().block_on(async {
        let s = crate::alice_calls_bob(true).await;
        s.impair(
            "alice",
            "bob",
            LinkProfile {
                delay_ms: 150.0,
                loss_pct: 5.0,
                ..LinkProfile::default()
            },
        )
        .expect("impair");
        s.run_for(Duration::from_secs(1)).await;
        s.reset_measurements();
        s.run_for(Duration::from_secs(8)).await;
        let r = s.report();
        s.close().await;
        let t = r.table();
        let lossy = r.stream("alice", "bob", Kind::Video).expect("alice→bob");
        assert!(lossy.freezes >= 1, "no stall counted\n{t}");
        assert!(lossy.freezes <= lossy.packets_recovered, "{t}");
        let clean = r.stream("bob", "alice", Kind::Video).expect("bob→alice");
        assert_eq!(
            (clean.freezes, clean.retransmissions_sent, clean.plis_sent),
            (0, 0, 0),
            "{t}"
        );
    });
}
