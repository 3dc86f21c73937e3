//! The files a browser's fake capture plays: frame-marked video as Y4M and a tone as WAV.
//!
//! Why: to measure media sent *from* Chromium, callconf must know what was sent. Chromium's
//! `--use-fake-device-for-media-stream` with `--use-file-for-fake-video-capture=FILE.y4m` and
//! `--use-file-for-fake-audio-capture=FILE.wav` makes `getUserMedia` play these files (looping)
//! instead of a camera and microphone. The video is the same picture callconf's own sources
//! send (the ball pattern of a participant's tag, each frame stamped with `(tag, frame_no)` by
//! `simplevideomark`), so the receiving side reads the frame number out of each decoded
//! picture and compares it with frame `frame_no` of this file (PSNR, SSIM); the audio is the
//! participant's tone, so the receiver checks it hears the right one.
//!
//! Capture time on the browser side is not in the file: Chromium reads frame n of the file at
//! its own start time plus n / fps. The page learns it per frame from
//! `requestVideoFrameCallback` on its local preview (`metadata.captureTime`, on the
//! performance clock, which the page turns into wall-clock time with
//! `performance.timeOrigin`), reading the frame mark off a canvas to know which frame it was.
//!
//! The files are written once, offline (not in real time), with a bounded wait.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use gst::prelude::*;
use gstreamer as gst;
use gstreamer_audio as gst_audio;

use super::analyze::{MARK_FRAME_NO_MASK, mark_word};
use super::codec::{add_chain, caps_filter, init, make};
use super::error::MediaError;
use super::synth::{
    AUDIO_RATE_HZ, TONE_VOLUME, VideoFormat, YPlane, ball_source, frame_marker, raw_video_caps,
};

/// The longest fake capture callconf writes (Chromium loops the file, so a short one serves a
/// long call; the bound keeps the Y4M's size bounded: 320x240 I420 is 115 kB a frame).
pub const FAKE_CAPTURE_SECONDS_MAX: u32 = 60;
/// How long writing the files may take.
pub const FAKE_CAPTURE_WRITE_TIMEOUT_MS: u64 = 60_000;

/// The two files written for one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeCapture {
    pub video: PathBuf,
    pub audio: PathBuf,
    /// Frames in the video file.
    pub frames: u32,
}

/// Writes `seconds` of `tag`'s marked video (`fmt`) and of its `tone_hz` sine into `dir`.
pub fn write(
    dir: &Path,
    fmt: VideoFormat,
    tag: u8,
    tone_hz: u32,
    seconds: u32,
) -> Result<FakeCapture, MediaError> {
    fmt.validate()?;
    if !(1..=FAKE_CAPTURE_SECONDS_MAX).contains(&seconds) {
        return Err(MediaError::InvalidArgument {
            field: "seconds",
            reason: format!("{seconds} is outside 1..={FAKE_CAPTURE_SECONDS_MAX}"),
        });
    }
    init()?;
    let frames = fmt.fps * seconds;
    let video = dir.join(format!("capture-{tag}.y4m"));
    let audio = dir.join(format!("capture-{tag}.wav"));
    run_to_end(&video_pipeline(fmt, tag, frames, &video)?)?;
    let blocks = seconds * 50; // 20 ms blocks
    run_to_end(&audio_pipeline(tone_hz, blocks, &audio)?)?;
    Ok(FakeCapture {
        video,
        audio,
        frames,
    })
}

fn file_sink(path: &Path) -> Result<gst::Element, MediaError> {
    let sink = make("filesink")?;
    sink.set_property("location", path.to_string_lossy().as_ref());
    sink.set_property("sync", false);
    Ok(sink)
}

/// `videotestsrc ! I420 ! simplevideomark ! y4menc ! filesink`, the mark set per frame.
fn video_pipeline(
    fmt: VideoFormat,
    tag: u8,
    frames: u32,
    path: &Path,
) -> Result<gst::Pipeline, MediaError> {
    let src = ball_source(tag)?;
    src.set_property("num-buffers", frames as i32);
    let caps = raw_video_caps(fmt);
    let mark = frame_marker(fmt, tag)?;
    let pad = mark
        .static_pad("sink")
        .ok_or_else(|| MediaError::Pipeline("simplevideomark has no sink pad".into()))?;
    let counter = Arc::new(AtomicU32::new(0));
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
        let frame_no = counter.fetch_add(1, Ordering::Relaxed) & MARK_FRAME_NO_MASK;
        if let Some(element) = pad.parent_element() {
            element.set_property("pattern-data", mark_word(tag, frame_no));
        }
        gst::PadProbeReturn::Ok
    });
    let pipeline = gst::Pipeline::new();
    let chain = [
        src,
        caps_filter(&caps)?,
        mark,
        make("y4menc")?,
        file_sink(path)?,
    ];
    add_chain(&pipeline, &chain)?;
    Ok(pipeline)
}

/// `audiotestsrc sine ! S16LE 48 kHz mono ! wavenc ! filesink`.
fn audio_pipeline(tone_hz: u32, blocks: u32, path: &Path) -> Result<gst::Pipeline, MediaError> {
    let src = make("audiotestsrc")?;
    src.set_property("num-buffers", blocks as i32);
    src.set_property_from_str("wave", "sine");
    src.set_property("freq", f64::from(tone_hz));
    src.set_property("volume", TONE_VOLUME);
    src.set_property("samplesperbuffer", (AUDIO_RATE_HZ / 50) as i32);
    let caps = gst_audio::AudioCapsBuilder::new_interleaved()
        .format(gst_audio::AudioFormat::S16le)
        .rate(AUDIO_RATE_HZ as i32)
        .channels(1)
        .build();
    let pipeline = gst::Pipeline::new();
    let chain = [src, caps_filter(&caps)?, make("wavenc")?, file_sink(path)?];
    add_chain(&pipeline, &chain)?;
    Ok(pipeline)
}

/// Plays a finite pipeline to its end of stream, within `FAKE_CAPTURE_WRITE_TIMEOUT_MS`.
fn run_to_end(pipeline: &gst::Pipeline) -> Result<(), MediaError> {
    let bus = pipeline
        .bus()
        .ok_or_else(|| MediaError::Pipeline("pipeline without a bus".into()))?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| MediaError::Pipeline(format!("starting the writer: {e}")))?;
    let wait = gst::ClockTime::from_mseconds(FAKE_CAPTURE_WRITE_TIMEOUT_MS);
    let msg = bus.timed_pop_filtered(wait, &[gst::MessageType::Eos, gst::MessageType::Error]);
    let _ = pipeline.set_state(gst::State::Null);
    match msg.as_ref().map(|m| m.view()) {
        Some(gst::MessageView::Eos(_)) => Ok(()),
        Some(gst::MessageView::Error(e)) => Err(MediaError::Pipeline(format!(
            "writing the fake capture: {}",
            e.error()
        ))),
        _ => Err(MediaError::Timeout {
            what: "the fake capture files".into(),
            after_ms: Duration::from_millis(FAKE_CAPTURE_WRITE_TIMEOUT_MS).as_millis() as u64,
        }),
    }
}

/// The luma planes of a Y4M file as written by [`write`] (4:2:0, at most
/// `FAKE_CAPTURE_SECONDS_MAX` seconds of 60 fps): the reference pictures of the frames a
/// browser sends, by frame number.
pub fn read_y4m_luma(path: &Path) -> Result<Vec<YPlane>, MediaError> {
    let bad = |reason: String| MediaError::InvalidArgument {
        field: "y4m",
        reason: format!("{}: {reason}", path.display()),
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let header_end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| bad("no header line".into()))?;
    let header = std::str::from_utf8(&bytes[..header_end]).map_err(|e| bad(e.to_string()))?;
    let field = |p: char| {
        header
            .split(' ')
            .find_map(|f| f.strip_prefix(p).and_then(|v| v.parse::<u32>().ok()))
    };
    let (Some(width), Some(height)) = (field('W'), field('H')) else {
        return Err(bad(format!("header {header:?} has no size")));
    };
    if !header.starts_with("YUV4MPEG2 ") || width == 0 || height == 0 {
        return Err(bad(format!("header {header:?}")));
    }
    let luma = width as usize * height as usize;
    let frame_len = luma + 2 * (width as usize).div_ceil(2) * (height as usize).div_ceil(2);
    let max_frames = (FAKE_CAPTURE_SECONDS_MAX * super::synth::VIDEO_MAX_FPS) as usize;
    let mut planes = Vec::new();
    let mut at = header_end + 1;
    while at < bytes.len() {
        let line_end = bytes[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|p| at + p)
            .ok_or_else(|| bad(format!("frame {} has no FRAME line", planes.len())))?;
        if !bytes[at..line_end].starts_with(b"FRAME") || planes.len() >= max_frames {
            return Err(bad(format!(
                "frame {} is malformed or one too many",
                planes.len()
            )));
        }
        let data = bytes
            .get(line_end + 1..line_end + 1 + luma)
            .ok_or_else(|| bad(format!("frame {} is cut short", planes.len())))?;
        planes.push(YPlane {
            width,
            height,
            data: data.to_vec(),
        });
        at = line_end + 1 + frame_len;
    }
    Ok(planes)
}

/// The samples of a 16-bit mono WAV file as written by [`write`].
pub fn read_wav(path: &Path) -> Result<Vec<i16>, MediaError> {
    let bad = |reason: String| MediaError::InvalidArgument {
        field: "wav",
        reason: format!("{}: {reason}", path.display()),
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(bad("not a RIFF/WAVE file".into()));
    }
    let mut at = 12;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]) as usize;
        let body = at + 8;
        if &chunk[..4] == b"data" {
            let end = (body + len).min(bytes.len());
            let data = bytes.get(body..end).ok_or_else(|| bad("data cut".into()))?;
            return Ok(data
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect());
        }
        at = body + len + (len & 1);
    }
    Err(bad("no data chunk".into()))
}
