//! Against a correct server every generated case agrees with the model, through the reference
//! adapter, the Python template adapter and the web adapter in headless Chromium; and in process.

use crate::{callconf, count_before, reference_adapter};

fn passes(adapter: Option<&str>, cases: &str) {
    let mut args = vec!["explore", "--seed", "11", "--cases", cases, "--quiet"];
    if let Some(a) = adapter {
        args.extend(["--adapter", a]);
    }
    let (code, out) = callconf(&args);
    assert_eq!(code, 0, "a case failed against a correct system:\n{out}");
    assert!(out.contains("no failure"), "{out}");
    let report = out
        .lines()
        .find(|l| l.contains("cases/s"))
        .unwrap_or_default();
    assert_eq!(
        count_before(report, "cases").map(|n| n.to_string()),
        Some(cases.to_owned()),
        "not every case ran:\n{out}"
    );
    println!("{out}");
}

#[test]
fn the_reference_adapter_agrees_with_the_model() {
    passes(Some(&reference_adapter()), "100");
}

#[test]
fn the_python_adapter_agrees_with_the_model() {
    passes(Some("python3 adapters/python/adapter.py"), "30");
}

#[test]
fn the_reference_in_process_agrees_with_the_model() {
    passes(None, "500");
}

#[test]
fn the_web_adapter_in_chromium_agrees_with_the_model() {
    passes(Some("web"), "20");
}
