//! Bad input is refused with a typed error, never a panic, and a decoder fed garbage
//! recovers at the next key frame.

use std::time::Duration;

use callconf::media::analyze::read_mark;
use callconf::media::codec::{AudioDecoder, VideoDecoder};
use callconf::media::error::MediaError;
use callconf::media::synth::{AudioSource, VideoFormat, VideoSource};

use crate::support::{video_frames, video_pts};

fn refused_field<T>(r: Result<T, MediaError>) -> &'static str {
    match r {
        Err(MediaError::InvalidArgument { field, .. }) => field,
        Err(e) => panic!("expected InvalidArgument, got {e}"),
        Ok(_) => panic!("expected InvalidArgument, got Ok"),
    }
}

#[test]
fn out_of_range_formats_and_tones_are_refused() {
    let d = VideoFormat::default();
    let cases = [
        (VideoFormat { width: 100, ..d }, "width"),
        (VideoFormat { width: 321, ..d }, "width"),
        (VideoFormat { width: 4000, ..d }, "width"),
        (VideoFormat { height: 0, ..d }, "height"),
        (VideoFormat { fps: 0, ..d }, "fps"),
        (VideoFormat { fps: 240, ..d }, "fps"),
        (
            VideoFormat {
                bitrate_kbps: 1,
                ..d
            },
            "bitrate_kbps",
        ),
    ];
    for (fmt, field) in cases {
        assert_eq!(refused_field(VideoSource::start(fmt, 0)), field, "{fmt:?}");
    }
    assert_eq!(refused_field(AudioSource::start(0)), "hz");
    assert_eq!(refused_field(AudioSource::start(30_000)), "hz");
}

#[test]
fn decoders_refuse_empty_input_and_time_going_backwards() {
    let frames = video_frames(5, 2);
    let mut video = VideoDecoder::new().expect("decoder starts");
    assert_eq!(refused_field(video.decode(&[], video_pts(0))), "frame");
    video
        .decode(&frames[0].data, video_pts(1))
        .expect("decodes");
    assert_eq!(
        refused_field(video.decode(&frames[1].data, video_pts(1))),
        "pts"
    );
    let mut audio = AudioDecoder::new().expect("decoder starts");
    assert_eq!(refused_field(audio.decode(&[], Duration::ZERO)), "packet");
    assert_eq!(
        refused_field(audio.decode(&vec![0; 70_000], Duration::ZERO)),
        "packet"
    );
}

#[test]
fn garbage_is_dropped_and_the_next_key_frame_recovers() {
    let frames = video_frames(6, 2);
    let mut video = VideoDecoder::new().expect("decoder starts");
    let garbage: Vec<u8> = (0..500u32).map(|i| (i * 37 % 251) as u8).collect();
    let out = video
        .decode(&garbage, video_pts(0))
        .expect("garbage is not a pipeline failure");
    assert_eq!(out, None, "garbage shows no picture");
    let delta = video
        .decode(&frames[1].data, video_pts(1))
        .expect("not a failure");
    assert_eq!(
        delta, None,
        "a delta frame before any key frame shows nothing"
    );
    let key = video
        .decode(&frames[0].data, video_pts(2))
        .expect("decodes")
        .expect("a key frame shows a picture");
    assert_eq!(read_mark(&key), Some((6, frames[0].frame_no)));

    let mut audio = AudioDecoder::new().expect("decoder starts");
    let samples = audio
        .decode(&garbage, Duration::ZERO)
        .expect("not a pipeline failure");
    assert!(
        samples.len() <= 960 * 6,
        "at most one packet's worth of samples"
    );
}
