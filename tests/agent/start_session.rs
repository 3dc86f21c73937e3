//! The media session starts once per call: the callee on its accept's (or join's) success, a
//! device already in the session (the caller) when another member joins (CometChat).

use callconf::agent::{Agent, Options, Tag};
use callconf::core::{Op, UserId};

use crate::{CALL, bob, ended, joined, requests};

#[test]
fn an_accepted_call_starts_on_the_accept_s_success() {
    let mut a = bob();
    let tag = a.handle_sent(&Op::accept(CALL));
    assert!(tag.awaits_reply());
    a.handle_reply(10, tag, Ok(()));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
}

#[test]
fn a_joined_group_call_starts_on_the_join_s_success() {
    let mut a = bob();
    let tag = Tag::of(&Op::Join { call: CALL });
    a.handle_reply(10, tag, Ok(()));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
}

#[test]
fn a_refused_accept_starts_nothing() {
    let mut a = bob();
    let tag = Tag::of(&Op::accept(CALL));
    a.handle_reply(10, tag, Err(410));
    assert!(requests(&mut a).is_empty());
}

#[test]
fn other_replies_are_not_awaited() {
    for op in [
        Op::ringing(CALL),
        Op::StartSession { call: CALL },
        Op::hangup(CALL),
    ] {
        assert!(!Tag::of(&op).awaits_reply(), "{op:?}");
    }
    let mut a = bob();
    a.handle_reply(10, Tag::of(&Op::hangup(CALL)), Ok(()));
    assert!(requests(&mut a).is_empty());
}

#[test]
fn the_caller_starts_when_the_first_callee_joins_and_only_then() {
    let mut a = Agent::new(UserId::new("alice"), Options::default());
    a.handle_event(10, &joined("alice"));
    assert!(requests(&mut a).is_empty(), "its own join is not an answer");
    a.handle_event(20, &joined("bob"));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
    a.handle_event(30, &joined("carol"));
    assert!(requests(&mut a).is_empty(), "started once");
}

#[test]
fn a_device_that_accepted_does_not_start_again_when_others_join() {
    let mut a = bob();
    a.handle_reply(10, Tag::of(&Op::accept(CALL)), Ok(()));
    assert_eq!(requests(&mut a).len(), 1);
    a.handle_event(20, &joined("carol"));
    assert!(requests(&mut a).is_empty());
}

#[test]
fn an_application_that_starts_the_session_itself_is_not_started_twice() {
    let mut a = bob();
    a.handle_sent(&Op::StartSession { call: CALL });
    a.handle_reply(10, Tag::of(&Op::accept(CALL)), Ok(()));
    assert!(requests(&mut a).is_empty());
}

#[test]
fn the_state_goes_with_the_closing_event() {
    let mut a = bob();
    a.handle_reply(10, Tag::of(&Op::accept(CALL)), Ok(()));
    assert_eq!(a.tracked_calls(), 1);
    a.handle_event(20, &ended());
    assert_eq!(a.tracked_calls(), 0);
}

#[test]
fn without_auto_start_nothing_is_sent_or_kept() {
    let options = Options {
        auto_start_session: false,
        ..Options::default()
    };
    let mut a = Agent::new(UserId::new("bob"), options);
    a.handle_reply(10, Tag::of(&Op::accept(CALL)), Ok(()));
    a.handle_event(20, &joined("alice"));
    assert!(requests(&mut a).is_empty());
    assert_eq!(a.tracked_calls(), 0);
}

#[test]
fn a_refused_start_of_the_application_leaves_the_automatic_start_to_come() {
    let mut a = bob();
    // Too early: bob has not accepted yet.
    let start = a.handle_sent(&Op::StartSession { call: CALL });
    a.handle_reply(5, start, Err(409));
    assert_eq!(a.tracked_calls(), 0, "a call it is not in leaves no state");
    a.handle_reply(10, Tag::of(&Op::accept(CALL)), Ok(()));
    assert_eq!(requests(&mut a), vec![Op::StartSession { call: CALL }]);
}
