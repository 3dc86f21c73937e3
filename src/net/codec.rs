//! The options a `callconf-wire/1` connection may negotiate in its first message
//! (docs/wire-protocol.md §9): the encoding of its frames (JSON text, or the compact binary
//! encoding, MessagePack) and `mux`, several devices sharing the connection, each message tagged
//! with its device's channel and many messages batched in one frame.
//!
//! Why: a load generator's CPU per call went mostly to the kernel's per-write and per-read work
//! (one socket per device, a write per wakeup each) and to JSON; sharing a connection lets one
//! write and one read carry many devices' messages, as SIPp carries every call over one socket.
//! Without an `open`, a connection is one device speaking JSON, exactly as before.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;

use super::limits::{MUX_BATCH_MESSAGES_MAX, MUX_FRAME_BYTES_TARGET};

/// The feature several devices share a connection under.
pub const FEATURE_MUX: &str = "mux";

/// How a connection's frames after the negotiation are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// One JSON value per text frame (the default, and the only encoding without `open`).
    #[default]
    Json,
    /// One MessagePack value per binary frame, maps with field names: the same values as the
    /// JSON, read and written without text.
    Compact,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Compact => "compact",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "json" => Some(Encoding::Json),
            "compact" => Some(Encoding::Compact),
            _ => None,
        }
    }

    /// One value as one frame of this encoding.
    pub fn frame<T: Serialize>(self, value: &T) -> Message {
        match self {
            Encoding::Json => Message::text(serde_json::to_string(value).expect("serializes")),
            Encoding::Compact => {
                Message::binary(rmp_serde::to_vec_named(value).expect("serializes"))
            }
        }
    }

    /// One value from a data frame of this encoding; `Err`: why not (a frame of the other kind,
    /// or one that does not decode), for a 900.
    pub fn read<T: DeserializeOwned>(self, frame: &Message) -> Result<T, String> {
        match (self, frame) {
            (Encoding::Json, Message::Text(t)) => {
                serde_json::from_str(t.as_str()).map_err(|e| e.to_string())
            }
            (Encoding::Compact, Message::Binary(b)) => {
                rmp_serde::from_slice(b).map_err(|e| e.to_string())
            }
            (Encoding::Json, _) => Err("binary frames are not part of the json encoding".into()),
            (Encoding::Compact, _) => {
                Err("text frames are not part of the compact encoding".into())
            }
        }
    }

    /// A batch of `(channel, message)` pairs from one frame (`mux`), at most
    /// [`MUX_BATCH_MESSAGES_MAX`] of them.
    pub fn read_batch<T: DeserializeOwned>(self, frame: &Message) -> Result<Vec<(u32, T)>, String> {
        let batch: Vec<(u32, T)> = self.read(frame)?;
        if batch.len() > MUX_BATCH_MESSAGES_MAX {
            return Err(format!(
                "a batch of {} messages; at most {MUX_BATCH_MESSAGES_MAX}",
                batch.len()
            ));
        }
        Ok(batch)
    }
}

/// The negotiation: the client's first message, and the server's answer. Always JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Negotiation {
    /// The features the client asks for (unknown ones are not granted) and its encoding.
    Open {
        protocol: String,
        features: Vec<String>,
        encoding: String,
    },
    /// What the server grants: the features it speaks of those asked for, and the encoding.
    Opened {
        protocol: String,
        features: Vec<String>,
        encoding: String,
    },
}

/// Writes `(channel, message)` pairs into batch frames of about
/// [`MUX_FRAME_BYTES_TARGET`] bytes and at most [`MUX_BATCH_MESSAGES_MAX`] messages each.
pub struct BatchWriter {
    encoding: Encoding,
    buf: Vec<u8>,
    count: usize,
    done: Vec<Message>,
}

/// A MessagePack array header of 32-bit length, written before the count is known.
const MSGPACK_ARRAY32: u8 = 0xdd;

impl BatchWriter {
    pub fn new(encoding: Encoding) -> Self {
        Self {
            encoding,
            buf: Vec::with_capacity(4096),
            count: 0,
            done: Vec::new(),
        }
    }

    pub fn push<T: Serialize>(&mut self, channel: u32, msg: &T) {
        if self.count == 0 {
            self.buf.clear();
            match self.encoding {
                Encoding::Json => self.buf.push(b'['),
                Encoding::Compact => self.buf.extend_from_slice(&[MSGPACK_ARRAY32, 0, 0, 0, 0]),
            }
        } else if self.encoding == Encoding::Json {
            self.buf.push(b',');
        }
        let pair = (channel, msg);
        match self.encoding {
            Encoding::Json => serde_json::to_writer(&mut self.buf, &pair).expect("serializes"),
            Encoding::Compact => {
                rmp_serde::encode::write_named(&mut self.buf, &pair).expect("serializes")
            }
        }
        self.count += 1;
        if self.buf.len() >= MUX_FRAME_BYTES_TARGET || self.count >= MUX_BATCH_MESSAGES_MAX {
            self.end_frame();
        }
    }

    fn end_frame(&mut self) {
        if self.count == 0 {
            return;
        }
        let mut bytes = std::mem::replace(&mut self.buf, Vec::with_capacity(4096));
        let frame = match self.encoding {
            Encoding::Json => {
                bytes.push(b']');
                let text = String::from_utf8(bytes).expect("JSON is UTF-8");
                Message::text(text)
            }
            Encoding::Compact => {
                bytes[1..5].copy_from_slice(&(self.count as u32).to_be_bytes());
                Message::binary(bytes)
            }
        };
        self.done.push(frame);
        self.count = 0;
    }

    /// Whether nothing is written since the last [`BatchWriter::frames`].
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.done.is_empty()
    }

    /// The frames written so far, in order.
    pub fn frames(&mut self) -> std::vec::Drain<'_, Message> {
        self.end_frame();
        self.done.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::wire::{ClientMsg, ReadClient};

    #[test]
    fn batches_read_back_in_both_encodings() {
        for enc in [Encoding::Json, Encoding::Compact] {
            let mut w = BatchWriter::new(enc);
            let msgs: Vec<ClientMsg> = (0..300)
                .map(|i| ClientMsg::Request {
                    id: i,
                    op: crate::core::Op::hangup(crate::core::CallId(i)),
                })
                .collect();
            for (i, m) in msgs.iter().enumerate() {
                w.push(i as u32 + 1, m);
            }
            let mut back = Vec::new();
            for f in w.frames() {
                let batch: Vec<(u32, ReadClient)> = enc.read_batch(&f).unwrap();
                back.extend(batch.into_iter().map(|(c, m)| (c, m.0)));
            }
            let want: Vec<(u32, ClientMsg)> = msgs
                .into_iter()
                .enumerate()
                .map(|(i, m)| (i as u32 + 1, m))
                .collect();
            assert_eq!(back, want, "{enc:?}");
        }
    }
}
