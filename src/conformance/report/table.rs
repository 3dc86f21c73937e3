//! The verdict table `callconf certify` prints: one row per capability with its passed, failed
//! and skipped scenarios, then one line per failure or skip with its reason, then the verdict.

use std::fmt::Write as _;

use super::{RunReport, Verdict};

/// The table as text.
pub fn render(report: &RunReport) -> String {
    let tallies = report.by_capability();
    let rows: Vec<(String, usize, usize, usize)> = tallies
        .iter()
        .map(|t| {
            (
                format!("{} (@{})", t.title, t.capability),
                t.passed,
                t.failed,
                t.skipped,
            )
        })
        .collect();
    let width = rows
        .iter()
        .map(|r| r.0.chars().count())
        .chain(["capability".len(), "total".len()])
        .max()
        .unwrap_or(10);
    let mut out = String::new();
    let sources: Vec<String> = report
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let _ = writeln!(
        out,
        "callconf certify: {} scenarios from {} against the reference implementation\n",
        report.scenarios.len(),
        sources.join(", ")
    );
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>6}  {:>7}  verdict",
        "capability", "passed", "failed", "skipped"
    );
    let _ = writeln!(out, "{}", "-".repeat(width + 34));
    for (name, passed, failed, skipped) in &rows {
        let verdict = if *failed > 0 {
            "FAIL"
        } else if *passed == 0 {
            "skipped"
        } else {
            "pass"
        };
        let _ = writeln!(
            out,
            "{name:<width$}  {passed:>6}  {failed:>6}  {skipped:>7}  {verdict}"
        );
    }
    let _ = writeln!(out, "{}", "-".repeat(width + 34));
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>6}  {:>7}",
        "total",
        report.passed(),
        report.failed(),
        report.skipped()
    );
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
    if report.ok() {
        let _ = writeln!(
            out,
            "verdict: PASS — {} passed, {} skipped, in {:.2?}",
            report.passed(),
            report.skipped(),
            report.elapsed
        );
    } else {
        let _ = writeln!(
            out,
            "verdict: FAIL — {} failed, {} passed, {} skipped, in {:.2?}",
            report.failed(),
            report.passed(),
            report.skipped(),
            report.elapsed
        );
    }
    out
}
