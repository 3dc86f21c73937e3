//! Against the reference server with the manual clock, the same command gives byte-identical
//! results, and of the manifest only the times (and the hashes of the files that show them)
//! differ.
//!
//! The transcripts are identical exchange for exchange but for one thing the system under test
//! itself decides: when several devices act at once (two invitees' devices acknowledging
//! ringing automatically), the server hears them in either order, and each device's events
//! record that order. The scenarios say so with `sees, in any order:`; this test allows exactly
//! that: a settle's events per device may be permuted, nothing else may differ.

use std::path::Path;

use serde_json::Value;

use super::{callconf, keypair, reference_adapter, scratch};

/// Each device's events of a settle line, sorted: the line up to the order of events.
fn unordered(line: &str) -> Value {
    let mut v: Value = serde_json::from_str(line).unwrap();
    if let Some(devices) = v["result"]["Ok"].as_object_mut() {
        for events in devices.values_mut() {
            if let Some(list) = events.as_array_mut() {
                list.sort_by_key(|e| e.to_string());
            }
        }
    }
    v
}

#[test]
fn two_runs_of_one_command_give_the_same_bundle_but_for_times_and_concurrent_order() {
    let root = scratch("determinism");
    let (key, _) = keypair(&root, "k");
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
    let mut bundles = Vec::new();
    for run in ["a", "b"] {
        let cwd = root.join(run);
        std::fs::create_dir_all(&cwd).unwrap();
        let (code, out) = callconf(
            &cwd,
            &[
                "certify",
                "--adapter",
                &reference_adapter(),
                "--features",
                features.to_str().unwrap(),
                "--out",
                "bundle",
                "--sign-key",
                key.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{out}");
        bundles.push(cwd.join("bundle"));
    }
    let [a, b] = [&bundles[0], &bundles[1]];
    for f in [
        "results/report.json",
        "results/junit.xml",
        "results/report.html",
    ] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between two runs");
    }
    let read = |d: &Path| std::fs::read_to_string(d.join("transcript.ndjson")).unwrap();
    let (ta, tb) = (read(a), read(b));
    let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
    assert_eq!(la.len(), lb.len(), "as many exchanges");
    let mut permuted = 0;
    for (x, y) in la.iter().zip(&lb) {
        if x != y {
            assert!(
                x.contains("\"call\":\"settle\""),
                "only settles differ:\n{x}\n{y}"
            );
            assert_eq!(unordered(x), unordered(y), "only in order:\n{x}\n{y}");
            permuted += 1;
        }
    }
    assert!(permuted * 20 < la.len(), "{permuted} of {} lines", la.len());

    let manifest = |d: &Path| {
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap())
                .unwrap();
        let times = ["started_at", "finished_at", "elapsed_ms"].map(|k| v[k].take());
        for f in ["README.md", "certificate.html", "transcript.ndjson"] {
            v["files"][f].take();
        }
        (v, times)
    };
    let ((ma, ta), (mb, tb)) = (manifest(a), manifest(b));
    assert_eq!(ma, mb);
    assert_ne!(ta, tb, "the times are the manifest's own");
}
