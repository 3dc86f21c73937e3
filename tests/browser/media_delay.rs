//! One-way delay injected on the browser's link (the relay between Chromium and webrtc-rs) is
//! measured back within ±5 ms: the impaired window's video latency minus the unimpaired
//! baseline's, on one call.

use callconf::media::browser_call::{self, BROWSER, BrowserCallConfig, WEBRTC_RS};
use callconf::media::impair::LinkProfile;
use callconf::media::stream::Kind;

const DELAY_MS: f64 = 50.0;
const TOLERANCE_MS: f64 = 5.0;

#[test]
fn delay_on_the_browsers_link_is_measured_within_5_ms() {
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
        .block_on(browser_call::run(&config))
        .expect("the browser call (install Debian's chromium: scripts/setup)");
    let base = report.baseline.as_ref().expect("a baseline window");
    let r = &report.media;
    eprintln!("baseline\n{}\nimpaired\n{}", base.table(), r.table());
    for w in [base, r] {
        assert!(
            !w.fell_behind,
            "the machine fell behind (figures would include its lag): run again on a quieter host\n{}",
            w.table()
        );
    }
    let median = |m: &callconf::media::report::MediaReport| {
        m.stream(BROWSER, WEBRTC_RS, Kind::Video)
            .and_then(|s| s.latency_ms)
            .unwrap_or_else(|| panic!("no video latency:\n{}", m.table()))
            .median
    };
    let added = median(r) - median(base);
    eprintln!("injected {DELAY_MS} ms, measured +{added:.1} ms");
    assert!(
        (added - DELAY_MS).abs() <= TOLERANCE_MS,
        "injected {DELAY_MS} ms, measured +{added:.1} ms over the baseline {:.1} ms",
        median(base)
    );
}
