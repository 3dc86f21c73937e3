//! A scenario's full trace: under each step, every request a device made (with its result) and
//! every event a device received, in the order the reference server handled them.
//!
//! Two renderings: [`render`] with real virtual times, for reports, and [`render_redacted`] for
//! snapshots, where times become ordinal placeholders (`t0`, `t1`, … in order of first
//! appearance) and call ids become `[call-a]`, `[call-b]`, …, so that a snapshot changes only
//! when the order or the content of what devices see changes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::server::TraceEntry;
use crate::session::Session;

/// One request or delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceLine {
    pub at_ms: u64,
    /// `user/label`.
    pub device: String,
    /// `→ accept call-1`, `→ accept call-1 refused: … (409)`, `← call-1: bob joined`,
    /// `· disconnected`.
    pub text: String,
}

/// What happened while one step ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceBlock {
    /// The step as written: `When alice calls bob`.
    pub step: String,
    pub line: usize,
    pub entries: Vec<TraceLine>,
}

/// The server's trace entries since the last call, named by device.
pub fn take(session: &mut Session) -> Vec<TraceLine> {
    let entries = session.take_trace();
    let name = |d: crate::core::DeviceId| {
        session
            .device_name(d)
            .map_or_else(|| d.to_string(), str::to_owned)
    };
    entries
        .into_iter()
        .map(|entry| match entry {
            TraceEntry::Request {
                at_ms,
                device,
                op,
                result,
            } => TraceLine {
                at_ms,
                device: name(device),
                text: match result {
                    Ok(_) => format!("→ {op}"),
                    Err(e) => format!("→ {op} refused: {e} ({})", e.code()),
                },
            },
            TraceEntry::Delivery(d) => TraceLine {
                at_ms: d.at_ms,
                device: name(d.device),
                text: format!("← {}", d.event),
            },
            TraceEntry::Connected { at_ms, device } => TraceLine {
                at_ms,
                device: name(device),
                text: "· connected".into(),
            },
            TraceEntry::Disconnected {
                at_ms,
                device,
                slow,
            } => TraceLine {
                at_ms,
                device: name(device),
                text: if slow {
                    "· disconnected (slow consumer)".into()
                } else {
                    "· disconnected".into()
                },
            },
        })
        .collect()
}

/// `12.345s`, `30s`.
pub fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        let s = format!("{}.{:03}", ms / 1000, ms % 1000);
        format!("{}s", s.trim_end_matches('0'))
    }
}

/// The trace with real virtual times.
pub fn render(blocks: &[TraceBlock]) -> String {
    render_with(blocks, |ms, _| seconds(ms))
}

/// The trace with times and call ids replaced by stable placeholders (for snapshots).
pub fn render_redacted(blocks: &[TraceBlock]) -> String {
    let mut times: Vec<u64> = Vec::new();
    let text = render_with(blocks, |ms, _| {
        let i = times.iter().position(|t| *t == ms).unwrap_or_else(|| {
            times.push(ms);
            times.len() - 1
        });
        format!("t{i}")
    });
    redact_calls(&text)
}

fn render_with(blocks: &[TraceBlock], mut time: impl FnMut(u64, &str) -> String) -> String {
    let width = blocks
        .iter()
        .flat_map(|b| &b.entries)
        .map(|l| l.device.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for b in blocks {
        let _ = writeln!(out, "{}", b.step);
        for l in &b.entries {
            let t = time(l.at_ms, &l.device);
            let _ = writeln!(out, "  {t:>7}  {:<width$}  {}", l.device, l.text);
        }
    }
    out
}

/// `call-7` → `[call-a]` in order of first appearance.
pub fn redact_calls(text: &str) -> String {
    static CALL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bcall-(\d+)\b").expect("a valid regex"));
    let mut names: HashMap<String, String> = HashMap::new();
    CALL.replace_all(text, |caps: &regex::Captures<'_>| {
        let n = names.len();
        names
            .entry(caps[1].to_owned())
            .or_insert_with(|| format!("[call-{}]", placeholder(n)))
            .clone()
    })
    .into_owned()
}

/// 0 → a, 25 → z, 26 → aa …
fn placeholder(mut n: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + u8::try_from(n % 26).unwrap_or(0));
        n /= 26;
        if n == 0 {
            break;
        }
        n -= 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_is_stable_and_ordered() {
        let blocks = vec![TraceBlock {
            step: "When alice accepts call-7".into(),
            line: 3,
            entries: vec![
                TraceLine {
                    at_ms: 1500,
                    device: "alice/phone".into(),
                    text: "→ accept call-7".into(),
                },
                TraceLine {
                    at_ms: 30_000,
                    device: "bob/phone".into(),
                    text: "← call-2: ended, no answer".into(),
                },
            ],
        }];
        let text = render_redacted(&blocks);
        assert_eq!(
            text,
            "When alice accepts [call-a]\n\
             \x20      t0  alice/phone  → accept [call-a]\n\
             \x20      t1  bob/phone    ← [call-b]: ended, no answer\n"
        );
        assert_eq!(
            render(&blocks).lines().nth(2),
            Some("      30s  bob/phone    ← call-2: ended, no answer")
        );
        assert_eq!(seconds(1500), "1.5s");
        assert_eq!(placeholder(26), "aa");
    }
}
