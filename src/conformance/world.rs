//! The cucumber `World`: one per scenario, a thin handle on a worker thread that owns the
//! scenario's [`Stage`] and its current-thread, paused-clock tokio runtime.
//!
//! Why a thread per scenario: a [`Session`](crate::session::Session) must run on its own
//! current-thread runtime with a paused clock, so that virtual time moves only when a step moves
//! it and a run replays exactly. Cucumber polls every scenario from one task; if two sessions
//! shared one runtime, one scenario's `31 seconds pass` would move the other's clock. So each
//! scenario gets a worker that blocks on a plain channel between steps (its runtime is not
//! driven then, so no timer can fire early) and enters its runtime only to carry out a step.
//! Scenarios run concurrently and, on a multi-core machine, in parallel.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;

use cucumber::gherkin;
use cucumber::step::Context;
use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use super::action::Action;
use super::catalog;
use super::expect::Failure;
use super::rig::RigClient;
use super::stage::{Stage, StepInfo};
use super::trace::TraceBlock;
use crate::profile::Profile;
use crate::session;

/// A step that failed, where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedStep {
    /// The step as written: `Then alice sees:`.
    pub step: String,
    pub line: usize,
    pub failure: Failure,
}

enum Request {
    Step(Box<(Action, StepInfo)>),
    Trace,
}

enum Response {
    Step(Result<(), Failure>),
    Trace(Vec<TraceBlock>),
}

type Job = (Request, oneshot::Sender<Result<Response, String>>);

/// The worker thread of one scenario. Dropping it ends the thread (and the session with it).
struct Worker {
    jobs: mpsc::Sender<Job>,
}

thread_local! {
    /// The rig the worlds created on this thread drive (set by the runner before a run).
    static RIG: std::cell::RefCell<Option<RigClient>> = const { std::cell::RefCell::new(None) };
    /// The dialect those worlds' scenarios run under unless they say otherwise.
    static PROFILE: std::cell::RefCell<Dialects> = const { std::cell::RefCell::new((None, None)) };
}

/// The dialect scenarios are graded under, and the one the server emulates if it differs.
type Dialects = (Option<Profile>, Option<Profile>);

/// Makes the worlds this thread creates from now on run under `profile` (canonical for `None`),
/// with the server emulating `emulated` instead when given.
pub fn use_profile(profile: Option<Profile>, emulated: Option<Profile>) {
    PROFILE.with(|p| *p.borrow_mut() = (profile, emulated));
}

/// Makes the worlds this thread creates from now on drive `rig` (or the reference
/// implementation in process, for `None`).
pub fn use_rig(rig: Option<RigClient>) {
    RIG.with(|r| *r.borrow_mut() = rig);
}

impl Worker {
    fn spawn(rig: Option<RigClient>, (profile, emulated): Dialects) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("callconf-scenario".into())
            .spawn(move || {
                let rt = session::runtime();
                let mut stage = Stage::new(rig, profile.as_ref(), emulated.as_ref());
                while let Ok((request, reply)) = rx.recv() {
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        rt.block_on(async {
                            match request {
                                Request::Step(step) => {
                                    let (action, info) = *step;
                                    Response::Step(stage.run(action, &info).await)
                                }
                                Request::Trace => Response::Trace(stage.trace().to_vec()),
                            }
                        })
                    }));
                    let _ = reply.send(result.map_err(|p| panic_message(p.as_ref())));
                }
            })?;
        Ok(Self { jobs })
    }

    async fn ask(&self, request: Request) -> Result<Response, String> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send((request, tx))
            .map_err(|_| "the scenario's worker thread has stopped".to_owned())?;
        rx.await
            .map_err(|_| "the scenario's worker thread has stopped".to_owned())?
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// One scenario's world.
pub struct ConformanceWorld {
    worker: Worker,
    failure: Option<FailedStep>,
}

impl fmt::Debug for ConformanceWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConformanceWorld")
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

impl cucumber::World for ConformanceWorld {
    type Error = std::io::Error;

    async fn new() -> Result<Self, Self::Error> {
        Ok(Self {
            worker: Worker::spawn(
                RIG.with(|r| r.borrow().clone()),
                PROFILE.with(|p| p.borrow().clone()),
            )?,
            failure: None,
        })
    }
}

impl ConformanceWorld {
    /// Carries out one step.
    pub async fn step(&mut self, step: &gherkin::Step) -> Result<(), Failure> {
        let found = catalog::matches(step.ty, &step.value);
        let [compiled] = found.as_slice() else {
            // The checker rejects unknown and ambiguous steps before a run; this is a guard.
            return Err(Failure::new(format!(
                "`{}` matches {} step definitions (run `callconf steps`)",
                step.value,
                found.len()
            )));
        };
        let action = catalog::parse(compiled, step).map_err(Failure::new)?;
        let info = StepInfo {
            keyword: step.keyword.clone(),
            staging: step.ty == gherkin::StepType::Given,
            text: step.value.clone(),
            line: step.position.line,
        };
        match self
            .worker
            .ask(Request::Step(Box::new((action, info))))
            .await
        {
            Ok(Response::Step(result)) => result,
            Ok(Response::Trace(_)) => Err(Failure::new("the worker answered out of turn")),
            Err(crash) => Err(Failure::new(format!(
                "the reference implementation panicked: {crash}"
            ))),
        }
    }

    /// The scenario's trace so far.
    pub async fn trace(&self) -> Vec<TraceBlock> {
        match self.worker.ask(Request::Trace).await {
            Ok(Response::Trace(trace)) => trace,
            _ => Vec::new(),
        }
    }

    /// The step that failed, if one did.
    pub fn take_failure(&mut self) -> Option<FailedStep> {
        self.failure.take()
    }
}

/// The one step function every pattern is registered with: it finds the definition again by
/// the step's text, so the catalog stays the single source of truth.
pub fn dispatch(world: &mut ConformanceWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    Box::pin(async move {
        let step = ctx.step;
        if let Err(failure) = world.step(&step).await {
            let message = failure.message.clone();
            world.failure = Some(FailedStep {
                step: format!("{} {}", step.keyword.trim(), step.value),
                line: step.position.line,
                failure,
            });
            // Unwinding without the panic hook: a failed expectation is not a crash, and
            // cucumber reports the message itself.
            std::panic::resume_unwind(Box::new(message));
        }
    })
}

/// Every step pattern, registered with cucumber.
pub fn collection() -> cucumber::step::Collection<ConformanceWorld> {
    let mut steps = cucumber::step::Collection::new();
    for c in catalog::all() {
        let re = c.regex.clone();
        steps = match c.def.kind {
            catalog::Kind::Given => steps.given(None, re, dispatch),
            catalog::Kind::Operation => steps
                .given(None, re.clone(), dispatch)
                .when(None, re, dispatch),
            catalog::Kind::Then => steps.then(None, re, dispatch),
        };
    }
    steps
}
