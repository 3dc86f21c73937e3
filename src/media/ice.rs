//! Loopback-only ICE, for both stacks, written once: what keeps media on `lo`.
//!
//! Why here: only loopback traffic is allowed on the machines callconf runs on, and both
//! WebRTC stacks would otherwise reach out. Every setting that decides where ICE may gather or
//! send lives in this file, and both ends take it from here:
//! - **webrtc-rs** ([`setting_engine`], [`UDP_BIND`]): no ICE servers (no STUN, no TURN), one
//!   UDP socket bound to 127.0.0.1, UDP over IPv4 only, mDNS off (neither queries nor `.local`
//!   names: a multicast query would leave `lo`).
//! - **Chromium** ([`CHROMIUM_FLAGS`], [`page_configuration`]): Chromium drops loopback
//!   addresses from ICE unless `--allow-loopback-in-peer-connection` is given; with it a page
//!   gathers `127.0.0.1` host candidates (checked in a network namespace that has nothing but
//!   `lo`: tests/browser/media_loopback.rs). The page's `RTCPeerConnection` is built with the
//!   configuration Rust sends it: `iceServers: []`, one bundled transport.
//! - **Between them** ([`loopback_only`]): a remote description's candidates that are not a
//!   loopback IP (another interface of the host, an mDNS name) are removed before webrtc-rs
//!   sees them, so no connectivity check is ever sent to anything but 127.0.0.0/8 or `::1`
//!   (`browser_call` then points both sides' candidates at its loopback relay, `relay`).
//!
//! The signaling-only page keeps WebRTC without UDP (`driver::browser`); only the media page
//! gets these flags.

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use webrtc::peer_connection::SettingEngine;
use webrtc::peer_connection::SettingEngineBuilder;

/// The one local address webrtc-rs binds for media (an ephemeral port on loopback).
pub const UDP_BIND: &str = "127.0.0.1:0";

/// What Chromium is given for a page that makes media calls, on top of `driver::browser`'s
/// base flags: loopback candidates allowed, every interface's address usable (the default
/// policy; the namespace test shows only `lo` is used then), and the fake devices.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--allow-loopback-in-peer-connection",
    "--webrtc-ip-handling-policy=default",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
];

/// The `RTCConfiguration` a page builds its `RTCPeerConnection` with (sent to it as JSON).
pub fn page_configuration() -> serde_json::Value {
    serde_json::json!({
        "iceServers": [],
        "iceTransportPolicy": "all",
        "bundlePolicy": "max-bundle",
        "rtcpMuxPolicy": "require",
    })
}

/// webrtc-rs's settings for loopback-only ICE.
pub fn setting_engine() -> SettingEngine {
    SettingEngineBuilder::new()
        .with_include_loopback_candidate(true)
        .with_network_types(vec![NetworkType::Udp4])
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .build()
}

/// Whether `addr` (a candidate's connection address) is a loopback IP.
fn is_loopback(addr: &str) -> bool {
    addr.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// `sdp` without the candidates whose address is not a loopback IP, and how many were removed.
/// A candidate line is `a=candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ …`.
pub fn loopback_only(sdp: &str) -> (String, usize) {
    let mut removed = 0;
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        if let Some(cand) = body.strip_prefix("a=candidate:") {
            let addr = cand.split_whitespace().nth(4).unwrap_or("");
            if !is_loopback(addr) {
                removed += 1;
                continue;
            }
        }
        out.push_str(line);
    }
    (out, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_candidates_are_kept() {
        let sdp = "v=0\r\n\
                   a=candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host\r\n\
                   a=candidate:2 1 udp 2122260223 10.0.0.7 5001 typ host\r\n\
                   a=candidate:3 1 udp 2122260223 abcd.local 5002 typ host\r\n\
                   a=candidate:4 1 udp 2122260223 ::1 5003 typ host\r\n\
                   a=end-of-candidates\r\n";
        let (kept, removed) = loopback_only(sdp);
        assert_eq!(removed, 2);
        assert!(kept.contains("127.0.0.1 5000"), "{kept}");
        assert!(kept.contains("::1 5003"), "{kept}");
        assert!(
            !kept.contains("10.0.0.7") && !kept.contains(".local"),
            "{kept}"
        );
        assert!(kept.ends_with("a=end-of-candidates\r\n"), "{kept}");
    }
}
