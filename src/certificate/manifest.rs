//! `manifest.json`: what was certified, how, where and when, and the SHA-256 of every other
//! file of the bundle. The signature covers its exact bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::conformance::rig::Started;

/// The manifest format this build writes and reads.
pub const FORMAT: &str = "callconf-certificate/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub callconf: Build,
    pub suite: Suite,
    pub profile: Profile,
    /// The adapter's hello (names, versions, capabilities) and whether the clock was driven.
    pub sut: Started,
    pub settings: Settings,
    /// The command line that made the bundle, as given.
    pub command: Vec<String>,
    pub environment: Environment,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    pub elapsed_ms: u64,
    /// Scenarios per verdict.
    pub verdicts: BTreeMap<String, usize>,
    /// Every other file of the bundle (paths relative to it, `/`-separated) and its SHA-256.
    pub files: BTreeMap<String, String>,
    /// The signer's ed25519 public key, hex.
    pub signer_public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub version: String,
    pub commit: String,
}

impl Build {
    /// This build.
    pub fn this() -> Build {
        Build {
            version: env!("CARGO_PKG_VERSION").into(),
            commit: env!("CALLCONF_COMMIT").into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// [`super::suite::hash`] of the features run.
    pub sha256: String,
    /// The feature sources as given, and where their copies are in the bundle.
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub given: String,
    pub bundled: String,
}

/// The dialect graded against (`profiles/NAME.yaml`, or a profile file), and the SHA-256 of its
/// text, which the bundle keeps as `profile.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub deadline_ms: u64,
    pub quiet_ms: u64,
    /// `manual` (driven) or `wall` (real time).
    pub clock: String,
    pub tags: Option<String>,
    pub name: Option<String>,
    /// Deliberate server bugs switched on (a certification run has none).
    pub faults: Vec<String>,
    /// The server was started elsewhere (`--server`).
    pub external_server: bool,
    /// The reference server emulated another dialect (`--emulate`, a testing aid).
    pub emulate: Option<String>,
    /// The boundary scenarios generated from the profile's limits ran too.
    pub boundaries: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub os: String,
    pub cpu_model: String,
    pub cpus: usize,
}

impl Environment {
    /// This machine, from /etc/os-release and /proc/cpuinfo.
    pub fn this() -> Environment {
        let field = |path: &str, key: &str, sep: char| {
            std::fs::read_to_string(path).ok().and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_once(sep))
                    .map(|(_, v)| v.trim().trim_matches('"').to_owned())
            })
        };
        Environment {
            os: field("/etc/os-release", "PRETTY_NAME", '=')
                .unwrap_or_else(|| std::env::consts::OS.into()),
            cpu_model: field("/proc/cpuinfo", "model name", ':')
                .unwrap_or_else(|| "unknown".into()),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}
