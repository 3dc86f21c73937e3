//! The Gherkin conformance suite under `cargo test` (`harness = false`): runs every scenario of
//! `features/` against the reference implementation in virtual time, checks each scenario's full
//! trace against its committed insta snapshot (`tests/snapshots/`, times and call ids redacted),
//! and prints libtest-style lines ending with the `test result:` line CI recognises.
//!
//! Arguments, as cargo passes them: a name filter (`cargo test --test conformance hold`),
//! `--tags EXPR`, `--list`, `--include-ignored` (also runs `@known-bug` scenarios); other libtest
//! flags are accepted and ignored. Update snapshots with `INSTA_UPDATE=always cargo test --test
//! conformance`; with `CI=true` a missing or different snapshot fails. `CALLCONF_SKIP_SNAPSHOTS=1`
//! skips the snapshot check (for a quick run of a subset while writing features).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::ExitCode;

use callconf::conformance::report::{Verdict, libtest};
use callconf::conformance::{self, RunOptions, trace};

struct Args {
    filter: Option<String>,
    quiet: bool,
    tags: Option<String>,
    list: bool,
    include_ignored: bool,
}

fn args() -> Args {
    let mut out = Args {
        filter: None,
        quiet: false,
        tags: None,
        list: false,
        include_ignored: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tags" => out.tags = it.next(),
            "--list" => out.list = true,
            "--include-ignored" | "--ignored" => out.include_ignored = true,
            "-q" | "--quiet" => out.quiet = true,
            // libtest flags that take a value.
            "--test-threads" | "--skip" | "--format" | "--color" | "-Z" | "--logfile" => {
                it.next();
            }
            flag if flag.starts_with('-') => {}
            name => out.filter = Some(name.to_owned()),
        }
    }
    out
}

fn main() -> ExitCode {
    let args = args();
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
    let tags = match (args.tags, args.include_ignored) {
        (Some(t), _) => Some(t),
        // Every scenario, known bugs included.
        (None, true) => Some("@known-bug or not @known-bug".to_owned()),
        (None, false) => None,
    };
    let opts = RunOptions {
        features: vec![features],
        tags,
        name: args.filter,
        ..RunOptions::default()
    };
    let report = match conformance::run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            println!(
                "\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered \
                 out; finished in 0.00s"
            );
            return ExitCode::from(101);
        }
    };
    if args.list {
        for s in &report.scenarios {
            println!("{}: test", libtest::test_name(s));
        }
        return ExitCode::SUCCESS;
    }
    print!("{}", libtest::render_body(&report, args.quiet));

    // Snapshots of every scenario that passed (a failed one already reports its trace).
    let mut mismatches = Vec::new();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let check_snapshots = std::env::var_os("CALLCONF_SKIP_SNAPSHOTS").is_none();
    for s in report
        .scenarios
        .iter()
        .filter(|s| check_snapshots && s.verdict == Verdict::Passed)
    {
        let text = trace::render_redacted(&s.trace);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(format!("{} — {} › {}", s.location(), s.feature, s.name));
        let name = s.snapshot.clone();
        let checked = catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.as_str(), text));
        }));
        if checked.is_err() {
            mismatches.push(format!("{} ({})", libtest::test_name(s), s.snapshot));
        }
    }
    std::panic::set_hook(quiet);
    // On a full run, a snapshot that no scenario owns any more is stale (a renamed or removed
    // scenario): INSTA_UPDATE=always deletes it, otherwise it fails the run.
    let full_run = opts.name.is_none() && opts.tags.is_none();
    if check_snapshots && full_run {
        let owned: std::collections::HashSet<String> = report
            .scenarios
            .iter()
            .map(|s| format!("{}.snap", s.snapshot))
            .collect();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
        let update = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".snap") && !owned.contains(&name) {
                if update {
                    let _ = std::fs::remove_file(&f);
                    println!("removed stale snapshot {name}");
                } else {
                    mismatches.push(format!(
                        "stale snapshot {name}: no scenario owns it (remove it)"
                    ));
                }
            }
        }
    }
    if !mismatches.is_empty() {
        println!(
            "\ntrace snapshots that differ or are stale (see the diffs above; review, then update \
             with INSTA_UPDATE=always):"
        );
        for m in &mismatches {
            println!("    {m}");
        }
    }
    println!("\n{}", libtest::result_line(&report, mismatches.len()));
    if report.ok() && mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}
