//! The steps of a case. Steps name devices, never the core's ids, and a call by how far back it was placed ([`Back`]), so that removing an unrelated
//! earlier call while shrinking does not change which call a later step means.

use std::fmt;

use crate::core::CallId;

use crate::model::{Dev, GROUPS};

/// A call, counted back from the most recently placed one: `Back(0)` is the latest, `Back(1)`
/// the one before; counting past the first call names the next call, not placed yet (404).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Back(pub usize);

impl Back {
    /// The call meant, when `placed` calls have been placed.
    pub fn resolve(self, placed: usize) -> CallId {
        CallId(if self.0 < placed {
            placed - self.0
        } else {
            placed + 1
        } as u64)
    }

    /// How far back call `id` is, when `placed` calls have been placed.
    pub fn of(id: CallId, placed: usize) -> Back {
        Back(placed - id.0 as usize)
    }
}

impl fmt::Debug for Back {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("latest"),
            n => write!(f, "latest-{n}"),
        }
    }
}

/// One step of a test case.
#[derive(Clone, PartialEq, Eq)]
pub enum Step {
    Place {
        by: Dev,
        to: Vec<usize>,
        video: bool,
        group: Option<usize>,
    },
    /// Ring acknowledgement (Stringee `ringing()`).
    Ring {
        by: Dev,
        call: Back,
    },
    Accept {
        by: Dev,
        call: Back,
    },
    StartSession {
        by: Dev,
        call: Back,
    },
    Decline {
        by: Dev,
        call: Back,
        code: Option<u16>,
    },
    Cancel {
        by: Dev,
        call: Back,
    },
    Hangup {
        by: Dev,
        call: Back,
    },
    EndForAll {
        by: Dev,
        call: Back,
    },
    Join {
        by: Dev,
        call: Back,
    },
    Invite {
        by: Dev,
        call: Back,
        users: Vec<usize>,
    },
    Hold {
        by: Dev,
        call: Back,
        on: bool,
    },
    Mute {
        by: Dev,
        call: Back,
        video: bool,
        muted: bool,
    },
    Dtmf {
        by: Dev,
        call: Back,
        digits: String,
    },
    Transfer {
        by: Dev,
        call: Back,
        to: usize,
    },
    GetCall {
        by: Dev,
        call: Back,
    },
    /// Virtual time passes.
    Advance {
        ms: u64,
    },
    /// A device loses its connection.
    Offline {
        dev: Dev,
    },
    /// A device connects again.
    Online {
        dev: Dev,
    },
}

impl Step {
    /// The acting device and the call, for operations on a call.
    pub fn actor_and_call(&self) -> Option<(Dev, Back)> {
        match self {
            Step::Ring { by, call }
            | Step::Accept { by, call }
            | Step::StartSession { by, call }
            | Step::Decline { by, call, .. }
            | Step::Cancel { by, call }
            | Step::Hangup { by, call }
            | Step::EndForAll { by, call }
            | Step::Join { by, call }
            | Step::Invite { by, call, .. }
            | Step::Hold { by, call, .. }
            | Step::Mute { by, call, .. }
            | Step::Dtmf { by, call, .. }
            | Step::Transfer { by, call, .. }
            | Step::GetCall { by, call } => Some((*by, *call)),
            Step::Place { .. }
            | Step::Advance { .. }
            | Step::Offline { .. }
            | Step::Online { .. } => None,
        }
    }

    /// The call the step is about, to change it.
    pub fn call_mut(&mut self) -> Option<&mut Back> {
        match self {
            Step::Ring { call, .. }
            | Step::Accept { call, .. }
            | Step::StartSession { call, .. }
            | Step::Decline { call, .. }
            | Step::Cancel { call, .. }
            | Step::Hangup { call, .. }
            | Step::EndForAll { call, .. }
            | Step::Join { call, .. }
            | Step::Invite { call, .. }
            | Step::Hold { call, .. }
            | Step::Mute { call, .. }
            | Step::Dtmf { call, .. }
            | Step::Transfer { call, .. }
            | Step::GetCall { call, .. } => Some(call),
            Step::Place { .. }
            | Step::Advance { .. }
            | Step::Offline { .. }
            | Step::Online { .. } => None,
        }
    }

    /// The device that acts or changes, if any.
    pub fn device(&self) -> Option<Dev> {
        match self {
            Step::Place { by, .. } => Some(*by),
            Step::Offline { dev } | Step::Online { dev } => Some(*dev),
            Step::Advance { .. } => None,
            other => other.actor_and_call().map(|(d, _)| d),
        }
    }

    pub fn users(&self) -> Vec<usize> {
        match self {
            Step::Place { to, .. } => to.clone(),
            Step::Invite { users, .. } => users.clone(),
            Step::Transfer { to, .. } => vec![*to],
            _ => Vec::new(),
        }
    }
}

fn users(us: &[usize]) -> String {
    let names: Vec<String> = us.iter().map(|u| format!("u{u}")).collect();
    names.join(", ")
}

impl Step {
    /// The step as a line of a script, with calls named by `name`.
    fn write(&self, f: &mut impl fmt::Write, name: impl Fn(Back) -> String) -> fmt::Result {
        match self {
            Step::Place {
                by,
                to,
                video,
                group,
            } => {
                let kind = if *video { "video" } else { "audio" };
                write!(f, "{by:?}: place {kind} call to {}", users(to))?;
                if let Some(g) = group {
                    write!(f, " in group {}", GROUPS[*g].0)?;
                }
                Ok(())
            }
            Step::Ring { by, call } => write!(f, "{by:?}: ringing {}", name(*call)),
            Step::Accept { by, call } => write!(f, "{by:?}: accept {}", name(*call)),
            Step::StartSession { by, call } => write!(f, "{by:?}: start session {}", name(*call)),
            Step::Decline { by, call, code } => match code {
                Some(code) => write!(f, "{by:?}: decline {} with {code}", name(*call)),
                None => write!(f, "{by:?}: decline {}", name(*call)),
            },
            Step::Cancel { by, call } => write!(f, "{by:?}: cancel {}", name(*call)),
            Step::Hangup { by, call } => write!(f, "{by:?}: hang up {}", name(*call)),
            Step::EndForAll { by, call } => write!(f, "{by:?}: end {} for everyone", name(*call)),
            Step::Join { by, call } => write!(f, "{by:?}: join {}", name(*call)),
            Step::Invite {
                by,
                call,
                users: us,
            } => {
                write!(f, "{by:?}: invite {} into {}", users(us), name(*call))
            }
            Step::Hold { by, call, on } => {
                write!(
                    f,
                    "{by:?}: {} {}",
                    if *on { "hold" } else { "unhold" },
                    name(*call)
                )
            }
            Step::Mute {
                by,
                call,
                video,
                muted,
            } => {
                let what = if *muted { "mute" } else { "unmute" };
                let media = if *video { "video" } else { "audio" };
                write!(f, "{by:?}: {what} {media} in {}", name(*call))
            }
            Step::Dtmf { by, call, digits } => {
                write!(f, "{by:?}: DTMF {digits:?} in {}", name(*call))
            }
            Step::Transfer { by, call, to } => {
                write!(f, "{by:?}: transfer {} to u{to}", name(*call))
            }
            Step::GetCall { by, call } => write!(f, "{by:?}: get {}", name(*call)),
            Step::Advance { ms } => write!(f, "{ms} ms pass"),
            Step::Offline { dev } => write!(f, "{dev:?}: goes offline"),
            Step::Online { dev } => write!(f, "{dev:?}: comes back online"),
        }
    }

    /// The step as a line of a script, its call named by id (`c2`) as the world after `placed`
    /// calls has it.
    pub fn show(&self, placed: usize) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, |b| format!("c{}", b.resolve(placed).0));
        out
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out, |b| format!("{b:?}"))?;
        f.write_str(&out)
    }
}

impl Step {
    /// The operation's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Place { to, group, .. } if to.len() > 1 || group.is_some() => "place group",
            Step::Place { .. } => "place 1:1",
            Step::Ring { .. } => "ringing",
            Step::Accept { .. } => "accept",
            Step::StartSession { .. } => "start session",
            Step::Decline { .. } => "decline",
            Step::Cancel { .. } => "cancel",
            Step::Hangup { .. } => "hang up",
            Step::EndForAll { .. } => "end for everyone",
            Step::Join { .. } => "join",
            Step::Invite { .. } => "invite",
            Step::Hold { .. } => "hold",
            Step::Mute { .. } => "mute",
            Step::Dtmf { .. } => "dtmf",
            Step::Transfer { .. } => "transfer",
            Step::GetCall { .. } => "get call",
            Step::Advance { .. } => "time passes",
            Step::Offline { .. } => "offline",
            Step::Online { .. } => "online",
        }
    }
}
