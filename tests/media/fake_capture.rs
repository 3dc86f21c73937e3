//! The fake-capture files callconf writes for a browser (Y4M video, WAV audio) carry what the
//! receiving side checks: every frame's mark reads back as (tag, frame number) in order, and
//! the audio is the participant's tone.

use callconf::media::analyze::{dominant_hz, read_mark};
use callconf::media::fake_capture::{read_wav, read_y4m_luma, write};
use callconf::media::synth::{VideoFormat, tone_hz};

#[test]
fn every_frame_is_marked_in_order_and_the_audio_is_the_tone() {
    let dir = std::env::temp_dir().join(format!("callconf-fake-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let fmt = VideoFormat::default();
    let tone = tone_hz(1);
    let files = write(&dir, fmt, 2, tone, 2).expect("files written");
    let planes = read_y4m_luma(&files.video).expect("y4m reads back");
    let samples = read_wav(&files.audio).expect("wav reads back");
    std::fs::remove_dir_all(&dir).expect("scratch removed");

    assert_eq!(planes.len() as u32, files.frames);
    assert_eq!(files.frames, 2 * fmt.fps);
    for (n, y) in planes.iter().enumerate() {
        assert_eq!((y.width, y.height), (fmt.width, fmt.height));
        assert_eq!(read_mark(y), Some((2, n as u32)), "frame {n}");
    }
    assert_eq!(samples.len(), 2 * 48_000);
    let hz = dominant_hz(&samples[..48_000], 48_000).expect("a tone");
    assert!(
        (hz - f64::from(tone)).abs() <= f64::from(tone) * 0.02,
        "{hz} Hz, want {tone}"
    );
}
