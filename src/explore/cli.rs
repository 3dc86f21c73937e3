//! `callconf explore`: its flags, the system it starts, the progress bar and the report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{ExploreError, Explored, Options, Progress, SHRINK_RUNS_MAX, Target, explore};
use crate::conformance::rig::{RigClient, RigConfig};
use crate::core::Fault;
use crate::model::STEPS_MAX;

/// The operations the generator uses, as the driver protocol names them (`Op::name`).
const OPERATIONS: [&str; 15] = [
    "place",
    "ringing",
    "accept",
    "start_session",
    "decline",
    "cancel",
    "hangup",
    "end_for_all",
    "join",
    "invite",
    "hold",
    "mute",
    "dtmf",
    "transfer",
    "get_call",
];

#[derive(Debug, Clone, clap::Args)]
pub struct ExploreArgs {
    /// Drive devices behind this adapter (`callconf-driver/1`, as `certify --adapter`; `web` for
    /// the web adapter in headless Chromium), against a
    /// `callconf serve --clock manual` of its own. Without it, the reference implementation in
    /// this process is explored.
    #[arg(long, value_name = "CMD")]
    pub adapter: Option<String>,
    /// The dialect to explore under. The model predicts the canonical rules only, so only
    /// `canonical` is accepted for now (docs/explore.md).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
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

/// The system `args` name: the rig (adapter + server) or the reference in process.
pub fn target(args: &ExploreArgs, serve_binary: &Path) -> Result<Target, ExploreError> {
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
    if let Some(name) = &args.profile {
        let profile = crate::profile::Profile::resolve(name)
            .map_err(|e| ExploreError::Profile(format!("error {}: {e}", e.code())))?;
        if profile.name != "canonical" {
            return Err(ExploreError::Profile(format!(
                "--profile {name}: the model predicts the canonical rules, limits and \
                 operations only; exploring under `{}` is not built yet (docs/explore.md)",
                profile.name
            )));
        }
    }
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
        clock: crate::server::ClockMode::Manual,
        server: None,
        profile: None,
    };
    let rig = RigClient::start(config, None).map_err(ExploreError::Start)?;
    let declared = &rig.started().capabilities.operations;
    let missing: Vec<&str> = OPERATIONS
        .iter()
        .copied()
        .filter(|op| !declared.iter().any(|d| d == op))
        .collect();
    if !missing.is_empty() {
        rig.stop();
        return Err(ExploreError::Unsupported(format!(
            "the model generates every operation of the lifecycle; the adapter's \
             capabilities.operations lack {}",
            missing.join(", ")
        )));
    }
    if !rig.started().clock_driven {
        rig.stop();
        return Err(ExploreError::Unsupported(
            "the adapter declares a clock that cannot be driven; explore needs one: the model \
             lets 30 s and more pass for ring timeouts (docs/explore.md)"
                .into(),
        ));
    }
    Ok(Target::Remote(rig))
}

/// Runs `callconf explore`; the exit code: 0 when every case passed, 1 when a failure was
/// found, and an error otherwise.
pub fn run(args: &ExploreArgs, serve_binary: &Path) -> Result<i32, ExploreError> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let target = target(args, serve_binary)?;
    let against = match &target {
        Target::Local { .. } => "the reference implementation in process".to_owned(),
        Target::Remote(rig) => rig.describe(),
    };
    println!(
        "explore: seed {seed}, {} cases of up to {} steps, against {against}",
        args.cases, args.steps_max
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
        let with = match &args.adapter {
            Some(a) => format!(" --adapter '{a}'"),
            None => String::new(),
        };
        println!(
            "  run it:  callconf certify{with} --features {}",
            path.display()
        );
    }
    println!(
        "  replay:  callconf explore{} --seed {seed} --cases {} --steps-max {}",
        args.adapter
            .as_ref()
            .map(|a| format!(" --adapter '{a}'"))
            .unwrap_or_default(),
        found.found_in_case,
        args.steps_max
    );
    Ok(1)
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
