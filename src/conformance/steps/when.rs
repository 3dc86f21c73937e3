//! Operations by a device, and virtual time passing. Each is usable with `When` (under test) and
//! with `Given` (setting the stage), see [`Kind::Operation`].

use super::{
    call_ref, dev, duration, duration_re, filler, in_call, list, name, names, number, opt_call,
    pairs, the_call,
};
use crate::conformance::action::{Action, Operation};
use crate::conformance::catalog::{self, Args, Kind, StepDef};
use crate::core::{Alert, CallType, Media, PlaceCall};

pub(super) fn defs() -> Vec<StepDef> {
    let op = Kind::Operation;
    vec![
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " calls (?P<to>", name!(), ")$"),
            template: "<device> calls <user>",
            example: "alice calls bob",
            help: "Places a ringing 1:1 audio call.",
            parse: calls,
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " places an? (?P<type>audio|video) call to ",
                names!("to"),
                "$"
            ),
            template: "<device> places a <audio | video> call to <users>",
            example: "alice places a video call to bob",
            help: "A ringing call: 1:1 with one user, an ad-hoc group call with several.",
            parse: places,
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " places an? (?P<type>audio|video) call in (?P<group>",
                name!(),
                ") to ",
                names!("to"),
                "$"
            ),
            template: "<device> places a <audio | video> call in <group> to <users>",
            example: "alice places an audio call in team to bob and carol",
            help: "A ringing group call in a group.",
            parse: places,
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " notifies ",
                names!("to"),
                " of an? (?P<type>audio|video) call(?: in (?P<group>",
                name!(),
                "))?$"
            ),
            template: "<device> notifies <users> of a <audio | video> call [in <group>]",
            example: "alice notifies bob and carol of an audio call in team",
            help: "Places a call that notifies instead of ringing; the caller is in it at once.",
            parse: notifies,
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " places a call with:$"),
            template: "<device> places a call with: <table>",
            example: "alice places a call with:\n\
                      | to          | bob        |\n\
                      | type        | video      |\n\
                      | custom data | order 42   |\n\
                      | header      | X-Ref: 42  |",
            help: "Every option: to, type (audio|video), group, alert (ring|notify), custom data, \
                   custom data bytes (a filler of that size), header (`X-Name: value`, repeatable).",
            parse: places_with,
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " acknowledges ringing", opt_call!(), "$"),
            template: "<device> acknowledges ringing [the call | call-N]",
            example: "bob/phone acknowledges ringing",
            help: "Tells the caller this device rings (done by the SDK unless switched off).",
            parse: |a| operate(a, Operation::Ringing(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " accepts", opt_call!(), "$"),
            template: "<device> accepts [the call | call-N]",
            example: "bob/tablet accepts",
            help: "Answers on this device (the SDK then starts the media session).",
            parse: |a| operate(a, Operation::Accept(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " declines",
                opt_call!(),
                r"(?: with (?P<code>\d+))?$"
            ),
            template: "<device> declines [the call | call-N] [with <SIP code>]",
            example: "bob declines with 486",
            help: "Rejects the invitation (603 unless a code is given).",
            parse: declines,
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " cancels", opt_call!(), "$"),
            template: "<device> cancels [the call | call-N]",
            example: "alice cancels",
            help: "The caller withdraws the call before anyone accepts.",
            parse: |a| operate(a, Operation::Cancel(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " hangs up", opt_call!(), "$"),
            template: "<device> hangs up [the call | call-N]",
            example: "bob hangs up",
            help: "Leaves the call (cancels or declines if it was not answered yet).",
            parse: |a| operate(a, Operation::Hangup(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " ends ", the_call!(), " for everyone$"),
            template: "<device> ends <the call | call-N> for everyone",
            example: "alice ends the call for everyone",
            help: "Ends the call for all members (the host, or a holder of the permission).",
            parse: |a| operate(a, Operation::EndForAll(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " joins", opt_call!(), "$"),
            template: "<device> joins [the call | call-N]",
            example: "carol joins",
            help: "Joins a live group call (or a call it was notified of).",
            parse: |a| operate(a, Operation::Join(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " invites ",
                names!("users"),
                r"(?: (?:in)?to (?:the call|(?P<call>call-\d+)))?$"
            ),
            template: "<device> invites <users> [to the call | to call-N]",
            example: "bob invites carol and dave",
            help: "Rings more users into a live group call.",
            parse: |a| operate(a, Operation::Invite(call_ref(a)?, list(a.req("users")))),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " starts the media session", opt_call!(), "$"),
            template: "<device> starts the media session [the call | call-N]",
            example: "alice starts the media session",
            help: "This member's media starts (done by the SDK unless switched off).",
            parse: |a| operate(a, Operation::StartSession(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " (?P<verb>holds|resumes) ", the_call!(), "$"),
            template: "<device> <holds | resumes> <the call | call-N>",
            example: "alice holds the call",
            help: "Puts the call on hold, or takes it off hold.",
            parse: |a| operate(a, Operation::Hold(call_ref(a)?, a.req("verb") == "holds")),
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " (?P<verb>mutes|unmutes) (?P<media>audio|video)",
                in_call!(),
                "$"
            ),
            template: "<device> <mutes | unmutes> <audio | video> [in the call | in call-N]",
            example: "bob mutes audio",
            help: "Mutes or unmutes one of this member's tracks.",
            parse: mutes,
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " sends DTMF \"(?P<digits>[^\"]*)\"",
                in_call!(),
                "$"
            ),
            template: "<device> sends DTMF \"<digits>\" [in the call | in call-N]",
            example: "alice sends DTMF \"1234#\"",
            help: "Sends tones: 0-9 * # A-D and p (a pause).",
            parse: |a| operate(a, Operation::Dtmf(call_ref(a)?, a.req("digits").to_owned())),
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " sends info \"(?P<mime>[^\"]*)\" (?:with body \"(?P<body>.*)\"|of (?P<size>\\d+) bytes)",
                in_call!(),
                "$"
            ),
            template: "<device> sends info \"<mime>\" <with body \"<text>\" | of <n> bytes> [in …]",
            example: "alice sends info \"application/json\" with body \"{}\"",
            help: "An in-call INFO with a MIME type and a body (at most 8192 bytes).",
            parse: info,
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " sends a message (?:\"(?P<text>.*)\"|of (?P<size>\\d+) bytes)",
                in_call!(),
                "$"
            ),
            template: "<device> sends a message <\"<text>\" | of <n> bytes> [in …]",
            example: "bob sends a message \"running late\"",
            help: "An in-call text message (1 to 8192 bytes).",
            parse: message,
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " sets custom data (?:\"(?P<data>.*)\"|of (?P<size>\\d+) bytes)",
                in_call!(),
                "$"
            ),
            template: "<device> sets custom data <\"<text>\" | of <n> bytes> [in …]",
            example: "alice sets custom data \"ticket-7\"",
            help: "Replaces the call's custom data (at most 200 bytes).",
            parse: custom_data,
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " starts early media", opt_call!(), "$"),
            template: "<device> starts early media [the call | call-N]",
            example: "bob starts early media",
            help: "An invitee plays media before answering (bounded by the early-media limit).",
            parse: |a| operate(a, Operation::EarlyMedia(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " transfers ",
                the_call!(),
                " to (?P<to>",
                name!(),
                ")$"
            ),
            template: "<device> transfers <the call | call-N> to <user>",
            example: "alice transfers the call to dave",
            help: "Blind transfer: the target rings, the transferor leaves and is told the outcome.",
            parse: |a| operate(a, Operation::Transfer(call_ref(a)?, a.req("to").to_owned())),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " asks for the state of ", the_call!(), "$"),
            template: "<device> asks for the state of <the call | call-N>",
            example: "carol asks for the state of the call",
            help: "The call-state query; check its answer with `the reply has:`.",
            parse: |a| operate(a, Operation::GetCall(call_ref(a)?)),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " (?:goes|is) offline$"),
            template: "<device> goes offline",
            example: "bob/tablet goes offline",
            help: "The device loses its connection (`Given bob/tablet is offline` reads better).",
            parse: |a| operate(a, Operation::GoOffline),
        },
        StepDef {
            kind: op,
            pattern: concat!("^", dev!(), " comes (?:back )?online$"),
            template: "<device> comes back online",
            example: "bob/tablet comes back online",
            help: "The device reconnects; an invitation still ringing reaches it.",
            parse: |a| operate(a, Operation::ComeOnline),
        },
        StepDef {
            kind: op,
            pattern: concat!(
                "^",
                dev!(),
                " (?P<verb>adds|removes) the call listener \"(?P<id>[^\"]+)\"$"
            ),
            template: "<device> <adds | removes> the call listener \"<id>\"",
            example: "bob adds the call listener \"call-screen\"",
            help: "The device's SDK registers, or removes, a call listener by id (CometChat \
                   addCallListener / removeCallListener); check what it got with \
                   `Then bob's call listener \"id\" got:`.",
            parse: |a| {
                let id = a.req("id").to_owned();
                operate(
                    a,
                    if a.req("verb") == "adds" {
                        Operation::AddListener(id)
                    } else {
                        Operation::RemoveListener(id)
                    },
                )
            },
        },
        StepDef {
            kind: op,
            pattern: r"^(?P<inner>.+) with the headers:$",
            template: "<operation step> with the headers: <table of name | value>",
            example: "bob accepts with the headers:\n\
                      | X-Ticket | 77 |",
            help: "The operation carries these X- headers to the other side (Voximplant's \
                   extraHeaders): on acknowledging ringing, accepting, declining, hanging up, \
                   early media and info.",
            parse: with_headers,
        },
        StepDef {
            kind: op,
            pattern: concat!("^", duration_re!(), " pass(?:es)?$"),
            template: "<duration> pass",
            example: "31 seconds pass",
            help: "Virtual time passes; ring timeouts and other deadlines fire on the way.",
            parse: |a| Ok(Action::Pass(duration(a)?)),
        },
    ]
}

fn operate(a: &Args<'_>, op: Operation) -> Result<Action, String> {
    Ok(Action::Operate {
        device: a.req("dev").to_owned(),
        op,
        headers: Vec::new(),
    })
}

/// `<operation step> with the headers:` and a table of `| X-Name | value |` rows: the
/// operation's own step, read by its own definition, with headers attached.
fn with_headers(a: &Args<'_>) -> Result<Action, String> {
    let inner = a.req("inner");
    let defs: Vec<_> = catalog::all()
        .iter()
        .filter(|c| c.def.kind == Kind::Operation && c.regex.is_match(inner))
        .collect();
    let [def] = defs[..] else {
        return Err(format!(
            "`{inner}` is not one operation step (it matches {}); see `callconf steps`",
            defs.len()
        ));
    };
    let caps = def.regex.captures(inner).expect("matched above");
    let Action::Operate { device, op, .. } = (def.def.parse)(&Args::new(caps, None, None))? else {
        return Err(format!("`{inner}` is not an operation"));
    };
    if !op.carries_headers() {
        return Err(format!(
            "`{inner}` carries no headers; headers travel with: acknowledges ringing, accepts, \
             declines, hangs up, starts early media, sends info"
        ));
    }
    let table = a
        .table
        .ok_or("`with the headers:` needs a table of `| X-Name | value |` rows")?;
    let mut headers = Vec::new();
    for row in &table.rows {
        let [name, value] = &row[..] else {
            return Err(format!(
                "a header row has {} cells; write `| X-Name | value |`",
                row.len()
            ));
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if headers.is_empty() {
        return Err("`with the headers:` has no rows".to_owned());
    }
    Ok(Action::Operate {
        device,
        op,
        headers,
    })
}

fn call_type(text: &str) -> Result<CallType, String> {
    match text {
        "audio" => Ok(CallType::Audio),
        "video" => Ok(CallType::Video),
        other => Err(format!("`{other}` is not a call type (audio or video)")),
    }
}

fn calls(a: &Args<'_>) -> Result<Action, String> {
    operate(
        a,
        Operation::place(vec![a.req("to").to_owned()], CallType::Audio, None),
    )
}

fn places(a: &Args<'_>) -> Result<Action, String> {
    operate(
        a,
        Operation::place(
            list(a.req("to")),
            call_type(a.req("type"))?,
            a.get("group").map(str::to_owned),
        ),
    )
}

fn notifies(a: &Args<'_>) -> Result<Action, String> {
    let Operation::Place(mut place) = Operation::place(
        list(a.req("to")),
        call_type(a.req("type"))?,
        a.get("group").map(str::to_owned),
    ) else {
        unreachable!("Operation::place builds a place")
    };
    place.alert = Alert::Notify;
    operate(a, Operation::Place(place))
}

fn places_with(a: &Args<'_>) -> Result<Action, String> {
    let mut place = PlaceCall {
        invitees: Vec::new(),
        call_type: CallType::Audio,
        group: None,
        alert: Alert::Ring,
        custom_data: None,
        headers: Vec::new(),
    };
    for (field, value) in pairs(a)? {
        match field.as_str() {
            "to" => place.invitees = list(&value).iter().map(|u| u.as_str().into()).collect(),
            "type" => place.call_type = call_type(&value)?,
            "group" => place.group = Some(value.as_str().into()),
            "alert" => {
                place.alert = match value.as_str() {
                    "ring" => Alert::Ring,
                    "notify" => Alert::Notify,
                    other => return Err(format!("`{other}` is not an alert (ring or notify)")),
                }
            }
            "custom data" => place.custom_data = Some(value),
            "custom data bytes" => {
                place.custom_data = Some(filler(number(&value, "number of bytes")?));
            }
            "header" => {
                let (name, v) = value
                    .split_once(':')
                    .ok_or_else(|| format!("header `{value}` is not `Name: value`"))?;
                place
                    .headers
                    .push((name.trim().to_owned(), v.trim().to_owned()));
            }
            other => {
                return Err(format!(
                    "unknown option `{other}`; options are to, type, group, alert, custom data, \
                     custom data bytes, header"
                ));
            }
        }
    }
    operate(a, Operation::Place(place))
}

fn declines(a: &Args<'_>) -> Result<Action, String> {
    let code = a
        .get("code")
        .map(|c| number::<u16>(c, "SIP code"))
        .transpose()?;
    operate(a, Operation::Decline(call_ref(a)?, code))
}

fn mutes(a: &Args<'_>) -> Result<Action, String> {
    let media = if a.req("media") == "video" {
        Media::Video
    } else {
        Media::Audio
    };
    operate(
        a,
        Operation::Mute(call_ref(a)?, media, a.req("verb") == "mutes"),
    )
}

/// The text of a `"…"` capture named `text`, or a filler of `size` bytes.
fn text_or_size(a: &Args<'_>, text: &str) -> Result<String, String> {
    match (a.get(text), a.get("size")) {
        (Some(t), _) => Ok(t.to_owned()),
        (None, Some(n)) => {
            let n: usize = number(n, "number of bytes")?;
            if n > 1 << 20 {
                return Err(format!("{n} bytes is more than a step may send (1 MiB)"));
            }
            Ok(filler(n))
        }
        (None, None) => Ok(String::new()),
    }
}

fn info(a: &Args<'_>) -> Result<Action, String> {
    operate(
        a,
        Operation::Info {
            call: call_ref(a)?,
            mime: a.req("mime").to_owned(),
            body: text_or_size(a, "body")?,
        },
    )
}

fn message(a: &Args<'_>) -> Result<Action, String> {
    operate(
        a,
        Operation::Message(call_ref(a)?, text_or_size(a, "text")?),
    )
}

fn custom_data(a: &Args<'_>) -> Result<Action, String> {
    operate(
        a,
        Operation::CustomData(call_ref(a)?, text_or_size(a, "data")?),
    )
}
