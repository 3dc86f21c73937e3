//! The video frame buffer of a receiver with loss recovery: frames leave it in decode order,
//! each only once it and every frame before it are whole.
//!
//! Why: a VP8 delta frame is predicted from the frame before it, so decoding past a missing
//! packet gives a broken picture until the next key frame (the feedback-free path does exactly
//! that, and that is what its PSNR shows). With NACK the missing packet comes back a round
//! trip later, so the buffer waits for it, at most `RECOVERY_WAIT_MS_MAX`; then it gives the
//! stalled frames up, skips to the next whole key frame and asks the sender for one (PLI),
//! at most once per `PLI_INTERVAL_MS_MIN`.
//!
//! Padding-only packets (Chromium sends them, e.g. to probe bandwidth) carry no frame but take
//! a sequence number: they are told to the buffer as fillers, so the frame after them is not
//! taken for one whose head was lost.
//!
//! Pure: packets and the time come in, frames and keyframe requests go out; no clock, no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::limits;

/// The packets of one frame so far, by extended sequence number (payload, marker).
#[derive(Default)]
struct Pending {
    parts: BTreeMap<u64, (Bytes, bool)>,
}

impl Pending {
    fn first(&self) -> u64 {
        self.parts.keys().next().copied().unwrap_or(u64::MAX)
    }

    fn last(&self) -> u64 {
        self.parts.keys().next_back().copied().unwrap_or(0)
    }
}

/// The depacketised frame if `parts` runs without a gap from a partition head to a marker.
pub fn complete(parts: &BTreeMap<u64, (Bytes, bool)>) -> Option<Bytes> {
    let (&first, (head, _)) = parts.iter().next()?;
    let (&last, (_, marker)) = parts.iter().next_back()?;
    let starts = head.first().is_some_and(|b| b & VP8_S_BIT != 0);
    if !*marker || !starts || last - first + 1 != parts.len() as u64 {
        return None;
    }
    let mut out = BytesMut::new();
    for (payload, _) in parts.values() {
        out.extend_from_slice(vp8_data(payload)?);
    }
    Some(out.freeze())
}

/// The start-of-partition bit of the VP8 payload descriptor.
const VP8_S_BIT: u8 = 0x10;

/// The VP8 data of one RTP payload: what follows the payload descriptor (RFC 7741 §4.2).
///
/// Parsed here rather than with webrtc-rs's depacketizer, which refuses any payload shorter
/// than 4 bytes: the last packet of a frame one byte longer than the MTU split carries a
/// single byte, and refusing it made that whole frame undecodable.
pub fn vp8_data(payload: &[u8]) -> Option<&[u8]> {
    let (&b0, rest) = payload.split_first()?;
    if b0 & 0x80 == 0 {
        return Some(rest);
    }
    let (&x, mut rest) = rest.split_first()?;
    if x & 0x80 != 0 {
        // PictureID: 7 bits, or 15 when its M bit is set.
        let (&pid, r) = rest.split_first()?;
        rest = if pid & 0x80 != 0 { r.get(1..)? } else { r };
    }
    if x & 0x40 != 0 {
        rest = rest.get(1..)?; // TL0PICIDX
    }
    if x & 0x30 != 0 {
        rest = rest.get(1..)?; // TID/Y/KEYIDX
    }
    Some(rest)
}

/// A VP8 key frame has the inverse key-frame bit of its first byte clear (RFC 6386 §9.1).
pub fn is_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 0)
}

/// Frames in decode order, waiting for retransmissions.
#[derive(Default)]
pub struct FrameBuffer {
    /// By RTP timestamp (all packets of a frame share it).
    frames: BTreeMap<u32, Pending>,
    /// The first sequence number of the next frame in decode order (after the last frame
    /// handed out); `None` before the first key frame.
    next_seq: Option<u64>,
    /// Set after a frame was given up (or failed to decode): only a key frame may follow.
    skipping: bool,
    /// Since when the next frame has been waited for.
    blocked_since: Option<Instant>,
    last_pli: Option<Instant>,
    want_pli: bool,
    /// Sequence numbers of padding-only packets not yet stepped over (at most
    /// `FILLER_SEQS_MAX`).
    fillers: BTreeSet<u64>,
    /// Frames given up (never decoded) so far.
    pub given_up: u64,
}

impl FrameBuffer {
    /// Adds a packet (the caller drops duplicates); packets of frames already handed out or
    /// given up are ignored.
    pub fn push(&mut self, ext: u64, p: rtc::rtp::packet::Packet) {
        if self.next_seq.is_some_and(|n| ext < n) {
            return;
        }
        let frame = self.frames.entry(p.header.timestamp).or_default();
        frame.parts.insert(ext, (p.payload, p.header.marker));
    }

    /// A padding-only packet: no frame, but sequence number `ext` is accounted for.
    pub fn filler(&mut self, ext: u64) {
        if self.next_seq.is_some_and(|n| ext < n) {
            return;
        }
        self.fillers.insert(ext);
        while self.fillers.len() > limits::FILLER_SEQS_MAX {
            self.fillers.pop_first();
        }
    }

    /// The next frame to decode (its RTP timestamp and data), if it can be decoded now; call
    /// until `None`.
    pub fn next(&mut self, now: Instant) -> Option<(u32, Bytes)> {
        loop {
            if self.next_seq.is_none() || self.skipping {
                return self.next_keyframe(now);
            }
            let mut next_seq = self.next_seq?;
            while self.fillers.remove(&next_seq) {
                next_seq += 1;
            }
            self.next_seq = Some(next_seq);
            let (&ts, head) = self.frames.iter().min_by_key(|(_, p)| p.first())?;
            if head.first() == next_seq
                && let Some(frame) = complete(&head.parts)
            {
                self.hand_out(ts);
                return Some((ts, frame));
            }
            let since = *self.blocked_since.get_or_insert(now);
            let waited = now.saturating_duration_since(since);
            if waited < Duration::from_millis(limits::RECOVERY_WAIT_MS_MAX)
                && self.frames.len() <= limits::ASSEMBLING_FRAMES_MAX
            {
                return None;
            }
            self.skip_to_keyframe();
        }
    }

    /// The decoder refused a frame: what follows cannot be decoded until a key frame.
    pub fn decode_failed(&mut self) {
        self.skip_to_keyframe();
    }

    /// Whether to send a PLI now (at most one per `PLI_INTERVAL_MS_MIN`).
    pub fn take_pli(&mut self, now: Instant) -> bool {
        let spaced = self.last_pli.is_none_or(|t| {
            now.saturating_duration_since(t) >= Duration::from_millis(limits::PLI_INTERVAL_MS_MIN)
        });
        if self.want_pli && spaced {
            self.want_pli = false;
            self.last_pli = Some(now);
            return true;
        }
        false
    }

    /// When `next` may have something new to say without a new packet (a wait running out,
    /// or a PLI becoming due).
    pub fn deadline(&self) -> Option<Instant> {
        let wait = self
            .blocked_since
            .map(|t| t + Duration::from_millis(limits::RECOVERY_WAIT_MS_MAX));
        let pli = self
            .want_pli
            .then(|| {
                self.last_pli
                    .map(|t| t + Duration::from_millis(limits::PLI_INTERVAL_MS_MIN))
            })
            .flatten();
        [wait, pli].into_iter().flatten().min()
    }

    fn skip_to_keyframe(&mut self) {
        self.skipping = true;
        self.want_pli = true;
        self.blocked_since = None;
    }

    /// The earliest whole key frame; older frames are given up. Waiting for one counts as
    /// blocked too, so a lost key frame at the start of a stream is asked for again.
    fn next_keyframe(&mut self, now: Instant) -> Option<(u32, Bytes)> {
        let found = self
            .frames
            .iter()
            .filter_map(|(ts, p)| {
                let f = complete(&p.parts).filter(|f| is_keyframe(f))?;
                Some((p.first(), *ts, f))
            })
            .min_by_key(|(first, _, _)| *first);
        let Some((first, ts, frame)) = found else {
            let since = *self.blocked_since.get_or_insert(now);
            if now.saturating_duration_since(since)
                >= Duration::from_millis(limits::RECOVERY_WAIT_MS_MAX)
            {
                self.want_pli = true;
            }
            while self.frames.len() > limits::ASSEMBLING_FRAMES_MAX {
                self.drop_oldest();
            }
            return None;
        };
        let older: Vec<u32> = self
            .frames
            .iter()
            .filter(|(_, p)| p.first() < first)
            .map(|(k, _)| *k)
            .collect();
        self.given_up += older.len() as u64;
        for k in older {
            self.frames.remove(&k);
        }
        self.skipping = false;
        self.hand_out(ts);
        Some((ts, frame))
    }

    fn drop_oldest(&mut self) {
        let oldest = self
            .frames
            .iter()
            .min_by_key(|(_, p)| p.first())
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            self.frames.remove(&k);
            self.given_up += 1;
        }
    }

    fn hand_out(&mut self, ts: u32) {
        if let Some(p) = self.frames.remove(&ts) {
            let next = p.last() + 1;
            self.next_seq = Some(next);
            self.fillers = self.fillers.split_off(&next);
        }
        self.blocked_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One VP8 RTP packet: a partition head when `head`, carrying a frame whose first byte
    /// says key frame or not.
    fn packet(ts: u32, head: bool, marker: bool, key: bool) -> rtc::rtp::packet::Packet {
        let mut p = rtc::rtp::packet::Packet::default();
        p.header.timestamp = ts;
        p.header.marker = marker;
        // VP8 payload descriptor: S bit (0x10) marks the start of a partition.
        let desc = if head { 0x10 } else { 0x00 };
        p.payload = Bytes::from(vec![desc, if key { 0x00 } else { 0x01 }, 0xaa]);
        p
    }

    /// Frames of two packets each: frame n has sequence numbers 2n, 2n+1.
    fn push_frame(b: &mut FrameBuffer, n: u64, key: bool, skip: Option<u64>) {
        for (i, (head, marker)) in [(true, false), (false, true)].into_iter().enumerate() {
            let seq = 2 * n + i as u64;
            if skip != Some(seq) {
                b.push(seq, packet(n as u32 * 3000, head, marker, key));
            }
        }
    }

    #[test]
    fn vp8_descriptors_are_stripped_even_before_a_one_byte_tail() {
        assert_eq!(
            vp8_data(&[0x00, 0xab]),
            Some(&[0xab][..]),
            "1-byte tail of a frame"
        );
        assert_eq!(vp8_data(&[0x10, 1, 2, 3]), Some(&[1, 2, 3][..]));
        // X with a 15-bit PictureID, TL0PICIDX and TID/KEYIDX.
        assert_eq!(
            vp8_data(&[0x90, 0xf0, 0x81, 0x02, 7, 9, 0xcd]),
            Some(&[0xcd][..])
        );
        // X with a 7-bit PictureID only.
        assert_eq!(vp8_data(&[0x90, 0x80, 0x05, 0xee]), Some(&[0xee][..]));
        assert_eq!(vp8_data(&[0x90, 0x80]), None, "truncated");
        assert_eq!(vp8_data(&[]), None);
    }

    #[test]
    fn a_frame_waits_for_its_retransmission_and_frames_leave_in_order() {
        let t0 = Instant::now();
        let mut b = FrameBuffer::default();
        push_frame(&mut b, 0, true, None);
        assert!(b.next(t0).is_some());
        push_frame(&mut b, 1, false, Some(3)); // frame 1 loses its second packet
        push_frame(&mut b, 2, false, None);
        assert!(b.next(t0).is_none(), "frame 2 must not overtake frame 1");
        b.push(3, packet(3000, false, true, false)); // the retransmission
        let t1 = t0 + Duration::from_millis(300);
        assert!(b.next(t1).is_some());
        assert!(b.next(t1).is_some());
        assert!(b.next(t1).is_none());
        assert_eq!(b.given_up, 0);
        assert!(!b.take_pli(t1), "nothing was given up, no PLI");
    }

    #[test]
    fn an_unrecovered_frame_is_given_up_for_the_next_key_frame_with_one_pli() {
        let t0 = Instant::now();
        let mut b = FrameBuffer::default();
        push_frame(&mut b, 0, true, None);
        assert!(b.next(t0).is_some());
        push_frame(&mut b, 1, false, Some(2)); // frame 1 loses its head
        push_frame(&mut b, 2, false, None);
        assert!(b.next(t0).is_none());
        let late = t0 + Duration::from_millis(limits::RECOVERY_WAIT_MS_MAX);
        assert!(
            b.next(late).is_none(),
            "no key frame yet: delta frames are not decodable"
        );
        assert!(b.take_pli(late));
        assert!(!b.take_pli(late), "PLIs are spaced");
        push_frame(&mut b, 3, true, None);
        assert!(b.next(late).is_some(), "the key frame is decoded");
        assert_eq!(b.given_up, 2);
        push_frame(&mut b, 4, false, None);
        assert!(b.next(late).is_some(), "and what follows it");
    }

    #[test]
    fn padding_between_frames_does_not_hold_the_next_frame_back() {
        let t0 = Instant::now();
        let mut b = FrameBuffer::default();
        push_frame(&mut b, 0, true, None); // sequence numbers 0, 1
        assert!(b.next(t0).is_some());
        b.filler(2);
        b.filler(3);
        // The next frame starts at 4 (push_frame numbers frame 2 as 4, 5).
        push_frame(&mut b, 2, false, None);
        assert!(b.next(t0).is_some(), "the padding is stepped over");
        assert_eq!(b.given_up, 0);
        assert!(!b.take_pli(t0));
    }

    #[test]
    fn late_packets_of_decoded_frames_are_ignored_and_the_buffer_is_bounded() {
        let t0 = Instant::now();
        let mut b = FrameBuffer::default();
        push_frame(&mut b, 0, true, None);
        assert!(b.next(t0).is_some());
        b.push(1, packet(0, false, true, true));
        assert!(b.next(t0).is_none());
        push_frame(&mut b, 1, false, Some(2));
        for n in 2..(limits::ASSEMBLING_FRAMES_MAX as u64 + 10) {
            push_frame(&mut b, n, false, None);
            let _ = b.next(t0);
        }
        assert!(b.frames.len() <= limits::ASSEMBLING_FRAMES_MAX + 1);
        assert!(b.take_pli(t0), "an overflowing buffer asks for a key frame");
    }
}
