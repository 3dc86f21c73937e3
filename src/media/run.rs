//! `callconf media`: one 1:1 call with real media under a given impairment, measured.
//!
//! The run has three windows on one call, so the figures need no outside calibration:
//! 1. **baseline**: the link unimpaired, to measure what capture, encode, the webrtc stack and
//!    decode add on this machine;
//! 2. **settle**: the impairment switched on (both directions), long enough for packets sent
//!    before the switch to drain;
//! 3. **measure**: the reported window. Its latency minus the baseline's is what the network
//!    added, which should equal the injected delay.

use std::time::Duration;

use serde::Serialize;

use super::error::MediaError;
use super::impair::{LinkProfile, LossModel};
use super::recovery::Recovery;
use super::report::MediaReport;
use super::session::{MediaConfig, MediaSession};
use super::stream::Kind;

#[derive(Debug, Clone, clap::Args)]
pub struct MediaArgs {
    /// Make it a video call (VP8 320x240@30 plus Opus); default audio only.
    #[arg(long)]
    pub video: bool,
    /// One-way delay added to each direction.
    #[arg(long, default_value_t = 0.0)]
    pub delay_ms: f64,
    /// Each datagram's delay varies uniformly within ± this.
    #[arg(long, default_value_t = 0.0)]
    pub jitter_ms: f64,
    /// Random datagram loss on each direction, in percent.
    #[arg(long, default_value_t = 0.0)]
    pub loss_pct: f64,
    /// How independent losses are placed: `paced` (random positions, exact rate) or
    /// `bernoulli` (each datagram independently, with sampling variance).
    #[arg(long, value_enum, default_value_t = LossModel::Paced)]
    pub loss_model: LossModel,
    /// Mean loss burst length in datagrams (1 = independent loss).
    #[arg(long, default_value_t = 1.0)]
    pub burst_len: f64,
    /// Link rate cap in kbit/s (0 = none).
    #[arg(long, default_value_t = 0.0)]
    pub bandwidth_kbps: f64,
    /// Length of the measured window.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Length of the unimpaired baseline window before it.
    #[arg(long, default_value_t = 3.0)]
    pub baseline_seconds: f64,
    /// Loss recovery: `nack-pli` (NACK/RTX retransmission and PLI key frames, as real stacks)
    /// or `none` (no RTCP feedback: the bare link's effect on media).
    #[arg(long, value_enum, default_value_t = Recovery::NackPli)]
    pub recovery: Recovery,
    /// Seed of the impairment's random stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the full report as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
    /// One party in headless Chromium (Debian's `chromium`), the other on webrtc-rs, video and
    /// audio: `send` is Chromium's fake capture to webrtc-rs, measured by callconf's analysers;
    /// `receive` is webrtc-rs to Chromium, measured from what the page decoded. The impairment
    /// options apply to the sender's link only.
    #[arg(long, value_enum, value_name = "DIRECTION")]
    pub browser: Option<BrowserDirection>,
}

/// Which way the media of `--browser` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BrowserDirection {
    /// Chromium → webrtc-rs.
    Send,
    /// webrtc-rs → Chromium.
    Receive,
}

/// The unimpaired reference of one direction.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub from: String,
    pub to: String,
    pub kind: Kind,
    pub latency_median_ms: Option<f64>,
    /// Measured median minus baseline median: what the network added.
    pub added_latency_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MediaRun {
    pub video: bool,
    pub profile: LinkProfile,
    pub recovery: Recovery,
    pub seconds: f64,
    pub seed: u64,
    pub baseline: Vec<Baseline>,
    pub report: MediaReport,
}

const SETTLE_MS_MIN: f64 = 1_000.0;

/// The link the impairment options describe.
fn link_profile(args: &MediaArgs) -> LinkProfile {
    LinkProfile {
        delay_ms: args.delay_ms,
        jitter_ms: args.jitter_ms,
        loss_pct: args.loss_pct,
        burst_len: args.burst_len,
        loss_model: args.loss_model,
        bandwidth_kbps: args.bandwidth_kbps,
    }
}

/// Runs the call; returns the measurements.
pub async fn measure(args: &MediaArgs) -> Result<MediaRun, MediaError> {
    let profile = link_profile(args);
    profile.validate()?;
    check_seconds("seconds", args.seconds, 3_600.0)?;
    check_seconds("baseline_seconds", args.baseline_seconds, 3_600.0)?;
    let session = MediaSession::start(
        MediaConfig {
            seed: args.seed,
            recovery: args.recovery,
            ..MediaConfig::default()
        },
        &["alice", "bob"],
    )
    .await?;
    session.place("alice", &["bob"], args.video).await?;
    session.accept("bob").await?;

    session
        .run_for(Duration::from_secs_f64(args.baseline_seconds))
        .await;
    let base = session.report();
    session.impair("alice", "bob", profile)?;
    session.impair("bob", "alice", profile)?;
    // Packets already in flight under the old profile drain first.
    let settle = (2.0 * (profile.delay_ms + profile.jitter_ms)).max(SETTLE_MS_MIN);
    session
        .run_for(Duration::from_secs_f64(settle / 1000.0))
        .await;
    session.reset_measurements();
    session.run_for(Duration::from_secs_f64(args.seconds)).await;
    let report = session.report();
    session.close().await;

    let baseline = report
        .streams
        .iter()
        .map(|s| {
            let b = base
                .stream(&s.from, &s.to, s.kind)
                .and_then(|b| b.latency_ms)
                .map(|l| l.median);
            Baseline {
                from: s.from.clone(),
                to: s.to.clone(),
                kind: s.kind,
                latency_median_ms: b,
                added_latency_ms: b.zip(s.latency_ms).map(|(b, m)| m.median - b),
            }
        })
        .collect();
    Ok(MediaRun {
        video: args.video,
        profile,
        recovery: args.recovery,
        seconds: args.seconds,
        seed: args.seed,
        baseline,
        report,
    })
}

/// Renders the run for a terminal.
pub fn render(run: &MediaRun) -> String {
    let mut out = format!(
        "1:1 {} call, {} s measured, each direction: {}, recovery {} (seed {})\n\n",
        if run.video { "video" } else { "audio" },
        run.seconds,
        run.profile,
        run.recovery,
        run.seed
    );
    out.push_str(&run.report.table());
    out.push('\n');
    for b in &run.baseline {
        if let (Some(base), Some(added)) = (b.latency_median_ms, b.added_latency_ms) {
            out.push_str(&format!(
                "{}→{} {}: baseline median {:.1} ms, added by the network {:.1} ms\n",
                b.from, b.to, b.kind, base, added
            ));
        }
    }
    out
}

/// Checks a window length given on the command line: 0.5 s up to `max`.
pub(crate) fn check_seconds(field: &'static str, v: f64, max: f64) -> Result<(), MediaError> {
    if v.is_finite() && (0.5..=max).contains(&v) {
        return Ok(());
    }
    Err(MediaError::InvalidArgument {
        field,
        reason: format!("{v} is outside 0.5..={max} seconds"),
    })
}

/// Runs `fut` on a fresh multi-threaded tokio runtime (the media path needs real threads and
/// the wall clock), for the CLI entries.
pub(crate) fn block_on<T>(
    fut: impl std::future::Future<Output = Result<T, MediaError>>,
) -> Result<T, MediaError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| MediaError::Transport(format!("tokio runtime: {e}")))?
        .block_on(fut)
}

/// Writes a report as pretty JSON to `path` when one was asked for.
pub(crate) fn write_json(
    path: Option<&std::path::Path>,
    value: &impl Serialize,
) -> Result<(), MediaError> {
    let Some(path) = path else {
        return Ok(());
    };
    let json =
        serde_json::to_string_pretty(value).map_err(|e| MediaError::Codec(format!("JSON: {e}")))?;
    std::fs::write(path, json).map_err(|e| MediaError::InvalidArgument {
        field: "json",
        reason: format!("{}: {e}", path.display()),
    })
}

/// The CLI entry: runs, prints, writes JSON; returns the exit code (1 when the machine fell
/// behind or media failed, so a CI job does not trust bad figures).
pub fn run(args: &MediaArgs) -> Result<i32, MediaError> {
    if let Some(direction) = args.browser {
        return run_browser(args, direction);
    }
    let run = block_on(measure(args))?;
    print!("{}", render(&run));
    write_json(args.json.as_deref(), &run)?;
    let failed = run.report.fell_behind || !run.report.failures.is_empty();
    Ok(if failed { 1 } else { 0 })
}

/// `--browser`: the call across the two stacks (`browser_call` one way, `browser_receive` the
/// other), with the same windows as a webrtc-rs call: a baseline, then the impaired window.
fn run_browser(args: &MediaArgs, direction: BrowserDirection) -> Result<i32, MediaError> {
    let link = link_profile(args);
    link.validate()?;
    check_seconds("seconds", args.seconds, 3_600.0)?;
    check_seconds("baseline_seconds", args.baseline_seconds, 3_600.0)?;
    let config = super::browser_call::BrowserCallConfig {
        seconds: args.seconds,
        baseline_seconds: args.baseline_seconds,
        recovery: args.recovery,
        link,
        seed: args.seed,
        ..Default::default()
    };
    // Each direction's report: its baseline and measured tables, the windows it measured
    // again, and whether it failed.
    let (baseline, measured, discarded, failed) = match direction {
        BrowserDirection::Send => {
            let report = block_on(super::browser_call::run(&config))?;
            write_json(args.json.as_deref(), &report)?;
            let m = &report.media;
            let failed = m.fell_behind || !m.failures.is_empty();
            let base = report.baseline.map(|b| b.table());
            (base, m.table(), report.windows_discarded, failed)
        }
        BrowserDirection::Receive => {
            let report = block_on(super::browser_receive::run(&config))?;
            write_json(args.json.as_deref(), &report)?;
            let w = &report.window;
            (
                report.baseline.as_ref().map(|b| b.table()),
                w.table(),
                report.windows_discarded,
                w.fell_behind,
            )
        }
    };
    if let Some(base) = baseline {
        println!("baseline\n{base}");
    }
    println!("measured\n{measured}");
    if discarded > 0 {
        println!("{discarded} window(s) measured again: the machine fell behind in them");
    }
    Ok(if failed { 1 } else { 0 })
}
