//! The verdict table `callconf certify` prints: one row per capability with its counts of each
//! verdict, then one line per scenario that did not pass with its reason, then the verdict.

use std::fmt::Write as _;

use super::{RunReport, Verdict};

/// The table as text.
pub fn render(report: &RunReport) -> String {
    let against = report.against();
    let tallies = report.by_capability();
    let rows: Vec<(String, Vec<usize>)> = tallies
        .iter()
        .map(|t| {
            let counts = Verdict::ALL.iter().map(|v| t.of(*v)).collect();
            (format!("{} (@{})", t.title, t.capability), counts)
        })
        .collect();
    let width = rows
        .iter()
        .map(|r| r.0.chars().count())
        .chain(["capability".len(), "total".len()])
        .max()
        .unwrap_or(10);
    let heads: Vec<&str> = Verdict::ALL.iter().map(|v| v.word()).collect();
    let line_width = width + heads.iter().map(|h| h.len() + 2).sum::<usize>() + 9;
    let mut out = String::new();
    let sources: Vec<String> = report
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let _ = writeln!(
        out,
        "callconf certify: {} scenarios from {} against {against}{}\n",
        report.scenarios.len(),
        sources.join(", "),
        report.under()
    );
    let row = |out: &mut String, name: &str, cells: &[String], verdict: &str| {
        let _ = write!(out, "{name:<width$}");
        for (cell, head) in cells.iter().zip(&heads) {
            let _ = write!(out, "  {cell:>w$}", w = head.len());
        }
        let _ = writeln!(out, "  {verdict}");
    };
    let words: Vec<String> = heads.iter().map(|h| (*h).to_owned()).collect();
    row(&mut out, "capability", &words, "verdict");
    let _ = writeln!(out, "{}", "-".repeat(line_width));
    for (name, counts) in &rows {
        let of = |v: Verdict| counts[Verdict::ALL.iter().position(|x| *x == v).unwrap_or(0)];
        let verdict = if of(Verdict::Error) > 0 {
            "ERROR"
        } else if of(Verdict::Failed) > 0 {
            "FAIL"
        } else if of(Verdict::Passed) == 0 && of(Verdict::Unimplemented) > 0 {
            "unimplemented"
        } else if of(Verdict::Passed) == 0 {
            "skipped"
        } else {
            "pass"
        };
        let cells: Vec<String> = counts.iter().map(ToString::to_string).collect();
        row(&mut out, name, &cells, verdict);
    }
    let _ = writeln!(out, "{}", "-".repeat(line_width));
    let totals: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| report.count(*v).to_string())
        .collect();
    row(&mut out, "total", &totals, "");
    let notes: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Passed)
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out);
    }
    for s in notes {
        let tag = match s.verdict {
            Verdict::Failed => "FAILED ",
            Verdict::Error => "ERROR  ",
            Verdict::Unimplemented => "unimpl.",
            _ => "skipped",
        };
        let reason = s.reason.as_deref().unwrap_or_default();
        let _ = writeln!(
            out,
            "{tag}  {} › {} ({})\n         {reason}",
            s.feature,
            s.name,
            s.location()
        );
    }
    let _ = writeln!(out);
    let counts = |out: &mut String| {
        let parts: Vec<String> = [
            Verdict::Failed,
            Verdict::Error,
            Verdict::Passed,
            Verdict::Unimplemented,
            Verdict::Skipped,
        ]
        .iter()
        .filter(|v| report.count(**v) > 0 || **v == Verdict::Passed)
        .map(|v| format!("{} {}", report.count(*v), v.word()))
        .collect();
        let _ = write!(out, "{}", parts.join(", "));
    };
    let _ = write!(
        out,
        "verdict: {} — ",
        if report.ok() { "PASS" } else { "FAIL" }
    );
    counts(&mut out);
    let _ = writeln!(out, ", in {:.2?}", report.elapsed);
    out
}
