//! What an impaired link did to each RTP stream, counted on the wire.
//!
//! With loss recovery on, the receiver's sequence numbers show what is left after
//! retransmission, not what the link dropped. SRTP leaves the RTP header in the clear
//! (RFC 3711: only the payload is encrypted), so the link can count, per SSRC, the RTP
//! datagrams it was offered and those it dropped: the loss the link applied to each stream,
//! and the retransmissions (datagrams on a stream's RTX SSRC) that repaired it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::limits;

/// The SSRC of an RTP datagram, `None` for anything else (STUN, DTLS, RTCP).
///
/// RFC 5761 §4 tells RTP from RTCP on a muxed port by the second byte: RTCP packet types
/// 192–223 are payload types 64–95 once the marker bit is masked. RFC 7983 tells STUN (first
/// byte 0–3) and DTLS (20–63) from RTP (128–191).
pub fn rtp_ssrc(datagram: &[u8]) -> Option<u32> {
    let [b0, b1, _, _, _, _, _, _, s0, s1, s2, s3, ..] = *datagram else {
        return None;
    };
    if !(128..=191).contains(&b0) || (64..=95).contains(&(b1 & 0x7f)) {
        return None;
    }
    Some(u32::from_be_bytes([s0, s1, s2, s3]))
}

/// RTP datagrams of one SSRC the link was offered, and how many of them it dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub offered: u64,
    pub dropped: u64,
}

/// Per-SSRC tallies of one link, bounded by `LINK_SSRC_TALLIES_MAX` (a connection carries a
/// handful of SSRCs; past the bound new ones go uncounted).
#[derive(Debug, Default)]
pub struct Tallies {
    by_ssrc: Mutex<BTreeMap<u32, Tally>>,
}

impl Tallies {
    /// Counts `datagram` if it is RTP.
    pub fn count(&self, datagram: &[u8], dropped: bool) {
        let Some(ssrc) = rtp_ssrc(datagram) else {
            return;
        };
        let mut m = self.by_ssrc.lock().expect("tallies lock");
        if !m.contains_key(&ssrc) && m.len() >= limits::LINK_SSRC_TALLIES_MAX {
            return;
        }
        let t = m.entry(ssrc).or_default();
        t.offered += 1;
        t.dropped += u64::from(dropped);
    }

    pub fn get(&self, ssrc: u32) -> Tally {
        self.by_ssrc
            .lock()
            .expect("tallies lock")
            .get(&ssrc)
            .copied()
            .unwrap_or_default()
    }

    /// Starts a new measurement window.
    pub fn reset(&self) {
        self.by_ssrc.lock().expect("tallies lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(pt: u8, ssrc: u32) -> Vec<u8> {
        let mut d = vec![0x80, pt, 0, 1, 0, 0, 0, 0];
        d.extend_from_slice(&ssrc.to_be_bytes());
        d.extend_from_slice(&[0; 20]);
        d
    }

    #[test]
    fn rtp_is_told_from_rtcp_stun_and_dtls() {
        assert_eq!(rtp_ssrc(&rtp(96, 7)), Some(7));
        assert_eq!(rtp_ssrc(&rtp(96 | 0x80, 7)), Some(7), "marker bit set");
        assert_eq!(rtp_ssrc(&rtp(200, 7)), None, "sender report");
        assert_eq!(rtp_ssrc(&rtp(206, 7)), None, "payload feedback (PLI)");
        let mut stun = rtp(1, 7);
        stun[0] = 0x00;
        assert_eq!(rtp_ssrc(&stun), None);
        let mut dtls = rtp(1, 7);
        dtls[0] = 23;
        assert_eq!(rtp_ssrc(&dtls), None);
        assert_eq!(rtp_ssrc(&[0x80, 96, 0]), None, "too short");
    }

    #[test]
    fn tallies_count_per_ssrc_and_reset() {
        let t = Tallies::default();
        for i in 0..20 {
            t.count(&rtp(96, 1), i % 10 == 0);
        }
        t.count(&rtp(97, 2), false);
        t.count(&rtp(201, 1), true);
        assert_eq!(
            t.get(1),
            Tally {
                offered: 20,
                dropped: 2
            }
        );
        assert_eq!(t.get(2).offered, 1);
        t.reset();
        assert_eq!(t.get(1), Tally::default());
    }
}
