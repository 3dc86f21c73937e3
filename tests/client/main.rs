//! Integration tests through the reference client SDK and server, in virtual time.

mod auto_steps;
mod demo;
mod listeners;
mod paused_clock;
mod refusals;
mod slow_consumer;

use callconf::core::{Delivery, UserConfig};
use callconf::session::{Session, SessionConfig};

/// alice (laptop), bob (phone, tablet), carol (laptop), all connected.
pub async fn cast(config: SessionConfig) -> Session {
    let mut s = Session::start(config).await;
    s.add_user("alice", &["laptop"], UserConfig::default())
        .await
        .unwrap();
    s.add_user("bob", &["phone", "tablet"], UserConfig::default())
        .await
        .unwrap();
    s.add_user("carol", &["laptop"], UserConfig::default())
        .await
        .unwrap();
    s.add_group("team", &["alice", "bob", "carol"])
        .await
        .unwrap();
    s
}

pub fn lines(events: &[Delivery]) -> Vec<String> {
    events.iter().map(|d| d.event.to_string()).collect()
}
