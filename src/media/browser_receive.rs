//! Media interop, webrtc-rs → Chromium: callconf's webrtc-rs peer sends its synthesised
//! frame-marked video and tone to headless Chromium, and the page reports what it decoded
//! (#17; the other direction is `browser_call`).
//!
//! Why: a web SDK's receiving side is the browser's WebRTC stack; certifying it means
//! measuring what Chromium decodes of a stream whose every frame callconf knows.
//!
//! How one call goes:
//! 1. callconf starts Chromium at the media page (no fake capture: the page only receives),
//!    which dials the harness's loopback WebSocket with its token (`browser_page`). webrtc-rs
//!    offers its two send-only tracks (the `sender` path every webrtc-rs call uses: the
//!    publisher's GStreamer sources, one writer per kind), the page answers receive-only.
//!    Both sides' candidates point at the loopback relay (`relay`), which impairs what
//!    webrtc-rs sends with the seeded `LinkModel` ([`Impaired::FromWebrtc`]).
//! 2. **Latency**: the page plays the remote stream in a `<video>`; for every frame
//!    `requestVideoFrameCallback` shows it, it draws the frame on a canvas, reads its mark and
//!    reports it with `performance.timeOrigin + presentationTime` (the frame handed to the
//!    compositor, i.e. decoded) and `+ receiveTime` (its last packet arrived). Chromium and
//!    callconf run on one host and read one clock, so callconf maps these wall-clock
//!    milliseconds onto its monotonic clock (one `SystemTime`/`Instant` pair) and subtracts the
//!    capture instant its publisher logged for that frame number: latency is capture →
//!    decoded, as for a webrtc-rs receiver (encode, link, jitter buffer and decode included);
//!    receive latency stops at the last packet's arrival. Frames the compositor never showed
//!    get no sample (rVFC reports shown frames only); `getStats` counts every decoded frame.
//!    Two caveats, both measured: headless Chromium presents on 60 Hz frame ticks, so the
//!    decoded latency moves in steps of 16.7 ms as the frames' phase against the ticks
//!    changes (arrival does not: delay is measured on it); and `timeOrigin + now()` is a
//!    monotonic clock anchored once at navigation, not the wall clock to the millisecond, so
//!    absolute figures carry an offset of a few ms (arrival came out between −0.2 and +3.4 ms
//!    after capture, encoding included, over runs). Differences within one call cancel it.
//! 3. **Picture quality**: for every `LUMA_SAMPLE_EVERY_FRAMES`-th frame (by mark), the page
//!    sends the frame's luma as a binary message: the canvas's RGB converted back to BT.601
//!    limited-range Y (`Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`). callconf compares
//!    it with the publisher's reference picture of that frame with its own PSNR and SSIM. The
//!    figure thus includes the browser's YUV → RGB → Y round trip (rounding of about half a
//!    level: it caps PSNR near 50 dB), never more than what Chromium decoded.
//! 4. **getStats**: the page answers `{type: "stats"}` with its `inbound-rtp` entries; callconf
//!    asks at the start and end of each window and reports the differences (packets received
//!    and lost, frames decoded, NACKs) and the end values (jitter, audio level).
//! 5. **Impairment**: as in `browser_call`, an unimpaired baseline window, then the link's
//!    profile, a settling pause, and the measured window. The relay counts, per SSRC, the RTP
//!    datagrams it was offered and dropped: the loss the link applied, beside what getStats
//!    says the browser lost (lower when NACK and RTX repair it).
//!
//! Not measured in this direction: the tone's frequency (the page reports `audioLevel` only).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::analyze;
use super::browser_call::{BROWSER, BrowserCallConfig, WEBRTC_RS, WallClock, negotiate, settle};
use super::browser_page::{
    FromPage, InboundRtp, PageErrors, Ws, accept_page, console_tail, page_channel, parse_luma,
    with_console,
};
use super::error::MediaError;
use super::impair::{Link, LinkProfile};
use super::limits;
use super::peer::Peer;
use super::recovery::Recovery;
use super::relay::Impaired;
use super::report::Summary;
use super::sender::{self, Publisher};
use super::session::{TrackSpec, Writers, add_writer};
use super::stream::{Gate, Kind, SendCounters, SenderLog, StreamStats};
use super::synth::tone_hz;

/// The tag stamped into webrtc-rs's frames.
pub const WEBRTC_RS_TAG: u8 = 2;

/// What the page's `getStats` says of one received stream over a window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InboundStats {
    /// `packetsReceived` over the window.
    pub packets_received: u64,
    /// `packetsLost` over the window (RFC 3550's cumulative loss: expected minus received).
    pub packets_lost: i64,
    /// `packets_lost` of `packets_lost + packets_received`.
    pub loss_pct: Option<f64>,
    /// `jitter` at the window's end.
    pub jitter_ms: Option<f64>,
    /// `framesDecoded` over the window (video).
    pub frames_decoded: Option<u64>,
    /// `audioLevel` at the window's end (audio, 0..=1).
    pub audio_level: Option<f64>,
    /// `nackCount` over the window.
    pub nacks_sent: Option<u64>,
    /// `retransmittedPacketsReceived` over the window (when the browser gives it).
    pub retransmitted_packets_received: Option<u64>,
}

/// RTP datagrams of webrtc-rs's media SSRCs (not RTX) the relay was offered and dropped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkApplied {
    pub offered: u64,
    pub dropped: u64,
    pub loss_pct: Option<f64>,
}

/// One measured window of webrtc-rs → Chromium.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiveWindow {
    pub profile: LinkProfile,
    /// Frames the page showed with a readable mark of webrtc-rs's tag.
    pub frames_reported: u64,
    /// Frames shown whose mark the page could not read.
    pub frames_unreadable: u64,
    /// Frames with another sender's tag (never expected).
    pub frames_from_wrong_sender: u64,
    /// Frames whose capture the publisher no longer (or never) logged.
    pub frames_not_logged: u64,
    /// Capture → decoded (handed to the compositor), per reported frame.
    pub latency_ms: Option<Summary>,
    /// Capture → the frame's last packet received.
    pub receive_latency_ms: Option<Summary>,
    pub psnr_db: Option<Summary>,
    pub ssim: Option<Summary>,
    pub video: Option<InboundStats>,
    pub audio: Option<InboundStats>,
    /// Audio and video together.
    pub link: LinkApplied,
    pub frames_sent: u64,
    /// The publisher's writers skipped frames or its sources dropped some: figures include the
    /// machine's lag.
    pub fell_behind: bool,
}

/// What one webrtc-rs → Chromium call measured.
#[derive(Debug, Clone, Serialize)]
pub struct BrowserReceiveReport {
    pub window: ReceiveWindow,
    /// The unimpaired window before the link was impaired (none when it is perfect).
    pub baseline: Option<ReceiveWindow>,
    /// Luma planes refused (past `LUMA_SAMPLES_MAX`, or malformed) over the call.
    pub luma_refused: u64,
    pub candidates_removed: usize,
    pub page_errors: Vec<String>,
    /// Windows measured again because the machine fell behind in them (at most
    /// `WINDOW_ATTEMPTS_MAX - 1` per window).
    pub windows_discarded: u32,
}

impl ReceiveWindow {
    /// A few lines for people.
    pub fn table(&self) -> String {
        let s = |x: &Option<Summary>, unit: &str| {
            x.map_or("-".to_owned(), |m| {
                format!(
                    "median {:.2}{unit} p95 {:.2}{unit} (n={})",
                    m.median, m.p95, m.count
                )
            })
        };
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{WEBRTC_RS} -> {BROWSER} (link: delay {} ms, loss {} %)",
            self.profile.delay_ms, self.profile.loss_pct
        );
        let _ = writeln!(
            t,
            "  frames: sent {}, reported {}, unreadable {}, wrong sender {}, not logged {}",
            self.frames_sent,
            self.frames_reported,
            self.frames_unreadable,
            self.frames_from_wrong_sender,
            self.frames_not_logged
        );
        let _ = writeln!(t, "  latency: {}", s(&self.latency_ms, " ms"));
        let _ = writeln!(
            t,
            "  receive latency: {}",
            s(&self.receive_latency_ms, " ms")
        );
        let _ = writeln!(t, "  PSNR: {}", s(&self.psnr_db, " dB"));
        let _ = writeln!(t, "  SSIM: {}", s(&self.ssim, ""));
        for (kind, st) in [("video", &self.video), ("audio", &self.audio)] {
            let _ = writeln!(t, "  getStats {kind}: {st:?}");
        }
        let _ = writeln!(t, "  link applied: {:?}", self.link);
        if self.fell_behind {
            let _ = writeln!(t, "  the machine fell behind: figures include its lag");
        }
        t
    }
}

/// What the page reported of one window's frames.
#[derive(Default)]
struct Samples {
    reported: u64,
    unreadable: u64,
    wrong_sender: u64,
    not_logged: u64,
    latency: Vec<f64>,
    receive_latency: Vec<f64>,
    psnr: Vec<f64>,
    ssim: Vec<f64>,
}

/// What the page reported: the current window's samples, and the call's counts and errors.
#[derive(Default)]
struct Decoded {
    w: Samples,
    luma_accepted: u64,
    luma_refused: u64,
    errors: PageErrors,
}

/// Runs one call: webrtc-rs sends its synthesised media to Chromium, which reports what it
/// decoded. Must run inside a multi-threaded tokio runtime with the wall clock.
pub async fn run(config: &BrowserCallConfig) -> Result<BrowserReceiveReport, MediaError> {
    config.validate()?;
    let (listener, token, url) = page_channel().await?;
    let (mut browser, stderr) =
        crate::driver::browser::launch_media(config.page.as_deref(), &url, None)
            .map_err(|e| MediaError::Browser(e.to_string()))?;
    let console = console_tail(stderr);
    let result = call(config, listener, &token).await;
    browser.kill();
    with_console(result, &console)
}

/// The publisher's two tracks on `peer`, ready to write once connected.
async fn add_tracks(
    peer: &Peer,
    publisher: &Arc<Publisher>,
    seed: u64,
    recovery: Recovery,
) -> Result<Writers, MediaError> {
    let gate = Arc::new(Gate::default());
    let mut writers = Vec::new();
    for (i, kind) in [Kind::Audio, Kind::Video].into_iter().enumerate() {
        let mixed = seed
            .wrapping_add(i as u64 + 1)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let spec = TrackSpec {
            owner: WEBRTC_RS,
            kind,
            ssrc: ((mixed >> 16) as u32).max(1),
            seq_start: (mixed >> 48) as u16,
            recovery,
        };
        let counters = Arc::new(SendCounters::default());
        writers.push(add_writer(peer, publisher, spec, gate.clone(), counters).await?);
    }
    Ok(writers)
}

async fn call(
    config: &BrowserCallConfig,
    listener: TcpListener,
    token: &str,
) -> Result<BrowserReceiveReport, MediaError> {
    let ws = accept_page(&listener, token).await?;
    drop(listener);
    let runtime: Arc<dyn webrtc::runtime::Runtime> = Arc::new(webrtc::runtime::TokioRuntime);
    // webrtc-rs's own sockets are not impaired: the link is in the relay.
    let unimpaired = Link::new(LinkProfile::default(), config.seed);
    let mut peer = Peer::build(runtime, unimpaired, config.recovery).await?;
    let tone = tone_hz(WEBRTC_RS_TAG - 1);
    let video = config.video;
    let publisher = tokio::task::spawn_blocking(move || {
        Publisher::start(WEBRTC_RS, WEBRTC_RS_TAG, tone, Some(video))
    })
    .await
    .map_err(|e| MediaError::Pipeline(format!("starting the sources: {e}")))??;
    let publisher = Arc::new(publisher);
    let mut tasks = Vec::new();
    let result = connected_call(config, &mut peer, ws, &publisher, &mut tasks).await;
    let _ = peer.pc.close().await;
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        let _ = t.await;
    }
    // The sources' threads are joined when the last handle goes: off the runtime's threads.
    let _ = tokio::task::spawn_blocking(move || drop(publisher)).await;
    result
}

/// The page's channel once the call runs: requests go out on `sink`, `stats` brings the
/// page's getStats answers from the reader.
struct Channel {
    sink: SplitSink<Ws, Message>,
    stats: mpsc::Receiver<Vec<InboundRtp>>,
}

impl Channel {
    /// Asks the page for its inbound-rtp stats and waits for the answer (with a deadline).
    async fn stats(&mut self) -> Result<Vec<InboundRtp>, MediaError> {
        while self.stats.try_recv().is_ok() {}
        let ask = serde_json::json!({ "type": "stats" }).to_string();
        self.sink
            .send(Message::Text(ask.into()))
            .await
            .map_err(|e| MediaError::Browser(format!("asking the page for getStats: {e}")))?;
        let wait = Duration::from_millis(limits::PAGE_STATS_TIMEOUT_MS);
        tokio::time::timeout(wait, self.stats.recv())
            .await
            .map_err(|_| {
                MediaError::Browser(format!(
                    "the page gave no getStats within {} ms",
                    limits::PAGE_STATS_TIMEOUT_MS
                ))
            })?
            .ok_or_else(|| MediaError::Browser("the page's channel closed".into()))
    }
}

async fn connected_call(
    config: &BrowserCallConfig,
    peer: &mut Peer,
    mut ws: Ws,
    publisher: &Arc<Publisher>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<BrowserReceiveReport, MediaError> {
    let writers = add_tracks(peer, publisher, config.seed, config.recovery).await?;
    let link = Link::new(LinkProfile::default(), config.seed);
    let role = serde_json::json!({
        "mode": "receive",
        "luma_every": limits::LUMA_SAMPLE_EVERY_FRAMES,
        "luma_max": limits::LUMA_SAMPLES_MAX,
        "message_bytes_max": limits::PAGE_MESSAGE_BYTES_MAX,
    });
    let (relay, candidates_removed) =
        negotiate(peer, &mut ws, link.clone(), Impaired::FromWebrtc, role).await?;
    let (sink, stream) = ws.split();
    let (stats_tx, stats) = mpsc::channel(limits::PAGE_STATS_QUEUE_MAX);
    let decoded = Arc::new(Mutex::new(Decoded::default()));
    tasks.push(tokio::spawn(read_page(
        stream,
        publisher.log.clone(),
        decoded.clone(),
        stats_tx,
    )));
    let mut channel = Channel { sink, stats };
    peer.connected().await?;
    let mut counters = Vec::new();
    for (ctx, rx) in writers {
        counters.push(ctx.counters.clone());
        if ctx.kind == Kind::Video && config.recovery.is_on() {
            tasks.push(tokio::spawn(sender::answer_keyframe_requests(
                ctx.track.clone(),
                ctx.publisher.clone(),
                ctx.counters.clone(),
            )));
        }
        tasks.push(tokio::spawn(sender::write_loop(ctx, rx)));
    }
    let at = Window {
        link: &link,
        log: &publisher.log,
        counters: &counters,
        decoded: &decoded,
    };
    tokio::time::sleep(Duration::from_secs_f64(config.warmup_seconds)).await;
    let mut windows_discarded = 0;
    let baseline = if config.link.is_perfect() {
        None
    } else {
        let w = at
            .measure_kept_up(
                &mut channel,
                config.baseline_seconds,
                LinkProfile::default(),
                &mut windows_discarded,
            )
            .await?;
        link.set_profile(config.link);
        tokio::time::sleep(settle(config.link)).await;
        Some(w)
    };
    let window = at
        .measure_kept_up(
            &mut channel,
            config.seconds,
            config.link,
            &mut windows_discarded,
        )
        .await?;
    drop(relay);
    let d = decoded.lock().expect("decoded lock");
    Ok(BrowserReceiveReport {
        window,
        baseline,
        luma_refused: d.luma_refused,
        candidates_removed,
        page_errors: d.errors.to_vec(),
        windows_discarded,
    })
}

/// What measuring a window needs.
struct Window<'a> {
    link: &'a Link,
    log: &'a SenderLog,
    /// The writers' counters (audio, video).
    counters: &'a [Arc<SendCounters>],
    decoded: &'a Mutex<Decoded>,
}

impl Window<'_> {
    /// [`Self::measure`] again while the machine fell behind in the window, up to
    /// `WINDOW_ATTEMPTS_MAX` windows; counts the discarded ones into `discarded`.
    async fn measure_kept_up(
        &self,
        channel: &mut Channel,
        seconds: f64,
        profile: LinkProfile,
        discarded: &mut u32,
    ) -> Result<ReceiveWindow, MediaError> {
        let mut attempt = 1;
        loop {
            let w = self.measure(channel, seconds, profile).await?;
            if !w.fell_behind || attempt >= limits::WINDOW_ATTEMPTS_MAX {
                return Ok(w);
            }
            attempt += 1;
            *discarded += 1;
        }
    }

    async fn measure(
        &self,
        channel: &mut Channel,
        seconds: f64,
        profile: LinkProfile,
    ) -> Result<ReceiveWindow, MediaError> {
        let sent = |c: &[Arc<SendCounters>]| {
            c.iter()
                .map(|c| {
                    (
                        c.frames_sent.load(Ordering::Relaxed),
                        c.frames_skipped.load(Ordering::Relaxed),
                    )
                })
                .collect::<Vec<_>>()
        };
        let dropped_before = self.log.dropped_at_source.load(Ordering::Relaxed);
        let sent_before = sent(self.counters);
        self.link.counters().rtp.reset();
        self.decoded.lock().expect("decoded lock").w = Samples::default();
        let before = channel.stats().await?;
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        let after = channel.stats().await?;
        let d = std::mem::take(&mut self.decoded.lock().expect("decoded lock").w);
        let sent_after = sent(self.counters);
        let dropped = self.log.dropped_at_source.load(Ordering::Relaxed) - dropped_before;
        let skipped: u64 = sent_after
            .iter()
            .zip(&sent_before)
            .map(|(a, b)| a.1 - b.1)
            .sum();
        let mut link = LinkApplied::default();
        for c in self.counters {
            let t = self.link.counters().rtp.get(c.ssrc.load(Ordering::Relaxed));
            link.offered += t.offered;
            link.dropped += t.dropped;
        }
        link.loss_pct = pct(link.dropped as f64, link.offered as f64);
        Ok(ReceiveWindow {
            profile,
            frames_reported: d.reported,
            frames_unreadable: d.unreadable,
            frames_from_wrong_sender: d.wrong_sender,
            frames_not_logged: d.not_logged,
            latency_ms: Summary::of(&d.latency),
            receive_latency_ms: Summary::of(&d.receive_latency),
            psnr_db: Summary::of(&d.psnr),
            ssim: Summary::of(&d.ssim),
            video: inbound("video", &before, &after),
            audio: inbound("audio", &before, &after),
            link,
            // The video writer's frames (the second).
            frames_sent: sent_after.get(1).map_or(0, |a| a.0)
                - sent_before.get(1).map_or(0, |b| b.0),
            fell_behind: skipped > 0 || dropped > 0,
        })
    }
}

fn pct(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| 100.0 * part / whole)
}

/// The difference of the page's `kind` inbound-rtp entry over a window.
fn inbound(kind: &str, before: &[InboundRtp], after: &[InboundRtp]) -> Option<InboundStats> {
    let find = |v: &[InboundRtp]| v.iter().find(|e| e.kind == kind).cloned();
    let a = find(after)?;
    let b = find(before).unwrap_or_default();
    let d = |x: Option<u64>, y: Option<u64>| x.map(|x| x.saturating_sub(y.unwrap_or(0)));
    let received = d(a.packets_received, b.packets_received).unwrap_or(0);
    let lost = a.packets_lost.unwrap_or(0) - b.packets_lost.unwrap_or(0);
    Some(InboundStats {
        packets_received: received,
        packets_lost: lost,
        loss_pct: pct(lost as f64, lost as f64 + received as f64),
        jitter_ms: a.jitter.map(|j| j * 1e3),
        frames_decoded: d(a.frames_decoded, b.frames_decoded),
        audio_level: a.audio_level,
        nacks_sent: d(a.nack_count, b.nack_count),
        retransmitted_packets_received: d(
            a.retransmitted_packets_received,
            b.retransmitted_packets_received,
        ),
    })
}

/// Reads the page's reports: decoded frames (latency), luma planes (PSNR, SSIM), getStats
/// answers (to the call), errors.
async fn read_page(
    mut stream: SplitStream<Ws>,
    log: Arc<SenderLog>,
    decoded: Arc<Mutex<Decoded>>,
    stats: mpsc::Sender<Vec<InboundRtp>>,
) {
    let clock = WallClock::now();
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(Message::Text(t)) => match serde_json::from_str::<FromPage>(&t) {
                Ok(FromPage::Stats { inbound }) => {
                    // One request at a time: a full queue means nobody asked.
                    let _ = stats.try_send(inbound);
                }
                Ok(m) => on_message(m, &clock, &log, &decoded),
                Err(e) => decoded
                    .lock()
                    .expect("decoded lock")
                    .errors
                    .push(format!("a message from the page: {e}")),
            },
            Ok(Message::Binary(b)) => on_luma(&b, &log, &decoded).await,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn on_message(m: FromPage, clock: &WallClock, log: &SenderLog, decoded: &Mutex<Decoded>) {
    let mut d = decoded.lock().expect("decoded lock");
    match m {
        FromPage::Decoded {
            tag: Some(tag),
            frame: Some(n),
            at_ms: Some(at),
            receive_ms,
        } => {
            if tag != WEBRTC_RS_TAG {
                d.w.wrong_sender += 1;
                return;
            }
            let Some((captured, _)) = log.video_capture(n) else {
                d.w.not_logged += 1;
                return;
            };
            let Some(shown) = clock.instant(at) else {
                d.errors.push(format!("decode time {at} is not a time"));
                return;
            };
            d.w.reported += 1;
            let ms = |t: std::time::Instant| match t.checked_duration_since(captured) {
                Some(x) => x.as_secs_f64() * 1e3,
                None => -(captured.duration_since(t).as_secs_f64() * 1e3),
            };
            StreamStats::push_sample(&mut d.w.latency, ms(shown));
            if let Some(r) = receive_ms.and_then(|r| clock.instant(r)) {
                StreamStats::push_sample(&mut d.w.receive_latency, ms(r));
            }
        }
        FromPage::Decoded { .. } => d.w.unreadable += 1,
        FromPage::Error { message } => d.errors.push(message),
        FromPage::Hello | FromPage::Answer { .. } => {
            d.errors.push("a second hello or answer".into())
        }
        FromPage::Captured { .. } => d
            .errors
            .push("a sender's report from a receiving page".into()),
        FromPage::Stats { .. } | FromPage::Track { .. } => {}
    }
}

/// Compares one decoded frame's luma with the publisher's picture of that frame.
async fn on_luma(bytes: &[u8], log: &SenderLog, decoded: &Mutex<Decoded>) {
    let parsed = parse_luma(bytes);
    let reference = {
        let mut d = decoded.lock().expect("decoded lock");
        if d.luma_accepted >= limits::LUMA_SAMPLES_MAX {
            d.luma_refused += 1;
            return;
        }
        match &parsed {
            Err(e) => {
                d.luma_refused += 1;
                let e = e.clone();
                d.errors.push(e);
                return;
            }
            Ok((tag, _, _)) if *tag != WEBRTC_RS_TAG => {
                d.w.wrong_sender += 1;
                return;
            }
            Ok((_, n, _)) => match log.video_capture(*n) {
                Some((_, r)) => {
                    d.luma_accepted += 1;
                    r
                }
                None => {
                    d.w.not_logged += 1;
                    return;
                }
            },
        }
    };
    let Ok((_, _, plane)) = parsed else { return };
    if (plane.width, plane.height) != (reference.width, reference.height) {
        decoded.lock().expect("decoded lock").errors.push(format!(
            "the page decoded {}x{}, callconf sent {}x{}",
            plane.width, plane.height, reference.width, reference.height
        ));
        return;
    }
    let scores = tokio::task::spawn_blocking(move || {
        (
            analyze::psnr_db(&reference, &plane),
            analyze::ssim(&reference, &plane),
        )
    })
    .await;
    if let Ok((psnr, ssim)) = scores {
        let mut d = decoded.lock().expect("decoded lock");
        StreamStats::push_sample(&mut d.w.psnr, psnr);
        StreamStats::push_sample(&mut d.w.ssim, ssim);
    }
}
