//! Unit tests of the sans-IO core, one file per rule of the lifecycle.

mod harness;
mod smoke;
