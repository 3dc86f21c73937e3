//! A browser that is not there is a clear error before any scenario runs, not a pass.

use super::{certify_cmd, run, scratch};

#[test]
fn a_missing_browser_ends_certify_with_an_error_that_names_it() {
    let tmp = scratch("missing");
    let mut cmd = certify_cmd(&["--adapter", "web", "--tags", "@status"], &tmp);
    cmd.env("CALLCONF_CHROMIUM", tmp.join("no-such-chromium"));
    let (code, out) = run(cmd);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cannot start the system under test"), "{out}");
    assert!(out.contains("CALLCONF_CHROMIUM names"), "{out}");
    assert!(!out.contains("verdict:"), "no scenario ran\n{out}");
}
