//! Loss recovery on the reference media path, as real WebRTC stacks do it: NACK with RFC 4588
//! retransmission (RTX) and picture loss indication (PLI) answered with a key frame.
//!
//! Why it is the default: a receiver without feedback can only decode what arrived, so a lost
//! packet corrupts every frame until the next periodic key frame, which is not what any SDK a
//! user certifies against does. `Recovery::None` keeps the feedback-free path for measuring the
//! bare link (the loss and quality a link does to media with no repair).
//!
//! The pieces are webrtc-rs interceptors: its NACK generator (receiver side: gaps in the
//! sequence numbers become RTCP NACKs, repeated every `NACK_INTERVAL_MS`) and responder (sender
//! side: a bounded buffer of sent packets, resent on the RTX SSRC), plus RTCP sender and
//! receiver reports. The one interceptor of this module passes keyframe requests (PLI, FIR) on
//! to the sending track: inbound RTCP otherwise ends inside the chain, and only the application
//! owns the encoder that can answer them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtc::interceptor::{
    Attribute, Interceptor, NackGeneratorBuilder, NackResponderBuilder, Packet, Registry, Slot,
    StreamInfo, TaggedPacket,
};
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_nack, configure_rtcp_reports,
};
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_RTX, MediaEngine};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use rtc::sansio::Protocol;
use serde::Serialize;

use super::error::MediaError;
use super::limits;
use super::sender::VP8_PT;

/// The payload type of VP8's retransmission stream (`apt=96`).
pub const RTX_PT: u8 = 97;

/// How a media path repairs loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// NACK + RTX retransmission of lost video packets, PLI → key frame when a frame cannot
    /// be recovered in time (what browsers and mobile SDKs do).
    #[default]
    NackPli,
    /// No RTCP feedback at all: what is lost stays lost, the picture stays broken until the
    /// encoder's next periodic key frame.
    None,
}

impl Recovery {
    pub fn is_on(self) -> bool {
        self == Recovery::NackPli
    }
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Recovery::NackPli => "nack-pli",
            Recovery::None => "none",
        })
    }
}

impl std::str::FromStr for Recovery {
    type Err = MediaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "nack-pli" | "nack_pli" => Ok(Recovery::NackPli),
            "none" => Ok(Recovery::None),
            other => Err(MediaError::InvalidArgument {
                field: "recovery",
                reason: format!("{other:?} is not one of nack-pli, none"),
            }),
        }
    }
}

/// The RTX codec of VP8 (RFC 4588), registered only when recovery is on.
fn rtx_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_RTX.to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: format!("apt={VP8_PT}"),
            rtcp_feedback: vec![],
        },
        payload_type: RTX_PT,
    }
}

/// The interceptor chain of one peer connection. With recovery on it also registers, on
/// `engine` (whose codecs are already registered), the RTX codec and the `nack`/`nack pli`
/// feedback of video, so both appear in the SDP.
pub fn registry(recovery: Recovery, engine: &mut MediaEngine) -> Result<Registry, MediaError> {
    let registry = Registry::new();
    if !recovery.is_on() {
        return Ok(registry);
    }
    engine.register_codec(rtx_codec(), RtpCodecKind::Video)?;
    // `configure_nack` registers the feedback; its interceptors are replaced below by ones
    // sized from `limits` (a registry keeps one interceptor per slot, the last given).
    let registry = configure_nack(registry, engine);
    let registry = registry
        .with(
            Slot::NackResponder,
            NackResponderBuilder::new()
                .with_size(limits::NACK_BUFFER_PACKETS_MAX)
                .build(),
        )
        .with(
            Slot::NackGenerator,
            NackGeneratorBuilder::new()
                .with_size(limits::NACK_RECEIVE_LOG_PACKETS_MAX)
                .with_interval(Duration::from_millis(limits::NACK_INTERVAL_MS))
                .with_max_nacks_per_packet(limits::NACKS_PER_PACKET_MAX)
                .build(),
        );
    let registry = configure_rtcp_reports(registry);
    Ok(registry.with(Slot::from(14_000), KeyframeRequests::default()))
}

/// Marks inbound PLI and FIR for delivery to the sending track; leaves the rest of the inbound
/// RTCP to end in the chain. Last in the chain (closest to the application), so every
/// interceptor has seen a packet before this narrows it down.
#[derive(Default)]
struct KeyframeRequests {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

fn is_keyframe_request(p: &dyn rtc::rtcp::Packet) -> bool {
    let any = p.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let requests: Vec<_> = packets
                .iter()
                .filter(|p| is_keyframe_request(p.as_ref()))
                .cloned()
                .collect();
            if requests.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(requests);
            msg.message.add(Attribute::DeliverToApplication);
        }
        // Bounded by the chain: the driver polls after every handle_read.
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write.pop_front()
    }
}

impl Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

/// Whether a batch of RTCP packets delivered to a sending track asks for a key frame.
pub fn asks_for_keyframe(packets: &[Box<dyn rtc::rtcp::Packet>]) -> bool {
    packets.iter().any(|p| is_keyframe_request(p.as_ref()))
}

/// The PLI a receiver sends for `media_ssrc`.
pub fn pli(media_ssrc: u32) -> Vec<Box<dyn rtc::rtcp::Packet>> {
    vec![Box::new(PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc,
    })]
}

/// The RTX SSRC paired with a media SSRC (any value distinct from it works; derived so both
/// ends of a test can name it).
pub fn rtx_ssrc(ssrc: u32) -> u32 {
    let r = ssrc ^ 0x5254_5800;
    if r == ssrc || r == 0 {
        ssrc.wrapping_add(1)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_names_parse_and_print() {
        assert_eq!("nack-pli".parse::<Recovery>().ok(), Some(Recovery::NackPli));
        assert_eq!("none".parse::<Recovery>().ok(), Some(Recovery::None));
        let e = "fec".parse::<Recovery>().expect_err("unknown");
        assert_eq!(e.code(), 707);
        assert_eq!(Recovery::default().to_string(), "nack-pli");
    }

    #[test]
    fn only_keyframe_requests_are_passed_on() {
        use rtc::rtcp::receiver_report::ReceiverReport;
        assert!(asks_for_keyframe(&pli(7)));
        let rr: Vec<Box<dyn rtc::rtcp::Packet>> = vec![Box::new(ReceiverReport::default())];
        assert!(!asks_for_keyframe(&rr));
        assert_ne!(rtx_ssrc(42), 42);
    }
}
