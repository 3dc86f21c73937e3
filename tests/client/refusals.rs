//! Refusals reach the application with the core's code (Stringee: 1 "call does not exist" is 404
//! here, 2 "answered on another device" is 409).

use callconf::core::{CallId, CallType};
use callconf::session::{SessionConfig, runtime};

use crate::cast;

#[test]
fn codes_reach_the_client() {
    runtime().block_on(async {
        let mut s = cast(SessionConfig::default()).await;
        let bob_phone = s.device("bob/phone").unwrap();
        assert_eq!(bob_phone.accept(CallId(99)).await.unwrap_err().code(), 404);

        let call = s
            .device("alice")
            .unwrap()
            .call("bob", CallType::Audio)
            .await
            .unwrap();
        s.settle().await;
        s.device("bob/tablet").unwrap().accept(call).await.unwrap();
        s.settle().await;
        let bob_phone = s.device("bob/phone").unwrap();
        assert_eq!(bob_phone.accept(call).await.unwrap_err().code(), 409);
        assert_eq!(bob_phone.decline(call, None).await.unwrap_err().code(), 409);
        assert_eq!(bob_phone.hangup(call).await.unwrap_err().code(), 409);
        let carol = s.device("carol").unwrap();
        assert_eq!(carol.hangup(call).await.unwrap_err().code(), 403);
        assert_eq!(carol.get_call(call).await.unwrap_err().code(), 403);

        // A device handle kept after its disconnection is refused as not connected.
        let server = s.server().clone();
        let id = s.device("carol").unwrap().id();
        s.disconnect("carol").await.unwrap();
        let result = server
            .request(id, callconf::core::Op::GetCall { call })
            .await
            .unwrap();
        assert_eq!(result.unwrap_err().code(), 401);
    });
}
