//! Scripts: what the users of one call will do, drawn from a load scenario's random stream by the
//! driver that runs the scenario (the simulator, the real-time driver). The [`Agent`] of each
//! device only executes its user's [`Part`] of it.
//!
//! Drawing is kept here, once, so that both drivers draw the same things in the same order: the
//! call's shape at its arrival ([`pick_mix`]), the whole [`Script`] right after (every callee's
//! decision, the caller's cancel, the talk time, which in-call actions happen), and the in-call
//! actions' times when the call is answered ([`InCall::draw`]). Drawing up front keeps the random
//! stream independent of event interleaving; only the in-call times wait for the answer, because
//! they are offsets into the talk that follows it.
//!
//! [`Agent`]: super::Agent

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use smallvec::SmallVec;

use crate::scenario::Scenario;

/// What one callee does with its invitation, from the moment it reaches the deciding device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Answer {
        delay_ms: u64,
    },
    /// Declines with 603.
    Decline {
        delay_ms: u64,
    },
    /// Rejects with 486 Busy Here.
    Busy {
        delay_ms: u64,
    },
    /// Lets it ring until the ring timeout.
    NoAnswer,
}

/// Which in-call actions happen in an answered call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionFlags {
    pub hold: bool,
    pub mute: bool,
    pub dtmf: bool,
    pub transfer: bool,
}

/// Everything the users of one call will do, drawn when the call arrives.
#[derive(Debug, Clone)]
pub struct Script {
    /// One per invitee, in invitation order; a 1:1 call's one is kept inline (the simulator draws
    /// a script for each of its million calls).
    pub callees: SmallVec<[Behaviour; 1]>,
    /// The caller gives up this long after placing, if nobody answered by then.
    pub cancel_after_ms: Option<u64>,
    /// From the answer to the caller's end of the call; at least 1.
    pub talk_ms: u64,
    pub actions: ActionFlags,
}

/// A caller's part of a [`Script`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerPart {
    /// When the place request was sent, on the agent's clock (the cancel counts from it).
    pub placed_ms: u64,
    pub cancel_after_ms: Option<u64>,
    pub talk_ms: u64,
    /// End the call for everyone after the talk (a group call's host) instead of hanging up.
    pub end_for_all: bool,
}

/// One device's part of a call's script (see [`Agent::handle_script`](super::Agent::handle_script)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Caller(CallerPart),
    /// Given to the device that decides (the simulator's first device of the user); the user's
    /// other devices only ring.
    Callee(Behaviour),
}

/// A timed in-call action of a user (see [`Agent::handle_action`](super::Agent::handle_action)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Hold,
    Unhold,
    /// Mute the audio track.
    Mute,
    /// Send [`DTMF_DIGITS`].
    Dtmf,
    /// Blind-transfer the call; the driver picks the target ([`Output::Transfer`]).
    ///
    /// [`Output::Transfer`]: super::Output::Transfer
    Transfer,
    /// Hang up (a callee's own end, e.g. the simulator's backstop for a caller that vanished).
    Hangup,
}

/// Whose action a step of an [`InCall`] plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Caller,
    /// The first invitee.
    Callee,
}

/// The digits a scripted DTMF action sends.
pub const DTMF_DIGITS: &str = "1234#";

/// In-call steps one answered call can have: hold, unhold, mute, DTMF, transfer.
const IN_CALL_STEPS_MAX: usize = 5;

/// The in-call actions of an answered call with their absolute times, in the order drawn. The
/// driver hands each step to its side's agent in this order, so that steps due at the same
/// millisecond keep it.
#[derive(Debug, Clone, Copy, Default)]
pub struct InCall {
    steps: [Option<(u64, Side, Action)>; IN_CALL_STEPS_MAX],
    len: usize,
}

impl InCall {
    /// Draws the times of the call's in-call actions, answered at `answered_ms`: each at a uniform
    /// point of the first half of the talk; a hold lasts the scenario's `hold_ms`, at most half the
    /// talk. Draws nothing when no action is flagged.
    pub fn draw(
        sc: &Scenario,
        answered_ms: u64,
        talk_ms: u64,
        flags: ActionFlags,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let mut plan = Self::default();
        let at = |rng: &mut ChaCha8Rng| answered_ms + rng.random_range(0..=talk_ms / 2);
        if flags.hold {
            let t = at(rng);
            let hold_ms = sc.actions.hold_ms.sample_ms(rng);
            plan.push(t, Side::Caller, Action::Hold);
            plan.push(t + hold_ms.min(talk_ms / 2), Side::Caller, Action::Unhold);
        }
        if flags.mute {
            plan.push(at(rng), Side::Callee, Action::Mute);
        }
        if flags.dtmf {
            plan.push(at(rng), Side::Caller, Action::Dtmf);
        }
        if flags.transfer {
            plan.push(at(rng), Side::Callee, Action::Transfer);
        }
        plan
    }

    fn push(&mut self, at_ms: u64, side: Side, action: Action) {
        self.steps[self.len] = Some((at_ms, side, action));
        self.len += 1;
    }

    /// `(at_ms, side, action)` in the order drawn.
    pub fn steps(&self) -> impl Iterator<Item = (u64, Side, Action)> + '_ {
        self.steps[..self.len].iter().flatten().copied()
    }
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

    /// One callee's decision: answer, decline and busy take their delays from the scenario's
    /// `answer_delay_ms` and `decline_delay_ms` (busy is a decline with 486).
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

    /// The caller's part, for a call placed at `placed_ms`; a group call's caller ends it for
    /// everyone.
    pub fn caller_part(&self, placed_ms: u64, group: bool) -> Part {
        Part::Caller(CallerPart {
            placed_ms,
            cancel_after_ms: self.cancel_after_ms,
            talk_ms: self.talk_ms,
            end_for_all: group,
        })
    }
}

/// Which entry of the scenario's call mix an arrival is, by the entries' shares.
pub fn pick_mix(sc: &Scenario, rng: &mut ChaCha8Rng) -> usize {
    let mut x: f64 = rng.random();
    for (i, m) in sc.calls.mix.iter().enumerate() {
        if x < m.share {
            return i;
        }
        x -= m.share;
    }
    sc.calls.mix.len() - 1
}
