//! Errors of the conformance runner: everything a user can get wrong (a path, a feature file, a
//! step, a tag expression) names the file, the line and what is wrong.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Something wrong at a place in a feature file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    /// 1-based; 0 when the problem is about the whole file.
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

fn problems(list: &[Problem]) -> String {
    let noun = if list.len() == 1 {
        "problem"
    } else {
        "problems"
    };
    let mut out = format!("{} {noun} in the feature files:", list.len());
    for p in list {
        out.push_str(&format!("\n{p}"));
    }
    out
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConformanceError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no .feature files in {}", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoFeatures(Vec<PathBuf>),
    #[error("{}", problems(.0))]
    Invalid(Vec<Problem>),
    #[error("bad tag expression `{expr}`: {reason} (write e.g. `@hold and not @known-bug`)")]
    BadTags { expr: String, reason: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A dialect profile would not load (its `ProfileError`, code and place included).
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
}
