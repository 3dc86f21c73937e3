//! Timed in-call actions: each is sent at its time while the call lasts; a transfer is handed to
//! the driver, which knows whom to transfer to. Their times are drawn when the call is answered.

use callconf::agent::{Action, ActionFlags, InCall, Output, Side};
use callconf::core::{Media, Op};
use callconf::scenario;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{CALL, bob, ended, outputs, run_until};

#[test]
fn each_action_is_sent_at_its_time() {
    let mut a = bob();
    let plan = [
        (1_000, Action::Hold),
        (1_500, Action::Unhold),
        (1_200, Action::Mute),
        (1_200, Action::Dtmf),
        (9_000, Action::Hangup),
    ];
    for (at, action) in plan {
        a.handle_action(100, CALL, at, action).unwrap();
    }
    let hold = |on_hold| Op::Hold {
        call: CALL,
        on_hold,
    };
    let mute = Op::Mute {
        call: CALL,
        media: Media::Audio,
        muted: true,
    };
    let dtmf = Op::Dtmf {
        call: CALL,
        digits: "1234#".into(),
    };
    assert_eq!(
        run_until(&mut a, 60_000),
        vec![
            (1_000, hold(true)),
            (1_200, mute),
            (1_200, dtmf),
            (1_500, hold(false)),
            (9_000, Op::hangup(CALL)),
        ],
        "by time, and in the order armed within a millisecond"
    );
}

#[test]
fn a_transfer_is_handed_to_the_driver() {
    let mut a = bob();
    a.handle_action(0, CALL, 400, Action::Transfer).unwrap();
    a.handle_timeout(400);
    assert_eq!(outputs(&mut a), vec![Output::Transfer { call: CALL }]);
}

#[test]
fn actions_of_a_call_that_ended_are_not_sent() {
    let mut a = bob();
    a.handle_action(0, CALL, 400, Action::Mute).unwrap();
    a.handle_event(300, &ended());
    assert!(run_until(&mut a, 60_000).is_empty());
}

fn smoke() -> scenario::Scenario {
    let text = std::fs::read_to_string("scenarios/smoke.yaml").unwrap();
    scenario::parse(&text, "scenarios/smoke.yaml").unwrap()
}

#[test]
fn the_plan_is_drawn_in_a_fixed_order_within_the_first_half_of_the_talk() {
    let sc = smoke();
    let all = ActionFlags {
        hold: true,
        mute: true,
        dtmf: true,
        transfer: true,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let plan = InCall::draw(&sc, 10_000, 8_000, all, &mut rng);
    let steps: Vec<(Side, Action)> = plan.steps().map(|(_, s, a)| (s, a)).collect();
    assert_eq!(
        steps,
        vec![
            (Side::Caller, Action::Hold),
            (Side::Caller, Action::Unhold),
            (Side::Callee, Action::Mute),
            (Side::Caller, Action::Dtmf),
            (Side::Callee, Action::Transfer),
        ]
    );
    let times: Vec<u64> = plan.steps().map(|(t, _, _)| t).collect();
    let (hold, unhold) = (times[0], times[1]);
    assert!((10_000..=14_000).contains(&hold));
    assert!(
        unhold >= hold && unhold <= hold + 4_000,
        "a hold lasts at most half the talk"
    );
    for t in &times[2..] {
        assert!((10_000..=14_000).contains(t));
    }
    // The same seed draws the same plan.
    let mut again = ChaCha8Rng::seed_from_u64(3);
    let replay: Vec<u64> = InCall::draw(&sc, 10_000, 8_000, all, &mut again)
        .steps()
        .map(|(t, _, _)| t)
        .collect();
    assert_eq!(times, replay);
}

#[test]
fn no_flagged_action_draws_nothing() {
    let sc = smoke();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let plan = InCall::draw(&sc, 0, 8_000, ActionFlags::default(), &mut rng);
    assert_eq!(plan.steps().count(), 0);
    let next: u64 = rng.random();
    assert_eq!(next, ChaCha8Rng::seed_from_u64(3).random::<u64>());
}
