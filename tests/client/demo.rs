//! `callconf demo` plays every scripted story and replays identically.

#[test]
fn demo_timeline_covers_the_script_and_is_deterministic() {
    let first = callconf::demo::run().unwrap();
    let second = callconf::demo::run().unwrap();
    assert_eq!(first, second, "the same script gives the same timeline");
    let text = callconf::demo::render(&first);
    for expected in [
        "bob/phone      ← call-1: detached, answered on another device",
        "carol/laptop   ← call-2: detached, declined here",
        "carol/laptop   → join call-2",
        "alice/laptop   ← call-2: bob missed",
        "carol/laptop   ← call-3: ended, no answer",
        "pstn-555/line  ← call-4: DTMF \"1234#\" from alice",
        "pstn-555/line  ← call-4: alice held the call",
        "alice/laptop   ← call-4: transfer to dave: succeeded",
        "dave/phone     ← call-4: ended, hung up by dave",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The missed call ends exactly 30 s after it was placed.
    let placed = first
        .iter()
        .find(|l| l.text == "→ place audio call to dave")
        .unwrap();
    let missed = first
        .iter()
        .find(|l| l.text == "← call-3: ended, no answer")
        .unwrap();
    assert_eq!(missed.at_ms - placed.at_ms, 30_000);
}
