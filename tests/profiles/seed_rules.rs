//! Every rule the seed documents state (the table of docs/model.md §5) has a vendor scenario
//! named after it, in `features/vendors/` or `features/media/vendors/`, or its row says why not:
//! the rules callconf does not model (`no`), models otherwise (`differs`), cannot express
//! (`n/a`) or checks outside Gherkin (`partial, no step`). The gaps are data: a new vendor
//! scenario for a listed gap, or a row that loses its scenario, fails here until the table says
//! so. Every vendor scenario names a rule of the table, so a typo in a name cannot hide one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Statuses of the rows that need no vendor scenario.
const GAP_STATUSES: [&str; 4] = ["no", "differs", "n/a", "partial, no step"];

struct Row {
    line: usize,
    vendor: String,
    status: String,
}

impl Row {
    /// Whether the row says the rule needs no vendor scenario.
    fn is_gap(&self) -> bool {
        GAP_STATUSES.iter().any(|g| self.status.starts_with(g))
    }
}

/// The §5 table: rule id → its row.
fn table() -> BTreeMap<String, Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/model.md");
    let text = std::fs::read_to_string(&path).expect("docs/model.md is readable");
    let start = text
        .find("## 5. Rules the seeds state")
        .expect("docs/model.md has §5");
    let section = text[start..].split("\n## ").next().unwrap_or_default();
    let first_line = text[..start].lines().count();
    let mut rows = BTreeMap::new();
    for (i, line) in section.lines().enumerate() {
        let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
        // | # | `rule id` | vendor | rule | callconf | where |
        if cells.len() != 6 || !cells[1].starts_with('`') {
            continue;
        }
        let id = cells[1].trim_matches('`').to_owned();
        let row = Row {
            // `section` starts on the heading's line, which `first_line` does not count.
            line: first_line + i + 1,
            vendor: cells[2].to_lowercase(),
            status: cells[4].to_owned(),
        };
        assert!(
            rows.insert(id.clone(), row).is_none(),
            "docs/model.md: rule {id} is in §5 twice"
        );
    }
    assert!(rows.len() >= 77, "§5 lists {} rules", rows.len());
    rows
}

/// Vendor scenarios: rule id → the feature files naming it (`Scenario: <id> — …`).
fn vendor_scenarios() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for dir in ["features/vendors", "features/media/vendors"] {
        let entries = std::fs::read_dir(root.join(dir)).expect("the vendor features exist");
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_none_or(|e| e != "feature") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a feature is readable");
            let file = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            for line in text.lines() {
                let line = line.trim_start();
                let Some(rest) = line
                    .strip_prefix("Scenario: ")
                    .or_else(|| line.strip_prefix("Scenario Outline: "))
                else {
                    continue;
                };
                let id = rest.split(" — ").next().unwrap_or_default().to_owned();
                found.entry(id).or_default().insert(file.clone());
            }
        }
    }
    found
}

#[test]
fn every_seed_rule_has_a_vendor_scenario_or_says_why_not() {
    let rows = table();
    let scenarios = vendor_scenarios();
    let mut problems = Vec::new();
    for (id, row) in &rows {
        match (scenarios.get(id), row.is_gap()) {
            (None, false) => problems.push(format!(
                "docs/model.md:{}: {id} is `{}` but no vendor scenario is named after it",
                row.line, row.status
            )),
            (Some(files), true) => problems.push(format!(
                "docs/model.md:{}: {id} is `{}` yet {files:?} has a scenario for it: update its status",
                row.line, row.status
            )),
            _ => {}
        }
    }
    for (id, files) in &scenarios {
        match rows.get(id) {
            None => problems.push(format!(
                "{files:?}: scenario {id} names no rule of docs/model.md §5"
            )),
            Some(row) => {
                // A vendor's rule is checked in that vendor's file.
                if !files
                    .iter()
                    .all(|f| f.ends_with(&format!("/{}.feature", row.vendor)))
                {
                    problems.push(format!(
                        "{files:?}: {id} is a {} rule, checked in another vendor's file",
                        row.vendor
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_gap_gives_its_reason() {
    let rows = table();
    for (id, row) in rows.iter().filter(|(_, r)| r.is_gap()) {
        // "no" alone says nothing: the row must say why, in parentheses or after a colon.
        assert!(
            row.status.contains('(') || row.status.contains(':'),
            "docs/model.md:{}: {id} is a gap without its reason: `{}`",
            row.line,
            row.status
        );
    }
}
