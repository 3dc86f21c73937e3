//! The dialect profiles (`profiles/*.yaml`): the six built-ins load and say what the seeds say,
//! and every kind of mistake in a profile is a coded error naming file, line and column and what
//! would have been valid. One file per behaviour.

mod applies;
mod builtin;
mod errors;
mod invitation_names;
mod no_ringing;
mod operation_names;
mod policy;
mod seed_rules;

/// The canonical profile's text with `from` replaced by `to` (which must occur).
pub fn canonical_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/profiles/canonical.yaml"
    ))
    .expect("profiles/canonical.yaml is readable");
    assert!(text.contains(from), "{from:?} is in the canonical profile");
    text.replacen(from, to, 1)
}

/// The 1-based line of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .expect("the needle is in the text")
}
