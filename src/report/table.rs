//! The summary table printed at the end of a run.

use std::fmt::Write as _;

use super::Report;

pub fn summary(r: &Report) -> String {
    let mut out = String::new();
    let c = &r.calls;
    let _ = writeln!(
        out,
        "scenario {}  seed {}  mode {}  cells {}/{}{}",
        r.scenario,
        r.seed,
        r.mode,
        r.cells.len(),
        r.cells_total,
        if r.interrupted {
            "  (interrupted: partial report)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "{:<24}{:>14}", "calls started", c.started);
    let _ = writeln!(out, "{:<24}{:>14}", "  succeeded", c.succeeded);
    let _ = writeln!(out, "{:<24}{:>14}", "  failed", c.failed);
    let _ = writeln!(out, "{:<24}{:>14}", "  lost", c.lost);
    let _ = writeln!(out, "{:<24}{:>14}", "throttled (not placed)", c.throttled);
    let _ = writeln!(out, "{:<24}{:>14}", "concurrent peak", c.concurrent_peak);
    let _ = writeln!(
        out,
        "{:<24}{:>13.3}%",
        "success ratio",
        r.success_ratio * 100.0
    );
    let _ = writeln!(out, "{:<24}{:>12.1}/s", "call rate", r.achieved_rate_per_s);
    let _ = writeln!(out, "{:<24}{:>14}", "requests", r.requests);
    let _ = writeln!(out, "{:<24}{:>14}", "deliveries", r.deliveries);
    let _ = writeln!(out, "outcomes");
    for (k, v) in r.outcomes.iter().filter(|(_, v)| **v > 0) {
        let _ = writeln!(out, "  {k:<22}{v:>14}");
    }
    let _ = writeln!(
        out,
        "{:<20}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>10}",
        "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "mean", "count"
    );
    for (k, l) in &r.latency {
        let _ = writeln!(
            out,
            "  {k:<18}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8.1}{:>10}",
            l.p50, l.p90, l.p99, l.p999, l.max, l.mean, l.count
        );
    }
    if !r.thresholds.is_empty() {
        let _ = writeln!(out, "thresholds");
        for v in &r.thresholds {
            let bound = match (v.min, v.max) {
                (Some(m), _) => format!(">= {m}"),
                (_, Some(m)) => format!("<= {m}"),
                _ => String::new(),
            };
            let verdict = if v.passed { "pass" } else { "FAIL" };
            let _ = writeln!(
                out,
                "  {verdict}  {} = {} (want {bound})",
                v.metric, v.value
            );
        }
    }
    out
}
