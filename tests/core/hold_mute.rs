//! Hold and mute (Stringee `hold/unhold`, track enable/disable): the other members are told,
//! repeating the same change is refused.

use callconf::core::*;

use crate::harness::H;

fn hold(call: CallId, on_hold: bool) -> Op {
    Op::Hold { call, on_hold }
}

fn mute(call: CallId, media: Media, muted: bool) -> Op {
    Op::Mute { call, media, muted }
}

#[test]
fn hold_and_unhold_tell_the_other_side() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    assert_eq!(h.ok("alice", hold(call, true)), Reply::Done);
    assert_eq!(h.seen("bob"), ["call-1: alice held the call"]);
    assert!(h.seen("alice").is_empty());
    assert!(h.snapshot(call).members[0].on_hold);
    let err = h.refused("alice", hold(call, true), 422);
    assert!(
        matches!(err, CallError::InvalidState { op: "hold", .. }),
        "{err:?}"
    );
    // The other side may hold too, independently.
    h.ok("bob", hold(call, true));
    assert_eq!(h.seen("alice"), ["call-1: bob held the call"]);
    h.ok("alice", hold(call, false));
    assert_eq!(h.seen("bob"), ["call-1: alice resumed the call"]);
    assert!(h.seen("alice").is_empty());
    h.refused("alice", hold(call, false), 422);
    let snap = h.snapshot(call);
    assert!(!snap.members[0].on_hold);
    assert!(snap.members[1].on_hold);
    // The event carries its fields.
    h.ok("bob", hold(call, false));
    assert_eq!(
        h.events("alice"),
        [Event::Hold {
            call,
            user: "bob".into(),
            on_hold: false
        }]
    );
}

#[test]
fn unhold_without_hold_is_422() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    h.refused("bob", hold(call, false), 422);
}

#[test]
fn hold_before_connected_is_422() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    // Nobody answered yet.
    h.refused("alice", hold(call, true), 422);
    h.refused("bob", hold(call, true), 422);
    h.ok("bob", Op::accept(call));
    // Answered, but the media session is not up (connecting).
    h.refused("alice", hold(call, true), 422);
    h.refused("bob", hold(call, true), 422);
    h.ok("alice", Op::StartSession { call });
    h.refused("alice", hold(call, true), 422);
    h.ok("bob", Op::StartSession { call });
    h.clear();
    h.ok("alice", hold(call, true));
    assert_eq!(h.seen("bob"), ["call-1: alice held the call"]);
}

#[test]
fn muting_audio_and_video_tells_the_others() {
    let mut h = H::new();
    h.users(&["alice", "bob", "carol"]);
    h.group("team", &["alice", "bob", "carol"]);
    let call = h.place(
        "alice",
        PlaceCall::group("team", vec!["bob".into(), "carol".into()], CallType::Video),
    );
    h.ok("bob", Op::accept(call));
    h.clear();
    // Muting works from the session device before the media is connected; ringing carol hears
    // nothing.
    h.ok("alice", mute(call, Media::Audio, true));
    assert_eq!(h.seen("bob"), ["call-1: alice muted Audio"]);
    assert!(h.seen("alice").is_empty());
    assert!(h.seen("carol").is_empty());
    h.ok("carol", Op::accept(call));
    h.clear();
    h.ok("bob", mute(call, Media::Video, true));
    assert_eq!(h.seen("alice"), ["call-1: bob muted Video"]);
    assert_eq!(h.seen("carol"), ["call-1: bob muted Video"]);
    assert!(h.seen("bob").is_empty());
    h.ok("alice", mute(call, Media::Audio, false));
    assert_eq!(
        h.events("carol"),
        [Event::Track {
            call,
            user: "alice".into(),
            media: Media::Audio,
            muted: false
        }]
    );
    assert_eq!(h.seen("bob"), ["call-1: alice unmuted Audio"]);
    let snap = h.snapshot(call);
    assert!(!snap.members[0].audio_muted);
    assert!(snap.members[1].video_muted);
    assert!(!snap.members[1].audio_muted);
}

#[test]
fn muting_twice_or_unmuting_an_unmuted_track_is_422() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Video);
    h.ok("alice", mute(call, Media::Video, true));
    h.clear();
    let err = h.refused("alice", mute(call, Media::Video, true), 422);
    assert!(
        matches!(err, CallError::InvalidState { op: "mute", .. }),
        "{err:?}"
    );
    h.refused("alice", mute(call, Media::Audio, false), 422);
    h.refused("bob", mute(call, Media::Video, false), 422);
}

#[test]
fn muting_video_on_an_audio_call_is_400() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.connected("alice", "bob", CallType::Audio);
    let err = h.refused("alice", mute(call, Media::Video, true), 400);
    assert!(
        matches!(err, CallError::BadArgument { field: "media", .. }),
        "{err:?}"
    );
    h.refused("bob", mute(call, Media::Video, false), 400);
}

#[test]
fn a_ringing_invitee_cannot_mute() {
    let mut h = H::new();
    h.users(&["alice", "bob"]);
    let call = h.call("alice", "bob", CallType::Audio);
    h.refused("bob", mute(call, Media::Audio, true), 422);
}
