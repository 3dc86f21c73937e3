//! The receiving side of one stream: RTP in, decoded media and measurements out.
//!
//! A tokio task reads the remote track and hands each packet, stamped with its arrival
//! time, to a dedicated analysis thread (decoding blocks, so it stays off the async
//! runtime). The thread:
//! - counts packets and loss from the RTP sequence numbers;
//! - assembles video frames (all packets of one RTP timestamp, from the partition head to
//!   the marker, contiguous) and decodes each frame as soon as it is complete: no playout
//!   delay, so measured latency is capture → network → decode and nothing else. A frame
//!   still incomplete when a later one completes is given up (counted incomplete);
//! - reads the frame number and sender tag out of every decoded picture, looks the frame up
//!   in the sender's log, and measures latency, PSNR and SSIM against the picture that was
//!   sent;
//! - decodes audio packet by packet, measures latency by RTP timestamp, and the dominant
//!   frequency of each window (so a track from the wrong participant shows).

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;

use super::analyze;
use super::codec::{AudioDecoder, VideoDecoder};
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
    let mut seq = SeqTracker::default();
    match ctx.kind {
        Kind::Audio => {
            let mut dec = AudioDecoder::new().map_err(|e| e.to_string())?;
            let mut window: Vec<i16> = Vec::with_capacity(limits::TONE_WINDOW_SAMPLES);
            loop {
                let Some(inb) = next(&rx) else { return Ok(()) };
                let lag = inb.arrival.elapsed();
                let ext = seq.extend(inb.packet.header.sequence_number);
                let rel = inb.packet.header.timestamp.wrapping_sub(ctx.ts_base);
                let key = u64::from(rel / AUDIO_TICKS_PER_PACKET);
                let pts = Duration::from_millis(key * 20);
                let decoded = dec.decode(&inb.packet.payload, pts);
                let done = Instant::now();
                let mut s = ctx.stats.lock().expect("stats lock");
                count_packet(&mut s, ext, lag);
                match decoded {
                    Ok(samples) => {
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
                    Err(_) => s.decode_errors += 1,
                }
            }
        }
        Kind::Video => {
            let mut dec = VideoDecoder::new().map_err(|e| e.to_string())?;
            let mut asm = Assembler::default();
            let per_frame = VIDEO_CLOCK_HZ / ctx.sender.fps.max(1);
            loop {
                let Some(inb) = next(&rx) else { return Ok(()) };
                let lag = inb.arrival.elapsed();
                let ext = seq.extend(inb.packet.header.sequence_number);
                {
                    let mut s = ctx.stats.lock().expect("stats lock");
                    count_packet(&mut s, ext, lag);
                }
                let ts = inb.packet.header.timestamp;
                let (frame, given_up) = asm.push(ext, inb.packet);
                if given_up > 0 {
                    ctx.stats.lock().expect("stats lock").frames_incomplete += given_up;
                }
                let Some(frame) = frame else { continue };
                let rel = ts.wrapping_sub(ctx.ts_base);
                let pts = Duration::from_secs_f64(
                    f64::from(rel / per_frame) / f64::from(ctx.sender.fps.max(1)),
                );
                let decoded = dec.decode(&frame, pts);
                let done = Instant::now();
                let mut s = ctx.stats.lock().expect("stats lock");
                match decoded {
                    Ok(Some(y)) => {
                        s.frames_decoded += 1;
                        s.output(done);
                        match analyze::read_mark(&y) {
                            Some((tag, n)) if tag == ctx.sender.tag => {
                                s.decoded_unit(u64::from(n));
                                if let Some((capture, reference)) = ctx.sender.video_capture(n) {
                                    let ms =
                                        done.saturating_duration_since(capture).as_secs_f64() * 1e3;
                                    StreamStats::push_sample(&mut s.latency_ms, ms);
                                    StreamStats::push_sample(
                                        &mut s.psnr_db,
                                        analyze::psnr_db(&reference, &y),
                                    );
                                    StreamStats::push_sample(
                                        &mut s.ssim,
                                        analyze::ssim(&reference, &y),
                                    );
                                }
                            }
                            Some(_) => s.frames_from_wrong_sender += 1,
                            None => s.frames_unmarked += 1,
                        }
                    }
                    Ok(None) => {}
                    Err(_) => s.decode_errors += 1,
                }
            }
        }
    }
}

fn next(rx: &Receiver<Inbound>) -> Option<Inbound> {
    loop {
        match rx.recv_timeout(Duration::from_millis(limits::PULL_TIMEOUT_MS)) {
            Ok(i) => return Some(i),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

fn count_packet(s: &mut StreamStats, ext: u64, lag: Duration) {
    s.packets_received += 1;
    s.seq_max = Some(s.seq_max.map_or(ext, |m| m.max(ext)));
    s.seq_min = Some(s.seq_min.map_or(ext, |m| m.min(ext)));
    if lag > Duration::from_millis(limits::ANALYSIS_LAG_MS_MAX) {
        s.analysed_late += 1;
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

/// The depacketised frame if `parts` runs without a gap from a partition head to a marker.
fn complete(parts: &BTreeMap<u64, (Bytes, bool)>) -> Option<Bytes> {
    let (&first, (head, _)) = parts.iter().next()?;
    let (&last, (_, marker)) = parts.iter().next_back()?;
    let probe = Vp8Packet::default();
    if !*marker || !probe.is_partition_head(head) || last - first + 1 != parts.len() as u64 {
        return None;
    }
    let mut out = BytesMut::new();
    for (payload, _) in parts.values() {
        let mut d = Vp8Packet::default();
        out.extend_from_slice(&d.depacketize(payload).ok()?);
    }
    Some(out.freeze())
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
}
