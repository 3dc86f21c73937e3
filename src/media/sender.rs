//! The sending side of one participant: its live sources, and one writer per peer
//! connection and kind that packetises the shared encoded stream for that connection.
//!
//! A participant encodes once, whatever the number of peers (the mesh fans out encoded
//! frames, as an SFU would). Source threads block on GStreamer; writers are tokio tasks.
//! Between them a bounded broadcast channel: a writer that falls more than
//! `SEND_QUEUE_FRAMES_MAX` frames behind loses frames and counts them as skipped, which the
//! report shows as "the machine fell behind", never as network loss.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::rtp::codec::opus::OpusPayloader;
use rtc::rtp::codec::vp8::Vp8Payloader;
use rtc::rtp::packetizer::{Packetizer, new_packetizer};
use rtc::rtp::sequence::new_fixed_sequencer;
use tokio::sync::broadcast;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

use super::error::MediaError;
use super::limits;
use super::recovery::{self, Recovery};
use super::stream::{
    AUDIO_CLOCK_HZ, AUDIO_TICKS_PER_PACKET, Gate, Kind, SendCounters, SenderLog, VIDEO_CLOCK_HZ,
};
use super::synth::{AudioSource, KeyframeHandle, VideoFormat, VideoSource};

/// Payload types both ends register (see `peer::media_engine`).
pub const OPUS_PT: u8 = 111;
pub const VP8_PT: u8 = 96;
/// RTP payload budget per packet (keeps SRTP datagrams under a 1280-byte path MTU).
const RTP_MTU_BYTES: usize = 1_200;

/// One encoded unit on its way to the writers.
#[derive(Debug)]
pub struct Outgoing {
    pub kind: Kind,
    /// Audio packet number or video frame number, from 0.
    pub key: u64,
    pub data: Bytes,
    pub capture: Instant,
}

/// A participant's live sources and the fan-out to its writers.
pub struct Publisher {
    pub log: Arc<SenderLog>,
    tx: broadcast::Sender<Arc<Outgoing>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Forces the next video frame to be a keyframe (absent in audio-only calls).
    keyframe: Option<KeyframeHandle>,
    /// The participant's own mute state per kind (hold is per link, in `Gate`).
    pub audio_muted: AtomicBool,
    pub video_muted: AtomicBool,
    pub has_video: bool,
    failure: Arc<Mutex<Option<String>>>,
}

impl Publisher {
    /// Starts the sources: audio always, video when `video` is given.
    pub fn start(
        user: &str,
        tag: u8,
        tone_hz: u32,
        video: Option<VideoFormat>,
    ) -> Result<Self, MediaError> {
        let fps = video.as_ref().map_or(30, |v| v.fps);
        let log = Arc::new(SenderLog::new(user, tag, tone_hz, fps));
        let (tx, _) = broadcast::channel(limits::SEND_QUEUE_FRAMES_MAX);
        let stop = Arc::new(AtomicBool::new(false));
        let failure = Arc::new(Mutex::new(None));
        let mut threads = Vec::new();

        let audio = AudioSource::start(tone_hz)?;
        threads.push(spawn_source(
            format!("audio-src-{user}"),
            tx.clone(),
            stop.clone(),
            failure.clone(),
            audio_next(audio, log.clone()),
        )?);
        let has_video = video.is_some();
        let mut keyframe = None;
        if let Some(fmt) = video {
            let source = VideoSource::start(fmt, tag)?;
            keyframe = Some(source.keyframe_handle());
            threads.push(spawn_source(
                format!("video-src-{user}"),
                tx.clone(),
                stop.clone(),
                failure.clone(),
                video_next(source, log.clone()),
            )?);
        }
        Ok(Self {
            log,
            tx,
            stop,
            threads,
            keyframe,
            audio_muted: AtomicBool::new(false),
            video_muted: AtomicBool::new(false),
            has_video,
            failure,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Outgoing>> {
        self.tx.subscribe()
    }

    pub fn request_keyframe(&self) {
        if let Some(k) = &self.keyframe {
            k.request();
        }
    }

    pub fn is_muted(&self, kind: Kind) -> bool {
        match kind {
            Kind::Audio => self.audio_muted.load(Ordering::Relaxed),
            Kind::Video => self.video_muted.load(Ordering::Relaxed),
        }
    }

    pub fn set_muted(&self, kind: Kind, muted: bool) {
        let flag = match kind {
            Kind::Audio => &self.audio_muted,
            Kind::Video => &self.video_muted,
        };
        // The writers ask for a keyframe when they start sending again.
        flag.store(muted, Ordering::Relaxed);
    }

    /// A source that stopped on an error.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().expect("failure lock").clone()
    }

    /// Stops the sources and waits for their threads.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pull_timeout() -> Duration {
    Duration::from_millis(limits::PULL_TIMEOUT_MS)
}

/// Runs one source on a thread of its own until `stop`: each unit `next` yields goes to every
/// connection's writer; an error stops the source and is kept as the publisher's failure.
fn spawn_source(
    name: String,
    tx: broadcast::Sender<Arc<Outgoing>>,
    stop: Arc<AtomicBool>,
    failure: Arc<Mutex<Option<String>>>,
    mut next: impl FnMut(Duration) -> Result<Option<Outgoing>, MediaError> + Send + 'static,
) -> Result<JoinHandle<()>, MediaError> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match next(pull_timeout()) {
                    // No receiver yet is fine: nobody is connected.
                    Ok(Some(out)) => drop(tx.send(Arc::new(out))),
                    Ok(None) => {}
                    Err(e) => {
                        *failure.lock().expect("failure lock") = Some(e.to_string());
                        return;
                    }
                }
            }
        })
        .map_err(|e| MediaError::Pipeline(format!("{name} thread: {e}")))
}

/// Audio units are numbered by the publisher (the Opus packet count), which the log keys on.
fn audio_next(
    mut source: AudioSource,
    log: Arc<SenderLog>,
) -> impl FnMut(Duration) -> Result<Option<Outgoing>, MediaError> + Send + 'static {
    let mut seq = 0u64;
    move |timeout| {
        let Some(a) = source.next(timeout)? else {
            return Ok(None);
        };
        log.log_audio(seq, a.capture);
        let out = Outgoing {
            kind: Kind::Audio,
            key: seq,
            data: a.data,
            capture: a.capture,
        };
        seq += 1;
        Ok(Some(out))
    }
}

/// Video units carry the frame number stamped into the picture, which the log keys on.
fn video_next(
    mut source: VideoSource,
    log: Arc<SenderLog>,
) -> impl FnMut(Duration) -> Result<Option<Outgoing>, MediaError> + Send + 'static {
    move |timeout| {
        let Some(v) = source.next(timeout)? else {
            return Ok(None);
        };
        log.log_video(v.frame_no, v.capture, v.reference.clone());
        Ok(Some(Outgoing {
            kind: Kind::Video,
            key: u64::from(v.frame_no),
            data: v.data,
            capture: v.capture,
        }))
    }
}

/// Creates the local track a participant sends `kind` on over one peer connection. The
/// stream id is the user id: that is how the remote side learns whose track it got.
///
/// With recovery, a video track pairs an RTX SSRC with its own (announced as
/// `a=ssrc-group:FID`), on which webrtc-rs's NACK responder resends lost packets.
pub fn local_track(
    user: &str,
    kind: Kind,
    ssrc: u32,
    recovery: Recovery,
) -> Arc<TrackLocalStaticRTP> {
    use rtc::media_stream::MediaStreamTrack;
    use rtc::rtp_transceiver::rtp_sender::{
        RTCRtpCodingParameters, RTCRtpEncodingParameters, RTCRtpRtxParameters, RtpCodecKind,
    };
    let rtx = (kind == Kind::Video && recovery.is_on()).then(|| RTCRtpRtxParameters {
        ssrc: recovery::rtx_ssrc(ssrc),
    });
    let codec_kind = match kind {
        Kind::Audio => RtpCodecKind::Audio,
        Kind::Video => RtpCodecKind::Video,
    };
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        user.to_owned(),
        format!("{user}-{kind}"),
        format!("{user} {kind}"),
        codec_kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                rtx,
                ..Default::default()
            },
            codec: super::peer::codec(kind).rtp_codec,
            ..Default::default()
        }],
    )))
}

/// Where one writer sends and what it may send.
pub struct WriterCtx {
    pub kind: Kind,
    pub track: Arc<TrackLocalStaticRTP>,
    pub ssrc: u32,
    pub seq_start: u16,
    pub ts_base: u32,
    pub gate: Arc<Gate>,
    /// Whose stream this is: its mute state, and its encoder for keyframe requests.
    pub publisher: Arc<Publisher>,
    pub counters: Arc<SendCounters>,
}

/// Packetises the participant's stream of `ctx.kind` onto one peer connection until the
/// stream or the connection ends.
pub async fn write_loop(ctx: WriterCtx, mut rx: broadcast::Receiver<Arc<Outgoing>>) {
    let (pt, clock, payloader): (u8, u32, Box<dyn rtc::rtp::packetizer::Payloader>) = match ctx.kind
    {
        Kind::Audio => (OPUS_PT, AUDIO_CLOCK_HZ, Box::new(OpusPayloader)),
        Kind::Video => (VP8_PT, VIDEO_CLOCK_HZ, Box::<Vp8Payloader>::default()),
    };
    let mut packetizer = new_packetizer(
        Instant::now(),
        RTP_MTU_BYTES,
        pt,
        ctx.ssrc,
        payloader,
        Box::new(new_fixed_sequencer(ctx.seq_start)),
        clock,
    );
    // A connection that starts mid-stream, or resumes after hold or mute, needs a keyframe
    // to decode anything.
    let mut need_keyframe = ctx.kind == Kind::Video;
    loop {
        let out = match rx.recv().await {
            Ok(o) => o,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                ctx.counters
                    .frames_skipped
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if out.kind != ctx.kind {
            continue;
        }
        if !ctx.gate.is_open(ctx.kind) || ctx.publisher.is_muted(ctx.kind) {
            need_keyframe = ctx.kind == Kind::Video;
            continue;
        }
        if need_keyframe {
            ctx.publisher.request_keyframe();
            need_keyframe = false;
        }
        let (ts, samples) = match ctx.kind {
            Kind::Audio => (
                (out.key as u32).wrapping_mul(AUDIO_TICKS_PER_PACKET),
                AUDIO_TICKS_PER_PACKET,
            ),
            Kind::Video => {
                let per_frame = VIDEO_CLOCK_HZ / ctx.publisher.log.fps.max(1);
                ((out.key as u32).wrapping_mul(per_frame), per_frame)
            }
        };
        let packets = match packetizer.packetize(out.capture, &out.data, samples) {
            Ok(p) => p,
            Err(_) => continue,
        };
        ctx.counters
            .frames_sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for mut p in packets {
            // Timestamps follow the capture counter, not the writer's own count, so every
            // connection of this participant stamps a frame the same and gaps (hold, mute)
            // show as gaps.
            p.header.timestamp = ctx.ts_base.wrapping_add(ts);
            p.header.payload_type = pt;
            p.header.ssrc = ctx.ssrc;
            if ctx.track.write_rtp(p).await.is_err() {
                // The connection is gone.
                return;
            }
            ctx.counters
                .packets_sent
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Answers the keyframe requests (PLI, FIR) the remote sends about one video track by forcing
/// a key frame from the participant's encoder, until the track is unbound. The encoder is
/// shared by all of the participant's connections (as an SFU's uplink), so every peer gets
/// the key frame; that is what a real mesh client does too.
pub async fn answer_keyframe_requests(
    track: Arc<TrackLocalStaticRTP>,
    publisher: Arc<Publisher>,
    counters: Arc<SendCounters>,
) {
    use webrtc::media_stream::track_local::TrackLocalEvent;
    while let Some(event) = track.poll().await {
        let TrackLocalEvent::OnRtcpPacket(packets) = event else {
            continue;
        };
        if recovery::asks_for_keyframe(&packets) {
            counters
                .plis_received
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            publisher.request_keyframe();
        }
    }
}
