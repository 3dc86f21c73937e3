//! The reference model of the call lifecycle, and what drives it: the steps of a case, their
//! generator, the invariants and the shrinker.
//!
//! Written from the SPEC's rules and the delivery contract in `core::event`, not from the core's
//! code: a call is a list of people (the host first, then everyone invited, in order), each with
//! a state, the device they sit in the session with, and the devices ringing for them. Every
//! operation is a small function that first decides the answer (checks in a fixed order, each
//! one naming the refusal it gives) and only then changes the world and writes down, per
//! device, the events that device must receive. Nothing here is clever: busy-ness, audiences and
//! counts are recomputed by scanning, never cached. The model uses the core's *types* (events,
//! snapshots, ids) so that its predictions compare with what a system shows, and never calls the
//! core to decide anything.
//!
//! The model also knows what is outside the lifecycle proper: which devices are online (an
//! offline device is told nothing and may ask nothing: 401), and virtual time (a ring times out
//! exactly `RING_TIMEOUT_MS` after the invitation, in deadline order).
//!
//! Why it lives in the library: the property tests (`tests/prop/`) check callconf's own core
//! with it, and `callconf explore` checks any system behind an adapter with the same model,
//! generator, invariants and shrinker.
//!
//! - `cast`: the users, their devices and settings, the groups;
//! - `world`: the model's state and the prediction of the last step;
//! - `ringing`, `in_call`: the rules, one function per operation;
//! - `step`: the steps of a case, naming devices and calls as the model does;
//! - `generate`: the strategies that generate casts and steps;
//! - `compare`: what a system showed after a step against the prediction;
//! - `invariants`: what must hold after every step, whatever the model says;
//! - `shrink`: the shrinker that runs after proptest's.

mod cast;
pub mod compare;
mod dialect;
pub mod generate;
mod in_call;
pub mod invariants;
mod ringing;
pub mod shrink;
mod step;
mod world;

pub use cast::*;
pub use dialect::Dialect;
pub use step::{Back, Step};
pub use world::*;

/// Users in the world, named `u0`..`u3`.
pub const USERS: usize = 4;
/// The canonical ring timeout (the core's default); a dialect may state another
/// ([`Dialect::ring_timeout_ms`]).
pub const RING_TIMEOUT_MS: u64 = 30_000;
/// Calls alive at once; a fourth is refused with 503 (`Limits::live_calls_max`).
pub const LIVE_CALLS_MAX: usize = 3;
/// The groups: a name and its members.
pub const GROUPS: [(&str, &[usize]); 2] = [("all", &[0, 1, 2, 3]), ("trio", &[0, 1, 2])];
/// Steps in one generated case, at most.
pub const STEPS_MAX: usize = 30;

/// The model as proptest-state-machine sees it.
pub struct Lifecycle;

impl proptest_state_machine::ReferenceStateMachine for Lifecycle {
    type State = World;
    type Transition = Step;

    fn init_state() -> proptest::strategy::BoxedStrategy<World> {
        generate::init_state()
    }

    fn transitions(state: &World) -> proptest::strategy::BoxedStrategy<Step> {
        generate::transitions(state)
    }

    fn apply(mut state: World, step: &Step) -> World {
        state.step(step);
        state
    }

    fn preconditions(state: &World, step: &Step) -> bool {
        generate::valid(state, step)
    }
}
