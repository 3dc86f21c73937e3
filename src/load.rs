//! `callconf load` and `callconf merge`: run a YAML scenario, show progress, write the reports,
//! judge the thresholds, and say how to replay a failure.
//!
//! Exit codes: 0 all thresholds passed; 2 a threshold failed; 130 interrupted (the partial
//! report is still written). Errors in the input are reported by the binary (exit 1).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use thiserror::Error;

use crate::report::{Report, ReportError};
use crate::scenario::{self, ScenarioError};
use crate::sim::{self, Control, Shard, SimError};

#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// The scenario file (see docs/scenarios.md).
    pub scenario: PathBuf,
    /// Seed of the run (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run only shard K of N (0-based K, as Kubernetes' JOB_COMPLETION_INDEX).
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Worker threads (default: the machine's cores). The report does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub out: Outputs,
    /// Wall-clock mode: real client connections (WebSocket, JSON) to the reference server over
    /// loopback, instead of the virtual-time simulator.
    #[arg(long)]
    pub realtime: bool,
    /// With --realtime: load this running `callconf serve` (its device URL) instead of a server
    /// in this process; the run adds its users through the admin channel and removes them after.
    /// Needs --admin and --admin-token-file.
    #[arg(long, value_name = "URL", requires_all = ["realtime", "admin", "admin_token_file"])]
    pub target: Option<String>,
    /// With --target: the server's admin URL.
    #[arg(long, value_name = "URL", requires = "target")]
    pub admin: Option<String>,
    /// With --target: a file holding the server's admin token.
    #[arg(long, value_name = "FILE", requires = "target")]
    pub admin_token_file: Option<PathBuf>,
    /// With --realtime: host every device in this adapter process (`callconf-driver/1` over its
    /// standard input and output, docs/driver-protocol.md), e.g. 'callconf adapter', instead
    /// of this process's own connections. With --shard, each generator starts its own.
    #[arg(long, value_name = "CMD", requires = "realtime")]
    pub adapter: Option<String>,
    /// With --realtime: devices per WebSocket connection. 1 (the default) gives each device a
    /// connection of its own; more share one, each device authenticated on its own channel
    /// (docs/wire-protocol.md §9).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "realtime",
          conflicts_with = "adapter", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub mux: u32,
    /// With --realtime: the frames' encoding, `json` (the default) or `compact` (MessagePack,
    /// negotiated at connect).
    #[arg(long, value_name = "ENC", default_value = "json", requires = "realtime",
          conflicts_with = "adapter", value_parser = ["json", "compact"])]
    pub encoding: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// Shard reports (JSON) of one scenario and seed.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub out: Outputs,
}

/// Where reports go, for `load` and `merge` alike.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Outputs {
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the CSV time series here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write the self-contained HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// No progress bar and no summary table.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Error)]
pub enum LoadError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Realtime(#[from] crate::net::load::RealtimeError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn write(path: &Path, text: &str) -> Result<(), LoadError> {
    std::fs::write(path, text).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn write_outputs(r: &Report, out: &Outputs) -> Result<(), LoadError> {
    if let Some(p) = &out.json {
        write(p, &r.to_json())?;
    }
    if let Some(p) = &out.csv {
        write(p, &crate::report::to_csv(r))?;
    }
    if let Some(p) = &out.html {
        write(p, &crate::report::to_html(r))?;
    }
    Ok(())
}

/// Runs `callconf load`; returns the process exit code.
pub fn load(args: &LoadArgs) -> Result<i32, LoadError> {
    let sc = scenario::load(&args.scenario)?;
    let seed = args.seed.unwrap_or(sc.seed);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let control = Arc::new(Control::new());
    {
        let control = control.clone();
        // A second handler cannot be installed (e.g. in tests running load twice); then Ctrl-C
        // simply ends the process as usual.
        let _ = ctrlc::set_handler(move || control.interrupt.store(true, Ordering::Relaxed));
    }
    let bar = progress(args.out.quiet, sc.calls.total);
    let done = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        let ticker = scope.spawn(|| {
            // Bounded by the run: it stops when `done` is set after the simulation returns, and
            // it is woken then (a sleep would hold the run's end back by up to a tick).
            while !done.load(Ordering::Relaxed) {
                let started = control.started.load(Ordering::Relaxed);
                let ended = control.ended.load(Ordering::Relaxed);
                bar.set_position(started);
                bar.set_message(format!(
                    "active {:>8}  ended {:>10}",
                    started - ended.min(started),
                    ended
                ));
                std::thread::park_timeout(Duration::from_millis(100));
            }
        });
        let r = if args.realtime {
            realtime(&sc, seed, threads, control.clone(), args).map(|(r, rt)| (r, Some(rt)))
        } else {
            sim::run(&sc, seed, args.shard, threads, &control)
                .map(|r| (r, None))
                .map_err(LoadError::from)
        };
        done.store(true, Ordering::Relaxed);
        ticker.thread().unpark();
        let _ = ticker.join();
        r
    })?;
    let (result, realtime_figures) = result;
    bar.finish_and_clear();
    let mode = if args.realtime { "realtime" } else { "virtual" };
    // A real-time shard owns one part of N (its share of users, calls and rate).
    let cells_total = if args.realtime {
        args.shard.count
    } else {
        sc.population.cells
    };
    let report = Report::new(&sc.name, mode, &result, cells_total, &sc.thresholds);
    write_outputs(&report, &args.out)?;
    if !args.out.quiet {
        print!("{}", crate::report::summary(&report));
        let secs = result.wall.as_secs_f64();
        if let Some(Figures {
            cpu,
            connected,
            through,
        }) = realtime_figures
        {
            if let Some(adapter) = through {
                println!("devices hosted by the adapter {adapter}");
            }
            println!(
                "placed {} calls in {:.2} s of wall time: {:.0} call setups and teardowns per second",
                report.calls.started,
                secs,
                report.calls.started as f64 / secs.max(1e-9)
            );
            println!(
                "connected {} of them (both sides started the media session)",
                connected
            );
            // Whose CPU it is: this process's, plus the adapter's when it hosts the devices; a
            // `--target` server runs elsewhere and is not in the figure.
            let whose = match (&args.target, &args.adapter) {
                (Some(_), Some(_)) => "this generator and its adapter, not the target server",
                (Some(_), None) => "this generator, not the target server",
                (None, Some(_)) => "client, adapter and server",
                (None, None) => "client and server",
            };
            println!(
                "CPU {:.2} s ({whose}, user and system): {:.2} cores busy, {:.0} µs per call",
                cpu.as_secs_f64(),
                cpu.as_secs_f64() / secs.max(1e-9),
                cpu.as_secs_f64() * 1e6 / (report.calls.started.max(1) as f64)
            );
        } else {
            println!(
                "simulated {} calls in {:.2} s of wall time ({:.0} calls/s) on {} thread(s); virtual time {:.1} s",
                report.calls.started,
                secs,
                report.calls.started as f64 / secs.max(1e-9),
                threads,
                report.end_ms as f64 / 1000.0
            );
        }
    }
    if result.interrupted {
        eprintln!("interrupted: the report covers the calls up to the interruption");
        return Ok(130);
    }
    if !report.passed {
        eprintln!(
            "threshold failed; replay this run exactly with:\n  callconf load {} --seed {seed} --shard {}",
            args.scenario.display(),
            args.shard
        );
        return Ok(2);
    }
    Ok(0)
}

/// What a real-time run measured besides its report: the CPU time it used (the adapter's
/// included), the calls that reached `connected`, and the adapter the devices went through.
struct Figures {
    cpu: Duration,
    connected: u64,
    through: Option<String>,
}

/// Runs the real-time mode on its own multi-thread runtime; returns the result and its figures.
fn realtime(
    sc: &scenario::Scenario,
    seed: u64,
    threads: usize,
    control: Arc<Control>,
    args: &LoadArgs,
) -> Result<(sim::SimResult, Figures), LoadError> {
    let target = match (&args.target, &args.admin, &args.admin_token_file) {
        (Some(devices), Some(admin), Some(file)) => Some(crate::net::load::Target {
            devices_url: devices.clone(),
            admin_url: admin.clone(),
            admin_token: crate::net::serve::read_token_file(file).map_err(|e| LoadError::Io {
                path: file.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?,
        }),
        _ => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|source| LoadError::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    let interrupted = control.clone();
    let via = match &args.adapter {
        Some(cmd) => crate::net::load::Via::Adapter(crate::driver::remote::Launch::new(cmd, None)),
        None => crate::net::load::Via::Connections(crate::net::load::Link {
            mux: args.mux as usize,
            encoding: crate::net::codec::Encoding::parse(&args.encoding).unwrap_or_default(),
        }),
    };
    let run = rt.block_on(crate::net::load::run_via(
        sc,
        seed,
        control,
        target.as_ref(),
        args.shard,
        &via,
    ))?;
    let result = sim::SimResult {
        stats: run.stats,
        seed,
        shard: args.shard,
        cells: vec![args.shard.index],
        interrupted: interrupted.interrupt.load(Ordering::Relaxed),
        wall: run.wall,
    };
    let figures = Figures {
        cpu: run.cpu,
        connected: run.connected,
        through: run.through,
    };
    Ok((result, figures))
}

fn progress(quiet: bool, total: Option<u64>) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] started {pos}/{len} ({per_sec}) {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Runs `callconf merge`; returns the process exit code.
pub fn merge(args: &MergeArgs) -> Result<i32, LoadError> {
    let mut reports = Vec::new();
    for p in &args.reports {
        let file = p.display().to_string();
        let text = std::fs::read_to_string(p).map_err(|source| LoadError::Io {
            path: file.clone(),
            source,
        })?;
        reports.push((file.clone(), Report::from_json(&file, &text)?));
    }
    let thresholds = reports
        .first()
        .map(|(_, r)| r.threshold_specs())
        .unwrap_or_default();
    let merged = Report::merge(&reports, &thresholds)?;
    write_outputs(&merged, &args.out)?;
    if !args.out.quiet {
        print!("{}", crate::report::summary(&merged));
    }
    Ok(if merged.passed { 0 } else { 2 })
}
