//! Certificates: `certify --out` bundles from the reference adapter verify with `callconf
//! verify`, which re-grades them from the transcript alone; every kind of tampering is caught
//! with its reason; two runs against the manual clock give byte-identical bundles but for the
//! manifest's times.

mod determinism;
mod tampering;
mod verifies;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "callconf-cert-{}-{name}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `callconf ARGS` in `cwd`; its exit code and output.
pub fn callconf(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_callconf"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("callconf runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

pub fn reference_adapter() -> String {
    format!("{} adapter", env!("CARGO_BIN_EXE_callconf"))
}

/// A key pair in `dir`: (private prefix, public file).
pub fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    let (code, out) = callconf(dir, &["keygen", "--out", prefix.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let public = callconf::certificate::keys::public_path(&prefix);
    (prefix, public)
}

/// One certified bundle of the whole canonical suite through the reference adapter, made once
/// per test run: (bundle, private key prefix, public key file).
pub fn certified() -> &'static (PathBuf, PathBuf, PathBuf) {
    static BUNDLE: OnceLock<(PathBuf, PathBuf, PathBuf)> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dir = scratch("base");
        let (key, public) = keypair(&dir, "vendor");
        let bundle = dir.join("bundle");
        let (code, out) = callconf(
            Path::new(env!("CARGO_MANIFEST_DIR")),
            &[
                "certify",
                "--adapter",
                &reference_adapter(),
                "--out",
                bundle.to_str().unwrap(),
                "--sign-key",
                key.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{out}");
        (bundle, key, public)
    })
}

/// A copy of the certified bundle to tamper with.
pub fn copy_of_certified(name: &str) -> PathBuf {
    let (bundle, _, _) = certified();
    let to = scratch(name).join("bundle");
    copy_dir(bundle, &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// `callconf verify BUNDLE [--public-key KEY]`: exit code and output.
pub fn verify(bundle: &Path, public: Option<&Path>) -> (i32, String) {
    let mut args = vec!["verify", bundle.to_str().unwrap()];
    if let Some(p) = public {
        args.extend(["--public-key", p.to_str().unwrap()]);
    }
    callconf(bundle.parent().unwrap(), &args)
}

/// What a dishonest signer does after editing a bundle: recompute every hash in the manifest
/// and sign it again with `key`.
pub fn resign(bundle: &Path, key: &Path) {
    use callconf::certificate::{bundle as b, keys, manifest::Manifest};
    let path = bundle.join(b::MANIFEST);
    let mut m: Manifest = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    m.files = b::hashes(bundle).unwrap();
    let signer = keys::read_private(key).unwrap();
    m.signer_public_key = hex_of(&signer);
    let text = serde_json::to_string_pretty(&m).unwrap() + "\n";
    std::fs::write(&path, &text).unwrap();
    std::fs::write(
        bundle.join(b::SIGNATURE),
        keys::sign(&signer, text.as_bytes()),
    )
    .unwrap();
}

fn hex_of(key: &ed25519_dalek::SigningKey) -> String {
    key.verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
