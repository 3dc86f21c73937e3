//! A callee scripted to answer accepts its invitation the answer delay after it arrived, then
//! starts the session on the accept's success.

use callconf::agent::{Behaviour, Part, Tag};
use callconf::core::Op;

use crate::{CALL, bob, ended, incoming, requests, run_until};

fn answering(delay_ms: u64) -> callconf::agent::Agent {
    let mut a = bob();
    a.handle_script(100, CALL, Part::Callee(Behaviour::Answer { delay_ms }))
        .unwrap();
    a.handle_event(100, &incoming());
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL)]);
    a
}

#[test]
fn the_answer_comes_the_answer_delay_after_the_invitation() {
    let mut a = answering(2_500);
    assert_eq!(a.poll_timeout(), Some(2_600));
    assert!(run_until(&mut a, 2_599).is_empty());
    assert_eq!(run_until(&mut a, 2_600), vec![(2_600, Op::accept(CALL))]);
    a.handle_reply(2_640, Tag::of(&Op::accept(CALL)), Ok(()));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
}

#[test]
fn a_zero_delay_is_due_at_once() {
    let mut a = answering(0);
    assert_eq!(a.poll_timeout(), Some(100));
    assert_eq!(run_until(&mut a, 100), vec![(100, Op::accept(CALL))]);
}

#[test]
fn an_invitation_that_ended_is_not_answered() {
    let mut a = answering(2_500);
    a.handle_event(1_000, &ended());
    assert_eq!(a.poll_timeout(), None, "its timers went with it");
    assert!(run_until(&mut a, 10_000).is_empty());
}

#[test]
fn an_invitation_delivered_again_after_a_reconnect_is_answered_again() {
    let mut a = answering(2_500);
    a.handle_event(1_000, &incoming());
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL)]);
    let times: Vec<u64> = run_until(&mut a, 10_000).iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![2_600, 3_500]);
}

#[test]
fn a_device_without_the_script_only_rings() {
    let mut a = bob();
    a.handle_event(100, &incoming());
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL)]);
    assert!(run_until(&mut a, 60_000).is_empty());
}
