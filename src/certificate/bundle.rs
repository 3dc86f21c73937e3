//! Writes a certificate bundle (`certify --out DIR --sign-key PREFIX`):
//!
//! ```text
//! DIR/manifest.json        what, how, where, when; every other file's SHA-256
//! DIR/manifest.json.sig    ed25519 signature over manifest.json's bytes, hex
//! DIR/transcript.ndjson    every exchange with the system under test, in order
//! DIR/results/report.json  the verdict of every scenario (callconf's report)
//! DIR/results/junit.xml    the same for CI systems
//! DIR/results/report.html  the readable report
//! DIR/suite/N/…            the feature files run, source by source
//! DIR/profile.yaml         the dialect profile graded against
//! DIR/certificate.html     one page: SDK, verdicts per capability, hashes, how to verify
//! DIR/README.md            what was certified, and the command that reproduces it
//! ```
//!
//! Results carry no times (the manifest does), so that two runs against the manual clock give
//! byte-identical transcripts and results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use ed25519_dalek::SigningKey;

use super::manifest::{Build, Environment, FORMAT, Manifest, Profile, Settings, Source, Suite};
use super::{CertError, io, keys, page, sha256_hex, suite};
use crate::conformance::RunReport;
use crate::conformance::report::{Verdict, html, junit};
use crate::conformance::rig::Started;
use crate::conformance::rig_client::Transcript;

/// The manifest's file name; its signature's is this plus `.sig`.
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.json.sig";
pub const TRANSCRIPT: &str = "transcript.ndjson";
pub const REPORT_JSON: &str = "results/report.json";
pub const PROFILE: &str = "profile.yaml";

/// Everything a bundle is made of.
pub struct Input<'a> {
    pub dir: &'a Path,
    pub report: &'a RunReport,
    pub transcript: &'a Transcript,
    pub started: &'a Started,
    pub sources: &'a [PathBuf],
    /// The profile's name and its YAML text.
    pub profile: (String, String),
    pub settings: Settings,
    pub command: Vec<String>,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub key: &'a SigningKey,
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), CertError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        io(parent, std::fs::create_dir_all(parent))?;
    }
    io(&path, std::fs::write(&path, bytes))
}

/// The report as the bundle keeps it: without its run time.
pub fn timeless(report: &RunReport) -> RunReport {
    RunReport {
        elapsed: Duration::ZERO,
        ..report.clone()
    }
}

/// Writes the bundle and signs it; returns the manifest.
pub fn write_bundle(input: &Input<'_>) -> Result<Manifest, CertError> {
    let dir = input.dir;
    if dir.exists() && io(dir, std::fs::read_dir(dir))?.next().is_some() {
        return Err(CertError::OutExists(dir.to_owned()));
    }
    io(dir, std::fs::create_dir_all(dir))?;

    // The suite, source by source, so that the verifier re-grades exactly what ran.
    let mut sources = Vec::new();
    for (i, source) in input.sources.iter().enumerate() {
        let base = format!("suite/{i}");
        for (rel, path) in suite::feature_files(source)? {
            let text = io(&path, std::fs::read(&path))?;
            write(dir, &format!("{base}/{}", rel.display()), &text)?;
        }
        let bundled = if source.is_file() {
            let name = source.file_name().unwrap_or_default().to_string_lossy();
            format!("{base}/{name}")
        } else {
            base
        };
        sources.push(Source {
            given: source.display().to_string(),
            bundled,
        });
    }
    let report = timeless(input.report);
    write(dir, TRANSCRIPT, input.transcript.to_ndjson().as_bytes())?;
    let json = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
    write(dir, REPORT_JSON, json.as_bytes())?;
    write(dir, "results/junit.xml", junit::render(&report).as_bytes())?;
    write(dir, "results/report.html", html::render(&report).as_bytes())?;

    let suite_hash = suite::hash(input.sources)?;
    write(dir, PROFILE, input.profile.1.as_bytes())?;
    let public = hex::encode(input.key.verifying_key().as_bytes());
    let mut manifest = Manifest {
        format: FORMAT.into(),
        callconf: Build::this(),
        suite: Suite {
            sha256: suite_hash,
            sources,
        },
        profile: Profile {
            name: input.profile.0.clone(),
            sha256: Some(sha256_hex(input.profile.1.as_bytes())),
        },
        sut: input.started.clone(),
        settings: input.settings.clone(),
        command: input.command.clone(),
        environment: Environment::this(),
        started_at: humantime::format_rfc3339_seconds(input.started_at).to_string(),
        finished_at: humantime::format_rfc3339_seconds(input.finished_at).to_string(),
        elapsed_ms: input
            .finished_at
            .duration_since(input.started_at)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        verdicts: Verdict::ALL
            .iter()
            .map(|v| (v.word().to_owned(), report.count(*v)))
            .collect(),
        files: BTreeMap::new(),
        signer_public_key: public,
    };
    write(
        dir,
        "certificate.html",
        page::render(&manifest, &report, dir)?.as_bytes(),
    )?;
    write(dir, "README.md", readme(&manifest).as_bytes())?;
    manifest.files = hashes(dir)?;
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    write(dir, MANIFEST, text.as_bytes())?;
    write(
        dir,
        SIGNATURE,
        (keys::sign(input.key, text.as_bytes()) + "\n").as_bytes(),
    )?;
    Ok(manifest)
}

/// The SHA-256 of every file under `dir` but the manifest and its signature, by relative path.
pub fn hashes(dir: &Path) -> Result<BTreeMap<String, String>, CertError> {
    let mut out = BTreeMap::new();
    // Bounded: the bundle is a finite tree; symlinks are hashed as files, not followed.
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in io(&d, std::fs::read_dir(&d))? {
            let entry = io(&d, entry)?;
            let path = entry.path();
            if io(&path, entry.file_type())?.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if rel == MANIFEST || rel == SIGNATURE {
                continue;
            }
            out.insert(rel, sha256_hex(&io(&path, std::fs::read(&path))?));
        }
    }
    Ok(out)
}

fn readme(m: &Manifest) -> String {
    let verdicts: Vec<String> = m
        .verdicts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    format!(
        "# callconf certificate: {sdk} {sdk_v}\n\n\
         - SDK under test: {sdk} {sdk_v}, through the adapter {ad} {ad_v}\n\
         - Profile: {profile}\n\
         - Suite: sha256 {suite}\n\
         - Made by callconf {version} (commit {commit}) on {os}, {cpus} × {cpu}\n\
         - From {start} to {end}\n\
         - Verdicts: {verdicts}\n\n\
         ## Check it\n\n\
         ```sh\n\
         callconf verify {{this directory}} --public-key SIGNER.pub\n\
         ```\n\n\
         `verify` checks the signature (the signer's public key is `{key}`; pin it with\n\
         `--public-key`), the hash of every file, that the suite is the one the verifying build\n\
         ships, and re-grades every scenario from `transcript.ndjson` alone: the SDK is not needed.\n\n\
         ## Reproduce the run\n\n\
         ```sh\n\
         {command}\n\
         ```\n",
        sdk = m.sut.sdk.name,
        sdk_v = m.sut.sdk.version,
        ad = m.sut.adapter.name,
        ad_v = m.sut.adapter.version,
        profile = m.profile.name,
        suite = m.suite.sha256,
        version = m.callconf.version,
        commit = m.callconf.commit,
        os = m.environment.os,
        cpus = m.environment.cpus,
        cpu = m.environment.cpu_model,
        start = m.started_at,
        end = m.finished_at,
        verdicts = verdicts.join(", "),
        key = m.signer_public_key,
        command = shlex::try_join(m.command.iter().map(String::as_str))
            .unwrap_or_else(|_| m.command.join(" ")),
    )
}
