//! Every limit of the media path, in one place, units last.
//!
//! The media path runs real threads and sockets in real time, so each queue, wait and loop
//! has a bound here; the module using it says what happens when it is reached.

/// Largest one-way delay or jitter a link profile accepts.
pub const DELAY_MS_MAX: f64 = 10_000.0;
/// Longest mean loss burst a link profile accepts, in datagrams.
pub const BURST_LEN_MAX: f64 = 1_000.0;
/// A rate-limited link drops (tail drop) a datagram that would wait longer than this.
pub const QUEUE_MS_MAX: f64 = 1_000.0;
/// Datagrams one impaired socket holds back at most; past this they are dropped and counted.
pub const HELD_DATAGRAMS_MAX: usize = 16_384;

/// Participants in one media session (a group call's mesh is n·(n−1)/2 peer connections).
pub const PARTICIPANTS_MAX: usize = 8;
/// Encoded frames waiting between a source thread and the sending task; a full queue means
/// the machine fell behind and is reported as such.
pub const SEND_QUEUE_FRAMES_MAX: usize = 64;
/// RTP packets waiting between the network task and a receiver's analysis thread.
pub const RECEIVE_QUEUE_PACKETS_MAX: usize = 4_096;
/// Frames (and audio packets) whose capture time and reference picture a sender remembers,
/// so receivers can look them up: 10 s of 30 fps video (audio: 10 s of 20 ms packets).
pub const CAPTURE_LOG_ENTRIES_MAX: usize = 512;
/// Incomplete video frames a receiver keeps assembling at once before giving up the oldest.
pub const ASSEMBLING_FRAMES_MAX: usize = 32;
/// Latency and quality samples kept per stream (a 10-minute run at 50 packets per second).
pub const SAMPLES_PER_STREAM_MAX: usize = 30_000;

/// A gap between consecutive decoded video frames longer than this is a freeze.
pub const FREEZE_GAP_MS: u64 = 150;
/// Audio window over which the received dominant frequency is measured.
pub const TONE_WINDOW_SAMPLES: usize = 4_800;

/// How long ICE+DTLS may take to connect a peer connection over loopback.
pub const CONNECT_TIMEOUT_MS: u64 = 15_000;
/// How long offer/answer may take through the reference server's signaling.
pub const NEGOTIATION_TIMEOUT_MS: u64 = 10_000;
/// How long a source or decoder call may block.
pub const PULL_TIMEOUT_MS: u64 = 2_000;
/// A receiver whose analysis lags the wire by more than this reports that the machine fell
/// behind instead of reporting the lag as network latency.
pub const ANALYSIS_LAG_MS_MAX: u64 = 100;
/// A browser call's window in which the machine fell behind says nothing of the link, so it
/// is measured again, up to this many windows in all; the report counts those it discarded.
pub const WINDOW_ATTEMPTS_MAX: u32 = 3;

/// Concurrent 1:1 calls `callconf media-capacity` will try (each is two participants with
/// their own encoders, decoders and analysis threads).
pub const CAPACITY_CALLS_MAX: usize = 64;
/// Failure reasons a capacity step keeps for its verdict.
pub const CAPACITY_REASONS_MAX: usize = 8;

/// Sent RTP packets a sender keeps for retransmission on NACK (webrtc-rs wants a power of two;
/// 1,024 is ~10 s of 600 kbit/s video, far more than any recoverable round trip).
pub const NACK_BUFFER_PACKETS_MAX: u16 = 1_024;
/// Sequence numbers a receiver's NACK generator tracks per stream (a power of two).
pub const NACK_RECEIVE_LOG_PACKETS_MAX: u16 = 512;
/// How often the NACK generator reports what is still missing.
pub const NACK_INTERVAL_MS: u64 = 40;
/// NACKs sent for one missing packet before the generator stops asking for it.
pub const NACKS_PER_PACKET_MAX: u16 = 3;
/// How long a receiver with recovery waits for a frame that cannot be decoded yet (a packet
/// of it, or of one before it, is missing) before giving it up and asking for a key frame.
pub const RECOVERY_WAIT_MS_MAX: u64 = 1_000;
/// Shortest time between two PLIs on one stream (a key frame takes a round trip to come).
pub const PLI_INTERVAL_MS_MIN: u64 = 300;
/// Keyframe requests queued from an analysis thread to its track's RTCP writer.
pub const PLI_QUEUE_MAX: usize = 4;
/// Sequence numbers a receiver remembers to tell a retransmission from a duplicate.
pub const SEEN_SEQ_WINDOW_PACKETS: u64 = 4_096;
/// Padding-only packets a frame buffer remembers before the frame that follows them.
pub const FILLER_SEQS_MAX: usize = 1_024;
/// RTP streams (SSRCs) whose datagrams one impaired link counts separately.
pub const LINK_SSRC_TALLIES_MAX: usize = 64;

// Media interop with a browser (media/browser_call.rs).
/// How long the media page may take to dial in after Chromium starts.
pub const BROWSER_DIAL_TIMEOUT_MS: u64 = 20_000;
/// The largest message the media page may send (an answer SDP is a few kB).
pub const PAGE_MESSAGE_BYTES_MAX: usize = 256 * 1024;
/// Errors kept of what the page (or the browser's tracks) reported.
pub const PAGE_ERRORS_MAX: usize = 16;
/// Console lines of the browser kept for an error message.
pub const CONSOLE_TAIL_LINES: usize = 40;
/// Warm-up plus measured window of one browser call, in seconds (under the fake capture's
/// length, so frame numbers never wrap within a call).
pub const BROWSER_CALL_SECONDS_MAX: f64 = 50.0;
/// How long after the window a browser call waits for the page's last capture reports.
pub const LATE_CAPTURE_WAIT_MS: u64 = 300;
/// The largest datagram the browser relay forwards (a UDP datagram's maximum).
pub const RELAY_DATAGRAM_BYTES_MAX: usize = 65_536;
/// A receiving media page sends the luma of every this-many-th decoded frame (by its mark's
/// frame number) for PSNR and SSIM: 3 a second at 30 fps.
pub const LUMA_SAMPLE_EVERY_FRAMES: u32 = 10;
/// Luma planes a receiving page sends in one call at most (the page stops; more are refused).
pub const LUMA_SAMPLES_MAX: u64 = 400;
/// How long the page may take to answer a `getStats()` request.
pub const PAGE_STATS_TIMEOUT_MS: u64 = 3_000;
/// `getStats()` answers queued from the page's reader to the call (one is asked at a time).
pub const PAGE_STATS_QUEUE_MAX: usize = 4;
/// Messages waiting to go to a media session's browser page (offers, what to send, stats
/// requests); a full queue is an error (a request) or a skipped poll (stats).
pub const TO_PAGE_QUEUE_MAX: usize = 16;
/// How often a media session asks its browser page for getStats: the resolution of "first
/// audio played" and of packet counts at the browser.
pub const BROWSER_STATS_POLL_MS: u64 = 20;
