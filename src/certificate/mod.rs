//! Certificates a third party can check: `certify --out DIR` writes a bundle (manifest,
//! transcript, results, the suite it ran, a certificate page) with a detached ed25519
//! signature over the manifest; `callconf verify DIR` checks the signature and every file's
//! hash, checks the suite against this build's, and **re-grades every scenario from the
//! transcript alone** (the replay backend of [`crate::conformance::rig_client`]), so neither
//! the vendor's SDK nor trust in the vendor is needed. Kubernetes' conformance results with
//! their published verifier and Autobahn's per-agent reports are the models.
//!
//! Threats it answers: a bundle edited after signing (hashes, signature); a bundle re-signed by
//! the vendor after editing a verdict or the transcript (the re-grade disagrees); a suite that
//! is not the published one (the suite hash); a run that left scenarios out (the policy).

pub mod bundle;
pub mod keys;
pub mod manifest;
pub mod page;
pub mod suite;
pub mod verify;

use std::path::PathBuf;

use thiserror::Error;

/// Why a bundle could not be written or checked. Codes 1300–1319.
#[derive(Debug, Error)]
pub enum CertError {
    /// 1300: a file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// 1301: a key file is not a key.
    #[error("{path}: not an ed25519 {what} key ({why})")]
    BadKey {
        path: PathBuf,
        what: &'static str,
        why: String,
    },
    /// 1302: the manifest is not a manifest of this format.
    #[error("manifest.json: {0}")]
    BadManifest(String),
    /// 1303: the signature does not verify, or was made with another key.
    #[error("signature: {0}")]
    Signature(String),
    /// 1304: a file's hash differs, or a file is missing or extra.
    #[error("files: {0}")]
    Files(String),
    /// 1305: the suite is not the one the manifest names, or not this build's.
    #[error("suite: {0}")]
    Suite(String),
    /// 1306: re-grading from the transcript gives other verdicts than the bundle's results.
    #[error("re-grade: {0}")]
    Regrade(String),
    /// 1307: the run does not meet the certification policy.
    #[error("policy: {0}")]
    Policy(String),
    /// 1309: the bundled profile is not the one the manifest names, or not this build's.
    #[error("profile: {0}")]
    Profile(String),
    /// 1308: the output directory exists and is not empty.
    #[error("{0}: the output directory exists and is not empty")]
    OutExists(PathBuf),
}

impl CertError {
    /// The stable numeric code.
    pub fn code(&self) -> u16 {
        match self {
            CertError::Io { .. } => 1300,
            CertError::BadKey { .. } => 1301,
            CertError::BadManifest(_) => 1302,
            CertError::Signature(_) => 1303,
            CertError::Files(_) => 1304,
            CertError::Suite(_) => 1305,
            CertError::Regrade(_) => 1306,
            CertError::Policy(_) => 1307,
            CertError::OutExists(_) => 1308,
            CertError::Profile(_) => 1309,
        }
    }
}

/// `f`'s error as a [`CertError::Io`] naming `path`.
pub(crate) fn io<T>(path: &std::path::Path, r: std::io::Result<T>) -> Result<T, CertError> {
    r.map_err(|source| CertError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
