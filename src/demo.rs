//! `callconf demo`: a realistic session through the reference server and client devices, under
//! tokio's paused clock, rendered as a timeline of every request and every event each device saw.
//!
//! The script: a 1:1 video call answered on the second of two devices; a group call with a
//! decline and a late join; a missed call (the 30 s ring timeout, in no wall time); a hold and
//! DTMF; a blind transfer from an app user to a phone line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use crate::client::{ClientError, Device, DeviceOptions};
use crate::core::{
    CallId, CallType, Core, DeviceId, Endpoint, Event, Limits, ParticipantState, PlaceCall,
    UserConfig, UserId,
};
use crate::server::{ServerConfig, ServerHandle, TraceEntry};

/// One line of the demo's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at_ms: u64,
    /// `user/device`.
    pub device: String,
    /// `→` for a request and its result, `←` for an event received.
    pub text: String,
}

/// Runs the demo on a fresh current-thread runtime with a paused clock and returns the timeline.
pub fn run() -> Result<Vec<Line>, ClientError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds");
    rt.block_on(script())
}

/// Renders the timeline as aligned text.
pub fn render(lines: &[Line]) -> String {
    let width = lines.iter().map(|l| l.device.len()).max().unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        let secs = l.at_ms / 1000;
        let millis = l.at_ms % 1000;
        let _ = writeln!(
            out,
            "{:>4}.{millis:03}s  {:<width$}  {}",
            secs, l.device, l.text
        );
    }
    out
}

struct Cast {
    server: ServerHandle,
    devices: HashMap<String, Device>,
    names: HashMap<DeviceId, String>,
}

impl Cast {
    async fn user(
        &mut self,
        name: &str,
        labels: &[&str],
        config: UserConfig,
    ) -> Result<(), ClientError> {
        let user = name.to_owned();
        let owned: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        let ids = self
            .server
            .admin(move |core: &mut Core| {
                let u = core.add_user(&user, config)?;
                owned
                    .iter()
                    .map(|l| core.add_device(&u, l))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await??;
        for (id, label) in ids.into_iter().zip(labels) {
            let device = Device::connect(
                &self.server,
                id,
                UserId::new(name),
                DeviceOptions::default(),
                1024,
            )
            .await?;
            let key = format!("{name}/{label}");
            self.names.insert(id, key.clone());
            self.devices.insert(key, device);
        }
        Ok(())
    }

    fn d(&self, key: &str) -> &Device {
        &self.devices[key]
    }
}

/// Waits until `device` receives an event about `call` matching `pred`.
async fn wait_for(
    device: &mut (impl StreamExt<Item = crate::core::Delivery> + Unpin),
    call: CallId,
    pred: impl Fn(&Event) -> bool,
) {
    loop {
        let d = device
            .next()
            .await
            .expect("the device stream lives while the server does");
        if d.event.call() == call && pred(&d.event) {
            return;
        }
    }
}

async fn script() -> Result<Vec<Line>, ClientError> {
    let (server, mut trace) =
        ServerHandle::start_traced(Core::new(Limits::default()), ServerConfig::default());
    let mut cast = Cast {
        server,
        devices: HashMap::new(),
        names: HashMap::new(),
    };
    let app = UserConfig::default();
    cast.user("alice", &["laptop"], app.clone()).await?;
    cast.user("bob", &["phone", "tablet"], app.clone()).await?;
    cast.user("carol", &["laptop"], app.clone()).await?;
    cast.user("dave", &["phone"], app.clone()).await?;
    let line = UserConfig {
        endpoint: Endpoint::Phone,
        ..UserConfig::default()
    };
    cast.user("pstn-555", &["line"], line).await?;
    let group_members: Vec<UserId> = ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|u| UserId::new(u))
        .collect();
    cast.server
        .admin(move |core: &mut Core| core.add_group("team", &group_members))
        .await??;

    let step = Duration::from_millis(1500);
    let mut bob_tablet = cast.d("bob/tablet").events();
    let mut alice = cast.d("alice/laptop").events();
    let mut carol = cast.d("carol/laptop").events();
    let mut dave = cast.d("dave/phone").events();
    let mut line_events = cast.d("pstn-555/line").events();

    // 1. A 1:1 video call, answered on bob's second device.
    let call = cast.d("alice/laptop").call("bob", CallType::Video).await?;
    wait_for(&mut bob_tablet, call, |e| {
        matches!(e, Event::Incoming { .. })
    })
    .await;
    tokio::time::sleep(step).await;
    cast.d("bob/tablet").accept(call).await?;
    wait_for(&mut alice, call, |e| {
        matches!(
            e,
            Event::Status {
                status: crate::core::CallStatus::Connected,
                ..
            }
        )
    })
    .await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    cast.d("alice/laptop")
        .send_message(call, "see you at the stand-up")
        .await?;
    cast.d("bob/tablet").hangup(call).await?;
    wait_for(&mut alice, call, |e| matches!(e, Event::Ended { .. })).await;

    // 2. A group call: carol declines, dave answers, carol joins late.
    tokio::time::sleep(step).await;
    let group = PlaceCall::group(
        "team",
        vec!["bob".into(), "carol".into(), "dave".into()],
        CallType::Audio,
    );
    let call = cast.d("alice/laptop").place_call(group).await?.call;
    wait_for(&mut carol, call, |e| matches!(e, Event::Incoming { .. })).await;
    tokio::time::sleep(step).await;
    cast.d("carol/laptop").decline(call, None).await?;
    cast.d("dave/phone").accept(call).await?;
    wait_for(&mut alice, call, |e| {
        matches!(
            e,
            Event::Status {
                status: crate::core::CallStatus::Connected,
                ..
            }
        )
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    cast.d("carol/laptop").join(call).await?;
    // bob never answers: his invitation times out while the call goes on.
    wait_for(&mut alice, call, |e| {
        matches!(
            e,
            Event::Participant {
                state: ParticipantState::Missed,
                ..
            }
        )
    })
    .await;
    tokio::time::sleep(step).await;
    cast.d("dave/phone").hangup(call).await?;
    cast.d("carol/laptop").hangup(call).await?;
    wait_for(&mut alice, call, |e| matches!(e, Event::Ended { .. })).await;

    // 3. A missed call: nobody answers dave within the ring timeout.
    tokio::time::sleep(step).await;
    let call = cast.d("carol/laptop").call("dave", CallType::Audio).await?;
    wait_for(&mut carol, call, |e| matches!(e, Event::Ended { .. })).await;

    // 4. Hold and DTMF on a call to a phone line, then a blind transfer of that line to dave.
    tokio::time::sleep(step).await;
    let call = cast
        .d("alice/laptop")
        .call("pstn-555", CallType::Audio)
        .await?;
    wait_for(&mut line_events, call, |e| {
        matches!(e, Event::Incoming { .. })
    })
    .await;
    tokio::time::sleep(step).await;
    cast.d("pstn-555/line").accept(call).await?;
    wait_for(&mut alice, call, |e| {
        matches!(
            e,
            Event::Status {
                status: crate::core::CallStatus::Connected,
                ..
            }
        )
    })
    .await;
    cast.d("alice/laptop").send_dtmf(call, "1234#").await?;
    cast.d("alice/laptop").hold(call).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    cast.d("alice/laptop").unhold(call).await?;
    cast.d("alice/laptop").transfer(call, "dave").await?;
    wait_for(&mut dave, call, |e| matches!(e, Event::Incoming { .. })).await;
    tokio::time::sleep(step).await;
    cast.d("dave/phone").accept(call).await?;
    wait_for(&mut alice, call, |e| matches!(e, Event::Detached { .. })).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    cast.d("dave/phone").hangup(call).await?;
    wait_for(&mut line_events, call, |e| matches!(e, Event::Ended { .. })).await;
    // Let the pumps' last automatic steps settle before reading the trace.
    tokio::time::sleep(Duration::from_millis(1)).await;

    Ok(collect(&mut trace, &cast.names))
}

fn collect(trace: &mut mpsc::Receiver<TraceEntry>, names: &HashMap<DeviceId, String>) -> Vec<Line> {
    let name = |d: DeviceId| names.get(&d).cloned().unwrap_or_else(|| d.to_string());
    let mut lines = Vec::new();
    while let Ok(entry) = trace.try_recv() {
        let line = match entry {
            TraceEntry::Request {
                at_ms,
                device,
                op,
                result,
            } => Line {
                at_ms,
                device: name(device),
                text: match result {
                    Ok(_) => format!("→ {op}"),
                    Err(e) => format!("→ {op} refused: {e} ({})", e.code()),
                },
            },
            TraceEntry::Delivery(d) => Line {
                at_ms: d.at_ms,
                device: name(d.device),
                text: format!("← {}", d.event),
            },
            TraceEntry::Connected { .. } | TraceEntry::Disconnected { .. } => continue,
        };
        lines.push(line);
    }
    lines
}
