//! The web adapter's browser: headless Chromium showing the page of `adapters/web/` (or a
//! vendor's page), which dials in to callconf over the driver protocol's WebSocket transport.
//!
//! Chromium is started with the page's URL on its command line and nothing else drives it: the
//! page's own driver connection is the control channel (a crash of the page closes it, which
//! callconf sees at once), so WebDriver or the DevTools protocol would add a process and a
//! second protocol without adding a capability the signaling suite needs. One page hosts every
//! device of a run, as one adapter process does (docs/driver-protocol.md §1): a page per device
//! would cost a page start per `device.open`, hundreds per suite.
//!
//! Every flag is in [`CHROMIUM_FLAGS`]: headless, as root, no first-run or background traffic,
//! no proxy, name resolution off for everything but loopback; WebRTC's flags depend on the
//! page: the signaling page gets WebRTC without UDP ([`SIGNALING_WEBRTC_FLAGS`]), the media
//! page of [`launch_media`] loopback-only ICE and the fake capture devices
//! (`media::ice::CHROMIUM_FLAGS`, the one place ICE is configured). The profile
//! is a fresh scratch directory, removed with the browser, and so is the directory Chromium
//! makes for its singleton socket in the temporary directory (it cannot go inside the
//! scratch: a socket's path is limited to 108 bytes).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use super::peer::{Peer, Scratch};
use super::remote::RemoteError;

/// The built-in page: the template a web-SDK vendor replaces with its own SDK.
const PAGE_HTML: &str = include_str!("../../adapters/web/index.html");
const PAGE_JS: &str = include_str!("../../adapters/web/adapter.js");

/// Where callconf looks for Chromium, in order, unless `CALLCONF_CHROMIUM` names it. Debian's
/// binary comes before its launcher script, which would add Google API keys and extensions.
pub const CHROMIUM_PATHS: &[&str] = &["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

/// Every flag Chromium is started with (besides `--user-data-dir` and the page's URL).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    // callconf runs as root in CI; Chromium's sandbox refuses root.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--mute-audio",
    // No traffic of its own: first run, updates, sync, metrics, safe browsing, pings.
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,\
     AutofillServerCommunication,CertificateTransparencyComponentUpdater",
    "--disable-quic",
    "--no-proxy-server",
    // Names resolve to nothing but loopback: a stray lookup fails instead of leaving.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    // The page's console goes to standard error, where callconf keeps it for the report.
    "--enable-logging=stderr",
    "--log-level=0",
];

/// WebRTC's flags for the signaling page: no UDP at all (no proxy exists to carry it), so ICE
/// gathers no candidate and nothing can leave the machine that way (tests/browser/ice.rs); the
/// signaling page makes no RTCPeerConnection anyway. (Chromium reads this switch into its
/// policy preference.)
pub const SIGNALING_WEBRTC_FLAGS: &[&str] =
    &["--webrtc-ip-handling-policy=disable_non_proxied_udp"];

/// The built-in media page (`media::browser_call`): one RTCPeerConnection with callconf's
/// webrtc-rs peer, its media from the fake capture files.
const MEDIA_HTML: &str = include_str!("../../adapters/web/media.html");
const MEDIA_JS: &str = include_str!("../../adapters/web/media.js");

/// What of Chromium's standard error is the page's log: its console lines.
pub const CONSOLE_MARK: &str = ":CONSOLE";

/// The Chromium binary to start: `CALLCONF_CHROMIUM`, or the first of [`CHROMIUM_PATHS`].
pub fn chromium() -> Result<PathBuf, RemoteError> {
    let missing = |message: String| RemoteError::Spawn {
        command: "web".into(),
        message,
    };
    if let Some(p) = std::env::var_os("CALLCONF_CHROMIUM") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(missing(format!(
                "CALLCONF_CHROMIUM names {}, which is not a file",
                p.display()
            )))
        };
    }
    CHROMIUM_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            missing(format!(
                "Chromium is not installed (looked for {}); install Debian's `chromium` \
                 package (scripts/setup does), or set CALLCONF_CHROMIUM",
                CHROMIUM_PATHS.join(", ")
            ))
        })
}

/// Percent-encodes everything but unreserved characters, for a URL fragment's value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fresh scratch directory for one browser: `callconf-web-PID-N` in the temporary directory.
fn scratch_dir() -> Result<PathBuf, String> {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("callconf-web-{}-{n}", std::process::id()));
    std::fs::create_dir_all(dir.join("profile")).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Removes the directory of the singleton socket of the browser whose scratch is `dir`
/// (`$TMPDIR/org.chromium.Chromium.XXXXXX`, which the profile's `SingletonSocket` links to):
/// a killed browser leaves it behind.
fn remove_singleton(dir: &Path) {
    let Ok(target) = std::fs::read_link(dir.join("profile").join("SingletonSocket")) else {
        return;
    };
    if let Some(parent) = target.parent()
        && parent
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("org.chromium.Chromium."))
    {
        let _ = std::fs::remove_dir_all(parent);
    }
}

/// A built-in page: its HTML and script, and the name of the fragment's key.
struct BuiltIn {
    html: &'static str,
    js: (&'static str, &'static str),
    key: &'static str,
}

const SIGNALING_PAGE: BuiltIn = BuiltIn {
    html: PAGE_HTML,
    js: ("adapter.js", PAGE_JS),
    key: "driver",
};

const MEDIA_PAGE: BuiltIn = BuiltIn {
    html: MEDIA_HTML,
    js: ("media.js", MEDIA_JS),
    key: "media",
};

/// The page's `file://` URL, with the URL it dials in its fragment (a fragment is never sent
/// anywhere). The built-in page is written into `dir`; a vendor's is used where it is.
fn page_url(
    page: Option<&Path>,
    built_in: &BuiltIn,
    dir: &Path,
    dial_url: &str,
) -> Result<String, String> {
    let file = match page {
        Some(p) => p
            .canonicalize()
            .map_err(|e| format!("the page {}: {e}", p.display()))?,
        None => {
            let d = dir.join("page");
            std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
            std::fs::write(d.join("index.html"), built_in.html).map_err(|e| e.to_string())?;
            std::fs::write(d.join(built_in.js.0), built_in.js.1).map_err(|e| e.to_string())?;
            d.join("index.html")
        }
    };
    Ok(format!(
        "file://{}#{}={}",
        file.display(),
        built_in.key,
        encode(dial_url)
    ))
}

/// Starts headless Chromium at `page` (the built-in page when `None`), told to dial
/// `driver_url`; the browser and its standard error (the page's console is in it).
pub fn launch(
    page: Option<&Path>,
    driver_url: &str,
) -> Result<(Peer, std::process::ChildStderr), RemoteError> {
    let flags: Vec<String> = SIGNALING_WEBRTC_FLAGS
        .iter()
        .map(|f| f.to_string())
        .collect();
    start(page, &SIGNALING_PAGE, driver_url, &flags)
}

/// Starts headless Chromium at the media page (the built-in one when `page` is `None`), told
/// to dial `media_url`, with loopback-only ICE and, given `capture` (video Y4M, audio WAV),
/// `getUserMedia` playing those fake capture files (a page that only receives needs none).
pub fn launch_media(
    page: Option<&Path>,
    media_url: &str,
    capture: Option<(&Path, &Path)>,
) -> Result<(Peer, std::process::ChildStderr), RemoteError> {
    let mut flags: Vec<String> = crate::media::ice::CHROMIUM_FLAGS
        .iter()
        .map(|f| f.to_string())
        .collect();
    if let Some((video, audio)) = capture {
        flags.push(format!(
            "--use-file-for-fake-video-capture={}",
            video.display()
        ));
        flags.push(format!(
            "--use-file-for-fake-audio-capture={}",
            audio.display()
        ));
    }
    start(page, &MEDIA_PAGE, media_url, &flags)
}

fn start(
    page: Option<&Path>,
    built_in: &BuiltIn,
    dial_url: &str,
    webrtc_flags: &[String],
) -> Result<(Peer, std::process::ChildStderr), RemoteError> {
    let fail = |message: String| RemoteError::Spawn {
        command: "web".into(),
        message,
    };
    let binary = chromium()?;
    let dir = scratch_dir().map_err(&fail)?;
    let url = match page_url(page, built_in, &dir, dial_url) {
        Ok(u) => u,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(fail(e));
        }
    };
    let mut cmd = Command::new(&binary);
    cmd.args(CHROMIUM_FLAGS)
        .args(webrtc_flags)
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let scratch = Scratch {
        dir,
        also: remove_singleton,
    };
    let mut peer = Peer::spawn(&mut cmd, true, Some(scratch))
        .map_err(|e| fail(format!("cannot start {}: {e}", binary.display())))?;
    let stderr = peer.child_mut().stderr.take().expect("piped");
    Ok((peer, stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_url_travels_percent_encoded_in_the_fragment() {
        let dir = std::env::temp_dir();
        let page = dir.join("callconf-page-url-test.html");
        std::fs::write(&page, "").unwrap();
        let url = page_url(
            Some(&page),
            &SIGNALING_PAGE,
            &dir,
            "ws://127.0.0.1:1/p?token=ab",
        )
        .unwrap();
        assert!(url.starts_with("file:///"), "{url}");
        assert!(
            url.ends_with("#driver=ws%3A%2F%2F127.0.0.1%3A1%2Fp%3Ftoken%3Dab"),
            "{url}"
        );
        let _ = std::fs::remove_file(page);
    }
}
