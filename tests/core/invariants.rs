//! The delivery contract under many random but reproducible request sequences: no event after a
//! closing event, exactly one closing event for every attached device that stayed online, a
//! refusal changes nothing and sends nothing, the actor only hears status changes and closing
//! events about its own action, and the core never panics.

use std::collections::{HashMap, HashSet};

use callconf::core::*;

/// A small xorshift generator: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const USERS: [&str; 5] = ["u0", "u1", "u2", "u3", "u4"];

struct World {
    core: Core,
    now: u64,
    devices: Vec<DeviceId>,
    online: HashMap<DeviceId, bool>,
    /// Devices that went offline at some point, per call they had heard of then.
    dropped: HashSet<(DeviceId, CallId)>,
    heard: HashMap<(DeviceId, CallId), Vec<Event>>,
    closed: HashSet<(DeviceId, CallId)>,
    calls: u64,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let mut core = Core::new(Limits {
            calls_per_user_max: 3,
            ..Limits::default()
        });
        let mut devices = Vec::new();
        let mut online = HashMap::new();
        for (n, name) in USERS.iter().enumerate() {
            let config = UserConfig {
                endpoint: if n == 0 || rng.chance(40) {
                    Endpoint::Phone
                } else {
                    Endpoint::App
                },
                call_waiting: rng.chance(30),
                end_call_permission: rng.chance(30),
                ..UserConfig::default()
            };
            let u = core.add_user(name, config).unwrap();
            for label in ["a", "b"] {
                let d = core.add_device(&u, label).unwrap();
                core.handle_connect(0, d).unwrap();
                devices.push(d);
                online.insert(d, true);
            }
        }
        let all: Vec<UserId> = USERS.iter().map(|u| UserId::new(u)).collect();
        core.add_group("g", &all).unwrap();
        core.add_group("small", &all[..3]).unwrap();
        Self {
            core,
            now: 0,
            devices,
            online,
            dropped: HashSet::new(),
            heard: HashMap::new(),
            closed: HashSet::new(),
            calls: 0,
        }
    }

    fn snapshots(&self) -> Vec<Option<CallSnapshot>> {
        (1..=self.calls + 1)
            .map(|c| self.core.call_snapshot(CallId(c)))
            .collect()
    }

    fn drain(&mut self) -> Vec<Delivery> {
        let mut out = Vec::new();
        while let Some(d) = self.core.poll_event() {
            assert_eq!(d.at_ms, self.now);
            assert!(self.online[&d.device], "event for an offline device: {d:?}");
            let key = (d.device, d.event.call());
            if matches!(d.event, Event::Incoming { .. } | Event::Notified { .. }) {
                // Invited again after an earlier closing event: a new attachment.
                self.closed.remove(&key);
            }
            assert!(
                !self.closed.contains(&key),
                "event after the closing one: {d:?}"
            );
            if d.event.is_closing() {
                self.closed.insert(key);
            }
            self.heard.entry(key).or_default().push(d.event.clone());
            out.push(d);
        }
        out
    }

    fn random_op(&self, rng: &mut Rng, me: &UserId) -> Op {
        // Mostly a live call of this user, sometimes any id (ended, unknown, someone else's).
        let mine: Vec<CallId> = (1..=self.calls)
            .map(CallId)
            .filter(|c| {
                self.core.call_snapshot(*c).is_some_and(|s| {
                    s.status != CallStatus::Ended && s.members.iter().any(|m| &m.user == me)
                })
            })
            .collect();
        let call = if !mine.is_empty() && rng.chance(85) {
            mine[rng.below(mine.len())]
        } else {
            CallId(1 + rng.below(self.calls as usize + 1) as u64)
        };
        let other = UserId::new(USERS[rng.below(USERS.len())]);
        match rng.below(40) {
            0..=3 => {
                let n = 1 + rng.below(3);
                let mut invitees: Vec<UserId> = Vec::new();
                for _ in 0..n {
                    let u = UserId::new(USERS[rng.below(USERS.len())]);
                    if &u != me && !invitees.contains(&u) {
                        invitees.push(u);
                    }
                }
                if invitees.is_empty() {
                    invitees.push(other);
                }
                let call_type = if rng.chance(50) {
                    CallType::Audio
                } else {
                    CallType::Video
                };
                let group = match rng.below(3) {
                    0 => Some(GroupId::new("g")),
                    1 if invitees.len() > 1 => Some(GroupId::new("small")),
                    _ => None,
                };
                let alert = if rng.chance(15) {
                    Alert::Notify
                } else {
                    Alert::Ring
                };
                Op::Place(PlaceCall {
                    invitees,
                    call_type,
                    group,
                    alert,
                    custom_data: None,
                    headers: vec![],
                })
            }
            4 | 5 => Op::ringing(call),
            6..=10 => Op::accept(call),
            11 => Op::Decline {
                call,
                code: if rng.chance(80) { None } else { Some(700) },
                headers: Vec::new(),
            },
            12 => Op::Cancel { call },
            13 | 14 => Op::hangup(call),
            15 => Op::EndForAll { call },
            16 | 17 => Op::Join { call },
            18 | 19 => Op::Invite {
                call,
                users: vec![other],
            },
            20..=25 => Op::StartSession { call },
            26 | 27 => Op::Hold {
                call,
                on_hold: rng.chance(50),
            },
            28 => Op::Mute {
                call,
                media: if rng.chance(50) {
                    Media::Audio
                } else {
                    Media::Video
                },
                muted: rng.chance(50),
            },
            29 => Op::Dtmf {
                call,
                digits: "1#".into(),
            },
            30 => Op::early_media(call),
            31..=35 => Op::Transfer {
                call,
                target: other,
            },
            36 | 37 => Op::Signal {
                call,
                to: if rng.chance(50) { Some(other) } else { None },
                kind: SignalKind::Candidate,
                body: "c".into(),
            },
            _ => Op::GetCall { call },
        }
    }

    fn step(&mut self, rng: &mut Rng) {
        // Time passes, deadlines fire.
        if rng.chance(20) {
            self.now += [100, 1_000, 10_000, 31_000][rng.below(4)] as u64;
            while let Some(t) = self.core.poll_timeout().filter(|t| *t <= self.now) {
                let before = self.now;
                self.now = t.max(self.core.now_ms());
                self.core.handle_timeout(self.now);
                self.drain();
                self.now = before.max(self.now);
            }
            self.core.handle_timeout(self.now);
            self.drain();
        }
        let d = self.devices[rng.below(self.devices.len())];
        let toggle = if self.online[&d] {
            rng.chance(3)
        } else {
            rng.chance(70)
        };
        if toggle {
            let up = !self.online[&d];
            if up {
                self.core.handle_connect(self.now, d).unwrap();
            } else {
                self.core.handle_disconnect(self.now, d).unwrap();
                for (dev, call) in self.heard.keys() {
                    if *dev == d {
                        self.dropped.insert((d, *call));
                    }
                }
            }
            self.online.insert(d, up);
            let got = self.drain();
            if up {
                assert!(
                    got.iter().all(|x| x.device == d),
                    "connecting told others: {got:?}"
                );
            } else {
                assert!(got.iter().all(|x| x.device != d));
            }
            return;
        }
        let me = self.core.device_user(d).unwrap().clone();
        let op = self.random_op(rng, &me);
        let target = op.call();
        let before = self.snapshots();
        let live = self.core.live_calls();
        let result = self.core.handle_request(self.now, d, op.clone());
        if result.is_ok() && matches!(op, Op::Join { .. } | Op::Accept { .. }) {
            // The device attaches itself (again) by its own action.
            self.closed.remove(&(d, target.unwrap()));
        }
        let got = self.drain();
        match result {
            Err(e) => {
                assert!(got.is_empty(), "refused {op:?} ({e}) sent {got:?}");
                assert_eq!(
                    before,
                    self.snapshots(),
                    "refused {op:?} ({e}) changed a call"
                );
                assert_eq!(live, self.core.live_calls());
                if !self.online[&d] {
                    assert_eq!(e.code(), 401);
                }
            }
            Ok(ref reply) => {
                // Ringing and notified devices get only their invitation and its closing event;
                // everything else goes to session devices (before or after the change).
                let after = self.snapshots();
                let in_session = |snaps: &[Option<CallSnapshot>], dev: DeviceId, call: CallId| {
                    snaps
                        .get(call.0 as usize - 1)
                        .and_then(Option::as_ref)
                        .is_some_and(|s| {
                            s.members.iter().any(|m| {
                                m.device == Some(dev)
                                    && matches!(
                                        m.state,
                                        ParticipantState::Calling | ParticipantState::Joined
                                    )
                            })
                        })
                };
                for x in &got {
                    let invitation =
                        matches!(x.event, Event::Incoming { .. } | Event::Notified { .. });
                    let told_transferor = matches!(x.event, Event::TransferResult { .. });
                    if !invitation && !told_transferor && !x.event.is_closing() {
                        let c = x.event.call();
                        assert!(
                            in_session(&before, x.device, c) || in_session(&after, x.device, c),
                            "{op:?}: {x:?} reached a device outside the session"
                        );
                    }
                }
                if let Reply::Placed { call, .. } = reply {
                    assert_eq!(*call, CallId(self.calls + 1));
                    self.calls += 1;
                    assert!(got.iter().all(|x| x.device != d), "placing told the caller");
                }
                for x in got
                    .iter()
                    .filter(|x| x.device == d && Some(x.event.call()) == target)
                {
                    assert!(
                        matches!(x.event, Event::Status { .. }) || x.event.is_closing(),
                        "{op:?}: the actor heard {:?}",
                        x.event
                    );
                }
            }
        }
    }

    /// Every device that heard of an ended call, and stayed online, got its closing event.
    fn check_closed(&self) {
        for ((d, call), events) in &self.heard {
            let ended = self
                .core
                .call_snapshot(*call)
                .is_some_and(|s| s.status == CallStatus::Ended);
            if ended && !self.dropped.contains(&(*d, *call)) {
                assert!(
                    self.closed.contains(&(*d, *call)),
                    "{d:?} never got a closing event for {call:?}: {events:?}"
                );
            }
        }
    }
}

#[test]
fn the_delivery_contract_holds_under_random_sequences() {
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut w = World::new(seed);
        for _ in 0..400 {
            w.step(&mut rng);
        }
        // Let every ring and early-media deadline pass.
        w.now += 200_000;
        w.core.handle_timeout(w.now);
        w.drain();
        w.check_closed();
        assert_eq!(w.core.poll_timeout(), None, "seed {seed}");
    }
}
