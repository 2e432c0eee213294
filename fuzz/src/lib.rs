//! Helpers shared by the fuzz targets: the Rust SDK's reading of a shared file, and the shapes
//! of file where ses-doctor's editor and the SDK are known to part ways (so that a target checks
//! everything else without failing on a known finding).

use aws_config::profile::ProfileSet;
use ses_doctor::aws_files::{self, FileKind};

/// Characters of a profile name or key that the Rust SDK accepts (`validate_identifier` in
/// aws-runtime's `env_config/normalize.rs`).
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// The Rust SDK's reading of one file, or `None` when it refuses it.
pub fn sdk(text: &str, kind: FileKind) -> Option<ProfileSet> {
    ses_doctor::shared_files::sdk_reading(&[(kind, text)])
}

/// Runs a future to completion on this thread's runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
    }
    RUNTIME.with(|rt| rt.block_on(f))
}

/// The lines of `text` with their endings, as `aws_files` numbers them.
pub fn lines_with_endings(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The bytes of every section that is not `profile`'s, in file order: each section's lines from
/// its header up to its `end` (the same definition as the property tests in src/aws_files.rs).
pub fn other_sections(text: &str, kind: FileKind, profile: &str) -> Vec<String> {
    let lines = lines_with_endings(text);
    aws_files::sections(text, kind)
        .iter()
        .filter(|s| s.profile.as_deref() != Some(profile))
        .map(|s| lines[s.header_line..s.end].concat())
        .collect()
}

/// Known bug (issue #10's property tests found it; reported, not fixed): a line of `key` in one of `profile`'s sections followed by a continuation
/// line (indented; blank and comment lines between do not end the value for the SDK). The edits
/// change or drop the key's own line only, so the continuation stays: after `set` the SDK reads
/// the new value plus the continuation, after `remove` the continuation joins the property above
/// (or the file no longer parses).
pub fn continued(text: &str, kind: FileKind, profile: &str, key: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    aws_files::sections(text, kind)
        .iter()
        .filter(|s| s.profile.as_deref() == Some(profile))
        .flat_map(|s| s.props.iter().filter(|p| p.key == key))
        .any(|p| {
            lines
                .get(p.line + 1..)
                .unwrap_or_default()
                .iter()
                .find(|l| !l.trim_matches([' ', '\t']).is_empty() && !l.starts_with(['#', ';']))
                .is_some_and(|l| l.starts_with([' ', '\t']))
        })
}

/// A file that ends in a lone CR (`k = v\r`, no line feed): a line added after it turns that
/// CR into a CRLF, so the SDK's reading of that last value loses its trailing CR. (Any other CR
/// that does not end a CRLF is read alike by `aws_files` and the SDK.)
pub fn ends_in_lone_cr(text: &str) -> bool {
    text.ends_with('\r')
}

/// The SDK's quirk: sections whose headers name the same thing but are spelled differently inside
/// the brackets (`[profile a]`, `[profile  a]`, `[ a ]` and `[a]`) are merged in hash-map order,
/// so which value wins changes from one run to the next. Files with such headers are left out of
/// the comparisons with the SDK.
pub fn ambiguous_merge(text: &str) -> bool {
    let mut seen: Vec<((Option<String>, String), String)> = Vec::new();
    for line in text.lines() {
        if !line.starts_with('[') {
            continue;
        }
        // The SDK's `prepare_line(line, false)`: a comment starts anywhere in a header.
        let line = line.trim_matches([' ', '\t']);
        let line = line
            .find(['#', ';'])
            .map_or(line, |i| &line[..i])
            .trim_matches([' ', '\t']);
        let Some(raw) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
            continue;
        };
        let trimmed = raw.trim_matches([' ', '\t']);
        let normal = match trimmed.split_once([' ', '\t']) {
            Some((p, s)) => (Some(p.trim().to_owned()), s.trim().to_owned()),
            None => (None, trimmed.trim().to_owned()),
        };
        match seen.iter().find(|(n, _)| *n == normal) {
            Some((_, r)) if r != raw => return true,
            Some(_) => {}
            None => seen.push((normal, raw.to_owned())),
        }
    }
    false
}
