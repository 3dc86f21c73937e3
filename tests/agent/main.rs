//! The device agent on its own: events, replies and scripts in, requests and timers out, time as
//! an input. One file per behaviour.

mod bounds;
mod cancel;
mod decline;
mod hangup;
mod in_call;
mod respond;
mod ringing;
mod start_session;
mod timers;

use std::sync::Arc;

use callconf::agent::{Agent, Options, Output, Tag, TimerHome};
use callconf::core::{
    CallId, CallInfo, CallStatus, CallType, EndReason, Event, Op, ParticipantState, UserId,
};

pub const CALL: CallId = CallId(7);

/// bob's device with the default options (the agent keeps its timers).
pub fn bob() -> Agent {
    Agent::new(UserId::new("bob"), Options::default())
}

/// bob's device whose timers a driver keeps.
pub fn bob_driven() -> Agent {
    Agent::new(
        UserId::new("bob"),
        Options {
            timers: TimerHome::Driver,
            ..Options::default()
        },
    )
}

/// alice calls bob.
pub fn incoming() -> Event {
    Event::Incoming {
        info: Arc::new(CallInfo {
            call: CALL,
            call_type: CallType::Audio,
            group: None,
            caller: UserId::new("alice"),
            invitees: vec![UserId::new("bob")],
            status: CallStatus::Calling,
            created_ms: 0,
            custom_data: None,
            headers: Vec::new(),
            transferred_by: None,
        }),
    }
}

pub fn joined(user: &str) -> Event {
    Event::Participant {
        call: CALL,
        user: UserId::new(user),
        state: ParticipantState::Joined,
    }
}

pub fn ended() -> Event {
    Event::Ended {
        call: CALL,
        reason: EndReason::NoAnswer,
    }
}

/// Everything the agent wants done now.
pub fn outputs(agent: &mut Agent) -> Vec<Output> {
    std::iter::from_fn(|| agent.poll_output()).collect()
}

/// The requests the agent wants sent now.
pub fn requests(agent: &mut Agent) -> Vec<Op> {
    outputs(agent)
        .into_iter()
        .map(|o| match o {
            Output::Request(req) => {
                let op = req.op();
                assert_eq!(
                    req.tag(),
                    Tag::of(&op),
                    "a compact request's tag is its op's"
                );
                op
            }
            other => panic!("not a request: {other:?}"),
        })
        .collect()
}

/// Runs the agent's own timers up to `until_ms`; returns `(time, request)` in order.
pub fn run_until(agent: &mut Agent, until_ms: u64) -> Vec<(u64, Op)> {
    let mut done = Vec::new();
    // Bounded: each pass fires at least the earliest timer, and the agent holds finitely many.
    while let Some(t) = agent.poll_timeout().filter(|t| *t <= until_ms) {
        agent.handle_timeout(t);
        done.extend(requests(agent).into_iter().map(|op| (t, op)));
    }
    done
}
