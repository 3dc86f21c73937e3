//! `callconf certify --adapter web`: the conformance suite through headless Chromium, the page
//! of `adapters/web/` hosting every device and dialing in over the driver protocol's
//! WebSocket transport. These tests need Debian's `chromium` (scripts/setup installs it): a
//! missing browser fails them with certify's message, it does not skip them.

mod cleanup;
mod ice;
mod media_cli;
mod media_delay;
mod media_loopback;
mod media_loss;
mod media_measured;
mod media_reverse_delay;
mod media_reverse_loss;
mod media_reverse_measured;
mod media_session;
mod missing;
mod mixed;
mod offline;
mod suite;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Serialises the tests that run real-time media or a whole suite through Chromium: two at once
/// on 2 cores would measure each other's contention (a media call starves a suite run's page of
/// CPU and the other way round); a failed test's poisoned lock is fine to reuse.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The runtime a media call runs on: multi-threaded, the wall clock.
pub fn media_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// `callconf certify ARGS`, ready to run from the project's directory with `TMPDIR` set to
/// `tmp` (so that the browser's scratch directory is found there).
pub fn certify_cmd(args: &[&str], tmp: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callconf"));
    cmd.arg("certify")
        .args(args)
        .env("TMPDIR", tmp)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Runs `cmd` and returns its exit code and output.
pub fn run(mut cmd: Command) -> (i32, String) {
    let out = cmd.output().expect("callconf runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Starts `cmd` with its output captured.
pub fn start(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("callconf starts")
}

/// A fresh, empty temporary directory for one test, removed when dropped.
pub struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn scratch(name: &str) -> Tmp {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "callconf-browser-{name}-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    Tmp(dir)
}

/// The count of a verdict line's `N passed` (or `N error`, …): `verdict: PASS — 287 passed, …`.
pub fn count(out: &str, what: &str) -> usize {
    let Some(line) = out.lines().find(|l| l.starts_with("verdict:")) else {
        return 0;
    };
    line.split(',')
        .flat_map(|part| part.split('—'))
        .find_map(|part| {
            let mut words = part.split_whitespace();
            let n = words.next()?.parse().ok()?;
            (words.next()? == what).then_some(n)
        })
        .unwrap_or(0)
}

/// How many scenarios the in-process run passes: what every adapter must pass too.
pub fn in_process_passed() -> usize {
    let tmp = scratch("in-process");
    let (code, out) = run(certify_cmd(&["--profile", "canonical"], &tmp));
    assert_eq!(code, 0, "{out}");
    count(&out, "passed")
}

/// Running (not zombie) processes whose command line mentions `dir`: a browser started with
/// its profile there, or anything else callconf left behind.
pub fn running_under(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        if cmdline.contains(&needle) && !zombie {
            found.push(format!(
                "{pid}: {}",
                cmdline.chars().take(160).collect::<String>()
            ));
        }
    }
    found
}

/// The pid of the browser (the leader, not a helper) whose profile is under `dir`, once one runs.
pub fn browser_under(dir: &Path, within: std::time::Duration) -> Option<u32> {
    let until = std::time::Instant::now() + within;
    while std::time::Instant::now() < until {
        let leader = running_under(dir)
            .into_iter()
            .find(|p| !p.contains("--type="));
        if let Some(pid) = leader.and_then(|p| p.split(':').next()?.parse().ok()) {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

/// What the web adapter and its browser left in `dir`: scratch directories, and Chromium's
/// own temporary files.
pub fn scratch_left(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with("callconf-web-")
                        || n.starts_with(".org.chromium")
                        || n.starts_with("org.chromium")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts that nothing of the browser is left: no process, no scratch directory. Processes
/// killed with SIGKILL take a moment to die: they are given 3 s.
pub fn assert_nothing_left(dir: &Path, out: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while !(running_under(dir).is_empty() && scratch_left(dir).is_empty())
        && std::time::Instant::now() < until
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        running_under(dir),
        Vec::<String>::new(),
        "processes left\n{out}"
    );
    assert_eq!(
        scratch_left(dir),
        Vec::<String>::new(),
        "scratch left\n{out}"
    );
}
