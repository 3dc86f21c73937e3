//! Several adapters behind one system under test: `certify --adapter web --adapter-for
//! 'bob=callconf adapter'` puts bob's devices in the reference adapter and everyone else's in
//! Chromium, so that an SDK is certified against itself *and* against another client of the
//! same server (a web caller ringing a native callee). A [`Fleet`] has the methods of one
//! [`Remote`] and routes each device command by the device's user; `session.reset` goes to
//! every adapter. With no routes it is exactly its one adapter.
//!
//! What the fleet declares is what all its adapters can do together: the operations and
//! automatic steps they all have, the smallest `max_devices`, a driven clock only if every
//! adapter's SUT runs on it.

use std::time::Duration;

use serde_json::Value;

use super::msg::{Capabilities, ClockCapability, Method, Named};
use super::remote::{Hello, Launch, Refused, Remote, RemoteError};
use crate::core::Event;

/// `USER=CMD`: the devices of `USER` go through the adapter `CMD` (a command, or `web`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub user: String,
    pub launch: Launch,
}

/// Running adapters and which users each one hosts (the first hosts everyone else).
pub struct Fleet {
    remotes: Vec<Remote>,
    /// User name → index into `remotes`.
    routes: Vec<(String, usize)>,
    hello: Hello,
}

/// The adapter of `launch` among `launches`, added if it is new: one adapter per command.
fn index_of(launches: &mut Vec<Launch>, launch: &Launch) -> usize {
    match launches.iter().position(|l| l == launch) {
        Some(i) => i,
        None => {
            launches.push(launch.clone());
            launches.len() - 1
        }
    }
}

impl Fleet {
    /// Starts the default adapter and one per distinct routed command, and reads their hellos.
    pub async fn start(
        default: &Launch,
        routes: &[Route],
        deadline: Duration,
    ) -> Result<Fleet, RemoteError> {
        let mut launches = vec![default.clone()];
        let routes: Vec<(String, usize)> = routes
            .iter()
            .map(|r| (r.user.clone(), index_of(&mut launches, &r.launch)))
            .collect();
        let mut remotes = Vec::with_capacity(launches.len());
        for l in &launches {
            remotes.push(Remote::start(l, deadline).await?);
        }
        let hello = merged(&remotes);
        Ok(Fleet {
            remotes,
            routes,
            hello,
        })
    }

    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// The adapter that hosts `device` (`user/label`).
    fn route(&self, device: &str) -> usize {
        let user = device.split('/').next().unwrap_or(device);
        self.routes
            .iter()
            .find(|(u, _)| u == user)
            .map_or(0, |(_, i)| *i)
    }

    /// The last bytes of every adapter's log, each under its name when there are several.
    pub fn stderr_tail(&self) -> String {
        if let [one] = self.remotes.as_slice() {
            return one.stderr_tail();
        }
        let mut out = String::new();
        for r in &self.remotes {
            let tail = r.stderr_tail();
            if !tail.is_empty() {
                out.push_str(&format!("[{}]\n{tail}", r.hello().adapter.name));
                if !tail.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Sends a device command to its device's adapter; `session.*` to every adapter (the first
    /// refusal or error wins).
    pub async fn command(&mut self, method: Method) -> Result<Result<Value, Refused>, RemoteError> {
        let device = match &method {
            Method::Open(o) => Some(o.device.clone()),
            Method::Close { device }
            | Method::Op { device, .. }
            | Method::Listener { device, .. } => Some(device.clone()),
            Method::Reset | Method::End => None,
        };
        if let Some(d) = device {
            let i = self.route(&d);
            return self.remotes[i].command(method).await;
        }
        let mut answer = Ok(Value::Object(Default::default()));
        for r in &mut self.remotes {
            let a = r.command(method.clone()).await?;
            if answer.is_ok() {
                answer = a;
            }
        }
        Ok(answer)
    }

    /// Reads every adapter's events until none comes for `window` (or `max` passes).
    pub async fn quiet(&mut self, window: Duration, max: Duration) -> Result<(), RemoteError> {
        let waits = self.remotes.iter_mut().map(|r| r.quiet(window, max));
        futures::future::join_all(waits).await.into_iter().collect()
    }

    /// Waits up to `max` for one message from any adapter and files it; whether one came.
    pub async fn next_message(&mut self, max: Duration) -> Result<bool, RemoteError> {
        if let [one] = self.remotes.as_mut_slice() {
            return one.next_message(max).await;
        }
        // The first adapter to say something (or the first to time out) decides; the others'
        // waits are dropped, which loses nothing (a queue's recv is cancel-safe).
        let waits = self
            .remotes
            .iter_mut()
            .map(|r| Box::pin(r.next_message(max)));
        futures::future::select_all(waits).await.0
    }

    pub fn take_events(&mut self, device: &str) -> Vec<Event> {
        let i = self.route(device);
        self.remotes[i].take_events(device)
    }

    pub fn queued(&self, device: &str) -> usize {
        self.remotes[self.route(device)].queued(device)
    }

    /// Ends every adapter.
    pub async fn end(self) {
        for r in self.remotes {
            r.end().await;
        }
    }
}

/// What the adapters declare together.
fn merged(remotes: &[Remote]) -> Hello {
    if let [one] = remotes {
        return one.hello().clone();
    }
    let hellos: Vec<&Hello> = remotes.iter().map(Remote::hello).collect();
    let join = |f: &dyn Fn(&Hello) -> &Named| Named {
        name: hellos
            .iter()
            .map(|h| f(h).name.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        version: hellos
            .iter()
            .map(|h| f(h).version.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
    };
    let all = |list: &dyn Fn(&Capabilities) -> &Vec<String>| -> Vec<String> {
        list(&hellos[0].capabilities)
            .iter()
            .filter(|x| hellos.iter().all(|h| list(&h.capabilities).contains(x)))
            .cloned()
            .collect()
    };
    let first = &hellos[0].capabilities;
    Hello {
        adapter: join(&|h| &h.adapter),
        sdk: join(&|h| &h.sdk),
        capabilities: Capabilities {
            operations: all(&|c| &c.operations),
            provisioning: first.provisioning,
            clock: if hellos
                .iter()
                .all(|h| h.capabilities.clock == ClockCapability::Server)
            {
                ClockCapability::Server
            } else {
                ClockCapability::None
            },
            max_devices: hellos
                .iter()
                .map(|h| h.capabilities.max_devices)
                .min()
                .unwrap_or(0),
            automatic: all(&|c| &c.automatic),
            listeners: hellos.iter().all(|h| h.capabilities.listeners),
        },
    }
}
