//! The real-time transport: the reference server behind WebSocket connections with JSON
//! messages, and the load driver that places calls through such connections in wall-clock time.

pub mod load;
pub mod server;
pub mod wire;
