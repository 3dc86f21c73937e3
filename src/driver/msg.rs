//! The messages of `callconf-driver/1` (docs/driver-protocol.md): commands from callconf,
//! responses and events from the adapter. Commands keep their params as a JSON value until the
//! method is known, so a bad method or param gets its own code instead of one serde message.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::{Event, Op, Reply, UserId};

pub const PROTOCOL: &str = "callconf-driver/1";

/// A command, as it travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    pub id: u64,
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

/// What a command asks, once read.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Open(Open),
    Close {
        device: String,
    },
    Op {
        device: String,
        op: Op,
    },
    /// A call listener of the device's SDK, by id (CometChat `addCallListener(id, …)` /
    /// `removeCallListener(id)`), and what one received (docs/driver-protocol.md §3.4).
    Listener {
        device: String,
        listener: String,
        action: ListenerAction,
    },
    Reset,
    End,
}

/// What `device.listener` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListenerAction {
    /// Registers a listener under the id; an id already registered is refused with 400.
    Add,
    /// Removes it; the result says whether there was one (`{"removed": true}`).
    Remove,
    /// The events the listener received since it was added or last taken, in order
    /// (`{"events": [...]}`), and forgets them.
    Take,
}

/// `device.listener`'s params.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerParams {
    pub device: String,
    pub listener: String,
    pub action: ListenerAction,
}

/// `device.open`'s params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open {
    pub device: String,
    pub user: UserId,
    pub label: String,
    pub server: String,
    pub credentials: Credentials,
    #[serde(default)]
    pub automatic: Automatic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub token: crate::server::auth::Token,
}

/// Which automatic steps the device takes (docs/driver-protocol.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automatic {
    pub ringing: bool,
    pub start_session: bool,
}

impl Default for Automatic {
    fn default() -> Self {
        Self {
            ringing: true,
            start_session: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceParam {
    device: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpParams {
    device: String,
    op: Op,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// Why a command could not be read: its canonical code (§4) and message.
pub type Bad = (u16, String);

impl Command {
    pub fn new(id: u64, method: &Method) -> Self {
        let (name, params) = match method {
            Method::Open(o) => ("device.open", serde_json::to_value(o).expect("serializes")),
            Method::Close { device } => ("device.close", serde_json::json!({ "device": device })),
            Method::Op { device, op } => (
                "device.op",
                serde_json::json!({ "device": device, "op": op }),
            ),
            Method::Listener {
                device,
                listener,
                action,
            } => (
                "device.listener",
                serde_json::to_value(ListenerParams {
                    device: device.clone(),
                    listener: listener.clone(),
                    action: *action,
                })
                .expect("serializes"),
            ),
            Method::Reset => ("session.reset", serde_json::json!({})),
            Method::End => ("session.end", serde_json::json!({})),
        };
        Self {
            id,
            method: name.to_owned(),
            params,
        }
    }

    /// The method with its params read, or code 1001 (unknown method) / 1000 (bad params).
    pub fn read(&self) -> Result<Method, Bad> {
        fn params<T: serde::de::DeserializeOwned>(p: &Value) -> Result<T, Bad> {
            let p = if p.is_null() {
                serde_json::json!({})
            } else {
                p.clone()
            };
            serde_json::from_value(p).map_err(|e| (1000, format!("params: {e}")))
        }
        Ok(match self.method.as_str() {
            "device.open" => Method::Open(params(&self.params)?),
            "device.close" => Method::Close {
                device: params::<DeviceParam>(&self.params)?.device,
            },
            "device.op" => {
                let p: OpParams = params(&self.params)?;
                Method::Op {
                    device: p.device,
                    op: p.op,
                }
            }
            "device.listener" => {
                let p: ListenerParams = params(&self.params)?;
                Method::Listener {
                    device: p.device,
                    listener: p.listener,
                    action: p.action,
                }
            }
            "session.reset" => {
                params::<NoParams>(&self.params)?;
                Method::Reset
            }
            "session.end" => {
                params::<NoParams>(&self.params)?;
                Method::End
            }
            other => return Err((1001, format!("unknown method `{other}`"))),
        })
    }
}

/// The adapter and the SDK under test, as the hello names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    pub name: String,
    pub version: String,
}

/// What the adapter can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    pub operations: Vec<String>,
    pub provisioning: Provisioning,
    pub clock: ClockCapability,
    pub max_devices: usize,
    /// The automatic steps the adapter can switch off.
    #[serde(default)]
    pub automatic: Vec<String>,
    /// Whether the adapter answers `device.listener` (call listeners by id).
    #[serde(default)]
    pub listeners: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provisioning {
    Server,
    Accounts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockCapability {
    Server,
    None,
}

/// An adapter's error response's `vendor` part: the SDK's own code and text, raw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vendor {
    #[serde(default)]
    pub code: Value,
    #[serde(default)]
    pub message: Option<String>,
}

/// From the adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdapterMsg {
    Hello {
        protocol: String,
        adapter: Named,
        sdk: Named,
        capabilities: Capabilities,
    },
    Success {
        id: u64,
        #[serde(default)]
        result: Value,
    },
    Error {
        id: Option<u64>,
        code: u16,
        message: String,
        #[serde(default)]
        vendor: Option<Vendor>,
    },
    Event {
        device: String,
        seq: u64,
        event: Event,
    },
}

/// `device.op`'s success result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpResult {
    pub reply: Reply,
}

/// Every canonical operation's name, as `operations` lists them.
pub const OPERATIONS: &[&str] = &[
    "place",
    "ringing",
    "accept",
    "decline",
    "cancel",
    "hangup",
    "end_for_all",
    "join",
    "invite",
    "start_session",
    "hold",
    "mute",
    "dtmf",
    "info",
    "message",
    "custom_data",
    "early_media",
    "transfer",
    "signal",
    "get_call",
];
