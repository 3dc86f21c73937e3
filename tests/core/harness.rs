//! A thin driver of the sans-IO core for tests: devices by name (`alice` is alice's first device,
//! `alice/tablet` a named one), a virtual clock, and the events each device received.

use std::collections::{BTreeMap, HashMap};

use callconf::core::*;

pub struct H {
    pub core: Core,
    pub now_ms: u64,
    names: HashMap<String, DeviceId>,
    inbox: BTreeMap<DeviceId, Vec<Event>>,
    calls: Vec<CallId>,
}

impl H {
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Self {
        Self {
            core: Core::new(limits),
            now_ms: 0,
            names: HashMap::new(),
            inbox: BTreeMap::new(),
            calls: Vec::new(),
        }
    }

    /// A user with one connected device named after them.
    pub fn user(&mut self, name: &str) -> &mut Self {
        self.user_with(name, &["phone"], UserConfig::default())
    }

    /// A user with the named devices, all connected, and a config.
    pub fn user_with(&mut self, name: &str, devices: &[&str], config: UserConfig) -> &mut Self {
        let user = self.core.add_user(name, config).expect("add user");
        for (i, label) in devices.iter().enumerate() {
            let d = self.core.add_device(&user, label).expect("add device");
            self.core.handle_connect(self.now_ms, d).expect("connect");
            if i == 0 {
                self.names.insert(name.to_owned(), d);
            }
            self.names.insert(format!("{name}/{label}"), d);
        }
        self.drain();
        self
    }

    pub fn users(&mut self, names: &[&str]) -> &mut Self {
        for n in names {
            self.user(n);
        }
        self
    }

    pub fn group(&mut self, name: &str, members: &[&str]) -> &mut Self {
        let members: Vec<UserId> = members.iter().map(|m| UserId::new(m)).collect();
        self.core.add_group(name, &members).expect("add group");
        self
    }

    pub fn dev(&self, name: &str) -> DeviceId {
        *self
            .names
            .get(name)
            .unwrap_or_else(|| panic!("no device {name}"))
    }

    pub fn op(&mut self, device: &str, op: Op) -> Result<Reply, CallError> {
        let d = self.dev(device);
        let r = self.core.handle_request(self.now_ms, d, op);
        if let Ok(Reply::Placed { call, .. }) = &r {
            self.calls.push(*call);
        }
        self.drain();
        r
    }

    pub fn ok(&mut self, device: &str, op: Op) -> Reply {
        let name = op.name();
        self.op(device, op)
            .unwrap_or_else(|e| panic!("{device} {name}: {e} ({})", e.code()))
    }

    /// A ringing 1:1 call from `from` to user `to`.
    pub fn call(&mut self, from: &str, to: &str, call_type: CallType) -> CallId {
        match self.ok(from, Op::Place(PlaceCall::direct(to, call_type))) {
            Reply::Placed { call, .. } => call,
            other => panic!("unexpected reply {other:?}"),
        }
    }

    pub fn place(&mut self, from: &str, place: PlaceCall) -> CallId {
        match self.ok(from, Op::Place(place)) {
            Reply::Placed { call, .. } => call,
            other => panic!("unexpected reply {other:?}"),
        }
    }

    /// 1:1 call answered and both sessions started: status connected. Inboxes are cleared.
    pub fn connected(&mut self, from: &str, to: &str, call_type: CallType) -> CallId {
        let call = self.call(from, to, call_type);
        self.ok(to, Op::accept(call));
        self.ok(from, Op::StartSession { call });
        self.ok(to, Op::StartSession { call });
        assert_eq!(self.status(call), CallStatus::Connected);
        self.clear();
        call
    }

    pub fn advance(&mut self, ms: u64) {
        let until = self.now_ms + ms;
        // Fire deadlines in order, as an adapter would.
        while let Some(t) = self.core.poll_timeout().filter(|t| *t <= until) {
            self.now_ms = t.max(self.now_ms);
            self.core.handle_timeout(self.now_ms);
            self.drain();
        }
        self.now_ms = until;
    }

    pub fn connect(&mut self, device: &str) {
        let d = self.dev(device);
        self.core.handle_connect(self.now_ms, d).expect("connect");
        self.drain();
    }

    pub fn disconnect(&mut self, device: &str) {
        let d = self.dev(device);
        self.core
            .handle_disconnect(self.now_ms, d)
            .expect("disconnect");
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(del) = self.core.poll_event() {
            assert_eq!(
                del.at_ms, self.now_ms,
                "events are stamped with the current time"
            );
            self.inbox.entry(del.device).or_default().push(del.event);
        }
    }

    /// Takes what `device` received since the last look.
    pub fn events(&mut self, device: &str) -> Vec<Event> {
        let d = self.dev(device);
        self.inbox.remove(&d).unwrap_or_default()
    }

    /// Takes what `device` received, rendered one line each.
    pub fn seen(&mut self, device: &str) -> Vec<String> {
        self.events(device).iter().map(|e| e.to_string()).collect()
    }

    pub fn clear(&mut self) {
        self.inbox.clear();
    }

    /// No device received anything since the last look.
    pub fn quiet(&self) -> bool {
        self.inbox.values().all(Vec::is_empty)
    }

    pub fn snapshot(&self, call: CallId) -> CallSnapshot {
        self.core.call_snapshot(call).expect("known call")
    }

    pub fn status(&self, call: CallId) -> CallStatus {
        self.snapshot(call).status
    }

    pub fn member_state(&self, call: CallId, user: &str) -> ParticipantState {
        self.snapshot(call)
            .members
            .into_iter()
            .find(|m| m.user.as_str() == user)
            .map(|m| m.state)
            .unwrap_or_else(|| panic!("{user} is not a member"))
    }

    /// Asserts that `op` by `device` is refused with `code` and that nothing changed: every
    /// call's state is the same and no device received anything.
    pub fn refused(&mut self, device: &str, op: Op, code: u16) -> CallError {
        self.clear();
        let before: Vec<_> = self
            .calls
            .iter()
            .map(|c| self.core.call_snapshot(*c))
            .collect();
        let live_before = self.core.live_calls();
        let name = op.name();
        let err = match self.op(device, op) {
            Ok(r) => panic!("{device} {name} should fail with {code}, got {r:?}"),
            Err(e) => e,
        };
        assert_eq!(err.code(), code, "{device} {name}: {err}");
        let after: Vec<_> = self
            .calls
            .iter()
            .map(|c| self.core.call_snapshot(*c))
            .collect();
        assert_eq!(before, after, "a refused {name} changed a call");
        assert_eq!(live_before, self.core.live_calls());
        assert!(
            self.quiet(),
            "a refused {name} sent events: {:?}",
            self.inbox
        );
        err
    }
}
