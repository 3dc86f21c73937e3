//! What Chromium sends is measured by callconf's analysers like any other stream: every
//! decoded frame is the browser's (its mark), its picture matches the fake capture's frame of
//! that number (PSNR ≥ 30 dB unimpaired), its capture → decode latency is measured from the
//! capture time the page reported, and the audio is the participant's tone.

use callconf::media::browser_call::{self, BROWSER, BrowserCallConfig, WEBRTC_RS};
use callconf::media::stream::Kind;

#[test]
fn chromiums_media_is_measured_by_callconfs_analysers() {
    let _serial = crate::serial();
    let config = BrowserCallConfig {
        warmup_seconds: 2.0,
        seconds: 5.0,
        ..BrowserCallConfig::default()
    };
    let report = crate::media_runtime()
        .block_on(browser_call::run(&config))
        .expect("the browser call (install Debian's chromium: scripts/setup)");
    let r = &report.media;
    let table = r.table();
    eprintln!("{table}");
    eprintln!(
        "{}",
        serde_json::to_string(&report).expect("report as JSON")
    );
    assert!(
        !r.fell_behind,
        "the machine fell behind (figures would include its lag): run again on a quieter host\n{table}"
    );
    assert!(report.page_errors.is_empty(), "{:?}", report.page_errors);
    let video = r.stream(BROWSER, WEBRTC_RS, Kind::Video).expect("video");
    let audio = r.stream(BROWSER, WEBRTC_RS, Kind::Audio).expect("audio");
    // 5 s of 30 fps: most frames decoded, none of another sender, none unmarked.
    assert!(video.frames_decoded >= 120, "{table}");
    assert_eq!(video.frames_from_wrong_sender, 0, "{table}");
    assert_eq!(video.frames_unmarked, 0, "{table}");
    // Frames the browser's encoder dropped (its rate control) count as not decoded.
    assert!(video.frame_loss_pct <= 10.0, "{table}");
    let psnr = video.psnr_db.expect("PSNR measured").median;
    assert!(psnr >= 30.0, "PSNR {psnr:.1} dB\n{table}");
    assert!(video.ssim.expect("SSIM measured").median >= 0.9, "{table}");
    // The page reported capture times for most frames, and latency came out of them.
    assert!(report.captures_reported >= 120, "{report:?}");
    let latency = video.latency_ms.expect("latency measured");
    assert!(
        latency.count >= 100 && latency.median > 0.0 && latency.median < 200.0,
        "{latency:?}\n{table}"
    );
    assert_eq!(audio.tone_matches_sender, Some(true), "{table}");
    assert!(audio.packet_loss_pct <= 1.0, "{table}");
}
