//! The generator reaches every rule the model knows: each operation succeeds and is refused,
//! every kind of end and detachment happens (counted on the model alone, no system involved).

/// How often each kind of step got each kind of answer, each kind of event was sent, and each
/// kind of end was reached, over `cases` generated cases run on the model alone.
pub fn coverage(cases: u32) -> std::collections::BTreeMap<String, u64> {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    use proptest_state_machine::ReferenceStateMachine;

    use callconf::model::{Lifecycle, Outcome, STEPS_MAX};

    let mut runner = TestRunner::new_with_rng(
        proptest::test_runner::Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = Lifecycle::sequential_strategy(1..=STEPS_MAX);
    let mut counts = std::collections::BTreeMap::new();
    let mut bump = |k: String| *counts.entry(k).or_insert(0) += 1;
    for _ in 0..cases {
        let (mut world, steps, _) = strategy.new_tree(&mut runner).expect("a case").current();
        for step in &steps {
            world.step(step);
            for (_, event) in world.expect.events.values().flatten() {
                bump(format!("event {}", event_kind(event)));
            }
            let answer = match &world.expect.outcome {
                None => continue,
                Some(Outcome::Refused(r)) => format!("{r:?}"),
                Some(Outcome::Placed { .. }) => "placed".into(),
                Some(Outcome::Invited { .. }) => "invited".into(),
                Some(Outcome::Snapshot(_)) => "snapshot".into(),
                Some(Outcome::Done) => "done".into(),
            };
            bump(format!("{} -> {answer}", step.kind()));
        }
        for call in &world.calls {
            if let Some((reason, _)) = &call.ended {
                bump(format!("end {}", end_kind(reason)));
            }
        }
    }
    counts
}

fn event_kind(e: &callconf::core::Event) -> String {
    use callconf::core::Event as E;
    match e {
        E::Participant { state, .. } => format!("participant {state}")
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
        E::Status { status, .. } => format!("status {status}"),
        E::Detached { reason, .. } => format!("detached {reason}"),
        E::Ended { reason, .. } => format!("ended {}", end_kind(reason)),
        E::TransferResult { outcome, .. } => format!("transfer {outcome:?}")
            .split([' ', '{'])
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
        other => format!("{other:?}")
            .split([' ', '{'])
            .next()
            .unwrap_or("")
            .to_lowercase(),
    }
}

fn end_kind(r: &callconf::core::EndReason) -> String {
    format!("{r:?}")
        .split([' ', '{'])
        .next()
        .unwrap_or("")
        .to_owned()
}

/// The generator reaches every rule the model knows, in a few hundred cases: each operation
/// succeeds and is refused, every kind of end and detachment happens.
#[test]
fn the_generator_reaches_every_rule() {
    let seen = coverage(400);
    let mut missing = Vec::new();
    let ops = [
        "place 1:1",
        "place group",
        "ringing",
        "accept",
        "start session",
        "decline",
        "cancel",
        "hang up",
        "end for everyone",
        "join",
        "invite",
        "hold",
        "mute",
        "dtmf",
        "transfer",
        "get call",
    ];
    for op in ops {
        let ok = if op == "invite" {
            "invited"
        } else if op.starts_with("place") {
            "placed"
        } else if op == "get call" {
            "snapshot"
        } else {
            "done"
        };
        for answer in [
            ok,
            "NotConnected",
            "NotFound",
            "Forbidden(NotMember)",
            "CallEnded",
        ] {
            if op.starts_with("place") && answer != ok && answer != "NotConnected" {
                continue;
            }
            missing.push(format!("{op} -> {answer}"));
        }
    }
    missing.extend(
        [
            "accept -> HandledElsewhere",
            "accept -> Busy",
            "place 1:1 -> Busy",
            "place 1:1 -> Unavailable",
            "place 1:1 -> Capacity",
            "place 1:1 -> Forbidden(NotInPlan",
            "place group -> Forbidden(ParticipantLimit",
            "place group -> Forbidden(NotGroupMember)",
            "place 1:1 -> BadArgument",
            "decline -> BadArgument",
            "dtmf -> TooLarge",
            "dtmf -> BadArgument",
            "hold -> InvalidState",
            "transfer -> Forbidden(TransferNotAllowed)",
            "end for everyone -> Forbidden(EndCallPermission)",
            "cancel -> Forbidden(NotCaller)",
            "join -> Forbidden(NotGroupCall)",
            "invite -> Forbidden(NotGroupCall)",
            "event status ringing",
            "event status connecting",
            "event status connected",
            "event detached answered",
            "event detached declined here",
            "event detached declined on",
            "event detached missed",
            "event detached left",
            "event detached transferred",
            "event transfer Succeeded",
            "event transfer Failed",
            "event participant transferring",
            "event hold",
            "event track",
            "event dtmf",
            "event incoming",
            "end HungUp",
            "end Cancelled",
            "end Declined",
            "end NoAnswer",
            "end EndedForEveryone",
            "end Disconnected",
            "end TransferFailed",
        ]
        .map(String::from),
    );
    missing.retain(|want| !seen.keys().any(|k| k.starts_with(want.as_str())));
    assert!(
        missing.is_empty(),
        "never reached in 400 cases: {missing:#?}"
    );
}

#[test]
#[ignore = "prints the generator's coverage"]
fn print_coverage() {
    for (k, v) in coverage(1000) {
        println!("{v:8} {k}");
    }
}
