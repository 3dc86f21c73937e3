//! Loading feature files: directories walked for `*.feature` (sorted, so runs are stable), each
//! file parsed, Scenario Outlines expanded into one scenario per Examples row. A file that does not
//! parse gives its path, line and column and says what was found and what was expected.

use std::fs;
use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};

use super::error::{ConformanceError, Problem};

/// Every feature under `paths` (files or directories) that parsed, expanded, and the problems of
/// those that did not. An unreadable path or no feature file at all is an error.
pub fn load(paths: &[PathBuf]) -> Result<(Vec<gherkin::Feature>, Vec<Problem>), ConformanceError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    if files.is_empty() {
        return Err(ConformanceError::NoFeatures(paths.to_vec()));
    }
    let mut features = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match parse(&file) {
            Ok(f) => features.push(f),
            Err(mut p) => problems.append(&mut p),
        }
    }
    Ok((features, problems))
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), ConformanceError> {
    let meta = fs::metadata(path).map_err(|source| ConformanceError::Read {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(path)
        .map_err(|source| ConformanceError::Read {
            path: path.to_owned(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect(&e, out)?;
        } else if e
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("feature"))
        {
            out.push(e);
        }
    }
    Ok(())
}

/// A path as shown to people: relative to the working directory when it is under it.
pub fn shown(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_owned())
}

/// Parses and expands one file.
pub fn parse(path: &Path) -> Result<gherkin::Feature, Vec<Problem>> {
    let text = fs::read_to_string(path).map_err(|e| {
        vec![Problem {
            path: shown(path),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        }]
    })?;
    let feature = match gherkin::Feature::parse_path(path, GherkinEnv::default()) {
        Ok(f) => f,
        Err(e) => return Err(vec![parse_problem(path, &text, &e)]),
    };
    let mut problems = structure(path, &feature);
    let expanded = feature.expand_examples().map_err(|e| {
        vec![Problem {
            path: shown(path),
            line: e.pos.line,
            column: e.pos.col,
            message: format!(
                "<{}> is used but no Examples column is named {}",
                e.name, e.name
            ),
        }]
    })?;
    if problems.is_empty() {
        Ok(expanded)
    } else {
        problems.sort_by_key(|p| (p.line, p.column));
        Err(problems)
    }
}

/// What the parser's error means, in words.
fn parse_problem(path: &Path, text: &str, e: &gherkin::ParseFileError) -> Problem {
    let gherkin::ParseFileError::Parsing { error, source, .. } = e else {
        return Problem {
            path: shown(path),
            line: 0,
            column: 0,
            message: e.to_string(),
        };
    };
    // The parser's error exposes its position and expected tokens only through its message:
    // `Error at 7:5: {"Given", "When", …}`.
    let raw = source.to_string();
    let (line, column): (usize, usize) = raw
        .strip_prefix("Error at ")
        .and_then(|rest| {
            let (pos, _) = rest.split_once(": ")?;
            let (l, c) = pos.split_once(':')?;
            Some((l.parse().ok()?, c.parse().ok()?))
        })
        .unwrap_or((0, 0));
    let tokens: Vec<String> = raw
        .split_once(": {")
        .map(|(_, set)| {
            set.trim_end_matches('}')
                .split("\", \"")
                .map(|t| t.trim_matches('"').to_owned())
                .collect()
        })
        .unwrap_or_default();
    let found = text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim();
    let message = match error {
        Some(gherkin::EnvError::InconsistentCellCount(_)) => {
            let (row, cells, first) = uneven_row(text).unwrap_or((line, 0, 0));
            return Problem {
                path: shown(path),
                line: row,
                column: 0,
                message: format!(
                    "this table row has {cells} cells but the table's first row has {first}"
                ),
            };
        }
        Some(gherkin::EnvError::UnknownKeyword(k)) => {
            format!(
                "unknown keyword `{}` (a step starts with Given, When, Then, And or But)",
                k.trim()
            )
        }
        Some(other) => other.to_string(),
        None => {
            let what = if found.is_empty() {
                "the end of the file".to_owned()
            } else {
                format!("`{found}`")
            };
            format!("cannot parse {what}: expected {}", expected(&tokens))
        }
    };
    Problem {
        path: shown(path),
        line,
        column,
        message,
    }
}

/// The first table row whose cell count differs from its table's first row:
/// `(1-based line, its cells, the first row's cells)`.
fn uneven_row(text: &str) -> Option<(usize, usize, usize)> {
    let cells = |l: &str| l.trim().trim_matches('|').split('|').count();
    let mut first: Option<usize> = None;
    for (i, l) in text.lines().enumerate() {
        if !l.trim_start().starts_with('|') {
            first = None;
            continue;
        }
        match first {
            None => first = Some(cells(l)),
            Some(n) if cells(l) != n => return Some((i + 1, cells(l), n)),
            Some(_) => {}
        }
    }
    None
}

/// The parser's expected tokens, summarised for people.
fn expected(tokens: &[String]) -> String {
    let has = |t: &str| tokens.iter().any(|x| x.contains(t));
    let mut parts = Vec::new();
    if has("Given") || has("When") || has("Then") || has("And") {
        parts.push("a step (Given, When, Then, And, But)");
    }
    if has("Scenario") || has("Example") {
        parts.push("a Scenario, Scenario Outline or Examples");
    }
    if has("Feature") {
        parts.push("`Feature:`");
    }
    if has("Rule") {
        parts.push("a Rule");
    }
    if has("Background") {
        parts.push("a Background");
    }
    if has("\"\"\"") || has("```") {
        parts.push("a docstring (\"\"\")");
    }
    if has("|") {
        parts.push("a table row (| … |)");
    }
    if has("@") {
        parts.push("a tag (@…)");
    }
    if has("#") {
        parts.push("a comment (#…)");
    }
    if parts.is_empty() {
        let mut raw: Vec<&str> = tokens.iter().map(String::as_str).collect();
        raw.sort_unstable();
        raw.truncate(8);
        return format!("one of {}", raw.join(" "));
    }
    parts.join(", or ")
}

/// Mistakes the parser accepts: scenarios without steps, files without scenarios, placeholders in
/// a scenario that has no Examples.
fn structure(path: &Path, feature: &gherkin::Feature) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |line: usize, message: String| {
        problems.push(Problem {
            path: shown(path),
            line,
            column: 0,
            message,
        });
    };
    let scenarios: Vec<&gherkin::Scenario> = feature
        .scenarios
        .iter()
        .chain(feature.rules.iter().flat_map(|r| &r.scenarios))
        .collect();
    if scenarios.is_empty() {
        problem(
            feature.position.line,
            format!("feature `{}` has no scenarios", feature.name),
        );
    }
    for s in scenarios {
        if s.steps.is_empty() {
            problem(
                s.position.line,
                format!("scenario `{}` has no steps", s.name),
            );
        }
        if s.examples.is_empty() {
            for step in &s.steps {
                if let Some(start) = step.value.find('<')
                    && step.value[start..].contains('>')
                {
                    problem(
                        step.position.line,
                        format!(
                            "`{}` has a <placeholder> but scenario `{}` has no Examples",
                            step.value, s.name
                        ),
                    );
                }
            }
        } else if s
            .examples
            .iter()
            .all(|e| e.table.as_ref().is_none_or(|t| t.rows.len() < 2))
        {
            problem(
                s.position.line,
                format!("the Examples of `{}` have no rows below the header", s.name),
            );
        }
    }
    problems
}
