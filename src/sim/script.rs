//! What a working server must make of a call's script: the outcome the simulator holds a call
//! to. The scripts themselves, and their drawing, are the device agent's ([`crate::agent`]).

use super::stats::Outcome;
use crate::agent::{Behaviour, Script};
use crate::scenario::Scenario;

/// The outcome a working server must give this 1:1 call, when the script decides it without a
/// race: `None` for group calls, transfers, and for decisions so close in time to another (a
/// cancel against an answer, an answer against the ring timeout) that network delay may order
/// them either way. Such calls count as successful if their outcome is a clean one.
pub fn expected(script: &Script, sc: &Scenario, participants: usize) -> Option<Outcome> {
    if participants != 2 || script.actions.transfer {
        return None;
    }
    // A decision is unambiguous when it is this far from any other: several round trips of the
    // mean latency, plus retransmissions.
    let margin = (sc.network.latency_ms.mean() * 10.0) as u64 + 4 * sc.network.retransmit_ms + 1000;
    let ring = sc.limits.ring_timeout_ms;
    let (outcome, at) = match script.callees[0] {
        Behaviour::Answer { delay_ms } => (Outcome::Completed, delay_ms),
        Behaviour::Decline { delay_ms } => (Outcome::Declined, delay_ms),
        Behaviour::Busy { delay_ms } => (Outcome::Busy, delay_ms),
        Behaviour::NoAnswer => (Outcome::NoAnswer, ring),
    };
    let (outcome, at) = if outcome != Outcome::NoAnswer && at + margin >= ring {
        if at > ring + margin {
            (Outcome::NoAnswer, ring)
        } else {
            return None;
        }
    } else {
        (outcome, at)
    };
    match script.cancel_after_ms {
        Some(c) if c.abs_diff(at) < margin => None,
        Some(c) if c < at => Some(Outcome::Cancelled),
        _ => Some(outcome),
    }
}
