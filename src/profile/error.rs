//! Why a profile could not be loaded, with stable codes 1200–1206. Every error but the first
//! and the last names the file, line and column, and what would have been valid there.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// 1200: the file cannot be read.
    #[error("{file}: cannot read the profile: {message}")]
    Read { file: String, message: String },
    /// 1201: not YAML, or not a profile: an unknown key, a missing one, a value of the wrong
    /// type. serde's message names the expected keys or values.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// 1202: `capabilities` leaves some out; a profile states every capability.
    #[error(
        "{file}:{line}:{column}: capabilities: {missing} not listed; every one of {all} must be true or false"
    )]
    MissingCapability {
        file: String,
        line: usize,
        column: usize,
        missing: String,
        all: String,
    },
    /// 1203: a limit outside what the reference implementation can emulate.
    #[error("{file}:{line}:{column}: limits.{key}: {reason}")]
    BadLimit {
        file: String,
        line: usize,
        column: usize,
        key: &'static str,
        reason: String,
    },
    /// 1204: a rule set to a value the reference implementation does not emulate.
    #[error(
        "{file}:{line}:{column}: rules.{rule}: {value} is not emulated; the valid value is {valid}"
    )]
    RuleNotEmulated {
        file: String,
        line: usize,
        column: usize,
        rule: &'static str,
        value: bool,
        valid: bool,
    },
    /// 1205: a code map entry maps to no canonical code, or a vendor code twice.
    #[error("{file}:{line}:{column}: codes[{index}]: {reason}")]
    BadCode {
        file: String,
        line: usize,
        column: usize,
        index: usize,
        reason: String,
    },
    /// 1206: no built-in profile has this name.
    #[error("no profile `{name}`; the profiles are {known} (or give the path of a .yaml file)")]
    Unknown { name: String, known: String },
}

impl ProfileError {
    /// The stable numeric code.
    pub fn code(&self) -> u16 {
        match self {
            ProfileError::Read { .. } => 1200,
            ProfileError::Syntax { .. } => 1201,
            ProfileError::MissingCapability { .. } => 1202,
            ProfileError::BadLimit { .. } => 1203,
            ProfileError::RuleNotEmulated { .. } => 1204,
            ProfileError::BadCode { .. } => 1205,
            ProfileError::Unknown { .. } => 1206,
        }
    }
}
