//! Every way of tampering with a bundle is caught, with its reason: edits after signing (the
//! hashes), edits re-signed by the signer (the re-grade from the transcript), a changed suite, a
//! changed profile, files added or removed, and another signer's key.

use std::path::Path;

use super::{certified, copy_of_certified, keypair, resign, scratch, verify};

fn refused(bundle: &Path, public: Option<&Path>, code: &str, reason: &str) {
    let (exit, out) = verify(bundle, public);
    assert_eq!(exit, 1, "{out}");
    assert!(
        out.contains(&format!("error {code}")),
        "expected {code}: {out}"
    );
    assert!(out.contains(reason), "expected `{reason}` in: {out}");
}

/// Replaces the first `from` in the file (every one, with `all`).
fn edit_n(path: &Path, from: &str, to: &str, all: bool) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    let n = if all { usize::MAX } else { 1 };
    std::fs::write(path, text.replacen(from, to, n)).unwrap();
}

fn edit(path: &Path, from: &str, to: &str) {
    edit_n(path, from, to, false);
}

#[test]
fn an_edited_verdict_is_caught_by_its_hash_and_when_re_signed_by_the_re_grade() {
    let (_, key, _) = certified();
    let b = copy_of_certified("verdict");
    edit(
        &b.join("results/report.json"),
        "\"verdict\": \"passed\"",
        "\"verdict\": \"failed\"",
    );
    refused(&b, None, "1304", "results/report.json was changed");
    // The honest bundle has no failed verdict to flip; flip a passed one and re-sign.
    let b = copy_of_certified("verdict-resigned");
    edit(
        &b.join("results/report.json"),
        "\"verdict\": \"passed\"",
        "\"verdict\": \"unimplemented\"",
    );
    resign(&b, key);
    refused(
        &b,
        None,
        "1306",
        "the results say unimplemented, the transcript gives passed",
    );
}

#[test]
fn a_removed_or_altered_transcript_line_is_caught() {
    let (_, key, _) = certified();
    let b = copy_of_certified("line-removed");
    let path = b.join("transcript.ndjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(40);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    refused(&b, None, "1304", "transcript.ndjson was changed");
    resign(&b, key);
    refused(&b, None, "1306", "re-grade");

    // Events the SDK never raised, written into the recording and re-signed. (An event no
    // step checks, such as one a `Given` caused, does not change a verdict; these do.)
    let b = copy_of_certified("line-altered");
    edit_n(
        &b.join("transcript.ndjson"),
        "\"status\":\"ringing\"",
        "\"status\":\"connected\"",
        true,
    );
    resign(&b, key);
    refused(
        &b,
        None,
        "1306",
        "the results say passed, the transcript gives failed",
    );
}

#[test]
fn a_changed_feature_file_is_not_this_builds_suite() {
    let (_, key, _) = certified();
    let b = copy_of_certified("feature");
    edit(
        &b.join("suite/0/hold.feature"),
        "Then it fails with 422",
        "Then it fails with 409",
    );
    refused(&b, None, "1304", "suite/0/hold.feature was changed");
    resign(&b, key);
    // The manifest still names the old suite hash.
    refused(&b, None, "1305", "the bundled features hash to");
}

#[test]
fn a_swapped_profile_or_any_manifest_edit_breaks_the_signature() {
    let b = copy_of_certified("profile");
    edit(
        &b.join("manifest.json"),
        "\"name\": \"canonical\"",
        "\"name\": \"stringee\"",
    );
    refused(&b, None, "1303", "does not verify");
}

#[test]
fn a_file_added_or_removed_is_caught() {
    let b = copy_of_certified("added");
    std::fs::write(b.join("results/extra.txt"), "more").unwrap();
    refused(&b, None, "1304", "results/extra.txt is not in the manifest");
    let b = copy_of_certified("removed");
    std::fs::remove_file(b.join("results/junit.xml")).unwrap();
    refused(&b, None, "1304", "results/junit.xml is missing");
}

#[test]
fn a_bundle_signed_with_another_key_fails_against_the_pinned_key() {
    let (_, _, public) = certified();
    let b = copy_of_certified("other-key");
    let (mallory, _) = keypair(&scratch("mallory"), "mallory");
    resign(&b, &mallory);
    // Alone it is a valid signature, by mallory; pinned to the vendor's key it is refused.
    assert_eq!(verify(&b, None).0, 0);
    refused(&b, Some(public), "1303", "not by the key in");
}

#[test]
fn a_swapped_profile_file_is_caught_even_when_re_signed() {
    let (_, key, _) = certified();
    let b = copy_of_certified("profile-file");
    let stringee = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/stringee.yaml"),
    )
    .unwrap();
    std::fs::write(b.join("profile.yaml"), stringee).unwrap();
    refused(&b, None, "1304", "profile.yaml was changed");
    resign(&b, key);
    // The manifest still names the canonical profile's hash.
    refused(&b, None, "1309", "profile.yaml hashes to");
}
