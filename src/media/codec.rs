//! Synchronous GStreamer codec stages: VP8 and Opus decoders, and the encoder stages the
//! sources in [`crate::media::synth`] are built on.
//!
//! Why synchronous: a media run wants "push one encoded unit, get what it decodes to" with no
//! hidden queue that adds latency, reorders or loses data, and no guessing whether a decoder
//! silently dropped a frame. So a stage does not use `appsrc` (which pushes from its own
//! thread and would make every dropped frame cost a timeout): it links a source pad of its own
//! to the first element's sink pad, as `GstHarness` does, and pushes on the caller's thread.
//! When `gst_pad_push` returns, the decoder/encoder, converter and `appsink` have all run
//! on that thread, so every output of that input is already collected, and "no output" is
//! known at once. Nothing here waits, so nothing here needs a timeout.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gst::prelude::*;
use gstreamer as gst;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;

use crate::media::error::MediaError;
use crate::media::synth::YPlane;

/// Outputs one input may produce before the stage refuses it (a VP8 frame or an Opus packet
/// decodes to exactly one; the bound only keeps a misbehaving element from growing memory).
pub const STAGE_MAX_OUTPUTS_PER_INPUT: usize = 16;
/// Largest encoded VP8 frame accepted (far above any frame at 1080p and 20 Mbit/s).
pub const VP8_MAX_FRAME_BYTES: usize = 4 << 20;
/// Largest Opus packet (RFC 6716: 48 frames of at most 1275 bytes each).
pub const OPUS_MAX_PACKET_BYTES: usize = 48 * 1275;
/// Opus always decodes at 48 kHz here.
pub const OPUS_RATE_HZ: u32 = 48_000;

/// Initialises GStreamer (idempotent, cheap after the first call).
pub(crate) fn init() -> Result<(), MediaError> {
    gst::init().map_err(|e| MediaError::Pipeline(format!("gstreamer init: {e}")))
}

/// The Debian package that ships a GStreamer element this crate uses.
fn package_of(factory: &str) -> &'static str {
    match factory {
        "vp8enc" | "vp8dec" => "gstreamer1.0-plugins-good",
        "simplevideomark" => "gstreamer1.0-plugins-bad",
        "capsfilter" => "libgstreamer1.0-0",
        // videotestsrc, audiotestsrc, videoconvert, audioconvert, audioresample, opusenc,
        // opusdec, appsink: all gst-plugins-base.
        _ => "gstreamer1.0-plugins-base",
    }
}

/// Makes an element, mapping an unknown factory to [`MediaError::MissingElement`].
pub(crate) fn make(factory: &'static str) -> Result<gst::Element, MediaError> {
    if gst::ElementFactory::find(factory).is_none() {
        return Err(MediaError::MissingElement {
            element: factory,
            package: package_of(factory),
        });
    }
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|e| MediaError::Pipeline(format!("creating {factory}: {e}")))
}

/// A `capsfilter` holding `caps`.
pub(crate) fn caps_filter(caps: &gst::Caps) -> Result<gst::Element, MediaError> {
    let f = make("capsfilter")?;
    f.set_property("caps", caps);
    Ok(f)
}

/// The first error message waiting on the pipeline's bus, if any, as text.
pub(crate) fn bus_error(pipeline: &gst::Pipeline) -> Option<String> {
    let bus = pipeline.bus()?;
    while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        if let gst::MessageView::Error(e) = msg.view() {
            let src = e
                .src()
                .map(|s| s.name().to_string())
                .unwrap_or_else(|| "?".into());
            return Some(match e.debug() {
                Some(d) => format!("{src}: {} ({d})", e.error()),
                None => format!("{src}: {}", e.error()),
            });
        }
    }
    None
}

/// Adds `elements` to `pipeline` and links them in order.
pub(crate) fn add_chain(
    pipeline: &gst::Pipeline,
    elements: &[gst::Element],
) -> Result<(), MediaError> {
    pipeline
        .add_many(elements)
        .map_err(|e| MediaError::Pipeline(format!("adding elements: {e}")))?;
    gst::Element::link_many(elements)
        .map_err(|e| MediaError::Pipeline(format!("linking elements: {e}")))
}

/// Copies the luma plane of an I420 video sample, tightly packed.
pub(crate) fn y_plane(sample: &gst::Sample) -> Result<YPlane, MediaError> {
    let caps = sample
        .caps()
        .ok_or_else(|| MediaError::Codec("video sample without caps".into()))?;
    let info = gst_video::VideoInfo::from_caps(caps)
        .map_err(|e| MediaError::Codec(format!("video caps {caps}: {e}")))?;
    if info.format() != gst_video::VideoFormat::I420 {
        return Err(MediaError::Codec(format!(
            "expected I420, got {:?}",
            info.format()
        )));
    }
    let buffer = sample
        .buffer()
        .ok_or_else(|| MediaError::Codec("video sample without buffer".into()))?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
        .map_err(|e| MediaError::Codec(format!("mapping video frame: {e}")))?;
    let plane = frame
        .plane_data(0)
        .map_err(|e| MediaError::Codec(format!("luma plane: {e}")))?;
    let (width, height) = (info.width(), info.height());
    let stride = usize::try_from(info.stride()[0])
        .map_err(|_| MediaError::Codec("negative luma stride".into()))?;
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 {
        return Err(MediaError::Codec(format!(
            "empty video frame {width}x{height}"
        )));
    }
    if stride < w || plane.len() < stride * (h - 1) + w {
        return Err(MediaError::Codec(format!(
            "luma plane of {} bytes too small for {width}x{height} stride {stride}",
            plane.len()
        )));
    }
    let mut data = Vec::with_capacity(w * h);
    for row in plane.chunks(stride).take(h) {
        data.extend_from_slice(&row[..w]);
    }
    Ok(YPlane {
        width,
        height,
        data,
    })
}

/// A chain of elements driven synchronously from a pad of our own (see the module docs).
pub(crate) struct Stage {
    what: &'static str,
    pipeline: gst::Pipeline,
    drive: gst::Pad,
    outputs: Arc<Mutex<Vec<gst::Sample>>>,
    caps: Option<gst::Caps>,
}

impl Stage {
    /// Builds `elements ! appsink` and starts it. `what` names the stage in errors.
    pub(crate) fn new(what: &'static str, elements: Vec<gst::Element>) -> Result<Self, MediaError> {
        init()?;
        let pipeline = gst::Pipeline::with_name(what);
        let first = elements
            .first()
            .cloned()
            .ok_or_else(|| MediaError::Pipeline(format!("{what}: empty stage")))?;
        let sink = gst_app::AppSink::builder()
            .sync(false)
            .async_(false)
            .enable_last_sample(false)
            .build();
        let outputs: Arc<Mutex<Vec<gst::Sample>>> = Arc::default();
        let collected = Arc::clone(&outputs);
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let mut out = collected.lock().unwrap_or_else(PoisonError::into_inner);
                    if out.len() >= STAGE_MAX_OUTPUTS_PER_INPUT {
                        return Err(gst::FlowError::Error);
                    }
                    out.push(sample);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        let mut chain = elements;
        chain.push(sink.upcast());
        add_chain(&pipeline, &chain)?;

        let sink_pad = first.static_pad("sink").ok_or_else(|| {
            MediaError::Pipeline(format!("{what}: first element has no sink pad"))
        })?;
        let drive = gst::Pad::builder(gst::PadDirection::Src)
            .name(format!("{what}-drive"))
            .build();
        drive
            .link(&sink_pad)
            .map_err(|e| MediaError::Pipeline(format!("{what}: linking drive pad: {e:?}")))?;
        let stage = Stage {
            what,
            pipeline,
            drive,
            outputs,
            caps: None,
        };
        stage
            .pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| stage.failure("starting"))?;
        stage
            .drive
            .set_active(true)
            .map_err(|e| MediaError::Pipeline(format!("{what}: activating drive pad: {e}")))?;
        let started = stage
            .drive
            .push_event(gst::event::StreamStart::new(&format!("callconf-{what}")));
        if !started {
            return Err(stage.failure("stream-start"));
        }
        Ok(stage)
    }

    /// Sends a serialized event (e.g. force-key-unit) ahead of the next buffer.
    pub(crate) fn push_event(&self, event: gst::Event) -> Result<(), MediaError> {
        if self.drive.push_event(event) {
            Ok(())
        } else {
            Err(self.failure("event"))
        }
    }

    /// Pushes one buffer with `caps` (a caps change is announced first) and returns every
    /// sample it produced, in order.
    pub(crate) fn push(
        &mut self,
        caps: &gst::Caps,
        buffer: gst::Buffer,
    ) -> Result<Vec<gst::Sample>, MediaError> {
        if self.caps.as_ref() != Some(caps) {
            let first = self.caps.is_none();
            if !self.drive.push_event(gst::event::Caps::new(caps)) {
                return Err(self.failure("caps"));
            }
            if first {
                let segment = gst::FormattedSegment::<gst::ClockTime>::new();
                if !self.drive.push_event(gst::event::Segment::new(&segment)) {
                    return Err(self.failure("segment"));
                }
            }
            self.caps = Some(caps.clone());
        }
        let flow = self.drive.push(buffer);
        let outputs =
            std::mem::take(&mut *self.outputs.lock().unwrap_or_else(PoisonError::into_inner));
        match flow {
            Ok(_) => Ok(outputs),
            Err(gst::FlowError::Error) if outputs.len() >= STAGE_MAX_OUTPUTS_PER_INPUT => {
                Err(MediaError::Codec(format!(
                    "{}: more than {STAGE_MAX_OUTPUTS_PER_INPUT} outputs for one input",
                    self.what
                )))
            }
            Err(e) => Err(MediaError::Codec(format!(
                "{}: {e:?}{}",
                self.what,
                bus_error(&self.pipeline)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ))),
        }
    }

    fn failure(&self, step: &str) -> MediaError {
        MediaError::Pipeline(format!(
            "{}: {step} failed{}",
            self.what,
            bus_error(&self.pipeline)
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ))
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        // Errors are moot while tearing down; Null joins every thread the elements started.
        let _ = self.drive.set_active(false);
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn check_pts(
    field: &'static str,
    last: Option<Duration>,
    pts: Duration,
) -> Result<gst::ClockTime, MediaError> {
    if let Some(last) = last
        && pts <= last
    {
        return Err(MediaError::InvalidArgument {
            field,
            reason: format!("{pts:?} does not follow the previous {last:?}"),
        });
    }
    u64::try_from(pts.as_nanos())
        .ok()
        .filter(|&ns| ns <= gst::ClockTime::MAX.nseconds())
        .map(gst::ClockTime::from_nseconds)
        .ok_or_else(|| MediaError::InvalidArgument {
            field,
            reason: format!("{pts:?} is out of range"),
        })
}

fn check_len(field: &'static str, len: usize, max: usize) -> Result<(), MediaError> {
    if len == 0 || len > max {
        return Err(MediaError::InvalidArgument {
            field,
            reason: format!("{len} bytes, expected 1..={max}"),
        });
    }
    Ok(())
}

/// The input side shared by the decoders: checks each encoded unit's size and timestamp, then
/// pushes it through the stage and returns what came out.
struct Input {
    stage: Stage,
    caps: gst::Caps,
    /// The argument named in errors (`frame`, `packet`) and its size bound.
    field: &'static str,
    bytes_max: usize,
    last_pts: Option<Duration>,
}

impl Input {
    fn push(&mut self, data: &[u8], pts: Duration) -> Result<Vec<gst::Sample>, MediaError> {
        check_len(self.field, data.len(), self.bytes_max)?;
        let clock = check_pts("pts", self.last_pts, pts)?;
        self.last_pts = Some(pts);
        let mut buffer = gst::Buffer::from_slice(data.to_vec());
        buffer.make_mut().set_pts(clock);
        self.stage.push(&self.caps, buffer)
    }
}

/// VP8 decoder: `vp8dec ! videoconvert ! video/x-raw,format=I420 ! appsink`, driven
/// synchronously.
///
/// A frame the decoder cannot use (a delta frame before the first keyframe, a corrupt frame)
/// is dropped (`Ok(None)`), never an error: `vp8dec`'s `max-errors` is -1, so decoding errors
/// never stop the stream and the next keyframe recovers it.
pub struct VideoDecoder {
    input: Input,
}

impl VideoDecoder {
    /// Builds and starts the decoder.
    pub fn new() -> Result<Self, MediaError> {
        init()?;
        let dec = make("vp8dec")?;
        dec.set_property("max-errors", -1i32);
        let convert = make("videoconvert")?;
        let i420 = gst_video::VideoCapsBuilder::new()
            .format(gst_video::VideoFormat::I420)
            .build();
        let filter = caps_filter(&i420)?;
        Ok(VideoDecoder {
            input: Input {
                stage: Stage::new("vp8-decoder", vec![dec, convert, filter])?,
                caps: gst::Caps::builder("video/x-vp8").build(),
                field: "frame",
                bytes_max: VP8_MAX_FRAME_BYTES,
                last_pts: None,
            },
        })
    }

    /// Decodes one complete VP8 frame; returns its luma plane, or `None` if the decoder
    /// dropped it. `pts` must increase strictly from call to call.
    pub fn decode(&mut self, frame: &[u8], pts: Duration) -> Result<Option<YPlane>, MediaError> {
        let outputs = self.input.push(frame, pts)?;
        // One VP8 frame shows at most one picture; should an element ever emit more, the
        // newest is what would be on screen.
        match outputs.last() {
            Some(sample) => y_plane(sample).map(Some),
            None => Ok(None),
        }
    }
}

/// Opus decoder: `opusdec ! audioconvert ! audioresample ! S16LE 48 kHz mono ! appsink`,
/// driven synchronously. A packet the decoder rejects yields no samples (`max-errors` -1).
pub struct AudioDecoder {
    input: Input,
}

impl AudioDecoder {
    /// Builds and starts the decoder (mono Opus, channel mapping family 0, as in RTP).
    pub fn new() -> Result<Self, MediaError> {
        init()?;
        let dec = make("opusdec")?;
        dec.set_property("max-errors", -1i32);
        let convert = make("audioconvert")?;
        let resample = make("audioresample")?;
        let s16 = gstreamer_audio::AudioCapsBuilder::new_interleaved()
            .format(gstreamer_audio::AudioFormat::S16le)
            .rate(OPUS_RATE_HZ as i32)
            .channels(1)
            .build();
        let filter = caps_filter(&s16)?;
        Ok(AudioDecoder {
            input: Input {
                stage: Stage::new("opus-decoder", vec![dec, convert, resample, filter])?,
                caps: gst::Caps::builder("audio/x-opus")
                    .field("channel-mapping-family", 0i32)
                    .field("channels", 1i32)
                    .field("rate", OPUS_RATE_HZ as i32)
                    .build(),
                field: "packet",
                bytes_max: OPUS_MAX_PACKET_BYTES,
                last_pts: None,
            },
        })
    }

    /// Decodes one Opus packet into mono 48 kHz samples (960 for a 20 ms packet; none if the
    /// decoder rejected it). `pts` must increase strictly from call to call.
    pub fn decode(&mut self, packet: &[u8], pts: Duration) -> Result<Vec<i16>, MediaError> {
        let outputs = self.input.push(packet, pts)?;
        let mut samples = Vec::new();
        for sample in &outputs {
            let buffer = sample
                .buffer()
                .ok_or_else(|| MediaError::Codec("audio sample without buffer".into()))?;
            let map = buffer
                .map_readable()
                .map_err(|e| MediaError::Codec(format!("mapping audio buffer: {e}")))?;
            samples.extend(
                map.chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]])),
            );
        }
        Ok(samples)
    }
}
