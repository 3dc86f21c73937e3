//! The WebSocket transport of the driver protocol: with `--adapter-listen`, certify listens,
//! starts the adapter with the URL to dial in `CALLCONF_DRIVER_URL`, and the reference
//! adapter, dialing in instead of using its standard input and output, passes the suite.

use super::{certify, passed, reference_adapter};

#[test]
fn the_reference_adapter_dialing_in_passes_the_canonical_suite() {
    let (code, expected) = certify(&[]);
    assert_eq!(code, 0, "{expected}");
    let adapter = reference_adapter();
    let (code, out) = certify(&["--adapter", &adapter, "--adapter-listen", "127.0.0.1:0"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(passed(&out), passed(&expected), "{out}");
}

#[test]
fn an_adapter_that_never_dials_in_is_an_error_before_any_scenario() {
    // `true` exits at once without dialing: certify says so instead of waiting out the deadline.
    let (code, out) = certify(&["--adapter", "true", "--adapter-listen", "127.0.0.1:0"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("before dialing in"), "{out}");
}
