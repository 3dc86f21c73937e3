//! The JSON messages of the real-time transport, one per WebSocket text frame. They wrap the
//! core's own serde types, so the wire speaks exactly the canonical model.

use serde::{Deserialize, Serialize};

use crate::core::{CallError, Delivery, DeviceId, Op, Reply};

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
    /// The first message of a connection: which registered device this is.
    Hello {
        device: DeviceId,
    },
    Request {
        id: u64,
        op: Op,
    },
}

/// From the server to a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMsg {
    Welcome {
        device: DeviceId,
    },
    Reply {
        id: u64,
        result: Result<Reply, WireError>,
    },
    Event {
        delivery: Delivery,
    },
    /// The connection is closed after this (a malformed message, an unknown device).
    Error {
        message: String,
    },
}
