//! Who exists on a reference server: users with their plans and devices (with tokens), groups,
//! and the core's limits. The same data comes from a YAML file at start (`callconf serve
//! --population FILE`) or over the admin channel (`provision`), and is built into a fresh core
//! off to the side, so a population that fails half way changes nothing.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::auth::{Credentials, Token};
use crate::core::{CallError, Core, Endpoint, Fault, GroupId, Limits, Plan, UserConfig, UserId};
use crate::net::limits::TOKEN_BYTES_MAX;
use crate::scenario::locate::{Seg, locate};
use crate::scenario::{PathSeg, render_path};

/// A whole population.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// The core's limits; absent keys keep their defaults.
    #[serde(default)]
    pub limits: Option<Limits>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
}

impl Population {
    /// `users` users named `u0`, `u1`, …, each with one device `label` holding a fresh random
    /// token (for drivers that provision their own server and then connect as every device).
    pub fn numbered(users: usize, label: &str) -> Self {
        let users = (0..users)
            .map(|i| UserSpec {
                name: UserId::new(&format!("u{i}")),
                plan: None,
                endpoint: Endpoint::App,
                call_waiting: false,
                end_call_permission: false,
                devices: vec![DeviceSpec {
                    label: label.to_owned(),
                    token: Token::random(),
                }],
            })
            .collect();
        Self {
            limits: None,
            users,
            groups: Vec::new(),
        }
    }
}

/// One user and their devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub name: UserId,
    /// Default: everything, up to eight participants.
    #[serde(default)]
    pub plan: Option<Plan>,
    #[serde(default)]
    pub endpoint: Endpoint,
    #[serde(default)]
    pub call_waiting: bool,
    #[serde(default)]
    pub end_call_permission: bool,
    #[serde(default)]
    pub devices: Vec<DeviceSpec>,
}

impl UserSpec {
    pub fn config(&self) -> UserConfig {
        UserConfig {
            plan: self.plan.unwrap_or_default(),
            endpoint: self.endpoint,
            call_waiting: self.call_waiting,
            end_call_permission: self.end_call_permission,
        }
    }
}

/// A device: its label (unique for its user) and its secret token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    pub label: String,
    pub token: Token,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: GroupId,
    pub members: Vec<UserId>,
}

/// A population the core refused, with where (`users[2].devices[0].token`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}: {error}", render_path(.path))]
pub struct Refused {
    pub path: Vec<PathSeg>,
    pub error: CallError,
}

/// A population file that could not be used. Codes 931–933.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PopulationError {
    /// 931: the file could not be read.
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    /// 932: not valid YAML, an unknown key, a wrong type.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// 933: well formed, but the server refuses an entry (a duplicate name, an unknown member).
    #[error("{file}:{line}:{column}: {refused}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        refused: Refused,
    },
}

impl PopulationError {
    pub fn code(&self) -> u16 {
        match self {
            PopulationError::Io { .. } => 931,
            PopulationError::Syntax { .. } => 932,
            PopulationError::Invalid { .. } => 933,
        }
    }
}

/// Reads a population file and checks that a server can be built from it.
pub fn load(path: &Path) -> Result<Population, PopulationError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PopulationError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    parse(&text, &file)
}

/// Parses a population text and checks it by building it once.
pub fn parse(text: &str, file: &str) -> Result<Population, PopulationError> {
    let pop: Population = serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        PopulationError::Syntax {
            file: file.to_owned(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    build(&pop, &Limits::default(), &[]).map_err(|refused| {
        let segs: Vec<Seg<'_>> = refused.path.iter().map(PathSeg::as_seg).collect();
        let (line, column) = locate(text, &segs);
        PopulationError::Invalid {
            file: file.to_owned(),
            line,
            column,
            refused,
        }
    })?;
    Ok(pop)
}

/// Builds a fresh core and its credentials from `pop`, with `faults` switched on. Limits: the
/// population's, else `limits`.
pub fn build(
    pop: &Population,
    limits: &Limits,
    faults: &[Fault],
) -> Result<(Core, Credentials), Refused> {
    use PathSeg::{Index, Key};
    let mut core = Core::new(pop.limits.clone().unwrap_or_else(|| limits.clone()));
    for f in faults {
        core.inject_fault(*f);
    }
    let mut creds = Credentials::default();
    for (i, u) in pop.users.iter().enumerate() {
        let at = |rest: &[PathSeg]| [&[Key("users"), Index(i)], rest].concat();
        core.add_user(u.name.as_str(), u.config())
            .map_err(|error| Refused {
                path: at(&[Key("name")]),
                error,
            })?;
        for (j, d) in u.devices.iter().enumerate() {
            let path = at(&[Key("devices"), Index(j)]);
            let here = |k: &'static str, error| Refused {
                path: [path.clone(), vec![Key(k)]].concat(),
                error,
            };
            add_device(&mut core, &mut creds, &u.name, &d.label, &d.token)
                .map_err(|(k, e)| here(k, e))?;
        }
    }
    for (i, g) in pop.groups.iter().enumerate() {
        core.add_group(g.name.as_str(), &g.members)
            .map_err(|error| Refused {
                path: vec![Key("groups"), Index(i)],
                error,
            })?;
    }
    Ok((core, creds))
}

/// Adds one device with its token, refusing a duplicate label or a bad token; on refusal, names
/// the field (`label` or `token`) and changes nothing.
pub fn add_device(
    core: &mut Core,
    creds: &mut Credentials,
    user: &UserId,
    label: &str,
    token: &Token,
) -> Result<crate::core::DeviceId, (&'static str, CallError)> {
    if creds.device(user, label).is_some() {
        let reason = format!("{user} already has a device `{label}`");
        return Err(("label", CallError::bad("device", reason)));
    }
    if token.is_empty() {
        return Err(("token", CallError::bad("token", "must not be empty")));
    }
    if token.len() > TOKEN_BYTES_MAX {
        let too_large = CallError::TooLarge {
            field: "token",
            len: token.len(),
            max: TOKEN_BYTES_MAX,
        };
        return Err(("token", too_large));
    }
    let device = core.add_device(user, label).map_err(|e| ("label", e))?;
    creds.insert(user.clone(), label.to_owned(), device, token);
    Ok(device)
}
