//! The media page's channel: the WebSocket only this harness serves (127.0.0.1, a random token
//! in its path; a connection without it is refused with 403), the messages the page sends on
//! it, and the browser's console lines kept for error messages. Every wait has a deadline and
//! every message a size bound (`limits`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use webrtc::peer_connection::RTCSessionDescription;

use super::error::MediaError;
use super::limits;
use super::synth::YPlane;

/// What a page reported as errors, kept up to `PAGE_ERRORS_MAX` (the rest are dropped: a
/// page that floods errors must not grow the report without bound).
#[derive(Debug, Default, Clone)]
pub struct PageErrors(Vec<String>);

impl PageErrors {
    pub fn push(&mut self, e: String) {
        if self.0.len() < limits::PAGE_ERRORS_MAX {
            self.0.push(e);
        }
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.clone()
    }
}

/// A message from the media page.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum FromPage {
    Hello,
    Answer {
        description: Box<RTCSessionDescription>,
    },
    Captured {
        tag: Option<u8>,
        frame: Option<u32>,
        at_ms: Option<f64>,
    },
    /// A frame of the remote track the page showed (a receiving page): its mark, when it was
    /// handed to the compositor (`presentationTime`) and when its last packet arrived
    /// (`receiveTime`), both wall-clock milliseconds since the Unix epoch.
    Decoded {
        tag: Option<u8>,
        frame: Option<u32>,
        at_ms: Option<f64>,
        receive_ms: Option<f64>,
    },
    /// A session page's `ontrack`: the remote peer's track of `kind` ("audio", "video").
    Track {
        kind: String,
    },
    /// The page's `getStats()` inbound-rtp entries, in answer to a request.
    Stats {
        inbound: Vec<InboundRtp>,
    },
    Error {
        message: String,
    },
}

/// One `inbound-rtp` entry of the page's `getStats()` (W3C webrtc-stats names; a field the
/// browser does not give is `None`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InboundRtp {
    pub kind: String,
    pub packets_received: Option<u64>,
    pub packets_lost: Option<i64>,
    /// Seconds.
    pub jitter: Option<f64>,
    pub frames_decoded: Option<u64>,
    /// 0..=1, of the last 10 ms or so of audio played out.
    pub audio_level: Option<f64>,
    pub nack_count: Option<u64>,
    pub retransmitted_packets_received: Option<u64>,
    /// Audio samples played out, and how many of them were concealment (made up for loss).
    pub total_samples_received: Option<u64>,
    pub concealed_samples: Option<u64>,
}

/// The header of a decoded frame's luma the page sends as a binary message: "Y8", the mark's
/// tag, a zero byte, the mark's frame number (u32 LE), width and height (u16 LE); then
/// `width * height` luma bytes, row by row.
const LUMA_HEADER_BYTES: usize = 12;

/// A decoded frame's luma from the page: its mark (tag, frame number) and the plane.
pub(super) fn parse_luma(bytes: &[u8]) -> Result<(u8, u32, YPlane), String> {
    let Some((head, data)) = bytes.split_at_checked(LUMA_HEADER_BYTES) else {
        return Err(format!("a luma message of {} bytes", bytes.len()));
    };
    if &head[..2] != b"Y8" {
        return Err("a binary message that is not a luma plane".into());
    }
    let tag = head[2];
    let frame = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let width = u32::from(u16::from_le_bytes([head[8], head[9]]));
    let height = u32::from(u16::from_le_bytes([head[10], head[11]]));
    if data.len() as u64 != u64::from(width) * u64::from(height) {
        return Err(format!(
            "a {width}x{height} luma plane of {} bytes",
            data.len()
        ));
    }
    let plane = YPlane {
        width,
        height,
        data: data.to_vec(),
    };
    Ok((tag, frame, plane))
}

/// `result`, a browser error carrying the page's last console lines.
pub(super) fn with_console<T>(
    result: Result<T, MediaError>,
    console: &Mutex<Vec<String>>,
) -> Result<T, MediaError> {
    result.map_err(|e| match e {
        MediaError::Browser(m) => MediaError::Browser(format!(
            "{m}\n--- the page's console (last lines) ---\n{}",
            console.lock().expect("console lock").join("\n")
        )),
        other => other,
    })
}

/// Keeps the last console lines of the browser's standard error, for error messages.
pub(super) fn console_tail(stderr: std::process::ChildStderr) -> Arc<Mutex<Vec<String>>> {
    use std::io::BufRead;
    let tail = Arc::new(Mutex::new(Vec::new()));
    let t = tail.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains(crate::driver::browser::CONSOLE_MARK) {
                let mut t = t.lock().expect("console lock");
                if t.len() >= limits::CONSOLE_TAIL_LINES {
                    t.remove(0);
                }
                t.push(line);
            }
        }
    });
    tail
}

pub(super) type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The page's channel before the page exists: a listener on 127.0.0.1, a fresh random token,
/// and the URL the page dials (`ws://127.0.0.1:PORT/TOKEN`).
pub(super) async fn page_channel() -> Result<(TcpListener, String, String), MediaError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| MediaError::Browser(format!("listening on loopback: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| MediaError::Browser(e.to_string()))?
        .port();
    let token = hex::encode(rand::random::<[u8; 16]>());
    let url = format!("ws://127.0.0.1:{port}/{token}");
    Ok((listener, token, url))
}

/// Accepts the page's connection: the one whose path carries the token.
pub(super) async fn accept_page(listener: &TcpListener, token: &str) -> Result<Ws, MediaError> {
    let wait = Duration::from_millis(limits::BROWSER_DIAL_TIMEOUT_MS);
    let deadline = tokio::time::Instant::now() + wait;
    let path = format!("/{token}");
    loop {
        let (stream, _) = tokio::time::timeout_at(deadline, listener.accept())
            .await
            .map_err(|_| {
                MediaError::Browser(format!(
                    "the media page did not dial in within {} ms",
                    limits::BROWSER_DIAL_TIMEOUT_MS
                ))
            })?
            .map_err(|e| MediaError::Browser(format!("accepting the page: {e}")))?;
        // The signature is tungstenite's `Callback`: its error type is a whole HTTP response.
        #[allow(clippy::result_large_err)]
        let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            if req.uri().path() == path {
                Ok(resp)
            } else {
                let mut refusal = ErrorResponse::new(Some("wrong token".into()));
                *refusal.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN;
                Err(refusal)
            }
        };
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(limits::PAGE_MESSAGE_BYTES_MAX))
            .max_frame_size(Some(limits::PAGE_MESSAGE_BYTES_MAX));
        let handshake =
            tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(config));
        if let Ok(Ok(ws)) = tokio::time::timeout_at(deadline, handshake).await {
            return Ok(ws);
        }
        // A connection without the token (or a broken handshake) is refused; keep waiting.
    }
}

/// The next message from the page, within `deadline`.
pub(super) async fn next_message(
    ws: &mut Ws,
    deadline: tokio::time::Instant,
    what: &str,
) -> Result<FromPage, MediaError> {
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| MediaError::Browser(format!("the page sent no {what} in time")))?;
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => {
                return Err(MediaError::Browser(format!(
                    "the page closed its channel before its {what}"
                )));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(MediaError::Browser(format!("the page's channel: {e}"))),
        };
        return serde_json::from_str(&text).map_err(|e| {
            MediaError::Browser(format!("a message from the page: {e}: {text:.200}"))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_luma_message_is_parsed_and_a_malformed_one_refused() {
        let mut m = b"Y8\x02\x00".to_vec();
        m.extend_from_slice(&70u32.to_le_bytes());
        m.extend_from_slice(&4u16.to_le_bytes());
        m.extend_from_slice(&2u16.to_le_bytes());
        m.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let (tag, frame, y) = parse_luma(&m).unwrap();
        assert_eq!((tag, frame, y.width, y.height), (2, 70, 4, 2));
        assert_eq!(y.data, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(parse_luma(&m[..m.len() - 1]).is_err(), "short plane");
        assert!(parse_luma(&m[..5]).is_err(), "short header");
        m[0] = b'X';
        assert!(parse_luma(&m).is_err(), "no magic");
    }
}
