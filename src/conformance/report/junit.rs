//! The JUnit XML report, written from the [`RunReport`] rather than from cucumber's event
//! stream, so that the four verdicts keep their meaning in CI systems: a failed scenario is a
//! `<failure>`, one whose adapter broke is an `<error>`, and unimplemented and skipped ones are
//! `<skipped>` with their reason. One test suite per feature file; one test case per scenario.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{RunReport, ScenarioRecord, Verdict};

/// The report as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let mut out = Report::new("callconf certify");
    out.set_time(report.elapsed);
    let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
    for s in &report.scenarios {
        let key = s.path.display().to_string();
        let suite = suites.entry(key.clone()).or_insert_with(|| {
            let mut suite = TestSuite::new(format!("{}: {}", key, s.feature));
            suite.set_time(Duration::ZERO);
            suite
        });
        suite.add_test_case(case(s));
    }
    out.add_test_suites(suites.into_values());
    out.to_string().unwrap_or_else(|e| {
        // Serialising into memory fails only on an internal error of the XML writer.
        format!("<!-- the JUnit report could not be written: {e} -->\n")
    })
}

fn case(s: &ScenarioRecord) -> TestCase {
    let reason = s.reason.clone().unwrap_or_default();
    let detail = s.failure.as_ref().map(|f| {
        format!(
            "step `{}` (line {}):\n{}",
            f.step, f.line, f.failure.message
        )
    });
    let status = match s.verdict {
        Verdict::Passed => TestCaseStatus::success(),
        Verdict::Failed | Verdict::Error => {
            let kind = if s.verdict == Verdict::Error {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            };
            let mut st = TestCaseStatus::non_success(kind);
            st.set_message(reason).set_type(s.verdict.word());
            if let Some(d) = detail {
                st.set_description(d);
            }
            st
        }
        Verdict::Unimplemented | Verdict::Skipped => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(reason).set_type(s.verdict.word());
            st
        }
    };
    let mut case = TestCase::new(s.name.clone(), status);
    case.set_classname(format!("{} ({})", s.feature, s.location()));
    case
}
