//! `callconf explore`: its flags, the system it starts, the progress bar and the report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use std::sync::Arc;

use super::{ExploreError, Explored, Options, Progress, SHRINK_RUNS_MAX, Target, explore};
use crate::conformance::rig::{RigClient, RigConfig};
use crate::core::{Fault, Limits};
use crate::driver::limits::{REAL_TIME_QUANTUM_MS, REAL_TIME_RING_TIMEOUT_MS};
use crate::model::generate::Timing;
use crate::model::{Dialect, STEPS_MAX};
use crate::profile::Profile;

#[derive(Debug, Clone, clap::Args)]
pub struct ExploreArgs {
    /// Drive devices behind this adapter (`callconf-driver/1`, as `certify --adapter`; `web` for
    /// the web adapter in headless Chromium), against a
    /// `callconf serve --clock manual` of its own. Without it, the reference implementation in
    /// this process is explored.
    #[arg(long, value_name = "CMD")]
    pub adapter: Option<String>,
    /// The dialect to explore under: a built-in profile (`canonical`, `mirrorfly`,
    /// `cometchat`, `stringee`, `voximplant`, `stream`) or a profile file. Only the dialect's
    /// operations are generated, the model predicts with its rules and limits, and the system
    /// is reset with them before every case.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// With --adapter: run in real time even if the adapter's clock could be driven (the
    /// server runs on the wall clock).
    #[arg(long)]
    pub real_time: bool,
    /// The ring timeout the model predicts with and the system is reset with, in ms (default:
    /// the dialect's with a driven clock, 1000 in real time, where it must be a multiple of
    /// 500).
    #[arg(long, value_name = "N")]
    pub ring_timeout_ms: Option<u64>,
    /// Cases to generate.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub cases: u32,
    /// Steps in one case, at most.
    #[arg(long, default_value_t = STEPS_MAX, value_name = "N")]
    pub steps_max: usize,
    /// The generator's seed (default: from the clock; printed, so a run replays).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Stop generating new cases after this long, e.g. `30s`, `5m`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub time_budget: Option<Duration>,
    /// Write the shrunk failing case as a feature file into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Start the server (or, in process, the core) with this deliberate bug switched on, to see
    /// explore find it (repeatable; names as for `serve --inject-fault`).
    #[arg(long = "inject-fault", value_name = "NAME")]
    pub inject_fault: Vec<String>,
    /// With --adapter: how long to wait for each adapter response and for events, in ms.
    #[arg(long, default_value_t = crate::driver::limits::DEADLINE_MS_DEFAULT, value_name = "N")]
    pub deadline_ms: u64,
    /// With --adapter: after the event counts agree, how long nothing more must arrive, in ms.
    /// 0 by default: the automatic steps are off, so nothing more is due; an event nobody
    /// asked for still shows at the next step.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub quiet_ms: u64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The progress bar on standard error.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn case_done(&self, cases: u32, steps: u64) {
        self.0.set_position(u64::from(cases));
        self.0.set_message(format!("{steps} steps"));
    }

    fn shrinking(&self, runs: u32) {
        self.0
            .set_message(format!("failure found; shrinking (run {runs})"));
    }
}

/// The profile `args` name (canonical by default).
fn profile(args: &ExploreArgs) -> Result<Profile, ExploreError> {
    Profile::resolve(args.profile.as_deref().unwrap_or("canonical"))
        .map_err(|e| ExploreError::Profile(format!("error {}: {e}", e.code())))
}

/// The system `args` name: the rig (adapter + server) or the reference in process; an adapter
/// must declare every operation of `profile`'s dialect.
pub fn target(
    args: &ExploreArgs,
    profile: &Profile,
    serve_binary: &Path,
) -> Result<Target, ExploreError> {
    let faults = args
        .inject_fault
        .iter()
        .map(|n| {
            Fault::from_name(n).ok_or_else(|| {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                ExploreError::Option(format!(
                    "--inject-fault {n}: no such fault (the faults: {})",
                    names.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(adapter) = &args.adapter else {
        return Ok(Target::Local { faults });
    };
    let config = RigConfig {
        adapter: crate::driver::remote::Launch::new(adapter, None),
        routes: Vec::new(),
        serve_binary: serve_binary.to_owned(),
        faults: args.inject_fault.clone(),
        deadline: Duration::from_millis(args.deadline_ms),
        quiet: Duration::from_millis(args.quiet_ms),
        clock: if args.real_time {
            crate::server::ClockMode::Wall
        } else {
            crate::server::ClockMode::Manual
        },
        server: None,
        profile: args.profile.clone(),
    };
    let rig = RigClient::start(config, None).map_err(ExploreError::Start)?;
    let dialect = Dialect::of(profile);
    let declared = &rig.started().capabilities.operations;
    let missing: Vec<&str> = dialect
        .operations()
        .into_iter()
        .filter(|op| !declared.iter().any(|d| d == op))
        .collect();
    if !missing.is_empty() {
        rig.stop();
        return Err(ExploreError::Unsupported(format!(
            "the model generates every operation the dialect `{}` has; the adapter's \
             capabilities.operations lack {}",
            dialect.name,
            missing.join(", ")
        )));
    }
    Ok(Target::Remote(rig))
}

/// What the cases run under: `profile`'s dialect (its ring timeout as `--ring-timeout-ms` or
/// the clock says), the limits the system is reset with, and how time passes.
fn plan(
    args: &ExploreArgs,
    profile: &Profile,
    real_time: bool,
) -> Result<(Arc<Dialect>, Limits, Timing), ExploreError> {
    let dialect = Dialect::of(profile);
    let (ring_ms, timing) = if real_time {
        let ring_ms = args.ring_timeout_ms.unwrap_or(REAL_TIME_RING_TIMEOUT_MS);
        if ring_ms == 0 || !ring_ms.is_multiple_of(REAL_TIME_QUANTUM_MS) {
            return Err(ExploreError::Option(format!(
                "--ring-timeout-ms {ring_ms}: in real time the ring timeout must be a positive \
                 multiple of {REAL_TIME_QUANTUM_MS} ms (docs/explore.md)"
            )));
        }
        (ring_ms, Timing::real(ring_ms, REAL_TIME_QUANTUM_MS))
    } else {
        let ring_ms = args.ring_timeout_ms.unwrap_or(dialect.ring_timeout_ms);
        if ring_ms < 2 {
            return Err(ExploreError::Option(format!(
                "--ring-timeout-ms {ring_ms}: at least 2 ms"
            )));
        }
        (ring_ms, Timing::driven(ring_ms))
    };
    let dialect = Arc::new(dialect.with_ring_timeout_ms(ring_ms));
    let limits = super::case::limits_of(&dialect, &profile.core_limits());
    Ok((dialect, limits, timing))
}

/// Runs `callconf explore`; the exit code: 0 when every case passed, 1 when a failure was
/// found, and an error otherwise.
pub fn run(args: &ExploreArgs, serve_binary: &Path) -> Result<i32, ExploreError> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    if args.real_time && args.adapter.is_none() {
        return Err(ExploreError::Option(
            "--real-time needs --adapter: in process the clock is always driven".into(),
        ));
    }
    let profile = profile(args)?;
    let target = target(args, &profile, serve_binary)?;
    let real_time = target.real_time();
    let (dialect, limits, timing) = match plan(args, &profile, real_time) {
        Ok(p) => p,
        Err(e) => {
            if let Target::Remote(rig) = &target {
                rig.stop();
            }
            return Err(e);
        }
    };
    let against = match &target {
        Target::Local { .. } => "the reference implementation in process".to_owned(),
        Target::Remote(rig) => rig.describe(),
    };
    println!(
        "explore: seed {seed}, {} cases of up to {} steps, dialect {}, ring timeout {} ms, {}, \
         against {against}",
        args.cases,
        args.steps_max,
        dialect.name,
        dialect.ring_timeout_ms,
        if real_time {
            "real time"
        } else {
            "driven clock"
        }
    );
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(
            Some(u64::from(args.cases)),
            ProgressDrawTarget::stderr(),
        );
        let style = ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] case {pos}/{len} ({per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    };
    let opts = Options {
        cases: args.cases,
        steps_max: args.steps_max,
        seed,
        time_budget: args.time_budget,
        shrink_runs_max: SHRINK_RUNS_MAX,
        dialect,
        limits,
        timing,
    };
    let result = explore(&target, &opts, &Bar(bar.clone()));
    bar.finish_and_clear();
    if let Target::Remote(rig) = &target {
        rig.stop();
    }
    let explored = result?;
    print!("{}", render(&explored));
    let Some(found) = &explored.failure else {
        return Ok(0);
    };
    if let Some(dir) = &args.out {
        let path = write_feature(dir, &explored, args)?;
        println!("  feature: {}", path.display());
        println!(
            "  run it:  callconf certify{} --features {}",
            system_flags(args, false),
            path.display()
        );
    }
    println!(
        "  replay:  callconf explore{} --seed {seed} --cases {} --steps-max {}",
        system_flags(args, true),
        found.found_in_case,
        args.steps_max
    );
    Ok(1)
}

/// The flags that pick the system and its dialect, to replay with explore or run a written
/// feature with certify (whose feature names a built-in dialect itself).
fn system_flags(args: &ExploreArgs, explore: bool) -> String {
    let mut out = String::new();
    if let Some(a) = &args.adapter {
        out += &format!(" --adapter '{a}'");
    }
    if let Some(p) = &args.profile
        && (explore || !crate::profile::builtin_names().contains(&p.as_str()))
    {
        out += &format!(" --profile '{p}'");
    }
    if args.real_time {
        out += " --real-time";
    }
    if let Some(ms) = args.ring_timeout_ms.filter(|_| explore) {
        out += &format!(" --ring-timeout-ms {ms}");
    }
    out
}

/// The report: what ran, how fast, and the failure if any, the model's prediction beside what
/// the system did.
pub fn render(e: &Explored) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let secs = e.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        out,
        "  {} cases, {} steps in {:.2} s ({:.1} cases/s, {:.0} steps/s){}{}",
        e.cases,
        e.steps,
        secs,
        f64::from(e.cases) / secs,
        e.steps as f64 / secs,
        if e.out_of_time {
            "; the time budget ran out"
        } else {
            ""
        },
        match e.shrinking {
            Some(d) => format!("; shrinking took {:.2} s", d.as_secs_f64()),
            None => String::new(),
        }
    );
    match &e.failure {
        None => {
            let _ = writeln!(out, "  no failure: every step agreed with the model");
        }
        Some(f) => {
            let _ = writeln!(
                out,
                "FAILED: found in case {}, shrunk in {} runs to {} steps",
                f.found_in_case,
                f.shrink_runs,
                f.steps.len()
            );
            let _ = writeln!(out, "  cast: {:?}", f.cast);
            for (n, line) in f.script().iter().enumerate() {
                let mark = if n + 1 == f.step { "  <- fails" } else { "" };
                let _ = writeln!(out, "  {}. {line}{mark}", n + 1);
            }
            let _ = writeln!(out, "  step {}: {}", f.step, f.reason);
        }
    }
    out
}

/// Writes the failure as `explore-seed-S.feature` into `dir`; its path.
fn write_feature(dir: &Path, e: &Explored, args: &ExploreArgs) -> Result<PathBuf, ExploreError> {
    let Some(f) = &e.failure else {
        return Err(ExploreError::Option("no failure to write".into()));
    };
    let path = dir.join(format!("explore-seed-{}.feature", e.seed));
    let io = |err: std::io::Error| ExploreError::Write {
        path: path.display().to_string(),
        message: err.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let text = feature_text(f, e.seed, args.adapter.as_deref())?;
    std::fs::write(&path, text).map_err(io)?;
    Ok(path)
}

/// The failure as a feature file's text.
pub fn feature_text(
    f: &super::Found,
    seed: u64,
    adapter: Option<&str>,
) -> Result<String, ExploreError> {
    let against = adapter.map_or("the reference implementation".to_owned(), |a| {
        format!("the adapter `{a}`")
    });
    let first = f.reason.lines().next().unwrap_or_default();
    let about = vec![
        format!(
            "Found by `callconf explore --seed {seed}` against {against}: at step {}",
            f.step
        ),
        format!("the system disagreed with the model: {first}"),
        "Every `Then` is the model's prediction; a correct system passes this scenario.".into(),
    ];
    super::feature::write(
        &f.cast,
        &f.steps,
        &format!("explore seed {seed}: {} steps", f.steps.len()),
        &about,
    )
    .map_err(|e| ExploreError::Write {
        path: "the feature".into(),
        message: format!("the case cannot be written as steps: {e}"),
    })
}
