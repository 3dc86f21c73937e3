//! The web adapter passes every scenario the in-process run passes.

use super::{certify_cmd, count, in_process_passed, run, scratch};

#[test]
fn the_web_adapter_passes_the_canonical_suite_in_chromium() {
    let _serial = crate::serial();
    let expected = in_process_passed();
    let tmp = scratch("suite");
    let (code, out) = run(certify_cmd(
        &["--adapter", "web", "--profile", "canonical"],
        &tmp,
    ));
    assert_eq!(code, 0, "{out}");
    assert_eq!(count(&out, "passed"), expected, "{out}");
    assert!(
        out.contains("callconf-wire-js 1 through callconf-web-adapter"),
        "the report names the page's SDK and adapter\n{out}"
    );
}
