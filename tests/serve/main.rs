//! `callconf serve` from outside: a real process, raw WebSocket clients speaking the documented
//! JSON, the admin channel, and a Python client written from docs/wire-protocol.md alone.

mod admin;
mod auth;
mod common;
mod connection_limits;
mod faults;
mod flood;
mod logs;
mod manual_clock;
mod mux;
mod mux_compact;
mod population;
mod python_client;
mod shutdown;
mod wire_example;
