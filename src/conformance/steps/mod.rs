//! The step definitions, split by keyword: `given` (the world), `when` (operations and time),
//! `then` (expectations). Each definition only parses its text into an
//! [`Action`](super::action::Action); the stage carries it out.
//!
//! The regex fragments below keep names consistent across steps: a device is `alice` or
//! `alice/tablet`, a call is `the call` or `call-N`, a list is `alice, bob and carol`.

mod given;
mod then;
mod when;

use std::time::Duration;

use super::action::CallRef;
use super::catalog::{Args, StepDef};

/// A user, group or device label name.
macro_rules! name {
    () => {
        r"[A-Za-z0-9_.+-]+"
    };
}

/// A device: `alice` (her first device) or `alice/tablet`, captured as `dev`.
macro_rules! dev {
    () => {
        concat!("(?P<dev>", name!(), "(?:/", name!(), ")?)")
    };
}

/// A list of devices, captured as `devs`.
macro_rules! devs {
    () => {
        concat!(
            "(?P<devs>",
            name!(),
            "(?:/",
            name!(),
            ")?(?:(?:, | and )",
            name!(),
            "(?:/",
            name!(),
            ")?)*)"
        )
    };
}

/// A list of names captured as `$group`.
macro_rules! names {
    ($group:literal) => {
        concat!(
            "(?P<",
            $group,
            ">",
            name!(),
            "(?:(?:, | and )",
            name!(),
            ")*)"
        )
    };
}

/// An optional ` the call` / ` call-N` after a verb, captured as `call`.
macro_rules! opt_call {
    () => {
        r"(?: (?:the call|(?P<call>call-\d+)))?"
    };
}

/// An optional ` in the call` / ` in call-N`, captured as `call`.
macro_rules! in_call {
    () => {
        r"(?: in (?:the call|(?P<call>call-\d+)))?"
    };
}

/// `the call` or `call-N`, captured as `call`.
macro_rules! the_call {
    () => {
        r"(?:the call|(?P<call>call-\d+))"
    };
}

/// A duration: `31 seconds`, `500 ms`, `1.5 s`, `2 minutes`, `1 hour`, captured as `n` and
/// `unit`.
macro_rules! duration_re {
    () => {
        r"(?P<n>\d+(?:\.\d+)?) ?(?P<unit>ms|milliseconds?|s|secs?|seconds?|min|minutes?|h|hours?)"
    };
}

pub(crate) use {dev, devs, duration_re, in_call, name, names, opt_call, the_call};

/// Every step definition, in catalog order.
pub fn all() -> Vec<StepDef> {
    let mut defs = given::defs();
    defs.extend(when::defs());
    defs.extend(then::defs());
    defs
}

/// `alice, bob and carol` → `[alice, bob, carol]`.
pub fn list(text: &str) -> Vec<String> {
    text.split(", ")
        .flat_map(|part| part.split(" and "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The call named by the `call` capture, or the last placed one.
pub fn call_ref(args: &Args<'_>) -> Result<CallRef, String> {
    match args.get("call") {
        None => Ok(CallRef::Last),
        Some(text) => text
            .strip_prefix("call-")
            .and_then(|n| n.parse().ok())
            .map(CallRef::Id)
            .ok_or_else(|| format!("`{text}` is not a call id like call-1")),
    }
}

/// The duration captured as `n` and `unit`.
pub fn duration(args: &Args<'_>) -> Result<Duration, String> {
    parse_duration(args.req("n"), args.req("unit"))
}

pub fn parse_duration(n: &str, unit: &str) -> Result<Duration, String> {
    let value: f64 = n.parse().map_err(|_| format!("`{n}` is not a number"))?;
    let ms = match unit {
        "ms" | "millisecond" | "milliseconds" => value,
        "s" | "sec" | "secs" | "second" | "seconds" => value * 1_000.0,
        "min" | "minute" | "minutes" => value * 60_000.0,
        "h" | "hour" | "hours" => value * 3_600_000.0,
        other => {
            return Err(format!(
                "`{other}` is not a unit of time (ms, s, minutes, hours)"
            ));
        }
    };
    // A day of virtual time is far more than any scenario needs; beyond it is a typo.
    if !(0.0..=86_400_000.0).contains(&ms) || ms.fract() != 0.0 {
        return Err(format!(
            "`{n} {unit}` is not a whole number of milliseconds up to a day"
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(Duration::from_millis(ms as u64))
}

/// A number that must fit its type.
pub fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a valid {what}"))
}

/// `n` bytes of text: a repeated readable pattern, so a trace shows its size rather than noise.
pub fn filler(n: usize) -> String {
    "abcdefghijklmnopqrstuvwxyz"
        .chars()
        .cycle()
        .take(n)
        .collect()
}

/// The rows of a two-column `| field | value |` table (a leading `| field | value |` header is
/// skipped).
pub fn pairs(args: &Args<'_>) -> Result<Vec<(String, String)>, String> {
    let table = args
        .table
        .ok_or("this step needs a table of | field | value | rows below it")?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        if row.len() != 2 {
            return Err(format!(
                "table row {} has {} cells; rows are | field | value |",
                i + 1,
                row.len()
            ));
        }
        if i == 0 && row[0] == "field" && row[1] == "value" {
            continue;
        }
        out.push((row[0].trim().to_owned(), row[1].trim().to_owned()));
    }
    if out.is_empty() {
        return Err("the table has no rows".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_durations() {
        assert_eq!(list("alice, bob and carol"), ["alice", "bob", "carol"]);
        assert_eq!(list("bob"), ["bob"]);
        assert_eq!(parse_duration("31", "seconds"), Ok(Duration::from_secs(31)));
        assert_eq!(parse_duration("1.5", "s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2", "minutes"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0.5", "ms").is_err());
        assert!(parse_duration("2", "days").is_err());
    }
}
