//! The `Then` half of the stage: every [`Expectation`] checked against what the system under
//! test did (the events each device received, the last reply or refusal, the server's state of a
//! call), and the field checks of `the reply has:` and `the invitation … has:`.

use serde_json::{Value, json};

use super::{ReplyData, Stage, device_key};
use crate::conformance::action::{CallRef, Expectation, ExpectedLine, FieldCheck};
use crate::conformance::dialect;
use crate::conformance::expect::{self, Failure, FailureKind};
use crate::core::{CallId, CallSnapshot, Delivery, DeviceId, Event, MemberSnapshot, UserId};

impl Stage {
    // ----- Then --------------------------------------------------------------------------------

    async fn snapshot(&mut self, call: CallRef) -> Result<CallSnapshot, Failure> {
        let id = self.call(call)?;
        let s = self.session().await?;
        s.snapshot(id)
            .await
            .map_err(Failure::from)?
            .ok_or_else(|| Failure::new(format!("there is no {id}")))
    }

    async fn member(
        &mut self,
        call: CallRef,
        user: &str,
    ) -> Result<(CallSnapshot, MemberSnapshot), Failure> {
        let snap = self.snapshot(call).await?;
        let member = snap
            .members
            .iter()
            .find(|m| m.user.as_str() == user)
            .cloned()
            .ok_or_else(|| {
                let members: Vec<&str> = snap.members.iter().map(|m| m.user.as_str()).collect();
                Failure::new(format!(
                    "{user} is not a member of {}; its members are {}",
                    snap.call,
                    members.join(", ")
                ))
            })?;
        Ok((snap, member))
    }

    /// Each of `devices` received exactly `lines` since its last check, as `matches` compares.
    async fn sees(
        &mut self,
        devices: &[String],
        lines: &[ExpectedLine],
        matches: fn(&[ExpectedLine], &[crate::core::Delivery], u64) -> bool,
    ) -> Result<(), Failure> {
        let lines = dialect::expected_lines(&self.grading, lines);
        let s = self.session().await?;
        let slack_ms = s.time_slack_ms();
        for d in devices {
            let key = device_key(s, d)?;
            let got = s.take_new(&key).map_err(Failure::from)?;
            if !matches(&lines, &got, slack_ms) {
                return Err(expect::mismatch(&key, &lines, &got));
            }
        }
        Ok(())
    }

    /// `fields` named as the dialect names the invitation's, by their canonical paths.
    fn canonical_fields(&self, fields: Vec<FieldCheck>) -> Result<Vec<FieldCheck>, Failure> {
        fields
            .into_iter()
            .map(|f| match self.incoming_names.get(&f.path) {
                Some(field) => Ok(FieldCheck {
                    path: field.path().to_owned(),
                    value: f.value,
                }),
                None => {
                    let known: Vec<&str> = self.incoming_names.keys().map(String::as_str).collect();
                    Err(Failure::new(format!(
                        "the dialect {} names no invitation field `{}`; it names {}",
                        self.dialect,
                        f.path,
                        if known.is_empty() {
                            "none (its profile has no `names.incoming`)".to_owned()
                        } else {
                            known.join(", ")
                        }
                    )))
                }
            })
            .collect()
    }

    /// The probe of the dialect's absent capabilities (see `dialect.rs`), on the last call.
    async fn probe(&mut self, device: &str) -> Result<(), Failure> {
        let call = self.calls.last().copied().unwrap_or(CallId(1));
        let policy = self.grading.clone();
        let s = self.session().await?;
        let me = device_key(s, device)?;
        let me_user = me.split('/').next().unwrap_or_default().to_owned();
        let peer = s
            .device_names()
            .into_iter()
            .filter_map(|d| d.split('/').next().map(str::to_owned))
            .find(|u| *u != me_user)
            .ok_or_else(|| Failure::new("the probe needs a second user to call"))?;
        dialect::probe(s, &policy, &me, call, &UserId::new(&peer)).await?;
        Ok(())
    }

    pub(super) async fn expect(&mut self, expectation: Expectation) -> Result<(), Failure> {
        match expectation {
            Expectation::Sees { devices, lines } => {
                self.sees(&devices, &lines, expect::lines_match).await
            }
            Expectation::SeesAnyOrder { devices, lines } => {
                self.sees(&devices, &lines, expect::lines_match_any_order)
                    .await
            }
            Expectation::AbsentRefused { device } => self.probe(&device).await,
            Expectation::ListenerGot {
                device,
                listener,
                lines,
            } => {
                let got: Vec<Delivery> = self
                    .heard(&device, &listener)
                    .await?
                    .into_iter()
                    .map(|event| Delivery {
                        device: DeviceId(0),
                        at_ms: 0,
                        event,
                    })
                    .collect();
                if expect::lines_match(&lines, &got, 0) {
                    Ok(())
                } else {
                    let what = format!("{device}'s call listener {listener:?}");
                    Err(expect::mismatch(&what, &lines, &got))
                }
            }
            Expectation::SeesNothing { devices } => {
                let s = self.session().await?;
                for d in devices {
                    let key = device_key(s, &d)?;
                    let got = s.take_new(&key).map_err(Failure::from)?;
                    if !got.is_empty() {
                        return Err(expect::mismatch(&key, &[], &got));
                    }
                }
                Ok(())
            }
            Expectation::NobodySeesAnything | Expectation::AllChecked => {
                let all = matches!(expectation, Expectation::AllChecked);
                let s = self.session().await?;
                let names: Vec<String> = s.device_names();
                let mut message = String::new();
                let mut first: Option<(String, Vec<String>)> = None;
                for name in names {
                    let got = s.take_new(&name).map_err(Failure::from)?;
                    if got.is_empty() {
                        continue;
                    }
                    let lines: Vec<String> = got.iter().map(expect::stamped).collect();
                    message.push_str(&expect::block(&name, &lines));
                    first.get_or_insert((name, lines));
                }
                match first {
                    None => Ok(()),
                    Some((device, actual)) => Err(Failure {
                        message: if all {
                            format!(
                                "devices received events that no step checked (add `Then … \
                                 sees:` steps for them)\n{message}"
                            )
                        } else {
                            format!("devices received events:\n{message}")
                        },
                        device: Some(device),
                        expected: Vec::new(),
                        actual,
                        kind: FailureKind::Mismatch,
                    }),
                }
            }
            Expectation::Fails { code, saying } => {
                self.unchecked = None;
                let Some(last) = &self.last else {
                    return Err(Failure::new("no operation came before this step"));
                };
                match &last.result {
                    Ok(_) => Err(Failure::new(format!(
                        "expected {} to fail with {code}, but it succeeded",
                        last.shown()
                    ))),
                    Err(e) if e.code != code => Err(Failure::new(format!(
                        "expected {} to fail with {code}, but it failed with {}: {e}",
                        last.shown(),
                        e.code
                    ))),
                    Err(e) => match saying {
                        Some(text) if !e.to_string().contains(&text) => Err(Failure::new(format!(
                            "{} failed with {code} as expected, but saying \"{e}\", \
                                 which does not contain \"{text}\"",
                            last.shown()
                        ))),
                        _ => Ok(()),
                    },
                }
            }
            Expectation::Status { call, status } => {
                let status = dialect::expected_status(&self.grading, status);
                let snap = self.snapshot(call).await?;
                if snap.status == status {
                    Ok(())
                } else {
                    Err(Failure::new(format!(
                        "expected {} to be {status}, but it is {}",
                        snap.call, snap.status
                    )))
                }
            }
            Expectation::EndReason { call, reason } => {
                let snap = self.snapshot(call).await?;
                match &snap.end_reason {
                    Some(r) if r.to_string() == reason => Ok(()),
                    Some(r) => Err(Failure::new(format!(
                        "expected {} to have ended: {reason}\n  but it ended: {r}",
                        snap.call
                    ))),
                    None => Err(Failure::new(format!(
                        "expected {} to have ended: {reason}\n  but it is still {}",
                        snap.call, snap.status
                    ))),
                }
            }
            Expectation::EndCode { call, code } => {
                let snap = self.snapshot(call).await?;
                match &snap.end_reason {
                    Some(r) if r.code() == code => Ok(()),
                    Some(r) => Err(Failure::new(format!(
                        "expected {} to have ended with code {code}, but it ended with {} ({r})",
                        snap.call,
                        r.code()
                    ))),
                    None => Err(Failure::new(format!(
                        "expected {} to have ended with code {code}, but it is still {}",
                        snap.call, snap.status
                    ))),
                }
            }
            Expectation::MemberState { call, user, state } => {
                let state = dialect::expected_member_state(&self.grading, &state).to_owned();
                let (snap, m) = self.member(call, &user).await?;
                if m.state.to_string() == state {
                    Ok(())
                } else {
                    Err(Failure::new(format!(
                        "expected {user}'s state in {} to be {state}, but it is {}",
                        snap.call, m.state
                    )))
                }
            }
            Expectation::OnHold {
                call,
                user,
                on_hold,
            } => {
                let (snap, m) = self.member(call, &user).await?;
                if m.on_hold == on_hold {
                    Ok(())
                } else {
                    let is = if m.on_hold { "on hold" } else { "not on hold" };
                    Err(Failure::new(format!("{user} has {} {is}", snap.call)))
                }
            }
            Expectation::Muted {
                call,
                user,
                media,
                muted,
            } => {
                let (snap, m) = self.member(call, &user).await?;
                let is = match media {
                    crate::core::Media::Audio => m.audio_muted,
                    crate::core::Media::Video => m.video_muted,
                };
                if is == muted {
                    Ok(())
                } else {
                    let word = if is { "muted" } else { "unmuted" };
                    Err(Failure::new(format!(
                        "{user}'s {media:?} in {} is {word}",
                        snap.call
                    )))
                }
            }
            Expectation::Invitees { busy, users } => {
                let kind = if busy { "busy" } else { "unavailable" };
                let got: Vec<String> = match self.last.as_ref().map(|l| &l.result) {
                    Some(Ok(ReplyData::Placed(p))) => {
                        { if busy { &p.busy } else { &p.unavailable } }
                            .iter()
                            .map(ToString::to_string)
                            .collect()
                    }
                    Some(Ok(ReplyData::Invited {
                        busy: b,
                        unavailable: u,
                    })) => if busy { b } else { u }
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    _ => {
                        return Err(Failure::new(
                            "the last operation was not a successful place or invite",
                        ));
                    }
                };
                if got == users {
                    Ok(())
                } else {
                    let show = |v: &[String]| {
                        if v.is_empty() {
                            "none".to_owned()
                        } else {
                            v.join(", ")
                        }
                    };
                    Err(Failure::new(format!(
                        "expected the {kind} invitees to be {}, but they are {}",
                        show(&users),
                        show(&got)
                    )))
                }
            }
            Expectation::ReplyFields(fields) => {
                let value = match self.last.as_ref().map(|l| &l.result) {
                    Some(Ok(reply)) => reply_json(reply),
                    Some(Err(e)) => {
                        return Err(Failure::new(format!(
                            "the last operation was refused ({e}); there is no reply to look at"
                        )));
                    }
                    None => return Err(Failure::new("no operation came before this step")),
                };
                let slack_ms = self.session().await?.time_slack_ms();
                check_fields("the reply", &value, &fields, slack_ms)
            }
            Expectation::EventFields {
                device,
                invitation,
                fields,
                vendor_names,
            } => {
                let fields = if vendor_names {
                    self.canonical_fields(fields)?
                } else {
                    fields
                };
                let s = self.session().await?;
                let key = device_key(s, &device)?;
                let events = s.events(&key).map_err(Failure::from)?;
                let found = events.iter().rev().find(|d| {
                    !invitation
                        || matches!(d.event, Event::Incoming { .. } | Event::Notified { .. })
                });
                let Some(d) = found else {
                    let what = if invitation {
                        "an invitation"
                    } else {
                        "any event"
                    };
                    return Err(Failure::new(format!("{key} has not received {what}")));
                };
                let value =
                    serde_json::to_value(&d.event).map_err(|e| Failure::new(e.to_string()))?;
                let what = format!("the event `{}`", d.event);
                check_fields(&what, &value, &fields, s.time_slack_ms())
            }
        }
    }
}

fn reply_json(reply: &ReplyData) -> Value {
    match reply {
        ReplyData::Done => json!({}),
        ReplyData::Placed(p) => json!({
            "call": p.call,
            "busy": p.busy,
            "unavailable": p.unavailable,
        }),
        ReplyData::Invited { busy, unavailable } => json!({
            "busy": busy,
            "unavailable": unavailable,
        }),
        ReplyData::Call(snapshot) => serde_json::to_value(snapshot).unwrap_or(Value::Null),
    }
}

/// The value at a dotted path (`info.invitees`, `members.1.state`).
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A JSON value as a table cell: `none` for null, lists joined with `, `.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Checks `fields` of `value`. A field named `…_ms` is a time (units last): it matches within
/// `slack_ms`, as event times do (0 with a driven clock).
fn check_fields(
    what: &str,
    value: &Value,
    fields: &[FieldCheck],
    slack_ms: u64,
) -> Result<(), Failure> {
    let near = |v: &Value, f: &FieldCheck| {
        f.path.ends_with("_ms")
            && matches!((v.as_u64(), f.value.parse::<u64>()), (Some(a), Ok(b)) if a.abs_diff(b) <= slack_ms)
    };
    let mut wrong = Vec::new();
    for f in fields {
        match lookup(value, &f.path) {
            Some(v) if show(v) == f.value || near(v, f) => {}
            Some(v) => wrong.push(format!(
                "  `{}` is `{}`, expected `{}`",
                f.path,
                show(v),
                f.value
            )),
            None => wrong.push(format!("  `{}` does not exist", f.path)),
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    Err(Failure::new(format!(
        "{what} does not have the expected fields:\n{}\n  its fields:\n{}",
        wrong.join("\n"),
        pretty
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_fields_match_within_the_slack_and_others_exactly() {
        let v = json!({"created_ms": 3004, "call": 1});
        let check = |path: &str, value: &str| FieldCheck {
            path: path.into(),
            value: value.into(),
        };
        assert!(check_fields("r", &v, &[check("created_ms", "3000")], 0).is_err());
        assert!(check_fields("r", &v, &[check("created_ms", "3000")], 250).is_ok());
        assert!(check_fields("r", &v, &[check("created_ms", "3300")], 250).is_err());
        // Only `…_ms` fields are times.
        assert!(check_fields("r", &v, &[check("call", "2")], 250).is_err());
    }

    #[test]
    fn field_paths() {
        let v = json!({"info": {"invitees": ["bob", "carol"], "group": null, "n": 3}});
        assert_eq!(
            lookup(&v, "info.invitees").map(show),
            Some("bob, carol".into())
        );
        assert_eq!(
            lookup(&v, "info.invitees.1").map(show),
            Some("carol".into())
        );
        assert_eq!(lookup(&v, "info.group").map(show), Some("none".into()));
        assert_eq!(lookup(&v, "info.n").map(show), Some("3".into()));
        assert!(lookup(&v, "info.nope").is_none());
    }
}
