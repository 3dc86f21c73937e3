//! `callconf demo`: a realistic session through the reference server and client devices, under
//! tokio's paused clock, rendered as a timeline of every request and every event each device saw.
//!
//! The script: a 1:1 video call answered on the second of two devices; a group call with a
//! decline, a late join and an invitee who never answers; a missed call (the 30 s ring timeout,
//! in no wall time); DTMF and a hold on a call to a phone line, then a blind transfer of it.

use std::fmt::Write as _;
use std::time::Duration;

use crate::core::{CallType, Endpoint, PlaceCall, UserConfig};
use crate::server::TraceEntry;
use crate::session::{Session, SessionConfig, SessionError, runtime};

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
pub fn run() -> Result<Vec<Line>, SessionError> {
    runtime().block_on(script())
}

/// Renders the timeline as aligned text.
pub fn render(lines: &[Line]) -> String {
    let width = lines.iter().map(|l| l.device.len()).max().unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        let (secs, millis) = (l.at_ms / 1000, l.at_ms % 1000);
        let _ = writeln!(
            out,
            "{secs:>4}.{millis:03}s  {:<width$}  {}",
            l.device, l.text
        );
    }
    out
}

async fn script() -> Result<Vec<Line>, SessionError> {
    let mut s = Session::start(SessionConfig {
        trace: true,
        ..SessionConfig::default()
    })
    .await;
    let app = UserConfig::default();
    s.add_user("alice", &["laptop"], app.clone()).await?;
    s.add_user("bob", &["phone", "tablet"], app.clone()).await?;
    s.add_user("carol", &["laptop"], app.clone()).await?;
    s.add_user("dave", &["phone"], app).await?;
    let line = UserConfig {
        endpoint: Endpoint::Phone,
        ..UserConfig::default()
    };
    s.add_user("pstn-555", &["line"], line).await?;
    s.add_group("team", &["alice", "bob", "carol", "dave"])
        .await?;
    let pause = Duration::from_millis(1500);

    // 1. A 1:1 video call, answered on bob's second device.
    let call = s.device("alice")?.call("bob", CallType::Video).await?;
    s.advance(pause).await;
    s.device("bob/tablet")?.accept(call).await?;
    s.advance(Duration::from_secs(20)).await;
    s.device("alice")?
        .send_message(call, "see you at the stand-up")
        .await?;
    s.device("bob/tablet")?.hangup(call).await?;
    s.advance(pause).await;

    // 2. A group call: carol declines, dave answers, carol joins late, bob never answers.
    let invitees = vec!["bob".into(), "carol".into(), "dave".into()];
    let group = PlaceCall::group("team", invitees, CallType::Audio);
    let call = s.device("alice")?.place_call(group).await?.call;
    s.advance(pause).await;
    s.device("carol")?.decline(call, None).await?;
    s.device("dave")?.accept(call).await?;
    s.advance(Duration::from_secs(10)).await;
    s.device("carol")?.join(call).await?;
    s.advance(Duration::from_secs(20)).await;
    s.device("dave")?.hangup(call).await?;
    s.device("carol")?.hangup(call).await?;
    s.advance(pause).await;

    // 3. A missed call: nobody answers dave's phone within the ring timeout.
    s.device("carol")?.call("dave", CallType::Audio).await?;
    s.advance(Duration::from_secs(31)).await;

    // 4. DTMF and a hold on a call to a phone line, then a blind transfer of the line to dave.
    let call = s.device("alice")?.call("pstn-555", CallType::Audio).await?;
    s.advance(pause).await;
    s.device("pstn-555")?.accept(call).await?;
    s.settle().await;
    s.device("alice")?.send_dtmf(call, "1234#").await?;
    s.device("alice")?.hold(call).await?;
    s.advance(Duration::from_secs(5)).await;
    s.device("alice")?.unhold(call).await?;
    s.device("alice")?.transfer(call, "dave").await?;
    s.advance(pause).await;
    s.device("dave")?.accept(call).await?;
    s.advance(Duration::from_secs(30)).await;
    s.device("dave")?.hangup(call).await?;
    s.settle().await;

    let trace = s.take_trace();
    Ok(timeline(&s, trace))
}

fn timeline(s: &Session, trace: Vec<TraceEntry>) -> Vec<Line> {
    let name = |d| {
        s.device_name(d)
            .map_or_else(|| format!("{d}"), str::to_owned)
    };
    trace
        .into_iter()
        .filter_map(|entry| match entry {
            TraceEntry::Request {
                at_ms,
                device,
                op,
                result,
            } => Some(Line {
                at_ms,
                device: name(device),
                text: match result {
                    Ok(_) => format!("→ {op}"),
                    Err(e) => format!("→ {op} refused: {e} ({})", e.code()),
                },
            }),
            TraceEntry::Delivery(d) => Some(Line {
                at_ms: d.at_ms,
                device: name(d.device),
                text: format!("← {}", d.event),
            }),
            TraceEntry::Connected { .. } | TraceEntry::Disconnected { .. } => None,
        })
        .collect()
}
