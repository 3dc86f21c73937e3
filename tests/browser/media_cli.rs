//! `callconf media --browser send|receive`: the call across the two stacks from the command
//! line, both ways, with its JSON report; a bad impairment is refused, naming the field.

use std::process::Command;

use crate::run;

fn media(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callconf"));
    cmd.arg("media")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn both_directions_run_from_the_cli_and_write_their_reports() {
    let _serial = crate::serial();
    let dir = std::env::temp_dir().join(format!("callconf-media-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (direction, frames) in [
        ("send", "/media/streams"),
        ("receive", "/window/frames_reported"),
    ] {
        let json = dir.join(format!("{direction}.json"));
        let json_arg = json.to_str().unwrap();
        let args = [
            "--browser",
            direction,
            "--seconds",
            "2",
            "--baseline-seconds",
            "1",
            "--json",
            json_arg,
        ];
        let (code, out) = run(media(&args));
        assert_eq!(code, 0, "{direction}:\n{out}");
        assert!(out.contains("measured"), "{direction}:\n{out}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let got = report
            .pointer(frames)
            .unwrap_or_else(|| panic!("{direction}: {report}"));
        let some = got
            .as_u64()
            .map_or_else(|| got.as_array().is_some_and(|a| !a.is_empty()), |n| n > 0);
        assert!(some, "{direction}: {frames} is {got}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_impairment_is_refused_naming_the_field() {
    let (code, out) = run(media(&["--browser", "receive", "--loss-pct", "150"]));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("invalid `loss_pct`: 150"), "{out}");
}
