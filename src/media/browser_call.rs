//! Media interop: a call between headless Chromium and callconf's webrtc-rs peer, the
//! browser's media measured by callconf's analysers (#17).
//!
//! Why: a web SDK's media runs on the browser's WebRTC stack, not on webrtc-rs; certifying it
//! means measuring what Chromium sends with the same analysers as every other stream.
//!
//! How one call goes:
//! 1. callconf writes the participant's fake capture (`fake_capture`: frame-marked Y4M, the
//!    tone as WAV) and starts Chromium at the media page (`adapters/web/media.html`) with
//!    loopback-only ICE and `getUserMedia` playing those files (`ice`, `driver::browser`).
//! 2. The page dials a WebSocket only this harness serves, on 127.0.0.1 with a random token
//!    in its path (a connection without it is refused). Signaling goes over it: webrtc-rs
//!    offers (VP8 and Opus with callconf's payload types, receive-only, every candidate
//!    gathered), the page answers with its two tracks. Its candidates that are not loopback
//!    are removed (`ice::loopback_only`). The reference server's signal relay is not in this
//!    path: the page speaks to no call server, it is the browser end of one media connection.
//! 3. What Chromium sends is analysed as any received stream (`receiver`): loss from the RTP
//!    sequence numbers, video decoded, each frame's mark read and its picture compared with
//!    the same frame of the Y4M file (PSNR, SSIM), the audio's tone checked.
//! 4. **Capture time of a browser frame**: for every frame its local preview shows, the page
//!    reads the mark off a canvas and reports `requestVideoFrameCallback`'s `captureTime` plus
//!    `performance.timeOrigin`: wall-clock milliseconds since the Unix epoch. Browser and
//!    callconf run on one host with one clock, so callconf maps that onto its monotonic clock
//!    (one `SystemTime`/`Instant` pair taken at the start) and logs it as the frame's capture
//!    instant; latency is decode time minus that, as for webrtc-rs senders. The report often
//!    comes after the frame was decoded (encode, loopback and decode take a few ms; the page's
//!    preview, canvas and WebSocket as long): such a frame's decode time waits for it and its
//!    latency is computed at the end of the window; its picture is known all along (frame n
//!    of the file). The preview may show fewer frames than were captured (the page's renderer
//!    is not the encoder): frames the page never reported get no latency sample and are
//!    counted (`captures_missed`).
//!    Audio has no per-packet capture time on the browser side: its latency is not measured.
//!
//! 5. **Impairment**: the browser's datagrams go through a loopback relay (`relay`) that
//!    applies the same seeded `LinkModel` as every webrtc-rs link; with an impaired link the
//!    call measures an unimpaired baseline window first, then switches the link on, lets what
//!    was in flight drain, and measures the reported window (as `callconf media` does).
//!
//! The other direction, webrtc-rs sending to Chromium, is `browser_receive`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::RTCSessionDescription;

use super::browser_page::{
    FromPage, PageErrors, Ws, accept_page, console_tail, next_message, page_channel, with_console,
};
use super::error::MediaError;
use super::fake_capture;
use super::ice;
use super::impair::{Link, LinkProfile};
use super::limits;
use super::peer::Peer;
use super::receiver::{self, StreamCtx};
use super::recovery::Recovery;
use super::relay;
use super::report::{self, MediaReport};
use super::sender::{OPUS_PT, VP8_PT};
use super::stream::{Kind, SenderLog, StreamStats};
use super::synth::{VideoFormat, YPlane, tone_hz};

/// The browser's name in reports (the stream's sender).
pub const BROWSER: &str = "chromium";
/// callconf's webrtc-rs peer's name in reports.
pub const WEBRTC_RS: &str = "webrtc-rs";
/// The tag stamped into the browser's frames.
pub const BROWSER_TAG: u8 = 1;

/// How a browser call is run (either direction: `run` here, `browser_receive::run`).
#[derive(Debug, Clone)]
pub struct BrowserCallConfig {
    /// The video of the fake capture.
    pub video: VideoFormat,
    /// After the connection is up, how long before measuring (the browser's encoder ramps
    /// its bitrate up from a low start).
    pub warmup_seconds: f64,
    /// The measured window.
    pub seconds: f64,
    pub recovery: Recovery,
    /// The impairment of the media sender's datagrams (the relay's link: the browser's here,
    /// webrtc-rs's in `browser_receive`), switched on after an unimpaired baseline window
    /// when it is not perfect.
    pub link: LinkProfile,
    /// The baseline window's length (used only with an impaired `link`).
    pub baseline_seconds: f64,
    /// Seeds the link's random stream.
    pub seed: u64,
    /// A page of one's own instead of the built-in media page.
    pub page: Option<PathBuf>,
}

impl Default for BrowserCallConfig {
    fn default() -> Self {
        Self {
            video: VideoFormat::default(),
            warmup_seconds: 3.0,
            seconds: 8.0,
            recovery: Recovery::default(),
            link: LinkProfile::default(),
            baseline_seconds: 3.0,
            seed: 1,
            page: None,
        }
    }
}

/// What one browser call measured.
#[derive(Debug, Clone, Serialize)]
pub struct BrowserCallReport {
    /// The browser's streams as received by webrtc-rs, in the report every media run makes.
    pub media: MediaReport,
    /// The same, over the unimpaired baseline window before the link was impaired (none when
    /// the link is perfect): what capture, both stacks and decode add on this host.
    pub baseline: Option<MediaReport>,
    /// Frames the page's preview showed with a readable mark and a capture time, in the window.
    pub captures_reported: u64,
    /// Frames the preview showed whose mark it could not read (or without a capture time).
    pub captures_unreadable: u64,
    /// Frames between reported ones the preview never showed (no capture time for them).
    pub captures_missed: u64,
    /// Candidates of the page's answer that were not loopback, removed before use.
    pub candidates_removed: usize,
    /// What the page reported as errors (bounded).
    pub page_errors: Vec<String>,
    /// Windows measured again because the machine fell behind in them (at most
    /// `WINDOW_ATTEMPTS_MAX - 1` per window).
    pub windows_discarded: u32,
}

/// One `SystemTime`/`Instant` pair: maps the page's wall-clock times onto `Instant`s.
#[derive(Clone, Copy)]
pub(super) struct WallClock {
    instant: Instant,
    unix_ms: f64,
}

impl WallClock {
    pub(super) fn now() -> Self {
        let unix_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3);
        Self {
            instant: Instant::now(),
            unix_ms,
        }
    }

    pub(super) fn instant(&self, unix_ms: f64) -> Option<Instant> {
        if !unix_ms.is_finite() {
            return None;
        }
        let d = unix_ms - self.unix_ms;
        let span = Duration::try_from_secs_f64(d.abs() / 1e3).ok()?;
        if d >= 0.0 {
            self.instant.checked_add(span)
        } else {
            self.instant.checked_sub(span)
        }
    }
}

/// The page's reports, as they come.
#[derive(Default)]
struct PageState {
    reported: u64,
    unreadable: u64,
    errors: PageErrors,
}

/// A scratch directory removed when dropped.
pub(super) struct Scratch(pub(super) PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn scratch() -> Result<Scratch, MediaError> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("callconf-interop-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| MediaError::Browser(format!("scratch: {e}")))?;
    Ok(Scratch(dir))
}

impl BrowserCallConfig {
    pub(super) fn validate(&self) -> Result<(), MediaError> {
        self.video.validate()?;
        self.link.validate()?;
        let baseline = if self.link.is_perfect() {
            0.0
        } else {
            self.baseline_seconds + settle(self.link).as_secs_f64()
        };
        if !baseline.is_finite() || self.baseline_seconds < 0.0 {
            return Err(MediaError::InvalidArgument {
                field: "baseline_seconds",
                reason: "at least 0 s".into(),
            });
        }
        let total = self.warmup_seconds + self.seconds + baseline;
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !ok(self.warmup_seconds) || !ok(self.seconds) || self.seconds < 1.0 {
            return Err(MediaError::InvalidArgument {
                field: "seconds",
                reason: "the window is at least 1 s, the warm-up at least 0 s".into(),
            });
        }
        if total > limits::BROWSER_CALL_SECONDS_MAX {
            return Err(MediaError::InvalidArgument {
                field: "seconds",
                reason: format!(
                    "warm-up, baseline and window together at most {} s (the fake capture's length)",
                    limits::BROWSER_CALL_SECONDS_MAX
                ),
            });
        }
        Ok(())
    }
}

/// Runs one call: Chromium sends its fake capture to webrtc-rs, which measures it.
/// Must run inside a multi-threaded tokio runtime with the wall clock.
pub async fn run(config: &BrowserCallConfig) -> Result<BrowserCallReport, MediaError> {
    config.validate()?;
    let dir = scratch()?;
    let fmt = config.video;
    let tone = tone_hz(BROWSER_TAG - 1);
    // The file outlasts the call, so its frame numbers never wrap during one.
    let file_seconds = fake_capture::FAKE_CAPTURE_SECONDS_MAX;
    let files = {
        let d = dir.0.clone();
        tokio::task::spawn_blocking(move || {
            fake_capture::write(&d, fmt, BROWSER_TAG, tone, file_seconds)
        })
        .await
        .map_err(|e| MediaError::Pipeline(format!("fake capture writer: {e}")))??
    };
    let references: Arc<Vec<Arc<YPlane>>> = Arc::new(
        fake_capture::read_y4m_luma(&files.video)?
            .into_iter()
            .map(Arc::new)
            .collect(),
    );

    let (listener, token, url) = page_channel().await?;
    let (mut browser, stderr) = crate::driver::browser::launch_media(
        config.page.as_deref(),
        &url,
        Some((&files.video, &files.audio)),
    )
    .map_err(|e| MediaError::Browser(e.to_string()))?;
    let console = console_tail(stderr);
    let result = call(config, listener, &token, &references, tone).await;
    browser.kill();
    drop(dir);
    with_console(result, &console)
}

async fn call(
    config: &BrowserCallConfig,
    listener: TcpListener,
    token: &str,
    references: &Arc<Vec<Arc<YPlane>>>,
    tone: u32,
) -> Result<BrowserCallReport, MediaError> {
    let mut ws = accept_page(&listener, token).await?;
    drop(listener);
    let runtime: Arc<dyn webrtc::runtime::Runtime> = Arc::new(webrtc::runtime::TokioRuntime);
    // What webrtc-rs sends is not impaired: the link is the browser's, in the relay.
    let unimpaired = Link::new(LinkProfile::default(), config.seed);
    let mut peer = Peer::build(runtime, unimpaired, config.recovery).await?;
    peer.receive_only(Kind::Audio).await?;
    peer.receive_only(Kind::Video).await?;
    let link = Link::new(LinkProfile::default(), config.seed);
    let role = serde_json::json!({ "mode": "send" });
    let (relay, candidates_removed) = negotiate(
        &mut peer,
        &mut ws,
        link.clone(),
        relay::Impaired::FromBrowser,
        role,
    )
    .await?;

    let log = Arc::new(SenderLog::with_references(
        BROWSER,
        BROWSER_TAG,
        tone,
        config.video.fps,
        references.clone(),
    ));
    let page = Arc::new(Mutex::new(PageState::default()));
    tokio::spawn(read_page(ws, log.clone(), page.clone()));
    let stats: [Arc<Mutex<StreamStats>>; 2] = Default::default();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut events = std::mem::replace(&mut peer.events, tokio::sync::mpsc::channel(1).1);
    {
        let (log, stats, failures) = (log.clone(), stats.clone(), failures.clone());
        let recovery = config.recovery;
        tokio::spawn(async move {
            while let Some(track) = events.recv().await {
                tokio::spawn(serve(
                    track,
                    log.clone(),
                    stats.clone(),
                    recovery,
                    failures.clone(),
                ));
            }
        });
    }
    peer.connected().await?;
    let at = Window {
        stats: &stats,
        log: &log,
        page: &page,
        failures: &failures,
        connected_at: Instant::now(),
        tone,
    };
    tokio::time::sleep(Duration::from_secs_f64(config.warmup_seconds)).await;
    let mut windows_discarded = 0;
    let baseline = if config.link.is_perfect() {
        None
    } else {
        let (r, _) = at
            .measure_kept_up(
                config.baseline_seconds,
                LinkProfile::default(),
                &mut windows_discarded,
            )
            .await;
        link.set_profile(config.link);
        tokio::time::sleep(settle(config.link)).await;
        Some(r)
    };
    let (media, captures) = at
        .measure_kept_up(config.seconds, config.link, &mut windows_discarded)
        .await;
    let _ = peer.pc.close().await;
    drop(relay);
    let p = page.lock().expect("page lock");
    Ok(BrowserCallReport {
        media,
        baseline,
        captures_reported: captures.0,
        captures_unreadable: captures.1,
        captures_missed: captures.2,
        candidates_removed,
        page_errors: p.errors.to_vec(),
        windows_discarded,
    })
}

/// How long after the link changes before measuring: what was in flight drains.
pub(super) fn settle(link: LinkProfile) -> Duration {
    Duration::from_secs_f64((700.0 + 2.0 * link.delay_ms) / 1e3)
}

/// Offers, gets the page's answer, and puts the relay between the two: each side's
/// candidates point at it, the `impaired` direction goes through `link`. `role` tells the page
/// what to do with the connection (send its capture, or receive and report). Returns the
/// relay and how many non-loopback candidates the page had (removed).
pub(super) async fn negotiate(
    peer: &mut Peer,
    ws: &mut Ws,
    link: Link,
    impaired: relay::Impaired,
    role: serde_json::Value,
) -> Result<(relay::Relay, usize), MediaError> {
    let (relay, msg) = relayed_offer(peer, link, impaired, role).await?;
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .map_err(|e| MediaError::Browser(format!("sending the offer: {e}")))?;
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(limits::NEGOTIATION_TIMEOUT_MS);
    let answer = loop {
        match next_message(ws, deadline, "answer").await? {
            FromPage::Hello
            | FromPage::Captured { .. }
            | FromPage::Decoded { .. }
            | FromPage::Track { .. }
            | FromPage::Stats { .. } => {}
            FromPage::Answer { description } => break description,
            FromPage::Error { message } => {
                return Err(MediaError::Browser(format!("the page: {message}")));
            }
        }
    };
    let removed = accept_relayed_answer(peer, relay.webrtc_facing, &answer).await?;
    Ok((relay, removed))
}

/// Makes webrtc-rs's offer, starts the relay for it, and returns the relay and the offer
/// message for the page (its candidates pointing at the relay, the page's ICE configuration).
pub(super) async fn relayed_offer(
    peer: &mut Peer,
    link: Link,
    impaired: relay::Impaired,
    role: serde_json::Value,
) -> Result<(relay::Relay, serde_json::Value), MediaError> {
    let offer = peer.offer().await?;
    let any = std::net::SocketAddr::from(([127, 0, 0, 1], 9));
    let webrtc = relay::redirect_candidates(&offer.sdp, any)
        .1
        .ok_or_else(|| MediaError::Negotiation("webrtc-rs offered no UDP candidate".into()))?;
    let relay = relay::start(webrtc, link, impaired).await?;
    let (sdp, _) = relay::redirect_candidates(&offer.sdp, relay.browser_facing);
    let msg = serde_json::json!({
        "type": "offer",
        "role": role,
        "configuration": ice::page_configuration(),
        "description": { "type": "offer", "sdp": sdp },
    });
    Ok((relay, msg))
}

/// Gives webrtc-rs the page's answer: its non-loopback candidates removed, the rest pointing
/// at the relay's webrtc-rs-facing socket. Returns how many candidates were removed.
pub(super) async fn accept_relayed_answer(
    peer: &mut Peer,
    relay_webrtc_facing: std::net::SocketAddr,
    answer: &RTCSessionDescription,
) -> Result<usize, MediaError> {
    let (sdp, removed) = ice::loopback_only(&answer.sdp);
    let (sdp, _) = relay::redirect_candidates(&sdp, relay_webrtc_facing);
    let answer = RTCSessionDescription::answer(sdp)
        .map_err(|e| MediaError::Negotiation(format!("the page's answer: {e}")))?;
    peer.accept_answer(answer).await?;
    Ok(removed)
}

/// What measuring a window needs.
struct Window<'a> {
    stats: &'a [Arc<Mutex<StreamStats>>; 2],
    log: &'a SenderLog,
    page: &'a Mutex<PageState>,
    failures: &'a Mutex<Vec<String>>,
    connected_at: Instant,
    tone: u32,
}

impl Window<'_> {
    /// [`Self::measure`] again while the machine fell behind in the window, up to
    /// `WINDOW_ATTEMPTS_MAX` windows; counts the discarded ones into `discarded`.
    async fn measure_kept_up(
        &self,
        seconds: f64,
        profile: LinkProfile,
        discarded: &mut u32,
    ) -> (MediaReport, (u64, u64, u64)) {
        let mut attempt = 1;
        loop {
            let w = self.measure(seconds, profile).await;
            if !w.0.fell_behind || attempt >= limits::WINDOW_ATTEMPTS_MAX {
                return w;
            }
            attempt += 1;
            *discarded += 1;
        }
    }

    /// Measures `seconds` from now: the report, and the page's captures in the window
    /// (reported, unreadable, missed).
    async fn measure(&self, seconds: f64, profile: LinkProfile) -> (MediaReport, (u64, u64, u64)) {
        for s in self.stats {
            *s.lock().expect("stats lock") = StreamStats::default();
        }
        self.log
            .dropped_at_source
            .store(0, std::sync::atomic::Ordering::Relaxed);
        let before = {
            let p = self.page.lock().expect("page lock");
            (p.reported, p.unreadable)
        };
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        let mut stats = self
            .stats
            .clone()
            .map(|s| s.lock().expect("stats lock").clone());
        let after = {
            let p = self.page.lock().expect("page lock");
            (p.reported, p.unreadable)
        };
        let missed = self
            .log
            .dropped_at_source
            .load(std::sync::atomic::Ordering::Relaxed);
        // The page's reports of the window's last frames are on their way: let them come.
        tokio::time::sleep(Duration::from_millis(limits::LATE_CAPTURE_WAIT_MS)).await;
        for s in &mut stats {
            s.latency_from_late_captures(|n| self.log.video_capture(n).map(|(at, _)| at));
        }
        let inputs = [Kind::Audio, Kind::Video]
            .into_iter()
            .map(|kind| report::StreamInput {
                from: BROWSER.to_owned(),
                to: WEBRTC_RS.to_owned(),
                kind,
                stats: stats[kind_index(kind)].clone(),
                counters: None,
                profile,
                link_datagrams: (0, 0),
                wire: None,
                expected_hz: Some(self.tone),
                own_hz: None,
                source_frames_dropped: 0,
                accepted_at: Some(self.connected_at),
            })
            .collect();
        let failures = self.failures.lock().expect("failures lock").clone();
        let captures = (after.0 - before.0, after.1 - before.1, missed);
        (report::build(inputs, failures), captures)
    }
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Audio => 0,
        Kind::Video => 1,
    }
}

/// Logs each frame the page reports as captured; keeps its errors.
async fn read_page(mut ws: Ws, log: Arc<SenderLog>, page: Arc<Mutex<PageState>>) {
    let clock = WallClock::now();
    while let Some(frame) = ws.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let mut p = page.lock().expect("page lock");
        match serde_json::from_str::<FromPage>(&text) {
            Ok(FromPage::Captured {
                tag: Some(tag),
                frame: Some(n),
                at_ms: Some(at),
            }) if tag == BROWSER_TAG => match (clock.instant(at), log.video_reference(n)) {
                (Some(when), Some(reference)) => {
                    p.reported += 1;
                    log.log_video(n, when, reference);
                }
                (None, _) => p.errors.push(format!("capture time {at} is not a time")),
                (_, None) => p.errors.push("no reference pictures".into()),
            },
            Ok(FromPage::Captured { .. }) => p.unreadable += 1,
            Ok(FromPage::Error { message }) => p.errors.push(message),
            Ok(FromPage::Hello | FromPage::Answer { .. }) => {
                p.errors.push("a second hello or answer".into());
            }
            Ok(FromPage::Decoded { .. } | FromPage::Stats { .. } | FromPage::Track { .. }) => {
                p.errors
                    .push("a receiver's report from a sending page".into());
            }
            Err(e) => p.errors.push(format!("a message from the page: {e}")),
        }
    }
}

/// Analyses one track the browser sends.
async fn serve(
    track: Arc<dyn TrackRemote>,
    log: Arc<SenderLog>,
    stats: [Arc<Mutex<StreamStats>>; 2],
    recovery: Recovery,
    failures: Arc<Mutex<Vec<String>>>,
) {
    let fail = |m: String| {
        let mut f = failures.lock().expect("failures lock");
        if f.len() < limits::PAGE_ERRORS_MAX {
            f.push(m);
        }
    };
    let Some(first) = receiver::first_packet(track.as_ref()).await else {
        return;
    };
    let kind = match first.header.payload_type {
        VP8_PT => Kind::Video,
        OPUS_PT => Kind::Audio,
        other => {
            fail(format!("the browser sent payload type {other}"));
            return;
        }
    };
    let stats = stats[kind_index(kind)].clone();
    let (pli_tx, mut pli_rx) = tokio::sync::mpsc::channel(limits::PLI_QUEUE_MAX);
    let recovering = kind == Kind::Video && recovery.is_on();
    let media_ssrc = first.header.ssrc;
    let tx = match receiver::spawn(StreamCtx {
        kind,
        sender: log,
        // The browser's RTP timestamps start anywhere: its first packet is unit 0.
        ts_base: first.header.timestamp,
        stats: stats.clone(),
        pli: recovering.then_some(pli_tx),
    }) {
        Ok(tx) => tx,
        Err(e) => {
            fail(format!("analysis thread for the browser's {kind}: {e}"));
            return;
        }
    };
    receiver::pump(track.as_ref(), first, &tx, &stats, &mut pli_rx, media_ssrc).await;
}
