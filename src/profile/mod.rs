//! Vendor dialect profiles: each of the five calling products callconf models (and the
//! canonical lifecycle itself) as data, `profiles/<name>.yaml`.
//!
//! Why data and not code: the reference implementation has one call model, and a dialect only
//! switches capabilities off, changes limits and flips a few rules. Keeping that in a file lets a
//! vendor read, diff and extend what callconf believes about its SDK, and keeps vendor names out
//! of the core, which sees only the [`Policy`] built here (inside [`Limits`]). The keys are
//! documented in `docs/profiles.md`.
//!
//! A profile is external input: every mistake in one is a [`ProfileError`] with a stable code
//! and the file, line and column, never a panic.

mod error;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

pub use error::ProfileError;

use crate::core::{Capability, DTMF_CHARACTERS, Limits, Policy};
use crate::scenario::locate::{Seg, locate};

/// The built-in profiles, in the order reports list them.
pub const BUILTIN: [(&str, &str); 6] = [
    ("canonical", include_str!("../../profiles/canonical.yaml")),
    ("mirrorfly", include_str!("../../profiles/mirrorfly.yaml")),
    ("cometchat", include_str!("../../profiles/cometchat.yaml")),
    ("stringee", include_str!("../../profiles/stringee.yaml")),
    ("voximplant", include_str!("../../profiles/voximplant.yaml")),
    ("stream", include_str!("../../profiles/stream.yaml")),
];

/// One dialect.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The file's stem (`stringee` for `profiles/stringee.yaml`), not a key of the file.
    #[serde(skip)]
    pub name: String,
    /// The product and API the dialect describes.
    pub vendor: String,
    /// The seed document it is read from (`002`), if any.
    #[serde(default)]
    pub seed: Option<String>,
    /// Every capability, true when the dialect has it.
    pub capabilities: BTreeMap<Capability, bool>,
    /// Limits that differ from the defaults of [`Limits`]; absent keys keep them.
    #[serde(default)]
    pub limits: ProfileLimits,
    pub rules: Rules,
    #[serde(default)]
    pub names: Names,
    /// Vendor result codes and the canonical code each stands for.
    #[serde(default)]
    pub codes: Vec<CodeMapping>,
}

/// The limits a dialect may change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileLimits {
    pub ring_timeout_ms: Option<u64>,
    pub early_media_ms_max: Option<u64>,
    pub participants_per_call_max: Option<usize>,
    pub custom_data_bytes_max: Option<usize>,
    pub info_bytes_max: Option<usize>,
    pub message_bytes_max: Option<usize>,
    pub dtmf_digits_max: Option<usize>,
    /// The DTMF characters allowed, a subset of `0123456789*#ABCDp`.
    pub dtmf_characters: Option<String>,
}

/// The rules that differ between dialects; every profile states each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub session_start_required: bool,
    pub caller_auto_joins: bool,
    pub transfer_app_phone_only: bool,
    pub cancel_before_first_accept_only: bool,
    pub reject_codes_3xx_6xx: bool,
    pub header_x_prefix_required: bool,
    pub end_for_all_host_needs_permission: bool,
    /// Media path only (one inbound audio stream per call); the signaling core does not look
    /// at it, the media checks do (docs/profiles.md).
    pub one_inbound_audio: bool,
}

impl Rules {
    /// Every rule's name, as profiles and feature tags (`@rule:NAME`) write it.
    pub const NAMES: [&'static str; 8] = [
        "session_start_required",
        "caller_auto_joins",
        "transfer_app_phone_only",
        "cancel_before_first_accept_only",
        "reject_codes_3xx_6xx",
        "header_x_prefix_required",
        "end_for_all_host_needs_permission",
        "one_inbound_audio",
    ];

    /// The rule called `name`, if there is one.
    pub fn named(&self, name: &str) -> Option<bool> {
        Some(match name {
            "session_start_required" => self.session_start_required,
            "caller_auto_joins" => self.caller_auto_joins,
            "transfer_app_phone_only" => self.transfer_app_phone_only,
            "cancel_before_first_accept_only" => self.cancel_before_first_accept_only,
            "reject_codes_3xx_6xx" => self.reject_codes_3xx_6xx,
            "header_x_prefix_required" => self.header_x_prefix_required,
            "end_for_all_host_needs_permission" => self.end_for_all_host_needs_permission,
            "one_inbound_audio" => self.one_inbound_audio,
            _ => return None,
        })
    }
}

/// The canonical events, as profiles name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventName {
    Incoming,
    Notified,
    Participant,
    Status,
    Hold,
    Track,
    Dtmf,
    Info,
    Message,
    CustomData,
    EarlyMedia,
    Signal,
    TransferResult,
    Ended,
    Detached,
}

/// The dialect's own names for operations and events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    #[serde(default)]
    pub operations: BTreeMap<Capability, String>,
    #[serde(default)]
    pub events: BTreeMap<EventName, String>,
    /// The incoming-call payload's fields as the vendor names them (MirrorFly's `callTime`,
    /// `userJid`, …), each the canonical field it carries: checked by the step `the invitation
    /// <device> received has, in the dialect's names:`.
    #[serde(default)]
    pub incoming: BTreeMap<String, InvitationField>,
}

/// A field of the canonical invitation payload (`core::CallInfo`, `info.*` in an event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationField {
    Call,
    CallType,
    Group,
    Caller,
    Invitees,
    Status,
    CreatedMs,
    CustomData,
    Headers,
    TransferredBy,
}

impl InvitationField {
    /// The field's dotted path in an incoming event's JSON form.
    pub const fn path(self) -> &'static str {
        match self {
            InvitationField::Call => "info.call",
            InvitationField::CallType => "info.call_type",
            InvitationField::Group => "info.group",
            InvitationField::Caller => "info.caller",
            InvitationField::Invitees => "info.invitees",
            InvitationField::Status => "info.status",
            InvitationField::CreatedMs => "info.created_ms",
            InvitationField::CustomData => "info.custom_data",
            InvitationField::Headers => "info.headers",
            InvitationField::TransferredBy => "info.transferred_by",
        }
    }
}

/// One vendor result code and its canonical meaning.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeMapping {
    /// The vendor's code as the vendor writes it (`r=1`, `statusCode 403`, `486`).
    pub vendor: String,
    pub canonical: u16,
    #[serde(default)]
    pub meaning: String,
}

/// Codes the canonical lifecycle gives: refusals, then the codes calls end with.
pub const CANONICAL_CODES: [u16; 16] = [
    400, 401, 403, 404, 409, 410, 413, 422, 480, 486, 501, 503, 200, 408, 487, 603,
];

impl Profile {
    /// The built-in profile `name`, or the profile file at `name` when it names a `.yaml` file.
    pub fn resolve(name: &str) -> Result<Profile, ProfileError> {
        if name.ends_with(".yaml") || name.contains('/') {
            return Profile::load(Path::new(name));
        }
        Profile::builtin(name)
    }

    /// The YAML text `name` resolves to (a built-in's, or the file's), for certificates.
    pub fn source_text(name: &str) -> Result<String, ProfileError> {
        if name.ends_with(".yaml") || name.contains('/') {
            return std::fs::read_to_string(name).map_err(|e| ProfileError::Read {
                file: name.to_owned(),
                message: e.to_string(),
            });
        }
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| (*text).to_owned())
            .ok_or_else(|| ProfileError::Unknown {
                name: name.to_owned(),
                known: builtin_names().join(", "),
            })
    }

    /// One of [`BUILTIN`].
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Profile::parse(text, &format!("profiles/{n}.yaml"), n),
            None => Err(ProfileError::Unknown {
                name: name.to_owned(),
                known: builtin_names().join(", "),
            }),
        }
    }

    /// Every built-in profile, in [`BUILTIN`] order.
    pub fn all() -> Result<Vec<Profile>, ProfileError> {
        BUILTIN.iter().map(|(n, _)| Profile::builtin(n)).collect()
    }

    /// Reads a profile file; its name is the file's stem.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Read {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let name = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        Profile::parse(&text, &file, &name)
    }

    /// Parses and checks a profile text; `file` is how errors name it.
    pub fn parse(text: &str, file: &str, name: &str) -> Result<Profile, ProfileError> {
        let mut p: Profile = serde_yaml::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            ProfileError::Syntax {
                file: file.to_owned(),
                line,
                column,
                message: e.to_string(),
            }
        })?;
        p.name = name.to_owned();
        let at = |path: &[Seg<'_>]| {
            let (line, column) = locate(text, path);
            (file.to_owned(), line, column)
        };
        p.check_capabilities(&at)?;
        p.check_limits(&at)?;
        p.check_rules(&at)?;
        p.check_codes(&at)?;
        Ok(p)
    }

    /// The core's limits under this dialect, its policy included.
    pub fn core_limits(&self) -> Limits {
        let d = Limits::default();
        let l = &self.limits;
        Limits {
            ring_timeout_ms: l.ring_timeout_ms.unwrap_or(d.ring_timeout_ms),
            early_media_ms_max: l.early_media_ms_max.unwrap_or(d.early_media_ms_max),
            participants_per_call_max: l
                .participants_per_call_max
                .unwrap_or(d.participants_per_call_max),
            custom_data_bytes_max: l.custom_data_bytes_max.unwrap_or(d.custom_data_bytes_max),
            info_bytes_max: l.info_bytes_max.unwrap_or(d.info_bytes_max),
            message_bytes_max: l.message_bytes_max.unwrap_or(d.message_bytes_max),
            dtmf_digits_max: l.dtmf_digits_max.unwrap_or(d.dtmf_digits_max),
            policy: Arc::new(self.policy()),
            ..d
        }
    }

    /// The dialect as the core sees it.
    pub fn policy(&self) -> Policy {
        let r = &self.rules;
        Policy {
            absent: self.absent(),
            dtmf_characters: self
                .limits
                .dtmf_characters
                .clone()
                .unwrap_or_else(|| DTMF_CHARACTERS.to_owned()),
            session_start_required: r.session_start_required,
            transfer_app_phone_only: r.transfer_app_phone_only,
            header_x_prefix_required: r.header_x_prefix_required,
            reject_codes_3xx_6xx: r.reject_codes_3xx_6xx,
            end_for_all_host_needs_permission: r.end_for_all_host_needs_permission,
        }
    }

    /// The capabilities the dialect lacks, in declaration order.
    pub fn absent(&self) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| self.capabilities.get(c) == Some(&false))
            .collect()
    }

    /// The dialect's name for an operation, else the canonical one.
    pub fn operation_name(&self, capability: Capability) -> &str {
        self.names
            .operations
            .get(&capability)
            .map_or(capability.name(), String::as_str)
    }

    /// The canonical code a vendor code stands for.
    pub fn canonical_code(&self, vendor: &str) -> Option<u16> {
        self.codes
            .iter()
            .find(|c| c.vendor == vendor)
            .map(|c| c.canonical)
    }

    fn check_capabilities(&self, at: &Locator<'_>) -> Result<(), ProfileError> {
        let missing: Vec<&str> = Capability::ALL
            .iter()
            .filter(|c| !self.capabilities.contains_key(c))
            .map(|c| c.name())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let (file, line, column) = at(&[Seg::Key("capabilities")]);
        Err(ProfileError::MissingCapability {
            file,
            line,
            column,
            missing: missing.join(", "),
            all: Capability::ALL.map(Capability::name).join(", "),
        })
    }

    fn check_limits(&self, at: &Locator<'_>) -> Result<(), ProfileError> {
        let l = &self.limits;
        let bad = |key: &'static str, reason: String| {
            let (file, line, column) = at(&[Seg::Key("limits"), Seg::Key(key)]);
            Err(ProfileError::BadLimit {
                file,
                line,
                column,
                key,
                reason,
            })
        };
        if let Some(chars) = &l.dtmf_characters {
            if chars.is_empty() {
                return bad("dtmf_characters", "must not be empty".into());
            }
            if let Some(c) = chars.chars().find(|c| !DTMF_CHARACTERS.contains(*c)) {
                let reason = format!("{c:?} is not a DTMF character; valid: {DTMF_CHARACTERS}");
                return bad("dtmf_characters", reason);
            }
        }
        let hard_max = Limits::default().participants_per_call_max;
        if let Some(n) = l.participants_per_call_max
            && !(2..=hard_max).contains(&n)
        {
            return bad(
                "participants_per_call_max",
                format!("{n} is outside the valid 2..={hard_max}"),
            );
        }
        let positive = [
            ("ring_timeout_ms", l.ring_timeout_ms.map(|v| v as usize)),
            (
                "early_media_ms_max",
                l.early_media_ms_max.map(|v| v as usize),
            ),
            ("custom_data_bytes_max", l.custom_data_bytes_max),
            ("info_bytes_max", l.info_bytes_max),
            ("message_bytes_max", l.message_bytes_max),
            ("dtmf_digits_max", l.dtmf_digits_max),
        ];
        match positive.into_iter().find(|(_, v)| *v == Some(0)) {
            Some((key, _)) => bad(key, "0 is not valid; the valid values are 1 or more".into()),
            None => Ok(()),
        }
    }

    fn check_rules(&self, at: &Locator<'_>) -> Result<(), ProfileError> {
        // The one model always lets the caller join on the first accept and cancel only before
        // it; a dialect that does otherwise cannot be emulated, so it is refused, not ignored.
        let fixed = [
            ("caller_auto_joins", self.rules.caller_auto_joins),
            (
                "cancel_before_first_accept_only",
                self.rules.cancel_before_first_accept_only,
            ),
        ];
        match fixed.into_iter().find(|(_, v)| !*v) {
            Some((rule, value)) => {
                let (file, line, column) = at(&[Seg::Key("rules"), Seg::Key(rule)]);
                Err(ProfileError::RuleNotEmulated {
                    file,
                    line,
                    column,
                    rule,
                    value,
                    valid: true,
                })
            }
            None => Ok(()),
        }
    }

    fn check_codes(&self, at: &Locator<'_>) -> Result<(), ProfileError> {
        let mut seen = BTreeSet::new();
        for (index, c) in self.codes.iter().enumerate() {
            let reason = if !CANONICAL_CODES.contains(&c.canonical) {
                let valid: Vec<String> = CANONICAL_CODES.iter().map(u16::to_string).collect();
                format!(
                    "{} is not a canonical code; valid: {}",
                    c.canonical,
                    valid.join(", ")
                )
            } else if !seen.insert(c.vendor.as_str()) {
                format!("the vendor code {:?} is mapped twice", c.vendor)
            } else {
                continue;
            };
            let (file, line, column) = at(&[Seg::Key("codes"), Seg::Index(index)]);
            return Err(ProfileError::BadCode {
                file,
                line,
                column,
                index,
                reason,
            });
        }
        Ok(())
    }
}

/// Where a key path of the profile text stands: `(file, line, column)`.
type Locator<'a> = dyn Fn(&[Seg<'_>]) -> (String, usize, usize) + 'a;

/// The names of the built-in profiles.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}
