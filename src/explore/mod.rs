//! `callconf explore`: property-based exploration of any system under test against the model.
//!
//! Random cases (a cast of four users, then up to `steps_max` steps: calls, answers, declines,
//! holds, transfers, devices dropping off and coming back, time passing) run against devices
//! behind an adapter, or against the reference implementation in this process. After every
//! step the answer, each device's events and each call's state are compared with the model
//! (`crate::model`), and the invariants are checked. A failing case is shrunk across the process
//! boundary (each candidate re-run against the system from a reset) to a minimal one, and
//! written as a `.feature` file that fails against that system and passes against a correct one.
//!
//! Why: scenarios check what someone thought of; the model checks sequences nobody wrote down.
//! It is the property test of `tests/prop/`, pointed at someone else's SDK.
//!
//! - `case`: one case against a [`Sut`], compared step by step;
//! - `feature`: a shrunk case as a feature file;
//! - `cli`: the command line and the report.

pub mod case;
pub mod cli;
pub mod feature;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use proptest_state_machine::strategy::Sequential;

use crate::conformance::rig::RigClient;
use crate::conformance::sut::{Sut, SutError};
use crate::core::{Fault, Limits};
use crate::model::generate::{Timing, init_state_in, transitions_timed, valid};
use crate::model::shrink::{minimize, script};
use crate::model::{Dialect, Step, World};
use crate::profile::Profile;
use case::{Case, CaseError};

/// Why exploring could not finish; each with a stable code.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    #[error("the system under test broke: {0}")]
    Broken(String),
    #[error("the system under test cannot do what the model needs: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Profile(String),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error("cannot start the system under test: {0}")]
    Start(String),
    #[error("bad option: {0}")]
    Option(String),
}

impl ExploreError {
    pub fn code(&self) -> u16 {
        match self {
            ExploreError::Broken(_) => 1400,
            ExploreError::Unsupported(_) => 1401,
            ExploreError::Profile(_) => 1402,
            ExploreError::Write { .. } => 1403,
            ExploreError::Start(_) => 1404,
            ExploreError::Option(_) => 1405,
        }
    }
}

impl From<SutError> for ExploreError {
    fn from(e: SutError) -> Self {
        match e {
            SutError::Unsupported(m) => ExploreError::Unsupported(m),
            SutError::Broken(m) | SutError::Scenario(m) => ExploreError::Broken(m),
        }
    }
}

/// What is explored.
pub enum Target {
    /// The reference implementation in this process, with these faults injected.
    Local { faults: Vec<Fault> },
    /// Devices behind an adapter, against the rig's server.
    Remote(RigClient),
}

impl Target {
    /// Whether time is real: an adapter whose clock cannot be driven (or a rig on the wall
    /// clock).
    pub fn real_time(&self) -> bool {
        matches!(self, Target::Remote(rig) if !rig.started().clock_driven)
    }

    /// A fresh system: the server reset with `limits`, no devices.
    async fn fresh(&self, limits: &Limits) -> Result<Sut, SutError> {
        let config = case::session_config(limits.clone());
        match self {
            Target::Local { faults } => {
                let sut = Sut::local(config).await;
                if let Sut::Local(session) = &sut {
                    for fault in faults.clone() {
                        session
                            .server()
                            .admin(move |core| core.inject_fault(fault))
                            .await
                            .map_err(|e| SutError::Broken(e.to_string()))?;
                    }
                }
                Ok(sut)
            }
            Target::Remote(rig) => Sut::remote(rig.clone(), &config).await,
        }
    }
}

/// How to explore.
#[derive(Debug, Clone)]
pub struct Options {
    /// Cases to generate (fewer if the time budget runs out first).
    pub cases: u32,
    /// Steps in one case, at most.
    pub steps_max: usize,
    /// The seed of the generator: the same seed against the same system gives the same cases.
    pub seed: u64,
    /// Stop generating new cases after this long (shrinking a failure found is not cut short).
    pub time_budget: Option<Duration>,
    /// Runs of the system while shrinking one failure, at most.
    pub shrink_runs_max: u32,
    /// The dialect the model predicts with and the generator draws operations from.
    pub dialect: Arc<Dialect>,
    /// The limits (and dialect policy) the system is reset with before every case: the
    /// profile's, with the model's ring timeout and live-call limit.
    pub limits: Limits,
    /// How time passes in generated cases (a driven clock, or real time).
    pub timing: Timing,
}

impl Options {
    /// `cases` cases of at most `steps_max` steps from `seed`, under `profile`'s dialect with a
    /// driven clock; the system is reset with the profile's limits and policy.
    pub fn driven(cases: u32, steps_max: usize, seed: u64, profile: &Profile) -> Options {
        let dialect = Arc::new(Dialect::of(profile));
        let limits = case::limits_of(&dialect, &profile.core_limits());
        Options {
            cases,
            steps_max,
            seed,
            time_budget: None,
            shrink_runs_max: SHRINK_RUNS_MAX,
            timing: Timing::driven(dialect.ring_timeout_ms),
            dialect,
            limits,
        }
    }
}

/// The shrink runs allowed by default: enough for every injected fault (they need tens to a
/// few hundred), bounded so a pathological failure cannot shrink forever.
pub const SHRINK_RUNS_MAX: u32 = 4_000;

/// A failure found, shrunk.
#[derive(Debug, Clone)]
pub struct Found {
    pub cast: World,
    pub steps: Vec<Step>,
    /// The step that fails, counting from 1, and why: the model's prediction beside what the
    /// system did.
    pub step: usize,
    pub reason: String,
    /// The generated case that failed first, counting from 1.
    pub found_in_case: u32,
    pub shrink_runs: u32,
}

impl Found {
    /// The steps as a numbered script, calls named by id.
    pub fn script(&self) -> Vec<String> {
        script(&self.cast, &self.steps)
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Explored {
    pub seed: u64,
    /// Cases run to the end or to their failure (shrinking runs not counted).
    pub cases: u32,
    /// Steps carried out in those cases.
    pub steps: u64,
    /// Until the failure was found, or the whole run.
    pub elapsed: Duration,
    /// Shrinking the failure found took this long.
    pub shrinking: Option<Duration>,
    /// Whether the time budget stopped it before `cases`.
    pub out_of_time: bool,
    pub failure: Option<Found>,
}

/// Progress, as the run goes: cases run and their steps, then the shrinking.
pub trait Progress {
    fn case_done(&self, cases: u32, steps: u64);
    fn shrinking(&self, runs: u32);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn case_done(&self, _: u32, _: u64) {}
    fn shrinking(&self, _: u32) {}
}

/// Runs one case from a fresh system reset with `limits`; the steps it carried out.
async fn run_case(
    target: &Target,
    limits: &Limits,
    cast: &World,
    steps: &[Step],
) -> Result<usize, CaseError> {
    let sut = target.fresh(limits).await.map_err(CaseError::Broken)?;
    let mut case = Case::start(sut, cast).await?;
    let mut world = cast.clone();
    for step in steps {
        case.before(&mut world, step)?;
        world.step(step);
        case.step(step, &world).await?;
    }
    Ok(steps.len())
}

/// The proptest runner for `seed`.
fn runner(opts: &Options) -> TestRunner {
    let config = Config {
        cases: opts.cases,
        failure_persistence: None,
        max_shrink_iters: opts.shrink_runs_max,
        // Bounds what is generated after the time budget ran out (see `Hunt::case`).
        max_global_rejects: 64,
        // Our own shrinker goes on from where proptest's stops.
        ..Config::default()
    };
    let mut seed = [0u8; 32];
    for (i, chunk) in seed.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &(opts.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes(),
        );
    }
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

/// One exploration under way: what it explores, and what it has counted so far.
struct Hunt<'a> {
    target: &'a Target,
    opts: &'a Options,
    progress: &'a dyn Progress,
    rt: tokio::runtime::Runtime,
    started: Instant,
    cases: Cell<u32>,
    steps: Cell<u64>,
    /// Runs of the system, generated cases and shrinking candidates.
    runs: Cell<u32>,
    /// The run that failed first, and when.
    found_at: Cell<Option<u32>>,
    found_after: Cell<Option<Duration>>,
    failing_step: Cell<usize>,
    out_of_time: Cell<bool>,
    /// The system broke: every further run is skipped and exploring stops with this.
    broken: RefCell<Option<SutError>>,
}

impl Hunt<'_> {
    /// One generated case (or one of proptest's shrinking candidates), as the runner asks.
    fn case(
        &self,
        cast: &World,
        steps: &[Step],
        seen: Option<&AtomicUsize>,
    ) -> Result<(), TestCaseError> {
        if self.broken.borrow().is_some() {
            return Ok(());
        }
        let shrinking = self.found_at.get().is_some();
        let over_budget = || {
            self.opts
                .time_budget
                .is_some_and(|b| self.started.elapsed() >= b)
        };
        if self.out_of_time.get() || (!shrinking && over_budget()) {
            // Rejected cases make the runner give up after `max_global_rejects` of them,
            // each only generated, not run: the budget stops the run, not just the cases.
            self.out_of_time.set(true);
            return Err(TestCaseError::reject("the time budget ran out"));
        }
        self.runs.set(self.runs.get() + 1);
        if shrinking {
            self.progress
                .shrinking(self.runs.get() - self.found_at.get().unwrap_or(0));
        }
        let outcome = self
            .rt
            .block_on(run_case(self.target, &self.opts.limits, cast, steps));
        let done = match &outcome {
            Ok(n) => *n,
            Err(CaseError::Fails { step, .. }) => *step,
            Err(CaseError::Broken(_)) => 0,
        };
        // proptest-state-machine shrinks away the steps after the failing one.
        if let Some(seen) = seen {
            seen.store(done, Ordering::SeqCst);
        }
        if !shrinking {
            self.cases.set(self.cases.get() + 1);
            self.steps.set(self.steps.get() + done as u64);
            self.progress.case_done(self.cases.get(), self.steps.get());
        }
        match outcome {
            Ok(_) => Ok(()),
            Err(CaseError::Broken(e)) => {
                *self.broken.borrow_mut() = Some(e);
                Ok(())
            }
            Err(CaseError::Fails { step, reason }) => {
                if self.found_at.get().is_none() {
                    self.found_at.set(Some(self.runs.get()));
                    self.found_after.set(Some(self.started.elapsed()));
                }
                self.failing_step.set(step);
                Err(TestCaseError::fail(format!("step {step}: {reason}")))
            }
        }
    }

    /// A shrinking candidate of our own shrinker: `step\nreason` if it fails.
    fn rerun(&self, cast: &World, steps: &[Step]) -> Option<String> {
        if self.broken.borrow().is_some() {
            return None;
        }
        self.runs.set(self.runs.get() + 1);
        self.progress
            .shrinking(self.runs.get() - self.found_at.get().unwrap_or(0));
        match self
            .rt
            .block_on(run_case(self.target, &self.opts.limits, cast, steps))
        {
            Ok(_) => None,
            Err(CaseError::Fails { step, reason }) => Some(format!("{step}\n{reason}")),
            Err(CaseError::Broken(e)) => {
                *self.broken.borrow_mut() = Some(e);
                None
            }
        }
    }

    /// Shrinks proptest's shrunk case further: any step removed, the cast simplified.
    fn shrink(&self, cast: World, steps: Vec<Step>, proptest_reason: String) -> Found {
        let found_in_case = self.found_at.get().unwrap_or_default();
        let first = self.rerun(&cast, &steps).unwrap_or_else(|| {
            format!(
                "{}\n{proptest_reason} (it did not fail again when re-run: the system is not \
                 deterministic for this case)",
                self.failing_step.get()
            )
        });
        let shrunk = minimize(cast, steps, first, |c, s| self.rerun(c, s));
        let (step, reason) = match shrunk.reason.split_once('\n') {
            Some((n, r)) => (n.parse().unwrap_or(self.failing_step.get()), r.to_owned()),
            None => (self.failing_step.get(), shrunk.reason.clone()),
        };
        Found {
            cast: shrunk.cast,
            steps: shrunk.steps,
            step,
            reason,
            found_in_case,
            shrink_runs: self.runs.get() - found_in_case,
        }
    }

    fn broken(&self) -> Result<(), ExploreError> {
        match self.broken.borrow_mut().take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

/// Explores `target` with `opts`, reporting to `progress`.
pub fn explore(
    target: &Target,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Explored, ExploreError> {
    if opts.steps_max == 0 || opts.cases == 0 {
        return Err(ExploreError::Option(
            "--cases and --steps-max must be at least 1".into(),
        ));
    }
    let hunt = Hunt {
        target,
        opts,
        progress,
        // Virtual time, as the scenarios have it: in process it is the server's clock;
        // against a rig, the rig's own thread keeps the deadlines.
        rt: crate::session::runtime(),
        started: Instant::now(),
        cases: Cell::new(0),
        steps: Cell::new(0),
        runs: Cell::new(0),
        found_at: Cell::new(None),
        found_after: Cell::new(None),
        failing_step: Cell::new(0),
        out_of_time: Cell::new(false),
        broken: RefCell::new(None),
    };
    let (dialect, timing) = (opts.dialect.clone(), opts.timing.clone());
    let strategy = Sequential::new(
        (1..=opts.steps_max).into(),
        move || init_state_in(dialect.clone()),
        valid,
        move |world: &World| transitions_timed(world, &timing),
        |mut world: World, step: &Step| {
            world.step(step);
            world
        },
    );
    let result = runner(opts).run(
        &strategy,
        |(cast, steps, seen): (World, Vec<Step>, Option<Arc<AtomicUsize>>)| {
            hunt.case(&cast, &steps, seen.as_deref())
        },
    );
    hunt.broken()?;
    let failure = match result {
        Ok(()) => None,
        Err(TestError::Fail(why, (cast, steps, _))) => {
            let found = hunt.shrink(cast, steps, why.to_string());
            hunt.broken()?;
            Some(found)
        }
        Err(TestError::Abort(_)) if hunt.out_of_time.get() => None,
        Err(TestError::Abort(why)) => return Err(ExploreError::Broken(why.to_string())),
    };
    Ok(Explored {
        seed: opts.seed,
        cases: hunt.cases.get(),
        steps: hunt.steps.get(),
        elapsed: hunt.found_after.get().unwrap_or(hunt.started.elapsed()),
        shrinking: hunt
            .found_after
            .get()
            .map(|at| hunt.started.elapsed().saturating_sub(at)),
        out_of_time: hunt.out_of_time.get(),
        failure,
    })
}
