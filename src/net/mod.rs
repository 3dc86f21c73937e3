//! The real-time transport: the reference server behind WebSocket connections with JSON
//! messages, and the load driver that places calls through such connections in wall-clock time.

pub mod load;
pub mod server;
pub mod wire;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Output queued for one connection (replies and events) before the server drops the device
/// as a slow consumer.
pub const CONNECTION_EVENTS_QUEUED_MAX: usize = 4096;
/// Frames one connection takes in, or sends, per wakeup before it yields to the others: the
/// batch that makes one flush carry many frames, bounded so no busy connection starves the rest.
pub const FRAMES_PER_WAKEUP_MAX: usize = 64;
/// Bytes a WebSocket reads from its socket in one go. tungstenite zero-fills this much of its
/// read buffer before every read (even one that finds nothing), and its default of 128 KiB made
/// that fill half of the load run's CPU time. Signalling frames are 60 to 500 bytes, and one
/// connection carries one call at a time, so a read rarely finds more than this.
pub const WS_READ_BUFFER_BYTES: usize = 1024;
/// Bytes of queued outgoing frames after which a WebSocket writes to its socket without waiting
/// for the flush; below it, frames fed in one wakeup leave together in one write.
pub const WS_WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// The WebSocket settings of both ends of the real-time transport.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(WS_WRITE_BUFFER_BYTES)
}
