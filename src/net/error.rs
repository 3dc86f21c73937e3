//! Why the server refused or closed a connection: stable codes 900–911, sent in an `error`
//! message before the close (docs/wire-protocol.md lists them). A call operation's refusal is
//! not here: it is the reply's `CallError` code (400–503), and the connection goes on.

use thiserror::Error;

use super::limits::{HANDSHAKE_TIMEOUT_MS, MESSAGE_BYTES_MAX, MUX_DEVICES_MAX};
use super::wire::{PROTOCOL, WireError};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// 900: not a JSON text frame of the protocol (bad JSON, wrong fields, a binary frame).
    #[error("malformed message: {0}")]
    Malformed(String),
    /// 901: the hello names another protocol, or none.
    #[error("unsupported protocol {0}; this server speaks {PROTOCOL}")]
    Protocol(String),
    /// 902: unknown user or device, or a wrong token (one answer for all three, so that a
    /// refusal does not tell which devices exist).
    #[error("authentication failed")]
    Auth,
    /// 903: the device already has a live connection; the new one is refused and the old one
    /// goes on.
    #[error("device is already connected")]
    AlreadyConnected,
    /// 904: a request before the hello, or a second hello.
    #[error("{0}")]
    OutOfOrder(&'static str),
    /// 905: a message over the size limit.
    #[error("message over {MESSAGE_BYTES_MAX} bytes")]
    TooLarge,
    /// 906: no accepted hello within the handshake deadline.
    #[error("no hello within {HANDSHAKE_TIMEOUT_MS} ms")]
    HandshakeTimeout,
    /// 907: the server holds its maximum of connections.
    #[error("too many connections")]
    ServerFull,
    /// 908: the device did not read its output fast enough and was dropped.
    #[error("slow consumer: output queue full")]
    SlowConsumer,
    /// 909: the administrator removed the device or reset the server.
    #[error("{0}")]
    Removed(&'static str),
    /// 910: the server is shutting down.
    #[error("server shutting down")]
    ShuttingDown,
    /// 911: a shared (`mux`) connection already carries its maximum of devices.
    #[error("too many devices on this connection (at most {MUX_DEVICES_MAX})")]
    TooManyDevices,
}

impl Refusal {
    pub fn code(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 900,
            Refusal::Protocol(_) => 901,
            Refusal::Auth => 902,
            Refusal::AlreadyConnected => 903,
            Refusal::OutOfOrder(_) => 904,
            Refusal::TooLarge => 905,
            Refusal::HandshakeTimeout => 906,
            Refusal::ServerFull => 907,
            Refusal::SlowConsumer => 908,
            Refusal::Removed(_) => 909,
            Refusal::ShuttingDown => 910,
            Refusal::TooManyDevices => 911,
        }
    }

    pub fn wire(&self) -> WireError {
        WireError {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

/// A serde message about a frame that may hold a secret (a hello's token), with every quoted
/// string literal blanked: serde quotes values (`invalid type: string "…"`) in double quotes
/// and field names in backticks, so the names stay and the values go.
pub fn redact_literals(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            if inside {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_field_names_and_drops_values() {
        let m = r#"invalid type: string "s3cret", expected u64 at line 1; unknown field `tokn`"#;
        let r = redact_literals(m);
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("`tokn`"), "{r}");
    }
}
