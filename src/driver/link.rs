//! The two transports of the driver protocol (docs/driver-protocol.md §1), as callconf sees
//! them: a [`Link`] is a bounded queue of messages to the adapter and a bounded queue of what
//! it said, whichever way the bytes travel, so [`super::remote::Remote`] knows nothing of
//! pipes or sockets.
//!
//! - **stdio**: newline-delimited JSON over the adapter process's standard input and output.
//! - **WebSocket**: the adapter dials in to a listener of callconf's, one message per text
//!   frame ([`DialIn`]). That is how a page in a browser or an app on a phone is driven: they
//!   cannot be given pipes, but they can open a socket. The dial-in is authenticated by a
//!   one-time token in its URL (the listener takes one connection: a second one, or one with
//!   a wrong token, is refused), must complete within a deadline, and frames are bounded like
//!   lines.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::limits::{
    DIAL_IN_HANDSHAKE_TIMEOUT_MS, DIAL_IN_REFUSED_MAX, LINE_BYTES_MAX, LINES_QUEUED_MAX,
    STDERR_KEPT_BYTES,
};
use super::lines::{InLine, line_reader, line_writer};
use super::msg::AdapterMsg;
use super::remote::RemoteError;
use crate::server::auth::Token;

/// What the adapter said: a message, or why the stream ended.
pub type Incoming = Result<AdapterMsg, RemoteError>;

/// The path a dial-in must ask for; the token comes as `?token=…`.
pub const DIAL_IN_PATH: &str = "/callconf-driver";

/// Both directions of one adapter's connection.
pub struct Link {
    /// Messages to the adapter (one JSON object each, no newline).
    pub to: mpsc::Sender<String>,
    /// The adapter's messages; closes when the adapter's side ends.
    pub from: mpsc::Receiver<Incoming>,
}

/// The stdio transport over a child's pipes.
pub fn stdio(stdin: std::process::ChildStdin, stdout: std::process::ChildStdout) -> Link {
    let (to, _writer) = line_writer(stdin);
    Link {
        to,
        from: messages(line_reader(stdout)),
    }
}

/// One message read: a line that is not a message ends the stream with its error.
fn parse(text: &str) -> Incoming {
    serde_json::from_str::<AdapterMsg>(text).map_err(|e| {
        let shown: String = text.chars().take(200).collect();
        RemoteError::Malformed(format!("{e}: {shown}"))
    })
}

/// The adapter's output lines read as messages.
fn messages(mut lines: mpsc::Receiver<InLine>) -> mpsc::Receiver<Incoming> {
    let (tx, rx) = mpsc::channel(LINES_QUEUED_MAX);
    tokio::spawn(async move {
        while let Some(l) = lines.recv().await {
            let msg = match l {
                InLine::TooLong => Err(RemoteError::Malformed("a line over 1 MiB".into())),
                InLine::Line(text) => parse(&text),
            };
            let stop = msg.is_err();
            if tx.send(msg).await.is_err() || stop {
                return;
            }
        }
    });
    rx
}

/// Keeps the last [`STDERR_KEPT_BYTES`] of a pipe, on its own thread; with `only`, just the
/// lines that contain it (a browser's log is mostly its own noise; the page's console lines
/// are the adapter's log).
pub fn keep_tail(
    pipe: impl std::io::Read + Send + 'static,
    kept: Arc<Mutex<std::collections::VecDeque<u8>>>,
    only: Option<&'static str>,
) {
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(pipe);
        let mut line = Vec::new();
        // Bounded: each pass takes a line of at most 64 KiB until the pipe closes.
        loop {
            line.clear();
            let limit = STDERR_KEPT_BYTES as u64;
            match std::io::Read::take(&mut reader, limit).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if only.is_some_and(|o| !String::from_utf8_lossy(&line).contains(o)) {
                continue;
            }
            let mut k = kept.lock().unwrap_or_else(|p| p.into_inner());
            k.extend(&line);
            while k.len() > STDERR_KEPT_BYTES {
                k.pop_front();
            }
        }
    });
}

/// The WebSocket settings of a driver connection: a frame and a message at most one line.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(LINE_BYTES_MAX))
        .max_frame_size(Some(LINE_BYTES_MAX))
}

/// A listener waiting for one adapter to dial in.
pub struct DialIn {
    listener: TcpListener,
    token: Token,
}

impl DialIn {
    /// Listens on `addr` (port 0: any free port) with a fresh token.
    pub async fn bind(addr: SocketAddr) -> Result<DialIn, RemoteError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| RemoteError::DialIn(format!("cannot listen on {addr}: {e}")))?;
        Ok(DialIn {
            listener,
            token: Token::random(),
        })
    }

    /// The URL the adapter dials, with its token: a secret, like the token itself.
    pub fn url(&self) -> String {
        let addr = self
            .listener
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        format!("ws://{addr}{DIAL_IN_PATH}?token={}", self.token.expose())
    }

    /// Waits up to `within` for the adapter to dial in with the token; refuses every other
    /// connection (at most [`DIAL_IN_REFUSED_MAX`] of them), then stops listening.
    pub async fn accept(self, within: Duration) -> Result<Link, RemoteError> {
        let until = tokio::time::Instant::now() + within;
        let mut refused = Vec::new();
        // Bounded: by the deadline, and by the number of refusals.
        while refused.len() < DIAL_IN_REFUSED_MAX {
            let (stream, peer) = match tokio::time::timeout_at(until, self.listener.accept()).await
            {
                Err(_) => break,
                Ok(Err(e)) => return Err(RemoteError::DialIn(format!("accept: {e}"))),
                Ok(Ok(s)) => s,
            };
            match self.handshake(stream).await {
                Ok(ws) => return Ok(link(ws)),
                Err(why) => refused.push(format!("{peer}: {why}")),
            }
        }
        let mut why = format!("no adapter dialed in within {} ms", within.as_millis());
        if !refused.is_empty() {
            why.push_str(&format!("; refused: {}", refused.join("; ")));
        }
        Err(RemoteError::DialIn(why))
    }

    async fn handshake(
        &self,
        stream: TcpStream,
    ) -> Result<tokio_tungstenite::WebSocketStream<TcpStream>, String> {
        let token = self.token.clone();
        // The signature is tungstenite's handshake callback's.
        #[allow(clippy::result_large_err)]
        let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            let given = (req.uri().path() == DIAL_IN_PATH)
                .then(|| req.uri().query())
                .flatten()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")));
            match given {
                Some(t) if token.matches(&Token::new(t)) => Ok(resp),
                _ => {
                    let mut refusal = ErrorResponse::new(Some("wrong path or token".into()));
                    *refusal.status_mut() = StatusCode::FORBIDDEN;
                    Err(refusal)
                }
            }
        };
        let shake =
            tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(ws_config()));
        match tokio::time::timeout(Duration::from_millis(DIAL_IN_HANDSHAKE_TIMEOUT_MS), shake).await
        {
            Err(_) => Err(format!(
                "no handshake within {DIAL_IN_HANDSHAKE_TIMEOUT_MS} ms"
            )),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(ws)) => Ok(ws),
        }
    }
}

/// The writing half of a WebSocket, fed by `outgoing`: one text frame a message, closed when
/// `outgoing` ends; the task ends early if the connection is gone.
fn write_frames<S>(mut sink: S, mut outgoing: mpsc::Receiver<String>) -> tokio::task::JoinHandle<()>
where
    S: futures_util::Sink<Message> + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        while let Some(text) = outgoing.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    })
}

/// Pumps a dial-in's frames into a [`Link`]: a task reads, a task writes.
fn link(ws: tokio_tungstenite::WebSocketStream<TcpStream>) -> Link {
    let (sink, mut stream) = ws.split();
    let (to, outgoing) = mpsc::channel::<String>(LINES_QUEUED_MAX);
    let (tx, from) = mpsc::channel(LINES_QUEUED_MAX);
    write_frames(sink, outgoing);
    tokio::spawn(async move {
        // Bounded: ends with the connection, or at the first frame that is not a message.
        while let Some(frame) = stream.next().await {
            let msg = match frame {
                Ok(Message::Text(t)) => parse(&t),
                Ok(Message::Binary(_)) => Err(RemoteError::Malformed("a binary frame".into())),
                Ok(Message::Close(_)) => return,
                Ok(_) => continue,
                Err(tokio_tungstenite::tungstenite::Error::Capacity(e)) => {
                    Err(RemoteError::Malformed(format!("a frame over 1 MiB ({e})")))
                }
                Err(_) => return,
            };
            let stop = msg.is_err();
            if tx.send(msg).await.is_err() || stop {
                return;
            }
        }
    });
    Link { to, from }
}

/// The adapter's side of the WebSocket transport: dials `url` and gives the same queues as
/// stdio ([`line_reader`], [`line_writer`]): messages to send, and what callconf sent, ending
/// with the connection. The task returned ends once every sender is gone and the close is sent.
pub async fn dial(
    url: &str,
    within: Duration,
) -> Result<
    (
        mpsc::Sender<String>,
        mpsc::Receiver<InLine>,
        tokio::task::JoinHandle<()>,
    ),
    String,
> {
    let connect = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true);
    let (ws, _) = tokio::time::timeout(within, connect)
        .await
        .map_err(|_| format!("no connection within {} ms", within.as_millis()))?
        .map_err(|e| e.to_string())?;
    let (sink, mut stream) = ws.split();
    let (out, outgoing) = mpsc::channel::<String>(LINES_QUEUED_MAX);
    let (tx, input) = mpsc::channel(LINES_QUEUED_MAX);
    let writer = write_frames(sink, outgoing);
    tokio::spawn(async move {
        // Bounded: ends with the connection.
        while let Some(frame) = stream.next().await {
            let line = match frame {
                Ok(Message::Text(t)) => InLine::Line(t.to_string()),
                Ok(Message::Close(_)) => return,
                Ok(_) => continue,
                Err(tokio_tungstenite::tungstenite::Error::Capacity(_)) => InLine::TooLong,
                Err(_) => return,
            };
            if tx.send(line).await.is_err() {
                return;
            }
        }
    });
    Ok((out, input, writer))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn listener() -> (DialIn, String) {
        let d = DialIn::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = d.url();
        (d, url)
    }

    #[tokio::test]
    async fn a_dial_in_with_the_token_carries_messages_both_ways() {
        let (d, url) = listener().await;
        let adapter = tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let hello = r#"{"type":"success","id":1,"result":{}}"#;
            ws.send(Message::text(hello)).await.unwrap();
            match ws.next().await {
                Some(Ok(Message::Text(t))) => t.to_string(),
                other => panic!("{other:?}"),
            }
        });
        let mut link = d.accept(Duration::from_secs(5)).await.unwrap();
        let got = link.from.recv().await.unwrap().unwrap();
        assert_eq!(
            got,
            AdapterMsg::Success {
                id: 1,
                result: serde_json::json!({})
            }
        );
        link.to.send("{\"id\":2}".into()).await.unwrap();
        assert_eq!(adapter.await.unwrap(), "{\"id\":2}");
    }

    #[tokio::test]
    async fn a_dial_in_with_a_wrong_token_is_refused_and_the_right_one_still_gets_in() {
        let (d, url) = listener().await;
        let wrong = url.replace("token=", "token=0");
        let dialer = tokio::spawn(async move {
            let refused = tokio_tungstenite::connect_async(wrong).await;
            let right = tokio_tungstenite::connect_async(url).await;
            (refused.is_err(), right.is_ok())
        });
        let accepted = d.accept(Duration::from_secs(5)).await;
        assert!(accepted.is_ok());
        assert_eq!(dialer.await.unwrap(), (true, true));
    }

    #[tokio::test]
    async fn no_dial_in_ends_at_the_deadline_with_its_own_code() {
        let (d, _) = listener().await;
        let e = d.accept(Duration::from_millis(50)).await.err().unwrap();
        assert_eq!(e.code(), 1108);
    }

    #[tokio::test]
    async fn a_frame_over_the_line_limit_ends_the_stream_as_malformed() {
        let (d, url) = listener().await;
        tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let big = "x".repeat(LINE_BYTES_MAX + 1);
            let _ = ws.send(Message::text(big)).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
        let mut link = d.accept(Duration::from_secs(5)).await.unwrap();
        let e = link.from.recv().await.unwrap().err().unwrap();
        assert_eq!(e.code(), 1103, "{e}");
    }
}
