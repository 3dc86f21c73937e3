//! YAML load and simulation scenarios: the schema, its validation, and errors that point at the
//! file, line and column.
//!
//! Parsing is two steps. serde (`deny_unknown_fields`) rejects unknown keys and wrong types with
//! the parser's own position and the list of valid keys. Then [`validate`] checks what types
//! cannot say (probabilities summing to 1, positive rates, known threshold metrics) and finds
//! the offending key's position with [`locate`], since serde keeps no positions after parsing.

mod dist;
pub(crate) mod locate;
mod schema;

use std::fmt;
use std::path::Path;

use thiserror::Error;

pub use dist::Dist;
pub use locate::{Seg, locate};
pub use schema::*;

/// Outcome causes, as they appear in reports and `outcome.<cause>` metrics.
pub const OUTCOMES: &[&str] = &[
    "completed",
    "declined",
    "busy",
    "no_answer",
    "cancelled",
    "unavailable",
    "rejected",
    "disconnected",
    "transfer_failed",
    "interrupted",
];

/// Statistics of a latency histogram.
pub const STATS: &[&str] = &["p50", "p90", "p99", "p999", "max", "mean"];

/// Histograms, as `<name>.<stat>` metrics.
pub const HISTOGRAMS: &[&str] = &["setup_ms", "ring_to_answer_ms", "event_latency_ms"];

/// Plain metrics.
pub const SCALARS: &[&str] = &[
    "calls_started",
    "calls_succeeded",
    "calls_failed",
    "lost_calls",
    "throttled",
    "success_ratio",
    "achieved_rate_per_s",
    "concurrent_peak",
];

/// Every metric a threshold may name.
pub fn metric_names() -> Vec<String> {
    let mut out: Vec<String> = SCALARS.iter().map(|s| (*s).to_owned()).collect();
    for h in HISTOGRAMS {
        for s in STATS {
            out.push(format!("{h}.{s}"));
        }
    }
    for o in OUTCOMES {
        out.push(format!("outcome.{o}"));
    }
    out
}

/// A scenario that could not be loaded: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: ScenarioErrorKind,
    pub message: String,
}

/// The kinds of scenario errors, with stable codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScenarioErrorKind {
    /// 1: the file could not be read.
    Io,
    /// 2: not valid YAML, an unknown key, or a wrong type.
    Syntax,
    /// 3: well-formed but impossible (a sum that is not 1, a negative rate, an unknown metric).
    Invalid,
}

impl ScenarioErrorKind {
    pub fn code(self) -> u16 {
        match self {
            ScenarioErrorKind::Io => 1,
            ScenarioErrorKind::Syntax => 2,
            ScenarioErrorKind::Invalid => 3,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 0,
        column: 0,
        kind: ScenarioErrorKind::Io,
        message: format!("cannot read: {e}"),
    })?;
    parse(&text, &file)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let scenario: Scenario = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        ScenarioError {
            file: file.to_owned(),
            line,
            column,
            kind: ScenarioErrorKind::Syntax,
            message: e.to_string(),
        }
    })?;
    validate(&scenario).map_err(|(path, message)| {
        let segs: Vec<Seg<'_>> = path.iter().map(|p| p.as_seg()).collect();
        let (line, column) = locate(text, &segs);
        ScenarioError {
            file: file.to_owned(),
            line,
            column,
            kind: ScenarioErrorKind::Invalid,
            message: format!("{}: {message}", render_path(&path)),
        }
    })?;
    Ok(scenario)
}

/// A path segment owned by a validation error (a scenario's, a population's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(&'static str),
    Index(usize),
}

impl PathSeg {
    pub(crate) fn as_seg(&self) -> Seg<'_> {
        match self {
            PathSeg::Key(k) => Seg::Key(k),
            PathSeg::Index(i) => Seg::Index(*i),
        }
    }
}

pub(crate) fn render_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) if out.is_empty() => out.push_str(k),
            PathSeg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

type Invalid = (Vec<PathSeg>, String);

fn join(base: &[PathSeg], key: &'static str) -> Vec<PathSeg> {
    let mut out = base.to_vec();
    out.push(Key(key));
    out
}

fn at(path: &[PathSeg], message: impl Into<String>) -> Invalid {
    (path.to_vec(), message.into())
}

use PathSeg::{Index, Key};

fn probability(path: &[PathSeg], v: f64) -> Result<(), Invalid> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(at(path, format!("must be a probability in 0..=1, not {v}")))
    }
}

fn positive(path: &[PathSeg], v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(at(path, format!("must be a number above 0, not {v}")))
    }
}

fn non_negative(path: &[PathSeg], v: f64) -> Result<(), Invalid> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(at(path, format!("must be a number >= 0, not {v}")))
    }
}

fn sums_to_one(path: &[PathSeg], parts: &[(&str, f64)]) -> Result<(), Invalid> {
    let sum: f64 = parts.iter().map(|(_, v)| v).sum();
    if (sum - 1.0).abs() > 1e-9 {
        let terms: Vec<String> = parts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        return Err(at(
            path,
            format!("must sum to 1, but {} sum to {sum}", terms.join(" + ")),
        ));
    }
    Ok(())
}

fn dist(path: &[PathSeg], d: &Dist) -> Result<(), Invalid> {
    d.check().map_err(|m| at(path, m))
}

/// Checks what the types cannot; the error carries the path of the offending key.
pub fn validate(s: &Scenario) -> Result<(), Invalid> {
    if s.name.trim().is_empty() {
        return Err(at(&[Key("name")], "must not be empty"));
    }
    let p = &s.population;
    let cells = u64::from(p.cells);
    if !(1..=4096).contains(&p.cells) {
        return Err(at(
            &[Key("population"), Key("cells")],
            format!("must be 1..=4096, not {}", p.cells),
        ));
    }
    let max_participants = s
        .calls
        .mix
        .iter()
        .map(|m| u64::from(m.participants))
        .max()
        .unwrap_or(2);
    if p.users < cells * (max_participants + 1) {
        return Err(at(
            &[Key("population"), Key("users")],
            format!(
                "{} users cannot fill {} cells with calls of {} participants and a transfer target: need at least {}",
                p.users,
                p.cells,
                max_participants,
                cells * (max_participants + 1)
            ),
        ));
    }
    if p.users > s.limits.users_max as u64 {
        return Err(at(
            &[Key("population"), Key("users")],
            format!("at most {} users", s.limits.users_max),
        ));
    }
    if p.devices_per_user == 0 || p.devices_per_user as usize > s.limits.devices_per_user_max {
        return Err(at(
            &[Key("population"), Key("devices_per_user")],
            format!("must be 1..={}", s.limits.devices_per_user_max),
        ));
    }
    probability(
        &[Key("population"), Key("call_waiting_share")],
        p.call_waiting_share,
    )?;
    probability(&[Key("population"), Key("phone_share")], p.phone_share)?;
    if !p.plans.is_empty() {
        for (i, plan) in p.plans.iter().enumerate() {
            probability(
                &[Key("population"), Key("plans"), Index(i), Key("share")],
                plan.share,
            )?;
            let mp = plan.plan.max_participants;
            if mp < 2 || mp > s.limits.participants_per_call_max {
                return Err(at(
                    &[
                        Key("population"),
                        Key("plans"),
                        Index(i),
                        Key("plan"),
                        Key("max_participants"),
                    ],
                    format!("must be 2..={}", s.limits.participants_per_call_max),
                ));
            }
        }
        let parts: Vec<(&str, f64)> = p.plans.iter().map(|pl| ("share", pl.share)).collect();
        sums_to_one(&[Key("population"), Key("plans")], &parts)?;
    }

    let c = &s.calls;
    if c.total.is_none() && c.duration_s.is_none() {
        return Err(at(&[Key("calls")], "give `total`, `duration_s`, or both"));
    }
    if c.total == Some(0) {
        return Err(at(&[Key("calls"), Key("total")], "must be above 0"));
    }
    if let Some(d) = c.duration_s {
        positive(&[Key("calls"), Key("duration_s")], d)?;
    }
    if c.concurrent_max == Some(0) {
        return Err(at(
            &[Key("calls"), Key("concurrent_max")],
            "must be above 0",
        ));
    }
    match c.arrival {
        Arrival::Constant { rate_per_s } | Arrival::Poisson { rate_per_s } => {
            positive(
                &[Key("calls"), Key("arrival"), Key("rate_per_s")],
                rate_per_s,
            )?;
        }
        Arrival::Ramp {
            from_per_s,
            to_per_s,
            over_s,
        } => {
            non_negative(
                &[Key("calls"), Key("arrival"), Key("from_per_s")],
                from_per_s,
            )?;
            positive(&[Key("calls"), Key("arrival"), Key("to_per_s")], to_per_s)?;
            positive(&[Key("calls"), Key("arrival"), Key("over_s")], over_s)?;
        }
    }
    if c.mix.is_empty() {
        return Err(at(
            &[Key("calls"), Key("mix")],
            "must list at least one kind of call",
        ));
    }
    for (i, m) in c.mix.iter().enumerate() {
        probability(&[Key("calls"), Key("mix"), Index(i), Key("share")], m.share)?;
        if m.participants < 2 || m.participants as usize > s.limits.participants_per_call_max {
            return Err(at(
                &[Key("calls"), Key("mix"), Index(i), Key("participants")],
                format!("must be 2..={}", s.limits.participants_per_call_max),
            ));
        }
    }
    let parts: Vec<(&str, f64)> = c.mix.iter().map(|m| ("share", m.share)).collect();
    sums_to_one(&[Key("calls"), Key("mix")], &parts)?;

    let e = &s.callee;
    for (k, v) in [
        ("answer", e.answer),
        ("decline", e.decline),
        ("no_answer", e.no_answer),
        ("busy", e.busy),
    ] {
        probability(&[Key("callee"), Key(k)], v)?;
    }
    sums_to_one(
        &[Key("callee")],
        &[
            ("answer", e.answer),
            ("decline", e.decline),
            ("no_answer", e.no_answer),
            ("busy", e.busy),
        ],
    )?;
    dist(&[Key("callee"), Key("answer_delay_ms")], &e.answer_delay_ms)?;
    dist(
        &[Key("callee"), Key("decline_delay_ms")],
        &e.decline_delay_ms,
    )?;
    probability(&[Key("caller"), Key("cancel")], s.caller.cancel)?;
    dist(
        &[Key("caller"), Key("cancel_after_ms")],
        &s.caller.cancel_after_ms,
    )?;
    dist(&[Key("talk_time_ms")], &s.talk_time_ms)?;
    let a = &s.actions;
    for (k, v) in [
        ("hold", a.hold),
        ("mute", a.mute),
        ("dtmf", a.dtmf),
        ("transfer", a.transfer),
    ] {
        probability(&[Key("actions"), Key(k)], v)?;
    }
    dist(&[Key("actions"), Key("hold_ms")], &a.hold_ms)?;

    let n = &s.network;
    dist(&[Key("network"), Key("latency_ms")], &n.latency_ms)?;
    if !(0.0..100.0).contains(&n.loss_pct) {
        return Err(at(
            &[Key("network"), Key("loss_pct")],
            format!("must be 0..100, not {}", n.loss_pct),
        ));
    }
    for (i, ph) in n.schedule.iter().enumerate() {
        let base = [Key("network"), Key("schedule"), Index(i)];
        non_negative(&join(&base, "at_s"), ph.at_s)?;
        positive(&join(&base, "duration_s"), ph.duration_s)?;
        if let Some(d) = &ph.latency_ms {
            dist(&join(&base, "latency_ms"), d)?;
        }
        if let Some(l) = ph.loss_pct
            && !(0.0..100.0).contains(&l)
        {
            return Err(at(
                &join(&base, "loss_pct"),
                format!("must be 0..100, not {l}"),
            ));
        }
    }
    for (i, f) in s.faults.iter().enumerate() {
        let base = [Key("faults"), Index(i)];
        match *f {
            Fault::Partition {
                at_s,
                duration_s,
                share,
            } => {
                non_negative(&join(&base, "at_s"), at_s)?;
                positive(&join(&base, "duration_s"), duration_s)?;
                probability(&join(&base, "share"), share)?;
            }
            Fault::Crash {
                at_s,
                share,
                reconnect_after_s,
            } => {
                non_negative(&join(&base, "at_s"), at_s)?;
                probability(&join(&base, "share"), share)?;
                non_negative(&join(&base, "reconnect_after_s"), reconnect_after_s)?;
            }
        }
    }
    let known = metric_names();
    for (i, t) in s.thresholds.iter().enumerate() {
        let base = [Key("thresholds"), Index(i)];
        if !known.contains(&t.metric) {
            return Err(at(
                &join(&base, "metric"),
                format!(
                    "unknown metric {:?}; valid metrics: {}",
                    t.metric,
                    known.join(", ")
                ),
            ));
        }
        match (t.min, t.max) {
            (Some(_), None) | (None, Some(_)) => {}
            _ => return Err(at(&base, "give exactly one of `min` and `max`")),
        }
    }
    positive(&[Key("report"), Key("interval_s")], s.report.interval_s)?;
    if s.limits.ring_timeout_ms == 0 {
        return Err(at(
            &[Key("limits"), Key("ring_timeout_ms")],
            "must be above 0",
        ));
    }
    Ok(())
}
