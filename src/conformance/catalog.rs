//! The step vocabulary: every step definition with its pattern, a readable template, one example
//! and a line of help. This table is the single source of truth: the cucumber runner registers
//! its patterns, the checker matches feature files against it, and `callconf steps` prints it.

use std::fmt::Write as _;
use std::sync::LazyLock;

use cucumber::gherkin;
use regex::{Captures, Regex};

use super::action::Action;
use super::steps;

/// Which Gherkin keyword a step definition answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sets up users, devices, groups, plans and limits.
    Given,
    /// An operation or the passing of time. Written with `When` it is under test: what it causes
    /// must be checked. Written with `Given` it sets the stage: it must succeed, and the events it
    /// causes are taken as seen.
    Operation,
    /// An expectation.
    Then,
}

impl Kind {
    /// Whether a step written with `ty` can use a definition of this kind.
    pub fn accepts(self, ty: gherkin::StepType) -> bool {
        matches!(
            (self, ty),
            (Kind::Given, gherkin::StepType::Given)
                | (
                    Kind::Operation,
                    gherkin::StepType::Given | gherkin::StepType::When
                )
                | (Kind::Then, gherkin::StepType::Then)
        )
    }

    /// The keyword the catalog shows for this kind.
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Given => "Given",
            Kind::Operation => "When",
            Kind::Then => "Then",
        }
    }
}

/// What a step's text, docstring and table hold.
pub struct Args<'a> {
    caps: Captures<'a>,
    pub docstring: Option<&'a str>,
    pub table: Option<&'a gherkin::Table>,
}

impl<'a> Args<'a> {
    pub fn new(
        caps: Captures<'a>,
        docstring: Option<&'a str>,
        table: Option<&'a gherkin::Table>,
    ) -> Self {
        Self {
            caps,
            docstring,
            table,
        }
    }

    /// A named capture, if it took part in the match.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.caps.name(name).map(|m| m.as_str())
    }

    /// A named capture that the pattern always fills.
    pub fn req(&self, name: &str) -> &'a str {
        self.get(name).unwrap_or_default()
    }
}

/// Parses a matched step into what it does, or says what is wrong with its arguments.
pub type ParseFn = fn(&Args<'_>) -> Result<Action, String>;

/// One step definition.
pub struct StepDef {
    pub kind: Kind,
    /// Anchored regular expression matched against the step text (after the keyword).
    pub pattern: &'static str,
    /// The pattern for people: `<device> accepts [the call | call-N]`.
    pub template: &'static str,
    /// One example; a docstring or table follows on the next lines when the step takes one.
    pub example: &'static str,
    pub help: &'static str,
    pub parse: ParseFn,
}

/// A step definition with its compiled pattern.
pub struct Compiled {
    pub def: StepDef,
    pub regex: Regex,
}

static CATALOG: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    steps::all()
        .into_iter()
        .map(|def| Compiled {
            // The patterns are constants of this crate; the catalog's own test compiles them all.
            regex: Regex::new(def.pattern).expect("step patterns are valid regexes"),
            def,
        })
        .collect()
});

/// Every step definition, in catalog order.
pub fn all() -> &'static [Compiled] {
    &CATALOG
}

/// The definitions of keyword `ty` that match `text`.
pub fn matches(ty: gherkin::StepType, text: &str) -> Vec<&'static Compiled> {
    all()
        .iter()
        .filter(|c| c.def.kind.accepts(ty) && c.regex.is_match(text))
        .collect()
}

/// The definitions of any keyword that match `text` (for "this is a When step" hints).
pub fn matches_any_keyword(text: &str) -> Vec<&'static Compiled> {
    all().iter().filter(|c| c.regex.is_match(text)).collect()
}

/// Parses a step against the one definition it matches.
pub fn parse(compiled: &'static Compiled, step: &gherkin::Step) -> Result<Action, String> {
    let caps = compiled.regex.captures(&step.value).ok_or_else(|| {
        format!(
            "`{}` does not match `{}`",
            step.value, compiled.def.template
        )
    })?;
    let args = Args::new(caps, step.docstring.as_deref(), step.table.as_ref());
    (compiled.def.parse)(&args)
}

/// The catalog as `callconf steps` prints it.
pub fn render() -> String {
    let mut out = String::new();
    let sections = [
        (
            Kind::Given,
            "GIVEN: the world (users, devices, groups, plans, limits)",
        ),
        (
            Kind::Operation,
            "WHEN: operations and time. Written with `Given` instead, an operation sets the stage:\n\
             it must succeed and the events it causes are taken as seen. Written with `When`, it is\n\
             under test: a refusal must be checked by the next step (`Then it fails with …`), and\n\
             every event it causes must be checked by a `Then … sees` step.",
        ),
        (
            Kind::Then,
            "THEN: expectations. `sees` compares, exactly and in order, the events a device received\n\
             since its previous check. Every scenario ends with an implicit\n\
             `Then every event has been checked`: an event no step checked fails the scenario.",
        ),
    ];
    let _ = writeln!(
        out,
        "callconf step catalog: {} steps. Devices are named `alice` (alice's first device) or\n\
         `alice/tablet`; calls are `the call` (the one placed last) or `call-N` as events name them;\n\
         lists read `alice, bob and carol`; durations read `31 seconds`, `500 ms`, `1 minute`, `2 hours`.\n",
        all().len()
    );
    for (kind, title) in sections {
        let _ = writeln!(out, "{title}\n");
        for c in all().iter().filter(|c| c.def.kind == kind) {
            let _ = writeln!(out, "  {} {}", kind.keyword(), c.def.template);
            let _ = writeln!(out, "      {}", c.def.help);
            let mut lines = c.def.example.lines();
            if let Some(first) = lines.next() {
                let _ = writeln!(out, "      e.g. {} {first}", kind.keyword());
            }
            for line in lines {
                let _ = writeln!(out, "             {line}");
            }
            let _ = writeln!(out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_matches_its_own_definition_and_only_it() {
        for c in all() {
            let first = c.def.example.lines().next().unwrap_or_default();
            let ty = match c.def.kind {
                Kind::Given => gherkin::StepType::Given,
                Kind::Operation => gherkin::StepType::When,
                Kind::Then => gherkin::StepType::Then,
            };
            let found = matches(ty, first);
            assert_eq!(
                found.len(),
                1,
                "{first:?} matches {} definitions",
                found.len()
            );
            assert!(
                std::ptr::eq(found[0], c),
                "{first:?} matches another definition"
            );
        }
    }
}
