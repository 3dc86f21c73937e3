//! One webrtc-rs peer connection between two participants, over loopback, with real ICE,
//! DTLS and SRTP, its UDP impaired by the link profile of its sending direction.
//!
//! Both ends register the same two codecs with fixed payload types (Opus 111, VP8 96). What
//! repairs loss is the session's [`Recovery`]: by default NACK with RTX (payload type 97) and
//! PLI for video, as browsers negotiate it (`recovery`); with `Recovery::None` there is no
//! RTCP feedback at all, so the packet loss a receiver measures is the loss the link applied
//! and the latency it measures is one trip. Opus is never retransmitted (as in browsers).

use std::sync::Arc;
use std::time::Duration;

use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};
use webrtc::runtime::Runtime;

use super::error::MediaError;
use super::ice;
use super::impair::{ImpairedRuntime, Link};
use super::limits;
use super::recovery::{self, Recovery};
use super::sender::{OPUS_PT, VP8_PT};
use super::stream::Kind;

/// The codec both ends use for `kind`.
pub fn codec(kind: Kind) -> RTCRtpCodecParameters {
    match kind {
        Kind::Audio => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=0".to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: OPUS_PT,
        },
        Kind::Video => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_VP8.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: vec![],
            },
            payload_type: VP8_PT,
        },
    }
}

fn media_engine() -> Result<MediaEngine, MediaError> {
    let mut m = MediaEngine::default();
    m.register_codec(codec(Kind::Audio), RtpCodecKind::Audio)?;
    m.register_codec(codec(Kind::Video), RtpCodecKind::Video)?;
    Ok(m)
}

struct Handler {
    tracks: mpsc::Sender<Arc<dyn TrackRemote>>,
    state: watch::Sender<RTCPeerConnectionState>,
    gathered: watch::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        // Bounded: a connection carries two tracks; the owner drains this promptly.
        let _ = self.tracks.send(track).await;
    }
}

/// A peer connection plus the signals its handler raises.
pub struct Peer {
    pub pc: Arc<dyn PeerConnection>,
    /// Remote tracks as webrtc delivers them.
    pub events: mpsc::Receiver<Arc<dyn TrackRemote>>,
    state: watch::Receiver<RTCPeerConnectionState>,
    gathered: watch::Receiver<bool>,
    pub link: Link,
}

impl Peer {
    /// Builds a connection bound to loopback whose outgoing datagrams go through `link`.
    pub async fn build(
        runtime: Arc<dyn Runtime>,
        link: Link,
        recovery: Recovery,
    ) -> Result<Self, MediaError> {
        let (events_tx, events) = mpsc::channel(8);
        let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let (gathered_tx, gathered) = watch::channel(false);
        let runtime: Arc<dyn Runtime> = Arc::new(ImpairedRuntime::new(runtime, link.clone()));
        let mut engine = media_engine()?;
        let registry = recovery::registry(recovery, &mut engine)?;
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler {
                tracks: events_tx,
                state: state_tx,
                gathered: gathered_tx,
            }))
            .with_runtime(runtime)
            .with_setting_engine(ice::setting_engine())
            .with_udp_addrs(vec![ice::UDP_BIND.to_owned()])
            .build()
            .await?;
        Ok(Self {
            pc: Arc::new(pc),
            events,
            state,
            gathered,
            link,
        })
    }

    /// Adds a receive-only transceiver for `kind` (the far end sends, this end only listens).
    pub async fn receive_only(&self, kind: Kind) -> Result<(), MediaError> {
        let codec_kind = match kind {
            Kind::Audio => RtpCodecKind::Audio,
            Kind::Video => RtpCodecKind::Video,
        };
        let init = rtc::rtp_transceiver::RTCRtpTransceiverInit {
            direction: rtc::rtp_transceiver::RTCRtpTransceiverDirection::Recvonly,
            streams: vec![],
            send_encodings: vec![],
        };
        self.pc
            .add_transceiver_from_kind(codec_kind, Some(init))
            .await?;
        Ok(())
    }

    /// Creates the offer and returns it once ICE gathering is complete (no trickle: loopback
    /// host candidates gather at once, and one message each way keeps signaling simple).
    pub async fn offer(&mut self) -> Result<RTCSessionDescription, MediaError> {
        let offer = self.pc.create_offer(None).await?;
        self.pc.set_local_description(offer).await?;
        self.gathered_description().await
    }

    /// Applies a remote offer and returns the complete answer.
    pub async fn answer(
        &mut self,
        offer: RTCSessionDescription,
    ) -> Result<RTCSessionDescription, MediaError> {
        self.pc.set_remote_description(offer).await?;
        let answer = self.pc.create_answer(None).await?;
        self.pc.set_local_description(answer).await?;
        self.gathered_description().await
    }

    pub async fn accept_answer(&self, answer: RTCSessionDescription) -> Result<(), MediaError> {
        self.pc.set_remote_description(answer).await?;
        Ok(())
    }

    async fn gathered_description(&mut self) -> Result<RTCSessionDescription, MediaError> {
        let wait = Duration::from_millis(limits::NEGOTIATION_TIMEOUT_MS);
        tokio::time::timeout(wait, self.gathered.wait_for(|g| *g))
            .await
            .map_err(|_| MediaError::Timeout {
                what: "ICE gathering".into(),
                after_ms: limits::NEGOTIATION_TIMEOUT_MS,
            })?
            .map_err(|_| MediaError::Transport("connection closed while gathering".into()))?;
        self.pc
            .local_description()
            .await
            .ok_or_else(|| MediaError::Negotiation("no local description".into()))
    }

    /// Waits until ICE and DTLS are up.
    pub async fn connected(&mut self) -> Result<(), MediaError> {
        let wait = Duration::from_millis(limits::CONNECT_TIMEOUT_MS);
        let state = tokio::time::timeout(
            wait,
            self.state.wait_for(|s| {
                matches!(
                    s,
                    RTCPeerConnectionState::Connected
                        | RTCPeerConnectionState::Failed
                        | RTCPeerConnectionState::Closed
                )
            }),
        )
        .await
        .map_err(|_| MediaError::Timeout {
            what: "ICE/DTLS connection".into(),
            after_ms: limits::CONNECT_TIMEOUT_MS,
        })?
        .map_err(|_| MediaError::Transport("connection dropped".into()))?;
        match *state {
            RTCPeerConnectionState::Connected => Ok(()),
            other => Err(MediaError::Transport(format!("connection {other}"))),
        }
    }
}

/// Serialises a description for the reference server's signaling relay.
pub fn encode(desc: &RTCSessionDescription) -> Result<String, MediaError> {
    serde_json::to_string(desc).map_err(|e| MediaError::Negotiation(e.to_string()))
}

/// Parses a description received through signaling.
pub fn decode(body: &str) -> Result<RTCSessionDescription, MediaError> {
    serde_json::from_str(body).map_err(|e| MediaError::Negotiation(format!("bad SDP message: {e}")))
}
