//! Unit tests of the sans-IO core, one file per rule of the lifecycle.

mod harness;
mod smoke;

mod authorization;
mod busy;
mod cancel;
mod data;
mod decline;
mod determinism;
mod dtmf;
mod early_media;
mod end_for_all;
mod hangup;
mod headers;
mod hold_mute;
mod invariants;
mod join_invite_notify;
mod multi_device;
mod placing;
mod plans;
mod presence;
mod ringing;
mod signal;
mod status;
mod transfer;
