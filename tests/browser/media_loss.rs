//! 5 % loss injected on the browser's link (the relay between Chromium and webrtc-rs) is
//! measured as 5 % ± 1.5 % by the receiver (first transmissions missing from the RTP sequence
//! numbers of the browser's audio and video together; retransmissions do not count).

use callconf::media::browser_call::{self, BROWSER, BrowserCallConfig, WEBRTC_RS};
use callconf::media::impair::LinkProfile;
use callconf::media::stream::Kind;

const LOSS_PCT: f64 = 5.0;
const TOLERANCE_PCT: f64 = 1.5;

#[test]
fn loss_on_the_browsers_link_is_measured_within_1_5_points() {
    let _serial = crate::serial();
    let config = BrowserCallConfig {
        warmup_seconds: 2.0,
        baseline_seconds: 1.0,
        seconds: 8.0,
        link: LinkProfile {
            loss_pct: LOSS_PCT,
            ..LinkProfile::default()
        },
        ..BrowserCallConfig::default()
    };
    let report = crate::media_runtime()
        .block_on(browser_call::run(&config))
        .expect("the browser call (install Debian's chromium: scripts/setup)");
    let r = &report.media;
    let table = r.table();
    eprintln!("{table}");
    assert!(
        !r.fell_behind,
        "the machine fell behind (figures would include its lag): run again on a quieter host\n{table}"
    );
    let (mut expected, mut missing) = (0.0, 0.0);
    for kind in [Kind::Audio, Kind::Video] {
        let s = r.stream(BROWSER, WEBRTC_RS, kind).expect("stream");
        assert!(s.packets_expected > 100, "{kind}: too few packets\n{table}");
        expected += s.packets_expected as f64;
        missing += s.packets_expected as f64 * s.packet_loss_pct / 100.0;
    }
    let measured = 100.0 * missing / expected;
    eprintln!("injected {LOSS_PCT} %, measured {measured:.2} % over {expected} packets");
    assert!(
        (measured - LOSS_PCT).abs() <= TOLERANCE_PCT,
        "injected {LOSS_PCT} %, measured {measured:.2} %\n{table}"
    );
}
