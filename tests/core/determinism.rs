//! Determinism: the same inputs at the same times give the same replies, the same deliveries in
//! the same order with the same stamps, and the same call ids.

use callconf::core::*;

/// One scripted input.
enum Step {
    Req(&'static str, Op),
    Place(&'static str, PlaceCall),
    Connect(&'static str),
    Disconnect(&'static str),
}

struct Run {
    core: Core,
    devices: Vec<(&'static str, DeviceId)>,
    log: Vec<String>,
    deliveries: Vec<Delivery>,
}

impl Run {
    fn dev(&self, name: &str) -> DeviceId {
        self.devices.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn drain(&mut self) {
        while let Some(d) = self.core.poll_event() {
            self.deliveries.push(d);
        }
    }

    /// Fires deadlines up to `until`, as an adapter would.
    fn run_until(&mut self, until: u64) {
        while let Some(t) = self.core.poll_timeout().filter(|t| *t <= until) {
            self.core.handle_timeout(t);
            self.drain();
        }
    }
}

fn session() -> Run {
    let mut core = Core::new(Limits::default());
    let mut devices = Vec::new();
    for (user, labels) in [
        ("alice", &["phone", "laptop"][..]),
        ("bob", &["phone", "tablet"][..]),
        ("carol", &["phone"][..]),
        ("dave", &["phone"][..]),
        ("erin", &["phone", "tablet"][..]),
    ] {
        let config = UserConfig {
            endpoint: if user == "dave" {
                Endpoint::Phone
            } else {
                Endpoint::App
            },
            ..UserConfig::default()
        };
        let u = core.add_user(user, config).unwrap();
        for label in labels {
            let d = core.add_device(&u, label).unwrap();
            core.handle_connect(0, d).unwrap();
            devices.push((&*format!("{user}/{label}").leak(), d));
        }
    }
    let team: Vec<UserId> = ["alice", "bob", "carol", "erin"]
        .iter()
        .map(|u| UserId::new(u))
        .collect();
    core.add_group("team", &team).unwrap();
    Run {
        core,
        devices,
        log: Vec::new(),
        deliveries: Vec::new(),
    }
}

fn script() -> Vec<(u64, Step)> {
    let c1 = CallId(1);
    let c2 = CallId(2);
    let c3 = CallId(3);
    let c4 = CallId(4);
    vec![
        // A group call that carol misses and erin joins late.
        (
            10,
            Step::Place(
                "alice/phone",
                PlaceCall::group(
                    "team",
                    vec!["bob".into(), "carol".into(), "erin".into()],
                    CallType::Video,
                ),
            ),
        ),
        (15, Step::Req("bob/tablet", Op::ringing(c1))),
        (20, Step::Req("erin/phone", Op::early_media(c1))),
        (30, Step::Req("bob/phone", Op::accept(c1))),
        (31, Step::Req("alice/phone", Op::StartSession { call: c1 })),
        (32, Step::Req("bob/phone", Op::StartSession { call: c1 })),
        (
            40,
            Step::Req(
                "alice/phone",
                Op::Signal {
                    call: c1,
                    to: None,
                    kind: SignalKind::Offer,
                    body: "sdp".into(),
                },
            ),
        ),
        // A 1:1 call app-to-phone, transferred, and a call that is declined.
        (
            50,
            Step::Place("dave/phone", PlaceCall::direct("carol", CallType::Audio)),
        ),
        (55, Step::Disconnect("erin/tablet")),
        (
            60,
            Step::Req(
                "bob/phone",
                Op::Hold {
                    call: c1,
                    on_hold: true,
                },
            ),
        ),
        (70, Step::Req("carol/phone", Op::accept(c2))),
        (71, Step::Req("carol/phone", Op::StartSession { call: c2 })),
        (72, Step::Req("dave/phone", Op::StartSession { call: c2 })),
        (
            80,
            Step::Req(
                "dave/phone",
                Op::Dtmf {
                    call: c2,
                    digits: "123#".into(),
                },
            ),
        ),
        (
            90,
            Step::Req(
                "carol/phone",
                Op::Dtmf {
                    call: c2,
                    digits: "bad".into(),
                },
            ),
        ),
        (20_000, Step::Connect("erin/tablet")),
        (40_000, Step::Req("erin/tablet", Op::Join { call: c1 })),
        (
            41_000,
            Step::Req(
                "carol/phone",
                Op::Transfer {
                    call: c2,
                    target: "alice".into(),
                },
            ),
        ),
        (
            42_000,
            Step::Place("alice/laptop", PlaceCall::direct("erin", CallType::Audio)),
        ),
        (43_000, Step::Req("bob/phone", Op::hangup(c1))),
        (45_000, Step::Req("alice/phone", Op::hangup(c1))),
        (
            46_000,
            Step::Req(
                "carol/phone",
                Op::Transfer {
                    call: c2,
                    target: "alice".into(),
                },
            ),
        ),
        (47_000, Step::Req("alice/laptop", Op::accept(c2))),
        (
            48_000,
            Step::Place("bob/tablet", PlaceCall::direct("erin", CallType::Video)),
        ),
        (49_000, Step::Req("erin/tablet", Op::ringing(c3))),
        (50_000, Step::Req("erin/phone", Op::decline(c3, Some(486)))),
        (
            51_000,
            Step::Place("dave/phone", PlaceCall::direct("bob", CallType::Audio)),
        ),
        (52_000, Step::Req("alice/laptop", Op::hangup(c2))),
        (
            53_000,
            Step::Place("dave/phone", PlaceCall::direct("bob", CallType::Audio)),
        ),
        (54_000, Step::Req("bob/tablet", Op::GetCall { call: c4 })),
        (200_000, Step::Req("erin/tablet", Op::GetCall { call: c1 })),
    ]
}

fn run() -> Run {
    let mut r = session();
    for (at, step) in script() {
        r.run_until(at);
        let line = match step {
            Step::Req(dev, op) => {
                let name = op.name();
                format!(
                    "{at} {dev} {name}: {:?}",
                    r.core.handle_request(at, r.dev(dev), op)
                )
            }
            Step::Place(dev, p) => {
                let res = r.core.handle_request(at, r.dev(dev), Op::Place(p));
                format!("{at} {dev} place: {res:?}")
            }
            Step::Connect(dev) => {
                format!(
                    "{at} {dev} connect: {:?}",
                    r.core.handle_connect(at, r.dev(dev))
                )
            }
            Step::Disconnect(dev) => {
                let res = r.core.handle_disconnect(at, r.dev(dev));
                format!("{at} {dev} disconnect: {res:?}")
            }
        };
        r.log.push(line);
        r.drain();
    }
    r.run_until(u64::MAX);
    r
}

#[test]
fn the_same_script_twice_gives_the_same_deliveries() {
    let a = run();
    let b = run();
    assert_eq!(a.log, b.log);
    assert_eq!(a.deliveries, b.deliveries);
    // The script did exercise the core: calls, timeouts, transfers, refusals.
    assert!(a.deliveries.len() > 30, "{} deliveries", a.deliveries.len());
    assert!(a.log.iter().any(|l| l.contains("Err")));
    assert!(
        a.deliveries
            .iter()
            .any(|d| matches!(d.event, Event::TransferResult { .. }))
    );
    assert!(a.deliveries.iter().any(|d| matches!(
        d.event,
        Event::Detached {
            reason: DetachReason::Missed,
            ..
        }
    )));
    // Stamps never go back.
    assert!(a.deliveries.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    // Every attached device got exactly one closing event per call, and nothing after it.
    let mut closed = std::collections::HashSet::new();
    for d in &a.deliveries {
        let key = (d.device, d.event.call());
        assert!(!closed.contains(&key), "{d:?} after the closing event");
        if d.event.is_closing() {
            closed.insert(key);
        }
    }
    assert_eq!(a.core.live_calls(), 0, "{:#?}", a.log);
}

#[test]
fn a_fresh_core_numbers_calls_from_one_again() {
    let a = run();
    assert!(a.log.iter().any(|l| l.contains("Placed { call: c1")));
    let b = run();
    assert_eq!(
        a.log
            .iter()
            .filter(|l| l.contains("Placed"))
            .collect::<Vec<_>>(),
        b.log
            .iter()
            .filter(|l| l.contains("Placed"))
            .collect::<Vec<_>>()
    );
}
