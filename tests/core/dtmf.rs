//! DTMF (Voximplant `sendDigits`: 0-9 * # p; RFC 4733 adds A-D): valid digits are relayed to
//! the other members, anything else is 400, too many is 413.

use callconf::core::*;

use crate::harness::H;

fn dtmf(call: CallId, digits: &str) -> Op {
    Op::Dtmf {
        call,
        digits: digits.into(),
    }
}

#[test]
fn every_dtmf_symbol_is_accepted_and_relayed() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    let all = "0123456789*#ABCDp";
    assert_eq!(h.ok("alice", dtmf(call, all)), Reply::Done);
    assert_eq!(
        h.events("bob"),
        [Event::Dtmf {
            call,
            from: "alice".into(),
            digits: all.into()
        }]
    );
    assert!(h.seen("alice").is_empty());
    h.ok("bob", dtmf(call, "5"));
    assert_eq!(h.seen("alice"), ["call-1: DTMF \"5\" from bob"]);
    assert!(h.seen("bob").is_empty());
}

#[test]
fn anything_but_dtmf_symbols_is_400() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    for bad in ["x", "a", "1 2", "", "12E", "P", "0,1", "٣", "d", "*#-"] {
        let err = h.refused("alice", dtmf(call, bad), 400);
        assert!(
            matches!(
                err,
                CallError::BadArgument {
                    field: "digits",
                    ..
                }
            ),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn more_digits_than_the_limit_is_413() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    let max = h.core.limits().dtmf_digits_max;
    assert_eq!(max, 64);
    h.ok("alice", dtmf(call, &"1".repeat(max)));
    assert_eq!(h.events("bob").len(), 1);
    let err = h.refused("alice", dtmf(call, &"1".repeat(max + 1)), 413);
    assert_eq!(
        err,
        CallError::TooLarge {
            field: "digits",
            len: 65,
            max: 64
        }
    );
}

#[test]
fn the_digit_limit_is_configurable() {
    let mut h = H::with_limits(Limits {
        dtmf_digits_max: 4,
        ..Limits::default()
    });
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    h.ok("alice", dtmf(call, "1234"));
    assert_eq!(h.seen("bob"), ["call-1: DTMF \"1234\" from alice"]);
    h.refused("alice", dtmf(call, "12345"), 413);
}

#[test]
fn dtmf_before_the_call_is_connected_is_422() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("alice", dtmf(call, "1"), 422);
    h.refused("bob", dtmf(call, "1"), 422);
    h.ok("bob", Op::accept(call));
    h.refused("bob", dtmf(call, "1"), 422);
}

#[test]
fn dtmf_in_a_group_reaches_every_other_joined_member_only() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol", "dave"]);
    h.group("team", &["alice", "bob", "carol", "dave"]);
    let call = h.place(
        "alice",
        PlaceCall::group(
            "team",
            vec!["bob".into(), "carol".into(), "dave".into()],
            CallType::Audio,
        ),
    );
    h.ok("bob", Op::accept(call));
    h.ok("carol", Op::accept(call));
    h.ok("alice", Op::StartSession { call });
    h.ok("bob", Op::StartSession { call });
    h.clear();
    h.ok("carol", dtmf(call, "#"));
    assert_eq!(h.seen("alice"), ["call-1: DTMF \"#\" from carol"]);
    assert_eq!(h.seen("bob"), ["call-1: DTMF \"#\" from carol"]);
    assert!(h.seen("carol").is_empty());
    assert!(h.seen("dave").is_empty());
}
