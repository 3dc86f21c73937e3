//! Accuracy of the media path's measurements, end to end over real webrtc-rs connections.
//!
//! Each test runs real media in real time, so they take a lock and run one at a time: on a
//! 2-core machine two concurrent calls would measure each other's CPU contention.

mod capacity;
mod delay_accuracy;
mod done_when;
mod fake_capture;
mod jitter_accuracy;
mod loss_accuracy;
mod recovery_freezes;
mod recovery_off;
mod recovery_on;

use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialises the real-time tests (a failed test's poisoned lock is fine to reuse).
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Alice calls Bob (audio, or audio and video) and Bob accepts: the set-up every accuracy
/// test starts from.
pub async fn alice_calls_bob(video: bool) -> callconf::media::session::MediaSession {
    use callconf::media::session::{MediaConfig, MediaSession};
    let s = MediaSession::start(MediaConfig::default(), &["alice", "bob"])
        .await
        .expect("session");
    s.place("alice", &["bob"], video).await.expect("place");
    s.accept("bob").await.expect("accept");
    s
}
