//! The limits that keep one client from holding the server: the message size, the number of
//! connections, and the handshake deadline that frees slots held by connections that never say
//! hello.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use callconf::core::Limits;
use callconf::net::server::{Front, serve_front};
use callconf::server::population::{self, Population};
use callconf::server::{ServerConfig, ServerHandle};
use serde_json::json;

use super::common::{Conn, Serve, fixture, hello};

#[test]
fn a_message_over_the_limit_is_905_and_closes_the_connection() {
    let s = Serve::start(&["--population", &fixture("two_users.yaml")]);
    let (mut alice, _) = s.device("alice", "laptop", "alice-secret");
    let body = "x".repeat(callconf::net::limits::MESSAGE_BYTES_MAX + 1);
    alice.send(
        &json!({"type": "request", "id": 1, "op": {"op": "message", "call": 1, "text": body}}),
    );
    assert_eq!(alice.refusal(), 905);
    // The server goes on serving others.
    let (_bob, _) = s.device("bob", "phone", "bob-secret");
}

#[test]
fn an_oversize_hello_is_905() {
    let s = Serve::start(&["--population", &fixture("two_users.yaml")]);
    let mut c = Conn::open(&s.devices);
    c.send(&hello("alice", "laptop", &"t".repeat(200_000)));
    assert_eq!(c.refusal(), 905);
}

/// A server in this process with `slots` connection slots and the two-user population.
fn small_server(slots: usize) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let text = std::fs::read_to_string(fixture("two_users.yaml")).unwrap();
            let pop: Population = population::parse(&text, "two_users.yaml").unwrap();
            let (core, creds) = population::build(&pop, &Limits::default(), &[]).unwrap();
            let server = ServerHandle::start_with(core, creds, &[], ServerConfig::default(), None);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("ws://{}", listener.local_addr().unwrap()))
                .unwrap();
            let (_keep, stop) = tokio::sync::watch::channel(false);
            serve_front(listener, server, Front::with_slots(slots, stop)).await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

#[test]
fn one_connection_over_the_limit_is_907_and_a_freed_slot_is_reused() {
    let url = small_server(2);
    let (alice, bob) = (Conn::open(&url), Conn::open(&url));
    let mut third = Conn::open(&url);
    assert_eq!(third.refusal(), 907);
    drop(alice);
    drop(bob);
    // The slots come back when the connections' tasks end.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = Conn::open(&url);
        c.send(&hello("carol", "phone", "carol-secret"));
        let m = c.recv().unwrap();
        if m["type"] == "welcome" {
            break;
        }
        assert_eq!(m["code"], 907, "{m}");
        assert!(Instant::now() < until, "slots never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn idle_handshakes_are_closed_at_the_deadline_and_free_their_slots() {
    let url = small_server(2);
    let addr = url.trim_start_matches("ws://").to_owned();
    let started = Instant::now();
    // Two TCP connections that never even start the WebSocket handshake hold both slots.
    let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut refused = Conn::open(&url);
    assert_eq!(refused.refusal(), 907);
    // At the handshake deadline the server closes them (a read sees the end of the stream).
    for mut s in idle {
        use std::io::Read;
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "closed without a word: no WebSocket to speak in");
    }
    let deadline = Duration::from_millis(callconf::net::limits::HANDSHAKE_TIMEOUT_MS);
    assert!(started.elapsed() >= deadline, "{:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(100));
    let mut c = Conn::open(&url);
    c.send(&hello("alice", "laptop", "alice-secret"));
    assert_eq!(c.recv().unwrap()["type"], "welcome");
}

#[test]
fn a_websocket_that_never_says_hello_is_906_at_the_deadline() {
    let url = small_server(4);
    let started = Instant::now();
    let mut c = Conn::open(&url);
    let m = c
        .recv_within(Duration::from_secs(15))
        .expect("an error at the deadline");
    assert_eq!(m["code"], 906, "{m}");
    let deadline = Duration::from_millis(callconf::net::limits::HANDSHAKE_TIMEOUT_MS);
    assert!(started.elapsed() >= deadline - Duration::from_millis(50));
}
