//! A callee scripted to decline declines with 603, one scripted as busy rejects with 486, both
//! after their delay; one scripted not to answer lets it ring.

use callconf::agent::{Behaviour, Part};
use callconf::core::Op;

use crate::{CALL, bob, incoming, requests, run_until};

fn respond(behaviour: Behaviour) -> Vec<(u64, Op)> {
    let mut a = bob();
    a.handle_script(0, CALL, Part::Callee(behaviour)).unwrap();
    a.handle_event(40, &incoming());
    assert_eq!(requests(&mut a), vec![Op::ringing(CALL)]);
    run_until(&mut a, 120_000)
}

#[test]
fn a_decline_is_603_after_the_decline_delay() {
    let decline = Op::decline(CALL, Some(603));
    assert_eq!(
        respond(Behaviour::Decline { delay_ms: 700 }),
        vec![(740, decline)]
    );
}

#[test]
fn busy_is_486_after_the_decline_delay() {
    let busy = Op::decline(CALL, Some(486));
    assert_eq!(
        respond(Behaviour::Busy { delay_ms: 300 }),
        vec![(340, busy)]
    );
}

#[test]
fn no_answer_lets_it_ring() {
    assert!(respond(Behaviour::NoAnswer).is_empty());
}
