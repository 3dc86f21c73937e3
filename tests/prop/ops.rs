//! The operations of a test case and the strategies that generate them.
//!
//! Most steps are *useful*: picked from what makes sense in the model's current state (a ringing
//! device answers, a seated member holds or hangs up, a member who left rejoins). Some are
//! *noise*: any operation, from any device, on any call id (including one not placed yet), so
//! that refusals, non-members and offline devices are exercised too. Steps name devices, never the
//! core's ids, and a call by how far back it was placed ([`Back`]), so that removing an unrelated
//! earlier call while shrinking does not change which call a later step means.

use std::fmt;

use callconf::core::CallId;

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::Union;

use crate::model::{Dev, GROUPS, PlanKind, USERS, UserSetup, World, active, in_session, pending};

/// A call, counted back from the most recently placed one: `Back(0)` is the latest, `Back(1)`
/// the one before; counting past the first call names the next call, not placed yet (404).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Back(pub usize);

impl Back {
    /// The call meant, when `placed` calls have been placed.
    pub fn resolve(self, placed: usize) -> CallId {
        CallId(if self.0 < placed {
            placed - self.0
        } else {
            placed + 1
        } as u64)
    }

    /// How far back call `id` is, when `placed` calls have been placed.
    pub fn of(id: CallId, placed: usize) -> Back {
        Back(placed - id.0 as usize)
    }
}

impl fmt::Debug for Back {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("latest"),
            n => write!(f, "latest-{n}"),
        }
    }
}

/// One step of a test case.
#[derive(Clone, PartialEq, Eq)]
pub enum Step {
    Place {
        by: Dev,
        to: Vec<usize>,
        video: bool,
        group: Option<usize>,
    },
    /// Ring acknowledgement (Stringee `ringing()`).
    Ring {
        by: Dev,
        call: Back,
    },
    Accept {
        by: Dev,
        call: Back,
    },
    StartSession {
        by: Dev,
        call: Back,
    },
    Decline {
        by: Dev,
        call: Back,
        code: Option<u16>,
    },
    Cancel {
        by: Dev,
        call: Back,
    },
    Hangup {
        by: Dev,
        call: Back,
    },
    EndForAll {
        by: Dev,
        call: Back,
    },
    Join {
        by: Dev,
        call: Back,
    },
    Invite {
        by: Dev,
        call: Back,
        users: Vec<usize>,
    },
    Hold {
        by: Dev,
        call: Back,
        on: bool,
    },
    Mute {
        by: Dev,
        call: Back,
        video: bool,
        muted: bool,
    },
    Dtmf {
        by: Dev,
        call: Back,
        digits: String,
    },
    Transfer {
        by: Dev,
        call: Back,
        to: usize,
    },
    GetCall {
        by: Dev,
        call: Back,
    },
    /// Virtual time passes.
    Advance {
        ms: u64,
    },
    /// A device loses its connection.
    Offline {
        dev: Dev,
    },
    /// A device connects again.
    Online {
        dev: Dev,
    },
}

impl Step {
    /// The acting device and the call, for operations on a call.
    pub fn actor_and_call(&self) -> Option<(Dev, Back)> {
        match self {
            Step::Ring { by, call }
            | Step::Accept { by, call }
            | Step::StartSession { by, call }
            | Step::Decline { by, call, .. }
            | Step::Cancel { by, call }
            | Step::Hangup { by, call }
            | Step::EndForAll { by, call }
            | Step::Join { by, call }
            | Step::Invite { by, call, .. }
            | Step::Hold { by, call, .. }
            | Step::Mute { by, call, .. }
            | Step::Dtmf { by, call, .. }
            | Step::Transfer { by, call, .. }
            | Step::GetCall { by, call } => Some((*by, *call)),
            Step::Place { .. }
            | Step::Advance { .. }
            | Step::Offline { .. }
            | Step::Online { .. } => None,
        }
    }

    /// The call the step is about, to change it.
    pub fn call_mut(&mut self) -> Option<&mut Back> {
        match self {
            Step::Ring { call, .. }
            | Step::Accept { call, .. }
            | Step::StartSession { call, .. }
            | Step::Decline { call, .. }
            | Step::Cancel { call, .. }
            | Step::Hangup { call, .. }
            | Step::EndForAll { call, .. }
            | Step::Join { call, .. }
            | Step::Invite { call, .. }
            | Step::Hold { call, .. }
            | Step::Mute { call, .. }
            | Step::Dtmf { call, .. }
            | Step::Transfer { call, .. }
            | Step::GetCall { call, .. } => Some(call),
            Step::Place { .. }
            | Step::Advance { .. }
            | Step::Offline { .. }
            | Step::Online { .. } => None,
        }
    }

    /// The device that acts or changes, if any.
    pub fn device(&self) -> Option<Dev> {
        match self {
            Step::Place { by, .. } => Some(*by),
            Step::Offline { dev } | Step::Online { dev } => Some(*dev),
            Step::Advance { .. } => None,
            other => other.actor_and_call().map(|(d, _)| d),
        }
    }

    fn users(&self) -> Vec<usize> {
        match self {
            Step::Place { to, .. } => to.clone(),
            Step::Invite { users, .. } => users.clone(),
            Step::Transfer { to, .. } => vec![*to],
            _ => Vec::new(),
        }
    }
}

fn users(us: &[usize]) -> String {
    let names: Vec<String> = us.iter().map(|u| format!("u{u}")).collect();
    names.join(", ")
}

impl Step {
    /// The step as a line of a script, with calls named by `name`.
    fn write(&self, f: &mut impl fmt::Write, name: impl Fn(Back) -> String) -> fmt::Result {
        match self {
            Step::Place {
                by,
                to,
                video,
                group,
            } => {
                let kind = if *video { "video" } else { "audio" };
                write!(f, "{by:?}: place {kind} call to {}", users(to))?;
                if let Some(g) = group {
                    write!(f, " in group {}", GROUPS[*g].0)?;
                }
                Ok(())
            }
            Step::Ring { by, call } => write!(f, "{by:?}: ringing {}", name(*call)),
            Step::Accept { by, call } => write!(f, "{by:?}: accept {}", name(*call)),
            Step::StartSession { by, call } => write!(f, "{by:?}: start session {}", name(*call)),
            Step::Decline { by, call, code } => match code {
                Some(code) => write!(f, "{by:?}: decline {} with {code}", name(*call)),
                None => write!(f, "{by:?}: decline {}", name(*call)),
            },
            Step::Cancel { by, call } => write!(f, "{by:?}: cancel {}", name(*call)),
            Step::Hangup { by, call } => write!(f, "{by:?}: hang up {}", name(*call)),
            Step::EndForAll { by, call } => write!(f, "{by:?}: end {} for everyone", name(*call)),
            Step::Join { by, call } => write!(f, "{by:?}: join {}", name(*call)),
            Step::Invite {
                by,
                call,
                users: us,
            } => {
                write!(f, "{by:?}: invite {} into {}", users(us), name(*call))
            }
            Step::Hold { by, call, on } => {
                write!(
                    f,
                    "{by:?}: {} {}",
                    if *on { "hold" } else { "unhold" },
                    name(*call)
                )
            }
            Step::Mute {
                by,
                call,
                video,
                muted,
            } => {
                let what = if *muted { "mute" } else { "unmute" };
                let media = if *video { "video" } else { "audio" };
                write!(f, "{by:?}: {what} {media} in {}", name(*call))
            }
            Step::Dtmf { by, call, digits } => {
                write!(f, "{by:?}: DTMF {digits:?} in {}", name(*call))
            }
            Step::Transfer { by, call, to } => {
                write!(f, "{by:?}: transfer {} to u{to}", name(*call))
            }
            Step::GetCall { by, call } => write!(f, "{by:?}: get {}", name(*call)),
            Step::Advance { ms } => write!(f, "{ms} ms pass"),
            Step::Offline { dev } => write!(f, "{dev:?}: goes offline"),
            Step::Online { dev } => write!(f, "{dev:?}: comes back online"),
        }
    }

    /// The step as a line of a script, its call named by id (`c2`) as the world after `placed`
    /// calls has it.
    pub fn show(&self, placed: usize) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, |b| format!("c{}", b.resolve(placed).0));
        out
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out, |b| format!("{b:?}"))?;
        f.write_str(&out)
    }
}

/// The cast: four users, each with one or two devices and their own settings.
pub fn init_state() -> BoxedStrategy<World> {
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
        .prop_map(World::new)
        .boxed()
}

/// A step is valid in a state if every device it names exists and it counts back no further
/// than the next call.
pub fn valid(world: &World, step: &Step) -> bool {
    let devices_ok = step.device().is_none_or(|d| world.has_device(d));
    let call_ok = step
        .actor_and_call()
        .is_none_or(|(_, c)| c.0 <= world.calls.len());
    devices_ok && call_ok && step.users().iter().all(|u| *u < USERS)
}

const DTMF: [&str; 6] = ["1", "*#0", "12pA", "", "9x", LONG_DTMF];
const LONG_DTMF: &str = "11111111111111111111111111111111111111111111111111111111111111111";
const DECLINE_CODES: [Option<u16>; 5] = [None, Some(486), Some(603), Some(299), Some(700)];
const ADVANCES: [u64; 5] = [1_000, 10_000, 29_999, 30_000, 45_000];

/// The next step from `world`.
pub fn transitions(world: &World) -> BoxedStrategy<Step> {
    let mut options: Vec<(u32, BoxedStrategy<Step>)> = vec![
        (
            3,
            select(&ADVANCES[..])
                .prop_map(|ms| Step::Advance { ms })
                .boxed(),
        ),
        (6, place(world)),
        (4, noise(world)),
    ];
    let useful = useful(world);
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
    select(from)
        .prop_flat_map(|by| {
            let others: Vec<usize> = (0..USERS).filter(|u| *u != by.user).collect();
            let to = prop_oneof![
                2 => subsequence(others.clone(), 1..=1),
                1 => subsequence(others, 2..=3),
            ];
            // The trio leaves u3 out, so a call in it from or to u3 is refused.
            let group = prop_oneof![6 => Just(None), 3 => Just(Some(0)), 1 => Just(Some(1))];
            (Just(by), to, any::<bool>(), group)
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

use callconf::core::{CallStatus, ParticipantState as P};

/// How often each kind of step got each kind of answer, each kind of event was sent, and each
/// kind of end was reached, over `cases` generated cases run on the model alone.
pub fn coverage(cases: u32) -> std::collections::BTreeMap<String, u64> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    use proptest_state_machine::ReferenceStateMachine;

    use crate::model::{Lifecycle, Outcome};

    let mut runner = TestRunner::new_with_rng(
        proptest::test_runner::Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = Lifecycle::sequential_strategy(1..=crate::STEPS_MAX);
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

impl Step {
    /// The operation's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Place { to, group, .. } if to.len() > 1 || group.is_some() => "place group",
            Step::Place { .. } => "place 1:1",
            Step::Ring { .. } => "ringing",
            Step::Accept { .. } => "accept",
            Step::StartSession { .. } => "start session",
            Step::Decline { .. } => "decline",
            Step::Cancel { .. } => "cancel",
            Step::Hangup { .. } => "hang up",
            Step::EndForAll { .. } => "end for everyone",
            Step::Join { .. } => "join",
            Step::Invite { .. } => "invite",
            Step::Hold { .. } => "hold",
            Step::Mute { .. } => "mute",
            Step::Dtmf { .. } => "dtmf",
            Step::Transfer { .. } => "transfer",
            Step::GetCall { .. } => "get call",
            Step::Advance { .. } => "time passes",
            Step::Offline { .. } => "offline",
            Step::Online { .. } => "online",
        }
    }
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
