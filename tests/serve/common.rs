//! What the serve tests share: a `callconf serve` process of their own, and raw WebSocket
//! clients that speak the protocol as plain JSON values (not callconf's wire types), the way a
//! client written from docs/wire-protocol.md would. Every read has a deadline.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message, WebSocket, stream::MaybeTlsStream};

pub const ADMIN_TOKEN: &str = "test-admin-token-7f3a";
pub const PROTOCOL: &str = "callconf-wire/1";
/// How long a test waits for a message it expects.
pub const DEADLINE: Duration = Duration::from_secs(10);
/// How long a test listens to conclude that nothing more comes.
pub const QUIET: Duration = Duration::from_millis(300);

pub fn fixture(name: &str) -> String {
    format!("{}/fixtures/serve/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A `callconf serve` process; killed when dropped.
pub struct Serve {
    child: Option<Child>,
    pub devices: String,
    pub admin: String,
    dir: PathBuf,
    stderr: PathBuf,
}

fn scratch_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("callconf-serve-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Serve {
    /// Starts `callconf serve --listen 127.0.0.1:0` with an admin token and `args`.
    pub fn start(args: &[&str]) -> Serve {
        let dir = scratch_dir();
        let token_file = dir.join("admin.token");
        std::fs::write(&token_file, format!("{ADMIN_TOKEN}\n")).unwrap();
        let stderr = dir.join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_callconf"))
            .args(["serve", "--listen", "127.0.0.1:0", "--admin-token-file"])
            .arg(&token_file)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("callconf serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(DEADLINE).unwrap_or_default();
        let word_after = |key: &str| {
            let mut it = line.split_whitespace();
            it.find(|w| *w == key)
                .and_then(|_| it.next())
                .map(str::to_owned)
        };
        let (Some(devices), Some(admin)) = (word_after("devices"), word_after("admin")) else {
            let _ = child.kill();
            let err = std::fs::read_to_string(&stderr).unwrap_or_default();
            panic!("no banner from callconf serve: {line:?}; stderr: {err}");
        };
        Serve {
            child: Some(child),
            devices,
            admin,
            dir,
            stderr,
        }
    }

    /// A manual-clock server with alice, bob and carol (`fixtures/serve/two_users.yaml`).
    pub fn populated() -> Serve {
        Serve::start(&[
            "--clock",
            "manual",
            "--population",
            &fixture("two_users.yaml"),
        ])
    }

    pub fn admin(&self) -> Admin {
        Admin::open(&self.admin, ADMIN_TOKEN)
    }

    /// Connects and authenticates a device; panics unless welcomed. Returns it and its id.
    pub fn device(&self, user: &str, label: &str, token: &str) -> (Conn, u64) {
        let mut c = Conn::open(&self.devices);
        c.send(&hello(user, label, token));
        let w = c.recv().expect("welcome");
        assert_eq!(w["type"], "welcome", "{w}");
        assert_eq!(w["protocol"], PROTOCOL);
        let id = w["device"].as_u64().expect("device id");
        (c, id)
    }

    /// Sends SIGTERM and waits (bounded) for the exit; returns whether it exited cleanly and
    /// everything it logged.
    pub fn stop(mut self) -> (bool, String) {
        let mut child = self.child.take().unwrap();
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let until = Instant::now() + DEADLINE;
        let ok = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.success();
            }
            if Instant::now() > until {
                let _ = child.kill();
                break false;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        (ok, log)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn hello(user: &str, label: &str, token: &str) -> Value {
    json!({"type": "hello", "protocol": PROTOCOL, "user": user, "device": label, "token": token})
}

/// One raw WebSocket connection speaking JSON values.
pub struct Conn {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Conn {
    pub fn open(url: &str) -> Conn {
        let (ws, _) = tungstenite::connect(url).expect("WebSocket connects");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        }
        Conn { ws, next_id: 0 }
    }

    pub fn send(&mut self, v: &Value) {
        self.send_text(&v.to_string());
    }

    pub fn send_text(&mut self, t: &str) {
        self.ws.send(Message::text(t)).expect("sent");
    }

    /// Sends a request; returns its id.
    pub fn request(&mut self, op: Value) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"type": "request", "id": id, "op": op}));
        id
    }

    /// The next frame within `until`: `Ok(None)` when none came in time, `Err` when the
    /// connection closed or failed.
    fn read_until(&mut self, until: Instant) -> Result<Option<Message>, ()> {
        loop {
            match self.ws.read() {
                Ok(m) => return Ok(Some(m)),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if Instant::now() > until {
                        return Ok(None);
                    }
                }
                Err(_) => return Err(()),
            }
        }
    }

    /// The next JSON message within `within`; `None` when none came or the connection closed.
    pub fn recv_within(&mut self, within: Duration) -> Option<Value> {
        let until = Instant::now() + within;
        loop {
            match self.read_until(until) {
                Ok(Some(Message::Text(t))) => return Some(serde_json::from_str(&t).expect("JSON")),
                Ok(Some(Message::Close(_))) | Ok(None) | Err(()) => return None,
                Ok(Some(_)) => {}
            }
        }
    }

    pub fn recv(&mut self) -> Option<Value> {
        self.recv_within(DEADLINE)
    }

    /// Sends one frame as it is (a binary one, say).
    pub fn send_frame(&mut self, m: Message) {
        self.ws.send(m).expect("sent");
    }

    /// The next data frame (text or binary) within the deadline; `None` when none came or the
    /// connection closed.
    pub fn recv_frame(&mut self) -> Option<Message> {
        let until = Instant::now() + DEADLINE;
        loop {
            match self.read_until(until) {
                Ok(Some(m @ (Message::Text(_) | Message::Binary(_)))) => return Some(m),
                Ok(Some(Message::Close(_))) | Ok(None) | Err(()) => return None,
                Ok(Some(_)) => {}
            }
        }
    }

    /// The reply to request `id`, collecting the events before it into `events`.
    pub fn reply(&mut self, id: u64, events: &mut Vec<Value>) -> Value {
        loop {
            let m = self.recv().unwrap_or_else(|| panic!("no reply to {id}"));
            if m["type"] == "reply" && m["id"] == id {
                return m["result"].clone();
            }
            assert_eq!(m["type"], "event", "{m}");
            events.push(m["delivery"]["event"].clone());
        }
    }

    /// Sends `op` and returns its result (`{"Ok":…}` or `{"Err":…}`); events before the reply
    /// are dropped.
    pub fn call(&mut self, op: Value) -> Value {
        let id = self.request(op);
        self.reply(id, &mut Vec::new())
    }

    /// Events until `pick` finds the wanted one (bounded by the deadline).
    pub fn event_where(&mut self, pick: impl Fn(&Value) -> bool) -> Value {
        loop {
            let m = self.recv().expect("the expected event");
            if m["type"] == "event" && pick(&m["delivery"]["event"]) {
                return m["delivery"]["event"].clone();
            }
        }
    }

    /// Everything that arrives within the quiet window.
    pub fn drain(&mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.recv_within(QUIET)).collect()
    }

    /// The connection's closing: an `error` message's code, then the close. Panics if the
    /// connection carries anything else first.
    pub fn refusal(&mut self) -> u64 {
        let m = self.recv().expect("an error message");
        assert_eq!(m["type"], "error", "{m}");
        assert!(m["message"].is_string(), "{m}");
        let code = m["code"].as_u64().expect("a code");
        assert!(self.is_closed(), "closed after the error");
        code
    }

    /// The events still queued for the device, then its closing code (as [`Conn::refusal`]).
    pub fn closing(&mut self) -> (Vec<Value>, u64) {
        let mut events = Vec::new();
        loop {
            let m = self.recv().expect("an error message");
            if m["type"] == "event" {
                events.push(m["delivery"]["event"].clone());
                continue;
            }
            assert_eq!(m["type"], "error", "{m}");
            let code = m["code"].as_u64().expect("a code");
            assert!(self.is_closed(), "closed after the error");
            return (events, code);
        }
    }

    /// Whether the server closed the connection (within the deadline).
    pub fn is_closed(&mut self) -> bool {
        let until = Instant::now() + DEADLINE;
        loop {
            match self.read_until(until) {
                Ok(Some(Message::Close(_))) => {}
                Ok(Some(_)) | Ok(None) => return false,
                Err(()) => return true,
            }
        }
    }
}

/// An admin connection.
pub struct Admin {
    conn: Conn,
}

impl Admin {
    pub fn open(url: &str, token: &str) -> Admin {
        let mut conn = Conn::open(url);
        conn.send(&json!({"type": "hello", "protocol": PROTOCOL, "token": token}));
        let w = conn.recv().expect("admin welcome");
        assert_eq!(w["type"], "welcome", "{w}");
        Admin { conn }
    }

    /// Runs `op`; the `Ok` value, or panics with the refusal.
    pub fn ok(&mut self, op: Value) -> Value {
        let r = self.result(op);
        r.get("Ok")
            .cloned()
            .unwrap_or_else(|| panic!("refused: {r}"))
    }

    /// Runs `op`; the whole result.
    pub fn result(&mut self, op: Value) -> Value {
        let id = self.conn.request(op);
        let m = self.conn.recv().expect("admin reply");
        assert_eq!(m["type"], "reply", "{m}");
        assert_eq!(m["id"], id);
        m["result"].clone()
    }

    /// Status and the whole trace: what "changes nothing" compares.
    pub fn state(&mut self) -> (Value, Value) {
        let status = self.ok(json!({"op": "status"}));
        let trace = self.ok(json!({"op": "trace"}))["entries"].clone();
        (status, trace)
    }
}

/// Reads a whole stream into a string (for child output).
pub fn read_all(mut r: impl Read) -> String {
    let mut s = String::new();
    let _ = r.read_to_string(&mut s);
    s
}
