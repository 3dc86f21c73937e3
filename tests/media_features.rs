//! The `@media` Gherkin features (`features/media/`, with `browser/`: one party in Chromium, and
//! `vendors/`: the seed rules of the media path, under their dialect profiles)
//! under `cargo test` (`harness = false`).
//!
//! Each scenario runs real media in real time: GStreamer sources, webrtc-rs peer connections
//! over loopback, decoders and analyzers. Scenarios run one at a time, since they measure
//! latency on a 2-core machine and must not compete with each other. Ends with a libtest-style
//! `test result:` line. A name filter (`cargo test --test media_features hold`) selects
//! scenarios by name.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use callconf::media::impair::{LinkProfile, LossModel};
use callconf::media::recovery::Recovery;
use callconf::media::report::MediaReport;
use callconf::media::session::{MediaConfig, MediaSession, TrackChange};
use callconf::media::stream::Kind;
use cucumber::gherkin::Step;
use cucumber::writer::Stats as _;
use cucumber::{World, given, then, when};

#[derive(Default, World)]
struct MediaWorld {
    session: Option<MediaSession>,
    /// Median latency per (from, to, kind) recorded by "the baseline is recorded".
    baseline: BTreeMap<(String, String, Kind), f64>,
}

impl std::fmt::Debug for MediaWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaWorld")
            .field("session", &self.session.as_ref().map(|_| "running"))
            .finish()
    }
}

impl MediaWorld {
    fn s(&self) -> &MediaSession {
        self.session
            .as_ref()
            .expect("a media session was started by a Given step")
    }

    fn report(&self) -> MediaReport {
        self.s().report()
    }
}

fn kind(k: &str) -> Kind {
    match k {
        "video" => Kind::Video,
        _ => Kind::Audio,
    }
}

fn names(list: &str) -> Vec<String> {
    list.replace(" and ", ", ")
        .split(", ")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Parses "150 ms delay, 20 ms jitter, 5% loss, 4 packet bursts and 500 kbps bandwidth".
fn profile(text: &str) -> Result<LinkProfile, String> {
    let mut p = LinkProfile::default();
    for part in text.replace(" and ", ", ").split(", ") {
        let words: Vec<&str> = part.split_whitespace().collect();
        let num = |s: &str| {
            s.trim_end_matches('%')
                .parse::<f64>()
                .map_err(|_| format!("{s:?} in {part:?} is not a number"))
        };
        match words.as_slice() {
            [n, "ms", "delay"] => p.delay_ms = num(n)?,
            [n, "ms", "jitter"] => p.jitter_ms = num(n)?,
            [n, "loss"] if n.ends_with('%') => p.loss_pct = num(n)?,
            [n, "bernoulli", "loss"] if n.ends_with('%') => {
                p.loss_pct = num(n)?;
                p.loss_model = LossModel::Bernoulli;
            }
            [n, "packet", "bursts"] => p.burst_len = num(n)?,
            [n, "kbps", "bandwidth"] => p.bandwidth_kbps = num(n)?,
            ["no", "impairment"] => p = LinkProfile::default(),
            _ => {
                return Err(format!(
                    "unknown impairment {part:?}; expected `N ms delay`, `N ms jitter`, `N% loss`, `N% bernoulli loss`, \
                     `N packet bursts`, `N kbps bandwidth` or `no impairment`"
                ));
            }
        }
    }
    p.validate().map_err(|e| e.to_string())?;
    Ok(p)
}

/// Starts the session of `list` ("alice and bob"); a name followed by "in Chromium" is the
/// participant whose media runs in the browser.
async fn start(w: &mut MediaWorld, list: &str, config: MediaConfig) {
    let mut browser = None;
    let users: Vec<String> = names(list)
        .into_iter()
        .map(|n| match n.strip_suffix(" in Chromium") {
            Some(user) => {
                browser = Some(user.to_owned());
                user.to_owned()
            }
            None => n,
        })
        .collect();
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    let config = MediaConfig { browser, ..config };
    let s = MediaSession::start(config, &refs)
        .await
        .expect("media session starts (a browser participant needs chromium: scripts/setup)");
    w.session = Some(s);
}

#[given(regex = r"^a media session with (.+)$")]
async fn session(w: &mut MediaWorld, list: String) {
    start(w, &list, MediaConfig::default()).await;
}

/// The server follows the dialect's limits and policy, the media path its media rule.
#[given(regex = r#"^a media session under the "([\w-]+)" dialect with (.+)$"#)]
async fn session_under(w: &mut MediaWorld, dialect: String, list: String) {
    let profile = callconf::profile::Profile::builtin(&dialect)
        .unwrap_or_else(|e| panic!("dialect {dialect:?}: {e}"));
    let config = MediaConfig {
        profile: Some(profile),
        ..MediaConfig::default()
    };
    start(w, &list, config).await;
}

#[given(regex = r"^a media session without loss recovery with (.+)$")]
async fn session_without_recovery(w: &mut MediaWorld, list: String) {
    let config = MediaConfig {
        recovery: Recovery::None,
        ..MediaConfig::default()
    };
    start(w, &list, config).await;
}

#[given(regex = r"^the link from (\w+) to (\w+) has (.+)$")]
#[when(regex = r"^the link from (\w+) to (\w+) has (.+)$")]
async fn link(w: &mut MediaWorld, from: String, to: String, what: String) {
    let p = profile(&what).unwrap_or_else(|e| panic!("{e}"));
    w.s().impair(&from, &to, p).expect("impairment applies");
}

#[given(regex = r"^both links between (\w+) and (\w+) have (.+)$")]
#[when(regex = r"^both links between (\w+) and (\w+) have (.+)$")]
async fn both_links(w: &mut MediaWorld, a: String, b: String, what: String) {
    let p = profile(&what).unwrap_or_else(|e| panic!("{e}"));
    w.s().impair(&a, &b, p).expect("impairment applies");
    w.s().impair(&b, &a, p).expect("impairment applies");
}

#[when(regex = r"^(\w+) calls (.+) with (audio|video)$")]
async fn call(w: &mut MediaWorld, from: String, to: String, k: String) {
    let to = names(&to);
    let refs: Vec<&str> = to.iter().map(String::as_str).collect();
    w.s()
        .place(&from, &refs, k == "video")
        .await
        .expect("call placed");
}

#[when(regex = r"^(\w+) accepts$")]
async fn accept(w: &mut MediaWorld, user: String) {
    w.s().accept(&user).await.expect("accept connects media");
}

#[when(regex = r"^(\w+) joins$")]
async fn join(w: &mut MediaWorld, user: String) {
    w.s().join(&user).await.expect("join connects media");
}

#[when(regex = r"^media flows for ([\d.]+) s$")]
async fn flows(w: &mut MediaWorld, secs: f64) {
    w.s().run_for(Duration::from_secs_f64(secs)).await;
}

#[when("the baseline is recorded")]
async fn baseline(w: &mut MediaWorld) {
    let r = w.report();
    w.baseline = r
        .streams
        .iter()
        .filter_map(|s| {
            s.latency_ms
                .map(|l| ((s.from.clone(), s.to.clone(), s.kind), l.median))
        })
        .collect();
    w.s().reset_measurements();
}

#[when("the measurements restart")]
async fn restart(w: &mut MediaWorld) {
    w.s().reset_measurements();
}

#[when(regex = r"^(\w+) puts the call on hold$")]
async fn hold(w: &mut MediaWorld, user: String) {
    w.s().hold(&user, true).await.expect("hold");
}

#[when(regex = r"^(\w+) resumes the call$")]
async fn unhold(w: &mut MediaWorld, user: String) {
    w.s().hold(&user, false).await.expect("unhold");
}

#[when(regex = r"^(\w+) (mutes|unmutes) (?:her|his|their) (audio|video)$")]
async fn mute(w: &mut MediaWorld, user: String, verb: String, k: String) {
    w.s()
        .mute(&user, kind(&k), verb == "mutes")
        .await
        .expect("mute");
}

#[when(regex = r"^(\w+) hangs up$")]
async fn hang_up(w: &mut MediaWorld, user: String) {
    w.s().hang_up(&user).await.expect("hang up");
}

#[then(regex = r"^(\w+) receives (\w+)'s (audio|video) within (\d+) ms$")]
async fn receives_within(w: &mut MediaWorld, to: String, from: String, k: String, ms: u64) {
    let got = w
        .s()
        .wait_for_media(&from, &to, kind(&k), Duration::from_millis(ms))
        .await;
    assert!(
        got.is_some(),
        "{to} decoded no {k} from {from} within {ms} ms"
    );
}

fn stream<'a>(
    r: &'a MediaReport,
    from: &str,
    to: &str,
    k: Kind,
) -> &'a callconf::media::report::StreamReport {
    r.stream(from, to, k)
        .unwrap_or_else(|| panic!("no {k} stream from {from} to {to}; report:\n{}", r.table()))
}

#[then(regex = r"^the median (audio|video) latency from (\w+) to (\w+) is (\d+) ± (\d+) ms$")]
async fn latency_abs(w: &mut MediaWorld, k: String, from: String, to: String, want: f64, tol: f64) {
    let r = w.report();
    let s = stream(&r, &from, &to, kind(&k));
    let got = s.latency_ms.expect("latency samples").median;
    assert!(
        (got - want).abs() <= tol,
        "median {k} latency {from}→{to} is {got:.1} ms, expected {want} ± {tol}\n{}",
        r.table()
    );
}

#[then(
    regex = r"^the median (audio|video) latency from (\w+) to (\w+) exceeds the baseline by (\d+) ± (\d+) ms$"
)]
async fn latency_added(
    w: &mut MediaWorld,
    k: String,
    from: String,
    to: String,
    want: f64,
    tol: f64,
) {
    let r = w.report();
    let s = stream(&r, &from, &to, kind(&k));
    let got = s.latency_ms.expect("latency samples").median;
    let base = w
        .baseline
        .get(&(from.clone(), to.clone(), kind(&k)))
        .copied()
        .expect("a baseline was recorded for this stream");
    let added = got - base;
    assert!(
        (added - want).abs() <= tol,
        "{k} {from}→{to}: median {got:.1} ms − baseline {base:.1} ms = {added:.1} ms, expected {want} ± {tol}\n{}",
        r.table()
    );
}

#[then(regex = r"^the video (PSNR|SSIM) from (\w+) to (\w+) is at least ([\d.]+)(?: dB)?$")]
async fn quality(w: &mut MediaWorld, metric: String, from: String, to: String, min: f64) {
    let r = w.report();
    let s = stream(&r, &from, &to, Kind::Video);
    let got = if metric == "PSNR" { s.psnr_db } else { s.ssim }
        .expect("quality samples")
        .mean;
    assert!(
        got >= min,
        "mean {metric} {from}→{to} is {got:.3}, expected at least {min}\n{}",
        r.table()
    );
}

#[then(regex = r"^the packet loss from (\w+) to (\w+) is ([\d.]+)% ± ([\d.]+)%$")]
async fn loss(w: &mut MediaWorld, from: String, to: String, want: f64, tol: f64) {
    let r = w.report();
    let got = r
        .packet_loss(&from, &to)
        .unwrap_or_else(|| panic!("no packets from {from} to {to}"))
        .pct;
    assert!(
        (got - want).abs() <= tol,
        "packet loss {from}→{to} is {got:.2}%, expected {want}% ± {tol}%\n{}",
        r.table()
    );
}

#[then(regex = r"^the residual (video )?loss from (\w+) to (\w+) is at most ([\d.]+)%$")]
async fn residual(w: &mut MediaWorld, video: String, from: String, to: String, max: f64) {
    let r = w.report();
    let got = if video.is_empty() {
        r.residual_loss(&from, &to)
            .unwrap_or_else(|| panic!("no packets from {from} to {to}"))
            .pct
    } else {
        stream(&r, &from, &to, Kind::Video).residual_loss_pct
    };
    assert!(
        got <= max,
        "residual loss {from}→{to} is {got:.2}%, expected at most {max}%\n{}",
        r.table()
    );
}

#[then(regex = r"^the median video PSNR from (\w+) to (\w+) is at least ([\d.]+) dB$")]
async fn median_psnr(w: &mut MediaWorld, from: String, to: String, min: f64) {
    let r = w.report();
    let got = stream(&r, &from, &to, Kind::Video)
        .psnr_db
        .expect("quality samples")
        .median;
    assert!(
        got >= min,
        "median PSNR {from}→{to} is {got:.1} dB, expected at least {min}\n{}",
        r.table()
    );
}

#[then(regex = r"^the p95 video latency from (\w+) to (\w+) is at most (\d+) ms$")]
async fn p95_latency(w: &mut MediaWorld, from: String, to: String, max: f64) {
    let r = w.report();
    let got = stream(&r, &from, &to, Kind::Video)
        .latency_ms
        .expect("latency samples")
        .p95;
    assert!(
        got <= max,
        "p95 video latency {from}→{to} is {got:.0} ms, expected at most {max}\n{}",
        r.table()
    );
}

#[then(regex = r"^(\w+) hears (\w+)'s tone$")]
async fn hears(w: &mut MediaWorld, to: String, from: String) {
    let r = w.report();
    let s = stream(&r, &from, &to, Kind::Audio);
    assert_eq!(
        s.tone_matches_sender,
        Some(true),
        "{to} hears {:?} Hz from {from}, whose tone is {:?} Hz",
        s.tone_hz,
        s.expected_hz
    );
}

#[then("no participant receives its own audio")]
async fn no_own_audio(w: &mut MediaWorld) {
    let r = w.report();
    for s in &r.streams {
        assert!(
            !s.own_audio_received && s.from != s.to,
            "{} received its own audio from {}",
            s.to,
            s.from
        );
    }
}

#[then(regex = r"^(\w+) receives no (audio|video) from (\w+) for (\d+) ms$")]
async fn silence(w: &mut MediaWorld, to: String, k: String, from: String, ms: u64) {
    // Packets already on the wire (one link delay) may still land first.
    w.s().run_for(Duration::from_millis(300)).await;
    let before = w.s().stream_stats(&from, &to, kind(&k)).packets_received;
    w.s().run_for(Duration::from_millis(ms)).await;
    let after = w.s().stream_stats(&from, &to, kind(&k)).packets_received;
    assert_eq!(
        before,
        after,
        "{to} received {} {k} packets from {from} while it should get none",
        after - before
    );
}

/// Runs the session `poll` at a time until what `look` sees satisfies `done` or `within` has
/// passed, and returns the last thing seen: the step asserts on it, so a timeout fails with it.
async fn settle<T>(
    w: &MediaWorld,
    within: Duration,
    poll: Duration,
    look: impl Fn(&MediaWorld) -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + within;
    let mut seen = look(w);
    // Bounded by the deadline.
    while !done(&seen) && std::time::Instant::now() < deadline {
        w.s().run_for(poll).await;
        seen = look(w);
    }
    seen
}

#[then(regex = r"^(\w+)'s (audio|video) reaches (\w+) again within (\d+) ms$")]
async fn resumes(w: &mut MediaWorld, from: String, k: String, to: String, ms: u64) {
    let s = settle(
        w,
        Duration::from_millis(ms + 2_000),
        Duration::from_millis(10),
        |w| w.s().stream_stats(&from, &to, kind(&k)),
        |s| s.resumed_at.is_some() && s.first_output_after_resume.is_some(),
    )
    .await;
    let (Some(r), Some(f)) = (s.resumed_at, s.first_output_after_resume) else {
        panic!("{k} from {from} never reached {to} after the resume");
    };
    let took = f.saturating_duration_since(r).as_millis() as u64;
    assert!(
        took <= ms,
        "{k} from {from} reached {to} {took} ms after the resume"
    );
}

#[then(regex = r"^there is no freeze in the video from (\w+) to (\w+)$")]
async fn no_freeze(w: &mut MediaWorld, from: String, to: String) {
    let r = w.report();
    let s = stream(&r, &from, &to, Kind::Video);
    assert_eq!(
        s.freezes,
        0,
        "{} freezes ({:.0} ms)\n{}",
        s.freezes,
        s.freeze_ms,
        r.table()
    );
}

#[then("the machine kept up")]
async fn kept_up(w: &mut MediaWorld) {
    let r = w.report();
    assert!(!r.fell_behind, "the machine fell behind:\n{}", r.table());
    assert!(r.failures.is_empty(), "failures: {:?}", r.failures);
}

/// How long `<user>'s tracks are:` waits for the table: track events arrive on their own
/// connections, so one kind's track may be announced after another kind's media is decoded.
const TRACKS_SETTLE_MS: u64 = 2000;

/// The tracks `user` has now, from its track events, each with its latest state.
fn live_tracks(w: &MediaWorld, user: &str) -> BTreeMap<(String, String, bool), String> {
    let mut live = BTreeMap::new();
    for e in w.s().track_events(user) {
        let key = (e.owner.clone(), e.kind.to_string(), e.local);
        let state = match e.change {
            TrackChange::Removed => {
                live.remove(&key);
                continue;
            }
            TrackChange::Muted => "muted",
            TrackChange::Held => "held",
            TrackChange::Added | TrackChange::Unmuted | TrackChange::Resumed => "live",
        };
        live.insert(key, state.to_owned());
    }
    live
}

/// `user`'s tracks match the table within `TRACKS_SETTLE_MS`; on a timeout the assertion
/// shows the last table seen.
#[then(regex = r"^(\w+)'s tracks are:$")]
async fn tracks(w: &mut MediaWorld, user: String, step: &Step) {
    let table = step
        .table
        .as_ref()
        .expect("a table of owner | kind | local | state");
    let mut want: BTreeMap<(String, String, bool), String> = BTreeMap::new();
    for row in table.rows.iter().skip(1) {
        let [owner, k, local, state] = &row[..] else {
            panic!("each row is | owner | kind | local | state |, got {row:?}");
        };
        want.insert((owner.clone(), k.clone(), local == "yes"), state.clone());
    }
    let got = settle(
        w,
        Duration::from_millis(TRACKS_SETTLE_MS),
        Duration::from_millis(20),
        |w| live_tracks(w, &user),
        |got| *got == want,
    )
    .await;
    assert_eq!(
        got, want,
        "{user}'s tracks (owner, kind, local) → state, after {TRACKS_SETTLE_MS} ms"
    );
}

fn main() -> ExitCode {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let include_ignored = std::env::args().any(|a| a == "--include-ignored" || a == "--ignored");
    let features = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features/media");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let start = std::time::Instant::now();
    let writer = rt.block_on(
        MediaWorld::cucumber()
            .max_concurrent_scenarios(1)
            // Close each scenario's calls: its sources and connections must not keep
            // loading the CPU while the next scenario measures latency.
            .after(|_, _, _, _, world| {
                Box::pin(async move {
                    if let Some(s) = world.and_then(|w| w.session.take()) {
                        s.close().await;
                    }
                })
            })
            // Not the process arguments: cargo's libtest flags are not cucumber's.
            .with_cli::<cucumber::cli::Empty>(cucumber::cli::Opts::default())
            .filter_run(features, move |_, _, sc| {
                // `@known-bug` scenarios document open failures; they run with --include-ignored.
                let known_bug = sc.tags.iter().any(|t| t == "known-bug");
                (include_ignored || !known_bug)
                    && filter.as_deref().is_none_or(|f| sc.name.contains(f))
            }),
    );
    let sc = writer.scenarios_stats();
    let failed = sc.failed + writer.parsing_errors() + writer.hook_errors();
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s",
        if failed == 0 { "ok" } else { "FAILED" },
        sc.passed,
        failed,
        sc.skipped,
        start.elapsed().as_secs_f64()
    );
    if failed == 0 && sc.skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
