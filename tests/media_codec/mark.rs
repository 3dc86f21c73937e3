//! The frame mark: read back exactly as `simplevideomark` draws it, absent where it is not
//! drawn, and different for two participants.

use callconf::media::analyze::{
    MARK_BOXES, MARK_CALIBRATION_BOXES, mark_geometry, mark_word, psnr_db, read_mark,
};
use callconf::media::codec::VideoDecoder;
use callconf::media::synth::YPlane;

use crate::support::{video_frames, video_pts};

/// A 320x240 plane with a pseudo-random picture (a fixed LCG, so the test is repeatable).
fn noise_plane(seed: u32) -> YPlane {
    let mut state = seed;
    let data = (0..320 * 240)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    YPlane {
        width: 320,
        height: 240,
        data,
    }
}

/// Draws a mark the way simplevideomark does: calibration boxes black/white from the left,
/// then the 32 data bits, most significant first, on the bottom edge.
fn draw_mark(y: &mut YPlane, tag: u8, frame_no: u32) {
    let g = mark_geometry(y.width, y.height).expect("the plane is large enough");
    let word = mark_word(tag, frame_no);
    for i in 0..MARK_BOXES {
        let white = if i < MARK_CALIBRATION_BOXES {
            i % 2 == 1
        } else {
            (word >> (MARK_BOXES - 1 - i)) & 1 == 1
        };
        for row in y.height - g.box_height_px..y.height {
            for col in i * g.box_width_px..(i + 1) * g.box_width_px {
                y.data[(row * y.width + col) as usize] = if white { 255 } else { 0 };
            }
        }
    }
}

#[test]
fn a_drawn_mark_reads_back_exactly() {
    for (tag, frame_no) in [
        (0, 0),
        (1, 1),
        (0xA5, 0x5A_5A5A),
        (255, 0xFF_FFFF),
        (8, 1234),
    ] {
        let mut y = noise_plane(u32::from(tag));
        draw_mark(&mut y, tag, frame_no);
        assert_eq!(read_mark(&y), Some((tag, frame_no)));
    }
    assert_eq!(
        mark_word(1, 0x0100_0002),
        mark_word(1, 2),
        "frame numbers wrap at 2^24"
    );
}

#[test]
fn a_plane_without_a_mark_has_none() {
    let grey = YPlane {
        width: 320,
        height: 240,
        data: vec![128; 320 * 240],
    };
    assert_eq!(
        read_mark(&grey),
        None,
        "mid-grey is neither black nor white"
    );
    let black = YPlane {
        width: 320,
        height: 240,
        data: vec![0; 320 * 240],
    };
    assert_eq!(read_mark(&black), None, "no white calibration box");
    for seed in 0..20 {
        assert_eq!(
            read_mark(&noise_plane(seed)),
            None,
            "noise is not a mark (seed {seed})"
        );
    }
    let mut broken = noise_plane(1);
    draw_mark(&mut broken, 3, 99);
    let g = mark_geometry(320, 240).expect("320x240 carries a mark");
    // Turn the first calibration box white: the calibration no longer reads black/white.
    for row in 240 - g.box_height_px..240 {
        for col in 0..g.box_width_px {
            broken.data[(row * 320 + col) as usize] = 255;
        }
    }
    assert_eq!(read_mark(&broken), None);
    let small = YPlane {
        width: 100,
        height: 100,
        data: vec![0; 100 * 100],
    };
    assert_eq!(read_mark(&small), None, "too narrow for a mark");
    let short = YPlane {
        width: 320,
        height: 240,
        data: vec![0; 10],
    };
    assert_eq!(read_mark(&short), None, "malformed plane");
}

#[test]
fn two_tags_give_two_marks_and_two_pictures() {
    let a = video_frames(1, 5);
    let b = video_frames(2, 5);
    let mut decoder_a = VideoDecoder::new().expect("decoder starts");
    let mut decoder_b = VideoDecoder::new().expect("decoder starts");
    for (i, (fa, fb)) in a.iter().zip(&b).enumerate() {
        let da = decoder_a
            .decode(&fa.data, video_pts(i))
            .expect("decodes")
            .expect("shown");
        let db = decoder_b
            .decode(&fb.data, video_pts(i))
            .expect("decodes")
            .expect("shown");
        assert_eq!(read_mark(&da), Some((1, fa.frame_no)));
        assert_eq!(read_mark(&db), Some((2, fb.frame_no)));
        let p = psnr_db(&fa.reference, &fb.reference);
        assert!(p < 30.0, "the two pictures differ (PSNR {p:.1} dB)");
    }
}
