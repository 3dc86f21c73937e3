//! ed25519 keys for signing manifests (`ed25519-dalek`). `callconf keygen --out PREFIX` writes
//! the private key (its 32-byte seed, hex) to PREFIX, readable by its owner only, and the public
//! key (hex) to PREFIX.pub. The private key never enters a bundle; the manifest carries the
//! public key, and `verify --public-key FILE` pins it.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;

use super::{CertError, io};

/// Writes a new key pair: the private key to `prefix`, the public key to `prefix.pub`.
/// Returns the public key's hex.
pub fn generate(prefix: &Path) -> Result<String, CertError> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let public = hex::encode(key.verifying_key().as_bytes());
    write_private(prefix, &hex::encode(seed))?;
    let pub_path = public_path(prefix);
    io(&pub_path, std::fs::write(&pub_path, format!("{public}\n")))?;
    Ok(public)
}

/// `PREFIX.pub`.
pub fn public_path(prefix: &Path) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

fn write_private(path: &Path, text: &str) -> Result<(), CertError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = io(
        path,
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path),
    )?;
    io(path, writeln!(f, "{text}"))
}

fn bytes32(path: &Path, what: &'static str, text: &str) -> Result<[u8; 32], CertError> {
    let bad = |why: String| CertError::BadKey {
        path: path.to_owned(),
        what,
        why,
    };
    let raw = hex::decode(text.trim()).map_err(|e| bad(e.to_string()))?;
    raw.try_into()
        .map_err(|v: Vec<u8>| bad(format!("{} bytes, expected 32", v.len())))
}

/// Reads a private key written by [`generate`].
pub fn read_private(path: &Path) -> Result<SigningKey, CertError> {
    let text = io(path, std::fs::read_to_string(path))?;
    Ok(SigningKey::from_bytes(&bytes32(path, "private", &text)?))
}

/// Reads a public key from hex `text` (from `path`, for messages).
pub fn parse_public(path: &Path, text: &str) -> Result<VerifyingKey, CertError> {
    let bytes = bytes32(path, "public", text)?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| CertError::BadKey {
        path: path.to_owned(),
        what: "public",
        why: e.to_string(),
    })
}

/// The detached signature of `message`, hex.
pub fn sign(key: &SigningKey, message: &[u8]) -> String {
    hex::encode(key.sign(message).to_bytes())
}

/// Whether `signature_hex` is `key`'s signature of `message`.
pub fn check(key: &VerifyingKey, message: &[u8], signature_hex: &str) -> Result<(), CertError> {
    let raw = hex::decode(signature_hex.trim())
        .map_err(|e| CertError::Signature(format!("not hex: {e}")))?;
    let raw: [u8; 64] = raw
        .try_into()
        .map_err(|_| CertError::Signature("not 64 bytes".into()))?;
    key.verify(message, &Signature::from_bytes(&raw))
        .map_err(|_| CertError::Signature("does not verify with the manifest's key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        let a = SigningKey::from_bytes(&[1; 32]);
        let b = SigningKey::from_bytes(&[2; 32]);
        let sig = sign(&a, b"manifest");
        assert!(check(&a.verifying_key(), b"manifest", &sig).is_ok());
        assert!(check(&a.verifying_key(), b"manifest!", &sig).is_err());
        assert!(check(&b.verifying_key(), b"manifest", &sig).is_err());
    }
}
