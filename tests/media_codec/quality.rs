//! Luma PSNR and SSIM: the cap for identical planes, known values, clearly lower values for a
//! shifted or noisy plane, and worst values for planes that cannot be compared.

use callconf::media::analyze::{PSNR_CAP_DB, PSNR_FLOOR_DB, SSIM_FLOOR, psnr_db, ssim};
use callconf::media::synth::YPlane;

const W: u32 = 320;
const H: u32 = 240;

/// A smooth picture with structure at several scales (gradients and a soft checkerboard).
fn picture() -> YPlane {
    let data = (0..H)
        .flat_map(|y| {
            (0..W).map(move |x| {
                let checker = if (x / 16 + y / 16) % 2 == 0 {
                    60.0
                } else {
                    -60.0
                };
                let v = 128.0 + 0.2 * x as f64 - 0.15 * y as f64
                    + checker
                    + 20.0 * ((x as f64) / 5.0).sin();
                v.clamp(0.0, 255.0) as u8
            })
        })
        .collect();
    YPlane {
        width: W,
        height: H,
        data,
    }
}

fn map(y: &YPlane, mut f: impl FnMut(u32, u32, u8) -> u8) -> YPlane {
    let data = (0..y.data.len())
        .map(|i| f(i as u32 % y.width, i as u32 / y.width, y.data[i]))
        .collect();
    YPlane {
        width: y.width,
        height: y.height,
        data,
    }
}

#[test]
fn identical_planes_give_the_cap_and_one() {
    let p = picture();
    assert_eq!(psnr_db(&p, &p.clone()), PSNR_CAP_DB);
    assert_eq!(PSNR_CAP_DB, 100.0);
    assert_eq!(ssim(&p, &p.clone()), 1.0);
}

#[test]
fn a_difference_of_one_everywhere_is_48_13_db() {
    let p = map(&picture(), |_, _, v| v.min(254));
    let q = map(&p, |_, _, v| v + 1);
    let db = psnr_db(&p, &q);
    // MSE 1: 10 log10(255²) = 48.1308 dB.
    assert!((db - 48.1308).abs() < 1e-3, "{db}");
    let s = ssim(&p, &q);
    assert!(s > 0.99 && s < 1.0, "a barely visible change: SSIM {s}");
}

#[test]
fn a_shifted_or_noisy_plane_scores_clearly_lower() {
    let p = picture();
    let shifted = map(&p, |x, y, _| p.data[(y * W + (x + 3).min(W - 1)) as usize]);
    let (db, s) = (psnr_db(&p, &shifted), ssim(&p, &shifted));
    assert!(db < 25.0, "shifted by 3 px: PSNR {db:.2}");
    assert!(s < 0.8, "shifted by 3 px: SSIM {s:.4}");

    let mut state = 7u32;
    let noisy = map(&p, |_, _, v| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let n = (state >> 27) as i32 - 16; // -16..=15
        (i32::from(v) + n).clamp(0, 255) as u8
    });
    let (db, s) = (psnr_db(&p, &noisy), ssim(&p, &noisy));
    assert!((25.0..35.0).contains(&db), "noise of ±16: PSNR {db:.2}");
    assert!(s < 0.9, "noise of ±16: SSIM {s:.4}");

    let inverted = map(&p, |_, _, v| 255 - v);
    let s = ssim(&p, &inverted);
    assert!(
        (-1.0..0.0).contains(&s),
        "an inverted picture anti-correlates: SSIM {s:.4}"
    );
    assert_eq!(ssim(&p, &noisy), ssim(&noisy, &p), "SSIM is symmetric");
}

#[test]
fn planes_that_cannot_be_compared_get_the_worst_values() {
    let p = picture();
    let small = YPlane {
        width: W / 2,
        height: H / 2,
        data: vec![0; (W * H / 4) as usize],
    };
    assert_eq!(psnr_db(&p, &small), PSNR_FLOOR_DB);
    assert_eq!(ssim(&p, &small), SSIM_FLOOR);
    let malformed = YPlane {
        width: W,
        height: H,
        data: vec![0; 5],
    };
    assert_eq!(psnr_db(&malformed, &p), PSNR_FLOOR_DB);
    assert_eq!(ssim(&malformed, &p), SSIM_FLOOR);
    let empty = YPlane {
        width: 0,
        height: 0,
        data: vec![],
    };
    assert_eq!(psnr_db(&empty, &empty), PSNR_FLOOR_DB);
    assert_eq!(ssim(&empty, &empty), SSIM_FLOOR);
    let tiny = YPlane {
        width: 3,
        height: 2,
        data: vec![10, 20, 30, 40, 50, 60],
    };
    assert_eq!(
        ssim(&tiny, &tiny.clone()),
        1.0,
        "a plane smaller than a window is one window"
    );
}
