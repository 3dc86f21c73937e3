//! The suite's identity: a SHA-256 over the canonicalised feature files and the step catalog,
//! so that a certificate names exactly what was run, and a verifier can tell whether it is the
//! suite of its own build. Canonical: `\r\n` read as `\n`, trailing whitespace of each line
//! dropped, files in path order (paths relative to their source folder), then the catalog as
//! `callconf steps` prints it.

use std::path::{Path, PathBuf};

use super::{CertError, io, sha256_hex};
use crate::conformance::catalog;

/// Every `.feature` file under `source` (or `source` itself), with its path relative to the
/// source (its file name for a file), sorted by that path.
pub fn feature_files(source: &Path) -> Result<Vec<(PathBuf, PathBuf)>, CertError> {
    let mut out = Vec::new();
    if source.is_file() {
        let name = source.file_name().map(PathBuf::from).unwrap_or_default();
        out.push((name, source.to_owned()));
        return Ok(out);
    }
    // Bounded: a directory tree is finite; symlinked directories are not followed.
    let mut stack = vec![source.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in io(&dir, std::fs::read_dir(&dir))? {
            let entry = io(&dir, entry)?;
            let path = entry.path();
            let kind = io(&path, entry.file_type())?;
            if kind.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "feature") {
                let rel = path.strip_prefix(source).unwrap_or(&path).to_owned();
                out.push((rel, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A feature file's text, canonicalised.
pub fn canonical(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The suite hash of `sources` (feature folders or files) with this build's step catalog.
pub fn hash(sources: &[PathBuf]) -> Result<String, CertError> {
    let mut all = String::new();
    for source in sources {
        for (rel, path) in feature_files(source)? {
            let text = io(&path, std::fs::read_to_string(&path))?;
            all.push_str(&format!("file {}\n", rel.display()));
            all.push_str(&canonical(&text));
        }
    }
    all.push_str("catalog\n");
    all.push_str(&catalog::render());
    Ok(sha256_hex(all.as_bytes()))
}

/// The hash of this build's canonical suite (`features/` of the source tree, or `./features`).
pub fn this_build() -> Result<String, CertError> {
    hash(&[crate::conformance::default_features_dir()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_ignores_line_endings_and_trailing_blanks_only() {
        assert_eq!(canonical("a  \r\nb\n"), canonical("a\nb"));
        assert_ne!(canonical("a\nb\n"), canonical("a\n b\n"));
    }
}
