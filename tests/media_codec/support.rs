//! Helpers shared by the media tests.

use std::time::Duration;

use callconf::media::synth::{AudioSource, EncodedAudio, EncodedVideo, VideoFormat, VideoSource};

/// Longest wait for one frame or packet: far above the 33 ms / 20 ms pace, so only a stuck
/// pipeline hits it.
pub const NEXT_TIMEOUT: Duration = Duration::from_secs(2);

/// The next `n` encoded frames of a fresh default-format source tagged `tag`.
pub fn video_frames(tag: u8, n: usize) -> Vec<EncodedVideo> {
    let mut source = VideoSource::start(VideoFormat::default(), tag).expect("video source starts");
    take_video(&mut source, n)
}

/// The next `n` encoded frames of `source`.
pub fn take_video(source: &mut VideoSource, n: usize) -> Vec<EncodedVideo> {
    (0..n)
        .map(|i| {
            source
                .next(NEXT_TIMEOUT)
                .expect("the source keeps running")
                .unwrap_or_else(|| panic!("frame {i} came within {NEXT_TIMEOUT:?}"))
        })
        .collect()
}

/// The next `n` packets of `source`.
pub fn take_audio(source: &mut AudioSource, n: usize) -> Vec<EncodedAudio> {
    (0..n)
        .map(|i| {
            source
                .next(NEXT_TIMEOUT)
                .expect("the source keeps running")
                .unwrap_or_else(|| panic!("packet {i} came within {NEXT_TIMEOUT:?}"))
        })
        .collect()
}

/// A decode timestamp for frame `i` at 30 fps (strictly increasing in `i`).
pub fn video_pts(i: usize) -> Duration {
    Duration::from_nanos(1_000_000_000 / 30 * i as u64)
}
