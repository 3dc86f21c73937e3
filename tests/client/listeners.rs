//! Listeners are registered and removed by id; a removed listener gets nothing; the async stream
//! sees the same events in the same order.

use std::sync::{Arc, Mutex};

use callconf::core::CallType;
use callconf::session::{SessionConfig, runtime};
use tokio_stream::StreamExt;

use crate::cast;

#[test]
fn removed_listener_gets_nothing_and_stream_matches_listener() {
    runtime().block_on(async {
        let s = cast(SessionConfig::default()).await;
        let bob = s.device("bob/phone").unwrap();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let removed = Arc::new(Mutex::new(Vec::new()));
        let k = kept.clone();
        bob.add_listener("kept", move |d| k.lock().unwrap().push(d.clone()))
            .unwrap();
        let r = removed.clone();
        bob.add_listener("removed", move |d| r.lock().unwrap().push(d.clone()))
            .unwrap();
        let mut stream = bob.events();

        let duplicate = bob.add_listener("kept", |_| {}).unwrap_err();
        assert_eq!(duplicate.code(), 400);
        assert!(bob.remove_listener("removed"));
        assert!(!bob.remove_listener("removed"), "already gone");

        let alice = s.device("alice").unwrap();
        let call = alice.call("bob", CallType::Audio).await.unwrap();
        s.settle().await;
        alice.hangup(call).await.unwrap();
        s.settle().await;

        assert!(removed.lock().unwrap().is_empty());
        let kept = kept.lock().unwrap().clone();
        assert_eq!(kept.len(), 2, "incoming, then ended: {kept:?}");
        let mut streamed = Vec::new();
        for _ in 0..kept.len() {
            streamed.push(stream.next().await.unwrap());
        }
        assert_eq!(streamed, kept);
    });
}
