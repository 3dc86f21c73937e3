//! Typed errors of the media path, each with a stable numeric code.
//!
//! Codes are in the 700 range so they never collide with the call-control codes of
//! [`crate::core::CallError`] (4xx/5xx, SIP-like). A code, once published, keeps its meaning.

use thiserror::Error;

/// Everything that can go wrong on the media path.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MediaError {
    /// GStreamer could not be initialised, or a pipeline could not be built or started.
    #[error("gstreamer pipeline: {0}")]
    Pipeline(String),
    /// A GStreamer element this crate needs is not installed (names the element and the
    /// Debian package that ships it).
    #[error("gstreamer element `{element}` is missing (install {package})")]
    MissingElement {
        /// The factory name, e.g. `vp8enc`.
        element: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// Encoding or decoding failed mid-stream.
    #[error("codec: {0}")]
    Codec(String),
    /// The WebRTC stack refused an operation (peer connection, track, SDP).
    #[error("webrtc: {0}")]
    Transport(String),
    /// Offer/answer could not complete through the reference server's signaling.
    #[error("negotiation: {0}")]
    Negotiation(String),
    /// Something the media path waited for did not happen in time.
    #[error("timed out after {after_ms} ms waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        after_ms: u64,
    },
    /// An argument from outside (CLI flag, step text, scenario) is out of range.
    #[error("invalid `{field}`: {reason}")]
    InvalidArgument {
        /// The field or flag name.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The browser of a media interop call could not be started, or its page misbehaved
    /// (names what, with the tail of the page's console).
    #[error("browser: {0}")]
    Browser(String),
    /// The call control layer refused an operation the media run needed.
    #[error("call control: {0}")]
    Call(#[from] crate::core::CallError),
}

impl MediaError {
    /// The stable numeric code of this error.
    pub fn code(&self) -> u16 {
        match self {
            MediaError::Pipeline(_) => 701,
            MediaError::MissingElement { .. } => 702,
            MediaError::Codec(_) => 703,
            MediaError::Transport(_) => 704,
            MediaError::Negotiation(_) => 705,
            MediaError::Timeout { .. } => 706,
            MediaError::InvalidArgument { .. } => 707,
            MediaError::Browser(_) => 708,
            MediaError::Call(e) => e.code(),
        }
    }
}

impl From<webrtc::error::Error> for MediaError {
    fn from(e: webrtc::error::Error) -> Self {
        MediaError::Transport(e.to_string())
    }
}
