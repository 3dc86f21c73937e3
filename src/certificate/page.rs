//! `certificate.html`: one self-contained page a customer can read — the SDK and adapter, the
//! profile, the verdict per capability, the hashes that bind the page to the bundle, and how to
//! verify it.

use std::fmt::Write as _;
use std::path::Path;

use super::manifest::Manifest;
use super::{CertError, bundle, io, sha256_hex};
use crate::conformance::RunReport;
use crate::conformance::report::Verdict;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page, for a bundle in `dir` whose transcript and results are already written.
pub fn render(m: &Manifest, report: &RunReport, dir: &Path) -> Result<String, CertError> {
    let hash_of = |rel: &str| -> Result<String, CertError> {
        let path = dir.join(rel);
        Ok(sha256_hex(&io(&path, std::fs::read(&path))?))
    };
    let mut h = String::new();
    let verdict = if report.ok() { "PASS" } else { "FAIL" };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>callconf certificate: {sdk}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         td,th{{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}}\
         code{{font-size:.85rem;word-break:break-all}}</style></head><body>\n\
         <h1>callconf certificate: {verdict}</h1>\n<table>\
         <tr><th>SDK</th><td>{sdk}</td></tr>\
         <tr><th>adapter</th><td>{adapter}</td></tr>\
         <tr><th>profile</th><td>{profile}</td></tr>\
         <tr><th>clock</th><td>{clock}</td></tr>\
         <tr><th>made by</th><td>callconf {version} (commit <code>{commit}</code>)</td></tr>\
         <tr><th>machine</th><td>{os}, {cpus} × {cpu}</td></tr>\
         <tr><th>run</th><td>{start} – {end}</td></tr></table>\n",
        sdk = esc(&format!("{} {}", m.sut.sdk.name, m.sut.sdk.version)),
        adapter = esc(&format!("{} {}", m.sut.adapter.name, m.sut.adapter.version)),
        profile = esc(&m.profile.name),
        clock = if m.sut.clock_driven {
            "driven (virtual time)"
        } else {
            "real time"
        },
        version = esc(&m.callconf.version),
        commit = esc(&m.callconf.commit),
        os = esc(&m.environment.os),
        cpus = m.environment.cpus,
        cpu = esc(&m.environment.cpu_model),
        start = esc(&m.started_at),
        end = esc(&m.finished_at),
    );
    h.push_str("<h2>Verdicts per capability</h2>\n<table><tr><th>capability</th>");
    for v in Verdict::ALL {
        let _ = write!(h, "<th>{}</th>", v.word());
    }
    h.push_str("</tr>\n");
    for t in report.by_capability() {
        let _ = write!(
            h,
            "<tr><td>{} (@{})</td>",
            esc(&t.title),
            esc(&t.capability)
        );
        for v in Verdict::ALL {
            let _ = write!(h, "<td>{}</td>", t.of(v));
        }
        h.push_str("</tr>\n");
    }
    let _ = write!(
        h,
        "</table>\n<h2>Hashes</h2>\n<table>\
         <tr><th>suite</th><td><code>{}</code></td></tr>\
         <tr><th>{}</th><td><code>{}</code></td></tr>\
         <tr><th>{}</th><td><code>{}</code></td></tr>\
         <tr><th>signer's public key</th><td><code>{}</code></td></tr></table>\n\
         <h2>Verify it</h2>\n<p>With callconf {}: <code>callconf verify THIS-DIRECTORY \
         --public-key SIGNER.pub</code>. It checks the signature and every file's hash, that the \
         suite is the one that build ships, and re-grades every scenario from the transcript \
         alone; the SDK is not needed.</p>\n</body></html>\n",
        esc(&m.suite.sha256),
        bundle::TRANSCRIPT,
        hash_of(bundle::TRANSCRIPT)?,
        bundle::REPORT_JSON,
        hash_of(bundle::REPORT_JSON)?,
        esc(&m.signer_public_key),
        esc(&m.callconf.version),
    );
    Ok(h)
}
