//! The dialect matrix (`certify --matrix`): the suite run under every built-in profile, counted
//! per capability × dialect, after Autobahn|Testsuite's agent × case report.
//!
//! Why a matrix and not six reports: the question a vendor asks is "which dialect does my SDK
//! behave like, and where does it differ?", and that is read along a row. The canonical column
//! is the reference; a dialect's other cells differ from it exactly where its profile lacks a
//! capability (unimplemented) or a rule changes an outcome (failed).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{RunReport, Tally};
use crate::conformance::error::ConformanceError;
use crate::conformance::runner::{RunOptions, run};
use crate::profile::Profile;

/// One cell: the verdicts of one capability's scenarios under one dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub passed: usize,
    pub failed: usize,
    pub unimplemented: usize,
    pub error: usize,
    /// Skipped: known bugs, and scenarios of a rule the dialect has not (`applies.rs`).
    #[serde(default)]
    pub skipped: usize,
}

impl Cell {
    fn of(t: &Tally) -> Cell {
        Cell {
            passed: t.passed,
            failed: t.failed,
            unimplemented: t.unimplemented,
            error: t.error,
            skipped: t.skipped,
        }
    }

    /// `passed/failed/unimplemented`, and `+N!` for errors.
    pub fn short(&self) -> String {
        let mut s = format!("{}/{}/{}", self.passed, self.failed, self.unimplemented);
        if self.error > 0 {
            let _ = write!(s, " +{}!", self.error);
        }
        s
    }
}

/// One capability's row, a cell per dialect in [`Matrix::dialects`] order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub capability: String,
    pub title: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub dialects: Vec<String>,
    pub rows: Vec<Row>,
    /// Totals per dialect.
    pub totals: Vec<Cell>,
    /// Wall time of the whole matrix.
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
    /// The canonical run's full report (for the HTML page the matrix is a section of).
    #[serde(skip)]
    pub canonical: Option<RunReport>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Matrix {
    /// No scenario broke (an error verdict): the matrix is complete. Failures are expected
    /// where dialects differ and do not count against it.
    pub fn complete(&self) -> bool {
        self.totals.iter().all(|c| c.error == 0)
    }
}

/// Runs `opts` under every built-in profile and counts the verdicts per capability.
pub fn run_matrix(opts: &RunOptions) -> Result<Matrix, ConformanceError> {
    let start = Instant::now();
    let profiles = Profile::all()?;
    let mut dialects = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut totals = Vec::new();
    let mut canonical = None;
    for (column, p) in profiles.into_iter().enumerate() {
        let report = run(&RunOptions {
            profile: Some(p.clone()),
            junit: None,
            json: None,
            ..opts.clone()
        })?;
        let mut total = Cell::default();
        for t in report.by_capability() {
            let cell = Cell::of(&t);
            total.passed += cell.passed;
            total.failed += cell.failed;
            total.unimplemented += cell.unimplemented;
            total.error += cell.error;
            total.skipped += cell.skipped;
            let i = match rows.iter().position(|r| r.capability == t.capability) {
                Some(i) => i,
                None => {
                    rows.push(Row {
                        capability: t.capability.clone(),
                        title: t.title.clone(),
                        cells: vec![Cell::default(); column],
                    });
                    rows.len() - 1
                }
            };
            rows[i].cells.push(cell);
        }
        for r in &mut rows {
            r.cells.resize(column + 1, Cell::default());
        }
        totals.push(total);
        dialects.push(p.name.clone());
        if p.name == "canonical" {
            canonical = Some(report);
        }
    }
    Ok(Matrix {
        dialects,
        rows,
        totals,
        elapsed: start.elapsed(),
        canonical,
    })
}

/// The terminal table: a row per capability, a column per dialect, `passed/failed/unimplemented`.
pub fn table(m: &Matrix) -> String {
    let width = m
        .rows
        .iter()
        .map(|r| r.title.len())
        .max()
        .unwrap_or(10)
        .max(10);
    let cell_width = m
        .rows
        .iter()
        .flat_map(|r| r.cells.iter().map(|c| c.short().len()))
        .chain(m.dialects.iter().map(String::len))
        .max()
        .unwrap_or(8);
    let mut out = String::new();
    let _ = write!(out, "{:width$}", "capability");
    for d in &m.dialects {
        let _ = write!(out, "  {d:>cell_width$}");
    }
    out.push('\n');
    let line = "-".repeat(width + m.dialects.len() * (cell_width + 2));
    let _ = writeln!(out, "{line}");
    for r in &m.rows {
        let _ = write!(out, "{:width$}", r.title);
        for c in &r.cells {
            let _ = write!(out, "  {:>cell_width$}", c.short());
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{line}");
    let _ = write!(out, "{:width$}", "total");
    for c in &m.totals {
        let _ = write!(out, "  {:>cell_width$}", c.short());
    }
    let _ = write!(out, "\n{:width$}", "skipped");
    for c in &m.totals {
        let _ = write!(out, "  {:>cell_width$}", c.skipped);
    }
    let _ = writeln!(
        out,
        "\n\ncells: passed/failed/unimplemented (+N! errors); skipped: known bugs and scenarios \
         of a rule the dialect has not; {} dialects in {} ms",
        m.dialects.len(),
        m.elapsed.as_millis()
    );
    out
}

/// The matrix as an HTML section (`<h2>` and a table).
pub fn html_section(m: &Matrix) -> String {
    use super::html::esc;
    let mut h = String::from("<h2>Dialect matrix</h2>\n<table><tr><th>capability</th>");
    for d in &m.dialects {
        let _ = write!(h, "<th>{}</th>", esc(d));
    }
    h.push_str("</tr>\n");
    let row = |h: &mut String, title: &str, cells: &[Cell]| {
        let _ = write!(h, "<tr><td>{}</td>", esc(title));
        for c in cells {
            let class = if c.error > 0 {
                "error"
            } else if c.failed > 0 {
                "failed"
            } else {
                "passed"
            };
            let _ = write!(h, "<td class=\"{class}\">{}</td>", esc(&c.short()));
        }
        h.push_str("</tr>\n");
    };
    for r in &m.rows {
        row(&mut h, &r.title, &r.cells);
    }
    row(&mut h, "total", &m.totals);
    h.push_str("</table>\n<p>cells: passed/failed/unimplemented (+N! errors)</p>\n");
    h
}

/// The canonical run's HTML report with the matrix as its first section.
pub fn html_page(m: &Matrix) -> String {
    let section = html_section(m);
    match &m.canonical {
        Some(report) => {
            let page = super::html::render(report);
            match page.find("<h2>") {
                Some(at) => format!("{}{section}{}", &page[..at], &page[at..]),
                None => page.replace("</body>", &format!("{section}</body>")),
            }
        }
        None => format!("<!DOCTYPE html><html><body>{section}</body></html>\n"),
    }
}
