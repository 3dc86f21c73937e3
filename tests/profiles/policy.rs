//! A profile's policy changes what the core does: absent capabilities are refused with 501 before
//! anything else, and the rules and limits that differ change outcomes, exactly where the
//! dialects differ and nowhere else.

use callconf::core::*;
use callconf::profile::Profile;

/// A core under `profile` with alice (an app) and bob connected, and a connected 1:1 audio call
/// alice → bob (both started their media session).
struct Call {
    core: Core,
    alice: DeviceId,
    bob: DeviceId,
    call: CallId,
}

fn connected_call(profile: &str, bob: UserConfig) -> Call {
    let limits = Profile::builtin(profile).unwrap().core_limits();
    let mut core = Core::new(limits);
    let a = core.add_user("alice", UserConfig::default()).unwrap();
    let b = core.add_user("bob", bob).unwrap();
    let alice = core.add_device(&a, "phone").unwrap();
    let bob = core.add_device(&b, "phone").unwrap();
    core.handle_connect(0, alice).unwrap();
    core.handle_connect(0, bob).unwrap();
    core.add_user("carol", UserConfig::default()).unwrap();
    let place = Op::Place(PlaceCall::direct("bob", CallType::Audio));
    let Ok(Reply::Placed { call, .. }) = core.handle_request(0, alice, place) else {
        panic!("placing succeeds")
    };
    core.handle_request(0, bob, Op::accept(call)).unwrap();
    for d in [alice, bob] {
        core.handle_request(0, d, Op::StartSession { call })
            .unwrap();
    }
    while core.poll_event().is_some() {}
    Call {
        core,
        alice,
        bob,
        call,
    }
}

fn code(r: Result<Reply, CallError>) -> u16 {
    r.map_or_else(|e| e.code(), |_| 200)
}

#[test]
fn an_absent_operation_is_501_before_any_other_check() {
    let mut c = connected_call("mirrorfly", UserConfig::default());
    let hold = Op::Hold {
        call: c.call,
        on_hold: true,
    };
    let e = c.core.handle_request(0, c.alice, hold.clone()).unwrap_err();
    assert_eq!(e, CallError::NotInDialect(Capability::Hold));
    assert_eq!(e.code(), 501);
    // Even for a call that does not exist: the operation itself does not.
    let ghost = Op::Hold {
        call: CallId(99),
        on_hold: true,
    };
    assert_eq!(code(c.core.handle_request(0, c.alice, ghost)), 501);
    assert!(c.core.poll_event().is_none(), "a refusal emits nothing");
    let mut canonical = connected_call("canonical", UserConfig::default());
    let hold = Op::Hold {
        call: canonical.call,
        on_hold: true,
    };
    assert_eq!(
        code(canonical.core.handle_request(0, canonical.alice, hold)),
        200
    );
}

#[test]
fn a_kind_of_call_the_dialect_lacks_is_501() {
    let mut c = connected_call("stringee", UserConfig::default());
    let mut group = PlaceCall::direct("carol", CallType::Audio);
    group.invitees.push(UserId::new("bob"));
    assert_eq!(
        c.core.handle_request(0, c.alice, Op::Place(group)),
        Err(CallError::NotInDialect(Capability::GroupCalls))
    );
    let mut notify = PlaceCall::direct("carol", CallType::Audio);
    notify.alert = Alert::Notify;
    let r = c.core.handle_request(0, c.alice, Op::Place(notify));
    assert_eq!(r, Err(CallError::NotInDialect(Capability::Notify)));
}

fn dtmf(c: &mut Call, digits: &str) -> u16 {
    let op = Op::Dtmf {
        call: c.call,
        digits: digits.into(),
    };
    code(c.core.handle_request(0, c.alice, op))
}

#[test]
fn voximplant_dtmf_is_only_0_to_9_star_hash_and_p() {
    let mut vox = connected_call("voximplant", UserConfig::default());
    for ok in ["0123456789", "*#p"] {
        assert_eq!(dtmf(&mut vox, ok), 200, "{ok}");
    }
    for tone in ["A", "B", "C", "D"] {
        assert_eq!(dtmf(&mut vox, tone), 400, "{tone}");
    }
    let op = Op::Dtmf {
        call: vox.call,
        digits: "A".into(),
    };
    let e = vox.core.handle_request(0, vox.alice, op).unwrap_err();
    assert!(e.to_string().contains("(0-9 * # p)"), "{e}");
    let mut canonical = connected_call("canonical", UserConfig::default());
    assert_eq!(dtmf(&mut canonical, "ABCD"), 200);
}

fn transfer(c: &mut Call) -> u16 {
    let op = Op::Transfer {
        call: c.call,
        target: UserId::new("carol"),
    };
    let carol = c.core.add_device(&UserId::new("carol"), "phone").unwrap();
    c.core.handle_connect(0, carol).unwrap();
    code(c.core.handle_request(0, c.alice, op))
}

#[test]
fn app_to_app_transfer_only_where_the_dialect_allows_it() {
    assert_eq!(
        transfer(&mut connected_call("stringee", UserConfig::default())),
        403
    );
    assert_eq!(
        transfer(&mut connected_call("canonical", UserConfig::default())),
        403
    );
    assert_eq!(
        transfer(&mut connected_call("voximplant", UserConfig::default())),
        200
    );
    let phone = UserConfig {
        endpoint: Endpoint::Phone,
        ..UserConfig::default()
    };
    assert_eq!(transfer(&mut connected_call("stringee", phone)), 200);
}

#[test]
fn connected_without_a_session_step_where_the_dialect_has_none() {
    for (profile, waits) in [("cometchat", true), ("canonical", true), ("stream", false)] {
        let limits = Profile::builtin(profile).unwrap().core_limits();
        let mut core = Core::new(limits);
        let a = core.add_user("alice", UserConfig::default()).unwrap();
        let b = core.add_user("bob", UserConfig::default()).unwrap();
        let alice = core.add_device(&a, "phone").unwrap();
        let bob = core.add_device(&b, "phone").unwrap();
        core.handle_connect(0, alice).unwrap();
        core.handle_connect(0, bob).unwrap();
        let place = Op::Place(PlaceCall::direct("bob", CallType::Audio));
        let Ok(Reply::Placed { call, .. }) = core.handle_request(0, alice, place) else {
            panic!("placing succeeds")
        };
        core.handle_request(0, bob, Op::accept(call)).unwrap();
        let status = core.call_snapshot(call).unwrap().status;
        let expected = if waits {
            CallStatus::Connecting
        } else {
            CallStatus::Connected
        };
        assert_eq!(status, expected, "{profile}");
    }
}

#[test]
fn stream_hosts_need_the_end_call_permission() {
    let mut stream = connected_call("stream", UserConfig::default());
    let end = Op::EndForAll { call: stream.call };
    assert_eq!(code(stream.core.handle_request(0, stream.alice, end)), 403);
    let mut canonical = connected_call("canonical", UserConfig::default());
    let end = Op::EndForAll {
        call: canonical.call,
    };
    assert_eq!(
        code(canonical.core.handle_request(0, canonical.alice, end)),
        200
    );
    let _ = canonical.bob;
}

#[test]
fn headers_without_x_only_where_the_dialect_has_no_prefix_rule() {
    for (profile, expected) in [("voximplant", 400), ("canonical", 400), ("stringee", 200)] {
        let mut c = connected_call(profile, UserConfig::default());
        let carol = c.core.add_device(&UserId::new("carol"), "phone").unwrap();
        c.core.handle_connect(0, carol).unwrap();
        let mut place = PlaceCall::direct("carol", CallType::Audio);
        place.headers = vec![("Foo".into(), "1".into())];
        let alice = c.core.add_user("dave", UserConfig::default()).unwrap();
        let dave = c.core.add_device(&alice, "phone").unwrap();
        c.core.handle_connect(0, dave).unwrap();
        assert_eq!(
            code(c.core.handle_request(0, dave, Op::Place(place))),
            expected,
            "{profile}"
        );
    }
}

#[test]
fn decline_codes_below_300_only_where_the_dialect_allows_them() {
    for (profile, expected) in [("voximplant", 400), ("canonical", 400), ("mirrorfly", 200)] {
        let limits = Profile::builtin(profile).unwrap().core_limits();
        let mut core = Core::new(limits);
        let a = core.add_user("alice", UserConfig::default()).unwrap();
        let b = core.add_user("bob", UserConfig::default()).unwrap();
        let alice = core.add_device(&a, "phone").unwrap();
        let bob = core.add_device(&b, "phone").unwrap();
        core.handle_connect(0, alice).unwrap();
        core.handle_connect(0, bob).unwrap();
        let place = Op::Place(PlaceCall::direct("bob", CallType::Audio));
        let Ok(Reply::Placed { call, .. }) = core.handle_request(0, alice, place) else {
            panic!("placing succeeds")
        };
        let decline = Op::decline(call, Some(199));
        assert_eq!(
            code(core.handle_request(0, bob, decline)),
            expected,
            "{profile}"
        );
    }
}
