//! The SDK's automatic steps: ringing is acknowledged on an invitation, and both sides start the
//! media session after an accept (CometChat: the caller on "outgoing call accepted", the callee on
//! the accept's success). Switched off, the call waits for the application.

use callconf::client::DeviceOptions;
use callconf::core::{CallStatus, CallType};
use callconf::session::{SessionConfig, runtime};

use crate::cast;

#[test]
fn defaults_acknowledge_ringing_and_start_both_sessions() {
    runtime().block_on(async {
        let s = cast(SessionConfig::default()).await;
        let alice = s.device("alice").unwrap();
        let call = alice.call("carol", CallType::Video).await.unwrap();
        s.settle().await;
        assert_eq!(
            alice.get_call(call).await.unwrap().status,
            CallStatus::Ringing
        );
        s.device("carol").unwrap().accept(call).await.unwrap();
        s.settle().await;
        assert_eq!(
            alice.get_call(call).await.unwrap().status,
            CallStatus::Connected
        );
    });
}

#[test]
fn without_automatic_steps_the_call_waits_for_the_application() {
    runtime().block_on(async {
        let config = SessionConfig {
            device: DeviceOptions {
                auto_ringing: false,
                auto_start_session: false,
                ..DeviceOptions::default()
            },
            ..SessionConfig::default()
        };
        let s = cast(config).await;
        let alice = s.device("alice").unwrap();
        let carol = s.device("carol").unwrap();
        let call = alice.call("carol", CallType::Video).await.unwrap();
        s.settle().await;
        assert_eq!(
            alice.get_call(call).await.unwrap().status,
            CallStatus::Calling
        );
        carol.ringing(call).await.unwrap();
        assert_eq!(
            alice.get_call(call).await.unwrap().status,
            CallStatus::Ringing
        );
        carol.accept(call).await.unwrap();
        s.settle().await;
        assert_eq!(
            alice.get_call(call).await.unwrap().status,
            CallStatus::Connecting
        );
        carol.start_session(call).await.unwrap();
        assert_eq!(
            alice.get_call(call).await.unwrap().status,
            CallStatus::Connecting
        );
        alice.start_session(call).await.unwrap();
        assert_eq!(
            alice.get_call(call).await.unwrap().status,
            CallStatus::Connected
        );
    });
}
