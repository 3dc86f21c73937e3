//! A population file the server cannot use stops `serve` before it listens, with a coded error
//! naming file:line:column and, for an unknown key, the valid ones.

use std::process::Command;

use super::common::fixture;

fn serve_with(population: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_callconf"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--population",
            population,
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_key_names_its_place_and_the_valid_keys() {
    let file = fixture("bad_unknown_key.yaml");
    let (code, err) = serve_with(&file);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error 932"), "{err}");
    assert!(err.contains(&format!("{file}:6:")), "{err}");
    assert!(err.contains("unknown field `tokn`"), "{err}");
    assert!(
        err.contains("expected") && err.contains("`label`") && err.contains("`token`"),
        "{err}"
    );
}

#[test]
fn a_duplicate_user_names_the_second_entry() {
    let file = fixture("bad_duplicate_user.yaml");
    let (code, err) = serve_with(&file);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error 933"), "{err}");
    assert!(err.contains(&format!("{file}:5:5")), "{err}");
    assert!(
        err.contains("users[2].name") && err.contains("already exists"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_931() {
    let (code, err) = serve_with("/nonexistent/pop.yaml");
    assert_eq!(code, 2);
    assert!(err.contains("error 931"), "{err}");
}
