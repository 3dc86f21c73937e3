//! A Chromium → webrtc-rs media call works with nothing but `lo`: the test re-runs itself in a
//! network namespace of its own (`unshare -n`, `lo` brought up, no other interface, no route),
//! so any attempt of either stack to reach a STUN server or another interface fails the call
//! instead of leaving the machine. Needs root (or CAP_SYS_ADMIN) and util-linux's `unshare`
//! and iproute2's `ip`: without them the test fails saying so, it does not skip.

use std::process::Command;

use callconf::media::browser_call::{self, BrowserCallConfig};
use callconf::media::stream::Kind;

const INSIDE: &str = "CALLCONF_TEST_IN_NETNS";
const NAME: &str = "media_loopback::a_browser_call_carries_media_in_a_namespace_with_only_lo";

#[test]
fn a_browser_call_carries_media_in_a_namespace_with_only_lo() {
    if std::env::var_os(INSIDE).is_some() {
        inside();
        return;
    }
    let _serial = crate::serial();
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(&exe)
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `unshare` (util-linux, scripts/packages.txt): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("unshare failed") && !text.contains("Operation not permitted"),
        "this test needs a network namespace of its own (root or CAP_SYS_ADMIN): {text}"
    );
    assert!(
        out.status.success(),
        "the call in the namespace failed:\n{text}"
    );
    assert!(
        text.contains("1 passed"),
        "the test did not run inside:\n{text}"
    );
}

/// In the namespace: only `lo` exists; the call runs and the browser's media arrives.
fn inside() {
    // /proc/net/dev lists this namespace's interfaces (/sys/class/net shows the mounter's).
    let dev = std::fs::read_to_string("/proc/net/dev").expect("/proc/net/dev");
    let interfaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(interfaces, ["lo"], "the namespace has other interfaces");
    let config = BrowserCallConfig {
        warmup_seconds: 1.0,
        seconds: 3.0,
        ..BrowserCallConfig::default()
    };
    let report = crate::media_runtime()
        .block_on(browser_call::run(&config))
        .expect("the browser call (install Debian's chromium: scripts/setup)");
    let r = &report.media;
    let video = r
        .stream(browser_call::BROWSER, browser_call::WEBRTC_RS, Kind::Video)
        .expect("a video stream");
    let audio = r
        .stream(browser_call::BROWSER, browser_call::WEBRTC_RS, Kind::Audio)
        .expect("an audio stream");
    eprintln!("{}", r.table());
    eprintln!(
        "{}",
        serde_json::to_string(&report).expect("report as JSON")
    );
    assert!(
        video.frames_decoded > 30,
        "video frames decoded:\n{}",
        r.table()
    );
    assert!(
        audio.frames_decoded > 50,
        "audio packets decoded:\n{}",
        r.table()
    );
    assert_eq!(video.frames_from_wrong_sender, 0, "{}", r.table());
    assert_eq!(audio.tone_matches_sender, Some(true), "{}", r.table());
}
