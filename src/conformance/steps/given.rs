//! `Given` steps: who exists (users, devices, groups), what they may do (plans, permissions,
//! call waiting) and the reference implementation's limits.

use super::{duration, duration_re, list, name, names, number};
use crate::conformance::action::{Action, AutoStep, PlanChange, Setup};
use crate::conformance::catalog::{Args, Kind, StepDef};
use crate::core::Feature;

pub(super) fn defs() -> Vec<StepDef> {
    vec![
        StepDef {
            kind: Kind::Given,
            pattern: concat!("^(?:the )?users? ", names!("names"), "$"),
            template: "users <names>",
            example: "users alice, bob and carol",
            help: "Users with one connected device each, named <user>/phone (`alice` names it too).",
            parse: users,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!(
                "^(?:the )?user (?P<name>",
                name!(),
                ") with devices ",
                names!("labels"),
                "$"
            ),
            template: "user <name> with devices <labels>",
            example: "user bob with devices phone and tablet",
            help: "A user with several connected devices; `bob` names the first, `bob/tablet` another.",
            parse: user_with_devices,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!(
                "^(?:the )?user (?P<name>",
                name!(),
                ") with no device(?: registered)?$"
            ),
            template: "user <name> with no device",
            example: "user dave with no device",
            help: "A user who exists but has registered no device: calling them is refused at once with 480.",
            parse: user_without_devices,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!("^(?P<name>", name!(), ") is a phone number$"),
            template: "<user> is a phone number",
            example: "pstn-555 is a phone number",
            help: "The user is reached over the phone network (transfer needs app-to-phone or phone-to-app).",
            parse: phone_number,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!(
                "^(?:a )?group (?P<group>",
                name!(),
                ") of ",
                names!("names"),
                "$"
            ),
            template: "a group <group> of <users>",
            example: "a group team of alice, bob and carol",
            help: "A group that group calls can be placed in; only its members take part.",
            parse: group,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!(
                "^(?P<name>",
                name!(),
                ")'s plan (?:excludes|does not include) (?P<feature>1:1 audio|1:1 video|group calls)$"
            ),
            template: "<user>'s plan excludes <1:1 audio | 1:1 video | group calls>",
            example: "alice's plan excludes group calls",
            help: "Takes one entitlement out of the user's plan (placing such a call is then 403).",
            parse: plan_excludes,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!(
                "^(?P<name>",
                name!(),
                r")'s plan allows at most (?P<n>\d+) participants$"
            ),
            template: "<user>'s plan allows at most <n> participants",
            example: "alice's plan allows at most 3 participants",
            help: "Members of one call the user hosts, the host included.",
            parse: plan_max,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!(
                "^(?P<name>",
                name!(),
                ") is on the (?P<plan>full|audio-only) plan$"
            ),
            template: "<user> is on the <full | audio-only> plan",
            example: "alice is on the audio-only plan",
            help: "full: every call, up to 8 participants; audio-only: 1:1 audio calls only.",
            parse: plan_named,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!("^(?P<name>", name!(), ") has call waiting$"),
            template: "<user> has call waiting",
            example: "bob has call waiting",
            help: "The user is rung while in another call and may be in several calls.",
            parse: call_waiting,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!("^(?P<name>", name!(), ") may end calls for everyone$"),
            template: "<user> may end calls for everyone",
            example: "carol may end calls for everyone",
            help: "Grants the end-call permission (the host has it anyway, except in a dialect whose rule says otherwise).",
            parse: end_permission,
        },
        StepDef {
            kind: Kind::Given,
            pattern: concat!(
                "^the (?P<what>ring timeout|early-media limit) is ",
                duration_re!(),
                "$"
            ),
            template: "the <ring timeout | early-media limit> is <duration>",
            example: "the ring timeout is 10 seconds",
            help: "Changes a timer of the reference server (defaults 30 s and 60 s); before any user.",
            parse: timer,
        },
        StepDef {
            kind: Kind::Given,
            pattern: r"^the limit (?P<name>[a-z_]+) is (?P<value>\d+)$",
            template: "the limit <name> is <value>",
            example: "the limit calls_per_user_max is 2",
            help: "Any field of the server's Limits, in its own unit; before any user.",
            parse: limit,
        },
        StepDef {
            kind: Kind::Given,
            pattern: r#"^the dialect is "(?P<name>[a-z0-9_-]+)"$"#,
            template: "the dialect is \"<profile>\"",
            example: "the dialect is \"voximplant\"",
            help: "Runs the scenario under a built-in dialect profile (profiles/*.yaml): its limits, rules and capabilities; a step needing a capability it lacks makes the scenario unimplemented. First, before any limit or user.",
            parse: dialect,
        },
        StepDef {
            kind: Kind::Given,
            pattern: "^devices do not (?P<what>acknowledge ringing|start the media session) automatically$",
            template: "devices do not <acknowledge ringing | start the media session> automatically",
            example: "devices do not acknowledge ringing automatically",
            help: "Switches off an automatic step of the reference SDK, so the scenario does it; before any user.",
            parse: no_auto_step,
        },
    ]
}

fn setup(s: Setup) -> Result<Action, String> {
    Ok(Action::Setup(s))
}

fn users(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::Users {
        names: list(a.req("names")),
        labels: vec!["phone".into()],
    })
}

fn user_with_devices(a: &Args<'_>) -> Result<Action, String> {
    let labels = list(a.req("labels"));
    let mut seen = Vec::new();
    for l in &labels {
        if seen.contains(&l) {
            return Err(format!("device {l} is listed twice"));
        }
        seen.push(l);
    }
    setup(Setup::Users {
        names: vec![a.req("name").to_owned()],
        labels,
    })
}

fn user_without_devices(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::Users {
        names: vec![a.req("name").to_owned()],
        labels: Vec::new(),
    })
}

fn phone_number(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::PhoneNumber(a.req("name").to_owned()))
}

fn group(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::Group {
        name: a.req("group").to_owned(),
        members: list(a.req("names")),
    })
}

fn plan_excludes(a: &Args<'_>) -> Result<Action, String> {
    let feature = match a.req("feature") {
        "1:1 audio" => Feature::OneToOneAudio,
        "1:1 video" => Feature::OneToOneVideo,
        _ => Feature::GroupCalls,
    };
    setup(Setup::Plan {
        user: a.req("name").to_owned(),
        change: PlanChange::Excludes(feature),
    })
}

fn plan_max(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::Plan {
        user: a.req("name").to_owned(),
        change: PlanChange::MaxParticipants(number(a.req("n"), "number of participants")?),
    })
}

fn plan_named(a: &Args<'_>) -> Result<Action, String> {
    let change = match a.req("plan") {
        "audio-only" => PlanChange::AudioOnly,
        _ => PlanChange::Full,
    };
    setup(Setup::Plan {
        user: a.req("name").to_owned(),
        change,
    })
}

fn call_waiting(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::CallWaiting(a.req("name").to_owned()))
}

fn end_permission(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::EndPermission(a.req("name").to_owned()))
}

fn timer(a: &Args<'_>) -> Result<Action, String> {
    let ms = u64::try_from(duration(a)?.as_millis()).unwrap_or(u64::MAX);
    let name = match a.req("what") {
        "ring timeout" => "ring_timeout_ms",
        _ => "early_media_ms_max",
    };
    setup(Setup::Limit {
        name: name.into(),
        value: ms,
    })
}

fn limit(a: &Args<'_>) -> Result<Action, String> {
    let name = a.req("name");
    let known = serde_json::to_value(crate::core::Limits::default())
        .ok()
        .and_then(|v| {
            let fields = v.as_object()?.iter();
            Some(
                fields
                    .filter(|(_, v)| v.is_u64())
                    .map(|(k, _)| k.clone())
                    .collect::<Vec<_>>(),
            )
        })
        .unwrap_or_default();
    if !known.iter().any(|k| k == name) {
        return Err(format!(
            "there is no limit `{name}`; the limits are {}",
            known.join(", ")
        ));
    }
    setup(Setup::Limit {
        name: name.to_owned(),
        value: number(a.req("value"), "limit value")?,
    })
}

fn dialect(a: &Args<'_>) -> Result<Action, String> {
    let name = a.req("name");
    crate::profile::Profile::builtin(name).map_err(|e| e.to_string())?;
    setup(Setup::Dialect(name.to_owned()))
}

fn no_auto_step(a: &Args<'_>) -> Result<Action, String> {
    setup(Setup::NoAutoStep(match a.req("what") {
        "acknowledge ringing" => AutoStep::AcknowledgeRinging,
        _ => AutoStep::StartSession,
    }))
}
