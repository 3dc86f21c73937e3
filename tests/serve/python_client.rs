//! A client written from docs/wire-protocol.md alone (`tests/serve/wire_client.py`, Python 3
//! with the `websockets` package that scripts/setup installs) places, rings, accepts and hangs
//! up a call between two devices, checks the refusals, and drives the admin channel. A missing
//! Python or `websockets` fails this test: it is never skipped.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{ADMIN_TOKEN, Serve, fixture, read_all};

#[test]
fn a_python_client_written_from_the_document_makes_a_call() {
    let s = Serve::start(&[
        "--clock",
        "manual",
        "--population",
        &fixture("two_users.yaml"),
    ]);
    let script = format!("{}/tests/serve/wire_client.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new("python3")
        .args([&script, &s.devices, &s.admin, ADMIN_TOKEN])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/setup installs it)");
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > until {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = read_all(child.stdout.take().unwrap());
    let err = read_all(child.stderr.take().unwrap());
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\nstdout:\n{out}\nstderr:\n{err}"
    );
    assert!(out.contains("ended"), "{out}");
}
