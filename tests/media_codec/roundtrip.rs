//! An unimpaired encode -> decode roundtrip gives back the picture that was sent, mark and all.

use std::time::Instant;

use callconf::media::analyze::{psnr_db, read_mark, ssim};
use callconf::media::codec::VideoDecoder;

use crate::support::{video_frames, video_pts};

#[test]
fn decoded_frames_match_their_reference_and_carry_their_mark() {
    const TAG: u8 = 7;
    // Pull first, analyse after: the source must not wait on the (debug-build) analysis.
    let frames = video_frames(TAG, 45);
    let mut decoder = VideoDecoder::new().expect("decoder starts");
    let (mut min_psnr, mut min_ssim) = (f64::INFINITY, f64::INFINITY);
    let (mut sum_psnr, mut sum_ssim) = (0.0, 0.0);
    let mut decode_time = std::time::Duration::ZERO;
    for (i, f) in frames.iter().enumerate() {
        let started = Instant::now();
        let decoded = decoder
            .decode(&f.data, video_pts(i))
            .expect("a clean stream decodes")
            .unwrap_or_else(|| panic!("frame {} produced a picture", f.frame_no));
        decode_time += started.elapsed();
        assert_eq!(
            read_mark(&f.reference),
            Some((TAG, f.frame_no)),
            "the raw frame is marked"
        );
        assert_eq!(
            read_mark(&decoded),
            Some((TAG, f.frame_no)),
            "the mark survives VP8"
        );
        let (p, s) = (
            psnr_db(&f.reference, &decoded),
            ssim(&f.reference, &decoded),
        );
        min_psnr = min_psnr.min(p);
        min_ssim = min_ssim.min(s);
        sum_psnr += p;
        sum_ssim += s;
    }
    let n = frames.len() as f64;
    eprintln!(
        "roundtrip: PSNR min {min_psnr:.2} mean {:.2} dB, SSIM min {min_ssim:.4} mean {:.4}, \
         decode {:.2} ms/frame",
        sum_psnr / n,
        sum_ssim / n,
        decode_time.as_secs_f64() * 1000.0 / n
    );
    assert!(min_psnr >= 30.0, "PSNR {min_psnr:.2} dB");
    assert!(min_ssim >= 0.9, "SSIM {min_ssim:.4}");
    assert!(
        min_psnr < 100.0,
        "VP8 is lossy: a decoded frame is not bit-exact"
    );
}
