//! The admin channel: a WebSocket listener of its own (so it can stay on loopback while devices
//! listen elsewhere), authenticated by the admin token, carrying [`AdminOp`]s as JSON. Requests
//! are answered in order, one at a time; each is logged with its name and result code, never its
//! arguments (a device's token travels in `add_device` and `provision`).

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tracing::info;

use super::error::{Refusal, redact_literals};
use super::limits::HANDSHAKE_TIMEOUT_MS;
use super::server::{Front, refuse, stopped};
use super::wire::{PROTOCOL, WireError};
use crate::server::admin::{AdminOp, AdminReply};
use crate::server::auth::Token;
use crate::server::{ClockMode, ServerHandle};

/// From the administrator to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminClientMsg {
    Hello { protocol: String, token: Token },
    Request { id: u64, op: AdminOp },
}

/// From the server to the administrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminServerMsg {
    Welcome {
        protocol: String,
        clock: ClockMode,
    },
    Reply {
        id: u64,
        result: Result<AdminReply, WireError>,
    },
    Error {
        code: u16,
        message: String,
    },
}

fn text<T: Serialize>(msg: &T) -> Message {
    Message::text(serde_json::to_string(msg).expect("admin messages serialize"))
}

/// Accepts admin connections until `front` stops or the listener fails.
pub async fn serve_admin(listener: TcpListener, server: ServerHandle, token: Token, front: Front) {
    let config = super::admin_ws_config();
    front
        .accept_loop(listener, "admin", config, |stream, peer, permit| {
            let (server, token, stop) = (server.clone(), token.clone(), front.stop.clone());
            tokio::spawn(connection(stream, peer, server, token, stop, permit));
        })
        .await;
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    server: ServerHandle,
    token: Token,
    mut stop: tokio::sync::watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(HANDSHAKE_TIMEOUT_MS);
    let handshake =
        tokio_tungstenite::accept_async_with_config(stream, Some(super::admin_ws_config()));
    let Ok(Ok(mut ws)) = tokio::time::timeout_at(deadline, handshake).await else {
        info!(%peer, "admin connection closed before the WebSocket handshake");
        return;
    };
    let hello = match tokio::time::timeout_at(deadline, ws.next()).await {
        Ok(frame) => check_hello(frame, &token),
        Err(_) => Err(Some(Refusal::HandshakeTimeout)),
    };
    match hello {
        Ok(()) => {}
        Err(Some(r)) => {
            info!(%peer, code = r.code(), reason = %r, "admin refused");
            refuse(&mut ws, &r).await;
            return;
        }
        Err(None) => return,
    }
    let welcome = AdminServerMsg::Welcome {
        protocol: PROTOCOL.to_owned(),
        clock: server.clock(),
    };
    if ws.send(text(&welcome)).await.is_err() {
        return;
    }
    info!(%peer, "admin authenticated");
    // Bounded: ends when the socket closes or fails, or the server stops.
    loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            () = stopped(&mut stop) => {
                refuse(&mut ws, &Refusal::ShuttingDown).await;
                return;
            }
        };
        match request(&server, frame) {
            Ok(Some(reply)) => {
                if ws.send(text(&reply)).await.is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(Some(r)) => {
                info!(%peer, code = r.code(), reason = %r, "admin connection closed");
                refuse(&mut ws, &r).await;
                return;
            }
            Err(None) => {
                info!(%peer, "admin connection closed by the administrator");
                return;
            }
        }
    }
}

type Frame = Option<Result<Message, WsError>>;

fn check_hello(frame: Frame, token: &Token) -> Result<(), Option<Refusal>> {
    let t = match frame {
        Some(Ok(Message::Text(t))) => t,
        Some(Err(WsError::Capacity(_))) => return Err(Some(Refusal::TooLarge)),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(None),
        Some(Ok(_)) => return Err(Some(Refusal::OutOfOrder("expected hello first"))),
    };
    match serde_json::from_str::<AdminClientMsg>(&t) {
        Ok(AdminClientMsg::Hello {
            protocol,
            token: given,
        }) => {
            if protocol != PROTOCOL {
                return Err(Some(Refusal::Protocol(format!("`{protocol}`"))));
            }
            if token.matches(&given) {
                Ok(())
            } else {
                Err(Some(Refusal::Auth))
            }
        }
        Ok(AdminClientMsg::Request { .. }) => {
            Err(Some(Refusal::OutOfOrder("expected hello first")))
        }
        Err(e) => Err(Some(Refusal::Malformed(redact_literals(&e.to_string())))),
    }
}

/// Answers one frame: `Ok(Some)` a reply, `Ok(None)` nothing (a ping), `Err` the end.
fn request(server: &ServerHandle, frame: Frame) -> Result<Option<AdminServerMsg>, Option<Refusal>> {
    let t = match frame {
        Some(Ok(Message::Text(t))) => t,
        Some(Err(WsError::Capacity(_))) => return Err(Some(Refusal::TooLarge)),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(None),
        Some(Ok(Message::Binary(_))) => {
            let why = "binary frames are not part of the protocol";
            return Err(Some(Refusal::Malformed(why.into())));
        }
        Some(Ok(_)) => return Ok(None),
    };
    match serde_json::from_str::<AdminClientMsg>(&t) {
        Ok(AdminClientMsg::Request { id, op }) => {
            let name = op.name();
            let result = server.admin_op(op);
            match &result {
                Ok(_) => info!(op = name, "admin operation done"),
                Err(e) => info!(op = name, code = e.code(), reason = %e, "admin operation refused"),
            }
            Ok(Some(AdminServerMsg::Reply {
                id,
                result: result.map_err(|e| WireError::from(&e)),
            }))
        }
        Ok(AdminClientMsg::Hello { .. }) => Err(Some(Refusal::OutOfOrder("hello sent twice"))),
        Err(e) => Err(Some(Refusal::Malformed(redact_literals(&e.to_string())))),
    }
}

/// A blocking-free admin client over one WebSocket, for tests, `certify` and load runs: one
/// request at a time, each answered within `deadline`.
pub struct AdminClient {
    ws: WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    next_id: u64,
    deadline: Duration,
}

/// Why an admin request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum AdminClientError {
    #[error("admin connection: {0}")]
    Io(String),
    #[error("admin connection refused: {code} {message}")]
    Refused { code: u16, message: String },
    #[error("no admin answer within {0:?}")]
    Timeout(Duration),
    #[error("admin protocol: {0}")]
    Protocol(String),
}

impl AdminClient {
    pub async fn connect(
        url: &str,
        token: &Token,
        deadline: Duration,
    ) -> Result<Self, AdminClientError> {
        let connect =
            tokio_tungstenite::connect_async_with_config(url, Some(super::admin_ws_config()), true);
        let (ws, _) = tokio::time::timeout(deadline, connect)
            .await
            .map_err(|_| AdminClientError::Timeout(deadline))?
            .map_err(|e| AdminClientError::Io(e.to_string()))?;
        let mut client = Self {
            ws,
            next_id: 0,
            deadline,
        };
        let hello = AdminClientMsg::Hello {
            protocol: PROTOCOL.to_owned(),
            token: token.clone(),
        };
        client.send(&hello).await?;
        match client.recv().await? {
            AdminServerMsg::Welcome { .. } => Ok(client),
            AdminServerMsg::Error { code, message } => {
                Err(AdminClientError::Refused { code, message })
            }
            other => Err(AdminClientError::Protocol(format!(
                "expected welcome, got {other:?}"
            ))),
        }
    }

    async fn send(&mut self, msg: &AdminClientMsg) -> Result<(), AdminClientError> {
        let send = self.ws.send(text(msg));
        tokio::time::timeout(self.deadline, send)
            .await
            .map_err(|_| AdminClientError::Timeout(self.deadline))?
            .map_err(|e| AdminClientError::Io(e.to_string()))
    }

    async fn recv(&mut self) -> Result<AdminServerMsg, AdminClientError> {
        // Bounded: every frame read counts against the one deadline.
        let until = tokio::time::Instant::now() + self.deadline;
        loop {
            let frame = tokio::time::timeout_at(until, self.ws.next())
                .await
                .map_err(|_| AdminClientError::Timeout(self.deadline))?;
            match frame {
                Some(Ok(Message::Text(t))) => {
                    return serde_json::from_str(&t)
                        .map_err(|e| AdminClientError::Protocol(e.to_string()));
                }
                Some(Ok(Message::Close(_))) | None => {
                    return Err(AdminClientError::Io("closed by the server".into()));
                }
                Some(Err(e)) => return Err(AdminClientError::Io(e.to_string())),
                Some(Ok(_)) => {}
            }
        }
    }

    /// Runs one operation; `Ok(Err)` is the server's coded refusal.
    pub async fn op(
        &mut self,
        op: AdminOp,
    ) -> Result<Result<AdminReply, WireError>, AdminClientError> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&AdminClientMsg::Request { id, op }).await?;
        match self.recv().await? {
            AdminServerMsg::Reply { id: got, result } if got == id => Ok(result),
            AdminServerMsg::Error { code, message } => {
                Err(AdminClientError::Refused { code, message })
            }
            other => Err(AdminClientError::Protocol(format!(
                "expected reply {id}, got {other:?}"
            ))),
        }
    }
}
