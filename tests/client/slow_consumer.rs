//! A device that stops reading its events is dropped by the server once its bounded queue is
//! full, instead of stalling everyone else.

use callconf::core::{CallType, Op, PlaceCall, UserConfig};
use callconf::server::{Command, ServerConfig};
use callconf::session::{Session, SessionConfig, runtime};
use tokio::sync::{mpsc, oneshot};

#[test]
fn a_device_that_never_reads_is_disconnected_when_its_queue_fills() {
    runtime().block_on(async {
        let config = SessionConfig {
            server: ServerConfig {
                device_events_queued_max: 1,
                ..ServerConfig::default()
            },
            ..SessionConfig::default()
        };
        let mut s = Session::start(config).await;
        s.add_user("alice", &["laptop"], UserConfig::default())
            .await
            .unwrap();
        s.add_user("bob", &["phone"], UserConfig::default())
            .await
            .unwrap();
        s.add_user(
            "carol",
            &["phone"],
            UserConfig {
                call_waiting: true,
                ..UserConfig::default()
            },
        )
        .await
        .unwrap();
        // carol's phone is replaced by a raw connection whose queue nobody reads.
        let id = s.device("carol").unwrap().id();
        s.disconnect("carol").await.unwrap();
        let (tx, _unread) = mpsc::channel(1);
        let (reply, answer) = oneshot::channel();
        s.server()
            .send(Command::Connect {
                device: id,
                events: tx,
                reply,
            })
            .await
            .unwrap();
        answer.await.unwrap().unwrap();

        let alice = s.device("alice").unwrap();
        alice.call("carol", CallType::Audio).await.unwrap();
        // The first invitation fills carol's queue; the second overflows it.
        let bob = s.device("bob").unwrap();
        let second = bob
            .place_call(PlaceCall::direct("carol", CallType::Audio))
            .await;
        assert!(second.is_ok(), "carol still rang: {second:?}");
        s.settle().await;
        let refused = s
            .server()
            .request(
                id,
                Op::GetCall {
                    call: callconf::core::CallId(1),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            refused.unwrap_err().code(),
            401,
            "carol's device was dropped"
        );
    });
}
