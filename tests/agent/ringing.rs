//! An invitation is acknowledged at once (Stringee `ringing()`), on every device it rings on,
//! whether or not the device has a script; switched off, nothing is sent.

use callconf::agent::{Agent, Options};
use callconf::core::{Op, UserId};

use crate::{CALL, bob, incoming, requests};

#[test]
fn an_invitation_is_acknowledged_at_once() {
    let mut a = bob();
    a.handle_event(5, &incoming());
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL)]);
    assert_eq!(a.poll_timeout(), None, "no script, nothing to wait for");
    assert_eq!(a.tracked_calls(), 0, "ringing alone needs no state");
}

#[test]
fn an_invitation_delivered_again_is_acknowledged_again() {
    let mut a = bob();
    a.handle_event(5, &incoming());
    a.handle_event(900, &incoming());
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL); 2]);
}

#[test]
fn without_auto_ringing_nothing_is_sent() {
    let options = Options {
        auto_ringing: false,
        ..Options::default()
    };
    let mut a = Agent::new(UserId::new("bob"), options);
    a.handle_event(5, &incoming());
    assert!(requests(&mut a).is_empty());
}
