//! The acceptance run, through the CLI's own code path:
//! `callconf media --delay-ms 150 --loss-pct 5 --video --recovery none` reports the link's
//! delay and loss within the bars (without recovery: a retransmission would add a round trip
//! to the video it repairs, which `recovery_on` checks), an unimpaired stream's PSNR is at
//! least 30 dB with the default recovery, and nobody receives its own audio.

use callconf::media::impair::LossModel;
use callconf::media::recovery::Recovery;
use callconf::media::run::{MediaArgs, measure};
use callconf::media::stream::Kind;

fn args(delay_ms: f64, loss_pct: f64) -> MediaArgs {
    MediaArgs {
        video: true,
        delay_ms,
        jitter_ms: 0.0,
        loss_pct,
        loss_model: LossModel::Paced,
        burst_len: 1.0,
        bandwidth_kbps: 0.0,
        seconds: 12.0,
        baseline_seconds: 2.0,
        recovery: Recovery::None,
        seed: 1,
        json: None,
        browser: None,
    }
}

#[test]
fn delay_150_and_loss_5_are_reported_within_the_bars() {
    let _serial = crate::serial();
    let run = crate::runtime()
        .block_on(measure(&args(150.0, 5.0)))
        .expect("media run");
    let table = run.report.table();
    assert!(!run.report.fell_behind, "fell behind:\n{table}");
    for b in &run.baseline {
        let added = b.added_latency_ms.expect("latency in both windows");
        assert!(
            (added - 150.0).abs() <= 5.0,
            "{}→{} {}: +{added:.1} ms\n{table}",
            b.from,
            b.to,
            b.kind
        );
    }
    for dir in [("alice", "bob"), ("bob", "alice")] {
        let loss = run
            .report
            .packet_loss(dir.0, dir.1)
            .expect("packets arrived")
            .pct;
        assert!(
            (loss - 5.0).abs() <= 1.5,
            "{dir:?}: {loss:.2}% loss\n{table}"
        );
        let video = run
            .report
            .stream(dir.0, dir.1, Kind::Video)
            .expect("video stream");
        assert!(video.ssim.is_some() && video.psnr_db.is_some(), "{table}");
    }
}

#[test]
fn unimpaired_video_is_at_least_30_db_and_nobody_hears_itself() {
    let _serial = crate::serial();
    let run = crate::runtime()
        .block_on(measure(&MediaArgs {
            seconds: 3.0,
            baseline_seconds: 1.0,
            recovery: Recovery::default(),
            ..args(0.0, 0.0)
        }))
        .expect("media run");
    let table = run.report.table();
    for s in &run.report.streams {
        assert!(!s.own_audio_received, "{} heard itself\n{table}", s.to);
        if s.kind == Kind::Video {
            let psnr = s.psnr_db.expect("PSNR samples");
            assert!(
                psnr.mean >= 30.0,
                "{}→{} PSNR {:.1} dB\n{table}",
                s.from,
                s.to,
                psnr.mean
            );
            assert_eq!(s.frames_from_wrong_sender, 0, "{table}");
        } else {
            assert_eq!(s.tone_matches_sender, Some(true), "{table}");
        }
    }
}
