//! Parsers never panic, continued: the Gherkin side (`callconf::conformance`). Feature files and
//! step arguments are made from the step catalog's own examples, mutated: every definition a step
//! matches parses its arguments to an action or an error message, never a panic; a whole feature
//! file parses to a feature or to problems that name a line inside the file. Tag expressions
//! take arbitrary text.

use callconf::conformance::{catalog, features, runner};
use cucumber::gherkin::{Feature, GherkinEnv};
use proptest::prelude::*;

use crate::config;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/prop/steps.txt"
);

/// Every example of the catalog, keyword first, with its docstring or table lines.
fn examples() -> Vec<String> {
    catalog::all()
        .iter()
        .map(|c| format!("{} {}", c.def.kind.keyword(), c.def.example))
        .collect()
}

/// A step from an example: words replaced by arbitrary text, or characters inserted.
fn step_text() -> impl Strategy<Value = String> {
    let junk = prop_oneof![
        ".{0,12}",
        "[0-9]{1,25}",
        Just("-1".to_owned()),
        Just("1e999".to_owned()),
        Just("call-18446744073709551616".to_owned()),
        Just("\"".to_owned()),
        Just("|".to_owned()),
        Just("<x>".to_owned()),
    ];
    (
        any::<prop::sample::Index>(),
        prop::collection::vec((any::<prop::sample::Index>(), junk, any::<bool>()), 0..4),
    )
        .prop_map(|(which, edits)| {
            let all = examples();
            let example = which.get(&all).clone();
            let mut lines: Vec<String> = example.lines().map(str::to_owned).collect();
            let mut words: Vec<String> = lines[0].split(' ').map(str::to_owned).collect();
            for (at, junk, replace) in edits {
                // The keyword stays, so the step still reaches its definitions.
                let i = 1 + at.index(words.len().max(2) - 1);
                if replace && i < words.len() {
                    words[i] = junk;
                } else {
                    words.insert(i.min(words.len()), junk);
                }
            }
            lines[0] = words.join(" ");
            lines.join("\n")
        })
}

fn feature(steps: &[String]) -> String {
    let mut text = String::from("Feature: fuzz\n\n  Scenario: fuzz\n");
    for s in steps {
        for line in s.lines() {
            text.push_str("    ");
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

proptest! {
    #![proptest_config(config(256, REGRESSIONS))]

    #[test]
    fn step_arguments_never_panic(steps in prop::collection::vec(step_text(), 1..5)) {
        let text = feature(&steps);
        let Ok(parsed) = Feature::parse(&text, GherkinEnv::default()) else {
            return Ok(());
        };
        for scenario in &parsed.scenarios {
            for step in &scenario.steps {
                for c in catalog::matches(step.ty, &step.value) {
                    let _ = catalog::parse(c, step);
                }
                let _ = catalog::matches_any_keyword(&step.value);
            }
        }
    }

    #[test]
    fn feature_files_never_panic(
        steps in prop::collection::vec(step_text(), 0..4),
        cut in any::<prop::sample::Index>(),
        junk in ".{0,40}",
    ) {
        let mut text = feature(&steps);
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, &junk);
        let dir = std::env::temp_dir().join(format!("callconf-prop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join(format!("{:?}.feature", std::thread::current().id()).replace(['(', ')'], ""));
        std::fs::write(&path, &text).expect("written");
        let result = features::parse(&path);
        let _ = std::fs::remove_file(&path);
        // Only this test writes here, one case at a time: the directory is empty again.
        let _ = std::fs::remove_dir(&dir);
        if let Err(problems) = result {
            let lines = text.lines().count() + 1;
            for p in problems {
                prop_assert!(p.line <= lines, "line {} of {}: {}", p.line, lines, p.message);
            }
        }
    }

    #[test]
    fn tag_expressions_never_panic(expr in "[@a-z()!&| ]{0,30}|.{0,30}") {
        let _ = runner::parse_tags(&expr);
    }
}
