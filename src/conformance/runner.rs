//! Runs feature files against the reference implementation: load and check them, select
//! scenarios by tag expression and name, run them with cucumber (concurrently, one worker per
//! scenario), and collect a [`RunReport`]. The Cucumber-JSON report comes from cucumber's own
//! writer; the table, JUnit, HTML and libtest output are rendered from the report (cucumber's
//! JUnit writer knows only failures, not errors and unimplemented scenarios).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use cucumber::event::{self, ScenarioFinished};
use cucumber::gherkin::{self, tagexpr::TagOperation};
use cucumber::tag::Ext as _;
use cucumber::writer::{self, Normalize};
use cucumber::{Event, Writer, cli, parser};

use super::action::Action;
use super::applies;
use super::catalog;
use super::check;
use super::error::ConformanceError;
use super::expect::FailureKind;
use super::features::{self, shown};
use super::report::{KNOWN_BUG, RunReport, ScenarioRecord, Verdict, capability_of, libtest, slug};
use super::world::{self, ConformanceWorld};

/// The text of the step appended to every scenario (see `Expectation::AllChecked`).
pub const FINAL_STEP: &str = "every event has been checked";

/// What to run and where to write reports.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Feature files or directories.
    pub features: Vec<PathBuf>,
    /// A tag expression (`@hold and not @slow`). `@known-bug` scenarios are skipped unless the
    /// expression names `@known-bug`.
    pub tags: Option<String>,
    /// Only scenarios whose name or `file:line` contains this text.
    pub name: Option<String>,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    /// Scenarios run at once (default: twice the available cores; one against a rig).
    pub concurrency: Option<usize>,
    /// Drive devices behind an adapter instead of the reference implementation in process.
    pub rig: Option<super::rig::RigClient>,
    /// The dialect scenarios run under and are graded by (canonical when `None`): the
    /// reference server emulates it, and a step needing a capability it lacks makes its
    /// scenario unimplemented.
    pub profile: Option<crate::profile::Profile>,
    /// The dialect the reference server emulates when it is not `profile` (in process): how a
    /// test shows that certifying a server of one dialect against another's profile fails
    /// exactly where they differ. `None`: the server emulates `profile`.
    pub emulate: Option<crate::profile::Profile>,
    /// Also run the boundary scenarios generated from the profile's limits (`boundary.rs`).
    pub boundaries: bool,
}

/// The project's feature directory: `./features` when it exists, else the one in the source tree.
pub fn default_features_dir() -> PathBuf {
    let local = PathBuf::from("features");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("features")
    }
}

/// Parses a tag expression.
pub fn parse_tags(expr: &str) -> Result<TagOperation, ConformanceError> {
    expr.trim()
        .parse::<TagOperation>()
        .map_err(|e| ConformanceError::BadTags {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })
}

/// The feature-level tag of media features, which this (virtual-time) runner leaves out.
pub const MEDIA: &str = "media";

/// Runs the features and reports on every scenario.
pub fn run(opts: &RunOptions) -> Result<RunReport, ConformanceError> {
    let start = Instant::now();
    let tags = opts.tags.as_deref().map(parse_tags).transpose()?;
    let (mut features, mut problems) = features::load(&opts.features)?;
    if opts.boundaries {
        let profile = match &opts.profile {
            Some(p) => p.clone(),
            None => crate::profile::Profile::builtin("canonical")?,
        };
        features.push(super::boundary::feature(&profile)?);
    }
    // `@media` features need real media in real time; their runner is `tests/media.rs`.
    features.retain(|f| !f.tags.iter().any(|t| t == MEDIA));
    problems.extend(check::check(&features));
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
        return Err(ConformanceError::Invalid(problems));
    }

    // `@known-bug` scenarios run only when the tag expression asks about them.
    let known_bugs_selected = opts
        .tags
        .as_deref()
        .is_some_and(|t| t.contains(&format!("@{KNOWN_BUG}")));
    let real_time = opts.rig.as_ref().is_some_and(|r| !r.started().clock_driven);
    let run_dialect = match &opts.profile {
        Some(p) => p.clone(),
        None => crate::profile::Profile::builtin("canonical")?,
    };
    let mut skipped = Vec::new();
    let mut filtered_out = 0;
    for f in &mut features {
        let feature_tags = f.tags.clone();
        let keep = |rule_tags: &[String], s: &gherkin::Scenario, f: &gherkin::Feature| {
            // An outline's expanded scenario carries the tags of its Examples block too.
            let all: Vec<&String> = feature_tags
                .iter()
                .chain(rule_tags)
                .chain(&s.tags)
                .chain(s.examples.iter().flat_map(|e| &e.tags))
                .collect();
            let r = record(f, rule_tags, s);
            let named = opts
                .name
                .as_deref()
                .is_none_or(|n| libtest::test_name(&r).contains(n) || r.location().contains(n));
            let tagged = tags
                .as_ref()
                .is_none_or(|expr| expr.eval(all.iter().map(|t| t.as_str())));
            let clock_need = if real_time {
                needs_driven_clock(s)
            } else {
                None
            };
            let dialect = own_dialect(f, s);
            let dialect = dialect.as_ref().unwrap_or(&run_dialect);
            if !named || !tagged {
                Selection::Filtered
            } else if let Some(reason) =
                applies::not_applicable(all.iter().map(|t| t.as_str()), dialect)
            {
                Selection::Skipped(Box::new(ScenarioRecord {
                    verdict: Verdict::Skipped,
                    reason: Some(reason),
                    ..r
                }))
            } else if let Some(reason) = clock_need {
                Selection::Skipped(Box::new(ScenarioRecord {
                    verdict: Verdict::Unimplemented,
                    reason: Some(reason),
                    ..r
                }))
            } else if !known_bugs_selected && all.iter().any(|t| *t == KNOWN_BUG) {
                Selection::Skipped(Box::new(ScenarioRecord {
                    verdict: Verdict::Skipped,
                    reason: Some(
                        "tagged @known-bug: excluded from the default run (select it with \
                         --tags @known-bug)"
                            .into(),
                    ),
                    ..r
                }))
            } else {
                Selection::Run
            }
        };
        let mut decide =
            |rule_tags: &[String], scenarios: Vec<gherkin::Scenario>, f: &gherkin::Feature| {
                let mut run = Vec::new();
                for s in scenarios {
                    match keep(rule_tags, &s, f) {
                        Selection::Run => run.push(s),
                        Selection::Filtered => filtered_out += 1,
                        Selection::Skipped(r) => skipped.push(*r),
                    }
                }
                run
            };
        let scenarios = std::mem::take(&mut f.scenarios);
        f.scenarios = decide(&[], scenarios, f);
        let mut rules = std::mem::take(&mut f.rules);
        for r in &mut rules {
            let scenarios = std::mem::take(&mut r.scenarios);
            r.scenarios = decide(&r.tags.clone(), scenarios, f);
        }
        f.rules = rules;
        for s in f
            .scenarios
            .iter_mut()
            .chain(f.rules.iter_mut().flat_map(|r| r.scenarios.iter_mut()))
        {
            append_final_step(s);
        }
    }
    features.retain(|f| !f.scenarios.is_empty() || f.rules.iter().any(|r| !r.scenarios.is_empty()));

    let mut scenarios = if features.is_empty() {
        Vec::new()
    } else {
        execute(features, opts)?
    };
    scenarios.extend(skipped);
    scenarios.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    let mut used: HashMap<String, usize> = HashMap::new();
    for s in &mut scenarios {
        let n = used.entry(s.snapshot.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            s.snapshot = format!("{}__{n}", s.snapshot);
        }
    }
    let report = RunReport {
        sources: opts.features.iter().map(|p| shown(p)).collect(),
        scenarios,
        filtered_out,
        elapsed: start.elapsed(),
        sut: opts.rig.as_ref().map(|r| r.describe()).unwrap_or_default(),
        dialect: opts.profile.as_ref().map(describe).unwrap_or_default(),
    };
    if let Some(path) = &opts.junit {
        std::fs::write(path, super::report::junit::render(&report)).map_err(|source| {
            ConformanceError::Write {
                path: path.clone(),
                source,
            }
        })?;
    }
    Ok(report)
}

/// Why a scenario cannot run in real time, if it cannot: it lets more time pass than is
/// waited out, or it probes a boundary finer than real time is exact (`4999 ms pass`, then
/// `1 ms passes`). Decided before the scenario runs, so that it is not half run.
fn needs_driven_clock(s: &gherkin::Scenario) -> Option<String> {
    use crate::driver::limits::{WALL_PASS_MS_MAX, WALL_TIME_SLACK_MS};
    for step in &s.steps {
        let [compiled] = catalog::matches(step.ty, &step.value)[..] else {
            continue;
        };
        let Ok(Action::Pass(by)) = catalog::parse(compiled, step) else {
            continue;
        };
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let why = if ms > WALL_PASS_MS_MAX {
            format!("waits longer than {WALL_PASS_MS_MAX} ms are not made in real time")
        } else if ms < WALL_TIME_SLACK_MS {
            format!(
                "a boundary that fine cannot be told in real time, which is exact to about \
                 {WALL_TIME_SLACK_MS} ms"
            )
        } else {
            continue;
        };
        return Some(format!(
            "needs a driven clock: `{} {}` (line {}) lets {ms} ms pass, and {why}",
            step.keyword.trim(),
            step.value,
            step.position.line
        ));
    }
    None
}

/// The dialect a scenario picks itself (`Given the dialect is "NAME"`, in its steps or the
/// feature's background), if it does.
fn own_dialect(f: &gherkin::Feature, s: &gherkin::Scenario) -> Option<crate::profile::Profile> {
    let background = f.background.iter().flat_map(|b| &b.steps);
    background.chain(&s.steps).find_map(|step| {
        let [compiled] = catalog::matches(step.ty, &step.value)[..] else {
            return None;
        };
        match catalog::parse(compiled, step) {
            Ok(Action::Setup(super::action::Setup::Dialect(name))) => {
                crate::profile::Profile::builtin(&name).ok()
            }
            _ => None,
        }
    })
}

enum Selection {
    Run,
    Filtered,
    Skipped(Box<ScenarioRecord>),
}

fn append_final_step(s: &mut gherkin::Scenario) {
    let Some(last) = s.steps.last() else {
        return;
    };
    let step = gherkin::Step {
        keyword: "Then ".into(),
        ty: gherkin::StepType::Then,
        value: FINAL_STEP.into(),
        docstring: None,
        table: None,
        span: last.span,
        position: last.position,
    };
    s.steps.push(step);
}

/// A record of a scenario, before its outcome is known.
fn record(
    feature: &gherkin::Feature,
    rule_tags: &[String],
    s: &gherkin::Scenario,
) -> ScenarioRecord {
    let path = feature.path.as_deref().map(shown).unwrap_or_default();
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let mut tags: Vec<String> = feature.tags.clone();
    tags.extend(rule_tags.iter().cloned());
    tags.extend(s.tags.iter().cloned());
    tags.extend(s.examples.iter().flat_map(|e| e.tags.iter().cloned()));
    let scenario_tags: Vec<String> = rule_tags.iter().chain(&s.tags).cloned().collect();
    let mut snapshot = format!("{}__{}", slug(&stem), slug(&s.name));
    // An outline's expanded scenario keeps its Examples row: name the snapshot after it.
    if let Some(row) = s
        .examples
        .first()
        .and_then(|e| e.table.as_ref())
        .and_then(|t| t.rows.get(1))
    {
        snapshot.push_str("__");
        snapshot.push_str(&slug(&row.join(" ")));
    }
    ScenarioRecord {
        capability: capability_of(&feature.tags, &scenario_tags, &stem),
        path,
        line: s.position.line,
        feature: feature.name.clone(),
        name: s.name.clone(),
        tags,
        verdict: Verdict::Passed,
        reason: None,
        failure: None,
        trace: Vec::new(),
        snapshot,
    }
}

/// Feeds already parsed and checked features to cucumber.
struct Prepared(Vec<gherkin::Feature>);

impl cucumber::Parser<()> for Prepared {
    type Cli = cli::Empty;
    type Output = futures::stream::Iter<std::vec::IntoIter<parser::Result<gherkin::Feature>>>;

    fn parse(self, (): (), _: Self::Cli) -> Self::Output {
        let items: Vec<parser::Result<gherkin::Feature>> = self.0.into_iter().map(Ok).collect();
        futures::stream::iter(items)
    }
}

/// Hands every event to the optional Cucumber-JSON writer.
struct Fanout {
    json: Option<writer::Json<File>>,
}

impl Writer<ConformanceWorld> for Fanout {
    type Cli = cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<event::Cucumber<ConformanceWorld>>>,
        _: &Self::Cli,
    ) {
        if let Some(json) = &mut self.json {
            json.handle_event(event, &cli::Empty).await;
        }
    }
}

fn create(path: &Path) -> Result<File, ConformanceError> {
    File::create(path).map_err(|source| ConformanceError::Write {
        path: path.to_owned(),
        source,
    })
}

fn execute(
    features: Vec<gherkin::Feature>,
    opts: &RunOptions,
) -> Result<Vec<ScenarioRecord>, ConformanceError> {
    let fanout = Fanout {
        json: opts
            .json
            .as_deref()
            .map(create)
            .transpose()?
            .map(writer::Json::raw),
    };
    // A rig has one server clock: its scenarios run one at a time.
    let concurrency = match &opts.rig {
        Some(_) => 1,
        None => opts
            .concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() * 2)),
    };
    world::use_rig(opts.rig.clone());
    world::use_profile(opts.profile.clone(), opts.emulate.clone());
    let records: Rc<RefCell<Vec<ScenarioRecord>>> = Rc::default();
    let sink = records.clone();
    let cucumber = cucumber::Cucumber::<ConformanceWorld, _, (), _, _, cli::Empty>::custom(
        Prepared(features),
        cucumber::runner::Basic::<ConformanceWorld>::default(),
        Normalize::new(fanout),
    )
    .steps(world::collection())
    .max_concurrent_scenarios(concurrency)
    .after(move |feature, rule, scenario, finished, world| {
        let sink = sink.clone();
        Box::pin(async move {
            let rule_tags = rule.map(|r| r.tags.clone()).unwrap_or_default();
            let mut r = record(feature, &rule_tags, scenario);
            if let Some(w) = world {
                r.failure = w.take_failure();
                r.trace = w.trace().await;
            }
            match finished {
                ScenarioFinished::StepPassed => r.verdict = Verdict::Passed,
                ScenarioFinished::StepSkipped => {
                    r.verdict = Verdict::Skipped;
                    r.reason = Some("a step was skipped".into());
                }
                ScenarioFinished::StepFailed(_, _, err) => {
                    r.verdict = match r.failure.as_ref().map(|f| f.failure.kind) {
                        Some(FailureKind::Broken) => Verdict::Error,
                        Some(FailureKind::Unsupported | FailureKind::NotInDialect) => {
                            Verdict::Unimplemented
                        }
                        Some(FailureKind::Mismatch) | None => Verdict::Failed,
                    };
                    r.reason = Some(match &r.failure {
                        Some(f) => {
                            format!("`{}` (line {}): {}", f.step, f.line, f.failure.headline())
                        }
                        None => err
                            .to_string()
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    });
                }
                ScenarioFinished::BeforeHookFailed(_) => {
                    r.verdict = Verdict::Failed;
                    r.reason = Some("the before hook failed".into());
                }
            }
            sink.borrow_mut().push(r);
        })
    })
    .with_default_cli();
    futures::executor::block_on(cucumber.run(()));
    Ok(records.take())
}

/// A dialect as reports name it: `cometchat (CometChat v4 default call flow, seed 001)`.
fn describe(p: &crate::profile::Profile) -> String {
    match &p.seed {
        Some(seed) => format!("{} ({}, seed {seed})", p.name, p.vendor),
        None => format!("{} ({})", p.name, p.vendor),
    }
}
