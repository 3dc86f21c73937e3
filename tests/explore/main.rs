//! `callconf explore` as a vendor runs it: generated cases against devices behind an adapter
//! (the reference adapter, the Python template) and a `callconf serve --clock manual` that
//! explore starts itself, and against the reference in process.
//!
//! - `faults`: every deliberate bug the server can be started with is found, shrunk to a few
//!   steps, and written as a feature that fails against that server and passes against a
//!   correct one;
//! - `clean`: against a correct server, every case passes, through both adapters;
//! - `limits`: the time budget, and coded errors for adapters that cannot be explored;
//! - `replay`: the same seed gives the same cases and the same report;
//! - `profiles`: under each dialect, only its operations and its rules; a failure written as a
//!   feature of that dialect;
//! - `matter`: the reference emulating one dialect disagrees with the model of another;
//! - `real_time`: against an adapter whose clock cannot be driven, time really passes.

mod clean;
mod faults;
mod limits;
mod matter;
mod profiles;
mod real_time;
mod replay;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `callconf SUBCOMMAND ARGS` from the project's root; its exit code and output.
pub fn callconf(args: &[&str]) -> (i32, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_callconf"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("callconf runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The reference adapter's command line.
pub fn reference_adapter() -> String {
    format!("{} adapter", env!("CARGO_BIN_EXE_callconf"))
}

/// The number before `word` on the report line that has it: `100 cases, …` → 100.
pub fn count_before(out: &str, word: &str) -> Option<u64> {
    out.lines().find_map(|l| {
        let words: Vec<&str> = l.split([' ', ',']).filter(|w| !w.is_empty()).collect();
        words
            .windows(2)
            .find(|w| w[1] == word)
            .and_then(|w| w[0].parse().ok())
    })
}

/// A fresh, empty directory under the target dir for one test's files.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
