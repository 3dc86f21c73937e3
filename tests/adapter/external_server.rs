//! `certify --server URL --admin URL --admin-token-file F`: the suite against a `callconf
//! serve` that someone else started, which certify resets before each scenario and leaves
//! running.

use std::io::BufRead;
use std::process::{Command, Stdio};

use super::{certify, reference_adapter};

#[test]
fn certify_drives_a_server_it_did_not_start_and_leaves_it_running() {
    let dir = std::env::temp_dir().join(format!("callconf-external-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("admin.token");
    std::fs::write(&token_file, "external-admin-secret-1234\n").unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_callconf"))
        .args(["serve", "--listen", "127.0.0.1:0", "--clock", "manual"])
        .arg("--admin-token-file")
        .arg(&token_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    std::io::BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let word_after = |key: &str| {
        let mut it = banner.split_whitespace();
        it.find(|w| *w == key).and(it.next()).unwrap().to_owned()
    };
    let (devices, admin) = (word_after("devices"), word_after("admin"));
    let adapter = reference_adapter();
    let run = || {
        certify(&[
            "--adapter",
            &adapter,
            "--server",
            &devices,
            "--admin",
            &admin,
            "--admin-token-file",
            token_file.to_str().unwrap(),
            "--features",
            "features/decline.feature",
        ])
    };

    let (code, out) = run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verdict: PASS — 14 passed"), "{out}");
    assert!(serve.try_wait().unwrap().is_none(), "the server still runs");

    // A wrong admin token is refused before any scenario runs.
    std::fs::write(&token_file, "not-the-token").unwrap();
    let (code, out) = run();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cannot start the system under test"), "{out}");
    let _ = serve.kill();
    let _ = serve.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
