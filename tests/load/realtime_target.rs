//! `callconf load --realtime --target`: two generator processes, shards 0/2 and 1/2, load one
//! `callconf serve` in a third process side by side; `callconf merge` adds their reports up to
//! the whole scenario; each generator removes the users it added.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use callconf::net::admin::AdminClient;
use callconf::report::Report;
use callconf::server::admin::{AdminOp, AdminReply};
use callconf::server::auth::Token;

const SCENARIO: &str = "name: target_two_shards
seed: 3
population: { users: 200, cells: 1 }
calls:
  total: 1200
  arrival: { kind: constant, rate_per_s: 600 }
callee: { answer: 1.0, decline: 0.0, no_answer: 0.0, busy: 0.0,
          answer_delay_ms: { dist: constant, value: 0 } }
talk_time_ms: { dist: constant, value: 0 }
report: { interval_s: 1 }
thresholds:
  - { metric: calls_failed, max: 0 }
  - { metric: lost_calls, max: 0 }
";

#[test]
fn two_generators_load_one_server_in_another_process_and_merge() {
    two_shards_against_one_server("target", &[]);
}

/// Starts a `callconf serve`, runs two generator processes (shards 0/2 and 1/2, each with
/// `extra` arguments) against it, checks their merged report and that the server has no users
/// left, and returns the merged report; `tag` names the scratch directory.
pub fn two_shards_against_one_server(tag: &str, extra: &[&str]) -> Report {
    let dir = std::env::temp_dir().join(format!("callconf-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = "target-test-admin-token-0123456789";
    std::fs::write(dir.join("admin.tok"), token).unwrap();
    std::fs::write(dir.join("sc.yaml"), SCENARIO).unwrap();
    let bin = env!("CARGO_BIN_EXE_callconf");
    let mut serve = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn"])
        .arg("--admin-token-file")
        .arg(dir.join("admin.tok"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    std::io::BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let words: Vec<&str> = banner.split_whitespace().collect();
    let (devices, admin) = (words[3].to_owned(), words[5].to_owned());

    let generators: Vec<_> = (0..2)
        .map(|k| {
            Command::new(bin)
                .current_dir(&dir)
                .args([
                    "load",
                    "sc.yaml",
                    "--realtime",
                    "--quiet",
                    "--target",
                    &devices,
                ])
                .args(extra)
                .args(["--admin", &admin, "--admin-token-file", "admin.tok"])
                .args([
                    "--shard",
                    &format!("{k}/2"),
                    "--json",
                    &format!("s{k}.json"),
                ])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for g in generators {
        let out = g.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let read = |k: usize| {
        let f = format!("s{k}.json");
        Report::from_json(&f, &std::fs::read_to_string(dir.join(&f)).unwrap()).unwrap()
    };
    let (a, b) = (read(0), read(1));
    assert_eq!(a.calls.started + b.calls.started, 1200);
    let merged = Report::merge(&[("s0".into(), a), ("s1".into(), b)], &[]).unwrap();
    assert_eq!(merged.calls.started, 1200);
    assert_eq!(merged.calls.failed, 0);
    assert_eq!(merged.calls.lost, 0);

    // Both generators took their users away again: the server is as it was.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let users = rt.block_on(async {
        let mut c = AdminClient::connect(&admin, &Token::new(token), Duration::from_secs(5))
            .await
            .unwrap();
        match c.op(AdminOp::Status).await.unwrap().unwrap() {
            AdminReply::Status { users, .. } => users,
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(users, 0);
    let _ = serve.kill();
    let _ = serve.wait();
    let _ = std::fs::remove_dir_all(&dir);
    merged
}
