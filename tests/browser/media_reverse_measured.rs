//! What callconf's webrtc-rs peer sends, Chromium decodes and reports: every frame the page
//! showed carries webrtc-rs's mark, its luma (every 10th frame, sent back by the page) matches
//! callconf's picture of that frame (PSNR ≥ 30 dB unimpaired), the capture → decoded latency
//! comes out of the page's times, and the page's getStats counts the decoded video and the
//! audio it received.

use callconf::media::browser_call::BrowserCallConfig;
use callconf::media::browser_receive;

#[test]
fn what_chromium_decodes_of_webrtc_rs_is_measured() {
    let _serial = crate::serial();
    let config = BrowserCallConfig {
        warmup_seconds: 2.0,
        seconds: 5.0,
        ..BrowserCallConfig::default()
    };
    let report = crate::media_runtime()
        .block_on(browser_receive::run(&config))
        .expect("the browser call (install Debian's chromium: scripts/setup)");
    let w = &report.window;
    let table = w.table();
    eprintln!("{table}");
    eprintln!(
        "{}",
        serde_json::to_string(&report).expect("report as JSON")
    );
    assert!(
        !w.fell_behind,
        "the machine fell behind (figures would include its lag): run again on a quieter host\n{table}"
    );
    assert!(report.page_errors.is_empty(), "{:?}", report.page_errors);
    // 5 s of 30 fps: most frames shown with webrtc-rs's mark, none of another sender.
    assert!(w.frames_reported >= 120, "{table}");
    assert_eq!(w.frames_from_wrong_sender, 0, "{table}");
    assert_eq!(w.frames_not_logged, 0, "{table}");
    let psnr = w.psnr_db.expect("PSNR measured");
    assert!(psnr.count >= 10, "{table}");
    assert!(psnr.median >= 30.0, "PSNR {:.1} dB\n{table}", psnr.median);
    assert!(w.ssim.expect("SSIM measured").median >= 0.9, "{table}");
    let latency = w.latency_ms.expect("latency measured");
    assert!(
        latency.count >= 100 && latency.median > 0.0 && latency.median < 200.0,
        "{latency:?}\n{table}"
    );
    let video = w.video.as_ref().expect("getStats: inbound video");
    assert!(video.frames_decoded.unwrap_or(0) >= 120, "{table}");
    assert!(video.loss_pct.unwrap_or(100.0) <= 1.0, "{table}");
    let audio = w.audio.as_ref().expect("getStats: inbound audio");
    // 5 s of 20 ms Opus packets.
    assert!(audio.packets_received >= 200, "{table}");
    assert!(audio.loss_pct.unwrap_or(100.0) <= 1.0, "{table}");
    // The tone plays out (its frequency is not checked in this direction).
    assert!(audio.audio_level.unwrap_or(0.0) > 0.1, "{table}");
}
