//! The caller ends the call the talk time after the answer: a hang-up, or an end for everyone in
//! a group call. A script that arrives after the answer still counts from the answer.

use callconf::agent::{Agent, CallerPart, Options, Part};
use callconf::core::{Op, UserId};

use crate::{CALL, joined, requests, run_until};

fn caller(talk_ms: u64, end_for_all: bool) -> Part {
    Part::Caller(CallerPart {
        placed_ms: 0,
        cancel_after_ms: None,
        talk_ms,
        end_for_all,
    })
}

fn alice() -> Agent {
    Agent::new(UserId::new("alice"), Options::default())
}

#[test]
fn the_caller_hangs_up_the_talk_time_after_the_answer() {
    let mut a = alice();
    a.handle_script(50, CALL, caller(20_000, false)).unwrap();
    a.handle_event(3_000, &joined("bob"));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
    assert_eq!(run_until(&mut a, 60_000), vec![(23_000, Op::hangup(CALL))]);
}

#[test]
fn a_group_call_s_caller_ends_it_for_everyone() {
    let mut a = alice();
    a.handle_script(50, CALL, caller(1_000, true)).unwrap();
    a.handle_event(3_000, &joined("bob"));
    a.handle_event(3_500, &joined("carol"));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
    assert_eq!(
        run_until(&mut a, 60_000),
        vec![(4_000, Op::EndForAll { call: CALL })],
        "the talk counts from the first answer"
    );
}

#[test]
fn a_script_that_comes_after_the_answer_counts_from_the_answer() {
    let mut a = alice();
    a.handle_event(3_000, &joined("bob"));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
    a.handle_script(3_010, CALL, caller(500, false)).unwrap();
    assert_eq!(run_until(&mut a, 60_000), vec![(3_500, Op::hangup(CALL))]);
}
