//! The system under test: a [`Session`] (reference server plus one client SDK device per
//! device of the model) in virtual time, driven through the client API.
//!
//! After every step it compares with the model: the answer (reply or refusal), every event each
//! device received (per device and call, in order, with its time), and the state of every call
//! (full snapshot while live; status, reason, end time and members once ended). Then the
//! invariants of `invariants.rs` are checked on what was observed.
//!
//! The client's automatic steps are off (ring acknowledgement and starting the media session
//! are steps of their own), so that every request in a case is one the case asked for.
//!
//! [`run_property`] runs the whole property; the lifecycle test and the fault test share it.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use callconf::client::{ClientError, Device, DeviceOptions};
use callconf::core::{
    Alert, CallId, CallSnapshot, Delivery, Fault, GroupId, Limits, Media, PlaceCall, Reply, UserId,
};
use callconf::session::{Session, SessionConfig, ms, runtime};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use tokio::runtime::Runtime;

use callconf::model::compare::{check_events, check_snapshots};
use callconf::model::invariants::{Observation, Observer};
use callconf::model::shrink::{minimize, script};
use callconf::model::{
    Dev, GROUPS, LIVE_CALLS_MAX, Lifecycle, Outcome, RING_TIMEOUT_MS, Refusal, STEPS_MAX, Step,
    USERS, World, call_type, user_name,
};

thread_local! {
    /// The fault to inject into the next cores this thread starts (the fault test only).
    static FAULT: Cell<Option<Fault>> = const { Cell::new(None) };
    /// Whether steps are compared with the model (off to show the invariants alone catch a fault).
    static COMPARE: Cell<bool> = const { Cell::new(true) };
}

/// Runs `f` with `fault` injected into every core started meanwhile on this thread, comparing
/// with the model or not.
pub fn with_fault<R>(fault: Option<Fault>, compare: bool, f: impl FnOnce() -> R) -> R {
    let before = (FAULT.replace(fault), COMPARE.replace(compare));
    let result = f();
    FAULT.set(before.0);
    COMPARE.set(before.1);
    result
}

pub struct Sut {
    rt: Rc<Runtime>,
    session: Session,
    /// The latest handle of each device, kept while it is offline (its requests then get 401).
    handles: BTreeMap<Dev, Device>,
    online: std::collections::BTreeSet<Dev>,
    observer: RefCell<Observer>,
    /// What the last step showed, for the invariants.
    last: Option<Observation>,
    /// Calls placed so far (the server's count), to resolve the calls steps count back to.
    placed: usize,
    /// Steps so far, for failure messages.
    done: Vec<String>,
    compare: bool,
}

impl Sut {
    pub fn start(world: &World) -> Self {
        let rt = runtime();
        let fault = FAULT.get();
        let config = SessionConfig {
            limits: Limits {
                ring_timeout_ms: RING_TIMEOUT_MS,
                live_calls_max: LIVE_CALLS_MAX,
                ..Limits::default()
            },
            device: DeviceOptions {
                auto_ringing: false,
                auto_start_session: false,
                ..DeviceOptions::default()
            },
            ..SessionConfig::default()
        };
        let (session, handles) = rt.block_on(async {
            let mut s = Session::start(config).await;
            for u in 0..USERS {
                let labels: Vec<&str> = world.devices_of(u).iter().map(|d| d.label()).collect();
                s.add_user(&user_name(u), &labels, world.setup[u].config())
                    .await
                    .expect("the cast registers");
            }
            for (name, members) in GROUPS {
                let members: Vec<String> = members.iter().map(|u| user_name(*u)).collect();
                let members: Vec<&str> = members.iter().map(String::as_str).collect();
                s.add_group(name, &members).await.expect("groups register");
            }
            if let Some(fault) = fault {
                s.server()
                    .admin(move |core| core.inject_fault(fault))
                    .await
                    .expect("the server runs");
            }
            let mut handles = BTreeMap::new();
            for d in world.devices() {
                let device = s.device(&d.key()).expect("registered").clone();
                assert_eq!(
                    device.id(),
                    world.device_id(d),
                    "device ids as the model numbers them"
                );
                handles.insert(d, device);
            }
            (s, handles)
        });
        Self {
            rt: Rc::new(rt),
            session,
            handles,
            online: world.online.clone(),
            observer: RefCell::new(Observer::new(world)),
            last: None,
            placed: 0,
            done: Vec::new(),
            compare: COMPARE.get(),
        }
    }

    /// Carries out `step`, compares it with the model's prediction (`model` is the state after
    /// the step), and records what the invariants need.
    pub fn run(&mut self, step: &Step, model: &World) {
        self.done.push(step.show(self.placed));
        let call = step.actor_and_call().map(|(_, b)| b.resolve(self.placed));
        let rt = self.rt.clone();
        let (outcome, seed) = rt.block_on(self.perform(step));
        let events = self.take_events();
        let snapshots = self.snapshots();
        self.placed = snapshots.len();
        // Virtual time is only read inside the runtime (outside it, tokio's clock is the real one).
        let now = rt.block_on(async { self.session.now_ms() });
        if self.compare
            && let Err(e) = self.compare_with(model, &outcome, &events, &snapshots)
        {
            self.fail(&format!("disagrees with the model: {e}"));
        }
        self.last = Some(Observation {
            step: step.clone(),
            call,
            outcome,
            seed,
            events,
            snapshots,
            now,
            online: self.online.clone(),
        });
    }

    /// Checks the invariants on what the last step showed.
    pub fn check(&self) {
        let Some(observation) = &self.last else {
            return;
        };
        if let Err(e) = self.observer.borrow_mut().observe(observation) {
            self.fail(&format!("breaks an invariant: {e}"));
        }
    }

    fn fail(&self, what: &str) -> ! {
        let mut steps = String::new();
        for (n, s) in self.done.iter().enumerate() {
            steps.push_str(&format!("\n  {}. {s}", n + 1));
        }
        panic!("step {} {what}\nsteps:{steps}", self.done.len());
    }

    fn handle(&self, d: Dev) -> &Device {
        &self.handles[&d]
    }

    /// Does `step` through the client API; returns the answer, and for a successful accept or
    /// join the call's state as the device then reads it (how an SDK learns the hold and mute
    /// states of those already in the call).
    async fn perform(&mut self, step: &Step) -> (Option<Outcome>, Option<CallSnapshot>) {
        let mut seed = None;
        let outcome = match step {
            Step::Advance { ms: by } => {
                self.session.advance(ms(*by)).await;
                None
            }
            Step::Offline { dev } => {
                self.session
                    .disconnect(&dev.key())
                    .await
                    .expect("known device");
                self.online.remove(dev);
                None
            }
            Step::Online { dev } => {
                self.session
                    .reconnect(&dev.key())
                    .await
                    .expect("known device");
                let device = self.session.device(&dev.key()).expect("connected").clone();
                self.handles.insert(*dev, device);
                self.online.insert(*dev);
                None
            }
            Step::Place {
                by,
                to,
                video,
                group,
            } => {
                let place = PlaceCall {
                    invitees: to.iter().map(|u| UserId::new(&user_name(*u))).collect(),
                    call_type: call_type(*video),
                    group: group.map(|g| GroupId::new(GROUPS[g].0)),
                    alert: Alert::Ring,
                    custom_data: None,
                    headers: Vec::new(),
                };
                Some(match self.handle(*by).place_call(place).await {
                    Ok(p) => Outcome::Placed {
                        call: p.call,
                        busy: p.busy,
                        unavailable: p.unavailable,
                    },
                    Err(e) => refused(e),
                })
            }
            other => {
                let (by, back) = other.actor_and_call().expect("an operation on a call");
                let call = back.resolve(self.placed);
                let h = self.handle(by).clone();
                let done = |r: Result<(), ClientError>| match r {
                    Ok(()) => Outcome::Done,
                    Err(e) => refused(e),
                };
                let outcome = match other {
                    Step::Ring { .. } => done(h.ringing(call).await),
                    Step::Accept { .. } => done(h.accept(call).await),
                    Step::StartSession { .. } => done(h.start_session(call).await),
                    Step::Decline { code, .. } => done(h.decline(call, *code).await),
                    Step::Cancel { .. } => done(h.cancel(call).await),
                    Step::Hangup { .. } => done(h.hangup(call).await),
                    Step::EndForAll { .. } => done(h.end_for_all(call).await),
                    Step::Join { .. } => done(h.join(call).await),
                    Step::Hold { on: true, .. } => done(h.hold(call).await),
                    Step::Hold { on: false, .. } => done(h.unhold(call).await),
                    Step::Mute { video, muted, .. } => {
                        let media = if *video { Media::Video } else { Media::Audio };
                        done(h.mute(call, media, *muted).await)
                    }
                    Step::Dtmf { digits, .. } => done(h.send_dtmf(call, digits).await),
                    Step::Transfer { to, .. } => done(h.transfer(call, &user_name(*to)).await),
                    Step::Invite { users, .. } => {
                        let names: Vec<String> = users.iter().map(|u| user_name(*u)).collect();
                        let names: Vec<&str> = names.iter().map(String::as_str).collect();
                        match h.invite(call, &names).await {
                            Ok(Reply::Invited { busy, unavailable }) => {
                                Outcome::Invited { busy, unavailable }
                            }
                            Ok(other) => panic!("unexpected reply to invite: {other:?}"),
                            Err(e) => refused(e),
                        }
                    }
                    Step::GetCall { .. } => match h.get_call(call).await {
                        Ok(s) => Outcome::Snapshot(Box::new(s)),
                        Err(e) => refused(e),
                    },
                    _ => unreachable!("placing, time and presence are handled above"),
                };
                if matches!(other, Step::Accept { .. } | Step::Join { .. })
                    && outcome == Outcome::Done
                {
                    seed = Some(h.get_call(call).await.expect("a member reads its call"));
                }
                Some(outcome)
            }
        };
        self.session.settle().await;
        (outcome, seed)
    }

    /// What each device received during the step.
    fn take_events(&self) -> BTreeMap<Dev, Vec<Delivery>> {
        self.handles
            .keys()
            .map(|d| (*d, self.session.take_new(&d.key()).expect("known device")))
            .filter(|(_, e)| !e.is_empty())
            .collect()
    }

    /// Every call the server knows, by id.
    fn snapshots(&self) -> Vec<CallSnapshot> {
        self.rt.block_on(async {
            self.session
                .server()
                .admin(|core| {
                    (1..)
                        .map_while(|n| core.call_snapshot(CallId(n)))
                        .collect::<Vec<_>>()
                })
                .await
                .expect("the server runs")
        })
    }

    fn compare_with(
        &self,
        model: &World,
        outcome: &Option<Outcome>,
        events: &BTreeMap<Dev, Vec<Delivery>>,
        snapshots: &[CallSnapshot],
    ) -> Result<(), String> {
        if *outcome != model.expect.outcome {
            return Err(format!(
                "the answer is {}, the model says {}",
                show_outcome(outcome),
                show_outcome(&model.expect.outcome)
            ));
        }
        check_events(model, events, 0)?;
        check_snapshots(model, snapshots, 0)
    }
}

fn refused(e: ClientError) -> Outcome {
    match e {
        ClientError::Refused(e) => Outcome::Refused(Refusal::of(&e)),
        other => panic!("the client failed on its own: {other}"),
    }
}

fn show_outcome(o: &Option<Outcome>) -> String {
    match o {
        None => "nothing".into(),
        Some(Outcome::Refused(r)) => format!("refused {r:?}"),
        Some(Outcome::Snapshot(s)) => format!("{s:?}"),
        Some(other) => format!("{other:?}"),
    }
}

/// The property test proper: the session against the model.
pub struct CallTest;

impl StateMachineTest for CallTest {
    type SystemUnderTest = Sut;
    type Reference = Lifecycle;

    fn init_test(world: &World) -> Sut {
        Sut::start(world)
    }

    fn apply(mut sut: Sut, model: &World, step: Step) -> Sut {
        sut.run(&step, model);
        sut
    }

    fn check_invariants(sut: &Sut, _model: &World) {
        sut.check();
    }
}

// ----- running the property ------------------------------------------------------------------

/// A failing case, shrunk: the cast, the steps and why it fails.
pub struct Failure {
    pub cast: World,
    pub steps: Vec<Step>,
    pub reason: String,
    /// The generated case that failed first, counting from 1.
    pub found_in_case: u32,
    /// Runs of the property spent shrinking (proptest's shrinker, then the extra passes).
    pub shrink_runs: u32,
    pub elapsed: Duration,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  cast: {:?}", self.cast)?;
        for (n, line) in script(&self.cast, &self.steps).iter().enumerate() {
            writeln!(f, "  {}. {line}", n + 1)?;
        }
        let first = self.reason.lines().next().unwrap_or_default();
        writeln!(f, "  fails: {first}")?;
        write!(
            f,
            "  (found in case {}, shrunk in {} runs, {:.1} s)",
            self.found_in_case,
            self.shrink_runs,
            self.elapsed.as_secs_f64()
        )
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's panic messages silenced (a failing case panics once per
/// shrinking run); other threads' panics are reported as usual.
fn quietly<R>(f: impl FnOnce() -> R) -> R {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.get() {
                previous(info);
            }
        }));
    });
    let before = QUIET.replace(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.set(before);
    result.unwrap_or_else(|panic| resume_unwind(panic))
}

/// Runs one case; the failure message if it fails.
fn run_case(
    config: &Config,
    cast: World,
    steps: Vec<Step>,
    seen: Option<Arc<AtomicUsize>>,
) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        CallTest::test_sequential(config.clone(), cast, steps, seen);
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

/// Runs the lifecycle property with `runner` (its config says how many cases, and where
/// failures persist), with `fault` injected, comparing with the model or not. A failure is
/// shrunk by proptest, then by [`minimize`].
pub fn run_property(
    mut runner: TestRunner,
    fault: Option<Fault>,
    compare_with_model: bool,
) -> Result<(), Box<Failure>> {
    let config = runner.config().clone();
    let strategy = Lifecycle::sequential_strategy(1..=STEPS_MAX);
    let started = Instant::now();
    let (runs, found_at) = (Cell::new(0u32), Cell::new(None));
    with_fault(fault, compare_with_model, || {
        quietly(|| {
            let result = runner.run(&strategy, |(cast, steps, seen)| {
                runs.set(runs.get() + 1);
                run_case(&config, cast, steps, seen).map_err(|reason| {
                    found_at.set(found_at.get().or(Some(runs.get())));
                    TestCaseError::fail(reason)
                })
            });
            let (reason, cast, steps) = match result {
                Ok(()) => return Ok(()),
                Err(TestError::Fail(reason, (cast, steps, _))) => (reason.to_string(), cast, steps),
                Err(TestError::Abort(why)) => panic!("the runner gave up: {why}"),
            };
            let found_in_case = found_at.get().unwrap_or_default();
            let shrunk = minimize(cast, steps, reason, |cast, steps| {
                run_case(&config, cast.clone(), steps.to_vec(), None).err()
            });
            Err(Box::new(Failure {
                cast: shrunk.cast,
                steps: shrunk.steps,
                reason: shrunk.reason,
                found_in_case,
                shrink_runs: runs.get() - found_in_case + shrunk.runs,
                elapsed: started.elapsed(),
            }))
        })
    })
}
