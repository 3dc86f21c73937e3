//! MirrorFly: a 1:1 or group call on a plan without that feature fails with 403; a plan also
//! bounds the number of participants. The caller's plan decides, before anything rings.

use callconf::core::*;

use crate::harness::H;

fn with_plan(plan: Plan) -> UserConfig {
    UserConfig {
        plan,
        ..UserConfig::default()
    }
}

#[test]
fn plan_without_one_to_one_audio_refuses_an_audio_call_with_403() {
    let mut h = H::new();
    let plan = Plan {
        one_to_one_audio: false,
        ..Plan::full()
    };
    h.user_with("alice", &["phone"], with_plan(plan));
    h.user("bob");
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::direct("bob", CallType::Audio)),
        403,
    );
    assert_eq!(
        err,
        CallError::Forbidden(Forbidden::NotInPlan(Feature::OneToOneAudio))
    );
    assert_eq!(h.core.live_calls(), 0);
    // The refusal burnt no call id, and video is still in the plan.
    let call = h.call("alice", "bob", CallType::Video);
    assert_eq!(call, CallId(1));
    assert_eq!(h.seen("bob"), ["call-1: incoming Video call from alice"]);
}

#[test]
fn plan_without_one_to_one_video_refuses_a_video_call_with_403() {
    let mut h = H::new();
    h.user_with("alice", &["phone", "tablet"], with_plan(Plan::audio_only()));
    h.user_with("bob", &["phone", "tablet"], UserConfig::default());
    let err = h.refused(
        "alice",
        Op::Place(PlaceCall::direct("bob", CallType::Video)),
        403,
    );
    assert_eq!(
        err,
        CallError::Forbidden(Forbidden::NotInPlan(Feature::OneToOneVideo))
    );
    assert!(h.seen("bob").is_empty());
    assert!(h.seen("bob/tablet").is_empty());
    // Audio is in the plan.
    h.call("alice", "bob", CallType::Audio);
    assert_eq!(h.seen("bob"), ["call-1: incoming Audio call from alice"]);
    assert_eq!(
        h.seen("bob/tablet"),
        ["call-1: incoming Audio call from alice"]
    );
}

#[test]
fn plan_without_group_calls_refuses_group_calls_with_403() {
    let mut h = H::new();
    let plan = Plan {
        group_calls: false,
        ..Plan::full()
    };
    h.user_with("alice", &["phone"], with_plan(plan));
    h.users(&["bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let in_group = PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio);
    let err = h.refused("alice", Op::Place(in_group), 403);
    assert_eq!(
        err,
        CallError::Forbidden(Forbidden::NotInPlan(Feature::GroupCalls))
    );
    // A group call with a single invitee is still a group call.
    let one_in_group = PlaceCall::group("team", vec!["bob".into()], CallType::Video);
    h.refused("alice", Op::Place(one_in_group), 403);
    // Several invitees without a group make an ad-hoc group call.
    let ad_hoc = PlaceCall {
        invitees: vec!["bob".into(), "carol".into()],
        ..PlaceCall::direct("bob", CallType::Audio)
    };
    let err = h.refused("alice", Op::Place(ad_hoc), 403);
    assert_eq!(
        err,
        CallError::Forbidden(Forbidden::NotInPlan(Feature::GroupCalls))
    );
    // 1:1 calls are still allowed.
    h.call("alice", "bob", CallType::Audio);
    assert_eq!(h.seen("bob"), ["call-1: incoming Audio call from alice"]);
}

#[test]
fn only_the_callers_plan_counts() {
    let mut h = H::new();
    h.user("alice");
    h.user_with("bob", &["phone"], with_plan(Plan::audio_only()));
    h.call("alice", "bob", CallType::Video);
    assert_eq!(h.seen("bob"), ["call-1: incoming Video call from alice"]);
}

#[test]
fn plan_max_participants_bounds_the_caller_included() {
    let mut h = H::new();
    let plan = Plan {
        max_participants: 3,
        ..Plan::full()
    };
    h.user_with("alice", &["phone"], with_plan(plan));
    h.users(&["bob", "carol", "dave"]);
    h.group("team", &["alice", "bob", "carol", "dave"]);
    let four = PlaceCall::group(
        "team",
        vec!["bob".into(), "carol".into(), "dave".into()],
        CallType::Audio,
    );
    let err = h.refused("alice", Op::Place(four), 403);
    assert_eq!(err, CallError::Forbidden(Forbidden::ParticipantLimit(3)));
    for u in ["bob", "carol", "dave"] {
        assert!(h.seen(u).is_empty(), "{u} was rung");
    }
    let three = PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Audio);
    let call = h.place("alice", three);
    assert_eq!(
        h.seen("bob"),
        ["call-1: incoming group Audio call in team from alice"]
    );
    assert_eq!(
        h.seen("carol"),
        ["call-1: incoming group Audio call in team from alice"]
    );
    // The plan also bounds invitations into the live call.
    h.ok("bob", Op::accept(call));
    h.clear();
    let err = h.refused(
        "alice",
        Op::Invite {
            call,
            users: vec!["dave".into()],
        },
        403,
    );
    assert_eq!(err, CallError::Forbidden(Forbidden::ParticipantLimit(3)));
    assert!(h.seen("dave").is_empty());
}

#[test]
fn a_plan_outside_the_core_limits_is_refused_at_registration() {
    let mut h = H::new();
    for max in [0, 1, 65] {
        let plan = Plan {
            max_participants: max,
            ..Plan::full()
        };
        let err = h.core.add_user("alice", with_plan(plan)).unwrap_err();
        assert_eq!(err.code(), 400, "max_participants {max}");
    }
}
