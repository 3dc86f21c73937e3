//! Checks every step of every feature against the catalog before anything runs: an unknown step
//! is reported with its file and line and the closest known steps (by edit distance), an
//! ambiguous one with the definitions it matches, a step written with the wrong keyword with the
//! right one, and a step whose arguments do not parse with what is wrong with them.
//!
//! Cucumber itself would only mark an unknown step as skipped at run time; checking first turns
//! every such mistake into an error that names its place, all of them at once.

use cucumber::gherkin;

use super::catalog::{self, Compiled};
use super::error::Problem;
use super::features::shown;

/// Every problem in the steps of `features`.
pub fn check(features: &[gherkin::Feature]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for f in features {
        let path = f.path.as_deref().map(shown).unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        let backgrounds = f
            .background
            .iter()
            .chain(f.rules.iter().filter_map(|r| r.background.as_ref()));
        let steps = backgrounds.flat_map(|b| &b.steps).chain(
            f.scenarios
                .iter()
                .chain(f.rules.iter().flat_map(|r| &r.scenarios))
                .flat_map(|s| &s.steps),
        );
        for (line, column, tag) in condition_tags(f) {
            if let Some(Err(message)) = super::applies::Condition::of_tag(tag)
                && seen.insert((line, tag.to_owned()))
            {
                problems.push(Problem {
                    path: path.clone(),
                    line,
                    column,
                    message,
                });
            }
        }
        for step in steps {
            if let Some(message) = check_step(step) {
                // An outline's step appears once per Examples row; report each distinct text once.
                if seen.insert((step.position.line, step.value.clone())) {
                    problems.push(Problem {
                        path: path.clone(),
                        line: step.position.line,
                        column: step.position.col,
                        message,
                    });
                }
            }
        }
    }
    problems
}

/// Every tag of the feature's scenarios and their Examples blocks (where dialect conditions are
/// written, `applies.rs`), with the line and column of what carries it.
fn condition_tags(f: &gherkin::Feature) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let rules = f.rules.iter().map(|r| (r.position, &r.tags));
    let scenarios = f
        .scenarios
        .iter()
        .chain(f.rules.iter().flat_map(|r| &r.scenarios));
    let mut carriers: Vec<(gherkin::LineCol, &Vec<String>)> = rules.collect();
    carriers.push((f.position, &f.tags));
    for s in scenarios {
        carriers.push((s.position, &s.tags));
        carriers.extend(s.examples.iter().map(|e| (e.position, &e.tags)));
    }
    for (at, tags) in carriers {
        out.extend(tags.iter().map(|t| (at.line, at.col, t.as_str())));
    }
    out
}

/// What is wrong with one step, if anything.
pub fn check_step(step: &gherkin::Step) -> Option<String> {
    let written = format!("{} {}", step.keyword.trim(), step.value);
    let found = catalog::matches(step.ty, &step.value);
    match found.as_slice() {
        [one] => catalog::parse(one, step)
            .err()
            .map(|e| format!("`{written}`: {e}")),
        [] => {
            let other = catalog::matches_any_keyword(&step.value);
            if let Some(c) = other.first() {
                let kw = c.def.kind.keyword();
                let also = if c.def.kind == catalog::Kind::Operation {
                    " (or Given, to set the stage)"
                } else {
                    ""
                };
                return Some(format!(
                    "`{written}` is a {kw} step: write it as `{kw} {}`{also}",
                    step.value
                ));
            }
            let mut message = format!("unknown step `{written}`\n    closest known steps:");
            for c in closest(step.ty, &step.value, 3) {
                let example = c.def.example.lines().next().unwrap_or_default();
                message.push_str(&format!(
                    "\n      {} {}    e.g. `{} {example}`",
                    c.def.kind.keyword(),
                    c.def.template,
                    c.def.kind.keyword()
                ));
            }
            message.push_str("\n    (`callconf steps` lists them all)");
            Some(message)
        }
        many => {
            let mut message = format!("ambiguous step `{written}` matches:");
            for c in many {
                message.push_str(&format!(
                    "\n      {} {}",
                    c.def.kind.keyword(),
                    c.def.template
                ));
            }
            Some(message)
        }
    }
}

/// The `n` definitions whose example or template is nearest to `text` in edit distance; those
/// of the step's own keyword come first when they are about as near.
pub fn closest(ty: gherkin::StepType, text: &str, n: usize) -> Vec<&'static Compiled> {
    let text = text.to_lowercase();
    let mut scored: Vec<(usize, &'static Compiled)> = catalog::all()
        .iter()
        .map(|c| {
            let example = c
                .def
                .example
                .lines()
                .next()
                .unwrap_or_default()
                .to_lowercase();
            let template = c.def.template.to_lowercase();
            let d = strsim::levenshtein(&text, &example).min(strsim::levenshtein(&text, &template));
            let other_keyword = if c.def.kind.accepts(ty) { 0 } else { 4 };
            (d + other_keyword, c)
        })
        .collect();
    scored.sort_by_key(|(d, _)| *d);
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(ty: gherkin::StepType, keyword: &str, value: &str, doc: Option<&str>) -> gherkin::Step {
        gherkin::Step {
            keyword: keyword.into(),
            ty,
            value: value.into(),
            docstring: doc.map(str::to_owned),
            table: None,
            span: gherkin::Span { start: 0, end: 0 },
            position: gherkin::LineCol { line: 1, col: 1 },
        }
    }

    #[test]
    fn unknown_steps_get_the_closest_known_ones() {
        let s = step(gherkin::StepType::When, "When ", "bob/tablet acepts", None);
        let m = check_step(&s).expect("unknown");
        assert!(
            m.starts_with("unknown step `When bob/tablet acepts`"),
            "{m}"
        );
        let first = m.lines().nth(2).unwrap_or_default();
        assert!(first.contains("When <device> accepts"), "{m}");
    }

    #[test]
    fn wrong_keyword_and_bad_arguments_are_explained() {
        let s = step(gherkin::StepType::Then, "Then ", "bob accepts", None);
        let m = check_step(&s).expect("wrong keyword");
        assert!(m.contains("is a When step"), "{m}");
        let s = step(gherkin::StepType::Then, "Then ", "alice sees:", None);
        let m = check_step(&s).expect("no docstring");
        assert!(m.contains("needs a docstring"), "{m}");
        let s = step(gherkin::StepType::When, "When ", "3 fortnights pass", None);
        assert!(check_step(&s).is_some());
        let s = step(
            gherkin::StepType::Then,
            "Then ",
            "alice sees:",
            Some("call-1: bob ringing"),
        );
        assert_eq!(check_step(&s), None);
    }

    #[test]
    fn every_catalog_example_checks_clean() {
        for c in catalog::all() {
            let mut lines = c.def.example.lines();
            let first = lines.next().unwrap_or_default();
            let rest: Vec<&str> = lines.collect();
            let ty = match c.def.kind {
                catalog::Kind::Given => gherkin::StepType::Given,
                catalog::Kind::Operation => gherkin::StepType::When,
                catalog::Kind::Then => gherkin::StepType::Then,
            };
            let mut s = step(ty, c.def.kind.keyword(), first, None);
            if rest.first().is_some_and(|l| l.starts_with("\"\"\"")) {
                s.docstring = Some(rest[1..rest.len() - 1].join("\n"));
            } else if !rest.is_empty() {
                s.table = Some(gherkin::Table {
                    rows: rest
                        .iter()
                        .map(|l| {
                            l.trim()
                                .trim_matches('|')
                                .split('|')
                                .map(|c| c.trim().to_owned())
                                .collect()
                        })
                        .collect(),
                    span: gherkin::Span { start: 0, end: 0 },
                    position: gherkin::LineCol { line: 1, col: 1 },
                });
            }
            assert_eq!(check_step(&s), None, "{}", c.def.example);
        }
    }
}
