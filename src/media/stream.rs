//! What senders and receivers share: the sender's capture log (when each frame was
//! captured, and its reference picture) and the per-stream measurements.
//!
//! Everything runs in one process, so a receiver looks a frame's capture time up directly
//! in the sender's log, by the frame number it read out of the decoded picture (video) or
//! by the RTP timestamp (audio). That is what an RTCP sender report gives a real receiver,
//! minus the clock-sync error, which in one process is zero.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::limits;
use super::synth::YPlane;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Audio,
    Video,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        })
    }
}

/// RTP clock of each kind, and how far it advances per unit (audio packet, video frame).
pub const AUDIO_CLOCK_HZ: u32 = 48_000;
pub const VIDEO_CLOCK_HZ: u32 = 90_000;
/// Opus frames are 20 ms.
pub const AUDIO_TICKS_PER_PACKET: u32 = AUDIO_CLOCK_HZ / 50;

/// A bounded log keyed by a counter (audio packet number or video frame number) that only
/// goes up; keys the source skipped (it dropped frames nobody read in time) hold nothing.
#[derive(Debug)]
pub struct Ring<T> {
    first: u64,
    items: VecDeque<Option<T>>,
}

impl<T: Clone> Ring<T> {
    fn new() -> Self {
        Self {
            first: 0,
            items: VecDeque::new(),
        }
    }

    /// Appends the entry for `key`; returns how many keys before it were skipped. A key that
    /// does not follow on (the first one, a wrapped counter, or a gap longer than the log)
    /// starts the log afresh.
    fn push(&mut self, key: u64, item: T) -> u64 {
        let next = self.first + self.items.len() as u64;
        let mut skipped = 0;
        if self.items.is_empty()
            || key < next
            || key - next >= limits::CAPTURE_LOG_ENTRIES_MAX as u64
        {
            if !self.items.is_empty() && key > next {
                skipped = key - next;
            }
            self.items.clear();
            self.first = key;
        } else {
            skipped = key - next;
            for _ in 0..skipped {
                self.items.push_back(None);
            }
        }
        self.items.push_back(Some(item));
        while self.items.len() > limits::CAPTURE_LOG_ENTRIES_MAX {
            self.items.pop_front();
            self.first += 1;
        }
        // Every key from `first` on has a slot, and the newest is the one just pushed.
        assert_eq!(self.first + self.items.len() as u64, key + 1);
        skipped
    }

    fn get(&self, key: u64) -> Option<T> {
        let i = key.checked_sub(self.first)?;
        self.items.get(usize::try_from(i).ok()?).cloned().flatten()
    }
}

#[derive(Debug)]
pub struct SenderLog {
    pub user: String,
    /// The tag stamped into every video frame with the frame number.
    pub tag: u8,
    /// The sine frequency of this participant's audio.
    pub tone_hz: u32,
    pub fps: u32,
    audio: Mutex<Ring<Instant>>,
    video: Mutex<Ring<(Instant, std::sync::Arc<YPlane>)>>,
    /// Units the source made but its consumer took too late to send (the raw queue dropped
    /// them): the machine, not the network, lost them.
    pub dropped_at_source: AtomicU64,
    /// The pictures of a sender whose frames are known before they are sent (a browser's fake
    /// capture file: frame n is picture n modulo the file's length), for the frames whose
    /// capture time has not come yet when they are decoded.
    references: Option<std::sync::Arc<Vec<std::sync::Arc<YPlane>>>>,
}

impl SenderLog {
    pub fn new(user: &str, tag: u8, tone_hz: u32, fps: u32) -> Self {
        Self {
            user: user.to_owned(),
            tag,
            tone_hz,
            fps,
            audio: Mutex::new(Ring::new()),
            video: Mutex::new(Ring::new()),
            dropped_at_source: AtomicU64::new(0),
            references: None,
        }
    }

    /// A sender whose pictures are `references` by frame number (modulo their count), and whose
    /// capture times are logged as they become known, possibly after the frame is decoded.
    pub fn with_references(
        user: &str,
        tag: u8,
        tone_hz: u32,
        fps: u32,
        references: std::sync::Arc<Vec<std::sync::Arc<YPlane>>>,
    ) -> Self {
        Self {
            references: Some(references).filter(|r| !r.is_empty()),
            ..Self::new(user, tag, tone_hz, fps)
        }
    }

    /// The picture of frame `frame_no` of a sender with known pictures.
    pub fn video_reference(&self, frame_no: u32) -> Option<std::sync::Arc<YPlane>> {
        let r = self.references.as_ref()?;
        r.get(frame_no as usize % r.len()).cloned()
    }

    pub fn log_audio(&self, seq: u64, capture: Instant) {
        let skipped = self
            .audio
            .lock()
            .expect("audio log lock")
            .push(seq, capture);
        self.dropped_at_source.fetch_add(skipped, Ordering::Relaxed);
    }

    pub fn log_video(&self, frame_no: u32, capture: Instant, reference: std::sync::Arc<YPlane>) {
        let skipped = self
            .video
            .lock()
            .expect("video log lock")
            .push(u64::from(frame_no), (capture, reference));
        self.dropped_at_source.fetch_add(skipped, Ordering::Relaxed);
    }

    pub fn audio_capture(&self, seq: u64) -> Option<Instant> {
        self.audio.lock().expect("audio log lock").get(seq)
    }

    pub fn video_capture(&self, frame_no: u32) -> Option<(Instant, std::sync::Arc<YPlane>)> {
        self.video
            .lock()
            .expect("video log lock")
            .get(u64::from(frame_no))
    }
}

/// Whether one direction of one link carries media right now (hold and mute close it).
#[derive(Debug, Default)]
pub struct Gate {
    audio_closed: AtomicBool,
    video_closed: AtomicBool,
}

impl Gate {
    pub fn is_open(&self, kind: Kind) -> bool {
        !match kind {
            Kind::Audio => self.audio_closed.load(Ordering::Relaxed),
            Kind::Video => self.video_closed.load(Ordering::Relaxed),
        }
    }

    pub fn set_open(&self, kind: Kind, open: bool) {
        let flag = match kind {
            Kind::Audio => &self.audio_closed,
            Kind::Video => &self.video_closed,
        };
        flag.store(!open, Ordering::Relaxed);
    }
}

/// Counters the sending side of one stream keeps (per link and kind).
#[derive(Debug, Default)]
pub struct SendCounters {
    pub frames_sent: AtomicU64,
    pub packets_sent: AtomicU64,
    /// Frames the writer could not keep up with (the machine fell behind).
    pub frames_skipped: AtomicU64,
    /// Keyframe requests (PLI/FIR) the receiver sent back on this stream.
    pub plis_received: AtomicU64,
    /// The stream's SSRC and its RTX SSRC (0: none), to find its datagrams on the link.
    pub ssrc: std::sync::atomic::AtomicU32,
    pub rtx_ssrc: std::sync::atomic::AtomicU32,
}

/// Everything measured on one received stream (one sender, one receiver, one kind).
#[derive(Debug, Default, Clone)]
pub struct StreamStats {
    pub packets_received: u64,
    /// Highest extended sequence number seen, and the lowest.
    pub seq_max: Option<u64>,
    pub seq_min: Option<u64>,
    /// Capture to decoded output, one per decoded frame or audio packet.
    pub latency_ms: Vec<f64>,
    pub psnr_db: Vec<f64>,
    pub ssim: Vec<f64>,
    /// Dominant frequency of each audio window.
    pub tone_hz: Vec<f64>,
    pub frames_decoded: u64,
    /// Lowest and highest frame (video) or packet (audio) number decoded in this window:
    /// with no pause in the window, everything in between was sent.
    pub unit_min: Option<u64>,
    pub unit_max: Option<u64>,
    /// Incomplete frames given up on (a packet never came).
    pub frames_incomplete: u64,
    /// Decoded frames whose mark was unreadable or named another sender.
    pub frames_unmarked: u64,
    pub frames_from_wrong_sender: u64,
    pub freezes: u64,
    pub freeze_ms: f64,
    pub decode_errors: u64,
    /// Packets analysed more than `ANALYSIS_LAG_MS_MAX` after they arrived.
    pub analysed_late: u64,
    /// Packets that arrived after a later one: retransmissions (the link is FIFO, so nothing
    /// else arrives out of order). `packets_received` counts them once, duplicates not at all.
    pub packets_recovered: u64,
    pub packets_duplicate: u64,
    /// Keyframe requests this receiver sent, and frames it gave up waiting for a key frame.
    pub plis_sent: u64,
    pub frames_skipped_to_keyframe: u64,
    pub first_output_at: Option<Instant>,
    pub last_output_at: Option<Instant>,
    /// When the sender last resumed (unhold/unmute), and the first output after it.
    pub resumed_at: Option<Instant>,
    pub first_output_after_resume: Option<Instant>,
    /// The analysis thread stopped on an error it could not recover from.
    pub failure: Option<String>,
    /// Decoded frames (number, when) of a sender with known pictures whose capture time was
    /// not logged yet: their latency is computed once it is (`latency_from_late_captures`).
    pub decoded_awaiting_capture: Vec<(u32, Instant)>,
}

impl StreamStats {
    /// Records an output (decoded frame or audio packet) at `at`, with freeze detection.
    pub fn output(&mut self, at: Instant) {
        if self.first_output_at.is_none() {
            self.first_output_at = Some(at);
        }
        if let Some(resumed) = self.resumed_at
            && self.first_output_after_resume.is_none()
            && at >= resumed
        {
            self.first_output_after_resume = Some(at);
        }
        if let Some(last) = self.last_output_at {
            let gap_ms = at.saturating_duration_since(last).as_secs_f64() * 1000.0;
            // A gap that spans a resume is the pause itself, not a freeze.
            let paused = self.resumed_at.is_some_and(|r| r > last);
            if gap_ms > limits::FREEZE_GAP_MS as f64 && !paused {
                self.freezes += 1;
                self.freeze_ms += gap_ms;
            }
        }
        self.last_output_at = Some(at);
    }

    /// Records that frame/packet number `n` was decoded.
    pub fn decoded_unit(&mut self, n: u64) {
        self.unit_min = Some(self.unit_min.map_or(n, |m| m.min(n)));
        self.unit_max = Some(self.unit_max.map_or(n, |m| m.max(n)));
    }

    /// Share of the frames (packets for audio) numbered within the window that were not
    /// decoded.
    pub fn frame_loss_pct(&self) -> f64 {
        match (self.unit_min, self.unit_max) {
            (Some(lo), Some(hi)) => {
                let expected = (hi - lo + 1) as f64;
                (100.0 * (expected - self.frames_decoded as f64) / expected).max(0.0)
            }
            _ => 0.0,
        }
    }

    /// Turns the frames decoded before their capture time was known into latency samples,
    /// with `capture` (frame number → capture instant); those still unknown stay.
    pub fn latency_from_late_captures(&mut self, capture: impl Fn(u32) -> Option<Instant>) {
        let awaiting = std::mem::take(&mut self.decoded_awaiting_capture);
        for (n, done) in awaiting {
            match capture(n) {
                Some(c) => {
                    let ms = done.saturating_duration_since(c).as_secs_f64() * 1e3;
                    Self::push_sample(&mut self.latency_ms, ms);
                }
                None => self.decoded_awaiting_capture.push((n, done)),
            }
        }
    }

    pub fn push_sample(v: &mut Vec<f64>, x: f64) {
        if v.len() < limits::SAMPLES_PER_STREAM_MAX {
            v.push(x);
        }
    }

    /// The share of the packets expected that did not arrive the first time they were sent
    /// (what the link dropped, as the receiver sees it: retransmissions do not count).
    pub fn link_loss_pct(&self) -> f64 {
        match (self.seq_min, self.seq_max) {
            (Some(lo), Some(hi)) => {
                let expected = (hi - lo + 1) as f64;
                let first = self.packets_received.saturating_sub(self.packets_recovered) as f64;
                (100.0 * (expected - first) / expected).max(0.0)
            }
            _ => 0.0,
        }
    }

    /// Packets expected from the sequence numbers seen, and the share of them missing after
    /// recovery (the residual loss; without recovery, what the link dropped).
    pub fn packet_loss_pct(&self) -> f64 {
        match (self.seq_min, self.seq_max) {
            (Some(lo), Some(hi)) => {
                let expected = (hi - lo + 1) as f64;
                (100.0 * (expected - self.packets_received as f64) / expected).max(0.0)
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_contiguous_keys_and_counts_skipped_ones() {
        let mut r = Ring::new();
        assert_eq!(r.push(10, 'a'), 0);
        assert_eq!(r.push(11, 'b'), 0);
        // The source dropped 12 and 13.
        assert_eq!(r.push(14, 'c'), 2);
        assert_eq!(r.get(11), Some('b'));
        assert_eq!(r.get(12), None);
        assert_eq!(r.get(13), None);
        assert_eq!(r.get(14), Some('c'));
        assert_eq!(r.get(9), None);
    }

    #[test]
    fn ring_is_bounded_and_restarts_on_a_long_gap_or_a_wrap() {
        let mut r = Ring::new();
        let n = limits::CAPTURE_LOG_ENTRIES_MAX as u64;
        for k in 0..2 * n {
            assert_eq!(r.push(k, k), 0);
        }
        assert_eq!(r.items.len() as u64, n);
        assert_eq!(r.get(n - 1), None);
        assert_eq!(r.get(2 * n - 1), Some(2 * n - 1));
        // A gap longer than the log: counted, and the log starts again at the new key.
        assert_eq!(r.push(4 * n, 0), 2 * n);
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.get(4 * n), Some(0));
        // A counter that wrapped starts afresh without counting a gap.
        assert_eq!(r.push(0, 7), 0);
        assert_eq!(r.get(0), Some(7));
        assert_eq!(r.get(4 * n), None);
    }
}
