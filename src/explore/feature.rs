//! A shrunk failing case written as a `.feature` file in the published step vocabulary
//! (`callconf steps`), ready to commit into a vendor's own feature folder and to run with
//! `certify --features DIR`.
//!
//! The scenario is the model's prediction spelled out: the cast as `Given` steps, every step
//! of the case as a `When`, and after each one the model's answer (a refusal's code) and every
//! event each device must see, with its time. After the last step it also states each call's
//! status and its members' states, hold and mute, so a failure the model found only in the
//! server's state of a call fails the feature too. Against the system that failed, it fails at
//! the step where the system first disagreed; against a correct system, it passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::conformance::expect::stamped;
use crate::core::{CallId, CallStatus, Delivery, Event, ParticipantState as P};
use crate::model::{Dev, GROUPS, LIVE_CALLS_MAX, Outcome, PlanKind, Step, USERS, World, user_name};

/// The case as a feature file: `title` names the scenario, `about` is its description (one
/// paragraph per line). An error names a step the vocabulary cannot say.
pub fn write(
    cast: &World,
    steps: &[Step],
    title: &str,
    about: &[String],
) -> Result<String, String> {
    let mut out = String::new();
    let _ = writeln!(out, "@explore");
    let _ = writeln!(out, "Feature: {title}");
    for line in about {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  Scenario: {title}");
    for (n, line) in given(cast).iter().enumerate() {
        let keyword = if n == 0 { "Given" } else { "And" };
        let _ = writeln!(out, "    {keyword} {line}");
    }
    let mut world = cast.clone();
    for (n, step) in steps.iter().enumerate() {
        let placed = world.calls.len();
        let when = when(step, placed).map_err(|e| format!("step {}: {e}", n + 1))?;
        world.step(step);
        let _ = writeln!(out, "    When {when}");
        for line in then(&world) {
            let _ = writeln!(out, "    {line}");
        }
    }
    for line in final_state(&world) {
        let _ = writeln!(out, "    {line}");
    }
    Ok(out)
}

/// The cast: the dialect (first, since choosing one replaces the limits and automatic steps),
/// no automatic steps, the model's limits, the users and the groups; each line without its
/// keyword.
fn given(cast: &World) -> Vec<String> {
    // A profile file is not known by name to the step: run the feature with `--profile FILE`.
    let name = cast.dialect.name.as_str();
    let mut out = Vec::new();
    if crate::profile::builtin_names().contains(&name) {
        out.push(format!("the dialect is \"{name}\""));
    }
    out.extend([
        "devices do not acknowledge ringing automatically".to_owned(),
        "devices do not start the media session automatically".to_owned(),
        format!("the ring timeout is {} ms", cast.dialect.ring_timeout_ms),
        format!("the limit live_calls_max is {LIVE_CALLS_MAX}"),
    ]);
    for u in 0..USERS {
        let s = cast.setup[u];
        let name = user_name(u);
        let labels: Vec<&str> = cast.devices_of(u).iter().map(|d| d.label()).collect();
        out.push(format!("user {name} with devices {}", and_list(&labels)));
        if s.phone {
            out.push(format!("{name} is a phone number"));
        }
        if s.call_waiting {
            out.push(format!("{name} has call waiting"));
        }
        if s.may_end {
            out.push(format!("{name} may end calls for everyone"));
        }
        match s.plan {
            PlanKind::Full => {}
            PlanKind::Small => out.push(format!("{name}'s plan allows at most 3 participants")),
            PlanKind::AudioOnly => out.push(format!("{name} is on the audio-only plan")),
        }
    }
    for (group, members) in GROUPS {
        let names: Vec<String> = members.iter().map(|u| user_name(*u)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        out.push(format!("a group {group} of {}", and_list(&names)));
    }
    out
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn users(us: &[usize]) -> Result<String, String> {
    if us.is_empty() {
        return Err("an operation on no users".into());
    }
    let names: Vec<String> = us.iter().map(|u| user_name(*u)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(and_list(&names))
}

/// The step's text after `When`, its call named by id as the model numbers it after `placed`
/// calls.
fn when(step: &Step, placed: usize) -> Result<String, String> {
    let call = |b: crate::model::Back| format!("call-{}", b.resolve(placed).0);
    Ok(match step {
        Step::Place {
            by,
            to,
            video,
            group,
        } => {
            let kind = if *video { "a video" } else { "an audio" };
            let dev = by.key();
            match group {
                Some(g) => format!(
                    "{dev} places {kind} call in {} to {}",
                    GROUPS[*g].0,
                    users(to)?
                ),
                None => format!("{dev} places {kind} call to {}", users(to)?),
            }
        }
        Step::Ring { by, call: c } => format!("{} acknowledges ringing {}", by.key(), call(*c)),
        Step::Accept { by, call: c } => format!("{} accepts {}", by.key(), call(*c)),
        Step::StartSession { by, call: c } => {
            format!("{} starts the media session {}", by.key(), call(*c))
        }
        Step::Decline { by, call: c, code } => match code {
            Some(code) => format!("{} declines {} with {code}", by.key(), call(*c)),
            None => format!("{} declines {}", by.key(), call(*c)),
        },
        Step::Cancel { by, call: c } => format!("{} cancels {}", by.key(), call(*c)),
        Step::Hangup { by, call: c } => format!("{} hangs up {}", by.key(), call(*c)),
        Step::EndForAll { by, call: c } => {
            format!("{} ends {} for everyone", by.key(), call(*c))
        }
        Step::Join { by, call: c } => format!("{} joins {}", by.key(), call(*c)),
        Step::Invite {
            by,
            call: c,
            users: us,
        } => format!("{} invites {} to {}", by.key(), users(us)?, call(*c)),
        Step::Hold { by, call: c, on } => {
            let verb = if *on { "holds" } else { "resumes" };
            format!("{} {verb} {}", by.key(), call(*c))
        }
        Step::Mute {
            by,
            call: c,
            video,
            muted,
        } => {
            let verb = if *muted { "mutes" } else { "unmutes" };
            let media = if *video { "video" } else { "audio" };
            format!("{} {verb} {media} in {}", by.key(), call(*c))
        }
        Step::Dtmf {
            by,
            call: c,
            digits,
        } => {
            if digits.contains('"') {
                return Err("DTMF digits with a quote".into());
            }
            format!("{} sends DTMF \"{digits}\" in {}", by.key(), call(*c))
        }
        Step::Transfer { by, call: c, to } => {
            format!("{} transfers {} to {}", by.key(), call(*c), user_name(*to))
        }
        Step::GetCall { by, call: c } => {
            format!("{} asks for the state of {}", by.key(), call(*c))
        }
        Step::Advance { ms } => format!("{ms} ms pass"),
        Step::Offline { dev } => format!("{} goes offline", dev.key()),
        Step::Online { dev } => format!("{} comes back online", dev.key()),
    })
}

/// The model's prediction of the last step: its answer, then each device's events.
fn then(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    match &world.expect.outcome {
        Some(Outcome::Refused(r)) => out.push(format!("Then it fails with {}", r.code())),
        Some(Outcome::Placed {
            busy, unavailable, ..
        })
        | Some(Outcome::Invited { busy, unavailable }) => {
            for (what, list) in [("busy", busy), ("unavailable", unavailable)] {
                if !list.is_empty() {
                    let names: Vec<&str> = list.iter().map(|u| u.as_str()).collect();
                    out.push(format!("Then the {what} invitees are {}", and_list(&names)));
                }
            }
        }
        Some(Outcome::Snapshot(s)) => {
            out.push("Then the reply has:".into());
            out.push(format!("  | status | {} |", s.status));
        }
        Some(Outcome::Done) | None => {}
    }
    for (d, events) in &world.expect.events {
        out.extend(sees(*d, events));
    }
    out
}

/// `Then DEVICE sees:` with the events as stamped lines; `in any order` where they are about
/// more than one call (the order between calls on one device is not part of the contract).
fn sees(d: Dev, events: &[(u64, Event)]) -> Vec<String> {
    if events.is_empty() {
        return Vec::new();
    }
    let calls: std::collections::BTreeSet<CallId> = events.iter().map(|(_, e)| e.call()).collect();
    let how = if calls.len() > 1 {
        "sees, in any order:"
    } else {
        "sees:"
    };
    let mut out = vec![format!("Then {} {how}", d.key()), "  \"\"\"".to_owned()];
    for (at, event) in events {
        let line = stamped(&Delivery {
            device: crate::core::DeviceId(0),
            at_ms: *at,
            event: event.clone(),
        });
        out.push(format!("  {line}"));
    }
    out.push("  \"\"\"".to_owned());
    out
}

/// Each call's status and its members' states, hold and mute, as the model holds them.
fn final_state(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    for c in 0..world.calls.len() {
        let s = world.snapshot(c);
        let call = format!("call-{}", s.call.0);
        out.push(format!("Then {call} is {}", s.status));
        if let Some(reason) = &s.end_reason {
            out.push(format!("Then {call} ended: {reason}"));
        }
        let mut seen: BTreeMap<String, ()> = BTreeMap::new();
        for m in &s.members {
            if seen.insert(m.user.as_str().to_owned(), ()).is_some() {
                continue;
            }
            out.push(format!("Then {}'s state in {call} is {}", m.user, m.state));
            if s.status != CallStatus::Ended && matches!(m.state, P::Joined | P::Calling) {
                let hold = if m.on_hold { "on hold" } else { "not on hold" };
                out.push(format!("Then {} has {call} {hold}", m.user));
                let audio = if m.audio_muted { "muted" } else { "unmuted" };
                out.push(format!("Then {}'s audio in {call} is {audio}", m.user));
                if s.call_type == crate::core::CallType::Video {
                    let video = if m.video_muted { "muted" } else { "unmuted" };
                    out.push(format!("Then {}'s video in {call} is {video}", m.user));
                }
            }
        }
    }
    out
}
