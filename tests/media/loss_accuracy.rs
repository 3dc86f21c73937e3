//! 5% random datagram loss (paced: random positions, exact rate) is measured back as
//! 5% ± 1.5% packet loss from RTP sequence numbers, only on the impaired direction.

use std::time::Duration;

use callconf::media::impair::LinkProfile;

#[test]
fn five_percent_loss_is_measured_within_one_and_a_half_points() {
    let _serial = crate::serial();
    crate::runtime().block_on(async {
        let s = crate::alice_calls_bob(true).await;
        s.impair(
            "alice",
            "bob",
            LinkProfile {
                loss_pct: 5.0,
                ..LinkProfile::default()
            },
        )
        .expect("impair");
        s.run_for(Duration::from_millis(500)).await;
        s.reset_measurements();
        s.run_for(Duration::from_secs(12)).await;
        let r = s.report();
        let measured = r.packet_loss("alice", "bob").expect("packets arrived");
        let (loss, expected) = (measured.pct, measured.packets_expected);
        assert!(expected > 500.0, "too few packets to measure: {expected}");
        assert!(
            (loss - 5.0).abs() <= 1.5,
            "measured {loss:.2}% loss\n{}",
            r.table()
        );
        for st in r.streams.iter().filter(|st| st.from == "bob") {
            assert_eq!(
                st.packet_loss_pct,
                0.0,
                "unimpaired direction lost packets\n{}",
                r.table()
            );
        }
        s.close().await;
    });
}
