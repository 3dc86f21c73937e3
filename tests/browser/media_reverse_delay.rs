//! One-way delay injected on webrtc-rs's link to Chromium (the relay between them) is measured
//! back within ±5 ms by what the page reports: the impaired window's capture → decoded latency
//! minus the unimpaired baseline's, on one call.

use callconf::media::browser_call::BrowserCallConfig;
use callconf::media::browser_receive::{self, ReceiveWindow};
use callconf::media::impair::LinkProfile;

const DELAY_MS: f64 = 50.0;
const TOLERANCE_MS: f64 = 5.0;

#[test]
fn delay_on_webrtc_rss_link_to_chromium_is_measured_within_5_ms() {
    let _serial = crate::serial();
    let config = BrowserCallConfig {
        warmup_seconds: 2.0,
        baseline_seconds: 3.0,
        seconds: 4.0,
        link: LinkProfile {
            delay_ms: DELAY_MS,
            ..LinkProfile::default()
        },
        ..BrowserCallConfig::default()
    };
    let report = crate::media_runtime()
        .block_on(browser_receive::run(&config))
        .expect("the browser call (install Debian's chromium: scripts/setup)");
    let base = report.baseline.as_ref().expect("a baseline window");
    let w = &report.window;
    eprintln!("baseline\n{}\nimpaired\n{}", base.table(), w.table());
    for x in [base, w] {
        assert!(
            !x.fell_behind,
            "the machine fell behind (figures would include its lag): run again on a quieter host\n{}",
            x.table()
        );
    }
    let median = |x: &ReceiveWindow| {
        x.latency_ms
            .unwrap_or_else(|| panic!("no latency:\n{}", x.table()))
            .median
    };
    let added = median(w) - median(base);
    eprintln!("injected {DELAY_MS} ms, measured +{added:.1} ms");
    assert!(
        (added - DELAY_MS).abs() <= TOLERANCE_MS,
        "injected {DELAY_MS} ms, measured +{added:.1} ms over the baseline {:.1} ms",
        median(base)
    );
}
