//! Device credentials: which device a connection may speak for.
//!
//! Every device has a secret token, given when it is provisioned. A connection proves which
//! device it is by naming the user, the device's label and the token in its hello. The server
//! keeps only the SHA-256 digest of each token and compares digests in constant time, so neither
//! a timing difference nor a memory dump gives a token away, and a token never reaches a log,
//! a trace or a report: [`Token`]'s `Debug` prints nothing of it, and it has no `Display`.
//!
//! Authentication lives here, outside the sans-IO core: the core knows devices by id and
//! trusts its adapter; proving who is behind a socket is the transport's concern.

use std::fmt;

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::core::{DeviceId, UserId};

/// A device's secret. Serialises as the plain string (clients must send it); never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// A fresh random token (32 random bytes, hex): for in-process drivers that provision
    /// their own devices.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The secret itself, for a client that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// Whether `given` is this token, compared as digests in constant time (no timing and no
    /// length difference tells how much of a guess was right).
    pub fn matches(&self, given: &Token) -> bool {
        given.digest().ct_eq(&self.digest()).into()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The credentials of every provisioned device.
#[derive(Default)]
pub struct Credentials {
    /// (user, device label) → device.
    by_name: HashMap<(UserId, String), DeviceId>,
    /// Token digest of each device, indexed by device id; `None` for removed devices.
    digests: Vec<Option<[u8; 32]>>,
}

impl Credentials {
    /// The device this user has under this label, if any.
    pub fn device(&self, user: &UserId, label: &str) -> Option<DeviceId> {
        self.by_name.get(&(user.clone(), label.to_owned())).copied()
    }

    pub fn insert(&mut self, user: UserId, label: String, device: DeviceId, token: &Token) {
        let slot = device.0 as usize;
        if self.digests.len() <= slot {
            self.digests.resize(slot + 1, None);
        }
        self.digests[slot] = Some(token.digest());
        self.by_name.insert((user, label), device);
    }

    pub fn remove(&mut self, user: &UserId, label: &str) {
        if let Some(device) = self.by_name.remove(&(user.clone(), label.to_owned()))
            && let Some(d) = self.digests.get_mut(device.0 as usize)
        {
            *d = None;
        }
    }

    /// Drops every credential of `user`.
    pub fn remove_user(&mut self, user: &UserId) {
        let labels: Vec<String> = self
            .by_name
            .keys()
            .filter(|(u, _)| u == user)
            .map(|(_, l)| l.clone())
            .collect();
        for l in labels {
            self.remove(user, &l);
        }
    }

    /// The device that `user`, `label` and `token` name, if the token is right. An unknown
    /// user or label costs the same digest comparison as a wrong token, and the caller answers
    /// all three alike, so a refusal does not tell which devices exist.
    pub fn authenticate(&self, user: &UserId, label: &str, token: &Token) -> Option<DeviceId> {
        let given = token.digest();
        let device = self.device(user, label);
        let expected = device
            .and_then(|d| self.digests.get(d.0 as usize).copied().flatten())
            .unwrap_or([0xa5; 32]);
        let equal: bool = given.ct_eq(&expected).into();
        device.filter(|_| equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let t = Token::new("hunter2");
        assert!(!format!("{t:?}").contains("hunter2"));
    }

    #[test]
    fn only_the_right_token_for_the_right_device_authenticates() {
        let mut c = Credentials::default();
        let (alice, bob) = (UserId::from("alice"), UserId::from("bob"));
        c.insert(
            alice.clone(),
            "laptop".into(),
            DeviceId(0),
            &Token::new("a"),
        );
        c.insert(bob.clone(), "phone".into(), DeviceId(1), &Token::new("b"));
        assert_eq!(
            c.authenticate(&alice, "laptop", &Token::new("a")),
            Some(DeviceId(0))
        );
        assert_eq!(c.authenticate(&alice, "laptop", &Token::new("b")), None);
        // Bob's valid token does not open Alice's device, nor his own under her name.
        assert_eq!(c.authenticate(&alice, "phone", &Token::new("b")), None);
        assert_eq!(c.authenticate(&bob, "laptop", &Token::new("b")), None);
        c.remove(&alice, "laptop");
        assert_eq!(c.authenticate(&alice, "laptop", &Token::new("a")), None);
    }
}
