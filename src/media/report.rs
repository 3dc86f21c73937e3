//! The media report: per direction and kind, what was sent, what arrived, how late and how
//! good, in a form for people (a table) and for machines (JSON).
//!
//! A run on an overloaded machine must not pass for a bad network: when any receiver
//! analysed packets late, any writer skipped frames or any source dropped frames, the report says the machine fell
//! behind and the figures are marked untrustworthy.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::Serialize;

use super::impair::LinkProfile;
use super::stream::{Kind, SendCounters, StreamStats};

/// Order statistics of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub min: f64,
    pub median: f64,
    pub p95: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// `None` for an empty sample.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            // Linear interpolation between closest ranks.
            let pos = p * (v.len() - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
        };
        Some(Self {
            count: v.len(),
            min: v[0],
            median: q(0.5),
            p95: q(0.95),
            max: v[v.len() - 1],
            mean: v.iter().sum::<f64>() / v.len() as f64,
        })
    }
}

/// One received stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    pub from: String,
    pub to: String,
    pub kind: Kind,
    /// The impairment of the `from → to` link at the end of the run.
    pub link: LinkProfile,
    /// Every datagram the link carried (STUN, DTLS, RTP and RTCP of all kinds) and how many
    /// it dropped (lost or queue full), over the whole call: the injected side of the loss
    /// figure.
    pub link_datagrams_offered: u64,
    pub link_datagrams_dropped: u64,
    pub packets_sent: u64,
    /// Packets the sequence numbers say were sent in the window, and those that arrived
    /// (first transmissions and recoveries, each once).
    pub packets_expected: u64,
    pub packets_received: u64,
    /// The loss the link applied to this stream, as the receiver measures it: packets that
    /// did not arrive the first time they were sent (from sequence numbers; a retransmission
    /// is told by arriving after a later packet).
    pub packet_loss_pct: f64,
    /// The same, counted on the link itself: this stream's RTP datagrams it dropped (first
    /// transmissions only: retransmissions travel on the RTX SSRC).
    pub link_loss_pct: Option<f64>,
    /// What is still missing after recovery (equal to `packet_loss_pct` without it).
    pub residual_loss_pct: f64,
    /// Packets recovered by retransmission, retransmissions the sender put on the link,
    /// duplicates the receiver discarded.
    pub packets_recovered: u64,
    pub retransmissions_sent: u64,
    pub packets_duplicate: u64,
    /// Keyframe requests the receiver sent and the sender got (PLI can be lost too), and
    /// frames the receiver gave up to skip to a key frame.
    pub plis_sent: u64,
    pub plis_received: u64,
    pub frames_skipped_to_keyframe: u64,
    pub frames_sent: u64,
    /// Decoded frames (video) or decoded packets (audio).
    pub frames_decoded: u64,
    pub frame_loss_pct: f64,
    pub frames_incomplete: u64,
    pub latency_ms: Option<Summary>,
    pub psnr_db: Option<Summary>,
    pub ssim: Option<Summary>,
    /// Received dominant frequency (audio), median over windows.
    pub tone_hz: Option<f64>,
    /// The sender's own frequency, and whether the received one matches it (±2%).
    pub expected_hz: Option<u32>,
    pub tone_matches_sender: Option<bool>,
    /// The receiver heard its own tone: its own audio came back as remote.
    pub own_audio_received: bool,
    pub frames_from_wrong_sender: u64,
    pub frames_unmarked: u64,
    pub freezes: u64,
    pub freeze_ms: f64,
    /// From the first accept to the first decoded output.
    pub accept_to_first_ms: Option<f64>,
    /// From the last unhold/unmute to the first decoded output after it.
    pub resume_to_first_ms: Option<f64>,
    pub decode_errors: u64,
    /// Packets analysed late or dropped before analysis, and frames the sender skipped:
    /// non-zero means the machine, not the network, was the bottleneck.
    pub analysed_late: u64,
    pub frames_skipped: u64,
    /// Frames the sender's source made but took too late to encode (its raw queue dropped
    /// them); the same count on every stream of that sender.
    pub source_frames_dropped: u64,
    pub failure: Option<String>,
}

/// Packet loss over all streams of one direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loss {
    /// Packets the sequence numbers say were sent.
    pub packets_expected: f64,
    pub pct: f64,
}

/// Audio/video sync of one direction: positive means video arrives after its audio.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub from: String,
    pub to: String,
    pub av_offset_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MediaReport {
    pub streams: Vec<StreamReport>,
    pub sync: Vec<SyncReport>,
    /// The machine could not keep up; figures include its lag.
    pub fell_behind: bool,
    pub failures: Vec<String>,
}

/// What `build` needs of one stream.
pub struct StreamInput {
    pub from: String,
    pub to: String,
    pub kind: Kind,
    pub stats: StreamStats,
    pub counters: Option<Arc<SendCounters>>,
    pub profile: LinkProfile,
    /// (offered, dropped) datagrams of the link.
    pub link_datagrams: (u64, u64),
    /// This stream's RTP datagrams on the link in the window, and how many were resent on
    /// its RTX SSRC.
    pub wire: Option<(super::wire::Tally, u64)>,
    pub expected_hz: Option<u32>,
    pub own_hz: Option<u32>,
    pub source_frames_dropped: u64,
    pub accepted_at: Option<Instant>,
}

fn since_ms(a: Option<Instant>, b: Option<Instant>) -> Option<f64> {
    Some(b?.saturating_duration_since(a?).as_secs_f64() * 1000.0)
}

fn close_to(measured: f64, expected: u32) -> bool {
    (measured - f64::from(expected)).abs() <= f64::from(expected) * 0.02
}

pub fn build(inputs: Vec<StreamInput>, failures: Vec<String>) -> MediaReport {
    let mut streams = Vec::new();
    for i in inputs {
        let s = &i.stats;
        let (frames_sent, packets_sent, skipped) = i.counters.as_ref().map_or((0, 0, 0), |c| {
            (
                c.frames_sent.load(Ordering::Relaxed),
                c.packets_sent.load(Ordering::Relaxed),
                c.frames_skipped.load(Ordering::Relaxed),
            )
        });
        let plis_received = i
            .counters
            .as_ref()
            .map_or(0, |c| c.plis_received.load(Ordering::Relaxed));
        let link_loss_pct = i
            .wire
            .filter(|(t, _)| t.offered > 0)
            .map(|(t, _)| 100.0 * t.dropped as f64 / t.offered as f64);
        let tone = Summary::of(&s.tone_hz).map(|t| t.median);
        let frame_loss_pct = s.frame_loss_pct();
        let own_audio_received = match (i.kind, i.own_hz) {
            (Kind::Audio, Some(own)) => s.tone_hz.iter().any(|h| close_to(*h, own)),
            _ => false,
        };
        streams.push(StreamReport {
            from: i.from,
            to: i.to,
            kind: i.kind,
            link: i.profile,
            link_datagrams_offered: i.link_datagrams.0,
            link_datagrams_dropped: i.link_datagrams.1,
            packets_sent,
            packets_expected: s.seq_min.zip(s.seq_max).map_or(0, |(lo, hi)| hi - lo + 1),
            packets_received: s.packets_received,
            packet_loss_pct: s.link_loss_pct(),
            link_loss_pct,
            residual_loss_pct: s.packet_loss_pct(),
            packets_recovered: s.packets_recovered,
            retransmissions_sent: i.wire.map_or(0, |(_, r)| r),
            packets_duplicate: s.packets_duplicate,
            plis_sent: s.plis_sent,
            plis_received,
            frames_skipped_to_keyframe: s.frames_skipped_to_keyframe,
            frames_sent,
            frames_decoded: s.frames_decoded,
            frame_loss_pct,
            frames_incomplete: s.frames_incomplete,
            latency_ms: Summary::of(&s.latency_ms),
            psnr_db: Summary::of(&s.psnr_db),
            ssim: Summary::of(&s.ssim),
            tone_hz: tone,
            expected_hz: i.expected_hz.filter(|_| i.kind == Kind::Audio),
            tone_matches_sender: match (i.kind, tone, i.expected_hz) {
                (Kind::Audio, Some(t), Some(e)) => Some(close_to(t, e)),
                _ => None,
            },
            own_audio_received,
            frames_from_wrong_sender: s.frames_from_wrong_sender,
            frames_unmarked: s.frames_unmarked,
            freezes: s.freezes,
            freeze_ms: s.freeze_ms,
            accept_to_first_ms: since_ms(i.accepted_at, s.first_output_at),
            resume_to_first_ms: since_ms(s.resumed_at, s.first_output_after_resume),
            decode_errors: s.decode_errors,
            analysed_late: s.analysed_late,
            frames_skipped: skipped,
            source_frames_dropped: i.source_frames_dropped,
            failure: s.failure.clone(),
        });
    }
    let mut sync = Vec::new();
    for v in streams.iter().filter(|s| s.kind == Kind::Video) {
        let a = streams
            .iter()
            .find(|a| a.kind == Kind::Audio && a.from == v.from && a.to == v.to);
        if let (Some(a), Some(vl)) = (a, v.latency_ms)
            && let Some(al) = a.latency_ms
        {
            sync.push(SyncReport {
                from: v.from.clone(),
                to: v.to.clone(),
                av_offset_ms: vl.median - al.median,
            });
        }
    }
    let fell_behind = streams
        .iter()
        .any(|s| s.analysed_late > 0 || s.frames_skipped > 0 || s.source_frames_dropped > 0);
    MediaReport {
        streams,
        sync,
        fell_behind,
        failures,
    }
}

impl MediaReport {
    /// The stream `from → to` of `kind`.
    pub fn stream(&self, from: &str, to: &str, kind: Kind) -> Option<&StreamReport> {
        self.streams
            .iter()
            .find(|s| s.from == from && s.to == to && s.kind == kind)
    }

    /// The loss the link applied from `from` to `to` over all its streams (packets that did
    /// not arrive the first time), weighted by packets expected. `None` when none arrived.
    pub fn packet_loss(&self, from: &str, to: &str) -> Option<Loss> {
        self.loss_where(from, to, |s| s.packets_received - s.packets_recovered)
    }

    /// The loss left after recovery from `from` to `to`, over all its streams.
    pub fn residual_loss(&self, from: &str, to: &str) -> Option<Loss> {
        self.loss_where(from, to, |s| s.packets_received)
    }

    fn loss_where(&self, from: &str, to: &str, got: impl Fn(&StreamReport) -> u64) -> Option<Loss> {
        let (mut received, mut expected) = (0u64, 0u64);
        for s in self.streams.iter().filter(|s| s.from == from && s.to == to) {
            received += got(s).min(s.packets_expected);
            expected += s.packets_expected;
        }
        (expected > 0).then(|| Loss {
            packets_expected: expected as f64,
            pct: 100.0 * (1.0 - received as f64 / expected as f64),
        })
    }

    /// One line per stream that lost or repaired anything: what the link dropped (as the
    /// receiver measured it, and as the link counted it), what is left, and the feedback.
    fn recovery_lines(&self, out: &mut String) {
        for s in &self.streams {
            let active = s.packet_loss_pct > 0.0 || s.retransmissions_sent > 0 || s.plis_sent > 0;
            if !active {
                continue;
            }
            let wire = s
                .link_loss_pct
                .map_or("-".to_owned(), |l| format!("{l:.2}%"));
            let _ = writeln!(
                out,
                "{}→{} {}: link dropped {:.2}% (counted on the link {wire}), residual {:.2}%; \
                 {} recovered, {} resent, {} duplicate; PLI {} sent, {} received; \
                 {} frames skipped to a key frame",
                s.from,
                s.to,
                s.kind,
                s.packet_loss_pct,
                s.residual_loss_pct,
                s.packets_recovered,
                s.retransmissions_sent,
                s.packets_duplicate,
                s.plis_sent,
                s.plis_received,
                s.frames_skipped_to_keyframe,
            );
        }
    }

    /// A fixed-width table, one line per stream.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<18} {:<5} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>8} {:>8}",
            "stream",
            "kind",
            "lat p50",
            "lat p95",
            "loss %",
            "resid %",
            "frm %",
            "PSNR",
            "SSIM",
            "frz",
            "1st ms",
            "tone Hz"
        );
        let f = |v: Option<f64>, prec: usize| v.map_or("-".to_owned(), |x| format!("{x:.prec$}"));
        for s in &self.streams {
            let _ = writeln!(
                out,
                "{:<18} {:<5} {:>8} {:>8} {:>7.2} {:>7.2} {:>7.2} {:>7} {:>7} {:>6} {:>8} {:>8}",
                format!("{}→{}", s.from, s.to),
                s.kind.to_string(),
                f(s.latency_ms.map(|l| l.median), 1),
                f(s.latency_ms.map(|l| l.p95), 1),
                s.packet_loss_pct,
                s.residual_loss_pct,
                s.frame_loss_pct,
                f(s.psnr_db.map(|p| p.mean), 1),
                f(s.ssim.map(|p| p.mean), 3),
                s.freezes,
                f(s.accept_to_first_ms, 0),
                f(s.tone_hz, 1),
            );
        }
        self.recovery_lines(&mut out);
        for y in &self.sync {
            let _ = writeln!(
                out,
                "A/V offset {}→{}: {:+.1} ms",
                y.from, y.to, y.av_offset_ms
            );
        }
        if self.fell_behind {
            let _ = writeln!(
                out,
                "WARNING: the machine fell behind (late analysis, skipped or dropped frames); the figures above include its lag"
            );
        }
        for f in &self.failures {
            let _ = writeln!(out, "failure: {f}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_interpolates_between_ranks() {
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]).expect("non-empty");
        assert_eq!(s.median, 2.5);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 4.0);
        assert!((s.p95 - 3.85).abs() < 1e-9);
        assert!(Summary::of(&[]).is_none());
    }
}
