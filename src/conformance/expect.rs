//! Failures, and the comparison of expected event lines with what a device received, with a
//! readable expected-vs-actual diff.

use std::fmt;

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use super::action::ExpectedLine;
use super::trace::seconds;
use crate::core::Delivery;

/// Why a step failed. `expected` and `actual` are filled when the step compared event lines, so
/// reports can show them side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub message: String,
    pub device: Option<String>,
    pub expected: Vec<String>,
    pub actual: Vec<String>,
    /// Whose fault it is: the scenario's verdict follows from it.
    #[serde(default)]
    pub kind: FailureKind,
}

/// What a failed step says about the system under test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The system behaved differently from the scenario (or the scenario is wrong): failed.
    #[default]
    Mismatch,
    /// The adapter or the system broke (crashed, timed out, broke the protocol): error.
    Broken,
    /// The step needs a capability the system under test declared absent: unimplemented.
    Unsupported,
    /// The step needs a capability the dialect graded against lacks (or there is nothing the
    /// dialect lacks to probe): unimplemented, and no gap in a certification under that dialect.
    NotInDialect,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            device: None,
            expected: Vec::new(),
            actual: Vec::new(),
            kind: FailureKind::Mismatch,
        }
    }

    /// A failure of `kind`.
    pub fn of(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            ..Self::new(message)
        }
    }

    /// The first line of the message, for one-line summaries.
    pub fn headline(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An event as a `sees:` line shows it, with its virtual time: `[30s] call-1: ended, no answer`.
pub fn stamped(d: &Delivery) -> String {
    format!("[{}] {}", seconds(d.at_ms), d.event)
}

/// Whether `d` is the line `e`: the same text, and the same time where the line gives one, up
/// to `slack_ms` (0 in virtual time; a real-time run cannot be exact to the millisecond).
fn line_is(e: &ExpectedLine, d: &Delivery, slack_ms: u64) -> bool {
    e.text == d.event.to_string() && e.at_ms.is_none_or(|at| at.abs_diff(d.at_ms) <= slack_ms)
}

/// Whether `got` is exactly `expected` (times compared only where a line gives one).
pub fn lines_match(expected: &[ExpectedLine], got: &[Delivery], slack_ms: u64) -> bool {
    expected.len() == got.len()
        && expected
            .iter()
            .zip(got)
            .all(|(e, d)| line_is(e, d, slack_ms))
}

/// The failure for device `device` that expected `expected` and received `got`.
/// [`lines_match`] up to order: the same lines, each as often.
pub fn lines_match_any_order(expected: &[ExpectedLine], got: &[Delivery], slack_ms: u64) -> bool {
    if expected.len() != got.len() {
        return false;
    }
    let mut left: Vec<&Delivery> = got.iter().collect();
    expected.iter().all(|e| {
        let found = left.iter().position(|d| line_is(e, d, slack_ms));
        found.map(|i| left.swap_remove(i)).is_some()
    })
}

pub fn mismatch(device: &str, expected: &[ExpectedLine], got: &[Delivery]) -> Failure {
    let with_times = expected.iter().any(|e| e.at_ms.is_some());
    let show_expected: Vec<String> = expected
        .iter()
        .map(|e| match e.at_ms {
            Some(at) => format!("[{}] {}", seconds(at), e.text),
            None => e.text.clone(),
        })
        .collect();
    let show_actual: Vec<String> = got
        .iter()
        .map(|d| {
            if with_times {
                stamped(d)
            } else {
                d.event.to_string()
            }
        })
        .collect();
    let first = show_expected
        .iter()
        .zip(&show_actual)
        .position(|(e, a)| !same(e, a, with_times))
        .unwrap_or(show_expected.len().min(show_actual.len()));
    let headline = match (show_expected.get(first), show_actual.get(first)) {
        (Some(e), Some(a)) => format!("{device} saw `{a}` where `{e}` was expected"),
        (Some(e), None) => format!("{device} did not see `{e}`"),
        (None, Some(a)) => format!("{device} also saw `{a}`, which was not expected"),
        (None, None) => format!("{device} did not see the expected events"),
    };
    let mut message = format!(
        "{headline} (event {} since its previous check)\n",
        first + 1
    );
    message.push_str(&block("expected", &show_expected));
    message.push_str(&block("actual", &show_actual));
    message.push_str("  diff (- expected, + actual):\n");
    message.push_str(&diff(&show_expected, &show_actual));
    if !with_times && !got.is_empty() {
        message.push_str("  with virtual times:\n");
        for d in got {
            message.push_str(&format!("    {}\n", stamped(d)));
        }
    }
    Failure {
        message,
        device: Some(device.to_owned()),
        expected: show_expected,
        actual: show_actual,
        kind: FailureKind::Mismatch,
    }
}

/// Whether an expected line (as shown) and an actual one (as shown) are the same event.
fn same(expected: &str, actual: &str, with_times: bool) -> bool {
    if with_times && !expected.starts_with('[') {
        // The expected line gives no time: compare with the actual line's text after its stamp.
        return actual
            .split_once("] ")
            .is_some_and(|(_, text)| text == expected);
    }
    expected == actual
}

/// `  label:` and the lines indented, or `(nothing)`.
pub fn block(label: &str, lines: &[String]) -> String {
    let mut out = format!("  {label}:\n");
    if lines.is_empty() {
        out.push_str("    (nothing)\n");
    }
    for l in lines {
        out.push_str(&format!("    {l}\n"));
    }
    out
}

/// A line diff, `-` for expected only, `+` for actual only.
pub fn diff(expected: &[String], actual: &[String]) -> String {
    let old = expected.join("\n") + "\n";
    let new = actual.join("\n") + "\n";
    let diff = TextDiff::from_lines(&old, &new);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            ChangeTag::Delete => '-',
            ChangeTag::Insert => '+',
            ChangeTag::Equal => ' ',
        };
        let text = change.value().trim_end_matches('\n');
        if expected.is_empty() && actual.is_empty() {
            continue;
        }
        if text.is_empty() && change.tag() == ChangeTag::Equal {
            continue;
        }
        out.push_str(&format!("    {sign} {text}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{CallId, DeviceId, EndReason, Event};

    fn ended(at_ms: u64) -> Delivery {
        Delivery {
            device: DeviceId(0),
            at_ms,
            event: Event::Ended {
                call: CallId(1),
                reason: EndReason::NoAnswer,
            },
        }
    }

    #[test]
    fn times_are_checked_only_where_given() {
        let bare = ExpectedLine {
            at_ms: None,
            text: "call-1: ended, no answer".into(),
        };
        let timed = ExpectedLine {
            at_ms: Some(30_000),
            ..bare.clone()
        };
        assert!(lines_match(
            std::slice::from_ref(&bare),
            &[ended(30_000)],
            0
        ));
        assert!(lines_match(
            std::slice::from_ref(&timed),
            &[ended(30_000)],
            0
        ));
        assert!(!lines_match(
            std::slice::from_ref(&timed),
            &[ended(29_000)],
            0
        ));
        assert!(!lines_match(&[], &[ended(1)], 0));
        // Real time compares times with a slack, on both sides of the line's time.
        assert!(!lines_match(
            std::slice::from_ref(&timed),
            &[ended(30_001)],
            0
        ));
        assert!(lines_match(
            std::slice::from_ref(&timed),
            &[ended(30_200)],
            250
        ));
        assert!(lines_match(
            std::slice::from_ref(&timed),
            &[ended(29_800)],
            250
        ));
        assert!(!lines_match(&[timed], &[ended(30_300)], 250));
    }

    #[test]
    fn a_mismatch_shows_expected_actual_and_a_diff() {
        let expected = [ExpectedLine {
            at_ms: None,
            text: "call-1: ended, declined by bob (603)".into(),
        }];
        let f = mismatch("alice/phone", &expected, &[ended(30_000)]);
        assert!(
            f.message
                .contains("  expected:\n    call-1: ended, declined by bob (603)\n")
        );
        assert!(
            f.message
                .contains("  actual:\n    call-1: ended, no answer\n")
        );
        assert!(
            f.message
                .contains("    - call-1: ended, declined by bob (603)\n")
        );
        assert!(f.message.contains("    + call-1: ended, no answer\n"));
        assert!(f.message.contains("[30s] call-1: ended, no answer"));
    }
}
