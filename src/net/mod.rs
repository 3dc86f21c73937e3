//! The real-time transport: the reference server behind WebSocket connections with JSON
//! messages (`callconf-wire/1`, docs/wire-protocol.md), its admin channel, and the load driver
//! that places calls through such connections in wall-clock time.

pub mod admin;
pub mod codec;
pub mod error;
pub mod limits;
pub mod load;
mod mux_server;
pub mod serve;
pub mod server;
pub mod wire;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub use limits::{
    CONNECTION_EVENTS_QUEUED_MAX, FRAMES_PER_WAKEUP_MAX, WS_READ_BUFFER_BYTES,
    WS_WRITE_BUFFER_BYTES,
};

/// The WebSocket settings of both ends of a device connection.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(WS_WRITE_BUFFER_BYTES)
        .max_message_size(Some(limits::MESSAGE_BYTES_MAX))
        .max_frame_size(Some(limits::MESSAGE_BYTES_MAX))
}

/// The WebSocket settings of an admin connection (larger messages: a whole population).
pub fn admin_ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(limits::ADMIN_MESSAGE_BYTES_MAX))
        .max_frame_size(Some(limits::ADMIN_MESSAGE_BYTES_MAX))
}
