//! A loopback UDP relay between a browser and webrtc-rs that impairs one direction's datagrams
//! (the browser's, or webrtc-rs's: [`Impaired`]) with the same seeded link model as every
//! other media link.
//!
//! Why: `ImpairedRuntime` impairs what webrtc-rs *sends*; Chromium's sockets are out of
//! callconf's reach. So each side is told the relay is the other: the webrtc-rs offer's
//! candidates are rewritten to the relay's browser-facing socket, the browser's answer's to
//! its webrtc-rs-facing socket (`redirect_candidates`). Every datagram of the impaired
//! direction (ICE checks, DTLS, SRTP, RTCP) then goes through [`Link`]'s verdict — lost, or
//! held for its delay, in order — before it is forwarded; the other direction is forwarded
//! unimpaired. Both sockets are on 127.0.0.1, and neither stack learns the other's real
//! address.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::UdpSocket;

use super::error::MediaError;
use super::impair::{Link, Verdict};
use super::limits;

/// Which direction's datagrams go through the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impaired {
    /// What the browser sends to webrtc-rs (Chromium is the media sender).
    FromBrowser,
    /// What webrtc-rs sends to the browser (Chromium is the media receiver).
    FromWebrtc,
}

/// A running relay; dropping it stops it.
pub struct Relay {
    /// Where the browser sends (its "webrtc-rs").
    pub browser_facing: SocketAddr,
    /// Where webrtc-rs sends (its "browser").
    pub webrtc_facing: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bind() -> Result<UdpSocket, MediaError> {
    UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| MediaError::Transport(format!("relay socket: {e}")))
}

/// Starts a relay to webrtc-rs at `webrtc` that impairs the `impaired` direction; the browser
/// is wherever its last datagram came from (what webrtc-rs sends before the browser's first is
/// dropped: ICE sends it again).
pub async fn start(
    webrtc: SocketAddr,
    link: Link,
    impaired: Impaired,
) -> Result<Relay, MediaError> {
    let a = bind().await?;
    let b = bind().await?;
    let addr = |s: &UdpSocket| {
        s.local_addr()
            .map_err(|e| MediaError::Transport(format!("relay socket: {e}")))
    };
    let (browser_facing, webrtc_facing) = (addr(&a)?, addr(&b)?);
    let task = tokio::spawn(run(a, b, webrtc, link, impaired));
    Ok(Relay {
        browser_facing,
        webrtc_facing,
        task,
    })
}

/// Datagrams the link holds back (their due time and bytes), in order.
type Held = VecDeque<(tokio::time::Instant, Vec<u8>)>;

/// The link's verdict on one datagram of the impaired direction: `Some(bytes)` to send now,
/// otherwise it was held or dropped (and counted).
fn judge<'a>(link: &Link, held: &mut Held, bytes: &'a [u8]) -> Option<&'a [u8]> {
    let c = link.counters();
    c.offered.fetch_add(1, Ordering::Relaxed);
    let verdict = link.offer(bytes.len());
    c.rtp.count(
        bytes,
        !matches!(verdict, None | Some(Verdict::Deliver { .. })),
    );
    match verdict {
        None => {
            c.delivered.fetch_add(1, Ordering::Relaxed);
            if held.is_empty() {
                return Some(bytes);
            }
            held.push_back((tokio::time::Instant::now(), bytes.to_vec()));
        }
        Some(Verdict::Deliver { after }) if held.len() < limits::HELD_DATAGRAMS_MAX => {
            c.delivered.fetch_add(1, Ordering::Relaxed);
            held.push_back((tokio::time::Instant::now() + after, bytes.to_vec()));
        }
        Some(Verdict::Deliver { .. }) | Some(Verdict::QueueFull) => {
            c.queue_full.fetch_add(1, Ordering::Relaxed);
        }
        Some(Verdict::Lost) => {
            c.lost.fetch_add(1, Ordering::Relaxed);
        }
    }
    None
}

async fn run(a: UdpSocket, b: UdpSocket, webrtc: SocketAddr, link: Link, impaired: Impaired) {
    let mut browser: Option<SocketAddr> = None;
    let mut held: Held = VecDeque::new();
    let mut from_browser = vec![0u8; limits::RELAY_DATAGRAM_BYTES_MAX];
    let mut from_webrtc = vec![0u8; limits::RELAY_DATAGRAM_BYTES_MAX];
    let far = tokio::time::Instant::now() + Duration::from_secs(3600);
    loop {
        let due = held.front().map_or(far, |(d, _)| *d);
        tokio::select! {
            r = a.recv_from(&mut from_browser) => {
                let Ok((n, from)) = r else { continue };
                browser = Some(from);
                let bytes = &from_browser[..n];
                let now = match impaired {
                    Impaired::FromBrowser => judge(&link, &mut held, bytes),
                    Impaired::FromWebrtc => Some(bytes),
                };
                if let Some(bytes) = now {
                    let _ = b.send_to(bytes, webrtc).await;
                }
            }
            r = b.recv_from(&mut from_webrtc) => {
                let Ok((n, from)) = r else { continue };
                if from != webrtc {
                    continue;
                }
                let Some(to) = browser else { continue };
                let bytes = &from_webrtc[..n];
                let now = match impaired {
                    Impaired::FromWebrtc => judge(&link, &mut held, bytes),
                    Impaired::FromBrowser => Some(bytes),
                };
                if let Some(bytes) = now {
                    let _ = a.send_to(bytes, to).await;
                }
            }
            () = tokio::time::sleep_until(due), if !held.is_empty() => {
                let now = tokio::time::Instant::now();
                while held.front().is_some_and(|(d, _)| *d <= now) {
                    if let Some((_, bytes)) = held.pop_front() {
                        let (socket, to) = match impaired {
                            Impaired::FromBrowser => (&b, Some(webrtc)),
                            Impaired::FromWebrtc => (&a, browser),
                        };
                        if let Some(to) = to {
                            let _ = socket.send_to(&bytes, to).await;
                        }
                    }
                }
            }
        }
    }
}

/// `sdp` with every candidate's address and port replaced by `to`, and the first address it
/// had (the one webrtc-rs or the browser really listens on), if any. Candidates of other
/// transports than UDP are removed.
pub fn redirect_candidates(sdp: &str, to: SocketAddr) -> (String, Option<SocketAddr>) {
    let mut first = None;
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        let body = line.trim_end_matches(['\r', '\n']);
        let Some(cand) = body.strip_prefix("a=candidate:") else {
            out.push_str(line);
            continue;
        };
        let mut fields: Vec<&str> = cand.split_whitespace().collect();
        if fields.len() < 6 || !fields[2].eq_ignore_ascii_case("udp") {
            continue;
        }
        let real = format!("{}:{}", fields[4], fields[5])
            .parse::<SocketAddr>()
            .ok();
        first = first.or(real);
        let (ip, port) = (to.ip().to_string(), to.port().to_string());
        fields[4] = &ip;
        fields[5] = &port;
        out.push_str("a=candidate:");
        out.push_str(&fields.join(" "));
        out.push_str(&line[body.len()..]);
    }
    (out, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_point_at_the_relay_and_the_real_address_is_returned() {
        let sdp = "v=0\r\n\
                   a=candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host\r\n\
                   a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active\r\n\
                   a=candidate:3 1 UDP 2122260223 127.0.0.1 5001 typ host\r\n";
        let to: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let (out, first) = redirect_candidates(sdp, to);
        assert_eq!(first, Some("127.0.0.1:5000".parse().unwrap()));
        assert!(
            out.contains("a=candidate:1 1 udp 2122260223 127.0.0.1 7000 typ host\r\n"),
            "{out}"
        );
        assert!(
            out.contains("a=candidate:3 1 UDP 2122260223 127.0.0.1 7000 typ host\r\n"),
            "{out}"
        );
        assert!(!out.contains("tcp"), "{out}");
        assert!(out.starts_with("v=0\r\n"));
    }
}
