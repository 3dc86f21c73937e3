//! What a system showed after a step against the model's prediction: each device's events
//! and every call's state. One comparison for every driver of the model (the property tests in
//! process, `callconf explore` through an adapter); the answer is compared by each driver,
//! since only in process are a refusal's reasons visible.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::{CallId, CallInfo, CallSnapshot, CallStatus, Delivery, Event};
use crate::model::{Dev, World};

/// Per device and call, the events and their times against `model`'s prediction, times within
/// `slack_ms` (0 with a driven clock). The order between calls on one device is not part of
/// the contract.
pub fn check_events(
    model: &World,
    events: &BTreeMap<Dev, Vec<Delivery>>,
    slack_ms: u64,
) -> Result<(), String> {
    let mut got: BTreeMap<(Dev, CallId), Vec<(u64, Event)>> = BTreeMap::new();
    for (d, list) in events {
        for e in list {
            got.entry((*d, e.event.call()))
                .or_default()
                .push((e.at_ms, e.event.clone()));
        }
    }
    let mut want: BTreeMap<(Dev, CallId), Vec<(u64, Event)>> = BTreeMap::new();
    for (d, list) in &model.expect.events {
        for (at, e) in list {
            want.entry((*d, e.call()))
                .or_default()
                .push((*at, e.clone()));
        }
    }
    let keys: BTreeSet<_> = got.keys().chain(want.keys()).collect();
    for key in keys {
        let g = got.get(key).map_or(&[][..], Vec::as_slice);
        let w = want.get(key).map_or(&[][..], Vec::as_slice);
        let same = g.len() == w.len()
            && g.iter()
                .zip(w)
                .all(|(a, b)| same_event(&a.1, &b.1, slack_ms) && a.0.abs_diff(b.0) <= slack_ms);
        if !same {
            return Err(format!(
                "{:?} received for call-{}: {}; the model says: {}",
                key.0,
                key.1.0,
                show_events(g, w),
                show_events(w, g)
            ));
        }
    }
    Ok(())
}

/// `want` with `got`'s creation and end times where they are within `slack_ms` of its own, so
/// that comparing the two compares everything else exactly.
pub fn with_times_of(got: &CallSnapshot, mut want: CallSnapshot, slack_ms: u64) -> CallSnapshot {
    if got.created_ms.abs_diff(want.created_ms) <= slack_ms {
        want.created_ms = got.created_ms;
    }
    if let (Some(g), Some(w)) = (got.ended_ms, want.ended_ms)
        && g.abs_diff(w) <= slack_ms
    {
        want.ended_ms = Some(g);
    }
    want
}

/// The same event, a call's creation time inside it within `slack_ms`.
fn same_event(got: &Event, want: &Event, slack_ms: u64) -> bool {
    match (got, want) {
        (Event::Incoming { info: g }, Event::Incoming { info: w })
        | (Event::Notified { info: g }, Event::Notified { info: w })
            if slack_ms > 0 =>
        {
            g.created_ms.abs_diff(w.created_ms) <= slack_ms
                && CallInfo {
                    created_ms: w.created_ms,
                    ..(**g).clone()
                } == **w
        }
        _ => got == want,
    }
}

/// Events as lines (`at 30000 ms: call-1: ended, no answer`); in full when the lines alone do
/// not show the difference from `other`.
fn show_events(list: &[(u64, Event)], other: &[(u64, Event)]) -> String {
    let line = |l: &[(u64, Event)]| -> Vec<String> {
        l.iter().map(|(at, e)| format!("at {at} ms: {e}")).collect()
    };
    if list.is_empty() {
        "nothing".into()
    } else if line(list) == line(other) {
        format!("{list:?}")
    } else {
        format!("[{}]", line(list).join("; "))
    }
}

/// Every call as the server holds it against the model's: in full while live; once ended,
/// the end and the members' last states. Times (`created_ms`, `ended_ms`) within `slack_ms`.
pub fn check_snapshots(
    model: &World,
    snapshots: &[CallSnapshot],
    slack_ms: u64,
) -> Result<(), String> {
    if snapshots.len() != model.calls.len() {
        return Err(format!(
            "the server has {} calls, the model {}",
            snapshots.len(),
            model.calls.len()
        ));
    }
    for (c, got) in snapshots.iter().enumerate() {
        let want = with_times_of(got, model.snapshot(c), slack_ms);
        let same = if want.status == CallStatus::Ended {
            let brief = |s: &CallSnapshot| {
                (
                    s.status,
                    s.end_reason.clone(),
                    s.ended_ms,
                    s.members
                        .iter()
                        .map(|m| (m.user.clone(), m.state.clone()))
                        .collect::<Vec<_>>(),
                )
            };
            brief(got) == brief(&want)
        } else {
            *got == want
        };
        if !same {
            return Err(format!(
                "the server's call-{} is {got:?}; the model's is {want:?}",
                got.call.0
            ));
        }
    }
    Ok(())
}
