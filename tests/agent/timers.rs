//! Where timers live: in the agent (poll_timeout / handle_timeout), or, for a driver with an
//! event queue of its own, handed out once each as armed and handed back when due.

use callconf::agent::{Action, Behaviour, Part};
use callconf::core::Op;

use crate::{CALL, bob, bob_driven, ended, incoming, requests};

#[test]
fn a_driver_that_keeps_the_timers_gets_each_once_in_arming_order() {
    let mut a = bob_driven();
    a.handle_script(0, CALL, Part::Callee(Behaviour::Answer { delay_ms: 900 }))
        .unwrap();
    a.handle_event(100, &incoming());
    a.handle_action(100, CALL, 500, Action::Mute).unwrap();
    assert_eq!(a.poll_timeout(), None, "the agent keeps none itself");
    let (t1, answer) = a.poll_timer().unwrap();
    let (t2, mute) = a.poll_timer().unwrap();
    assert_eq!((t1, t2), (1_000, 500));
    assert_eq!(a.poll_timer(), None);
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL)]);
    a.handle_timer(500, mute);
    a.handle_timer(1_000, answer);
    let mute_op = Op::Mute {
        call: CALL,
        media: callconf::core::Media::Audio,
        muted: true,
    };
    assert_eq!(requests(&mut a), vec![mute_op, Op::accept(CALL)]);
}

#[test]
fn a_handed_back_timer_of_a_forgotten_call_does_nothing() {
    let mut a = bob_driven();
    a.handle_action(0, CALL, 500, Action::Hangup).unwrap();
    let (_, timer) = a.poll_timer().unwrap();
    assert_eq!(timer.call(), CALL);
    a.forget(CALL);
    a.handle_timer(500, timer);
    assert!(requests(&mut a).is_empty());
}

#[test]
fn forgetting_a_call_drops_the_agent_s_own_timers() {
    let mut a = bob();
    a.handle_action(0, CALL, 500, Action::Hangup).unwrap();
    assert_eq!(a.poll_timeout(), Some(500));
    a.forget(CALL);
    assert_eq!(a.poll_timeout(), None);
    assert_eq!(a.tracked_calls(), 0);
}

#[test]
fn the_closing_event_drops_them_too() {
    let mut a = bob();
    a.handle_action(0, CALL, 500, Action::Hangup).unwrap();
    a.handle_event(10, &ended());
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn time_never_goes_back() {
    let mut a = bob();
    a.handle_event(1_000, &incoming());
    let _ = requests(&mut a);
    // An action asked for in the past is due now, on the agent's latest clock.
    a.handle_action(10, CALL, 5, Action::Hangup).unwrap();
    assert_eq!(a.poll_timeout(), Some(1_000));
}
