//! `callconf verify DIR [--public-key FILE]`: checks a bundle step by step and stops at the
//! first problem, naming it: the manifest, the signature (and the pinned key), every file's
//! hash and the file list, the suite against the manifest and against this build, the re-grade
//! of every scenario from the transcript, and the certification policy.

use std::path::Path;
use std::time::Duration;

use super::bundle::{self, MANIFEST, REPORT_JSON, SIGNATURE, TRANSCRIPT};
use super::manifest::{FORMAT, Manifest};
use super::{CertError, io, keys, suite};
use crate::conformance::expect::FailureKind;
use crate::conformance::report::{ScenarioRecord, Verdict};
use crate::conformance::rig_client::{Line, RigClient};
use crate::conformance::{RunOptions, RunReport, run};

/// What a bundle that verified certifies.
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    pub report: RunReport,
}

/// Checks the bundle in `dir`; with `public_key`, it must be signed by that key.
pub fn verify(dir: &Path, public_key: Option<&Path>) -> Result<Verified, CertError> {
    let manifest_path = dir.join(MANIFEST);
    let text = io(&manifest_path, std::fs::read(&manifest_path))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| CertError::BadManifest(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(CertError::BadManifest(format!(
            "format `{}`, this build reads `{FORMAT}`",
            manifest.format
        )));
    }
    check_signature(dir, &text, &manifest, public_key)?;
    check_files(dir, &manifest)?;
    check_suite(dir, &manifest)?;
    let profile = check_profile(dir, &manifest)?;
    let report = regrade(dir, &manifest, profile)?;
    check_policy(&manifest, &report)?;
    Ok(Verified { manifest, report })
}

fn check_signature(
    dir: &Path,
    text: &[u8],
    m: &Manifest,
    pinned: Option<&Path>,
) -> Result<(), CertError> {
    let key = keys::parse_public(&dir.join(MANIFEST), &m.signer_public_key)?;
    if let Some(path) = pinned {
        let want = keys::parse_public(path, &io(path, std::fs::read_to_string(path))?)?;
        if want != key {
            return Err(CertError::Signature(format!(
                "signed by key {}, not by the key in {}",
                m.signer_public_key,
                path.display()
            )));
        }
    }
    let sig_path = dir.join(SIGNATURE);
    let sig = io(&sig_path, std::fs::read_to_string(&sig_path))?;
    keys::check(&key, text, &sig)
}

fn check_files(dir: &Path, m: &Manifest) -> Result<(), CertError> {
    let found = bundle::hashes(dir)?;
    for (path, hash) in &m.files {
        match found.get(path) {
            None => return Err(CertError::Files(format!("{path} is missing"))),
            Some(h) if h != hash => {
                return Err(CertError::Files(format!(
                    "{path} was changed (sha256 {h}, the manifest says {hash})"
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().find(|p| !m.files.contains_key(*p)) {
        return Err(CertError::Files(format!(
            "{extra} is not in the manifest (a file was added)"
        )));
    }
    Ok(())
}

fn check_suite(dir: &Path, m: &Manifest) -> Result<(), CertError> {
    let bundled: Vec<_> = m
        .suite
        .sources
        .iter()
        .map(|s| dir.join(&s.bundled))
        .collect();
    let hash = suite::hash(&bundled)?;
    if hash != m.suite.sha256 {
        return Err(CertError::Suite(format!(
            "the bundled features hash to {hash}, the manifest says {}",
            m.suite.sha256
        )));
    }
    let ours = suite::this_build()?;
    if hash != ours {
        return Err(CertError::Suite(format!(
            "the bundle's suite {hash} is not this build's ({ours}); it was made by callconf {} \
             (commit {}): verify it with that build",
            m.callconf.version, m.callconf.commit
        )));
    }
    Ok(())
}

/// The bundled profile: it must hash as the manifest says and, for a built-in dialect, be this
/// build's text of it (a swapped or edited profile would grade against other rules).
fn check_profile(dir: &Path, m: &Manifest) -> Result<crate::profile::Profile, CertError> {
    let path = dir.join(bundle::PROFILE);
    let text = io(&path, std::fs::read_to_string(&path))?;
    let hash = super::sha256_hex(text.as_bytes());
    if m.profile.sha256.as_deref() != Some(hash.as_str()) {
        return Err(CertError::Profile(format!(
            "{} hashes to {hash}, the manifest says {:?}",
            bundle::PROFILE,
            m.profile.sha256
        )));
    }
    let name = &m.profile.name;
    if crate::profile::BUILTIN.iter().any(|(n, _)| n == name) {
        let ours = crate::profile::Profile::source_text(name)
            .map_err(|e| CertError::Profile(e.to_string()))?;
        if ours != text {
            return Err(CertError::Profile(format!(
                "the bundled `{name}` profile is not this build's `{name}` (swapped or edited)"
            )));
        }
    }
    crate::profile::Profile::parse(&text, bundle::PROFILE, name)
        .map_err(|e| CertError::Profile(e.to_string()))
}

/// What a scenario's verdict is compared by: not its path (the bundle's copy lives elsewhere)
/// nor its trace.
fn graded(s: &ScenarioRecord) -> (String, String, usize, Verdict, Option<String>) {
    (
        s.feature.clone(),
        s.name.clone(),
        s.line,
        s.verdict,
        s.reason.clone(),
    )
}

fn regrade(
    dir: &Path,
    m: &Manifest,
    profile: crate::profile::Profile,
) -> Result<RunReport, CertError> {
    let path = dir.join(TRANSCRIPT);
    let text = io(&path, std::fs::read_to_string(&path))?;
    let mut lines = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line: Line = serde_json::from_str(l)
            .map_err(|e| CertError::Regrade(format!("{TRANSCRIPT}:{}: {e}", i + 1)))?;
        lines.push(line);
    }
    let path = dir.join(REPORT_JSON);
    let recorded: RunReport = serde_json::from_str(&io(&path, std::fs::read_to_string(&path))?)
        .map_err(|e| CertError::Regrade(format!("{REPORT_JSON}: {e}")))?;
    let rig = RigClient::replay(
        lines,
        m.sut.clone(),
        Duration::from_millis(m.settings.deadline_ms),
        Duration::from_millis(m.settings.quiet_ms),
    );
    let opts = RunOptions {
        features: m
            .suite
            .sources
            .iter()
            .map(|s| dir.join(&s.bundled))
            .collect(),
        tags: m.settings.tags.clone(),
        name: m.settings.name.clone(),
        rig: Some(rig.clone()),
        profile: Some(profile),
        boundaries: m.settings.boundaries,
        ..RunOptions::default()
    };
    let again = run(&opts).map_err(|e| CertError::Regrade(e.to_string()))?;
    if again.scenarios.len() != recorded.scenarios.len() {
        return Err(CertError::Regrade(format!(
            "the results list {} scenarios, the suite has {}",
            recorded.scenarios.len(),
            again.scenarios.len()
        )));
    }
    for (r, a) in recorded.scenarios.iter().zip(&again.scenarios) {
        if graded(r) != graded(a) {
            return Err(CertError::Regrade(format!(
                "{} › {} (line {}): the results say {}, the transcript gives {}{}",
                r.feature,
                r.name,
                r.line,
                r.verdict.word(),
                a.verdict.word(),
                a.reason
                    .as_deref()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            )));
        }
    }
    // Same verdicts, yet the transcript holds more or other exchanges than the suite asks for.
    if let Some(why) = rig.replay_leftover() {
        return Err(CertError::Regrade(format!(
            "the transcript does not fit the suite: {why}"
        )));
    }
    for v in Verdict::ALL {
        if m.verdicts.get(v.word()).copied().unwrap_or(0) != again.count(v) {
            return Err(CertError::Regrade(format!(
                "the manifest counts {} {}, the transcript gives {}",
                m.verdicts.get(v.word()).copied().unwrap_or(0),
                v.word(),
                again.count(v)
            )));
        }
    }
    Ok(recorded)
}

fn check_policy(m: &Manifest, report: &RunReport) -> Result<(), CertError> {
    let s = &m.settings;
    if s.tags.is_some() || s.name.is_some() {
        return Err(CertError::Policy(
            "the run selected scenarios (--tags or --name); a certification runs them all".into(),
        ));
    }
    if let Some(other) = &s.emulate {
        return Err(CertError::Policy(format!(
            "the server emulated the dialect `{other}` (--emulate, a testing aid)"
        )));
    }
    if !s.faults.is_empty() {
        return Err(CertError::Policy(format!(
            "the server ran with deliberate bugs: {}",
            s.faults.join(", ")
        )));
    }
    // Unimplemented only where the dialect lacks the capability (the canonical profile lacks
    // none): not because the adapter left an operation out, nor for want of a driven clock.
    if let Some(u) = report.scenarios.iter().find(|r| {
        r.verdict == Verdict::Unimplemented
            && r.failure.as_ref().map(|f| f.failure.kind) != Some(FailureKind::NotInDialect)
    }) {
        return Err(CertError::Policy(format!(
            "a scenario is unimplemented for another reason than a capability the {} profile \
             lacks ({} unimplemented in all), e.g. {} › {}: {}",
            m.profile.name,
            report.unimplemented(),
            u.feature,
            u.name,
            u.reason.as_deref().unwrap_or_default()
        )));
    }
    if let Some(bad) = report.scenarios.iter().find(|r| r.verdict.fails_run()) {
        return Err(CertError::Policy(format!(
            "{} of {} scenarios failed or ended in an error, e.g. {} › {}: {}",
            report.failed() + report.errors(),
            report.scenarios.len(),
            bad.feature,
            bad.name,
            bad.reason.as_deref().unwrap_or_default()
        )));
    }
    Ok(())
}
