//! `callconf media-capacity`: how many concurrent 1:1 calls this machine carries in real time.
//!
//! The question a load engineer asks before trusting any media figure: at what point does
//! the machine, not the network, decide the numbers? The run answers it by steps: one call,
//! then two, and so on, each call a full [`MediaSession`] (its own reference server, two
//! participants, real webrtc-rs connections, analysis on both directions), all on unimpaired
//! loopback links. A step passes when no stream lost a packet (nothing was injected, so any
//! loss is the machine's), no receiver analysed late, no writer skipped and no source dropped
//! a frame, and nothing
//! failed. The capacity is the last step that passed; the first step that fails ends the run
//! and is printed with its reason, so an overloaded machine says so instead of reporting
//! bad media.
//!
//! CPU use is the process's user + system time over the measured window divided by its wall
//! time (`getrusage`), i.e. cores busy.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::MediaError;
use super::limits;
use super::report::MediaReport;
use super::session::{MediaConfig, MediaSession};

#[derive(Debug, Clone, clap::Args)]
pub struct CapacityArgs {
    /// Audio-only calls (default: video calls, VP8 320x240@30 plus Opus).
    #[arg(long)]
    pub audio_only: bool,
    /// Stop after this many concurrent calls even if the machine keeps up.
    #[arg(long, default_value_t = 8)]
    pub max_calls: usize,
    /// Measured window of each step.
    #[arg(long, default_value_t = 8.0)]
    pub seconds: f64,
    /// Media flows this long before each step's window opens (connections settle).
    #[arg(long, default_value_t = 2.0)]
    pub warmup_seconds: f64,
    /// Session seed of the first call (call i uses seed + i).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write every step as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}

/// One step: `calls` concurrent 1:1 calls.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub calls: usize,
    /// Cores busy over the window (process user + system time / wall time).
    pub cpu_cores: f64,
    /// Streams measured (each call has 2 directions × audio, video).
    pub streams: usize,
    /// Worst packet loss of any stream, in percent (nothing was injected).
    pub packet_loss_max_pct: f64,
    /// Worst median and p95 latency of any stream.
    pub latency_median_max_ms: Option<f64>,
    pub latency_p95_max_ms: Option<f64>,
    /// Lowest median PSNR of any video stream.
    pub psnr_median_min_db: Option<f64>,
    pub fell_behind: bool,
    /// Why the step failed; empty when it passed.
    pub reasons: Vec<String>,
}

impl Step {
    pub fn passed(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    pub video: bool,
    pub seconds: f64,
    pub seed: u64,
    /// The most concurrent calls that passed; 0 when even one call failed.
    pub capacity: usize,
    /// Whether a step failed (false: the run stopped at `max_calls` still keeping up).
    pub limit_found: bool,
    pub steps: Vec<Step>,
}

/// Judges one step from its calls' reports.
pub fn judge(calls: usize, cpu_cores: f64, reports: &[MediaReport], video: bool) -> Step {
    let mut reasons = Vec::new();
    let mut loss_max: f64 = 0.0;
    let mut median_max: Option<f64> = None;
    let mut p95_max: Option<f64> = None;
    let mut psnr_min: Option<f64> = None;
    let mut streams = 0;
    let per_call = if video { 4 } else { 2 };
    for (i, r) in reports.iter().enumerate() {
        if r.streams.len() < per_call {
            reasons.push(format!(
                "call {i}: {} of {per_call} streams carried media",
                r.streams.len()
            ));
        }
        for s in &r.streams {
            streams += 1;
            loss_max = loss_max.max(s.packet_loss_pct);
            if s.packets_received == 0 {
                reasons.push(format!(
                    "call {i}: {}→{} {}: nothing arrived",
                    s.from, s.to, s.kind
                ));
            } else if s.packet_loss_pct > 0.0 {
                reasons.push(format!(
                    "call {i}: {}→{} {}: {:.2}% packets lost, none injected",
                    s.from, s.to, s.kind, s.packet_loss_pct
                ));
            }
            if let Some(l) = s.latency_ms {
                median_max = Some(median_max.map_or(l.median, |m| m.max(l.median)));
                p95_max = Some(p95_max.map_or(l.p95, |m| m.max(l.p95)));
            }
            if let Some(p) = s.psnr_db {
                psnr_min = Some(psnr_min.map_or(p.median, |m| m.min(p.median)));
            }
        }
        if r.fell_behind {
            let late: u64 = r.streams.iter().map(|s| s.analysed_late).sum();
            let skipped: u64 = r.streams.iter().map(|s| s.frames_skipped).sum();
            let dropped: u64 = r.streams.iter().map(|s| s.source_frames_dropped).sum();
            reasons.push(format!(
                "call {i}: fell behind ({late} packets analysed late, {skipped} frames skipped \
                 by writers, {dropped} dropped at sources)"
            ));
        }
        for f in &r.failures {
            reasons.push(format!("call {i}: {f}"));
        }
    }
    // Keep the verdict readable when every call fails the same way.
    reasons.truncate(limits::CAPACITY_REASONS_MAX);
    Step {
        calls,
        cpu_cores,
        streams,
        packet_loss_max_pct: loss_max,
        latency_median_max_ms: median_max,
        latency_p95_max_ms: p95_max,
        psnr_median_min_db: psnr_min,
        fell_behind: reports.iter().any(|r| r.fell_behind),
        reasons,
    }
}

/// Runs `calls` concurrent 1:1 calls and judges them.
async fn step(args: &CapacityArgs, calls: usize) -> Result<Step, MediaError> {
    let video = !args.audio_only;
    let mut sessions = Vec::with_capacity(calls);
    for i in 0..calls {
        let s = MediaSession::start(
            MediaConfig {
                seed: args.seed.wrapping_add(i as u64),
                ..MediaConfig::default()
            },
            &["alice", "bob"],
        )
        .await?;
        s.place("alice", &["bob"], video).await?;
        s.accept("bob").await?;
        sessions.push(s);
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup_seconds)).await;
    for s in &sessions {
        s.reset_measurements();
    }
    let (wall0, cpu0) = (Instant::now(), crate::cpu::process_cpu_time());
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    let reports: Vec<MediaReport> = sessions.iter().map(MediaSession::report).collect();
    let cpu_cores =
        (crate::cpu::process_cpu_time() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64();
    for s in &sessions {
        s.close().await;
    }
    Ok(judge(calls, cpu_cores, &reports, video))
}

/// Steps up from one call until a step fails or `max_calls` passes.
pub async fn measure(args: &CapacityArgs) -> Result<Capacity, MediaError> {
    if args.max_calls == 0 || args.max_calls > limits::CAPACITY_CALLS_MAX {
        return Err(MediaError::InvalidArgument {
            field: "max_calls",
            reason: format!(
                "{} is outside 1..={}",
                args.max_calls,
                limits::CAPACITY_CALLS_MAX
            ),
        });
    }
    super::run::check_seconds("seconds", args.seconds, 600.0)?;
    super::run::check_seconds("warmup_seconds", args.warmup_seconds, 600.0)?;
    let mut steps = Vec::new();
    let mut capacity = 0;
    let mut limit_found = false;
    for calls in 1..=args.max_calls {
        let s = step(args, calls).await?;
        eprintln!("{}", render_step(&s));
        let passed = s.passed();
        steps.push(s);
        if !passed {
            limit_found = true;
            break;
        }
        capacity = calls;
    }
    Ok(Capacity {
        video: !args.audio_only,
        seconds: args.seconds,
        seed: args.seed,
        capacity,
        limit_found,
        steps,
    })
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn render_step(s: &Step) -> String {
    format!(
        "{:>5}  {:>5.2}  {:>7}  {:>7.2}  {:>8}  {:>8}  {:>8}  {}",
        s.calls,
        s.cpu_cores,
        s.streams,
        s.packet_loss_max_pct,
        opt(s.latency_median_max_ms),
        opt(s.latency_p95_max_ms),
        opt(s.psnr_median_min_db),
        if s.passed() {
            "ok".to_owned()
        } else {
            format!("FAIL: {}", s.reasons.join("; "))
        }
    )
}

/// Renders the run for a terminal.
pub fn render(c: &Capacity) -> String {
    let mut out = format!(
        "concurrent 1:1 {} calls, unimpaired loopback, {} s measured per step (seed {})\n\n",
        if c.video { "video" } else { "audio" },
        c.seconds,
        c.seed
    );
    out.push_str("calls  cores  streams  loss% max  p50 max  p95 max  PSNR min  verdict\n");
    for s in &c.steps {
        let _ = writeln!(out, "{}", render_step(s));
    }
    let _ = writeln!(
        out,
        "\ncapacity: {} concurrent call{}{}",
        c.capacity,
        if c.capacity == 1 { "" } else { "s" },
        if c.limit_found {
            ""
        } else {
            " (the limit was not reached; raise --max-calls)"
        }
    );
    out
}

/// The CLI entry: exit 0 when at least one call ran cleanly.
pub fn run(args: &CapacityArgs) -> Result<i32, MediaError> {
    let c = super::run::block_on(measure(args))?;
    print!("{}", render(&c));
    super::run::write_json(args.json.as_deref(), &c)?;
    Ok(if c.capacity == 0 { 1 } else { 0 })
}
