//! The HTML report: one self-contained file (inline CSS, no scripts, no external resources) with
//! the summary per capability, the verdict of every scenario, and for each failed scenario the
//! failing step, the expected and actual events side by side, and the full trace.

use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

use super::{RunReport, ScenarioRecord, Verdict};
use crate::conformance::trace;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1d1d1f;max-width:78rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem}
h3{font-size:1rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{padding:.25rem .7rem;border-bottom:1px solid #ddd;text-align:left}
th{background:#f4f4f6} td.n{text-align:right;font-variant-numeric:tabular-nums}
.passed{color:#0a7d32} .failed,.error{color:#c0182b;font-weight:600} .skipped{color:#8a6d00} .unimplemented{color:#5a5a78}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:.6rem;font-size:.85rem;color:#fff}
.badge.passed{background:#1f9d50} .badge.failed{background:#d0273a} .badge.error{background:#7a1020} .badge.skipped{background:#b58b00} .badge.unimplemented{background:#6b6b8a}
pre{background:#f7f7f9;padding:.6rem;overflow-x:auto;font-size:.85rem;line-height:1.35;margin:.3rem 0}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.del{background:#fde2e4} .ins{background:#dcf5e3}
.failure{border-left:4px solid #d0273a;padding-left:1rem;margin:1.5rem 0}
.muted{color:#666;font-size:.9rem}
";

/// Escapes text for HTML.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report as one HTML document.
pub fn render(report: &RunReport) -> String {
    let mut h = String::new();
    let verdict = if report.ok() { "passed" } else { "failed" };
    let sources: Vec<String> = report
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>callconf certification report</title><style>{STYLE}</style></head><body>\n\
         <h1>callconf certification report <span class=\"badge {verdict}\">{}</span></h1>\n\
         <p class=\"muted\">{} scenarios from {} against {}{}: \
         {}, in {:.2?}.</p>\n",
        if report.ok() { "PASS" } else { "FAIL" },
        report.scenarios.len(),
        esc(&sources.join(", ")),
        esc(report.against()),
        esc(&report.under()),
        Verdict::ALL
            .iter()
            .map(|v| format!("{} {}", report.count(*v), v.word()))
            .collect::<Vec<_>>()
            .join(", "),
        report.elapsed
    );

    h.push_str("<h2>Summary per capability</h2>\n<table><tr><th>capability</th><th>tag</th>");
    for v in Verdict::ALL {
        let _ = write!(h, "<th>{}</th>", v.word());
    }
    h.push_str("</tr>\n");
    for t in report.by_capability() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>@{}</td>",
            esc(&t.title),
            esc(&t.capability)
        );
        for v in Verdict::ALL {
            let n = t.of(v);
            // Colour a cell only when it counts something.
            let class = if n > 0 { v.word() } else { "" };
            let _ = write!(h, "<td class=\"n {class}\">{n}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");

    if !report.ok() {
        h.push_str("<h2>Failures</h2>\n");
        for s in report.failures() {
            failure(&mut h, s);
        }
    }

    h.push_str("<h2>Every scenario</h2>\n");
    for t in report.by_capability() {
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"muted\">@{}</span></h3>\n<table>",
            esc(&t.title),
            esc(&t.capability)
        );
        for s in report
            .scenarios
            .iter()
            .filter(|s| s.capability == t.capability)
        {
            let v = s.verdict.word();
            let reason = match (s.verdict, &s.reason) {
                (Verdict::Passed, _) | (_, None) => String::new(),
                (_, Some(r)) => format!("<br><span class=\"muted\">{}</span>", esc(r)),
            };
            let _ = writeln!(
                h,
                "<tr><td><span class=\"badge {v}\">{v}</span></td><td>{} › {}{reason}</td>\
                 <td class=\"muted\">{}</td></tr>",
                esc(&s.feature),
                esc(&s.name),
                esc(&s.location())
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body></html>\n");
    h
}

fn failure(h: &mut String, s: &ScenarioRecord) {
    let _ = writeln!(
        h,
        "<div class=\"failure\"><h3>{} › {}</h3><p class=\"muted\">{}</p>",
        esc(&s.feature),
        esc(&s.name),
        esc(&s.location())
    );
    match &s.failure {
        Some(f) => {
            let _ = writeln!(
                h,
                "<p>Failed at line {}: <code>{}</code></p>",
                f.line,
                esc(&f.step)
            );
            let fail = &f.failure;
            if !fail.expected.is_empty() || !fail.actual.is_empty() {
                let device = fail.device.as_deref().unwrap_or("the device");
                let (expected, actual) = side_by_side(&fail.expected, &fail.actual);
                let _ = writeln!(
                    h,
                    "<div class=\"cols\"><div><b>expected</b> ({})<pre>{expected}</pre></div>\
                     <div><b>actual</b> ({})<pre>{actual}</pre></div></div>",
                    esc(device),
                    esc(device)
                );
            }
            let _ = writeln!(h, "<pre>{}</pre>", esc(&fail.message));
        }
        None => {
            let _ = writeln!(
                h,
                "<pre>{}</pre>",
                esc(s.reason.as_deref().unwrap_or("failed"))
            );
        }
    }
    let _ = writeln!(
        h,
        "<details open><summary>Full trace (every request and event, by step)</summary>\
         <pre>{}</pre></details></div>",
        esc(&trace::render(&s.trace))
    );
}

/// The two sides with lines only in one side highlighted.
fn side_by_side(expected: &[String], actual: &[String]) -> (String, String) {
    let old = expected.join("\n") + "\n";
    let new = actual.join("\n") + "\n";
    let diff = TextDiff::from_lines(&old, &new);
    let (mut left, mut right) = (String::new(), String::new());
    for change in diff.iter_all_changes() {
        let text = esc(change.value().trim_end_matches('\n'));
        match change.tag() {
            ChangeTag::Equal => {
                let _ = writeln!(left, "{text}");
                let _ = writeln!(right, "{text}");
            }
            ChangeTag::Delete => {
                let _ = writeln!(left, "<span class=\"del\">{text}</span>");
            }
            ChangeTag::Insert => {
                let _ = writeln!(right, "<span class=\"ins\">{text}</span>");
            }
        }
    }
    if expected.is_empty() {
        left = "(nothing)".into();
    }
    if actual.is_empty() {
        right = "(nothing)".into();
    }
    (left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
