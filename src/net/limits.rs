//! Every limit of the WebSocket front and the admin channel, in one place, units last. The
//! core's own limits (payload sizes, calls, members) are in `core::limits`; these bound what a
//! connection can make the server hold before the core sees anything.

/// Connections open at once, devices and admin together, handshakes included. One more is
/// answered with code 907 and closed.
pub const CONNECTIONS_MAX: usize = 16_384;
/// From TCP accept to an accepted hello. A connection that has not said hello by then is sent
/// code 906 and closed, so idle handshakes cannot hold connection slots.
pub const HANDSHAKE_TIMEOUT_MS: u64 = 5_000;
/// One device message (a WebSocket message, and each of its frames). tungstenite's default is
/// 64 MiB; the largest valid device message is an opaque signal of `signal_bytes_max` (64 KiB)
/// plus its envelope. A larger one is answered with code 905 and the connection closed.
pub const MESSAGE_BYTES_MAX: usize = 128 * 1024;
/// One admin message: a whole population may travel in one `provision` request.
pub const ADMIN_MESSAGE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// A device token.
pub const TOKEN_BYTES_MAX: usize = 256;
/// How long the server waits for a close frame to be written before it drops the socket.
pub const CLOSE_WRITE_TIMEOUT_MS: u64 = 1_000;
/// Trace entries the admin channel can read back (the oldest are dropped and counted past it).
pub const TRACE_KEPT_MAX: usize = 1 << 20;
/// Trace entries in one `trace` reply.
pub const TRACE_READ_MAX: usize = 65_536;
/// Milliseconds one `advance` may move the manual clock.
pub const ADVANCE_MS_MAX: u64 = 24 * 3_600_000;

/// Output queued for one connection (replies and events) before the server drops the device
/// as a slow consumer (code 908). This also bounds the requests a connection can have in
/// flight: the server answers each request on this queue, so a client that sends without
/// reading fills it and is dropped, and a client's unread requests wait in its own socket
/// (TCP flow control), never in the server.
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

/// Commands for the devices behind an adapter (calls to place, callees' in-call actions) queued
/// for the one task that drives them, before the arrivals wait for room.
pub const ADAPTER_COMMANDS_QUEUED_MAX: usize = 4096;
/// Beyond the ring timeout, how long a real-time run waits for its placed calls to end before
/// it counts the rest as lost.
pub const DRAIN_SPARE_MS: u64 = 120_000;

/// Devices one shared (`mux`) connection may authenticate; a hello past it is refused on its
/// channel with code 911 and the others go on.
pub const MUX_DEVICES_MAX: usize = 4096;
/// Output queued for one shared connection (all its devices together) before the server drops
/// every device on it as a slow consumer (code 908).
pub const MUX_EVENTS_QUEUED_MAX: usize = 65_536;
/// Messages in one batch frame of a shared connection, either way (a larger batch is refused
/// with 900).
pub const MUX_BATCH_MESSAGES_MAX: usize = 1024;
/// Bytes after which a batch frame being written is closed and the next begins: well under
/// [`MESSAGE_BYTES_MAX`] even when the message that crosses it is the largest one.
pub const MUX_FRAME_BYTES_TARGET: usize = 32 * 1024;
/// Queued messages a shared connection takes per wakeup to send, before it yields.
pub const MUX_OUT_PER_WAKEUP_MAX: usize = 2048;
