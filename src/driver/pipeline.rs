//! callconf's side of the driver protocol with many commands in flight: for load, where one
//! adapter hosts thousands of devices and waiting for each response before the next command
//! (as [`super::remote::Remote`] does for the conformance suite, whose steps are sequential)
//! would cap a run at one operation per round trip.
//!
//! The checks are the suite's: every command gets exactly one response within the deadline
//! (the oldest unanswered command's deadline is what [`Pipeline::next`] waits for at most), an
//! answer to no command in flight is an error, every event must be for a device callconf
//! opened and in `seq` order; and the unanswered commands are bounded
//! ([`COMMANDS_IN_FLIGHT_MAX`]). Anything wrong is a [`RemoteError`] with its code.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::limits::{COMMANDS_IN_FLIGHT_MAX, EXIT_TIMEOUT_MS};
use super::link::Incoming;
use super::msg::{AdapterMsg, Command, Method};
use super::peer::Peer;
use super::remote::{Hello, Launch, Refused, RemoteError, connect, read_hello};
use crate::core::Event;

/// What the adapter said, once checked.
#[derive(Debug)]
pub enum Delivery {
    /// The response to command `id`.
    Answer {
        id: u64,
        result: Result<Value, Refused>,
    },
    /// An event of an open device, in its order.
    Event { device: String, event: Event },
}

/// A running adapter with commands in flight.
pub struct Pipeline {
    peer: Peer,
    to: mpsc::Sender<String>,
    from: mpsc::Receiver<Incoming>,
    hello: Hello,
    next_id: u64,
    deadline: Duration,
    /// Unanswered commands: id → method.
    in_flight: HashMap<u64, &'static str>,
    /// Commands in the order sent, with their deadlines; answered ones are dropped lazily.
    order: VecDeque<(u64, Instant)>,
    /// The last `seq` per open device.
    seqs: HashMap<String, u64>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
}

impl Pipeline {
    /// Starts the adapter and reads its hello.
    pub async fn start(launch: &Launch, deadline: Duration) -> Result<Pipeline, RemoteError> {
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let (peer, mut link) = connect(launch, &stderr).await?;
        let hello = read_hello(&mut link.from).await?;
        Ok(Pipeline {
            peer,
            to: link.to,
            from: link.from,
            hello,
            next_id: 0,
            deadline,
            in_flight: HashMap::new(),
            order: VecDeque::new(),
            seqs: HashMap::new(),
            stderr,
        })
    }

    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// The adapter's process id (a browser adapter's: the browser's).
    pub fn pid(&mut self) -> u32 {
        self.peer.child_mut().id()
    }

    /// The last bytes the adapter wrote to its standard error.
    pub fn stderr_tail(&self) -> String {
        let kept = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&kept.iter().copied().collect::<Vec<u8>>()).into_owned()
    }

    /// Commands sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Sends a command without waiting for its response; its id.
    pub async fn send(&mut self, method: &Method) -> Result<u64, RemoteError> {
        if self.in_flight.len() >= COMMANDS_IN_FLIGHT_MAX {
            return Err(RemoteError::Backlog(COMMANDS_IN_FLIGHT_MAX));
        }
        self.next_id += 1;
        let id = self.next_id;
        // A device's events may come before its open is answered (docs/driver-protocol.md §2).
        if let Method::Open(o) = method {
            self.seqs.insert(o.device.clone(), 0);
        }
        let cmd = Command::new(id, method);
        let name = method_name(method);
        let text = serde_json::to_string(&cmd).expect("commands serialize");
        match tokio::time::timeout(self.deadline, self.to.send(text)).await {
            Err(_) => return Err(self.timeout(name)),
            Ok(Err(_)) => return Err(self.exited().await),
            Ok(Ok(())) => {}
        }
        self.in_flight.insert(id, name);
        self.order.push_back((id, Instant::now() + self.deadline));
        Ok(id)
    }

    /// The next checked message. Waits at most until the oldest unanswered command's deadline
    /// (that command is then error 1104); with nothing in flight, until the adapter speaks.
    /// Cancel-safe: nothing is lost if the wait is dropped.
    pub async fn next(&mut self) -> Result<Delivery, RemoteError> {
        while let Some((id, _)) = self.order.front() {
            if self.in_flight.contains_key(id) {
                break;
            }
            self.order.pop_front();
        }
        let got = match self.order.front().copied() {
            Some((id, until)) => match tokio::time::timeout_at(until, self.from.recv()).await {
                Ok(got) => got,
                Err(_) => return Err(self.timeout(self.in_flight[&id])),
            },
            None => self.from.recv().await,
        };
        match got {
            None => Err(self.exited().await),
            Some(Err(e)) => Err(e),
            Some(Ok(msg)) => self.check(msg),
        }
    }

    fn check(&mut self, msg: AdapterMsg) -> Result<Delivery, RemoteError> {
        match msg {
            AdapterMsg::Success { id, result } => {
                self.answered(id)?;
                Ok(Delivery::Answer {
                    id,
                    result: Ok(result),
                })
            }
            AdapterMsg::Error {
                id: Some(id),
                code,
                message,
                vendor,
            } => {
                self.answered(id)?;
                let refused = Refused {
                    code,
                    message,
                    vendor,
                };
                Ok(Delivery::Answer {
                    id,
                    result: Err(refused),
                })
            }
            AdapterMsg::Error {
                id: None, message, ..
            } => Err(RemoteError::Malformed(format!(
                "an error for no command: {message}"
            ))),
            AdapterMsg::Event { device, seq, event } => {
                let Some(last) = self.seqs.get_mut(&device) else {
                    return Err(RemoteError::BadEvent(format!(
                        "an event for `{device}`, a device callconf did not open"
                    )));
                };
                if seq != *last + 1 {
                    return Err(RemoteError::BadEvent(format!(
                        "event seq {seq} for `{device}` after {last}"
                    )));
                }
                *last = seq;
                Ok(Delivery::Event { device, event })
            }
            AdapterMsg::Hello { .. } => Err(RemoteError::Malformed("a second hello".into())),
        }
    }

    fn answered(&mut self, id: u64) -> Result<(), RemoteError> {
        self.in_flight
            .remove(&id)
            .map(|_| ())
            .ok_or(RemoteError::Unexpected(id))
    }

    fn timeout(&self, method: &str) -> RemoteError {
        RemoteError::Timeout {
            method: method.to_owned(),
            deadline_ms: u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX),
        }
    }

    async fn exited(&mut self) -> RemoteError {
        let until = Instant::now() + Duration::from_millis(500);
        // Bounded: half a second in 10 ms steps.
        while Instant::now() < until {
            if let Some(status) = self.peer.try_wait() {
                return RemoteError::Exited(status.to_string());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        RemoteError::Exited("its output closed".into())
    }

    /// Sends `session.end` and waits (bounded by the deadline) for its answer, skipping
    /// whatever else comes: the run is over, so late answers and events no longer count. Then
    /// waits up to [`EXIT_TIMEOUT_MS`] for the process to exit; dropping the peer kills what is
    /// left.
    pub async fn end(mut self) {
        if let Ok(id) = self.send(&Method::End).await {
            let until = Instant::now() + self.deadline;
            // Bounded by the deadline.
            while let Ok(Some(msg)) = tokio::time::timeout_at(until, self.from.recv()).await {
                if matches!(msg, Ok(AdapterMsg::Success { id: got, .. }) if got == id) {
                    break;
                }
            }
        }
        let until = Instant::now() + Duration::from_millis(EXIT_TIMEOUT_MS);
        // Bounded: the exit timeout in 10 ms steps.
        while Instant::now() < until && self.peer.try_wait().is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn method_name(method: &Method) -> &'static str {
    match method {
        Method::Open(_) => "device.open",
        Method::Close { .. } => "device.close",
        Method::Op { .. } => "device.op",
        Method::Listener { .. } => "device.listener",
        Method::Reset => "session.reset",
        Method::End => "session.end",
    }
}
