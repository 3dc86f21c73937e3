use callconf::core::*;

use crate::harness::H;

#[test]
fn one_to_one_video_call_full_lifecycle() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Video);
    assert_eq!(h.seen("bob"), ["call-1: incoming Video call from alice"]);
    h.ok("bob", Op::ringing(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob ringing", "call-1: status ringing"]
    );
    h.ok("bob", Op::accept(call));
    assert_eq!(
        h.seen("alice"),
        ["call-1: bob joined", "call-1: status connecting"]
    );
    assert_eq!(h.seen("bob"), ["call-1: status connecting"]);
    h.ok("alice", Op::StartSession { call });
    h.ok("bob", Op::StartSession { call });
    assert_eq!(h.seen("alice"), ["call-1: status connected"]);
    assert_eq!(h.seen("bob"), ["call-1: status connected"]);
    h.ok("alice", Op::hangup(call));
    assert_eq!(h.seen("alice"), ["call-1: ended, hung up by alice"]);
    assert_eq!(h.seen("bob"), ["call-1: ended, hung up by alice"]);
    assert_eq!(h.core.live_calls(), 0);
    assert_eq!(
        h.snapshot(call).end_reason,
        Some(EndReason::HungUp { by: "alice".into() })
    );
}
