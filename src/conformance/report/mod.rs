//! What a run found, per scenario and per capability, and its renderings: the verdict
//! [`table`], the self-contained [`html`] report, the [`junit`] XML and the cargo-test-style
//! [`libtest`] output.

pub mod html;
pub mod junit;
pub mod libtest;
pub mod matrix;
pub mod table;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::trace::TraceBlock;
use super::world::FailedStep;

/// The capabilities of the canonical lifecycle, by tag, with their titles, in table order.
pub const CAPABILITIES: &[(&str, &str)] = &[
    ("one-to-one", "1:1 audio and video"),
    ("group", "group calls"),
    ("ringing", "ringing and ring timeout"),
    ("multi-device", "accept with several devices"),
    ("decline", "decline"),
    ("cancel", "cancel"),
    ("busy", "busy and call waiting"),
    ("hangup", "hang up and leave"),
    ("end-for-everyone", "end for everyone"),
    ("join-invite-notify", "join, invite and notify"),
    ("hold", "hold"),
    ("mute", "mute"),
    ("dtmf", "DTMF"),
    ("in-call-data", "info, messages and custom data"),
    ("transfer", "blind transfer"),
    ("early-media", "early media"),
    ("plans", "plans and entitlements"),
    ("authorization", "authorization refusals"),
    ("status", "status progression"),
];

/// Tags that say something about how a scenario runs, not what it covers.
pub const KNOWN_BUG: &str = "known-bug";

/// A scenario's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The system did what the scenario says.
    Passed,
    /// The system behaved differently (a wrong code, a missing or extra event).
    Failed,
    /// The scenario needs a capability the adapter declared absent: shown apart, not a failure.
    Unimplemented,
    /// The adapter crashed, timed out or broke the driver protocol: the run proves nothing
    /// about this scenario.
    Error,
    /// Not run (`@known-bug` outside a run that selects it).
    Skipped,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 5] = [
        Verdict::Passed,
        Verdict::Failed,
        Verdict::Error,
        Verdict::Unimplemented,
        Verdict::Skipped,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Unimplemented => "unimplemented",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
        }
    }

    /// Whether the verdict makes the run fail (and `certify` exit non-zero).
    pub fn fails_run(self) -> bool {
        matches!(self, Verdict::Failed | Verdict::Error)
    }
}

/// One scenario (one Examples row of an outline).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioRecord {
    pub path: PathBuf,
    /// Line of the scenario (of its Examples row for an outline).
    pub line: usize,
    pub feature: String,
    pub name: String,
    /// Feature, rule and scenario tags, without `@`.
    pub tags: Vec<String>,
    /// The capability tag the scenario counts under.
    pub capability: String,
    pub verdict: Verdict,
    /// Why it failed (one line) or was skipped.
    pub reason: Option<String>,
    pub failure: Option<FailedStep>,
    pub trace: Vec<TraceBlock>,
    /// A name unique in the run and stable across runs: `hold__holding-a-connected-call`.
    pub snapshot: String,
}

impl ScenarioRecord {
    /// `features/hold.feature:12`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

/// Counts of one capability.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub capability: String,
    pub title: String,
    pub passed: usize,
    pub failed: usize,
    pub unimplemented: usize,
    pub error: usize,
    pub skipped: usize,
}

impl Tally {
    /// The count of one verdict.
    pub fn of(&self, v: Verdict) -> usize {
        match v {
            Verdict::Passed => self.passed,
            Verdict::Failed => self.failed,
            Verdict::Unimplemented => self.unimplemented,
            Verdict::Error => self.error,
            Verdict::Skipped => self.skipped,
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// The feature directories or files run.
    pub sources: Vec<PathBuf>,
    /// Sorted by path, then line.
    pub scenarios: Vec<ScenarioRecord>,
    /// Scenarios left out by the name filter or the tag expression (not counted anywhere else).
    pub filtered_out: usize,
    pub elapsed: Duration,
    /// What was certified: `the reference implementation`, or the SDK, its adapter and the
    /// settings that bear on the verdicts.
    #[serde(default)]
    pub sut: String,
    /// The dialect graded under, with its vendor and seed document (`cometchat (CometChat v4
    /// default call flow, seed 001)`); empty when none was chosen (canonical).
    #[serde(default)]
    pub dialect: String,
}

impl RunReport {
    /// How many scenarios got `v`.
    pub fn count(&self, v: Verdict) -> usize {
        self.scenarios.iter().filter(|s| s.verdict == v).count()
    }

    pub fn passed(&self) -> usize {
        self.count(Verdict::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(Verdict::Failed)
    }

    pub fn skipped(&self) -> usize {
        self.count(Verdict::Skipped)
    }

    pub fn unimplemented(&self) -> usize {
        self.count(Verdict::Unimplemented)
    }

    pub fn errors(&self) -> usize {
        self.count(Verdict::Error)
    }

    /// `, under the dialect …` for report headers, when a dialect was chosen.
    pub fn under(&self) -> String {
        if self.dialect.is_empty() {
            String::new()
        } else {
            format!(", under the dialect {}", self.dialect)
        }
    }

    /// The system under test, as reports name it.
    pub fn against(&self) -> &str {
        if self.sut.is_empty() {
            "the reference implementation"
        } else {
            &self.sut
        }
    }

    /// No scenario failed or ended in an error.
    pub fn ok(&self) -> bool {
        !self.scenarios.iter().any(|s| s.verdict.fails_run())
    }

    /// The scenarios that failed or ended in an error.
    pub fn failures(&self) -> impl Iterator<Item = &ScenarioRecord> {
        self.scenarios.iter().filter(|s| s.verdict.fails_run())
    }

    /// Counts per capability: the known capabilities first in their order, then others by name.
    pub fn by_capability(&self) -> Vec<Tally> {
        let mut tallies: Vec<Tally> = Vec::new();
        for s in &self.scenarios {
            let i = match tallies.iter().position(|t| t.capability == s.capability) {
                Some(i) => i,
                None => {
                    tallies.push(Tally {
                        capability: s.capability.clone(),
                        title: title(&s.capability),
                        ..Tally::default()
                    });
                    tallies.len() - 1
                }
            };
            let t = &mut tallies[i];
            match s.verdict {
                Verdict::Passed => t.passed += 1,
                Verdict::Failed => t.failed += 1,
                Verdict::Unimplemented => t.unimplemented += 1,
                Verdict::Error => t.error += 1,
                Verdict::Skipped => t.skipped += 1,
            }
        }
        let rank = |c: &str| {
            CAPABILITIES
                .iter()
                .position(|(tag, _)| *tag == c)
                .unwrap_or(CAPABILITIES.len())
        };
        tallies.sort_by(|a, b| {
            rank(&a.capability)
                .cmp(&rank(&b.capability))
                .then_with(|| a.capability.cmp(&b.capability))
        });
        tallies
    }
}

/// The title of a capability tag (the tag itself for a user's own).
pub fn title(capability: &str) -> String {
    CAPABILITIES
        .iter()
        .find(|(tag, _)| *tag == capability)
        .map_or_else(|| capability.to_owned(), |(_, t)| (*t).to_owned())
}

/// The capability a scenario counts under: its first known capability tag (feature tags first),
/// else its feature's first tag, else the feature file's name.
pub fn capability_of(feature_tags: &[String], scenario_tags: &[String], stem: &str) -> String {
    let all = || feature_tags.iter().chain(scenario_tags);
    all()
        .find(|t| CAPABILITIES.iter().any(|(c, _)| c == t))
        .or_else(|| {
            feature_tags
                .iter()
                .find(|t| t.as_str() != KNOWN_BUG && t.as_str() != "serial")
        })
        .cloned()
        .unwrap_or_else(|| stem.to_owned())
}

/// `Holding a call (twice)` → `holding-a-call-twice`, at most 80 characters.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(80).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_capabilities() {
        assert_eq!(slug("Holding a call (twice)!"), "holding-a-call-twice");
        assert_eq!(slug("1:1 audio — ok"), "1-1-audio-ok");
        let f = vec!["hold".to_owned()];
        assert_eq!(capability_of(&f, &[], "x"), "hold");
        assert_eq!(capability_of(&["mine".into()], &[], "x"), "mine");
        assert_eq!(capability_of(&[], &["dtmf".into()], "x"), "dtmf");
        assert_eq!(capability_of(&[], &[], "stem"), "stem");
    }
}
