//! The driver protocol, `callconf-driver/1` (docs/driver-protocol.md): how callconf drives
//! devices of an SDK it did not write, through an adapter in another process.
//!
//! - [`msg`]: the messages; [`lines`]: newline-delimited JSON over pipes.
//! - [`adapter`]: `callconf adapter`, the reference client behind the protocol.
//! - [`remote`]: callconf's side: an adapter process, commands with deadlines, events checked
//!   for order and ownership, misbehaviour turned into typed errors.
//! - [`link`]: the transports (stdio, and the WebSocket an adapter dials in on);
//!   [`peer`]: the adapter's process, killed on every exit path; [`browser`]: headless
//!   Chromium hosting the web adapter's page (`adapters/web/`); [`fleet`]: several adapters
//!   behind one system under test, devices routed by user.

pub mod adapter;
pub mod browser;
pub mod fleet;
pub mod limits;
pub mod lines;
pub mod link;
pub mod msg;
pub mod peer;
pub mod pipeline;
pub mod remote;
