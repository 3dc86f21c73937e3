//! `Then` steps: the events each device received (exact and ordered), refusals and their codes,
//! the call's state, its members and its end reason.

use super::{call_ref, dev, devs, list, name, names, number, pairs, the_call};
use crate::conformance::action::{Action, Expectation, ExpectedLine, FieldCheck};
use crate::conformance::catalog::{Args, Kind, StepDef};
use crate::core::{CallStatus, Media};

pub(super) fn defs() -> Vec<StepDef> {
    let then = Kind::Then;
    vec![
        StepDef {
            kind: then,
            pattern: concat!("^", devs!(), " sees?:$"),
            template: "<devices> see: <docstring of event lines>",
            example: "alice sees:\n\
                      \"\"\"\n\
                      call-1: bob ringing\n\
                      call-1: status ringing\n\
                      \"\"\"",
            help: "Exactly these events, in this order, since the device's previous check. A line \
                   may start with a virtual time, `[30s] call-1: ended, no answer`.",
            parse: sees,
        },
        StepDef {
            kind: then,
            pattern: concat!("^", devs!(), " sees?, in any order:$"),
            template: "<devices> see, in any order: <docstring of event lines>",
            example: "alice sees, in any order:\n\
                      \"\"\"\n\
                      call-1: bob ringing\n\
                      call-1: carol ringing\n\
                      \"\"\"",
            help: "Exactly these events since the device's previous check, in any order: for \
                   events that other devices cause independently (their automatic ringing), \
                   whose order no system promises across devices.",
            parse: sees_any_order,
        },
        StepDef {
            kind: then,
            pattern: concat!("^", devs!(), " sees? \"(?P<line>.*)\"$"),
            template: "<devices> see \"<event line>\"",
            example: "bob/tablet sees \"call-1: detached, answered on another device\"",
            help: "Exactly one event since the device's previous check.",
            parse: sees_one,
        },
        StepDef {
            kind: then,
            pattern: concat!(
                "^",
                dev!(),
                " is refused every operation the dialect lacks$"
            ),
            template: "<device> is refused every operation the dialect lacks",
            example: "alice is refused every operation the dialect lacks",
            help: "The probe: the device asks for each capability the scenario's dialect lacks \
                   (on the last call placed; placing to another user of the scenario) and each \
                   is refused with 501 and changes nothing. A dialect that lacks nothing fails it.",
            parse: |a| {
                Ok(Action::Expect(Expectation::AbsentRefused {
                    device: a.req("dev").to_owned(),
                }))
            },
        },
        StepDef {
            kind: Kind::Then,
            pattern: concat!(
                "^",
                dev!(),
                "'s call listener \"(?P<id>[^\"]+)\" got(?::| \"(?P<line>.*)\"| (?P<nothing>nothing(?: more)?))$"
            ),
            template: "<device>'s call listener \"<id>\" got <: docstring | \"<event>\" | nothing>",
            example: "bob's call listener \"call-screen\" got nothing",
            help: "Exactly these events reached that listener since its last check, in order; a \
                   removed listener must get nothing.",
            parse: listener_got,
        },
        StepDef {
            kind: then,
            pattern: concat!("^", devs!(), " sees? nothing(?: more)?$"),
            template: "<devices> see nothing more",
            example: "bob/phone sees nothing more",
            help: "No event since the device's previous check.",
            parse: |a| {
                Ok(Action::Expect(Expectation::SeesNothing {
                    devices: list(a.req("devs")),
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: "^(?:nobody|no device) sees anything(?: more)?$",
            template: "nobody sees anything more",
            example: "nobody sees anything more",
            help: "No device received anything since its previous check.",
            parse: |_| Ok(Action::Expect(Expectation::NobodySeesAnything)),
        },
        StepDef {
            kind: then,
            pattern: r#"^it fails with (?P<code>\d+)(?: saying "(?P<text>[^"]*)")?$"#,
            template: "it fails with <code> [saying \"<part of the message>\"]",
            example: "it fails with 409",
            help: "The operation of the previous step was refused with this code (400 bad \
                   argument, 403 forbidden, 404 unknown, 409 handled elsewhere, 410 ended, 413 too \
                   large, 422 wrong state, 480 unavailable, 486 busy, 503 capacity).",
            parse: |a| {
                Ok(Action::Expect(Expectation::Fails {
                    code: number(a.req("code"), "code")?,
                    saying: a.get("text").map(str::to_owned),
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: concat!(
                "^",
                the_call!(),
                " is (?P<status>calling|ringing|connecting|connected|ended)$"
            ),
            template: "<the call | call-N> is <calling | ringing | connecting | connected | ended>",
            example: "the call is connected",
            help: "The call's status as the server holds it.",
            parse: status,
        },
        StepDef {
            kind: then,
            pattern: concat!("^", the_call!(), " ended: (?P<reason>.+)$"),
            template: "<the call | call-N> ended: <reason>",
            example: "the call ended: declined by bob (603)",
            help: "The call is over, for this reason (as `ended, …` events word it).",
            parse: |a| {
                Ok(Action::Expect(Expectation::EndReason {
                    call: call_ref(a)?,
                    reason: a.req("reason").to_owned(),
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: concat!(r"^the end code of ", the_call!(), r" is (?P<code>\d+)$"),
            template: "the end code of <the call | call-N> is <code>",
            example: "the end code of the call is 487",
            help: "200 normal, 408 no answer, 480 disconnected, 487 cancelled, the decline code.",
            parse: |a| {
                Ok(Action::Expect(Expectation::EndCode {
                    call: call_ref(a)?,
                    code: number(a.req("code"), "code")?,
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: concat!(
                "^(?P<user>",
                name!(),
                ")'s state in ",
                the_call!(),
                " is (?P<state>.+)$"
            ),
            template: "<user>'s state in <the call | call-N> is <state>",
            example: "bob's state in the call is declined (603)",
            help: "calling, invited, ringing, notified, joined, declined (code), missed, busy, \
                   unavailable, left, disconnected, transferring to <user>, transferred.",
            parse: |a| {
                Ok(Action::Expect(Expectation::MemberState {
                    call: call_ref(a)?,
                    user: a.req("user").to_owned(),
                    state: a.req("state").to_owned(),
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: concat!(
                "^(?P<user>",
                name!(),
                ") has ",
                the_call!(),
                " (?P<hold>on hold|not on hold)$"
            ),
            template: "<user> has <the call | call-N> <on hold | not on hold>",
            example: "alice has the call on hold",
            help: "Whether the member holds the call.",
            parse: |a| {
                Ok(Action::Expect(Expectation::OnHold {
                    call: call_ref(a)?,
                    user: a.req("user").to_owned(),
                    on_hold: a.req("hold") == "on hold",
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: concat!(
                "^(?P<user>",
                name!(),
                ")'s (?P<media>audio|video) in ",
                the_call!(),
                " is (?P<muted>muted|unmuted)$"
            ),
            template: "<user>'s <audio | video> in <the call | call-N> is <muted | unmuted>",
            example: "bob's audio in the call is muted",
            help: "Whether the member's track is muted.",
            parse: |a| {
                Ok(Action::Expect(Expectation::Muted {
                    call: call_ref(a)?,
                    user: a.req("user").to_owned(),
                    media: if a.req("media") == "video" {
                        Media::Video
                    } else {
                        Media::Audio
                    },
                    muted: a.req("muted") == "muted",
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: concat!(
                "^the (?P<kind>busy|unavailable) invitees are (?:none|",
                names!("users"),
                ")$"
            ),
            template: "the <busy | unavailable> invitees are <users | none>",
            example: "the busy invitees are dave",
            help: "Who the last place or invite reply says was not rung.",
            parse: |a| {
                Ok(Action::Expect(Expectation::Invitees {
                    busy: a.req("kind") == "busy",
                    users: a.get("users").map(list).unwrap_or_default(),
                }))
            },
        },
        StepDef {
            kind: then,
            pattern: "^the reply has:$",
            template: "the reply has: <table of | field | value |>",
            example: "the reply has:\n\
                      | status              | connected |\n\
                      | members.1.state     | joined    |",
            help: "Fields of the last operation's reply, by dotted path into its JSON form.",
            parse: |a| Ok(Action::Expect(Expectation::ReplyFields(fields(a)?))),
        },
        StepDef {
            kind: then,
            pattern: concat!("^the last event ", dev!(), " saw has:$"),
            template: "the last event <device> saw has: <table of | field | value |>",
            example: "the last event bob saw has:\n\
                      | event | message      |\n\
                      | text  | running late |",
            help: "Fields of the device's most recent event, by dotted path into its JSON form.",
            parse: |a| event_fields(a, false, false),
        },
        StepDef {
            kind: then,
            pattern: concat!("^the invitation ", dev!(), " received has:$"),
            template: "the invitation <device> received has: <table of | field | value |>",
            example: "the invitation bob received has:\n\
                      | info.call_type | video |\n\
                      | info.group     | none  |\n\
                      | info.invitees  | bob   |",
            help: "Fields of the device's latest incoming-call or notification payload.",
            parse: |a| event_fields(a, true, false),
        },
        StepDef {
            kind: then,
            pattern: concat!(
                "^the invitation ",
                dev!(),
                " received has, in the dialect's names:$"
            ),
            template: "the invitation <device> received has, in the dialect's names: <table>",
            example: "the invitation bob received has, in the dialect's names:\n\
                      | callType | video |\n\
                      | userJid  | alice |",
            help: "The invitation's fields by the names the scenario's dialect gives them (its \
                   profile's `names.incoming`), each checked as the canonical field it carries.",
            parse: |a| event_fields(a, true, true),
        },
        StepDef {
            kind: then,
            pattern: "^every event has been checked$",
            template: "every event has been checked",
            example: "every event has been checked",
            help: "No device holds an event that no step checked, and no refusal went unchecked \
                   (implicit at the end of every scenario).",
            parse: |_| Ok(Action::Expect(Expectation::AllChecked)),
        },
    ]
}

/// `[30s] call-1: …`, `[1.5s] …`, `[1500ms] …` or a bare line.
fn expected_line(line: &str) -> Result<ExpectedLine, String> {
    let line = line.trim();
    let Some(rest) = line.strip_prefix('[') else {
        return Ok(ExpectedLine {
            at_ms: None,
            text: line.to_owned(),
        });
    };
    let (stamp, text) = rest
        .split_once(']')
        .ok_or_else(|| format!("`{line}`: a time stamp is written [30s]"))?;
    let stamp = stamp.trim();
    let split = stamp
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(stamp.len());
    let (n, unit) = stamp.split_at(split);
    let at = super::parse_duration(n, unit.trim())
        .map_err(|e| format!("`{line}`: bad time stamp: {e}"))?;
    Ok(ExpectedLine {
        at_ms: Some(u64::try_from(at.as_millis()).unwrap_or(u64::MAX)),
        text: text.trim().to_owned(),
    })
}

fn sees(a: &Args<'_>) -> Result<Action, String> {
    let doc = a
        .docstring
        .ok_or("this step needs a docstring (\"\"\") with one event per line below it")?;
    let lines = doc
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(expected_line)
        .collect::<Result<Vec<_>, _>>()?;
    if lines.is_empty() {
        return Err("the docstring is empty; write `sees nothing more` instead".into());
    }
    Ok(Action::Expect(Expectation::Sees {
        devices: list(a.req("devs")),
        lines,
    }))
}

fn listener_got(a: &Args<'_>) -> Result<Action, String> {
    let lines = match (a.get("line"), a.docstring) {
        (Some(line), _) => vec![expected_line(&line.replace("\\\"", "\""))?],
        (None, Some(doc)) => doc
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(expected_line)
            .collect::<Result<Vec<_>, _>>()?,
        (None, None) if a.get("nothing").is_some() => Vec::new(),
        (None, None) => {
            return Err("this step needs a docstring (\"\"\") with one event per line".into());
        }
    };
    if lines.iter().any(|l| l.at_ms.is_some()) {
        return Err("a listener's events carry no times; leave out the `[5s]`".into());
    }
    Ok(Action::Expect(Expectation::ListenerGot {
        device: a.req("dev").to_owned(),
        listener: a.req("id").to_owned(),
        lines,
    }))
}

fn sees_any_order(a: &Args<'_>) -> Result<Action, String> {
    let Action::Expect(Expectation::Sees { devices, lines }) = sees(a)? else {
        unreachable!("sees parses to Sees")
    };
    Ok(Action::Expect(Expectation::SeesAnyOrder { devices, lines }))
}

fn sees_one(a: &Args<'_>) -> Result<Action, String> {
    // Quotes inside the line may be written as is or escaped: "call-1: DTMF \"1\" from bob".
    let line = a.req("line").replace("\\\"", "\"");
    Ok(Action::Expect(Expectation::Sees {
        devices: list(a.req("devs")),
        lines: vec![expected_line(&line)?],
    }))
}

fn status(a: &Args<'_>) -> Result<Action, String> {
    let status = match a.req("status") {
        "calling" => CallStatus::Calling,
        "ringing" => CallStatus::Ringing,
        "connecting" => CallStatus::Connecting,
        "connected" => CallStatus::Connected,
        _ => CallStatus::Ended,
    };
    Ok(Action::Expect(Expectation::Status {
        call: call_ref(a)?,
        status,
    }))
}

fn fields(a: &Args<'_>) -> Result<Vec<FieldCheck>, String> {
    Ok(pairs(a)?
        .into_iter()
        .map(|(path, value)| FieldCheck { path, value })
        .collect())
}

fn event_fields(a: &Args<'_>, invitation: bool, vendor_names: bool) -> Result<Action, String> {
    Ok(Action::Expect(Expectation::EventFields {
        device: a.req("dev").to_owned(),
        invitation,
        fields: fields(a)?,
        vendor_names,
    }))
}
