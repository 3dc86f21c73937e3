//! Output in the shape of cargo's test harness: `running N tests`, one `test … ok` line per
//! scenario, the failures with their messages, and the closing `test result:` line that CI
//! recognises (the cucumber target runs with `harness = false`, so it prints this itself).

use std::fmt::Write as _;

use super::{RunReport, Verdict};

/// The name of a scenario as a test: `hold.feature:12 holding a connected call`.
pub fn test_name(s: &super::ScenarioRecord) -> String {
    let file = s.path.file_name().map_or_else(
        || s.path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    format!("{file}:{} {}", s.line, s.name)
}

/// Everything but the closing line; `quiet` prints one character per scenario, as `cargo test
/// -q` does (`.` passed, `F` failed, `i` ignored).
pub fn render_body(report: &RunReport, quiet: bool) -> String {
    let mut out = String::new();
    let n = report.scenarios.len();
    let _ = writeln!(
        out,
        "\nrunning {n} scenario{} from {}",
        if n == 1 { "" } else { "s" },
        report
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if quiet {
        for (i, s) in report.scenarios.iter().enumerate() {
            out.push(match s.verdict {
                Verdict::Passed => '.',
                Verdict::Failed | Verdict::Error => 'F',
                Verdict::Skipped | Verdict::Unimplemented => 'i',
            });
            if (i + 1) % 88 == 0 {
                out.push('\n');
            }
        }
        out.push('\n');
    }
    for s in report.scenarios.iter().filter(|_| !quiet) {
        let result = match s.verdict {
            Verdict::Passed => "ok",
            Verdict::Failed | Verdict::Error => "FAILED",
            Verdict::Skipped | Verdict::Unimplemented => "ignored",
        };
        let _ = writeln!(out, "test {} ... {result}", test_name(s));
    }
    if !report.ok() {
        let _ = writeln!(out, "\nfailures:\n");
        for s in report.failures() {
            let _ = writeln!(out, "---- {} ({}) ----", test_name(s), s.location());
            match &s.failure {
                Some(f) => {
                    let how = if s.verdict == Verdict::Error {
                        "ended in an error"
                    } else {
                        "failed"
                    };
                    let _ = writeln!(out, "step `{}` (line {}) {how}:", f.step, f.line);
                    let _ = writeln!(out, "{}\n", f.failure.message.trim_end());
                }
                None => {
                    let _ = writeln!(out, "{}\n", s.reason.as_deref().unwrap_or("failed"));
                }
            }
        }
        let _ = writeln!(out, "failures:");
        for s in report.failures() {
            let _ = writeln!(out, "    {}", test_name(s));
        }
    }
    out
}

/// `test result: ok. 136 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 1.23s`
pub fn result_line(report: &RunReport, extra_failures: usize) -> String {
    // libtest knows three outcomes: an error counts as failed, unimplemented as ignored.
    let failed = report.failed() + report.errors() + extra_failures;
    format!(
        "test result: {}. {} passed; {failed} failed; {} ignored; 0 measured; {} filtered out; \
         finished in {:.2}s",
        if failed == 0 { "ok" } else { "FAILED" },
        report.passed(),
        report.skipped() + report.unimplemented(),
        report.filtered_out,
        report.elapsed.as_secs_f64()
    )
}
