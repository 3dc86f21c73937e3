//! `callconf media-capacity`: one clean call passes its step; a step whose reports show
//! loss that was not injected, or a machine that fell behind, fails with the reason named.

use callconf::media::capacity::{CapacityArgs, judge, measure};

#[test]
fn one_clean_call_passes_and_machine_trouble_fails_the_step() {
    let _serial = crate::serial();
    let args = CapacityArgs {
        audio_only: false,
        max_calls: 1,
        seconds: 3.0,
        warmup_seconds: 1.0,
        seed: 1,
        json: None,
    };
    let c = crate::runtime()
        .block_on(measure(&args))
        .expect("capacity run");
    assert_eq!(c.steps.len(), 1);
    let step = &c.steps[0];
    assert!(step.passed(), "{:?}", step.reasons);
    assert_eq!((c.capacity, c.limit_found), (1, false));
    assert_eq!(step.streams, 4, "two directions of audio and video");
    assert!(
        step.cpu_cores > 0.0 && step.cpu_cores < 2.5,
        "{}",
        step.cpu_cores
    );
    assert!(step.psnr_median_min_db.is_some_and(|p| p >= 30.0));

    // The same call, as if the machine had lost a packet and fallen behind.
    let mut r = crate::runtime().block_on(async {
        let s = crate::alice_calls_bob(false).await;
        s.run_for(std::time::Duration::from_secs(1)).await;
        let r = s.report();
        s.close().await;
        r
    });
    let clean = judge(1, 0.3, std::slice::from_ref(&r), false);
    assert!(clean.passed(), "{:?}", clean.reasons);
    r.streams[0].packet_loss_pct = 0.4;
    r.fell_behind = true;
    let bad = judge(1, 0.3, &[r], false);
    assert!(!bad.passed());
    let reasons = bad.reasons.join("; ");
    assert!(
        reasons.contains("0.40% packets lost, none injected"),
        "{reasons}"
    );
    assert!(reasons.contains("fell behind"), "{reasons}");
}
