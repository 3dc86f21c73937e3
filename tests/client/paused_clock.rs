//! A whole multi-user session runs under tokio's paused clock: the 30 s ring timeout fires at
//! exactly 30 000 ms of virtual time, and nothing waits on the wall clock.

use std::time::Duration;

use callconf::core::{CallType, EndReason, Event};
use callconf::session::{SessionConfig, runtime};

use crate::{cast, lines};

#[test]
fn unanswered_call_ends_at_the_ring_timeout_in_virtual_time() {
    runtime().block_on(async {
        let s = cast(SessionConfig::default()).await;
        let call = s
            .device("alice")
            .unwrap()
            .call("bob", CallType::Audio)
            .await
            .unwrap();
        s.settle().await;
        for dev in ["bob/phone", "bob/tablet"] {
            assert_eq!(
                lines(&s.take_new(dev).unwrap()),
                ["call-1: incoming Audio call from alice"]
            );
        }
        s.advance(Duration::from_millis(29_999)).await;
        assert!(
            s.take_new("bob/phone").unwrap().is_empty(),
            "nothing before 30 s"
        );
        s.advance(Duration::from_millis(1)).await;
        let ended = s.take_new("alice").unwrap();
        let last = ended.last().expect("alice is told");
        assert_eq!(last.at_ms, 30_000);
        assert_eq!(
            last.event,
            Event::Ended {
                call,
                reason: EndReason::NoAnswer
            }
        );
        for dev in ["bob/phone", "bob/tablet"] {
            assert_eq!(
                lines(&s.take_new(dev).unwrap()),
                ["call-1: ended, no answer"]
            );
        }
    });
}

#[test]
fn group_call_session_with_late_join_through_clients() {
    runtime().block_on(async {
        let s = cast(SessionConfig::default()).await;
        let place = callconf::core::PlaceCall::group(
            "team",
            vec!["bob".into(), "carol".into()],
            CallType::Video,
        );
        let call = s
            .device("alice")
            .unwrap()
            .place_call(place)
            .await
            .unwrap()
            .call;
        s.settle().await;
        s.device("carol")
            .unwrap()
            .decline(call, None)
            .await
            .unwrap();
        s.device("bob/tablet").unwrap().accept(call).await.unwrap();
        s.settle().await;
        s.advance(Duration::from_secs(5)).await;
        s.device("carol").unwrap().join(call).await.unwrap();
        s.settle().await;
        let snapshot = s.device("alice").unwrap().get_call(call).await.unwrap();
        assert_eq!(snapshot.status, callconf::core::CallStatus::Connected);
        assert_eq!(
            lines(&s.events("alice").unwrap()),
            [
                "call-2: bob ringing",
                "call-2: status ringing",
                "call-2: carol ringing",
                "call-2: carol declined (603)",
                "call-2: bob joined",
                "call-2: status connecting",
                "call-2: status connected",
                "call-2: carol joined",
            ]
            .map(|l| l.replace("call-2", "call-1"))
        );
        assert_eq!(
            lines(&s.events("carol").unwrap()),
            [
                "call-1: incoming group Video call in team from alice",
                "call-1: detached, declined here",
            ]
        );
        assert_eq!(
            lines(&s.events("bob/phone").unwrap()),
            [
                "call-1: incoming group Video call in team from alice",
                "call-1: detached, answered on another device",
            ]
        );
    });
}
