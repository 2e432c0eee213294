//! The shared config and credentials files: `aws_files::sections`, `get_property`,
//! `set_property` and `remove_property` on any text, checked as the property tests in
//! src/aws_files.rs check them, and `SharedFiles::profiles` (the pure part of reading the files:
//! the SDK's parse, and the message that names the file it refuses).
//!
//! Input: three control bytes (file kind and operation, key, value), then the file's text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ses_doctor::aws_files::{self, FileKind};
use ses_doctor::shared_files::{SharedFile, SharedFiles};
use ses_doctor_fuzz::{
    ambiguous_merge, block_on, continued, ends_in_lone_cr, is_identifier, lines_with_endings,
    other_sections, sdk,
};

/// Well-formed values, as ses-doctor writes them (regions, key IDs, secrets).
const VALUES: [&str; 5] = [
    "eu-west-1",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "json",
    "x",
];

fuzz_target!(|data: &[u8]| {
    let Some((control, rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let text = text.as_ref();
    let kind = if control[0] & 1 == 0 {
        FileKind::Config
    } else {
        FileKind::Credentials
    };
    let all = aws_files::sections(text, kind);
    check_sections(text, &all);

    // The edit: a profile and key of the file (or usual ones), a well-formed value.
    let mut profiles: Vec<String> = vec!["default".into(), "mailer".into(), "new".into()];
    profiles.extend(
        all.iter()
            .filter_map(|s| s.profile.clone())
            .filter(|p| is_identifier(p)),
    );
    let mut keys: Vec<String> = ["region", "aws_access_key_id", "aws_session_token"]
        .map(String::from)
        .to_vec();
    keys.extend(
        all.iter()
            .flat_map(|s| s.props.iter().map(|p| p.key.clone()))
            .filter(|k| is_identifier(k)),
    );
    let profile = profiles[usize::from(control[0] >> 2) % profiles.len()].as_str();
    let key = keys[usize::from(control[1]) % keys.len()].as_str();
    let remove = control[2] & 0x80 != 0;
    let value = VALUES[usize::from(control[2] & 0x7f) % VALUES.len()];
    let edit = |t: &str| {
        if remove {
            aws_files::remove_property(t, kind, profile, key)
        } else {
            aws_files::set_property(t, kind, profile, key, value)
        }
    };
    let out = edit(text);

    // ses-doctor's own reader finds the edit, and doing it again changes nothing.
    let read = aws_files::get_property(&out, kind, profile, key);
    assert_eq!(
        read.as_deref(),
        (!remove).then_some(value),
        "{text:?} -> {out:?}"
    );
    assert_eq!(edit(&out), out, "not idempotent: {text:?}");

    // Every other section keeps its bytes. A line added after an unterminated last line needs a
    // line ending first: compare with the original so terminated.
    let base = ["\n", "\r\n"]
        .map(|eol| format!("{text}{eol}"))
        .into_iter()
        .find(|t| !text.ends_with('\n') && out.len() > t.len() && out.starts_with(t.as_str()))
        .unwrap_or_else(|| text.to_owned());
    let before = other_sections(&base, kind, profile);
    let after = other_sections(&out, kind, profile);
    assert_eq!(before, after, "{text:?} -> {out:?}");

    // The Rust SDK reads the edit and nothing else, where it read the original, except in the
    // shapes of the known findings (see lib.rs).
    if let Some(sdk_before) = sdk(text, kind) {
        if !continued(text, kind, profile, key) && !ends_in_lone_cr(text) && !ambiguous_merge(text)
        {
            let sdk_after = sdk(&out, kind)
                .unwrap_or_else(|| panic!("the SDK refuses the result: {text:?} -> {out:?}"));
            let read = sdk_after.get_profile(profile).and_then(|p| p.get(key));
            assert_eq!(read, (!remove).then_some(value), "{text:?} -> {out:?}");
            for name in sdk_before.profiles().chain(sdk_after.profiles()) {
                if name == profile {
                    for k in keys.iter().filter(|k| *k != key) {
                        let get = |s: &aws_config::profile::ProfileSet| {
                            s.get_profile(name)
                                .and_then(|p| p.get(k))
                                .map(str::to_owned)
                        };
                        assert_eq!(
                            get(&sdk_before),
                            get(&sdk_after),
                            "{k}: {text:?} -> {out:?}"
                        );
                    }
                    continue;
                }
                assert_eq!(
                    sdk_before.get_profile(name),
                    sdk_after.get_profile(name),
                    "profile {name:?}: {text:?} -> {out:?}"
                );
            }
            for name in sdk_before.sso_sessions().chain(sdk_after.sso_sessions()) {
                assert_eq!(sdk_before.sso_session(name), sdk_after.sso_session(name));
            }
            assert_eq!(sdk_before.other_sections(), sdk_after.other_sections());
        }
    }

    // Reading both files as ses-doctor does: the SDK's verdict on the pair, and a refusal names
    // the file at fault.
    let file = |kind, path: &str, text: &str| SharedFile {
        kind,
        path: path.into(),
        text: Some(text.to_owned()),
    };
    let (config, credentials) = match kind {
        FileKind::Config => (text, ""),
        FileKind::Credentials => ("", text),
    };
    let files = SharedFiles {
        config: file(FileKind::Config, "/fuzz/config", config),
        credentials: file(FileKind::Credentials, "/fuzz/credentials", credentials),
    };
    match block_on(files.profiles(None)) {
        Ok(_) => assert!(sdk(text, kind).is_some()),
        Err(f) => {
            assert!(sdk(text, kind).is_none());
            assert!(
                f.message.starts_with("/fuzz/"),
                "the refusal names no file: {:?}",
                f.message
            );
        }
    }
    let _ = files.config.sections();
});

/// What `sections` promises: sections in file order that do not overlap, each property inside
/// its section, keys in lower case.
fn check_sections(text: &str, all: &[aws_files::Section]) {
    let count = lines_with_endings(text).len();
    let mut previous_end = 0;
    for s in all {
        assert!(previous_end <= s.header_line, "{text:?}");
        assert!(s.header_line < s.end && s.end <= count, "{text:?}");
        for p in &s.props {
            assert!(s.header_line < p.line && p.line < s.end, "{text:?}");
            assert_eq!(p.key, p.key.to_ascii_lowercase());
        }
        previous_end = s.end;
    }
}
