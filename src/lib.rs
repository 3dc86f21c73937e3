//! callconf: a conformance test suite and simulator for voice/video calling SDKs.
//!
//! The layers, each depending only on the ones before it:
//! - [`core`]: the call lifecycle as a sans-IO state machine (no I/O, time as an input).
//! - [`agent`]: what a device does on its own (ringing, starting the session, a load scenario's
//!   scripted reactions), sans-IO like the core, with scripts drawn from a [`scenario`] (itself
//!   only core types); the client, the simulator and the real-time driver take their devices'
//!   steps from it.
//! - [`server`]: the reference call server, a tokio task adapting the core to channels.
//! - [`client`]: the reference client SDK device, talking to the server.
//! - [`session`]: an in-process multi-user session in virtual time, shared by demo and tests.
//! - [`demo`]: a scripted session through server and clients, rendered as a timeline.
//! - [`conformance`]: the Gherkin suite: step catalog, world, checker, runner and reports.
//! - [`scenario`], [`sim`], [`report`], [`load`]: YAML load scenarios, the deterministic cell
//!   simulator that drives the core in virtual time, reports, and `callconf load`/`merge`.
//! - [`net`]: the reference server behind WebSocket/JSON, and the real-time load driver.
//! - [`profile`]: vendor dialects as data (`profiles/*.yaml`), turned into the core's policy.
//!
//! The core in a nutshell (time is an argument; replies come back at once; deliveries are polled):
//!
//! ```
//! use callconf::core::{CallType, Core, EndReason, Event, Limits, Op, PlaceCall, Reply, UserConfig};
//!
//! let mut core = Core::new(Limits::default());
//! let alice = core.add_user("alice", UserConfig::default()).unwrap();
//! let bob = core.add_user("bob", UserConfig::default()).unwrap();
//! let (a, b) = (core.add_device(&alice, "laptop").unwrap(), core.add_device(&bob, "phone").unwrap());
//! core.handle_connect(0, a).unwrap();
//! core.handle_connect(0, b).unwrap();
//!
//! let Ok(Reply::Placed { call, .. }) =
//!     core.handle_request(0, a, Op::Place(PlaceCall::direct("bob", CallType::Video)))
//! else {
//!     panic!("placing a call to an idle, connected user succeeds")
//! };
//! let ring = core.poll_event().unwrap();
//! assert!(ring.device == b && matches!(ring.event, Event::Incoming { .. }));
//!
//! // Nobody answers: the ring timeout is the core's next deadline, 30 s after placing.
//! assert_eq!(core.poll_timeout(), Some(30_000));
//! core.handle_timeout(30_000);
//! let ended: Vec<_> = std::iter::from_fn(|| core.poll_event()).collect();
//! assert_eq!(ended.len(), 2, "caller and callee are both told");
//! assert!(ended.iter().all(|d| d.event == Event::Ended { call, reason: EndReason::NoAnswer }));
//! ```
pub mod agent;
pub mod certificate;
pub mod client;
pub mod conformance;
pub mod core;
pub mod cpu;
pub mod demo;
pub mod driver;
pub mod explore;
pub mod load;
pub mod media;
pub mod model;
pub mod net;
pub mod profile;
pub mod report;
pub mod scenario;
pub mod server;
pub mod session;
pub mod sim;
