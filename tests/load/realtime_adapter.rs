//! `callconf load --realtime --adapter CMD`: the devices live in an adapter process and are
//! driven through the driver protocol. Two generators (shards 0/2 and 1/2), each with its own
//! reference adapter, run the whole scenario; their users answer, decline and reject as busy as
//! their scripts say; `callconf merge` adds the shards up to every call.

use std::process::{Command, Stdio};

use callconf::report::Report;

const SCENARIO: &str = "name: adapter_two_shards
seed: 11
population: { users: 600, cells: 1 }
calls:
  total: 600
  arrival: { kind: constant, rate_per_s: 300 }
callee: { answer: 0.8, decline: 0.1, no_answer: 0.0, busy: 0.1,
          answer_delay_ms: { dist: constant, value: 0 } }
talk_time_ms: { dist: constant, value: 0 }
report: { interval_s: 1 }
thresholds:
  - { metric: calls_failed, max: 0 }
  - { metric: lost_calls, max: 0 }
";

#[test]
fn devices_behind_adapters_run_the_scenario_and_shards_merge() {
    let dir = std::env::temp_dir().join(format!("callconf-adapter-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sc.yaml"), SCENARIO).unwrap();
    let bin = env!("CARGO_BIN_EXE_callconf");
    let adapter = format!("'{bin}' adapter");
    let generators: Vec<_> = (0..2)
        .map(|k| {
            Command::new(bin)
                .current_dir(&dir)
                .args(["load", "sc.yaml", "--realtime", "--adapter", &adapter])
                .args([
                    "--shard",
                    &format!("{k}/2"),
                    "--json",
                    &format!("s{k}.json"),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for g in generators {
        let out = g.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("devices hosted by the adapter callconf-reference-adapter"),
            "{stdout}"
        );
    }
    let read = |k: usize| {
        let f = format!("s{k}.json");
        Report::from_json(&f, &std::fs::read_to_string(dir.join(&f)).unwrap()).unwrap()
    };
    let (a, b) = (read(0), read(1));
    assert!(a.calls.started > 0 && b.calls.started > 0);
    let merged = Report::merge(&[("s0".into(), a), ("s1".into(), b)], &[]).unwrap();
    assert_eq!(merged.calls.started + merged.calls.throttled, 600);
    assert!(merged.calls.started >= 540, "{:?}", merged.calls);
    assert_eq!(merged.calls.failed, 0);
    assert_eq!(merged.calls.lost, 0);
    // Each user's part of the script went through the adapter: answers, declines and busies.
    for outcome in ["completed", "declined", "busy"] {
        assert!(
            merged.outcomes.get(outcome).copied().unwrap_or(0) > 0,
            "{outcome}: {:?}",
            merged.outcomes
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
