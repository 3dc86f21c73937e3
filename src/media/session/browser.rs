//! A participant of a media session whose media stack is headless Chromium (Debian's) instead
//! of callconf's webrtc-rs path: the media features run with one party in the browser (#17).
//!
//! Why: a web SDK's calls run on the browser's WebRTC stack. With one party in Chromium the
//! same scenarios — 1:1 audio and video, hold, mute, leave, with their track events — measure
//! an independent stack's capture, encoder, RTP and `replaceTrack` in both directions at once,
//! with the analysers every other stream uses.
//!
//! What is the browser's: `getUserMedia` of frame-marked files callconf wrote (`fake_capture`),
//! the peer connection, starting and stopping each sent track (`RTCRtpSender.replaceTrack`:
//! a muted or held track sends no RTP at all), decoding and showing the remote stream, and
//! `ontrack`. The page (`adapters/web/media.js`, role "both") reports what it captured (the
//! capture time of each marked frame its preview shows), each remote frame it showed (mark and
//! presentation time), each remote track, and `getStats` when asked; this module turns those
//! into the `StreamStats` and track events a webrtc-rs participant produces, so every step
//! reads them the same way.
//!
//! What stays in callconf: the participant's call control (its device is the reference
//! client, as every participant's is: hold and mute are requests to the server) and the path of
//! its SDP, which goes over the page's channel, not the server's signal relay; the webrtc-rs
//! end always offers. The browser's datagrams go through a loopback relay that applies the
//! link `browser → peer` (`relay`); the other direction is impaired where webrtc-rs sends, as
//! on every session link. 1:1 calls only: the page holds one peer connection.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures::stream::SplitStream;
use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use webrtc::peer_connection::RTCSessionDescription;

use super::{Shared, TrackChange};
use crate::media::browser_call::{Scratch, WallClock, scratch};
use crate::media::browser_page::{
    FromPage, InboundRtp, PageErrors, Ws, accept_page, console_tail, page_channel, with_console,
};
use crate::media::error::MediaError;
use crate::media::peer::Peer;
use crate::media::stream::{Kind, SenderLog, StreamStats};
use crate::media::synth::VideoFormat;
use crate::media::{browser_call, fake_capture, limits, relay};

/// The browser end of one session participant.
pub(super) struct BrowserParty {
    pub(super) user: String,
    /// Its frames' capture times (from the page) and pictures (the capture file's).
    pub(super) log: Arc<SenderLog>,
    to_page: mpsc::Sender<String>,
    answer: Mutex<Option<oneshot::Sender<RTCSessionDescription>>>,
    /// The webrtc-rs participant at the other end, and the relay between them.
    peer: Mutex<Option<(String, relay::Relay)>>,
    muted: Mutex<BTreeSet<Kind>>,
    errors: Mutex<PageErrors>,
    clock: WallClock,
    /// getStats's cumulative counters at the last poll, per kind (audio, video): packets
    /// received, and audio samples played out that were not concealment.
    polled: Mutex<[(u64, u64); 2]>,
    console: Arc<Mutex<Vec<String>>>,
    browser: Mutex<Option<crate::driver::peer::Peer>>,
    _dir: Scratch,
}

fn kind_of(name: &str) -> Option<Kind> {
    match name {
        "audio" => Some(Kind::Audio),
        "video" => Some(Kind::Video),
        _ => None,
    }
}

fn index(kind: Kind) -> usize {
    match kind {
        Kind::Audio => 0,
        Kind::Video => 1,
    }
}

impl BrowserParty {
    /// Writes `user`'s capture files, starts Chromium at the media page and waits for it to
    /// dial in. Returns the party and the page's incoming messages, for [`read_page`].
    pub(super) async fn launch(
        user: &str,
        tag: u8,
        tone: u32,
        fmt: VideoFormat,
        page: Option<&Path>,
    ) -> Result<(Self, SplitStream<Ws>), MediaError> {
        let dir = scratch()?;
        let d = dir.0.clone();
        let (files, references) = tokio::task::spawn_blocking(move || {
            let seconds = fake_capture::FAKE_CAPTURE_SECONDS_MAX;
            let files = fake_capture::write(&d, fmt, tag, tone, seconds)?;
            let luma = fake_capture::read_y4m_luma(&files.video)?;
            Ok::<_, MediaError>((files, luma.into_iter().map(Arc::new).collect()))
        })
        .await
        .map_err(|e| MediaError::Pipeline(format!("fake capture writer: {e}")))??;
        let log = Arc::new(SenderLog::with_references(
            user,
            tag,
            tone,
            fmt.fps,
            Arc::new(references),
        ));
        let (listener, token, url) = page_channel().await?;
        let (browser, stderr) =
            crate::driver::browser::launch_media(page, &url, Some((&files.video, &files.audio)))
                .map_err(|e| MediaError::Browser(e.to_string()))?;
        let console = console_tail(stderr);
        let ws = with_console(accept_page(&listener, &token).await, &console)?;
        let (mut sink, stream) = ws.split();
        let (to_page, mut outgoing) = mpsc::channel::<String>(limits::TO_PAGE_QUEUE_MAX);
        tokio::spawn(async move {
            while let Some(m) = outgoing.recv().await {
                if sink.send(Message::Text(m.into())).await.is_err() {
                    break;
                }
            }
        });
        let party = Self {
            user: user.to_owned(),
            log,
            to_page,
            answer: Mutex::default(),
            peer: Mutex::default(),
            muted: Mutex::default(),
            errors: Mutex::default(),
            clock: WallClock::now(),
            polled: Mutex::default(),
            console,
            browser: Mutex::new(Some(browser)),
            _dir: dir,
        };
        Ok((party, stream))
    }

    /// The webrtc-rs participant at the other end, once connected.
    pub(super) fn peer_user(&self) -> Option<String> {
        self.peer
            .lock()
            .expect("browser peer lock")
            .as_ref()
            .map(|(u, _)| u.clone())
    }

    fn send(&self, msg: serde_json::Value) -> Result<(), MediaError> {
        self.to_page
            .try_send(msg.to_string())
            .map_err(|e| MediaError::Browser(format!("the page's channel: {e}")))
    }

    /// `webrtc`'s peer (its tracks added) offers to the page; returns once the page's answer
    /// is applied. The relay applies the link `browser → webrtc`.
    pub(super) async fn connect(
        &self,
        shared: &Shared,
        webrtc: &str,
        peer: &mut Peer,
    ) -> Result<(), MediaError> {
        if let Some(other) = self.peer_user() {
            return Err(MediaError::InvalidArgument {
                field: "call",
                reason: format!(
                    "{} in Chromium is already connected to {other}: a browser participant \
                     has one peer connection (1:1 calls only)",
                    self.user
                ),
            });
        }
        let link = shared.link(&self.user, webrtc);
        let kinds: Vec<String> = shared.kinds().iter().map(Kind::to_string).collect();
        let role = serde_json::json!({ "mode": "both", "kinds": kinds });
        let (relay, offer) =
            browser_call::relayed_offer(peer, link, relay::Impaired::FromBrowser, role).await?;
        let (tx, rx) = oneshot::channel();
        *self.answer.lock().expect("answer lock") = Some(tx);
        let relay_at = relay.webrtc_facing;
        // The page reports its remote tracks while it takes the offer, before it answers.
        *self.peer.lock().expect("browser peer lock") = Some((webrtc.to_owned(), relay));
        let answered = self.answered(offer, rx).await;
        let answered = match answered {
            Ok(a) => browser_call::accept_relayed_answer(peer, relay_at, &a).await,
            Err(e) => Err(e),
        };
        if answered.is_err() {
            self.peer.lock().expect("browser peer lock").take();
        }
        answered.map(drop)
    }

    /// Sends `offer` and waits for the page's answer.
    async fn answered(
        &self,
        offer: serde_json::Value,
        rx: oneshot::Receiver<RTCSessionDescription>,
    ) -> Result<RTCSessionDescription, MediaError> {
        self.send(offer)?;
        let wait = Duration::from_millis(limits::NEGOTIATION_TIMEOUT_MS);
        let answer = tokio::time::timeout(wait, rx)
            .await
            .map_err(|_| {
                self.with_console(MediaError::Timeout {
                    what: format!("{}'s answer from Chromium", self.user),
                    after_ms: limits::NEGOTIATION_TIMEOUT_MS,
                })
            })?
            .map_err(|_| MediaError::Browser(format!("{}'s page went away", self.user)))?;
        Ok(answer)
    }

    fn with_console(&self, e: MediaError) -> MediaError {
        let console = self.console.lock().expect("console lock").join("\n");
        MediaError::Browser(format!(
            "{e}\n--- the page's console (last lines) ---\n{console}"
        ))
    }

    /// Marks `kind` muted or not, and tells the page what to send.
    pub(super) fn set_muted(&self, shared: &Shared, kind: Kind, muted: bool) {
        {
            let mut m = self.muted.lock().expect("muted lock");
            if muted {
                m.insert(kind);
            } else {
                m.remove(&kind);
            }
        }
        self.refresh_sending(shared);
    }

    /// Tells the page which kinds to send: none while either end holds, none muted.
    pub(super) fn refresh_sending(&self, shared: &Shared) {
        let Some(peer) = self.peer_user() else {
            return;
        };
        let holding = shared.holding.lock().expect("holding lock");
        let on_hold = holding.contains(&self.user) || holding.contains(&peer);
        drop(holding);
        let muted = self.muted.lock().expect("muted lock");
        let send = |k: Kind| !on_hold && !muted.contains(&k);
        let msg = serde_json::json!({
            "type": "send",
            "audio": send(Kind::Audio),
            "video": send(Kind::Video),
        });
        drop(muted);
        if let Err(e) = self.send(msg) {
            shared.fail(format!("{}: {e}", self.user));
        }
    }

    /// Closes the page's connection and the relay.
    pub(super) fn disconnect(&self) {
        if self
            .peer
            .lock()
            .expect("browser peer lock")
            .take()
            .is_some()
        {
            let _ = self.send(serde_json::json!({ "type": "close" }));
        }
    }

    /// Stops the browser (the page's connection goes with it).
    pub(super) fn kill(&self) {
        self.disconnect();
        if let Some(mut b) = self.browser.lock().expect("browser lock").take() {
            b.kill();
        }
    }

    /// What the page reported as errors.
    pub(super) fn page_errors(&self) -> Vec<String> {
        self.errors.lock().expect("errors lock").to_vec()
    }

    fn error(&self, shared: &Shared, message: String) {
        shared.fail(format!("{}'s page: {message}", self.user));
        self.errors.lock().expect("errors lock").push(message);
    }

    fn on_message(&self, shared: &Shared, msg: FromPage) {
        match msg {
            FromPage::Hello => {}
            FromPage::Answer { description } => {
                match self.answer.lock().expect("answer lock").take() {
                    Some(tx) => {
                        let _ = tx.send(*description);
                    }
                    None => self.error(shared, "an answer nobody asked for".into()),
                }
            }
            FromPage::Captured {
                tag: Some(tag),
                frame: Some(n),
                at_ms: Some(at),
            } if tag == self.log.tag => {
                if let (Some(when), Some(reference)) =
                    (self.clock.instant(at), self.log.video_reference(n))
                {
                    self.log.log_video(n, when, reference);
                }
            }
            // A preview frame whose mark the page could not read has no capture time.
            FromPage::Captured { .. } => {}
            FromPage::Decoded {
                tag, frame, at_ms, ..
            } => self.on_decoded(shared, tag, frame, at_ms),
            FromPage::Track { kind } => match (kind_of(&kind), self.peer_user()) {
                (Some(k), Some(owner)) => {
                    shared.track_event(&self.user, &owner, k, TrackChange::Added);
                }
                (Some(_), None) => self.error(shared, "a track before any connection".into()),
                (None, _) => self.error(shared, format!("a track of kind {kind:?}")),
            },
            FromPage::Stats { inbound } => self.on_stats(shared, &inbound),
            FromPage::Error { message } => self.error(shared, message),
        }
    }

    /// A remote frame the page showed: its mark, and when it was handed to the compositor.
    fn on_decoded(&self, shared: &Shared, tag: Option<u8>, frame: Option<u32>, at_ms: Option<f64>) {
        let Some(owner) = self.peer_user() else {
            return;
        };
        let Some(sender) = shared.sender_log(&owner) else {
            return;
        };
        let stats = shared.stream(&owner, &self.user, Kind::Video);
        let mut s = stats.lock().expect("stats lock");
        let at = at_ms.and_then(|a| self.clock.instant(a));
        match (tag, frame, at) {
            (Some(t), Some(n), Some(at)) if t == sender.tag => {
                s.frames_decoded += 1;
                s.decoded_unit(u64::from(n));
                if let Some((captured, _)) = sender.video_capture(n) {
                    let ms = at.saturating_duration_since(captured).as_secs_f64() * 1e3;
                    StreamStats::push_sample(&mut s.latency_ms, ms);
                }
                s.output(at);
            }
            (Some(_), Some(_), Some(_)) => s.frames_from_wrong_sender += 1,
            _ => s.frames_unmarked += 1,
        }
    }

    /// The page's inbound-rtp counters: packets received (both kinds) and, for audio, samples
    /// played out that were not concealment: remote audio was decoded.
    fn on_stats(&self, shared: &Shared, inbound: &[InboundRtp]) {
        let Some(owner) = self.peer_user() else {
            return;
        };
        let now = Instant::now();
        let mut polled = self.polled.lock().expect("polled lock");
        for entry in inbound {
            let Some(kind) = kind_of(&entry.kind) else {
                continue;
            };
            let packets = entry.packets_received.unwrap_or(0);
            let played = entry
                .total_samples_received
                .unwrap_or(0)
                .saturating_sub(entry.concealed_samples.unwrap_or(0));
            let last = &mut polled[index(kind)];
            let stats = shared.stream(&owner, &self.user, kind);
            let mut s = stats.lock().expect("stats lock");
            s.packets_received += packets.saturating_sub(last.0);
            if kind == Kind::Audio && played > last.1 {
                s.output(now);
            }
            *last = (packets.max(last.0), played.max(last.1));
        }
    }
}

/// Reads the page's messages until it closes (or the session is gone).
pub(super) async fn read_page(shared: Weak<Shared>, mut stream: SplitStream<Ws>) {
    while let Some(frame) = stream.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let Some(shared) = shared.upgrade() else {
            break;
        };
        let Some(b) = shared.browser.as_ref() else {
            break;
        };
        match serde_json::from_str::<FromPage>(&text) {
            Ok(m) => b.on_message(&shared, m),
            Err(e) => b.error(&shared, format!("a message from the page: {e}")),
        }
    }
}

/// Asks the page for its getStats every `BROWSER_STATS_POLL_MS` while it is connected, until
/// the session is gone.
pub(super) async fn poll_stats(shared: Weak<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(limits::BROWSER_STATS_POLL_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            break;
        };
        let Some(b) = shared.browser.as_ref() else {
            break;
        };
        if b.to_page.is_closed() {
            break;
        }
        if b.peer_user().is_some() {
            // A full queue skips one poll; the next one catches up (the counters are cumulative).
            let _ = b.to_page.try_send(r#"{"type":"stats"}"#.to_owned());
        }
    }
}
