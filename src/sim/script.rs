//! Per-call scripts: what each callee will do, whether the caller gives up, how long the talk
//! lasts and which in-call actions happen, all drawn when the call arrives. Drawing everything up
//! front keeps the random stream independent of event interleaving.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::stats::Outcome;
use crate::scenario::Scenario;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Answer { delay_ms: u64 },
    Decline { delay_ms: u64 },
    Busy { delay_ms: u64 },
    NoAnswer,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ActionFlags {
    pub hold: bool,
    pub mute: bool,
    pub dtmf: bool,
    pub transfer: bool,
}

#[derive(Debug, Clone)]
pub struct Script {
    pub callees: Vec<Behaviour>,
    pub cancel_after_ms: Option<u64>,
    pub talk_ms: u64,
    pub actions: ActionFlags,
}

impl Script {
    pub fn draw(sc: &Scenario, callees: usize, rng: &mut ChaCha8Rng) -> Self {
        let callees = (0..callees).map(|_| Self::draw_callee(sc, rng)).collect();
        let cancel_after_ms = (rng.random::<f64>() < sc.caller.cancel)
            .then(|| sc.caller.cancel_after_ms.sample_ms(rng));
        let talk_ms = sc.talk_time_ms.sample_ms(rng).max(1);
        let a = &sc.actions;
        let actions = ActionFlags {
            hold: rng.random::<f64>() < a.hold,
            mute: rng.random::<f64>() < a.mute,
            dtmf: rng.random::<f64>() < a.dtmf,
            transfer: rng.random::<f64>() < a.transfer,
        };
        Self {
            callees,
            cancel_after_ms,
            talk_ms,
            actions,
        }
    }

    pub fn draw_callee(sc: &Scenario, rng: &mut ChaCha8Rng) -> Behaviour {
        let e = &sc.callee;
        let x: f64 = rng.random();
        if x < e.answer {
            Behaviour::Answer {
                delay_ms: e.answer_delay_ms.sample_ms(rng),
            }
        } else if x < e.answer + e.decline {
            Behaviour::Decline {
                delay_ms: e.decline_delay_ms.sample_ms(rng),
            }
        } else if x < e.answer + e.decline + e.busy {
            Behaviour::Busy {
                delay_ms: e.decline_delay_ms.sample_ms(rng),
            }
        } else {
            Behaviour::NoAnswer
        }
    }

    /// The outcome a working server must give this 1:1 call, when the script decides it without
    /// a race: `None` for group calls, transfers, and for decisions so close in time to another
    /// (a cancel against an answer, an answer against the ring timeout) that network delay may
    /// order them either way. Such calls count as successful if their outcome is a clean one.
    pub fn expected(&self, sc: &Scenario, participants: usize) -> Option<Outcome> {
        if participants != 2 || self.actions.transfer {
            return None;
        }
        // A decision is unambiguous when it is this far from any other: several round trips of
        // the mean latency, plus retransmissions.
        let margin =
            (sc.network.latency_ms.mean() * 10.0) as u64 + 4 * sc.network.retransmit_ms + 1000;
        let ring = sc.limits.ring_timeout_ms;
        let (outcome, at) = match self.callees[0] {
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
        match self.cancel_after_ms {
            Some(c) if c.abs_diff(at) < margin => None,
            Some(c) if c < at => Some(Outcome::Cancelled),
            _ => Some(outcome),
        }
    }
}
