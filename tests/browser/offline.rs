//! Nothing leaves loopback: a certification through Chromium inside a network namespace that
//! has only `lo` (`unshare -n`), where any packet for another address fails. It needs root (CI
//! runs as root); without root the test fails and says so.

use super::{certify_cmd, count, in_process_passed, run, scratch};

#[test]
fn a_browser_certification_passes_with_only_loopback() {
    let _serial = crate::serial();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root,
        "this test runs certify in a network namespace (unshare -n) and needs root; run it as \
         root (CI does)"
    );
    let expected = in_process_passed();
    let tmp = scratch("offline");
    let inner = certify_cmd(&["--adapter", "web", "--profile", "canonical"], &tmp);
    // The same command, inside a namespace of its own with loopback up and nothing else.
    let mut words = vec![inner.get_program().to_string_lossy().into_owned()];
    words.extend(inner.get_args().map(|a| a.to_string_lossy().into_owned()));
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "ip link set lo up && test \"$(ip -o link | wc -l)\" = 1 && exec {}",
        quoted.join(" ")
    );
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-n", "sh", "-c", &script])
        .env("TMPDIR", &*tmp)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    let (code, out) = run(cmd);
    assert_eq!(code, 0, "{out}");
    assert_eq!(count(&out, "passed"), expected, "{out}");
}
