//! A caller scripted to give up cancels its delay after placing, unless the call was answered
//! by then.

use callconf::agent::{Agent, CallerPart, Options, Part};
use callconf::core::{Op, UserId};

use crate::{CALL, joined, requests, run_until};

fn alice() -> Agent {
    Agent::new(UserId::new("alice"), Options::default())
}

fn caller(placed_ms: u64, cancel_after_ms: Option<u64>) -> Part {
    Part::Caller(CallerPart {
        placed_ms,
        cancel_after_ms,
        talk_ms: 10_000,
        end_for_all: false,
    })
}

#[test]
fn the_caller_cancels_its_delay_after_placing() {
    let mut a = alice();
    // The script is handed over when the placed reply arrives, 30 ms after placing.
    a.handle_script(1_030, CALL, caller(1_000, Some(5_000)))
        .unwrap();
    assert_eq!(
        run_until(&mut a, 60_000),
        vec![(6_000, Op::Cancel { call: CALL })]
    );
}

#[test]
fn a_cancel_already_due_when_the_script_arrives_is_due_at_once() {
    let mut a = alice();
    a.handle_script(1_200, CALL, caller(1_000, Some(100)))
        .unwrap();
    assert_eq!(a.poll_timeout(), Some(1_200));
}

#[test]
fn an_answered_call_is_not_cancelled() {
    let mut a = alice();
    a.handle_script(1_030, CALL, caller(1_000, Some(5_000)))
        .unwrap();
    a.handle_event(3_000, &joined("bob"));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
    let later: Vec<Op> = run_until(&mut a, 60_000)
        .into_iter()
        .map(|(_, op)| op)
        .collect();
    assert_eq!(
        later,
        vec![Op::hangup(CALL)],
        "the talk ends it, not a cancel"
    );
}

#[test]
fn a_caller_that_does_not_give_up_waits() {
    let mut a = alice();
    a.handle_script(1_030, CALL, caller(1_000, None)).unwrap();
    assert_eq!(a.poll_timeout(), None);
}
