//! A media session: users of the reference call server whose calls carry real media.
//!
//! Call control goes through the reference server exactly as in the rest of callconf (place,
//! accept, hold, mute, hang up are client requests). When a member joins, it offers a peer
//! connection to every member already in the call; the offer and the answer travel through
//! the server's `Signal` relay, and each participant's agent answers what it receives. Group
//! calls are a full mesh (n·(n−1)/2 connections, at most `PARTICIPANTS_MAX` members): each
//! participant encodes once and fans the encoded stream out to its connections, so the
//! measured path is the same as in a 1:1 call and no forwarding unit sits in between.
//!
//! Track delivery follows the seed SDKs: each participant is told of its own tracks
//! (`local`) when it joins, of each remote track when webrtc delivers it (the stream id is
//! the owner's user id), of mute and hold as track state, and of removal when the owner
//! leaves.
//!
//! One participant may have Chromium as its media stack instead (`MediaConfig::browser`,
//! `browser`): its call control is the same, its media is the browser's.
//!
//! Under a dialect profile (`MediaConfig::profile`) the server runs the dialect's limits and
//! policy, and the media path follows its media rule: with `one_inbound_audio` (Voximplant's
//! "a call receives one audio stream; a new one replaces it") each participant receives the
//! audio of one other only, the latest to connect to it replacing the one before, whose
//! audio track the participant sees removed and whose packets stop.

mod browser;
mod connect;

pub(super) use connect::{TrackSpec, Writers, add_writer};
use connect::{answer, offer, offer_to_browser};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use tokio::sync::oneshot;
use webrtc::runtime::Runtime;

use super::error::MediaError;
use super::impair::{Link, LinkProfile};
use super::limits;
use super::recovery::Recovery;
use super::report::{self, MediaReport};
use super::sender::Publisher;
use super::stream::{Gate, Kind, SendCounters, SenderLog, StreamStats};
use super::synth::{VideoFormat, tone_hz};
use crate::client::Device;
use crate::core::{
    CallId, CallType, Event, Media, ParticipantState, PlaceCall, SignalKind, UserConfig, UserId,
};
use crate::session::{Session, SessionConfig};

/// How a media session is set up.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Video format of video calls.
    pub video: VideoFormat,
    /// Seeds the impairment of every link (each link derives its own stream).
    pub seed: u64,
    /// How lost packets are repaired (default: NACK/RTX and PLI, as real stacks do).
    pub recovery: Recovery,
    /// The participant whose media runs in headless Chromium (1:1 calls only), if any.
    pub browser: Option<String>,
    /// The dialect the server and the media path follow (`None`: the canonical one).
    pub profile: Option<crate::profile::Profile>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            video: VideoFormat::default(),
            seed: 1,
            recovery: Recovery::default(),
            browser: None,
            profile: None,
        }
    }
}

/// What changed about a track, as a participant's SDK reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackChange {
    Added,
    Removed,
    Muted,
    Unmuted,
    Held,
    Resumed,
}

/// One track event seen by one participant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackEvent {
    /// Milliseconds since the session started.
    pub at_ms: u64,
    /// Whose track it is.
    pub owner: String,
    pub kind: Kind,
    /// The participant's own track.
    pub local: bool,
    pub change: TrackChange,
}

type Pair = (String, String);
/// (sender, receiver, kind) of one received stream.
type StreamKey = (String, String, Kind);

/// State shared between the session and the participants' agents.
struct Shared {
    config: MediaConfig,
    started: Instant,
    runtime: Arc<dyn Runtime>,
    video: Mutex<bool>,
    publishers: Mutex<BTreeMap<String, Arc<Publisher>>>,
    devices: BTreeMap<String, Device>,
    call: Mutex<Option<CallId>>,
    /// When the first invitee accepted (time to first media counts from here).
    accepted_at: Mutex<Option<Instant>>,
    /// Impairment of each direction, created on first use so steps may set it before a call.
    links: Mutex<BTreeMap<Pair, Link>>,
    gates: Mutex<BTreeMap<Pair, Arc<Gate>>>,
    holding: Mutex<BTreeSet<String>>,
    streams: Mutex<BTreeMap<StreamKey, Arc<Mutex<StreamStats>>>>,
    sent: Mutex<BTreeMap<(String, String, Kind), Arc<SendCounters>>>,
    /// Open connections by (local user, peer user).
    peers: Mutex<BTreeMap<Pair, Arc<dyn webrtc::peer_connection::PeerConnection>>>,
    pending_answers: Mutex<BTreeMap<Pair, oneshot::Sender<String>>>,
    tracks: Mutex<BTreeMap<String, Vec<TrackEvent>>>,
    failures: Mutex<Vec<String>>,
    /// The participant whose media is Chromium's, if any.
    browser: Option<browser::BrowserParty>,
    /// Whether the browser participant's local tracks were announced (it has no publisher).
    browser_announced: std::sync::atomic::AtomicBool,
    /// Under `one_inbound_audio`: who receives whose audio (`None`: everyone's).
    inbound_audio: Option<Mutex<InboundAudio>>,
}

/// The one inbound audio stream of each participant.
#[derive(Default)]
struct InboundAudio {
    /// Receiver → the sender whose audio it receives.
    source: BTreeMap<String, String>,
    /// Participants in the call, in the order they entered it.
    entered: Vec<String>,
}

impl Shared {
    /// The browser participant, if `user` is it.
    fn browser_user(&self, user: &str) -> Option<&browser::BrowserParty> {
        self.browser.as_ref().filter(|b| b.user == user)
    }

    /// Who sends `user`'s media: its publisher's log, or its browser page's.
    fn sender_log(&self, user: &str) -> Option<Arc<SenderLog>> {
        if let Some(b) = self.browser_user(user) {
            return Some(b.log.clone());
        }
        self.publishers
            .lock()
            .expect("publishers lock")
            .get(user)
            .map(|p| p.log.clone())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn link(&self, from: &str, to: &str) -> Link {
        let mut links = self.links.lock().expect("links lock");
        links
            .entry((from.to_owned(), to.to_owned()))
            .or_insert_with(|| {
                Link::new(
                    LinkProfile::default(),
                    link_seed(self.config.seed, from, to),
                )
            })
            .clone()
    }

    fn gate(&self, from: &str, to: &str) -> Arc<Gate> {
        let mut gates = self.gates.lock().expect("gates lock");
        gates
            .entry((from.to_owned(), to.to_owned()))
            .or_default()
            .clone()
    }

    fn stream(&self, from: &str, to: &str, kind: Kind) -> Arc<Mutex<StreamStats>> {
        let mut streams = self.streams.lock().expect("streams lock");
        streams
            .entry((from.to_owned(), to.to_owned(), kind))
            .or_default()
            .clone()
    }

    fn sent(&self, from: &str, to: &str, kind: Kind) -> Arc<SendCounters> {
        let mut sent = self.sent.lock().expect("sent lock");
        sent.entry((from.to_owned(), to.to_owned(), kind))
            .or_default()
            .clone()
    }

    /// Whether `from`'s audio reaches `to`: always, unless the dialect gives each participant
    /// one inbound audio stream and `to`'s is another's.
    fn audio_reaches(&self, from: &str, to: &str) -> bool {
        self.inbound_audio.as_ref().is_none_or(|m| {
            from == to
                || m.lock()
                    .expect("inbound audio lock")
                    .source
                    .get(to)
                    .is_none_or(|s| s == from)
        })
    }

    /// `user` enters a call whose joined members are `others`. Under one inbound audio stream,
    /// `user`'s audio replaces what each of them received (they see the previous track
    /// removed, and its packets stop), and `user` receives the audio of the member who
    /// entered last before it.
    fn route_inbound_audio(&self, user: &str, others: &[String]) {
        let Some(inbound) = &self.inbound_audio else {
            return;
        };
        let replaced: Vec<(String, Option<String>)> = {
            let mut m = inbound.lock().expect("inbound audio lock");
            // Members already in without entering through here (the caller, joined on the
            // first accept) count as earlier than those who did, in member order.
            let mut order: Vec<String> = others
                .iter()
                .filter(|o| !m.entered.contains(o))
                .cloned()
                .collect();
            order.extend(m.entered.iter().filter(|u| *u != user).cloned());
            match order.iter().rev().find(|u| others.contains(u)) {
                Some(newest) => m.source.insert(user.to_owned(), newest.clone()),
                None => m.source.remove(user),
            };
            order.push(user.to_owned());
            m.entered = order;
            others
                .iter()
                .map(|o| (o.clone(), m.source.insert(o.clone(), user.to_owned())))
                .collect()
        };
        for (other, previous) in replaced {
            if let Some(p) = previous.filter(|p| p != user) {
                self.record_track_event(&other, &p, Kind::Audio, TrackChange::Removed);
                self.refresh_gate(&p, &other);
            }
            self.refresh_gate(user, &other);
            self.refresh_gate(&other, user);
        }
    }

    /// `user` left: it receives nothing any more and is no longer among those who entered.
    fn forget_inbound_audio(&self, user: &str) {
        if let Some(inbound) = &self.inbound_audio {
            let mut m = inbound.lock().expect("inbound audio lock");
            m.entered.retain(|u| u != user);
            m.source.remove(user);
        }
    }

    /// Records what `viewer`'s SDK reports of `owner`'s track. A replaced inbound audio
    /// track is gone: nothing more is reported of it.
    fn track_event(&self, viewer: &str, owner: &str, kind: Kind, change: TrackChange) {
        if kind == Kind::Audio && !self.audio_reaches(owner, viewer) {
            return;
        }
        self.record_track_event(viewer, owner, kind, change);
    }

    /// Records a track event as it is, replaced stream or not.
    fn record_track_event(&self, viewer: &str, owner: &str, kind: Kind, change: TrackChange) {
        let ev = TrackEvent {
            at_ms: self.now_ms(),
            owner: owner.to_owned(),
            kind,
            local: viewer == owner,
            change,
        };
        let mut tracks = self.tracks.lock().expect("tracks lock");
        let list = tracks.entry(viewer.to_owned()).or_default();
        if list.len() < limits::SAMPLES_PER_STREAM_MAX {
            list.push(ev);
        }
    }

    fn fail(&self, what: String) {
        let mut f = self.failures.lock().expect("failures lock");
        if f.len() < 64 {
            f.push(what);
        }
    }

    fn kinds(&self) -> Vec<Kind> {
        if *self.video.lock().expect("video lock") {
            vec![Kind::Audio, Kind::Video]
        } else {
            vec![Kind::Audio]
        }
    }

    /// Starts timing resume → first output on the stream `from → to` of `kind`.
    fn mark_resumed(&self, from: &str, to: &str, kind: Kind, now: Instant) {
        let s = self.stream(from, to, kind);
        let mut s = s.lock().expect("stats lock");
        s.resumed_at = Some(now);
        s.first_output_after_resume = None;
    }

    /// Re-evaluates whether `from → to` carries media: closed while either end holds, and
    /// for audio while `to` receives another's (one inbound audio stream).
    fn refresh_gate(&self, from: &str, to: &str) {
        let open = {
            let holding = self.holding.lock().expect("holding lock");
            !holding.contains(from) && !holding.contains(to)
        };
        let gate = self.gate(from, to);
        gate.set_open(Kind::Audio, open && self.audio_reaches(from, to));
        gate.set_open(Kind::Video, open);
    }
}

/// Derives one link's seed from the session seed and its ends (FNV-1a, stable across runs).
fn link_seed(seed: u64, from: &str, to: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in from.bytes().chain([0u8]).chain(to.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The RTP timestamp base of a participant's stream of `kind` (any agreed value works;
/// derived so that it is not zero and differs per stream, as RFC 3550 asks).
pub fn ts_base(tag: u8, kind: Kind) -> u32 {
    let k = match kind {
        Kind::Audio => 1u32,
        Kind::Video => 2,
    };
    0x1234_5678u32
        .wrapping_mul(u32::from(tag) + 1)
        .wrapping_add(k.wrapping_mul(0x9e37_79b9))
}

/// A set of users on the reference server whose calls carry real media.
pub struct MediaSession {
    calls: Session,
    shared: Arc<Shared>,
}

impl MediaSession {
    /// Starts the reference server with `users` (one device each) and their media agents.
    /// Must run inside a multi-threaded tokio runtime with the wall clock (not paused).
    pub async fn start(config: MediaConfig, users: &[&str]) -> Result<Self, MediaError> {
        if users.len() > limits::PARTICIPANTS_MAX {
            return Err(MediaError::InvalidArgument {
                field: "users",
                reason: format!("at most {} participants", limits::PARTICIPANTS_MAX),
            });
        }
        let (limits, one_inbound_audio) = match &config.profile {
            Some(p) => (p.core_limits(), p.rules.one_inbound_audio),
            None => (crate::core::Limits::default(), false),
        };
        let mut calls = Session::start(SessionConfig {
            limits,
            ..SessionConfig::default()
        })
        .await;
        let mut devices = BTreeMap::new();
        for u in users {
            calls
                .add_user(u, &["phone"], UserConfig::default())
                .await
                .map_err(|e| MediaError::Negotiation(e.to_string()))?;
            let d = calls
                .device(u)
                .map_err(|e| MediaError::Negotiation(e.to_string()))?
                .clone();
            devices.insert((*u).to_owned(), d);
        }
        let runtime: Arc<dyn Runtime> = Arc::new(webrtc::runtime::TokioRuntime);
        let (browser, page) = match &config.browser {
            None => (None, None),
            Some(user) => {
                // The tag is the user's place among the participants, as `ensure_publisher`'s.
                let index = devices.keys().position(|u| u == user).ok_or_else(|| {
                    MediaError::InvalidArgument {
                        field: "browser",
                        reason: format!("{user:?} is not a participant"),
                    }
                })?;
                let tag = u8::try_from(index + 1).expect("participant index fits a tag");
                let (b, page) =
                    browser::BrowserParty::launch(user, tag, tone_hz(tag - 1), config.video, None)
                        .await?;
                (Some(b), Some(page))
            }
        };
        let shared = Arc::new(Shared {
            config,
            started: Instant::now(),
            runtime,
            video: Mutex::new(false),
            publishers: Mutex::default(),
            devices,
            call: Mutex::default(),
            accepted_at: Mutex::default(),
            links: Mutex::default(),
            gates: Mutex::default(),
            holding: Mutex::default(),
            streams: Mutex::default(),
            sent: Mutex::default(),
            peers: Mutex::default(),
            pending_answers: Mutex::default(),
            tracks: Mutex::default(),
            failures: Mutex::default(),
            browser,
            browser_announced: Default::default(),
            inbound_audio: one_inbound_audio.then(Mutex::default),
        });
        if let Some(page) = page {
            tokio::spawn(browser::read_page(Arc::downgrade(&shared), page));
            tokio::spawn(browser::poll_stats(Arc::downgrade(&shared)));
        }
        for (user, device) in &shared.devices {
            let events = device.events();
            tokio::spawn(agent(shared.clone(), user.clone(), events));
        }
        Ok(Self { calls, shared })
    }

    fn device(&self, user: &str) -> Result<&Device, MediaError> {
        self.shared
            .devices
            .get(user)
            .ok_or_else(|| MediaError::InvalidArgument {
                field: "user",
                reason: format!(
                    "no participant {user:?} (have {:?})",
                    self.shared.devices.keys().collect::<Vec<_>>()
                ),
            })
    }

    fn call_id(&self) -> Result<CallId, MediaError> {
        self.shared
            .call
            .lock()
            .expect("call lock")
            .ok_or_else(|| MediaError::InvalidArgument {
                field: "call",
                reason: "no call has been placed".into(),
            })
    }

    /// Milliseconds since the session started.
    pub fn now_ms(&self) -> u64 {
        self.shared.now_ms()
    }

    /// Sets the impairment of the direction `from → to` (before or during a call).
    pub fn impair(&self, from: &str, to: &str, profile: LinkProfile) -> Result<(), MediaError> {
        profile.validate()?;
        self.device(from)?;
        self.device(to)?;
        self.shared.link(from, to).set_profile(profile);
        Ok(())
    }

    /// `from` calls `to` (one user: 1:1; several: a group call).
    pub async fn place(&self, from: &str, to: &[&str], video: bool) -> Result<CallId, MediaError> {
        let device = self.device(from)?;
        let placed = device
            .place_call(PlaceCall {
                invitees: to.iter().map(|u| UserId::new(u)).collect(),
                call_type: if video {
                    CallType::Video
                } else {
                    CallType::Audio
                },
                group: None,
                alert: crate::core::Alert::Ring,
                custom_data: None,
                headers: Vec::new(),
            })
            .await
            .map_err(client_error)?;
        *self.shared.video.lock().expect("video lock") = video;
        *self.shared.call.lock().expect("call lock") = Some(placed.call);
        Ok(placed.call)
    }

    /// `user` accepts; once in, it connects media to every member already in.
    /// Returns when every new connection is up.
    pub async fn accept(&self, user: &str) -> Result<(), MediaError> {
        let call = self.call_id()?;
        self.device(user)?
            .accept(call)
            .await
            .map_err(client_error)?;
        self.shared
            .accepted_at
            .lock()
            .expect("accepted lock")
            .get_or_insert_with(Instant::now);
        self.enter(user, call).await
    }

    /// A notified or previously-left member joins the running call.
    pub async fn join(&self, user: &str) -> Result<(), MediaError> {
        let call = self.call_id()?;
        self.device(user)?.join(call).await.map_err(client_error)?;
        self.enter(user, call).await
    }

    async fn enter(&self, user: &str, call: CallId) -> Result<(), MediaError> {
        let snapshot = self
            .device(user)?
            .get_call(call)
            .await
            .map_err(client_error)?;
        let others: Vec<String> = snapshot
            .members
            .iter()
            .filter(|p| p.state == ParticipantState::Joined && p.user.as_str() != user)
            .map(|p| p.user.as_str().to_owned())
            .collect();
        for other in std::iter::once(user.to_owned()).chain(others.iter().cloned()) {
            ensure_media(&self.shared, &other)?;
        }
        self.shared.route_inbound_audio(user, &others);
        let mut tasks = Vec::new();
        for other in others {
            let shared = self.shared.clone();
            let me = user.to_owned();
            // The browser's page answers; the webrtc-rs end offers, whoever joined.
            let webrtc = if self.shared.browser_user(&me).is_some() {
                Some(other.clone())
            } else if self.shared.browser_user(&other).is_some() {
                Some(me.clone())
            } else {
                None
            };
            tasks.push(tokio::spawn(async move {
                match webrtc {
                    Some(w) => offer_to_browser(shared, w).await,
                    None => offer(shared, me, other, call).await,
                }
            }));
        }
        for t in tasks {
            t.await
                .map_err(|e| MediaError::Transport(format!("negotiation task: {e}")))??;
        }
        Ok(())
    }

    /// `user` puts the call on hold (media to and from it pauses) or resumes it.
    pub async fn hold(&self, user: &str, on_hold: bool) -> Result<(), MediaError> {
        let call = self.call_id()?;
        let d = self.device(user)?;
        if on_hold {
            d.hold(call).await.map_err(client_error)?;
            self.shared
                .holding
                .lock()
                .expect("holding lock")
                .insert(user.to_owned());
        } else {
            d.unhold(call).await.map_err(client_error)?;
            self.shared
                .holding
                .lock()
                .expect("holding lock")
                .remove(user);
        }
        let now = Instant::now();
        for other in self.shared.devices.keys().filter(|o| *o != user) {
            self.shared.refresh_gate(user, other);
            self.shared.refresh_gate(other, user);
            if !on_hold {
                for kind in [Kind::Audio, Kind::Video] {
                    self.shared.mark_resumed(user, other, kind, now);
                    self.shared.mark_resumed(other, user, kind, now);
                }
            }
        }
        if let Some(b) = &self.shared.browser {
            b.refresh_sending(&self.shared);
        }
        Ok(())
    }

    /// `user` mutes or unmutes its `kind` track: it stops sending it.
    pub async fn mute(&self, user: &str, kind: Kind, muted: bool) -> Result<(), MediaError> {
        let call = self.call_id()?;
        let media = match kind {
            Kind::Audio => Media::Audio,
            Kind::Video => Media::Video,
        };
        self.device(user)?
            .mute(call, media, muted)
            .await
            .map_err(client_error)?;
        if let Some(b) = self.shared.browser_user(user) {
            b.set_muted(&self.shared, kind, muted);
        } else if let Some(p) = self
            .shared
            .publishers
            .lock()
            .expect("publishers lock")
            .get(user)
        {
            p.set_muted(kind, muted);
        }
        self.shared.track_event(
            user,
            user,
            kind,
            if muted {
                TrackChange::Muted
            } else {
                TrackChange::Unmuted
            },
        );
        if !muted {
            let now = Instant::now();
            for other in self.shared.devices.keys().filter(|o| *o != user) {
                self.shared.mark_resumed(user, other, kind, now);
            }
        }
        Ok(())
    }

    /// `user` hangs up: its connections close and the others see its tracks removed.
    pub async fn hang_up(&self, user: &str) -> Result<(), MediaError> {
        let call = self.call_id()?;
        self.device(user)?
            .hangup(call)
            .await
            .map_err(client_error)?;
        leave(&self.shared, user).await;
        Ok(())
    }

    /// Lets media flow for `d` of wall time.
    pub async fn run_for(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    /// Waits until `to` has decoded output of `kind` from `from`, or `within` passes.
    /// Returns the wait if it came in time.
    pub async fn wait_for_media(
        &self,
        from: &str,
        to: &str,
        kind: Kind,
        within: Duration,
    ) -> Option<Duration> {
        let start = Instant::now();
        let stats = self.shared.stream(from, to, kind);
        while start.elapsed() < within {
            let first = stats.lock().expect("stats lock").first_output_at;
            if let Some(at) = first {
                return Some(at.saturating_duration_since(start));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        None
    }

    /// The track events `user` has seen so far.
    pub fn track_events(&self, user: &str) -> Vec<TrackEvent> {
        self.shared
            .tracks
            .lock()
            .expect("tracks lock")
            .get(user)
            .cloned()
            .unwrap_or_default()
    }

    /// Starts a new measurement window: latency, quality and loss samples so far are
    /// dropped (counters of what was sent restart too), connections and tracks stay.
    pub fn reset_measurements(&self) {
        for stats in self.shared.streams.lock().expect("streams lock").values() {
            let mut s = stats.lock().expect("stats lock");
            let first = s.first_output_at;
            *s = StreamStats {
                first_output_at: first,
                ..StreamStats::default()
            };
        }
        for p in self
            .shared
            .publishers
            .lock()
            .expect("publishers lock")
            .values()
        {
            p.log
                .dropped_at_source
                .store(0, std::sync::atomic::Ordering::Relaxed);
        }
        for c in self.shared.sent.lock().expect("sent lock").values() {
            c.frames_sent.store(0, std::sync::atomic::Ordering::Relaxed);
            c.packets_sent
                .store(0, std::sync::atomic::Ordering::Relaxed);
            c.frames_skipped
                .store(0, std::sync::atomic::Ordering::Relaxed);
            c.plis_received
                .store(0, std::sync::atomic::Ordering::Relaxed);
        }
        for l in self.shared.links.lock().expect("links lock").values() {
            l.counters().rtp.reset();
        }
    }

    /// A copy of the raw measurements of one stream.
    pub fn stream_stats(&self, from: &str, to: &str, kind: Kind) -> StreamStats {
        self.shared
            .stream(from, to, kind)
            .lock()
            .expect("stats lock")
            .clone()
    }

    /// Everything measured so far, per direction.
    pub fn report(&self) -> MediaReport {
        let streams = self.shared.streams.lock().expect("streams lock").clone();
        let sent = self.shared.sent.lock().expect("sent lock").clone();
        let links = self.shared.links.lock().expect("links lock").clone();
        let publishers = self
            .shared
            .publishers
            .lock()
            .expect("publishers lock")
            .clone();
        let accepted_at = *self.shared.accepted_at.lock().expect("accepted lock");
        let mut failures = self.shared.failures.lock().expect("failures lock").clone();
        for (u, p) in &publishers {
            if let Some(f) = p.failure() {
                failures.push(format!("{u}'s source stopped: {f}"));
            }
        }
        let inputs = streams
            .into_iter()
            .map(|((from, to, kind), stats)| {
                let mut stats = stats.lock().expect("stats lock").clone();
                let sender_log = self.shared.sender_log(&from);
                if let Some(log) = &sender_log {
                    // A browser reports its captures after the fact: late ones are in by now.
                    stats.latency_from_late_captures(|n| log.video_capture(n).map(|(at, _)| at));
                }
                let counters = sent.get(&(from.clone(), to.clone(), kind)).cloned();
                let link = links.get(&(from.clone(), to.clone()));
                let profile = link.map(Link::profile).unwrap_or_default();
                let link_datagrams = link.map_or((0, 0), |l| {
                    let c = l.counters();
                    let dropped = c.lost.load(std::sync::atomic::Ordering::Relaxed)
                        + c.queue_full.load(std::sync::atomic::Ordering::Relaxed);
                    (
                        c.offered.load(std::sync::atomic::Ordering::Relaxed),
                        dropped,
                    )
                });
                let wire = link.zip(counters.as_ref()).map(|(l, c)| {
                    let ssrc = c.ssrc.load(std::sync::atomic::Ordering::Relaxed);
                    let rtx = c.rtx_ssrc.load(std::sync::atomic::Ordering::Relaxed);
                    let t = l.counters().rtp.get(ssrc);
                    let resent = if rtx == 0 {
                        0
                    } else {
                        l.counters().rtp.get(rtx).offered
                    };
                    (t, resent)
                });
                let expected_hz = sender_log.map(|l| l.tone_hz);
                let own_hz = self.shared.sender_log(&to).map(|l| l.tone_hz);
                let source_frames_dropped = publishers.get(&from).map_or(0, |p| {
                    p.log
                        .dropped_at_source
                        .load(std::sync::atomic::Ordering::Relaxed)
                });
                report::StreamInput {
                    from,
                    to,
                    kind,
                    stats,
                    counters,
                    profile,
                    link_datagrams,
                    wire,
                    expected_hz,
                    own_hz,
                    source_frames_dropped,
                    accepted_at,
                }
            })
            .collect();
        report::build(inputs, failures)
    }

    /// Stops sending, lets what is in flight arrive, and closes every connection.
    pub async fn close(&self) {
        for u in self.shared.devices.keys() {
            leave(&self.shared, u).await;
        }
        if let Some(b) = &self.shared.browser {
            b.kill();
        }
    }

    /// What the browser participant's page reported as errors (none without one).
    pub fn page_errors(&self) -> Vec<String> {
        self.shared
            .browser
            .as_ref()
            .map(browser::BrowserParty::page_errors)
            .unwrap_or_default()
    }

    /// The call-control session underneath (for its trace and events).
    pub fn calls(&self) -> &Session {
        &self.calls
    }
}

fn client_error(e: crate::client::ClientError) -> MediaError {
    match e {
        crate::client::ClientError::Refused(c) => MediaError::Call(c),
        other => MediaError::Negotiation(other.to_string()),
    }
}

/// Gets `user`'s media ready: a webrtc-rs participant's sources start (once); a browser
/// participant's page captures already, and its local tracks are announced (once).
fn ensure_media(shared: &Arc<Shared>, user: &str) -> Result<(), MediaError> {
    if shared.browser_user(user).is_none() {
        return ensure_publisher(shared, user).map(drop);
    }
    if !shared
        .browser_announced
        .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        for kind in shared.kinds() {
            shared.track_event(user, user, kind, TrackChange::Added);
        }
    }
    Ok(())
}

/// Starts `user`'s sources once, and reports its local tracks.
fn ensure_publisher(shared: &Arc<Shared>, user: &str) -> Result<Arc<Publisher>, MediaError> {
    let mut pubs = shared.publishers.lock().expect("publishers lock");
    if let Some(p) = pubs.get(user) {
        return Ok(p.clone());
    }
    let index = shared.devices.keys().position(|u| u == user).unwrap_or(0);
    // At most PARTICIPANTS_MAX (8) users, checked in `start`.
    let tag = u8::try_from(index + 1).expect("participant index fits a tag");
    let video = *shared.video.lock().expect("video lock");
    let p = Arc::new(Publisher::start(
        user,
        tag,
        tone_hz(tag - 1),
        video.then_some(shared.config.video),
    )?);
    pubs.insert(user.to_owned(), p.clone());
    drop(pubs);
    for kind in shared.kinds() {
        shared.track_event(user, user, kind, TrackChange::Added);
    }
    Ok(p)
}

/// `user` leaves: close its connections; the others see its tracks removed, and it sees
/// theirs removed.
async fn leave(shared: &Arc<Shared>, user: &str) {
    let closing: Vec<(Pair, Arc<dyn webrtc::peer_connection::PeerConnection>)> = {
        let mut peers = shared.peers.lock().expect("peers lock");
        let keys: Vec<Pair> = peers
            .keys()
            .filter(|(a, b)| a == user || b == user)
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| peers.remove(&k).map(|pc| (k, pc)))
            .collect()
    };
    if let Some(b) = &shared.browser
        && (b.user == user || b.peer_user().as_deref() == Some(user))
    {
        b.disconnect();
    }
    let kinds = shared.kinds();
    let mut others = BTreeSet::new();
    for ((a, b), pc) in closing {
        let _ = pc.close().await;
        let other = if a == user { b } else { a };
        others.insert(other);
    }
    // Each side of a closed connection sees the other's tracks go.
    for other in others {
        for &kind in &kinds {
            shared.track_event(&other, user, kind, TrackChange::Removed);
            shared.track_event(user, &other, kind, TrackChange::Removed);
        }
    }
    let publisher = shared
        .publishers
        .lock()
        .expect("publishers lock")
        .remove(user);
    let announced = shared.browser_user(user).is_some()
        && shared
            .browser_announced
            .swap(false, std::sync::atomic::Ordering::Relaxed);
    if publisher.is_some() || announced {
        for &kind in &kinds {
            shared.track_event(user, user, kind, TrackChange::Removed);
        }
    }
    shared.forget_inbound_audio(user);
    // Dropping the last handle stops the sources (threads joined off the async runtime).
    if let Some(p) = publisher {
        let _ = tokio::task::spawn_blocking(move || drop(p)).await;
    }
}

/// One participant's SDK side: answers offers, collects answers, turns call events into
/// track state.
async fn agent(
    shared: Arc<Shared>,
    me: String,
    mut events: impl futures::Stream<Item = crate::core::Delivery> + Unpin,
) {
    while let Some(d) = events.next().await {
        match d.event {
            Event::Signal {
                call,
                from,
                kind: SignalKind::Offer,
                body,
                ..
            } => {
                let shared = shared.clone();
                let me = me.clone();
                let from = from.as_str().to_owned();
                tokio::spawn(async move {
                    if let Err(e) =
                        answer(shared.clone(), me.clone(), from.clone(), call, body).await
                    {
                        shared.fail(format!("{me} answering {from}: {e}"));
                    }
                });
            }
            Event::Signal {
                from,
                kind: SignalKind::Answer,
                body,
                ..
            } => {
                let key = (me.clone(), from.as_str().to_owned());
                if let Some(tx) = shared
                    .pending_answers
                    .lock()
                    .expect("answers lock")
                    .remove(&key)
                {
                    let _ = tx.send(body);
                }
            }
            Event::Hold { user, on_hold, .. } if user.as_str() != me => {
                for kind in shared.kinds() {
                    let change = if on_hold {
                        TrackChange::Held
                    } else {
                        TrackChange::Resumed
                    };
                    shared.track_event(&me, user.as_str(), kind, change);
                }
            }
            Event::Track {
                user, media, muted, ..
            } if user.as_str() != me => {
                let kind = match media {
                    Media::Audio => Kind::Audio,
                    Media::Video => Kind::Video,
                };
                let change = if muted {
                    TrackChange::Muted
                } else {
                    TrackChange::Unmuted
                };
                shared.track_event(&me, user.as_str(), kind, change);
            }
            _ => {}
        }
    }
}
