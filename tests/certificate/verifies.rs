//! A bundle of the canonical suite through the reference adapter verifies, pinned to its
//! signer's key or not; its certificate page and README say what was certified.

use super::{certified, scratch, verify};

#[test]
fn a_bundle_from_the_reference_adapter_verifies_and_re_grades_every_scenario() {
    let (bundle, _, public) = certified();
    let (code, out) = verify(bundle, Some(public));
    assert_eq!(code, 0, "{out}");
    // Every scenario of the canonical suite passes but the probe, which under the canonical
    // dialect (lacking nothing) is unimplemented, the known bug and the 9 scenarios of rules
    // the canonical dialect has not (skipped).
    assert!(
        out.contains("347 scenarios re-graded from the transcript, 336 passed"),
        "{out}"
    );
    let (code, out) = verify(bundle, None);
    assert_eq!(code, 0, "{out}");

    let page = std::fs::read_to_string(bundle.join("certificate.html")).unwrap();
    assert!(page.contains("callconf-wire-client"), "{page}");
    assert!(page.contains("callconf verify"));
    let readme = std::fs::read_to_string(bundle.join("README.md")).unwrap();
    assert!(
        readme.contains("--adapter"),
        "the command that reproduces it: {readme}"
    );
    let manifest = std::fs::read_to_string(bundle.join("manifest.json")).unwrap();
    assert!(
        !manifest.contains("\"token\""),
        "no secrets in the manifest"
    );
}

#[test]
fn keygen_keeps_the_private_key_to_its_owner_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch("keygen");
    let (prefix, public) = super::keypair(&dir, "k");
    let mode = std::fs::metadata(&prefix).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "private key mode {mode:o}");
    assert_eq!(std::fs::read_to_string(&public).unwrap().trim().len(), 64);
    let (code, out) = super::callconf(&dir, &["keygen", "--out", prefix.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("error 1300"), "{out}");
}
