//! Nothing of the browser outlives the run — no Chromium process, no profile directory — on
//! every way a run ends: it finishes, it is interrupted (Ctrl-C), or the page crashes midway
//! (then that scenario is an error and the next ones run in a new browser).

use std::time::{Duration, Instant};

use super::{assert_nothing_left, browser_under, certify_cmd, count, run, scratch, start};

/// Waits (bounded) for `child` to exit; its exit code and output.
fn finish(mut child: std::process::Child, within: Duration) -> (Option<i32>, String) {
    let until = Instant::now() + within;
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (code, text)
}

#[test]
fn a_finished_run_leaves_no_browser_behind() {
    // Whole suites through Chromium: not beside a real-time media call (a replacement
    // browser once missed its 20 s dial-in while one ran).
    let _serial = crate::serial();
    let tmp = scratch("finished");
    let (code, out) = run(certify_cmd(
        &["--adapter", "web", "--tags", "@status"],
        &tmp,
    ));
    assert_eq!(code, 0, "{out}");
    assert_nothing_left(&tmp, &out);
}

#[test]
fn an_interrupted_run_leaves_no_browser_behind() {
    // Whole suites through Chromium: not beside a real-time media call (a replacement
    // browser once missed its 20 s dial-in while one ran).
    let _serial = crate::serial();
    let tmp = scratch("interrupted");
    let child = start(certify_cmd(&["--adapter", "web"], &tmp));
    let pid = child.id() as i32;
    let browser = browser_under(&tmp, Duration::from_secs(20));
    assert!(browser.is_some(), "the browser started");
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signals the certify process this test started.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let (code, out) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "certify ends at Ctrl-C\n{out}");
    assert_nothing_left(&tmp, &out);
}

#[test]
fn a_crashed_page_is_an_error_and_leaves_no_browser_behind() {
    // Whole suites through Chromium: not beside a real-time media call (a replacement
    // browser once missed its 20 s dial-in while one ran).
    let _serial = crate::serial();
    let tmp = scratch("crashed");
    let child = start(certify_cmd(&["--adapter", "web"], &tmp));
    let browser = browser_under(&tmp, Duration::from_secs(20)).expect("the browser started");
    // Midway through the run (the page is up within a second; the suite takes many): every
    // renderer then, the page's among them (Chromium also keeps a spare one).
    std::thread::sleep(Duration::from_secs(2));
    let renderers = renderers_in_group(browser, Duration::from_secs(10));
    assert!(!renderers.is_empty(), "the page has a renderer");
    for r in &renderers {
        // SAFETY: a renderer of the browser this test's certify started.
        unsafe {
            libc::kill(*r, libc::SIGKILL);
        }
    }
    let (code, out) = finish(child, Duration::from_secs(60));
    assert_eq!(code, Some(1), "a broken adapter makes the run fail\n{out}");
    assert!(count(&out, "error") >= 1, "the crash is an error\n{out}");
    assert!(
        out.contains("its page closed the driver connection"),
        "{out}"
    );
    assert!(
        count(&out, "passed") >= 1,
        "a new browser ran the rest\n{out}"
    );
    assert_nothing_left(&tmp, &out);
}

/// The renderer processes in the process group led by `leader`, once there are some.
fn renderers_in_group(leader: u32, within: Duration) -> Vec<i32> {
    let until = Instant::now() + within;
    let group = leader.to_string();
    loop {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let after_name = stat.rsplit(')').next().unwrap_or("");
            let fields: Vec<&str> = after_name.split_whitespace().collect();
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            let page =
                cmdline.contains("--type=renderer") && !cmdline.contains("--top-chrome-webui");
            if fields.get(2) == Some(&group.as_str()) && page {
                found.push(pid);
            }
        }
        if !found.is_empty() || Instant::now() >= until {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
