//! 5 % loss injected on webrtc-rs's link to Chromium (the relay between them) is measured as
//! 5 % ± 1.5 % by the browser: its getStats `packetsLost` of `packetsLost + packetsReceived`,
//! audio and video together. The call runs without NACK/RTX (`Recovery::None`), so what the
//! browser counts lost is what the link dropped, not what retransmission left; the relay's own
//! count of the media datagrams it dropped is checked against the same bar.

use callconf::media::browser_call::BrowserCallConfig;
use callconf::media::browser_receive;
use callconf::media::impair::LinkProfile;
use callconf::media::recovery::Recovery;

const LOSS_PCT: f64 = 5.0;
const TOLERANCE_PCT: f64 = 1.5;

#[test]
fn loss_on_webrtc_rss_link_to_chromium_is_measured_within_1_5_points() {
    let _serial = crate::serial();
    let config = BrowserCallConfig {
        warmup_seconds: 2.0,
        baseline_seconds: 1.0,
        seconds: 8.0,
        recovery: Recovery::None,
        link: LinkProfile {
            loss_pct: LOSS_PCT,
            ..LinkProfile::default()
        },
        ..BrowserCallConfig::default()
    };
    let report = crate::media_runtime()
        .block_on(browser_receive::run(&config))
        .expect("the browser call (install Debian's chromium: scripts/setup)");
    let w = &report.window;
    let table = w.table();
    eprintln!("{table}");
    assert!(
        !w.fell_behind,
        "the machine fell behind (figures would include its lag): run again on a quieter host\n{table}"
    );
    let (mut received, mut lost) = (0.0, 0.0);
    for (kind, s) in [("video", &w.video), ("audio", &w.audio)] {
        let s = s
            .as_ref()
            .unwrap_or_else(|| panic!("getStats: no inbound {kind}\n{table}"));
        assert!(s.packets_received > 100, "{kind}: too few packets\n{table}");
        received += s.packets_received as f64;
        lost += s.packets_lost as f64;
    }
    let measured = 100.0 * lost / (lost + received);
    let applied = w.link.loss_pct.expect("the relay counted media datagrams");
    eprintln!(
        "injected {LOSS_PCT} %, the link dropped {applied:.2} % of {} media datagrams, \
         Chromium's getStats {measured:.2} % of {} packets",
        w.link.offered,
        lost + received
    );
    assert!(
        (applied - LOSS_PCT).abs() <= TOLERANCE_PCT,
        "injected {LOSS_PCT} %, the link dropped {applied:.2} %\n{table}"
    );
    assert!(
        (measured - LOSS_PCT).abs() <= TOLERANCE_PCT,
        "injected {LOSS_PCT} %, Chromium measured {measured:.2} %\n{table}"
    );
}
