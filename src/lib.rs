//! callconf: a conformance test suite and simulator for voice/video calling SDKs.
//!
//! The layers, each depending only on the ones before it:
//! - [`core`]: the call lifecycle as a sans-IO state machine (no I/O, time as an input).
//! - [`server`]: the reference call server, a tokio task adapting the core to channels.
//! - [`client`]: the reference client SDK device, talking to the server.
//! - [`session`]: an in-process multi-user session in virtual time, shared by demo and tests.
//! - [`demo`]: a scripted session through server and clients, rendered as a timeline.
//! - [`conformance`]: the Gherkin suite: step catalog, world, checker, runner and reports.

pub mod client;
pub mod conformance;
pub mod core;
pub mod demo;
pub mod load;
pub mod net;
pub mod report;
pub mod scenario;
pub mod server;
pub mod session;
pub mod sim;
