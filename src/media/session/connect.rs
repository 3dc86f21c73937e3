//! How two participants' media connect: each end's peer connection with its tracks added,
//! the offer and answer (through the server's signal relay between webrtc-rs participants,
//! over the page's channel with a browser participant), the writers that start once the
//! connection is up, and the analysis of every track it delivers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use webrtc::media_stream::track_remote::TrackRemote;

use super::{Shared, TrackChange, client_error, ensure_publisher, link_seed, ts_base};
use crate::core::{CallId, SignalKind};
use crate::media::error::MediaError;
use crate::media::limits;
use crate::media::peer::{self, Peer};
use crate::media::receiver::{self, StreamCtx};
use crate::media::recovery::{self, Recovery};
use crate::media::sender::{self, Publisher, WriterCtx};
use crate::media::stream::{Gate, Kind, SendCounters};

/// `me` offers a connection to `other` through the server and waits for it to come up.
pub(super) async fn offer(
    shared: Arc<Shared>,
    me: String,
    other: String,
    call: CallId,
) -> Result<(), MediaError> {
    let (mut peer, writers) = peer_with_tracks(&shared, &me, &other).await?;
    let desc = peer.offer().await?;
    let (tx, rx) = oneshot::channel();
    shared
        .pending_answers
        .lock()
        .expect("answers lock")
        .insert((me.clone(), other.clone()), tx);
    let device = shared.devices.get(&me).expect("offerer is a participant");
    device
        .signal(call, Some(&other), SignalKind::Offer, &peer::encode(&desc)?)
        .await
        .map_err(client_error)?;
    let wait = Duration::from_millis(limits::NEGOTIATION_TIMEOUT_MS);
    let answer = tokio::time::timeout(wait, rx)
        .await
        .map_err(|_| MediaError::Timeout {
            what: format!("{other}'s answer"),
            after_ms: limits::NEGOTIATION_TIMEOUT_MS,
        })?
        .map_err(|_| MediaError::Negotiation(format!("{other} went away before answering")))?;
    peer.accept_answer(peer::decode(&answer)?).await?;
    run_peer(shared, peer, writers, me, other).await
}

/// `webrtc`'s connection to the browser participant: webrtc-rs offers over the page's
/// channel, the page answers, and the page is told what to send (a mute or hold may predate
/// the connection).
pub(super) async fn offer_to_browser(
    shared: Arc<Shared>,
    webrtc: String,
) -> Result<(), MediaError> {
    let b = shared
        .browser
        .as_ref()
        .expect("called with a browser participant");
    let (mut peer, writers) = peer_with_tracks(&shared, &webrtc, &b.user).await?;
    b.connect(&shared, &webrtc, &mut peer).await?;
    let user = b.user.clone();
    run_peer(shared.clone(), peer, writers, webrtc, user).await?;
    b.refresh_sending(&shared);
    Ok(())
}

/// `me` answers `other`'s offer and sends the answer back through the server.
pub(super) async fn answer(
    shared: Arc<Shared>,
    me: String,
    other: String,
    call: CallId,
    body: String,
) -> Result<(), MediaError> {
    let (mut peer, writers) = peer_with_tracks(&shared, &me, &other).await?;
    let desc = peer.answer(peer::decode(&body)?).await?;
    let device = shared.devices.get(&me).expect("answerer is a participant");
    device
        .signal(
            call,
            Some(&other),
            SignalKind::Answer,
            &peer::encode(&desc)?,
        )
        .await
        .map_err(client_error)?;
    run_peer(shared, peer, writers, me, other).await
}

/// `me`'s end of a connection to `other`: its outgoing datagrams through the link `me → other`,
/// its tracks added.
async fn peer_with_tracks(
    shared: &Arc<Shared>,
    me: &str,
    other: &str,
) -> Result<(Peer, Writers), MediaError> {
    let peer = Peer::build(
        shared.runtime.clone(),
        shared.link(me, other),
        shared.config.recovery,
    )
    .await?;
    let writers = add_tracks(shared, &peer, me, other).await?;
    Ok((peer, writers))
}

/// One local track's writer: what feeds the track, and its subscription to the publisher.
pub(crate) type Writer = (
    WriterCtx,
    tokio::sync::broadcast::Receiver<Arc<sender::Outgoing>>,
);
/// A peer's local tracks, ready to write once connected.
pub(crate) type Writers = Vec<Writer>;

/// One local track before it is added: whose, which kind, its SSRC and first sequence number.
pub(crate) struct TrackSpec<'a> {
    pub owner: &'a str,
    pub kind: Kind,
    pub ssrc: u32,
    pub seq_start: u16,
    pub recovery: Recovery,
}

/// Adds `spec`'s track to `peer` and returns the writer that feeds it from `publisher`; the
/// track's SSRC, and its RTX SSRC when video is recovered, are recorded in `counters`. Shared by
/// every webrtc-rs sender (a session's peers, the browser interop's).
pub(crate) async fn add_writer(
    peer: &Peer,
    publisher: &Arc<Publisher>,
    spec: TrackSpec<'_>,
    gate: Arc<Gate>,
    counters: Arc<SendCounters>,
) -> Result<Writer, MediaError> {
    use std::sync::atomic::Ordering::Relaxed;
    let TrackSpec {
        owner,
        kind,
        ssrc,
        seq_start,
        recovery,
    } = spec;
    let track = sender::local_track(owner, kind, ssrc, recovery);
    counters.ssrc.store(ssrc, Relaxed);
    if kind == Kind::Video && recovery.is_on() {
        counters.rtx_ssrc.store(recovery::rtx_ssrc(ssrc), Relaxed);
    }
    peer.pc
        .add_track(track.clone() as Arc<dyn webrtc::media_stream::track_local::TrackLocal>)
        .await?;
    let ctx = WriterCtx {
        kind,
        track,
        ssrc,
        seq_start,
        ts_base: ts_base(publisher.log.tag, kind),
        gate,
        publisher: publisher.clone(),
        counters,
    };
    Ok((ctx, publisher.subscribe()))
}

/// Local tracks of `me` towards `other`, each with its own SSRC.
async fn add_tracks(
    shared: &Arc<Shared>,
    peer: &Peer,
    me: &str,
    other: &str,
) -> Result<Writers, MediaError> {
    let publisher = ensure_publisher(shared, me)?;
    let mut writers = Vec::new();
    for kind in shared.kinds() {
        if kind == Kind::Video && !publisher.has_video {
            continue;
        }
        // Each track its own SSRC, derived from the session seed, the link and the kind.
        let seed = link_seed(shared.config.seed, me, &format!("{other}/{kind}"));
        let spec = TrackSpec {
            owner: me,
            kind,
            ssrc: (seed as u32).max(1),
            seq_start: (seed >> 32) as u16,
            recovery: shared.config.recovery,
        };
        let counters = shared.sent(me, other, kind);
        let gate = shared.gate(me, other);
        writers.push(add_writer(peer, &publisher, spec, gate, counters).await?);
    }
    Ok(writers)
}

/// Waits for the connection, registers it, and serves the tracks it delivers.
async fn run_peer(
    shared: Arc<Shared>,
    mut peer: Peer,
    writers: Writers,
    me: String,
    other: String,
) -> Result<(), MediaError> {
    shared
        .peers
        .lock()
        .expect("peers lock")
        .insert((me.clone(), other.clone()), peer.pc.clone());
    let mut events = std::mem::replace(&mut peer.events, tokio::sync::mpsc::channel(1).1);
    {
        let shared = shared.clone();
        let me = me.clone();
        let other = other.clone();
        tokio::spawn(async move {
            while let Some(track) = events.recv().await {
                let shared = shared.clone();
                let (me, other) = (me.clone(), other.clone());
                tokio::spawn(serve_track(shared, me, other, track));
            }
        });
    }
    peer.connected().await?;
    // Writers start once the connection is up (a track is bound only then).
    for (ctx, rx) in writers {
        if ctx.kind == Kind::Video && shared.config.recovery.is_on() {
            tokio::spawn(sender::answer_keyframe_requests(
                ctx.track.clone(),
                ctx.publisher.clone(),
                ctx.counters.clone(),
            ));
        }
        tokio::spawn(sender::write_loop(ctx, rx));
    }
    Ok(())
}

/// Reads one remote track of `owner` (the connection's other end) into its analysis thread.
///
/// The kind comes from the payload type of the first RTP packet: both ends registered fixed
/// payload types, and at `on_track` time webrtc-rs may not have classified the track yet.
async fn serve_track(shared: Arc<Shared>, me: String, owner: String, track: Arc<dyn TrackRemote>) {
    let Some(first) = receiver::first_packet(track.as_ref()).await else {
        return;
    };
    let kind = match first.header.payload_type {
        sender::VP8_PT => Kind::Video,
        sender::OPUS_PT => Kind::Audio,
        other => {
            shared.fail(format!("{me} got payload type {other} from {owner}"));
            return;
        }
    };
    let Some(sender_log) = shared.sender_log(&owner) else {
        shared.fail(format!(
            "{me} got a {kind} track from unknown user {owner:?}"
        ));
        return;
    };
    shared.track_event(&me, &owner, kind, TrackChange::Added);
    let stats = shared.stream(&owner, &me, kind);
    let (pli_tx, mut pli_rx) = tokio::sync::mpsc::channel(limits::PLI_QUEUE_MAX);
    let recovering = kind == Kind::Video && shared.config.recovery.is_on();
    let media_ssrc = first.header.ssrc;
    let tx = match receiver::spawn(StreamCtx {
        kind,
        sender: sender_log.clone(),
        // A browser's RTP timestamps start anywhere: its first packet is unit 0.
        ts_base: if shared.browser_user(&owner).is_some() {
            first.header.timestamp
        } else {
            ts_base(sender_log.tag, kind)
        },
        stats: stats.clone(),
        pli: recovering.then_some(pli_tx),
    }) {
        Ok(tx) => tx,
        Err(e) => {
            shared.fail(format!("analysis thread for {owner}→{me} {kind}: {e}"));
            return;
        }
    };
    receiver::pump(track.as_ref(), first, &tx, &stats, &mut pli_rx, media_ssrc).await;
}
