//! The JSON messages of `callconf-wire/1`, one per WebSocket text frame (docs/wire-protocol.md is
//! the contract; this is its implementation). Device messages wrap the core's own serde types, so
//! the wire speaks exactly the canonical model.

use serde::{Deserialize, Serialize};

use crate::core::{CallError, Delivery, DeviceId, Op, Reply, UserId};
use crate::server::auth::Token;

/// The protocol this server speaks; a hello must name it.
pub const PROTOCOL: &str = "callconf-wire/1";

/// A refusal on the wire: the stable code and the human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireError {
    pub code: u16,
    pub message: String,
}

impl From<&CallError> for WireError {
    fn from(e: &CallError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// From a device to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// The first message of a connection: the protocol, and which device this is, proven by
    /// its token.
    Hello {
        protocol: String,
        user: UserId,
        device: String,
        token: Token,
    },
    Request {
        id: u64,
        op: Op,
    },
}

impl ClientMsg {
    /// The hello of `callconf-wire/1`.
    pub fn hello(user: UserId, device: impl Into<String>, token: Token) -> Self {
        ClientMsg::Hello {
            protocol: PROTOCOL.to_owned(),
            user,
            device: device.into(),
            token,
        }
    }
}

/// From the server to a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMsg {
    /// The hello was accepted: the protocol, and the device's id as it appears in deliveries.
    Welcome {
        protocol: String,
        device: DeviceId,
    },
    Reply {
        id: u64,
        result: Result<Reply, WireError>,
    },
    Event {
        delivery: Delivery,
    },
    /// The connection is closed after this (a refused hello, a malformed frame, a reset).
    Error {
        code: u16,
        message: String,
    },
}

// Serde reads an internally tagged enum by first copying the whole message into a generic tree
// and then reading the tree; with every frame of a load run parsed that way, the copy was a tenth
// of the run's CPU. The flat forms below read every field a message of either direction may
// carry in one pass; `from_json` then requires exactly the fields of the message's `type`, so
// they accept the same texts as the derived readers (the tests hold them to it).

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClientKind {
    Hello,
    Request,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFields {
    #[serde(rename = "type")]
    kind: ClientKind,
    protocol: Option<String>,
    user: Option<UserId>,
    device: Option<String>,
    token: Option<Token>,
    id: Option<u64>,
    op: Option<Op>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ServerKind {
    Welcome,
    Reply,
    Event,
    Error,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFields {
    #[serde(rename = "type")]
    kind: ServerKind,
    protocol: Option<String>,
    device: Option<DeviceId>,
    id: Option<u64>,
    result: Option<Result<Reply, WireError>>,
    delivery: Option<Delivery>,
    code: Option<u16>,
    message: Option<String>,
}

fn fields_error<E: serde::de::Error>(kind: &str) -> E {
    E::custom(format!("wrong fields for a `{kind}` message"))
}

/// A [`ClientMsg`] read in one pass, in any self-describing encoding (JSON, MessagePack): the
/// same values as its derived `Deserialize`, without serde's generic tree.
pub struct ReadClient(pub ClientMsg);

impl<'de> Deserialize<'de> for ReadClient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ClientFields::deserialize(d)?.into_msg().map(ReadClient)
    }
}

/// A [`ServerMsg`] read in one pass (as [`ReadClient`]).
pub struct ReadServer(pub ServerMsg);

impl<'de> Deserialize<'de> for ReadServer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ServerFields::deserialize(d)?.into_msg().map(ReadServer)
    }
}

impl ClientMsg {
    /// Reads one message (the same texts as its `Deserialize`, in one pass).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<ReadClient>(text).map(|m| m.0)
    }
}

impl ServerMsg {
    /// Reads one message (the same texts as its `Deserialize`, in one pass).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<ReadServer>(text).map(|m| m.0)
    }
}

impl ClientFields {
    fn into_msg<E: serde::de::Error>(self) -> Result<ClientMsg, E> {
        let f = self;
        let hello = (f.protocol, f.user, f.device, f.token);
        match (f.kind, hello, f.id, f.op) {
            (
                ClientKind::Hello,
                (Some(protocol), Some(user), Some(device), Some(token)),
                None,
                None,
            ) => Ok(ClientMsg::Hello {
                protocol,
                user,
                device,
                token,
            }),
            (ClientKind::Hello, ..) => Err(fields_error("hello")),
            (ClientKind::Request, (None, None, None, None), Some(id), Some(op)) => {
                Ok(ClientMsg::Request { id, op })
            }
            (ClientKind::Request, ..) => Err(fields_error("request")),
        }
    }
}

impl ServerFields {
    fn into_msg<E: serde::de::Error>(self) -> Result<ServerMsg, E> {
        let f = self;
        let fail = (f.code, f.message);
        match (
            f.kind, f.protocol, f.device, f.id, f.result, f.delivery, fail,
        ) {
            (ServerKind::Welcome, Some(protocol), Some(device), None, None, None, (None, None)) => {
                Ok(ServerMsg::Welcome { protocol, device })
            }
            (ServerKind::Welcome, ..) => Err(fields_error("welcome")),
            (ServerKind::Reply, None, None, Some(id), Some(result), None, (None, None)) => {
                Ok(ServerMsg::Reply { id, result })
            }
            (ServerKind::Reply, ..) => Err(fields_error("reply")),
            (ServerKind::Event, None, None, None, None, Some(delivery), (None, None)) => {
                Ok(ServerMsg::Event { delivery })
            }
            (ServerKind::Event, ..) => Err(fields_error("event")),
            (ServerKind::Error, None, None, None, None, None, (Some(code), Some(message))) => {
                Ok(ServerMsg::Error { code, message })
            }
            (ServerKind::Error, ..) => Err(fields_error("error")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::{CallId, CallInfo, CallStatus, CallType, Event, PlaceCall, UserId};

    fn client_msgs() -> Vec<ClientMsg> {
        vec![
            ClientMsg::hello(UserId::from("u1"), "d0", Token::new("t")),
            ClientMsg::Request {
                id: 7,
                op: Op::Place(PlaceCall::direct(UserId::from("u1"), CallType::Audio)),
            },
            ClientMsg::Request {
                id: 8,
                op: Op::hangup(CallId(5)),
            },
        ]
    }

    fn server_msgs() -> Vec<ServerMsg> {
        let info = CallInfo {
            call: CallId(5),
            call_type: CallType::Audio,
            group: None,
            caller: UserId::from("u1"),
            invitees: vec![UserId::from("u2")],
            status: CallStatus::Calling,
            created_ms: 3,
            custom_data: None,
            headers: vec![("X-a".into(), "b".into())],
            transferred_by: None,
        };
        vec![
            ServerMsg::Welcome {
                protocol: PROTOCOL.into(),
                device: DeviceId(3),
            },
            ServerMsg::Reply {
                id: 7,
                result: Ok(Reply::Placed {
                    call: CallId(5),
                    busy: vec![],
                    unavailable: vec![],
                }),
            },
            ServerMsg::Reply {
                id: 8,
                result: Err(WireError {
                    code: 486,
                    message: "busy".into(),
                }),
            },
            ServerMsg::Event {
                delivery: Delivery {
                    device: DeviceId(3),
                    at_ms: 12,
                    event: Event::Status {
                        call: CallId(5),
                        status: CallStatus::Ringing,
                    },
                },
            },
            ServerMsg::Error {
                code: 902,
                message: "no".into(),
            },
            ServerMsg::Event {
                delivery: Delivery {
                    device: DeviceId(4),
                    at_ms: 13,
                    event: Event::Incoming {
                        info: Arc::new(info),
                    },
                },
            },
        ]
    }

    #[test]
    fn one_pass_readers_read_what_the_writers_write() {
        for m in client_msgs() {
            let text = serde_json::to_string(&m).unwrap();
            assert_eq!(ClientMsg::from_json(&text).unwrap(), m, "{text}");
        }
        for m in server_msgs() {
            let text = serde_json::to_string(&m).unwrap();
            assert_eq!(ServerMsg::from_json(&text).unwrap(), m, "{text}");
        }
    }

    #[test]
    fn one_pass_readers_refuse_what_the_derived_readers_refuse() {
        let texts = [
            r#"{"type":"hello"}"#,
            r#"{"type":"hello","device":"d","id":2}"#,
            r#"{"type":"hello","protocol":"callconf-wire/1","user":"u","device":"d"}"#,
            r#"{"type":"request","id":1,"op":{"op":"hangup","call":1},"token":"t"}"#,
            r#"{"type":"request","id":1}"#,
            r#"{"type":"request","id":1,"op":{"op":"hangup","call":1},"x":1}"#,
            r#"{"type":"nope"}"#,
            r#"{"id":1,"op":{"op":"hangup","call":1}}"#,
        ];
        for t in texts {
            assert!(serde_json::from_str::<ClientMsg>(t).is_err(), "{t}");
            assert!(ClientMsg::from_json(t).is_err(), "{t}");
        }
        let texts = [
            r#"{"type":"welcome"}"#,
            r#"{"type":"welcome","device":1,"message":"x"}"#,
            r#"{"type":"welcome","device":1}"#,
            r#"{"type":"error","message":"x"}"#,
            r#"{"type":"reply","id":1}"#,
            r#"{"type":"event","id":1}"#,
            r#"{"type":"error","message":"x","id":2}"#,
        ];
        for t in texts {
            assert!(serde_json::from_str::<ServerMsg>(t).is_err(), "{t}");
            assert!(ServerMsg::from_json(t).is_err(), "{t}");
        }
    }
}
