//! Every shipped scenario loads; the smoke scenario meets its own thresholds.

use callconf::scenario;
use callconf::sim::Shard;

use crate::run;

#[test]
fn every_shipped_scenario_loads() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    for required in [
        "contact_centre_burst",
        "flaky_mobile",
        "group_heavy",
        "million",
        "office_day",
        "smoke",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "missing scenarios/{required}.yaml"
        );
    }
}

#[test]
fn smoke_passes_its_thresholds() {
    let sc = scenario::load(std::path::Path::new("scenarios/smoke.yaml")).unwrap();
    let r = run(&sc, sc.seed, Shard::WHOLE, 2);
    assert!(r.passed, "{}", callconf::report::summary(&r));
    assert_eq!(r.calls.started, 2000);
}

#[test]
fn a_failed_threshold_fails_the_report() {
    let mut sc = crate::small();
    sc.thresholds = vec![callconf::scenario::Threshold {
        metric: "setup_ms.p50".into(),
        min: None,
        max: Some(1.0),
    }];
    let r = run(&sc, 7, Shard::WHOLE, 1);
    assert!(!r.passed);
    assert!(!r.thresholds[0].passed);
    assert!(r.thresholds[0].value > 1.0);
}
