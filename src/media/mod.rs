//! Real media path: GStreamer-synthesised audio/video, webrtc-rs transport, analysis.
//!
//! See `docs/media.md` for the design and how each figure is measured. Arrows point one
//! way: `session` drives `peer`/`sender`/`receiver`, which use `synth`/`codec`/`analyze`;
//! `impair::LinkModel` and `analyze` are pure and know nothing of sockets or GStreamer.
pub mod analyze;
pub mod browser_call;
mod browser_page;
pub mod browser_receive;
pub mod capacity;
pub mod codec;
pub mod error;
pub mod fake_capture;
pub mod framebuf;
pub mod ice;
pub mod impair;
pub mod limits;
pub mod peer;
pub mod receiver;
pub mod recovery;
pub mod relay;
pub mod report;
pub mod run;
pub mod sender;
pub mod session;
pub mod stream;
pub mod synth;
pub mod wire;
