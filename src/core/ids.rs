//! Identifiers. Users and groups are named by the application (a JID, a UID), so they are
//! strings (a user's held inline when short); devices and calls are numbered by the core, so they are small integers
//! that hash and compare cheaply on the hot path.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use smol_str::SmolStr;

/// A user, named by the application (`alice`, `user-17@example.com`).
///
/// Held inline when the name fits in 23 bytes (nearly every name), and as a shared string
/// otherwise ([`SmolStr`]). Why: an id is cloned into every member, event and request of a call,
/// and compared and hashed on each of them; a shared string made each clone and drop an atomic
/// update of a counter on the heap (a cold cache line, about a tenth of the simulator's time) and
/// each hash and comparison a read of that line. Inline, an id is 24 bytes copied, hashed and
/// compared where it lies.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(SmolStr);

impl UserId {
    pub fn new(name: &str) -> Self {
        Self(SmolStr::new(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for UserId {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// A group (MirrorFly `groupId`, CometChat GUID): a named set of users a group call is placed in.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(Arc<str>);

impl GroupId {
    pub fn new(name: &str) -> Self {
        Self(Arc::from(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for GroupId {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// One device (phone, laptop, browser tab) of a user, numbered by the core in registration order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub u32);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "device-{}", self.0)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "d{}", self.0)
    }
}

/// A list of devices (a user's, or those ringing for a call's member), inline up to four: a user
/// has one or a few, and a heap buffer of its own was one more allocation and one more cold line
/// on the requests that read it; more spill over to the heap.
pub(crate) type Devices = SmallVec<[DeviceId; 4]>;

/// A call (CometChat session id, MirrorFly room id), numbered by the core from 1 in placing order,
/// so that the same inputs always name the same calls.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call-{}", self.0)
    }
}

impl fmt::Debug for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}
