//! The GStreamer half of the media path (synthesis, encode, decode) and the pure analysis,
//! one file per behaviour. Every test starts its own live sources, so each takes about as
//! long as the media it pulls (under two seconds).

mod support;

mod bad_input;
mod mark;
mod quality;
mod roundtrip;
mod source;
mod tone;
