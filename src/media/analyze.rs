//! Pure analysis of received media: frame marks, luma PSNR/SSIM, dominant audio frequency.
//!
//! Why pure functions with no GStreamer: the verdicts of a media run (was this frame the one
//! that was sent, how damaged is it, whose voice is this) must be reproducible from the raw
//! planes and samples alone, testable without a pipeline, and cheap enough to run per frame.
//! The Debian GStreamer has no `iqa` element, so PSNR and SSIM are computed here on the
//! whole Y plane (nothing is excluded, the mark region included).
//!
//! # The frame mark
//!
//! [`crate::media::synth::VideoSource`] stamps every raw frame with `simplevideomark`
//! (gst-plugins-bad). The element draws one row of boxes at the bottom-left corner of the luma
//! plane: first [`MARK_CALIBRATION_BOXES`] calibration boxes alternating black (even index) and
//! white (odd index), then [`MARK_DATA_BITS`] data boxes, most significant bit first, white for
//! 1 and black for 0. The 32-bit word carries the source tag in its top 8 bits and the frame
//! number (modulo 2^24) in its low 24 bits, see [`mark_word`]. The box size is derived from the
//! plane's dimensions alone ([`mark_geometry`]), so a receiver needs nothing but the decoded plane.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::media::synth::YPlane;

/// Black/white calibration boxes drawn before the data boxes (the element's `pattern-count`).
pub const MARK_CALIBRATION_BOXES: u32 = 4;
/// Data boxes, one per bit of the mark word (the element's `pattern-data-count`).
pub const MARK_DATA_BITS: u32 = 32;
/// Boxes in the whole mark row.
pub const MARK_BOXES: u32 = MARK_CALIBRATION_BOXES + MARK_DATA_BITS;
/// Smallest box width: 8 px boxes survive VP8 at 320x240 / 600 kbps with a wide margin; smaller
/// ones start to bleed into their neighbours, so a plane too narrow for 8 px boxes has no mark.
pub const MARK_MIN_BOX_WIDTH_PX: u32 = 8;
/// Largest box width: wider boxes add no robustness, only cover more of the picture.
pub const MARK_MAX_BOX_WIDTH_PX: u32 = 32;
/// Frame numbers are carried modulo 2^24 (the low 24 bits of the mark word).
pub const MARK_FRAME_NO_MASK: u32 = 0x00FF_FFFF;
/// A box whose mean luma is at most this reads as black (0).
pub const MARK_DARK_MAX_LUMA: u8 = 96;
/// A box whose mean luma is at least this reads as white (1). Between the two thresholds
/// (a guard band around mid-grey) a box is ambiguous and the whole mark reads as absent,
/// which is what keeps ordinary picture content from being taken for a mark.
pub const MARK_LIGHT_MIN_LUMA: u8 = 160;

/// PSNR reported for identical planes (the true value is infinite). Every PSNR is capped here.
pub const PSNR_CAP_DB: f64 = 100.0;
/// PSNR reported when the planes cannot be compared (different sizes, malformed data): the
/// value of the largest possible error, so a threshold check fails and a minimum shows it.
pub const PSNR_FLOOR_DB: f64 = 0.0;
/// SSIM reported when the planes cannot be compared: the lowest possible SSIM, for the same
/// reason as [`PSNR_FLOOR_DB`].
pub const SSIM_FLOOR: f64 = -1.0;
/// Side of the square SSIM window.
pub const SSIM_WINDOW_PX: u32 = 8;
/// Step between SSIM windows (half a window: windows overlap, as in libvpx/ffmpeg).
pub const SSIM_STEP_PX: u32 = 4;

/// A window whose RMS (after removing DC) is below this is silence: about -70 dBFS.
pub const SILENCE_RMS_LSB: f64 = 10.0;
/// Fewer samples than this carry no usable frequency (under 1.4 ms at 48 kHz).
pub const DOMINANT_MIN_WINDOW_SAMPLES: usize = 64;
/// Only the first this-many samples of a window are analysed (about 5.5 s at 48 kHz), which
/// bounds the FFT's memory and time whatever the caller passes.
pub const DOMINANT_MAX_WINDOW_SAMPLES: usize = 1 << 18;

/// Where the mark's boxes are in a plane of a given size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkGeometry {
    /// Width of one box (the element's `pattern-width`).
    pub box_width_px: u32,
    /// Height of one box (the element's `pattern-height`); the row sits on the bottom edge.
    pub box_height_px: u32,
}

/// The mark geometry used for a `width` x `height` plane, or `None` when the plane is too small
/// to carry a mark of [`MARK_MIN_BOX_WIDTH_PX`] boxes.
///
/// Boxes are `width / MARK_BOXES` wide, rounded down to a multiple of 4 (so that at the usual
/// sizes they line up with VP8's 4x4 transform blocks) and clamped to
/// [`MARK_MIN_BOX_WIDTH_PX`]..=[`MARK_MAX_BOX_WIDTH_PX`]; they are twice as high as wide.
pub fn mark_geometry(width: u32, height: u32) -> Option<MarkGeometry> {
    let box_width_px = ((width / MARK_BOXES) & !3).min(MARK_MAX_BOX_WIDTH_PX);
    if box_width_px < MARK_MIN_BOX_WIDTH_PX {
        return None;
    }
    let box_height_px = box_width_px * 2;
    if box_height_px > height {
        return None;
    }
    Some(MarkGeometry {
        box_width_px,
        box_height_px,
    })
}

/// The 32-bit word a mark carries: `tag` in the top 8 bits, `frame_no` modulo 2^24 below.
pub fn mark_word(tag: u8, frame_no: u32) -> u64 {
    (u64::from(tag) << 24) | u64::from(frame_no & MARK_FRAME_NO_MASK)
}

/// Reads the `(tag, frame_no)` mark back from a luma plane.
///
/// Returns `None` when the plane is malformed or too small, when the calibration boxes are not
/// black/white/black/white, or when any box is ambiguous (mean luma inside the guard band
/// between [`MARK_DARK_MAX_LUMA`] and [`MARK_LIGHT_MIN_LUMA`]). Each box is judged by the mean
/// of its inner half (a quarter of the box is left out on every side) so that codec ringing at
/// the box edges does not count.
pub fn read_mark(y: &YPlane) -> Option<(u8, u32)> {
    if !well_formed(y) {
        return None;
    }
    let g = mark_geometry(y.width, y.height)?;
    let (w, h) = (g.box_width_px, g.box_height_px);
    let top = y.height - h;
    let (x_margin, y_margin) = (w / 4, h / 4);
    let mut word: u64 = 0;
    for i in 0..MARK_BOXES {
        let x0 = i * w + x_margin;
        let x1 = (i + 1) * w - x_margin;
        let (y0, y1) = (top + y_margin, top + h - y_margin);
        let mean = mean_luma(y, x0..x1, y0..y1);
        let bit = if mean <= f64::from(MARK_DARK_MAX_LUMA) {
            false
        } else if mean >= f64::from(MARK_LIGHT_MIN_LUMA) {
            true
        } else {
            return None;
        };
        if i < MARK_CALIBRATION_BOXES {
            // The element paints even calibration boxes black and odd ones white.
            if bit != (i % 2 == 1) {
                return None;
            }
        } else {
            word = (word << 1) | u64::from(bit);
        }
    }
    let tag = u8::try_from(word >> 24).ok()?;
    let frame_no = u32::try_from(word & u64::from(MARK_FRAME_NO_MASK)).ok()?;
    Some((tag, frame_no))
}

/// Luma PSNR in dB over the whole plane, `10 log10(255² / MSE)`.
///
/// Identical planes (MSE 0) give [`PSNR_CAP_DB`], and every value is capped there.
/// Planes of different sizes, or whose `data` length is not `width * height`, give
/// [`PSNR_FLOOR_DB`].
pub fn psnr_db(reference: &YPlane, received: &YPlane) -> f64 {
    if !comparable(reference, received) {
        return PSNR_FLOOR_DB;
    }
    let sse: u64 = reference
        .data
        .iter()
        .zip(&received.data)
        .map(|(&a, &b)| {
            let d = u64::from(a.abs_diff(b));
            d * d
        })
        .sum();
    if sse == 0 {
        return PSNR_CAP_DB;
    }
    let mse = sse as f64 / reference.data.len() as f64;
    (10.0 * (255.0 * 255.0 / mse).log10()).min(PSNR_CAP_DB)
}

/// Luma SSIM over the whole plane, in [-1, 1].
///
/// The mean SSIM of [`SSIM_WINDOW_PX`]-square windows with uniform weights, taken every
/// [`SSIM_STEP_PX`] in both directions (the last row/column of windows is aligned with the
/// plane's edge so every pixel is covered), with the standard constants
/// C1 = (0.01·255)² and C2 = (0.03·255)². A plane smaller than a window is one window.
/// Identical planes give exactly 1.0. Planes that cannot be compared (as for [`psnr_db`])
/// give [`SSIM_FLOOR`].
pub fn ssim(reference: &YPlane, received: &YPlane) -> f64 {
    if !comparable(reference, received) {
        return SSIM_FLOOR;
    }
    if reference.data == received.data {
        return 1.0;
    }
    let win_w = SSIM_WINDOW_PX.min(reference.width);
    let win_h = SSIM_WINDOW_PX.min(reference.height);
    let xs = window_starts(reference.width, win_w);
    let ys = window_starts(reference.height, win_h);
    let mut total = 0.0;
    let mut count = 0u64;
    for &y0 in &ys {
        for &x0 in &xs {
            total += window_ssim(reference, received, x0, y0, win_w, win_h);
            count += 1;
        }
    }
    // `comparable` refuses empty planes, so there is at least one window.
    assert!(count > 0, "a non-empty plane has at least one SSIM window");
    (total / count as f64).clamp(-1.0, 1.0)
}

/// The frequency in Hz of the strongest component of `samples` (taken at `rate_hz`), or `None`
/// for silence (RMS below [`SILENCE_RMS_LSB`] after removing DC), for a window shorter than
/// [`DOMINANT_MIN_WINDOW_SAMPLES`], or for a zero rate.
///
/// DC is removed, a Hann window applied, the window zero-padded to twice the next power of two
/// and transformed; the peak bin is refined by parabolic interpolation of the log magnitudes of
/// it and its two neighbours. Only the first [`DOMINANT_MAX_WINDOW_SAMPLES`] samples are used.
pub fn dominant_hz(samples: &[i16], rate_hz: u32) -> Option<f64> {
    if rate_hz == 0 {
        return None;
    }
    let samples = &samples[..samples.len().min(DOMINANT_MAX_WINDOW_SAMPLES)];
    let n = samples.len();
    if n < DOMINANT_MIN_WINDOW_SAMPLES {
        return None;
    }
    let mean = samples.iter().map(|&s| f64::from(s)).sum::<f64>() / n as f64;
    let energy: f64 = samples.iter().map(|&s| (f64::from(s) - mean).powi(2)).sum();
    if (energy / n as f64).sqrt() < SILENCE_RMS_LSB {
        return None;
    }
    let fft_len = n.next_power_of_two() * 2;
    let mut buf: Vec<Complex<f64>> = Vec::with_capacity(fft_len);
    let denom = (n - 1) as f64;
    buf.extend(samples.iter().enumerate().map(|(i, &s)| {
        let hann = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / denom).cos();
        Complex::new((f64::from(s) - mean) * hann, 0.0)
    }));
    buf.resize(fft_len, Complex::new(0.0, 0.0));
    FftPlanner::new()
        .plan_fft_forward(fft_len)
        .process(&mut buf);

    // Bins 1..fft_len/2 are the positive frequencies below Nyquist; bin 0 is DC (removed).
    let half = fft_len / 2;
    let mags: Vec<f64> = buf[..=half].iter().map(|c| c.norm()).collect();
    let (peak, _) = mags
        .iter()
        .enumerate()
        .skip(1)
        .take(half - 1)
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    let ln = |i: usize| mags[i].max(f64::MIN_POSITIVE).ln();
    let (a, b, c) = (ln(peak - 1), ln(peak), ln(peak + 1));
    let curvature = a - 2.0 * b + c;
    let offset = if curvature < 0.0 {
        (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some((peak as f64 + offset) * f64::from(rate_hz) / fft_len as f64)
}

fn well_formed(y: &YPlane) -> bool {
    y.width > 0
        && y.height > 0
        && (y.width as usize).checked_mul(y.height as usize) == Some(y.data.len())
}

fn comparable(a: &YPlane, b: &YPlane) -> bool {
    well_formed(a) && well_formed(b) && a.width == b.width && a.height == b.height
}

fn mean_luma(y: &YPlane, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> f64 {
    let stride = y.width as usize;
    let mut sum = 0u64;
    let mut count = 0u64;
    for row in ys {
        let start = row as usize * stride;
        for &p in &y.data[start + xs.start as usize..start + xs.end as usize] {
            sum += u64::from(p);
            count += 1;
        }
    }
    if count == 0 {
        return 0.0;
    }
    sum as f64 / count as f64
}

/// Start offsets of windows of `win` along `len`, every [`SSIM_STEP_PX`], the last one flush
/// with the edge.
fn window_starts(len: u32, win: u32) -> Vec<u32> {
    let last = len - win;
    let mut starts: Vec<u32> = (0..=last).step_by(SSIM_STEP_PX as usize).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    starts
}

fn window_ssim(a: &YPlane, b: &YPlane, x0: u32, y0: u32, w: u32, h: u32) -> f64 {
    const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
    const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
    let stride = a.width as usize;
    let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for row in y0..y0 + h {
        let start = row as usize * stride + x0 as usize;
        let end = start + w as usize;
        for (&p, &q) in a.data[start..end].iter().zip(&b.data[start..end]) {
            let (p, q) = (u64::from(p), u64::from(q));
            sa += p;
            sb += q;
            saa += p * p;
            sbb += q * q;
            sab += p * q;
        }
    }
    let n = f64::from(w * h);
    let (ma, mb) = (sa as f64 / n, sb as f64 / n);
    let va = saa as f64 / n - ma * ma;
    let vb = sbb as f64 / n - mb * mb;
    let cov = sab as f64 / n - ma * mb;
    ((2.0 * ma * mb + C1) * (2.0 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2))
}
