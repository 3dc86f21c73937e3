//! The strategies that generate a case: the cast, then each step from the model's state.
//!
//! Most steps are *useful*: picked from what makes sense in the model's current state (a ringing
//! device answers, a seated member holds or hangs up, a member who left rejoins). Some are
//! *noise*: any operation, from any device, on any call id (including one not placed yet), so
//! that refusals, non-members and offline devices are exercised too.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::Union;

use crate::core::{CallStatus, Capability, ParticipantState as P};
use crate::model::{
    Back, Dev, Dialect, GROUPS, PlanKind, Step, USERS, UserSetup, World, active, in_session,
    pending,
};

/// A cast under the canonical lifecycle.
pub fn init_state() -> BoxedStrategy<World> {
    init_state_in(Dialect::canonical())
}

/// A cast under `dialect`.
pub fn init_state_in(dialect: Arc<Dialect>) -> BoxedStrategy<World> {
    let plan = prop_oneof![
        8 => Just(PlanKind::Full),
        1 => Just(PlanKind::Small),
        1 => Just(PlanKind::AudioOnly),
    ];
    let user = (
        1..=2usize,
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.5),
        plan,
    )
        .prop_map(|(devices, call_waiting, may_end, phone, plan)| UserSetup {
            devices,
            call_waiting,
            may_end,
            phone,
            plan,
        });
    [user.clone(), user.clone(), user.clone(), user]
        .prop_map(move |setup| World::with_dialect(setup, dialect.clone()))
        .boxed()
}

/// A step is valid in a state if every device it names exists, it counts back no further
/// than the next call, and the dialect has the operation.
pub fn valid(world: &World, step: &Step) -> bool {
    let devices_ok = step.device().is_none_or(|d| world.has_device(d));
    let call_ok = step
        .actor_and_call()
        .is_none_or(|(_, c)| c.0 <= world.calls.len());
    devices_ok && call_ok && step.users().iter().all(|u| *u < USERS) && world.dialect.allows(step)
}

/// How time passes in generated cases: the amounts one step lets pass, and how often such a
/// step is picked (against 6 for placing a call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    pub advances_ms: Vec<u64>,
    pub weight: u32,
}

impl Timing {
    /// A driven clock: around the ring timeout, its edge probed from both sides
    /// (`29999 ms`, `30000 ms` for the canonical 30 s).
    pub fn driven(ring_timeout_ms: u64) -> Timing {
        let r = ring_timeout_ms.max(2);
        Timing {
            advances_ms: vec![1_000, r / 3, r - 1, r, r + r / 2],
            weight: 3,
        }
    }

    /// Real time: every amount a multiple of `quantum_ms`, as the ring timeout must be, so no
    /// step lands just short of a deadline (docs/explore.md), and fewer such steps: each one
    /// really waits.
    pub fn real(ring_timeout_ms: u64, quantum_ms: u64) -> Timing {
        Timing {
            advances_ms: vec![quantum_ms, ring_timeout_ms, ring_timeout_ms + quantum_ms],
            weight: 1,
        }
    }
}

const DTMF: [&str; 6] = ["1", "*#0", "12pA", "", "9x", LONG_DTMF];
const LONG_DTMF: &str = "11111111111111111111111111111111111111111111111111111111111111111";
const DECLINE_CODES: [Option<u16>; 5] = [None, Some(486), Some(603), Some(299), Some(700)];

/// The next step from `world`, time passing as a driven clock allows.
pub fn transitions(world: &World) -> BoxedStrategy<Step> {
    transitions_timed(world, &Timing::driven(world.dialect.ring_timeout_ms))
}

/// The next step from `world`, time passing as `timing` says; only operations the world's
/// dialect has.
pub fn transitions_timed(world: &World, timing: &Timing) -> BoxedStrategy<Step> {
    let mut options: Vec<(u32, BoxedStrategy<Step>)> = vec![
        (
            timing.weight,
            select(timing.advances_ms.clone())
                .prop_map(|ms| Step::Advance { ms })
                .boxed(),
        ),
        (6, place(world)),
        (4, noise(world)),
    ];
    let useful: Vec<Step> = useful(world)
        .into_iter()
        .filter(|s| world.dialect.allows(s))
        .collect();
    if !useful.is_empty() {
        // A connected call is where hold, DTMF and transfer happen: stay with it.
        let connected = world
            .calls
            .iter()
            .any(|c| c.live() && c.status == CallStatus::Connected);
        options.push((if connected { 60 } else { 26 }, select(useful).boxed()));
    }
    let (online, offline): (Vec<Dev>, Vec<Dev>) = world
        .devices()
        .into_iter()
        .partition(|d| world.online.contains(d));
    if !online.is_empty() {
        options.push((
            2,
            select(online).prop_map(|dev| Step::Offline { dev }).boxed(),
        ));
    }
    if !offline.is_empty() {
        options.push((
            4,
            select(offline).prop_map(|dev| Step::Online { dev }).boxed(),
        ));
    }
    // A step is kept as generated while shrinking: the shrinker removes steps (and simplifies
    // the cast) instead of turning one kind of step into another, which reads worse and costs
    // thousands of runs.
    Union::new_weighted(options).no_shrink().boxed()
}

/// Placing a call from an online device (any device if none is), 1:1 more often than group.
fn place(world: &World) -> BoxedStrategy<Step> {
    let online: Vec<Dev> = world.online.iter().copied().collect();
    let from = if online.is_empty() {
        world.devices()
    } else {
        online
    };
    let groups = world.dialect.has(Capability::GroupCalls);
    select(from)
        .prop_flat_map(move |by| {
            let others: Vec<usize> = (0..USERS).filter(|u| *u != by.user).collect();
            if !groups {
                let to = subsequence(others, 1..=1);
                return (Just(by), to.boxed(), any::<bool>(), Just(None).boxed());
            }
            let to = prop_oneof![
                2 => subsequence(others.clone(), 1..=1),
                1 => subsequence(others, 2..=3),
            ];
            // The trio leaves u3 out, so a call in it from or to u3 is refused.
            let group = prop_oneof![6 => Just(None), 3 => Just(Some(0)), 1 => Just(Some(1))];
            (Just(by), to.boxed(), any::<bool>(), group.boxed())
        })
        .prop_map(|(by, to, video, group)| Step::Place {
            by,
            to,
            video,
            group,
        })
        .boxed()
}

/// Any operation from any device on any call id up to the next one, with arbitrary arguments.
fn noise(world: &World) -> BoxedStrategy<Step> {
    let dialect = world.dialect.clone();
    let devices = world.devices();
    let placed = world.calls.len();
    let users = subsequence((0..USERS).collect::<Vec<_>>(), 0..=2);
    (
        0..15u8,
        select(devices),
        (0..=placed).prop_map(Back),
        users,
        0..USERS,
        any::<bool>(),
        any::<bool>(),
        select(&DECLINE_CODES[..]),
        select(&DTMF[..]),
    )
        .prop_map(
            |(kind, by, call, us, user, flag, flag2, code, digits)| match kind {
                0 => Step::Place {
                    by,
                    to: if us.is_empty() { vec![user] } else { us },
                    video: flag,
                    group: flag2.then_some(user % GROUPS.len()),
                },
                1 => Step::Ring { by, call },
                2 => Step::Accept { by, call },
                3 => Step::StartSession { by, call },
                4 => Step::Decline { by, call, code },
                5 => Step::Cancel { by, call },
                6 => Step::Hangup { by, call },
                7 => Step::EndForAll { by, call },
                8 => Step::Join { by, call },
                9 => Step::Invite {
                    by,
                    call,
                    users: us,
                },
                10 => Step::Hold { by, call, on: flag },
                11 => Step::Mute {
                    by,
                    call,
                    video: flag,
                    muted: flag2,
                },
                12 => Step::Dtmf {
                    by,
                    call,
                    digits: digits.to_owned(),
                },
                13 => Step::Transfer { by, call, to: user },
                _ => Step::GetCall { by, call },
            },
        )
        .prop_filter("an operation of the dialect", move |s| dialect.allows(s))
        .boxed()
}

/// Steps that make sense now, repeated to weigh them.
fn useful(world: &World) -> Vec<Step> {
    let mut out = Vec::new();
    let mut add = |n: usize, step: Step| out.extend(std::iter::repeat_n(step, n));
    for call in world.calls.iter().filter(|c| c.live()) {
        let id = Back::of(call.id, world.calls.len());
        for p in &call.people {
            let online: Vec<Dev> = world
                .devices_of(p.user)
                .into_iter()
                .filter(|d| world.online.contains(d))
                .collect();
            if pending(&p.state) {
                for &by in &p.ringing {
                    add(2, Step::Ring { by, call: id });
                    add(3, Step::Accept { by, call: id });
                    add(
                        1,
                        Step::Decline {
                            by,
                            call: id,
                            code: None,
                        },
                    );
                    add(
                        1,
                        Step::Decline {
                            by,
                            call: id,
                            code: Some(486),
                        },
                    );
                }
            }
            if let Some(by) = p.seat.filter(|_| in_session(&p.state)) {
                add(1, Step::Hangup { by, call: id });
                add(
                    1,
                    Step::Mute {
                        by,
                        call: id,
                        video: false,
                        muted: !p.audio_muted,
                    },
                );
                if call.video {
                    add(
                        1,
                        Step::Mute {
                            by,
                            call: id,
                            video: true,
                            muted: !p.video_muted,
                        },
                    );
                }
                add(1, Step::EndForAll { by, call: id });
                add(1, Step::GetCall { by, call: id });
                if call.is_group {
                    let outside: Vec<usize> = (0..USERS)
                        .filter(|u| {
                            call.person_of(*u)
                                .is_none_or(|j| !active(&call.people[j].state))
                        })
                        .collect();
                    if let Some(&u) = outside.first() {
                        add(
                            1,
                            Step::Invite {
                                by,
                                call: id,
                                users: vec![u],
                            },
                        );
                    }
                    if outside.len() > 1 {
                        add(
                            1,
                            Step::Invite {
                                by,
                                call: id,
                                users: outside[outside.len() - 2..].to_vec(),
                            },
                        );
                    }
                }
                if p.state == P::Calling {
                    add(2, Step::Cancel { by, call: id });
                } else {
                    if !p.started {
                        add(6, Step::StartSession { by, call: id });
                    }
                    let connected = call.status == CallStatus::Connected;
                    let n = if connected { 3 } else { 1 };
                    add(
                        n,
                        Step::Hold {
                            by,
                            call: id,
                            on: !p.held,
                        },
                    );
                    add(
                        n,
                        Step::Dtmf {
                            by,
                            call: id,
                            digits: "1".into(),
                        },
                    );
                    add(
                        1,
                        Step::Dtmf {
                            by,
                            call: id,
                            digits: "9x".into(),
                        },
                    );
                    if connected && !call.is_group {
                        // Allowed only between an app user and a phone.
                        let mixed = call.people.iter().any(|q| {
                            q.state == P::Joined
                                && world.setup[q.user].phone != world.setup[p.user].phone
                        });
                        let outside = (0..USERS).filter(|u| {
                            call.person_of(*u)
                                .is_none_or(|j| !active(&call.people[j].state))
                        });
                        for to in outside {
                            add(
                                if mixed { 6 } else { 1 },
                                Step::Transfer { by, call: id, to },
                            );
                        }
                    }
                }
                // Another device of the same user tries to get in too.
                for &other in online.iter().filter(|d| Some(**d) != p.seat) {
                    add(
                        1,
                        Step::Accept {
                            by: other,
                            call: id,
                        },
                    );
                    add(
                        1,
                        Step::Join {
                            by: other,
                            call: id,
                        },
                    );
                }
            }
            if !call.is_group {
                // Joining and inviting are for group calls only (403).
                if let Some(by) = p.seat.or_else(|| p.ringing.first().copied()) {
                    add(1, Step::Join { by, call: id });
                    add(
                        1,
                        Step::Invite {
                            by,
                            call: id,
                            users: vec![(p.user + 1) % USERS],
                        },
                    );
                }
            }
            if call.is_group && !active(&p.state) {
                for &by in &online {
                    add(2, Step::Join { by, call: id });
                }
            }
        }
    }
    out
}
