//! The live sources: frames and packets come numbered, paced by the clock, and a forced key
//! frame arrives on the next frame.

use std::time::Duration;

use callconf::media::codec::VideoDecoder;
use callconf::media::synth::{AudioSource, VideoFormat, VideoSource, tone_hz};

use crate::support::{take_audio, take_video, video_frames, video_pts};

#[test]
fn video_frames_are_numbered_one_by_one_and_paced_at_the_frame_rate() {
    let frames = video_frames(3, 31);
    for pair in frames.windows(2) {
        assert_eq!(pair[1].frame_no, pair[0].frame_no + 1, "no frame skipped");
        assert!(
            pair[1].capture > pair[0].capture,
            "capture instants increase"
        );
    }
    // Numbering starts at 0; a loaded machine may let the first frames age out of the
    // source's 3-frame queue before the first pull.
    assert!(
        frames[0].frame_no < 3,
        "numbering starts at 0, got {}",
        frames[0].frame_no
    );
    // The live source stamps frames as it makes them, one every 33.3 ms; the span over 30
    // intervals averages out scheduling jitter.
    let span = frames[30].capture - frames[0].capture;
    let mean_ms = span.as_secs_f64() * 1000.0 / 30.0;
    assert!(
        (30.0..=36.7).contains(&mean_ms),
        "mean frame interval {mean_ms:.2} ms"
    );
    let fmt = VideoFormat::default();
    for f in &frames {
        assert_eq!(
            (f.reference.width, f.reference.height),
            (fmt.width, fmt.height)
        );
        assert_eq!(f.reference.data.len(), (fmt.width * fmt.height) as usize);
        assert!(!f.data.is_empty());
    }
}

#[test]
fn the_first_frame_is_a_key_frame_and_a_forced_one_comes_next() {
    let mut source = VideoSource::start(VideoFormat::default(), 4).expect("video source starts");
    let head = take_video(&mut source, 8);
    assert!(head[0].keyframe, "a stream starts with a key frame");
    assert!(
        head[1..].iter().all(|f| !f.keyframe),
        "then delta frames, for a second"
    );
    source.force_keyframe();
    let after = take_video(&mut source, 4);
    assert!(
        after[0].keyframe,
        "the frame after force_keyframe is a key frame"
    );
    assert!(
        after[1..].iter().all(|f| !f.keyframe),
        "forcing is for one frame only"
    );
    // A key frame decodes on its own; a delta frame needs what came before it.
    let mut fresh = VideoDecoder::new().expect("decoder starts");
    let delta = fresh
        .decode(&after[1].data, video_pts(0))
        .expect("not a failure");
    assert_eq!(delta, None, "a delta frame alone shows nothing");
    let key = fresh.decode(&after[0].data, video_pts(1)).expect("decodes");
    assert!(key.is_some(), "the forced key frame decodes alone");

    // The same through a handle used from another thread.
    let handle = source.keyframe_handle();
    std::thread::spawn(move || handle.request())
        .join()
        .expect("the requester runs");
    let after = take_video(&mut source, 2);
    assert!(
        after[0].keyframe && !after[1].keyframe,
        "one key frame, on request"
    );
}

#[test]
fn audio_packets_are_numbered_20_ms_long_and_paced() {
    let mut source = AudioSource::start(tone_hz(0)).expect("audio source starts");
    let packets = take_audio(&mut source, 26);
    for (i, p) in packets.iter().enumerate() {
        assert_eq!(p.seq, i as u64, "packets are numbered from 0");
        assert_eq!(p.duration, Duration::from_millis(20));
        assert!(
            (1..=400).contains(&p.data.len()),
            "an Opus packet, {} B",
            p.data.len()
        );
    }
    let span = packets[25].capture - packets[0].capture;
    let mean_ms = span.as_secs_f64() * 1000.0 / 25.0;
    assert!(
        (18.0..=22.0).contains(&mean_ms),
        "mean packet interval {mean_ms:.2} ms"
    );
}
