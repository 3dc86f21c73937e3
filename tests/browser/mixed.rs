//! Mixed devices: with `--adapter-for 'bob=callconf adapter'`, bob's devices are the reference
//! adapter's and everyone else's live in Chromium; the suite passes across the two clients.

use super::{certify_cmd, count, in_process_passed, run, scratch};

#[test]
fn the_suite_passes_with_bob_in_the_reference_adapter_and_the_rest_in_chromium() {
    let _serial = crate::serial();
    let expected = in_process_passed();
    let tmp = scratch("mixed");
    let reference = format!("bob={} adapter", env!("CARGO_BIN_EXE_callconf"));
    let (code, out) = run(certify_cmd(
        &["--adapter", "web", "--adapter-for", &reference],
        &tmp,
    ));
    assert_eq!(code, 0, "{out}");
    assert_eq!(count(&out, "passed"), expected, "{out}");
    assert!(
        out.contains("through callconf-web-adapter + callconf-reference-adapter"),
        "both adapters run, named in the report\n{out}"
    );
}
