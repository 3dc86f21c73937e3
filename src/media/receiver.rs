//! The receiving side of one stream: RTP in, decoded media and measurements out.
//!
//! A tokio task reads the remote track and hands each packet, stamped with its arrival
//! time, to a dedicated analysis thread (decoding blocks, so it stays off the async
//! runtime). The thread:
//! - counts packets and loss from the RTP sequence numbers, telling first transmissions from
//!   retransmissions (which arrive after a later packet: the link is FIFO) and duplicates, so
//!   it reports both the loss the link applied and the loss left after recovery;
//! - assembles video frames (all packets of one RTP timestamp, from the partition head to
//!   the marker, contiguous). With recovery, frames are decoded in order as soon as each and
//!   all before it are whole, waiting for retransmissions and asking for a key frame when one
//!   cannot be had (`framebuf`); without, each frame is decoded as soon as it is complete and
//!   a frame still incomplete when a later one completes is given up (counted incomplete).
//!   There is no playout delay either way, so measured latency is capture → network (and
//!   retransmission) → decode and nothing else;
//! - reads the frame number and sender tag out of every decoded picture, looks the frame up
//!   in the sender's log, and measures latency, PSNR and SSIM against the picture that was
//!   sent (a browser's capture time may come after its frame is decoded: the frame waits in
//!   `decoded_awaiting_capture` for it, its picture known from the fake capture file);
//! - decodes audio packet by packet, measures latency by RTP timestamp, and the dominant
//!   frequency of each window (so a track from the wrong participant shows).

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::analyze;
use super::codec::{AudioDecoder, VideoDecoder};
use super::framebuf::{FrameBuffer, complete};
use super::limits;
use super::stream::{AUDIO_TICKS_PER_PACKET, Kind, SenderLog, StreamStats, VIDEO_CLOCK_HZ};

/// One received RTP packet and when it arrived.
pub struct Inbound {
    pub arrival: Instant,
    pub packet: rtc::rtp::packet::Packet,
}

/// What an analysis thread needs to know about the stream it analyses.
pub struct StreamCtx {
    pub kind: Kind,
    /// The sender as signalled (the peer of this connection).
    pub sender: Arc<SenderLog>,
    /// The RTP timestamp of the sender's packet/frame 0 on this stream.
    pub ts_base: u32,
    pub stats: Arc<Mutex<StreamStats>>,
    /// With loss recovery: where to ask for a key frame (the track's RTCP writer). Video is
    /// then decoded in order, waiting for retransmissions; without, as it comes.
    pub pli: Option<tokio::sync::mpsc::Sender<()>>,
}

/// The first RTP packet of a remote track (what tells its kind, by payload type), or `None`
/// when the track ends first.
pub async fn first_packet(track: &dyn TrackRemote) -> Option<rtc::rtp::packet::Packet> {
    loop {
        match track.poll().await {
            Some(TrackRemoteEvent::OnRtpPacket(p)) => return Some(p),
            Some(TrackRemoteEvent::OnEnded) | None => return None,
            Some(_) => {}
        }
    }
}

/// Feeds a remote track's packets, `first` first, to its analysis thread `tx` until the track
/// ends; the keyframe requests the analysis asks for (`pli`) go out as RTCP on the track.
pub async fn pump(
    track: &dyn TrackRemote,
    first: rtc::rtp::packet::Packet,
    tx: &SyncSender<Inbound>,
    stats: &Mutex<StreamStats>,
    pli: &mut tokio::sync::mpsc::Receiver<()>,
    media_ssrc: u32,
) {
    let mut packet = Some(first);
    loop {
        let p = match packet.take() {
            Some(p) => p,
            None => {
                let event = tokio::select! {
                    e = track.poll() => e,
                    Some(()) = pli.recv() => {
                        // Lost with the link like any RTCP; the analysis asks again if so.
                        let _ = track.write_rtcp(super::recovery::pli(media_ssrc)).await;
                        continue;
                    }
                };
                match event {
                    Some(TrackRemoteEvent::OnRtpPacket(p)) => p,
                    Some(TrackRemoteEvent::OnEnded) | None => break,
                    Some(_) => continue,
                }
            }
        };
        let inbound = Inbound {
            arrival: Instant::now(),
            packet: p,
        };
        if tx.try_send(inbound).is_err() {
            // The analysis thread cannot keep up: the machine fell behind.
            stats.lock().expect("stats lock").analysed_late += 1;
        }
    }
}

/// Starts the analysis thread of one stream; dropping the returned sender ends it.
pub fn spawn(ctx: StreamCtx) -> std::io::Result<SyncSender<Inbound>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(limits::RECEIVE_QUEUE_PACKETS_MAX);
    std::thread::Builder::new()
        .name(format!("rx-{}-{}", ctx.sender.user, ctx.kind))
        .spawn(move || {
            let stats = ctx.stats.clone();
            if let Err(e) = run(ctx, rx) {
                stats.lock().expect("stats lock").failure = Some(e);
            }
        })?;
    Ok(tx)
}

fn run(ctx: StreamCtx, rx: Receiver<Inbound>) -> Result<(), String> {
    match ctx.kind {
        Kind::Audio => run_audio(&ctx, &rx),
        Kind::Video => run_video(&ctx, &rx),
    }
}

fn run_audio(ctx: &StreamCtx, rx: &Receiver<Inbound>) -> Result<(), String> {
    let mut seq = SeqTracker::default();
    let mut seen = Seen::default();
    let mut dec = AudioDecoder::new().map_err(|e| e.to_string())?;
    let mut window: Vec<i16> = Vec::with_capacity(limits::TONE_WINDOW_SAMPLES);
    loop {
        let inb = match next(rx, None) {
            Next::Packet(i) => i,
            Next::Idle => continue,
            Next::End => return Ok(()),
        };
        let lag = inb.arrival.elapsed();
        let ext = seq.extend(inb.packet.header.sequence_number);
        let arrival = seen.arrive(ext);
        let mut s = ctx.stats.lock().expect("stats lock");
        count_packet(&mut s, ext, lag, arrival);
        if arrival == Arrival::Duplicate {
            continue;
        }
        let rel = inb.packet.header.timestamp.wrapping_sub(ctx.ts_base);
        let key = u64::from(rel / AUDIO_TICKS_PER_PACKET);
        let pts = Duration::from_millis(key * 20);
        let decoded = dec.decode(&inb.packet.payload, pts);
        let done = Instant::now();
        let Ok(samples) = decoded else {
            s.decode_errors += 1;
            continue;
        };
        s.frames_decoded += 1;
        s.decoded_unit(key);
        if let Some(capture) = ctx.sender.audio_capture(key) {
            let ms = done.saturating_duration_since(capture).as_secs_f64() * 1e3;
            StreamStats::push_sample(&mut s.latency_ms, ms);
        }
        s.output(done);
        window.extend_from_slice(&samples);
        if window.len() >= limits::TONE_WINDOW_SAMPLES {
            if let Some(hz) = analyze::dominant_hz(&window, 48_000) {
                StreamStats::push_sample(&mut s.tone_hz, hz);
            }
            window.clear();
        }
    }
}

/// Video frames go out of a `FrameBuffer` (recovery: in decode order, waiting for
/// retransmissions) or an `Assembler` (no recovery: each as soon as it is whole).
enum Frames {
    InOrder(FrameBuffer),
    AsTheyCome(Assembler),
}

fn run_video(ctx: &StreamCtx, rx: &Receiver<Inbound>) -> Result<(), String> {
    let mut seq = SeqTracker::default();
    let mut seen = Seen::default();
    let mut dec = VideoDecoder::new().map_err(|e| e.to_string())?;
    let mut frames = if ctx.pli.is_some() {
        Frames::InOrder(FrameBuffer::default())
    } else {
        Frames::AsTheyCome(Assembler::default())
    };
    let mut ready: Vec<(u32, Bytes)> = Vec::new();
    loop {
        let deadline = match &frames {
            Frames::InOrder(b) => b.deadline(),
            Frames::AsTheyCome(_) => None,
        };
        match next(rx, deadline) {
            Next::Packet(inb) => {
                let lag = inb.arrival.elapsed();
                let ext = seq.extend(inb.packet.header.sequence_number);
                let arrival = seen.arrive(ext);
                count_packet(
                    &mut ctx.stats.lock().expect("stats lock"),
                    ext,
                    lag,
                    arrival,
                );
                if arrival == Arrival::Duplicate {
                    continue;
                }
                if inb.packet.payload.is_empty() {
                    // Padding only (a browser probing bandwidth): no frame, only a number.
                    if let Frames::InOrder(b) = &mut frames {
                        b.filler(ext);
                    }
                    continue;
                }
                let ts = inb.packet.header.timestamp;
                match &mut frames {
                    Frames::InOrder(b) => b.push(ext, inb.packet),
                    Frames::AsTheyCome(a) => {
                        let (frame, given_up) = a.push(ext, inb.packet);
                        ctx.stats.lock().expect("stats lock").frames_incomplete += given_up;
                        ready.extend(frame.map(|f| (ts, f)));
                    }
                }
            }
            Next::Idle => {}
            Next::End => return Ok(()),
        }
        if let Frames::InOrder(b) = &mut frames {
            drain_in_order(ctx, b, &mut dec);
        }
        for (ts, frame) in ready.drain(..) {
            decode_frame(ctx, &mut dec, ts, &frame);
        }
    }
}

/// Decodes what the frame buffer lets out, and sends the keyframe requests it asks for.
fn drain_in_order(ctx: &StreamCtx, b: &mut FrameBuffer, dec: &mut VideoDecoder) {
    let before = b.given_up;
    while let Some((ts, frame)) = b.next(Instant::now()) {
        if !decode_frame(ctx, dec, ts, &frame) {
            b.decode_failed();
        }
    }
    let mut s = ctx.stats.lock().expect("stats lock");
    s.frames_skipped_to_keyframe += b.given_up - before;
    if b.take_pli(Instant::now())
        && let Some(tx) = &ctx.pli
        && tx.try_send(()).is_ok()
    {
        s.plis_sent += 1;
    }
}

/// Decodes one whole frame and measures it; `false` when the decoder refused it.
fn decode_frame(ctx: &StreamCtx, dec: &mut VideoDecoder, ts: u32, frame: &Bytes) -> bool {
    // From the RTP clock itself: a browser's frames are not a whole frame period apart (its
    // timestamps follow capture), and the decoder wants strictly increasing times.
    let rel = ts.wrapping_sub(ctx.ts_base);
    let pts = Duration::from_secs_f64(f64::from(rel) / f64::from(VIDEO_CLOCK_HZ));
    let decoded = dec.decode(frame, pts);
    let done = Instant::now();
    let mut s = ctx.stats.lock().expect("stats lock");
    let y = match decoded {
        Ok(Some(y)) => y,
        Ok(None) => return true,
        Err(_) => {
            s.decode_errors += 1;
            return false;
        }
    };
    s.frames_decoded += 1;
    s.output(done);
    match analyze::read_mark(&y) {
        Some((tag, n)) if tag == ctx.sender.tag => {
            s.decoded_unit(u64::from(n));
            if let Some((capture, reference)) = ctx.sender.video_capture(n) {
                let ms = done.saturating_duration_since(capture).as_secs_f64() * 1e3;
                StreamStats::push_sample(&mut s.latency_ms, ms);
                StreamStats::push_sample(&mut s.psnr_db, analyze::psnr_db(&reference, &y));
                StreamStats::push_sample(&mut s.ssim, analyze::ssim(&reference, &y));
            } else if let Some(reference) = ctx.sender.video_reference(n) {
                // A browser's frame decoded before the page's report of its capture came.
                StreamStats::push_sample(&mut s.psnr_db, analyze::psnr_db(&reference, &y));
                StreamStats::push_sample(&mut s.ssim, analyze::ssim(&reference, &y));
                if s.decoded_awaiting_capture.len() < limits::SAMPLES_PER_STREAM_MAX {
                    s.decoded_awaiting_capture.push((n, done));
                }
            }
        }
        Some(_) => s.frames_from_wrong_sender += 1,
        None => s.frames_unmarked += 1,
    }
    true
}

/// What the analysis thread's wait for a packet ended with.
enum Next {
    Packet(Inbound),
    /// The deadline passed (or the bounded wait did) with nothing new.
    Idle,
    /// The track ended.
    End,
}

/// Waits for the next packet until `deadline`, or at most `PULL_TIMEOUT_MS`.
fn next(rx: &Receiver<Inbound>, deadline: Option<Instant>) -> Next {
    let cap = Duration::from_millis(limits::PULL_TIMEOUT_MS);
    let wait = deadline.map_or(cap, |d| {
        d.saturating_duration_since(Instant::now()).min(cap)
    });
    match rx.recv_timeout(wait) {
        Ok(i) => Next::Packet(i),
        Err(RecvTimeoutError::Timeout) => Next::Idle,
        Err(RecvTimeoutError::Disconnected) => Next::End,
    }
}

fn count_packet(s: &mut StreamStats, ext: u64, lag: Duration, arrival: Arrival) {
    if lag > Duration::from_millis(limits::ANALYSIS_LAG_MS_MAX) {
        s.analysed_late += 1;
    }
    match arrival {
        Arrival::Duplicate => {
            s.packets_duplicate += 1;
            return;
        }
        // A retransmission of a packet sent before the measurement window began belongs to
        // the window before: counting it would stretch this one back over packets it never
        // saw the first time.
        Arrival::Recovered if s.seq_min.is_none_or(|m| ext < m) => return,
        Arrival::Recovered => s.packets_recovered += 1,
        Arrival::First => {}
    }
    s.packets_received += 1;
    s.seq_max = Some(s.seq_max.map_or(ext, |m| m.max(ext)));
    s.seq_min = Some(s.seq_min.map_or(ext, |m| m.min(ext)));
}

/// How a packet arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    /// In order: the first transmission.
    First,
    /// After a later packet: a retransmission of one the link dropped (the link is FIFO).
    Recovered,
    /// Already had it (a retransmission answering a NACK for a packet that had come after all).
    Duplicate,
}

/// The sequence numbers seen recently (`SEEN_SEQ_WINDOW_PACKETS` below the highest).
#[derive(Default)]
struct Seen {
    seqs: std::collections::BTreeSet<u64>,
}

impl Seen {
    fn arrive(&mut self, ext: u64) -> Arrival {
        let max = self.seqs.last().copied();
        if !self.seqs.insert(ext) {
            return Arrival::Duplicate;
        }
        let floor = self
            .seqs
            .last()
            .map_or(0, |m| m.saturating_sub(limits::SEEN_SEQ_WINDOW_PACKETS));
        while self.seqs.first().is_some_and(|f| *f < floor) {
            self.seqs.pop_first();
        }
        match max {
            Some(m) if ext < m => Arrival::Recovered,
            _ => Arrival::First,
        }
    }
}

/// Extends 16-bit RTP sequence numbers to 64 bits (RFC 3550 appendix A.1, without probation).
#[derive(Default)]
struct SeqTracker {
    last: Option<u64>,
}

impl SeqTracker {
    fn extend(&mut self, seq: u16) -> u64 {
        let Some(last) = self.last else {
            // Start one cycle up so a packet just before the first one does not underflow.
            let ext = (1u64 << 16) | u64::from(seq);
            self.last = Some(ext);
            return ext;
        };
        let cycle = last & !0xffff;
        let candidates = [
            cycle.wrapping_sub(1 << 16) | u64::from(seq),
            cycle | u64::from(seq),
            (cycle + (1 << 16)) | u64::from(seq),
        ];
        let ext = candidates
            .into_iter()
            .min_by_key(|c| c.abs_diff(last))
            .unwrap_or(last);
        self.last = Some(self.last.map_or(ext, |l| l.max(ext)));
        ext
    }
}

/// Collects the packets of each video frame until it is complete.
#[derive(Default)]
struct Assembler {
    /// RTP timestamp → packets by extended sequence number (payload, marker).
    frames: BTreeMap<u32, BTreeMap<u64, (Bytes, bool)>>,
    /// Extended sequence number of the first packet of the last frame handed out.
    last_done_seq: Option<u64>,
}

impl Assembler {
    /// Adds a packet; returns a completed frame (depacketised) and how many older frames
    /// were given up.
    fn push(&mut self, ext: u64, p: rtc::rtp::packet::Packet) -> (Option<Bytes>, u64) {
        if self.last_done_seq.is_some_and(|d| ext <= d) {
            return (None, 0); // late packet of a frame already decoded or given up
        }
        let ts = p.header.timestamp;
        let parts = self.frames.entry(ts).or_default();
        parts.insert(ext, (p.payload, p.header.marker));
        let mut given_up = 0;
        if self.frames.len() > limits::ASSEMBLING_FRAMES_MAX {
            // Keep the newest frames; the oldest one will never complete in time.
            let oldest = self.frames.keys().next().copied();
            if let Some(k) = oldest {
                self.frames.remove(&k);
                given_up += 1;
            }
        }
        let Some(parts) = self.frames.get(&ts) else {
            return (None, given_up);
        };
        let Some(frame) = complete(parts) else {
            return (None, given_up);
        };
        let first = parts.keys().next().copied();
        // Frames that started before this one and are still incomplete are given up.
        let older: Vec<u32> = self
            .frames
            .iter()
            .filter(|(k, v)| **k != ts && v.keys().next() < first.as_ref())
            .map(|(k, _)| *k)
            .collect();
        given_up += older.len() as u64;
        for k in older {
            self.frames.remove(&k);
        }
        self.frames.remove(&ts);
        self.last_done_seq = first;
        (Some(frame), given_up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_extend_across_the_wrap() {
        let mut t = SeqTracker::default();
        let a = t.extend(65_534);
        let b = t.extend(65_535);
        let c = t.extend(0);
        let d = t.extend(1);
        assert_eq!([b - a, c - b, d - c], [1, 1, 1]);
        // A late packet from before the wrap maps below, not a cycle up.
        assert_eq!(t.extend(65_535), b);
    }

    #[test]
    fn retransmissions_are_told_from_duplicates() {
        let mut s = Seen::default();
        assert_eq!(s.arrive(10), Arrival::First);
        assert_eq!(s.arrive(12), Arrival::First);
        assert_eq!(s.arrive(11), Arrival::Recovered);
        assert_eq!(s.arrive(11), Arrival::Duplicate);
        assert_eq!(s.arrive(12), Arrival::Duplicate);
        assert_eq!(s.arrive(13), Arrival::First);
    }
}
