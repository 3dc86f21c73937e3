//! Malformed scenarios give file:line:column and what is wrong, with the valid alternatives.

use callconf::scenario::{ScenarioErrorKind, parse};

const GOOD: &str = "name: t
population:
  users: 100
  cells: 2
calls:
  total: 10
  arrival: { kind: constant, rate_per_s: 5 }
callee:
  answer: 0.5
  decline: 0.2
  no_answer: 0.2
  busy: 0.1
thresholds:
  - metric: setup_ms.p99
    max: 300
";

fn err(text: &str) -> callconf::scenario::ScenarioError {
    parse(text, "t.yaml").expect_err("should be refused")
}

#[test]
fn the_good_one_parses() {
    parse(GOOD, "t.yaml").unwrap();
}

#[test]
fn unknown_key_names_the_position_and_the_valid_keys() {
    let e = err(&GOOD.replace("  cells: 2", "  cels: 2"));
    assert_eq!(e.kind, ScenarioErrorKind::Syntax);
    assert_eq!((e.line, e.column), (4, 3), "{e}");
    assert!(e.message.contains("unknown field `cels`"), "{e}");
    assert!(e.message.contains("cells"), "lists the valid keys: {e}");
    assert!(e.to_string().starts_with("t.yaml:4:3: "), "{e}");
}

#[test]
fn wrong_type_names_the_position() {
    let e = err(&GOOD.replace("users: 100", "users: many"));
    assert_eq!(e.kind, ScenarioErrorKind::Syntax);
    assert_eq!(e.line, 3, "{e}");
}

#[test]
fn probabilities_that_do_not_sum_to_one() {
    let e = err(&GOOD.replace("busy: 0.1", "busy: 0.3"));
    assert_eq!(e.kind, ScenarioErrorKind::Invalid);
    assert_eq!((e.line, e.column), (8, 1), "points at `callee`: {e}");
    assert!(e.message.contains("must sum to 1"), "{e}");
}

#[test]
fn negative_rate() {
    let e = err(&GOOD.replace("rate_per_s: 5", "rate_per_s: -5"));
    assert_eq!(e.kind, ScenarioErrorKind::Invalid);
    assert_eq!(e.line, 7, "{e}");
    assert!(e.message.contains("calls.arrival.rate_per_s"), "{e}");
}

#[test]
fn threshold_on_an_unknown_metric_lists_the_valid_ones() {
    let e = err(&GOOD.replace("metric: setup_ms.p99", "metric: setup_ms.p98"));
    assert_eq!(e.kind, ScenarioErrorKind::Invalid);
    assert_eq!((e.line, e.column), (14, 5), "{e}");
    assert!(e.message.contains("unknown metric \"setup_ms.p98\""), "{e}");
    assert!(e.message.contains("setup_ms.p99"), "{e}");
}

#[test]
fn unknown_distribution_and_arrival_kinds() {
    let e = err(&GOOD.replace("kind: constant", "kind: bursty"));
    assert!(e.message.contains("unknown variant `bursty`"), "{e}");
    assert!(e.message.contains("poisson"), "lists the valid kinds: {e}");
}

#[test]
fn too_few_users_for_the_cells() {
    let e = err(&GOOD.replace("users: 100", "users: 4"));
    assert_eq!(e.kind, ScenarioErrorKind::Invalid);
    assert_eq!(e.line, 3, "{e}");
}

#[test]
fn not_yaml_at_all() {
    let e = err("name: [unclosed\n");
    assert_eq!(e.kind, ScenarioErrorKind::Syntax);
    assert!(e.line >= 1);
}

#[test]
fn files_are_named_in_errors() {
    let e = callconf::scenario::load(std::path::Path::new("fixtures/scenarios/unknown_key.yaml"))
        .unwrap_err();
    assert_eq!(e.file, "fixtures/scenarios/unknown_key.yaml");
    assert_eq!((e.line, e.column), (8, 3), "{e}");
    assert!(
        e.message.contains("concurrent_max"),
        "suggests the valid key: {e}"
    );
    let e = callconf::scenario::load(std::path::Path::new("fixtures/scenarios/bad_sum.yaml"))
        .unwrap_err();
    assert_eq!(
        e.to_string().split(": ").next(),
        Some("fixtures/scenarios/bad_sum.yaml:8:1"),
        "{e}"
    );
    assert!(e.message.contains("answer 0.9 + decline 0.2"), "{e}");
}
