//! Live synthetic media sources: a marked moving picture encoded to VP8, a sine tone encoded
//! to Opus, both paced by GStreamer's clock like a camera and a microphone.
//!
//! Why synthetic and marked: a conformance run must tell, for every frame a participant
//! receives, which participant and which frame it was and how damaged it arrived, without a
//! human looking. So every raw frame carries a `simplevideomark` word (tag, frame number; see
//! [`crate::media::analyze`]) and a copy of its luma plane travels with the encoded frame as
//! the reference to compare the decoded picture against; every participant's audio is a sine
//! of its own frequency ([`tone_hz`]).
//!
//! # How a source is built
//!
//! Each source is two GStreamer graphs joined by the caller's thread:
//!
//! - a live raw graph, paced by the clock, ending in an `appsink`:
//!   `videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,... ! simplevideomark ! appsink`
//!   or `audiotestsrc is-live=true wave=sine ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink`;
//! - an encoder stage (`vp8enc ! appsink` or `opusenc ! appsink`) driven synchronously on
//!   the caller's thread (see [`crate::media::codec`]), so encoding adds no buffering: one raw
//!   frame in, its encoded frame out, before `next` returns.
//!
//! A buffer probe at the raw source's output stamps each raw buffer with the [`Instant`] it left
//! the source (a `GstReferenceTimestampMeta`), and, for video, numbers it and sets the mark
//! word for that number on `simplevideomark` before the element draws it (the probe runs on the
//! streaming thread just before the element, so the property and the frame cannot mismatch).
//! The `capture` of an encoded unit is that stamp: the time spent waiting in the raw `appsink`
//! and in the encoder counts as send latency, as it would for a camera.
//!
//! # Bounds and dropping
//!
//! The raw `appsink`s hold at most [`RAW_QUEUE_VIDEO_FRAMES`] / [`RAW_QUEUE_AUDIO_BLOCKS`] and
//! drop the oldest when full, as a camera or a sound card overwrites what nobody read: a slow
//! consumer sees gaps in `frame_no` (frames the source made and nobody sent) rather than
//! stale frames or a burst when it catches up. Every wait is bounded by the caller's timeout,
//! itself capped at [`NEXT_MAX_TIMEOUT_MS`]. Dropping a source sets both graphs to `Null`,
//! which stops and joins every GStreamer thread it started; sources start no threads of their
//! own.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gst::prelude::*;
use gstreamer as gst;
use gstreamer_app as gst_app;
use gstreamer_audio as gst_audio;
use gstreamer_video as gst_video;

use crate::media::analyze::{
    MARK_BOXES, MARK_CALIBRATION_BOXES, MARK_DATA_BITS, MARK_FRAME_NO_MASK, MARK_MIN_BOX_WIDTH_PX,
    mark_geometry, mark_word,
};
use crate::media::codec::{Stage, add_chain, bus_error, caps_filter, init, make, y_plane};
use crate::media::error::MediaError;

/// Narrowest picture: the mark row needs [`MARK_BOXES`] boxes of at least
/// [`MARK_MIN_BOX_WIDTH_PX`].
pub const VIDEO_MIN_WIDTH_PX: u32 = MARK_BOXES * MARK_MIN_BOX_WIDTH_PX;
/// Widest picture accepted.
pub const VIDEO_MAX_WIDTH_PX: u32 = 1920;
/// Lowest picture accepted (leaves room for the ball above the mark row).
pub const VIDEO_MIN_HEIGHT_PX: u32 = 120;
/// Highest picture accepted.
pub const VIDEO_MAX_HEIGHT_PX: u32 = 1080;
/// Highest frame rate accepted.
pub const VIDEO_MAX_FPS: u32 = 60;
/// Lowest VP8 target bitrate accepted.
pub const VIDEO_MIN_BITRATE_KBPS: u32 = 50;
/// Highest VP8 target bitrate accepted.
pub const VIDEO_MAX_BITRATE_KBPS: u32 = 20_000;
/// Raw frames the live video graph holds for a consumer that is late (100 ms at 30 fps).
pub const RAW_QUEUE_VIDEO_FRAMES: u32 = 3;
/// Raw 20 ms blocks the live audio graph holds for a consumer that is late.
pub const RAW_QUEUE_AUDIO_BLOCKS: u32 = 5;
/// Longest a single `next` call waits, whatever timeout it is given.
pub const NEXT_MAX_TIMEOUT_MS: u64 = 10_000;
/// `vp8enc cpu-used`: speed over quality, as real-time encoders run (libvpx range -16..16).
pub const VP8_CPU_USED: i32 = 4;
/// `vp8enc threads`: one per encoder; a picture this small gains nothing from more, and a run
/// has one encoder per participant on a 2-core machine.
pub const VP8_THREADS: i32 = 1;
/// VP8 rate-control buffer, as WebRTC configures libvpx for real time.
pub const VP8_BUFFER_SIZE_MS: i32 = 1000;
/// VP8 rate-control initial buffer level.
pub const VP8_BUFFER_INITIAL_SIZE_MS: i32 = 500;
/// VP8 rate-control optimal buffer level.
pub const VP8_BUFFER_OPTIMAL_SIZE_MS: i32 = 600;
/// Sample rate of the synthesised audio.
pub const AUDIO_RATE_HZ: u32 = 48_000;
/// Length of one Opus frame.
pub const AUDIO_FRAME_MS: u64 = 20;
/// Samples in one Opus frame at [`AUDIO_RATE_HZ`].
pub const AUDIO_FRAME_SAMPLES: u32 = AUDIO_RATE_HZ / 1000 * AUDIO_FRAME_MS as u32;
/// Lowest tone accepted by [`AudioSource::start`].
pub const AUDIO_MIN_TONE_HZ: u32 = 20;
/// Highest tone accepted (Opus full band ends at 20 kHz).
pub const AUDIO_MAX_TONE_HZ: u32 = 20_000;
/// Amplitude of the sine, as a fraction of full scale (headroom for the codec).
pub const TONE_VOLUME: f64 = 0.5;
/// Distinct tones handed out by [`tone_hz`]; participant indexes wrap around after this.
pub const TONE_COUNT: u8 = 8;
/// The tone of participant 0.
pub const TONE_BASE_HZ: u32 = 440;
/// Spacing between consecutive participants' tones (11 FFT bins of a 100 ms window).
pub const TONE_STEP_HZ: u32 = 110;

/// Name of the reference caps of the capture-time stamp on raw buffers.
const CAPTURE_REFERENCE: &str = "timestamp/x-callconf-capture";

/// The size, rate and bitrate of a video source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoFormat {
    /// Picture width, even, [`VIDEO_MIN_WIDTH_PX`]..=[`VIDEO_MAX_WIDTH_PX`].
    pub width: u32,
    /// Picture height, even, [`VIDEO_MIN_HEIGHT_PX`]..=[`VIDEO_MAX_HEIGHT_PX`].
    pub height: u32,
    /// Frames per second, 1..=[`VIDEO_MAX_FPS`].
    pub fps: u32,
    /// VP8 target bitrate, [`VIDEO_MIN_BITRATE_KBPS`]..=[`VIDEO_MAX_BITRATE_KBPS`].
    pub bitrate_kbps: u32,
}

impl Default for VideoFormat {
    /// 320x240 at 30 fps and 600 kbps.
    fn default() -> Self {
        VideoFormat {
            width: 320,
            height: 240,
            fps: 30,
            bitrate_kbps: 600,
        }
    }
}

impl VideoFormat {
    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<(), MediaError> {
        let bad = |field, reason: String| Err(MediaError::InvalidArgument { field, reason });
        if !(VIDEO_MIN_WIDTH_PX..=VIDEO_MAX_WIDTH_PX).contains(&self.width)
            || !self.width.is_multiple_of(2)
        {
            return bad(
                "width",
                format!(
                    "{} px, expected an even width in {VIDEO_MIN_WIDTH_PX}..={VIDEO_MAX_WIDTH_PX}",
                    self.width
                ),
            );
        }
        if !(VIDEO_MIN_HEIGHT_PX..=VIDEO_MAX_HEIGHT_PX).contains(&self.height)
            || !self.height.is_multiple_of(2)
        {
            return bad(
                "height",
                format!(
                    "{} px, expected an even height in {VIDEO_MIN_HEIGHT_PX}..={VIDEO_MAX_HEIGHT_PX}",
                    self.height
                ),
            );
        }
        if !(1..=VIDEO_MAX_FPS).contains(&self.fps) {
            return bad("fps", format!("{}, expected 1..={VIDEO_MAX_FPS}", self.fps));
        }
        if !(VIDEO_MIN_BITRATE_KBPS..=VIDEO_MAX_BITRATE_KBPS).contains(&self.bitrate_kbps) {
            return bad(
                "bitrate_kbps",
                format!(
                    "{}, expected {VIDEO_MIN_BITRATE_KBPS}..={VIDEO_MAX_BITRATE_KBPS}",
                    self.bitrate_kbps
                ),
            );
        }
        Ok(())
    }
}

/// One raw luma plane, tightly packed (stride == width).
#[derive(Clone, Debug, PartialEq)]
pub struct YPlane {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` luma samples, row by row.
    pub data: Vec<u8>,
}

/// One VP8-encoded frame of a [`VideoSource`].
#[derive(Clone, Debug)]
pub struct EncodedVideo {
    /// The source's frame number modulo 2^24, as carried by the mark. Numbers count frames
    /// the source made: a gap means the consumer was too slow and frames were dropped.
    pub frame_no: u32,
    /// The complete VP8 frame.
    pub data: Bytes,
    /// When the raw frame left the live source.
    pub capture: Instant,
    /// Whether this is a VP8 key frame (read from the bitstream).
    pub keyframe: bool,
    /// The luma plane of the raw (marked) frame that was encoded, to compare against.
    pub reference: Arc<YPlane>,
}

/// One Opus packet of an [`AudioSource`].
#[derive(Clone, Debug)]
pub struct EncodedAudio {
    /// Packet number, from 0, counting packets handed out.
    pub seq: u64,
    /// The Opus packet.
    pub data: Bytes,
    /// When the raw sample block left the live source.
    pub capture: Instant,
    /// The packet's duration, [`AUDIO_FRAME_MS`].
    pub duration: Duration,
}

/// The sine frequency of participant `index`: `TONE_BASE_HZ + TONE_STEP_HZ * (index %
/// TONE_COUNT)`, i.e. 440, 550, ..., 1210 Hz. Indexes from [`TONE_COUNT`] on wrap around and
/// share a tone with a lower index.
pub fn tone_hz(index: u8) -> u32 {
    TONE_BASE_HZ + TONE_STEP_HZ * u32::from(index % TONE_COUNT)
}

/// A live, paced GStreamer graph ending in a dropping `appsink`.
struct LiveSource {
    what: &'static str,
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
}

impl LiveSource {
    fn start(
        what: &'static str,
        elements: Vec<gst::Element>,
        queue: u32,
    ) -> Result<Self, MediaError> {
        let pipeline = gst::Pipeline::with_name(what);
        let sink = gst_app::AppSink::builder()
            .sync(false)
            .max_buffers(queue)
            .drop(true)
            .enable_last_sample(false)
            .build();
        let mut chain = elements;
        chain.push(sink.clone().upcast());
        add_chain(&pipeline, &chain)?;
        let live = LiveSource {
            what,
            pipeline,
            sink,
        };
        if live.pipeline.set_state(gst::State::Playing).is_err() {
            return Err(MediaError::Pipeline(format!(
                "{what}: starting failed{}",
                bus_error(&live.pipeline)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )));
        }
        Ok(live)
    }

    /// The next raw sample, `None` on timeout; an error if the graph failed or ended.
    fn pull(&self, timeout: Duration) -> Result<Option<gst::Sample>, MediaError> {
        if let Some(sample) = self.sink.try_pull_sample(clock_time(timeout)) {
            return Ok(Some(sample));
        }
        if let Some(e) = bus_error(&self.pipeline) {
            return Err(MediaError::Pipeline(format!("{}: {e}", self.what)));
        }
        if self.sink.is_eos() {
            return Err(MediaError::Pipeline(format!("{}: source ended", self.what)));
        }
        Ok(None)
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        // Errors are moot while tearing down; Null joins every streaming thread.
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// The instant capture stamps count from (the first time any source is started).
fn capture_anchor() -> Instant {
    static ANCHOR: OnceLock<Instant> = OnceLock::new();
    *ANCHOR.get_or_init(Instant::now)
}

fn capture_caps() -> gst::Caps {
    gst::Caps::new_empty_simple(CAPTURE_REFERENCE)
}

/// Stamps `buffer` with the current instant as its capture time.
fn stamp_capture(buffer: &mut gst::BufferRef, reference: &gst::Caps) {
    gst::ReferenceTimestampMeta::add(
        buffer,
        reference,
        clock_time(capture_anchor().elapsed()),
        gst::ClockTime::NONE,
    );
}

/// The capture instant [`stamp_capture`] put on `buffer`.
fn capture_of(what: &str, buffer: &gst::BufferRef) -> Result<Instant, MediaError> {
    buffer
        .iter_meta::<gst::ReferenceTimestampMeta>()
        .find(|m| {
            m.reference()
                .structure(0)
                .is_some_and(|s| s.name() == CAPTURE_REFERENCE)
        })
        .map(|m| capture_anchor() + Duration::from_nanos(m.timestamp().nseconds()))
        .ok_or_else(|| MediaError::Pipeline(format!("{what}: raw buffer without capture stamp")))
}

/// `d` as a clock time, saturating at the largest one (`u64::MAX` ns means "none").
fn clock_time(d: Duration) -> gst::ClockTime {
    let max = gst::ClockTime::MAX.nseconds();
    gst::ClockTime::from_nseconds(u64::try_from(d.as_nanos()).unwrap_or(max).min(max))
}

/// The caller's timeout as a deadline, capped at [`NEXT_MAX_TIMEOUT_MS`].
/// A live source whose raw buffers go through an encoder into a queue of encoded units.
trait Encoding {
    type Unit;
    fn raw(&self) -> &LiveSource;
    fn pending(&mut self) -> &mut VecDeque<Self::Unit>;
    /// Encodes one raw buffer, queueing what the encoder produced (possibly nothing).
    fn encode(&mut self, sample: &gst::Sample) -> Result<(), MediaError>;
}

/// The shared `next` of the sources: pull raw buffers and encode until a unit comes out or
/// `timeout` passes.
fn next_encoded<E: Encoding>(
    source: &mut E,
    timeout: Duration,
) -> Result<Option<E::Unit>, MediaError> {
    let deadline = deadline(timeout);
    loop {
        if let Some(unit) = source.pending().pop_front() {
            return Ok(Some(unit));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let Some(sample) = source.raw().pull(remaining)? else {
            return Ok(None);
        };
        source.encode(&sample)?;
        if source.pending().is_empty() && Instant::now() >= deadline {
            return Ok(None);
        }
    }
}

fn deadline(timeout: Duration) -> Instant {
    Instant::now() + timeout.min(Duration::from_millis(NEXT_MAX_TIMEOUT_MS))
}

/// Encoded buffers that are media, not stream headers.
fn media_buffers(samples: Vec<gst::Sample>) -> impl Iterator<Item = gst::Buffer> {
    samples
        .into_iter()
        .filter_map(|s| s.buffer_owned())
        .filter(|b| !b.flags().contains(gst::BufferFlags::HEADER))
}

fn buffer_bytes(what: &str, buffer: &gst::BufferRef) -> Result<Bytes, MediaError> {
    let map = buffer
        .map_readable()
        .map_err(|e| MediaError::Codec(format!("{what}: mapping encoded buffer: {e}")))?;
    Ok(Bytes::copy_from_slice(map.as_slice()))
}

/// A live, marked test picture encoded to VP8 (see the module docs).
pub struct VideoSource {
    raw: LiveSource,
    encoder: Stage,
    force_key: Arc<AtomicBool>,
    pending: VecDeque<EncodedVideo>,
}

/// Asks a [`VideoSource`] for a key frame from another thread (e.g. the task that reads
/// RTCP PLI/FIR) while the source's own thread is blocked in [`VideoSource::next`].
#[derive(Clone, Debug)]
pub struct KeyframeHandle(Arc<AtomicBool>);

impl KeyframeHandle {
    /// Same as [`VideoSource::force_keyframe`].
    pub fn request(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl VideoSource {
    /// Starts a live source: `videotestsrc pattern=ball` (ball colour, background and motion
    /// chosen by `tag`, so participants differ) at `fmt`, each frame marked with `(tag,
    /// frame_no)` by `simplevideomark`, encoded by `vp8enc` for real time (deadline 1,
    /// lag-in-frames 0, error-resilient, CBR at `fmt.bitrate_kbps`, a key frame at least
    /// every second).
    pub fn start(fmt: VideoFormat, tag: u8) -> Result<Self, MediaError> {
        fmt.validate()?;
        init()?;
        let src = ball_source(tag)?;
        src.set_property("is-live", true);
        let filter = caps_filter(&raw_video_caps(fmt))?;
        let mark = frame_marker(fmt, tag)?;
        // QoS could make the filter skip drawing a late frame, leaving it unmarked.
        mark.set_property("qos", false);

        let mark_sink = mark
            .static_pad("sink")
            .ok_or_else(|| MediaError::Pipeline("simplevideomark has no sink pad".into()))?;
        let counter = AtomicU32::new(0);
        let reference = capture_caps();
        capture_anchor();
        mark_sink.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
            // Wrapping at 2^32 keeps the low 24 bits counting on without a jump.
            let frame_no = counter.fetch_add(1, Ordering::Relaxed) & MARK_FRAME_NO_MASK;
            if let Some(element) = pad.parent_element() {
                element.set_property("pattern-data", mark_word(tag, frame_no));
            }
            if let Some(buffer) = info.buffer_mut() {
                let buffer = buffer.make_mut();
                buffer.set_offset(u64::from(frame_no));
                stamp_capture(buffer, &reference);
            }
            gst::PadProbeReturn::Ok
        });

        let enc = make("vp8enc")?;
        enc.set_property("deadline", 1i64);
        enc.set_property("lag-in-frames", 0i32);
        enc.set_property_from_str("error-resilient", "default");
        enc.set_property("keyframe-max-dist", fmt.fps as i32);
        enc.set_property_from_str("end-usage", "cbr");
        enc.set_property("target-bitrate", (fmt.bitrate_kbps * 1000) as i32);
        enc.set_property("cpu-used", VP8_CPU_USED);
        enc.set_property("threads", VP8_THREADS);
        enc.set_property("buffer-size", VP8_BUFFER_SIZE_MS);
        enc.set_property("buffer-initial-size", VP8_BUFFER_INITIAL_SIZE_MS);
        enc.set_property("buffer-optimal-size", VP8_BUFFER_OPTIMAL_SIZE_MS);
        let encoder = Stage::new("vp8-encoder", vec![enc])?;
        let raw = LiveSource::start(
            "video-source",
            vec![src, filter, mark],
            RAW_QUEUE_VIDEO_FRAMES,
        )?;
        Ok(VideoSource {
            raw,
            encoder,
            force_key: Arc::new(AtomicBool::new(false)),
            pending: VecDeque::new(),
        })
    }

    /// Blocks until the next encoded frame, or `Ok(None)` once `timeout` (capped at
    /// [`NEXT_MAX_TIMEOUT_MS`]) has passed without one.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<EncodedVideo>, MediaError> {
        next_encoded(self, timeout)
    }

    /// The next frame is encoded as a key frame (for PLI/FIR).
    pub fn force_keyframe(&self) {
        self.force_key.store(true, Ordering::Relaxed);
    }

    /// A handle that forces key frames on this source from any thread.
    pub fn keyframe_handle(&self) -> KeyframeHandle {
        KeyframeHandle(Arc::clone(&self.force_key))
    }

    fn encode_sample(&mut self, sample: &gst::Sample) -> Result<(), MediaError> {
        let what = "video-source";
        let caps = sample
            .caps_owned()
            .ok_or_else(|| MediaError::Pipeline(format!("{what}: raw sample without caps")))?;
        let buffer = sample
            .buffer_owned()
            .ok_or_else(|| MediaError::Pipeline(format!("{what}: raw sample without buffer")))?;
        let capture = capture_of(what, &buffer)?;
        let frame_no = u32::try_from(buffer.offset() & u64::from(MARK_FRAME_NO_MASK))
            .map_err(|_| MediaError::Pipeline(format!("{what}: unnumbered raw frame")))?;
        let reference = Arc::new(y_plane(sample)?);
        if self.force_key.swap(false, Ordering::Relaxed) {
            let event = gst_video::DownstreamForceKeyUnitEvent::builder()
                .all_headers(true)
                .build();
            self.encoder.push_event(event)?;
        }
        for out in media_buffers(self.encoder.push(&caps, buffer)?) {
            let data = buffer_bytes(what, &out)?;
            // VP8 frame tag, RFC 6386 §9.1: bit 0 of the first byte is 0 for a key frame.
            let keyframe = data.first().is_some_and(|b| b & 1 == 0);
            self.pending.push_back(EncodedVideo {
                frame_no,
                data,
                capture,
                keyframe,
                reference: Arc::clone(&reference),
            });
        }
        Ok(())
    }
}

// Senders and receivers run each source and decoder on a thread of their own.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<VideoSource>();
    send::<AudioSource>();
    send::<KeyframeHandle>();
    send::<crate::media::codec::VideoDecoder>();
    send::<crate::media::codec::AudioDecoder>();
};

/// Ball colours (ARGB), one per tag modulo 8: bright, so the ball stands out in luma.
pub(crate) const BALL_COLOURS_ARGB: [u32; 8] = [
    0xFFFF_FFFF,
    0xFFFF_FF00,
    0xFF00_FFFF,
    0xFFFF_80FF,
    0xFF80_FF80,
    0xFFFF_C080,
    0xFFC0_C0FF,
    0xFFFF_A0A0,
];

/// A dark background whose grey level depends on the tag, so two participants' pictures
/// differ everywhere, not only where the ball is.
pub(crate) fn background_argb(tag: u8) -> u32 {
    let level = 0x10 + u32::from(tag % 8) * 0x0C;
    0xFF00_0000 | (level << 16) | (level << 8) | level
}

impl Encoding for VideoSource {
    type Unit = EncodedVideo;
    fn raw(&self) -> &LiveSource {
        &self.raw
    }
    fn pending(&mut self) -> &mut VecDeque<EncodedVideo> {
        &mut self.pending
    }
    fn encode(&mut self, sample: &gst::Sample) -> Result<(), MediaError> {
        self.encode_sample(sample)
    }
}

impl Encoding for AudioSource {
    type Unit = EncodedAudio;
    fn raw(&self) -> &LiveSource {
        &self.raw
    }
    fn pending(&mut self) -> &mut VecDeque<EncodedAudio> {
        &mut self.pending
    }
    fn encode(&mut self, sample: &gst::Sample) -> Result<(), MediaError> {
        self.encode_sample(sample)
    }
}

/// A live sine tone encoded to Opus in 20 ms packets (see the module docs).
pub struct AudioSource {
    raw: LiveSource,
    encoder: Stage,
    seq: u64,
    pending: VecDeque<EncodedAudio>,
}

impl AudioSource {
    /// `audiotestsrc wave=sine freq=hz is-live=true`, 48 kHz mono S16 in 20 ms blocks,
    /// encoded by `opusenc frame-size=20`. `hz` must be in
    /// [`AUDIO_MIN_TONE_HZ`]..=[`AUDIO_MAX_TONE_HZ`].
    pub fn start(hz: u32) -> Result<Self, MediaError> {
        if !(AUDIO_MIN_TONE_HZ..=AUDIO_MAX_TONE_HZ).contains(&hz) {
            return Err(MediaError::InvalidArgument {
                field: "hz",
                reason: format!("{hz} Hz, expected {AUDIO_MIN_TONE_HZ}..={AUDIO_MAX_TONE_HZ}"),
            });
        }
        init()?;
        let src = make("audiotestsrc")?;
        src.set_property("is-live", true);
        src.set_property_from_str("wave", "sine");
        src.set_property("freq", f64::from(hz));
        src.set_property("volume", TONE_VOLUME);
        src.set_property("samplesperbuffer", AUDIO_FRAME_SAMPLES as i32);
        let raw_caps = gst_audio::AudioCapsBuilder::new_interleaved()
            .format(gst_audio::AudioFormat::S16le)
            .rate(AUDIO_RATE_HZ as i32)
            .channels(1)
            .build();
        let filter = caps_filter(&raw_caps)?;
        let filter_sink = filter
            .static_pad("sink")
            .ok_or_else(|| MediaError::Pipeline("capsfilter has no sink pad".into()))?;
        let reference = capture_caps();
        capture_anchor();
        filter_sink.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer_mut() {
                stamp_capture(buffer.make_mut(), &reference);
            }
            gst::PadProbeReturn::Ok
        });

        let enc = make("opusenc")?;
        enc.set_property_from_str("frame-size", &AUDIO_FRAME_MS.to_string());
        let encoder = Stage::new("opus-encoder", vec![enc])?;
        let raw = LiveSource::start("audio-source", vec![src, filter], RAW_QUEUE_AUDIO_BLOCKS)?;
        Ok(AudioSource {
            raw,
            encoder,
            seq: 0,
            pending: VecDeque::new(),
        })
    }

    /// Blocks until the next Opus packet, or `Ok(None)` once `timeout` (capped at
    /// [`NEXT_MAX_TIMEOUT_MS`]) has passed without one.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<EncodedAudio>, MediaError> {
        next_encoded(self, timeout)
    }

    fn encode_sample(&mut self, sample: &gst::Sample) -> Result<(), MediaError> {
        let what = "audio-source";
        let caps = sample
            .caps_owned()
            .ok_or_else(|| MediaError::Pipeline(format!("{what}: raw sample without caps")))?;
        let buffer = sample
            .buffer_owned()
            .ok_or_else(|| MediaError::Pipeline(format!("{what}: raw sample without buffer")))?;
        let capture = capture_of(what, &buffer)?;
        for out in media_buffers(self.encoder.push(&caps, buffer)?) {
            let data = buffer_bytes(what, &out)?;
            self.pending.push_back(EncodedAudio {
                seq: self.seq,
                data,
                capture,
                duration: Duration::from_millis(AUDIO_FRAME_MS),
            });
            self.seq += 1;
        }
        Ok(())
    }
}

/// Participant `tag`'s test picture: `videotestsrc` drawing a ball whose motion, colour and
/// background tell the participants apart (also written to files for a browser's fake capture).
pub(super) fn ball_source(tag: u8) -> Result<gst::Element, MediaError> {
    let src = make("videotestsrc")?;
    src.set_property_from_str("pattern", "ball");
    src.set_property_from_str("motion", ["wavy", "sweep", "hsweep"][usize::from(tag % 3)]);
    src.set_property("foreground-color", BALL_COLOURS_ARGB[usize::from(tag) % 8]);
    src.set_property("background-color", background_argb(tag));
    Ok(src)
}

/// Raw I420 video of `fmt`'s size and rate, square pixels.
pub(super) fn raw_video_caps(fmt: VideoFormat) -> gst::Caps {
    gst_video::VideoCapsBuilder::new()
        .format(gst_video::VideoFormat::I420)
        .width(fmt.width as i32)
        .height(fmt.height as i32)
        .framerate(gst::Fraction::new(fmt.fps as i32, 1))
        .pixel_aspect_ratio(gst::Fraction::new(1, 1))
        .build()
}

/// `simplevideomark` drawing the frame mark for `fmt`'s size, set to frame 0 of `tag`; the
/// caller's pad probe moves the mark on frame by frame.
pub(super) fn frame_marker(fmt: VideoFormat, tag: u8) -> Result<gst::Element, MediaError> {
    let geometry =
        mark_geometry(fmt.width, fmt.height).ok_or_else(|| MediaError::InvalidArgument {
            field: "width",
            reason: format!("{}x{} cannot carry a frame mark", fmt.width, fmt.height),
        })?;
    let mark = make("simplevideomark")?;
    mark.set_property("pattern-width", geometry.box_width_px as i32);
    mark.set_property("pattern-height", geometry.box_height_px as i32);
    mark.set_property("pattern-count", MARK_CALIBRATION_BOXES as i32);
    mark.set_property("pattern-data-count", MARK_DATA_BITS as i32);
    mark.set_property("left-offset", 0i32);
    mark.set_property("bottom-offset", 0i32);
    mark.set_property("pattern-data", mark_word(tag, 0));
    Ok(mark)
}
