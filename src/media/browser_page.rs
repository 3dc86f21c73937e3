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
    Error {
        message: String,
    },
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
