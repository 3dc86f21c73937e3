//! The agent's bounds: calls it keeps state for, timers per call. A refused input changes
//! nothing; ringing needs no state and goes on.

use callconf::agent::{Action, Agent, AgentError, Behaviour, Options, Part};
use callconf::core::{CallId, Op, UserId};

use crate::{CALL, incoming, requests};

fn small() -> Agent {
    Agent::new(
        UserId::new("bob"),
        Options {
            calls_max: 2,
            timers_per_call_max: 3,
            ..Options::default()
        },
    )
}

#[test]
fn past_calls_max_a_script_is_refused() {
    let mut a = small();
    let part = Part::Callee(Behaviour::NoAnswer);
    a.handle_script(0, CallId(1), part).unwrap();
    a.handle_script(0, CallId(2), part).unwrap();
    assert_eq!(
        a.handle_script(0, CallId(3), part),
        Err(AgentError::CallsMax(2))
    );
    assert_eq!(a.tracked_calls(), 2);
    a.handle_event(0, &incoming());
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL)]);
}

#[test]
fn past_timers_per_call_max_an_action_is_refused() {
    let mut a = small();
    for t in 1..=3 {
        a.handle_action(0, CALL, t, Action::Dtmf).unwrap();
    }
    assert_eq!(
        a.handle_action(0, CALL, 4, Action::Dtmf),
        Err(AgentError::TimersPerCallMax(3))
    );
}
