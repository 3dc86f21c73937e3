//! Several adapters behind one system under test (`--adapter-for`): what the fleet declares is
//! what every adapter can do — the operations they share, a driven clock only if all have it —
//! and waiting on it for a message waits on all of them.

use std::time::Duration;

use callconf::driver::fleet::{Fleet, Route};
use callconf::driver::msg::ClockCapability;
use callconf::driver::remote::Launch;

use super::reference_adapter;

#[tokio::test(flavor = "current_thread")]
async fn a_fleet_declares_only_what_all_its_adapters_can_do() {
    let full = Launch::new(&reference_adapter(), None);
    let lesser = Launch::new(
        &format!(
            "{} --without hold,transfer --real-time",
            reference_adapter()
        ),
        None,
    );
    let routes = [Route {
        user: "bob".into(),
        launch: lesser,
    }];
    let mut fleet = Fleet::start(&full, &routes, Duration::from_secs(5))
        .await
        .expect("both adapters start");
    let hello = fleet.hello().clone();
    assert_eq!(
        hello.adapter.name,
        "callconf-reference-adapter + callconf-reference-adapter"
    );
    let ops = &hello.capabilities.operations;
    assert!(ops.iter().any(|o| o == "place"), "{ops:?}");
    assert!(
        !ops.iter().any(|o| o == "hold" || o == "transfer"),
        "{ops:?}"
    );
    assert_eq!(hello.capabilities.clock, ClockCapability::None);
    // Nothing is open, so nothing comes: the wait ends at its bound, not before, not never.
    let started = std::time::Instant::now();
    let came = fleet.next_message(Duration::from_millis(100)).await;
    assert_eq!(came, Ok(false));
    assert!(started.elapsed() >= Duration::from_millis(90));
    fleet.end().await;
}
