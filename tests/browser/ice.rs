//! WebRTC in callconf's Chromium gathers no ICE candidate: with the flags callconf starts it
//! with, a page's RTCPeerConnection has no UDP to use, so media cannot leave the machine
//! through a candidate it was not meant to have. (Without the flag the same page gathers host
//! candidates.)

use std::io::BufRead;
use std::time::Duration;

#[test]
fn a_page_in_callconfs_chromium_gathers_no_ice_candidate() {
    let page =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/fixtures/ice.html");
    // The page dials nothing: the driver URL is there only because launch() passes one.
    let (mut browser, stderr) =
        callconf::driver::browser::launch(Some(&page), "ws://127.0.0.1:9/unused")
            .expect("Chromium starts (install Debian's chromium: scripts/setup)");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(at) = line.find("ICE GATHERED ") {
                let _ = tx.send(line[at + "ICE GATHERED ".len()..].to_owned());
                return;
            }
        }
    });
    let gathered = rx.recv_timeout(Duration::from_secs(20));
    browser.kill();
    let gathered = gathered.expect("the page reported its ICE candidates");
    assert!(
        gathered.starts_with("[]"),
        "candidates gathered: {gathered}"
    );
}
