//! Part of step 0: where the SDKs a mailer may be built on would read the same files and
//! variables differently from the Rust SDK that ses-doctor tests with. The mailer is usually not
//! written in Rust, so each case is reported with what each SDK sees, instead of silently
//! following one of them. The facts, and their sources:
//!
//! - botocore (boto3, the AWS CLI v1) reads `AWS_DEFAULT_REGION`, not `AWS_REGION`; the AWS CLI
//!   v2 and the other SDKs read `AWS_REGION`, the JavaScript SDKs only that (aws/aws-cli#3800,
//!   boto/boto3#2574, aws/aws-sdk-js#2929; AWS SDKs reference guide, "AWS Region").
//! - botocore takes `AWS_DEFAULT_PROFILE` before `AWS_PROFILE`; the other SDKs ignore it.
//! - Config file with `[default]` and `[profile default]`: the Rust SDK reads only the second,
//!   botocore whichever comes later (aws-runtime `normalize.rs`; botocore `build_profile_map`).
//! - A section twice in one file: the Rust SDK merges them, botocore refuses the whole file
//!   (configparser's `DuplicateSectionError`). configparser names a section by everything between
//!   `[` and the last `]`, so `[profile a] # note` repeats `[profile a]`.
//! - A key twice in one section (`Region` and `region` count as the same key for both): the Rust
//!   SDK takes the last value, botocore refuses the whole file (`DuplicateOptionError`).
//! - `value # comment`: the Rust SDK cuts the comment off, botocore keeps it in the value.
//! - Access key ID in one file and secret in the other: the Rust SDK merges the two files,
//!   botocore raises `PartialCredentialsError`.
//! - `credential_process` in config and static keys in credentials: the Rust SDK runs the
//!   process, botocore uses the static keys (its shared-credentials provider comes first).
//! - `aws_security_token`: botocore reads it as the session token, the Rust SDK ignores it.
//!
//! - `~user/...` in `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`: the Rust SDK expands only
//!   a `~` of its own (aws-runtime `expand_home`), botocore any user's (`os.path.expanduser`).
//!
//! The end-to-end tests check every one of these against botocore itself.

use crate::aws_files::{FileKind, Prop, Section};
use crate::codes::Code;
use crate::credentials::{Base, Environment, Lookup};
use crate::report::{Finding, Fix, Severity};
use crate::shared_files::SharedFiles;
use aws_config::profile::ProfileSet;

const RUST: &str = "Rust SDK (ses-doctor)";
const BOTOCORE: &str = "botocore (boto3, AWS CLI v1)";

pub struct DivergenceInput<'a> {
    pub env: &'a Environment,
    pub files: &'a SharedFiles,
    pub profiles: &'a ProfileSet,
    pub sending: &'a Lookup,
    /// The profile whose settings the mailer reads (named, implied or none).
    pub profile: Option<&'a str>,
}

pub fn findings(input: &DivergenceInput<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(region_variables(input));
    out.extend(default_profile_variable(input));
    out.extend(other_users_home(input));
    for file in [&input.files.config, &input.files.credentials] {
        let sections = file.sections();
        out.extend(duplicate_sections(file.kind, &file.path, &sections));
        out.extend(duplicate_keys(file.kind, &file.path, &sections));
    }
    let in_use = profiles_in_use(input);
    if in_use.iter().any(|p| p == "default") {
        out.extend(both_default_sections(input));
    }
    for profile in &in_use {
        out.extend(inline_comments(input, profile));
        out.extend(split_keys(input, profile));
        out.extend(process_and_static_keys(input, profile));
    }
    out
}

fn divergence(title: String, explanation: &str) -> Finding {
    Finding::new(Code::SdkDivergence, Severity::Warning, title).explain(explanation)
}

/// The profiles the credentials are read from: the one in use and every source profile.
fn profiles_in_use(input: &DivergenceInput<'_>) -> Vec<String> {
    let mut names: Vec<String> = input.profile.map(str::to_owned).into_iter().collect();
    if let Some(chain) = &input.sending.chain {
        names.extend(chain.roles.iter().map(|(_, p)| p.clone()));
        match &chain.base {
            Base::StaticKeys { profile }
            | Base::CredentialProcess { profile }
            | Base::Sso { profile, .. }
            | Base::LoginSession { profile }
            | Base::Nothing { profile } => names.push(profile.clone()),
            Base::WebIdentity {
                profile: Some(profile),
                ..
            } => names.push(profile.clone()),
            _ => {}
        }
    }
    names.dedup();
    let mut seen = Vec::new();
    names.retain(|n| {
        let new = !seen.contains(n);
        seen.push(n.clone());
        new
    });
    names
}

fn region_variables(input: &DivergenceInput<'_>) -> Option<Finding> {
    let env = input.env;
    let profile_region = input
        .profile
        .and_then(|p| input.profiles.get_profile(p))
        .and_then(|p| p.get("region"));
    let shown = |r: Option<&str>| r.map(str::to_owned).unwrap_or_else(|| "no region".into());
    let (title, rust, boto, fix) = match (env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION")) {
        (Some(a), None) if profile_region != Some(a) => (
            format!("botocore ignores AWS_REGION={a}: a Python mailer or the AWS CLI v1 uses {}", shown(profile_region)),
            a.to_owned(),
            shown(profile_region),
            format!("Set AWS_DEFAULT_REGION={a} as well"),
        ),
        (None, Some(d)) if profile_region != Some(d) => (
            format!("The JavaScript SDKs ignore AWS_DEFAULT_REGION={d}: a Node.js mailer uses {}", shown(profile_region)),
            d.to_owned(),
            d.to_owned(),
            format!("Set AWS_REGION={d} as well"),
        ),
        (Some(a), Some(d)) if a != d => (
            format!("AWS_REGION={a} and AWS_DEFAULT_REGION={d} disagree: botocore uses {d}, the other SDKs {a}"),
            a.to_owned(),
            d.to_owned(),
            "Set both variables to the same region".to_owned(),
        ),
        _ => return None,
    };
    Some(
        divergence(
            title,
            "The SDKs read different region variables: botocore (boto3, the AWS CLI v1) only \
             AWS_DEFAULT_REGION, the JavaScript SDKs only AWS_REGION, the Rust SDK and the AWS CLI \
             v2 AWS_REGION first. A mailer on another SDK than the one tested sends to another \
             region, where the identities may not be verified.",
        )
        .evidence(RUST, rust)
        .evidence(BOTOCORE, boto)
        .fix(Fix::manual(fix)),
    )
}

fn default_profile_variable(input: &DivergenceInput<'_>) -> Option<Finding> {
    let legacy = input.env.get("AWS_DEFAULT_PROFILE")?;
    let rust = input.env.get("AWS_PROFILE").unwrap_or("default");
    if legacy == rust {
        return None;
    }
    Some(
        divergence(
            format!(
                "AWS_DEFAULT_PROFILE={legacy} is read by botocore only: a Python mailer uses profile '{legacy}', the other SDKs '{rust}'"
            ),
            "botocore (boto3, the AWS CLI v1) still honours the legacy AWS_DEFAULT_PROFILE, and \
             before AWS_PROFILE; no other SDK reads it. The same process then sends with different \
             credentials depending on the language it is written in.",
        )
        .evidence(RUST, format!("profile '{rust}'"))
        .evidence(BOTOCORE, format!("profile '{legacy}'"))
        .fix(Fix::manual(
            "Unset AWS_DEFAULT_PROFILE and set AWS_PROFILE to the profile the mailer should use",
        ).command("unset AWS_DEFAULT_PROFILE")),
    )
}

fn duplicate_sections(
    kind: FileKind,
    path: &std::path::Path,
    sections: &[Section],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut reported: Vec<&str> = Vec::new();
    for s in sections {
        let Some(name) = configparser_name(&s.header) else {
            continue;
        };
        let lines: Vec<String> = sections
            .iter()
            .filter(|o| configparser_name(&o.header) == Some(name))
            .map(|o| (o.header_line + 1).to_string())
            .collect();
        if lines.len() < 2 || reported.contains(&name) {
            continue;
        }
        reported.push(name);
        let header = format!("[{name}]");
        let file = match kind {
            FileKind::Config => "config",
            FileKind::Credentials => "credentials",
        };
        out.push(
            Finding::new(
                Code::SdkDivergence,
                Severity::Error,
                format!("The section {header} appears {} times in the {file} file: botocore refuses the whole file", lines.len()),
            )
            .explain(
                "The Rust SDK merges repeated sections (later values win), but botocore (boto3, the \
                 AWS CLI) stops with \"DuplicateSectionError\" and reads no profile from the file at \
                 all. Merge the sections into one.",
            )
            .evidence("file", path.display().to_string())
            .evidence("lines", lines.join(", "))
            .evidence(RUST, "merges them; later values win")
            .evidence(BOTOCORE, "refuses the file (DuplicateSectionError)")
            .fix(Fix::manual(format!("Merge the {header} sections of {} into one", path.display()))),
        );
    }
    out
}

/// A key twice in one section (`region` twice, or `Region` and `region`: both SDKs ignore the
/// case of keys): the Rust SDK takes the last value, botocore refuses the whole file
/// (configparser's `DuplicateOptionError`).
fn duplicate_keys(kind: FileKind, path: &std::path::Path, sections: &[Section]) -> Vec<Finding> {
    let file = match kind {
        FileKind::Config => "config",
        FileKind::Credentials => "credentials",
    };
    let mut out = Vec::new();
    for s in sections {
        let mut reported: Vec<&str> = Vec::new();
        for p in &s.props {
            if reported.contains(&p.key.as_str()) {
                continue;
            }
            let same: Vec<&Prop> = s.props.iter().filter(|o| o.key == p.key).collect();
            if same.len() < 2 {
                continue;
            }
            reported.push(&p.key);
            let header = s.header.trim();
            let lines: Vec<String> = same.iter().map(|o| (o.line + 1).to_string()).collect();
            let secret = p.key.contains("secret") || p.key.contains("token");
            let rust = match same.last() {
                Some(last) if !secret => format!("the last one: {}", last.value),
                _ => "the last one".to_owned(),
            };
            out.push(
                Finding::new(
                    Code::SdkDivergence,
                    Severity::Error,
                    format!(
                        "{} appears {} times in {header} of the {file} file: botocore refuses the whole file",
                        p.key,
                        same.len()
                    ),
                )
                .explain(
                    "The Rust SDK takes the last of repeated keys in a section (whatever their \
                     case), but botocore (boto3, the AWS CLI) stops with \"DuplicateOptionError\" \
                     and reads no profile from the file at all. Keep one line of the key.",
                )
                .evidence("file", path.display().to_string())
                .evidence("lines", lines.join(", "))
                .evidence(RUST, rust)
                .evidence(BOTOCORE, "refuses the file (DuplicateOptionError)")
                .fix(Fix::manual(format!(
                    "Keep one {} line in {header} of {}",
                    p.key,
                    path.display()
                ))),
            );
        }
    }
    out
}

/// The section name configparser (botocore's parser) reads from a header line: everything
/// between the first `[` and the last `]`. So `[profile a] # note` and `[profile a]` are the same
/// section to it, and the second one makes it refuse the file (DuplicateSectionError).
fn configparser_name(header: &str) -> Option<&str> {
    let inner = header.trim().strip_prefix('[')?;
    let name = &inner[..inner.rfind(']')?];
    (!name.is_empty()).then_some(name)
}

fn both_default_sections(input: &DivergenceInput<'_>) -> Option<Finding> {
    let sections = input.files.config.sections();
    let defaults: Vec<&Section> = sections
        .iter()
        .filter(|s| s.profile.as_deref() == Some("default"))
        .collect();
    let prefixed = defaults.iter().any(|s| s.prefixed_default);
    let plain = defaults.iter().any(|s| !s.prefixed_default);
    if !(prefixed && plain) {
        return None;
    }
    let later = defaults
        .last()
        .map(|s| s.header.trim().to_owned())
        .unwrap_or_default();
    Some(
        divergence(
            "The config file has both [default] and [profile default]".into(),
            "The Rust SDK reads only [profile default] and ignores [default]; botocore (boto3, the \
             AWS CLI) reads whichever comes later in the file. Keep one of them.",
        )
        .evidence("file", input.files.config.path.display().to_string())
        .evidence(RUST, "[profile default]")
        .evidence(BOTOCORE, later)
        .fix(Fix::manual("Merge the two sections into one [default] section")),
    )
}

/// A value followed by `# comment` (or `; comment`) in a profile in use.
fn inline_comments(input: &DivergenceInput<'_>, profile: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for file in [&input.files.config, &input.files.credentials] {
        for s in file.sections() {
            if s.profile.as_deref() != Some(profile) {
                continue;
            }
            for p in s.props.iter().filter(|p| p.value != p.raw) {
                let secret = p.key.contains("secret") || p.key.contains("token");
                let (rust, boto) = if secret {
                    (
                        format!("{} characters", p.value.chars().count()),
                        format!("{} characters, the comment included", p.raw.chars().count()),
                    )
                } else {
                    (p.value.clone(), p.raw.clone())
                };
                out.push(
                    divergence(
                        format!(
                            "{} in profile '{profile}' ends with an inline comment, which botocore reads as part of the value",
                            p.key
                        ),
                        "The Rust SDK cuts a `# comment` or `; comment` after a value off; botocore \
                         (boto3, the AWS CLI) keeps it as part of the value, so a secret or key ID \
                         with a comment after it is wrong for a Python mailer (SignatureDoesNotMatch \
                         or InvalidClientTokenId). Put the comment on a line of its own.",
                    )
                    .evidence("file", format!("{} line {}", file.path.display(), p.line + 1))
                    .evidence(RUST, rust)
                    .evidence(BOTOCORE, boto)
                    .fix(Fix::manual("Move the comment to a line of its own, above the setting")),
                );
            }
        }
    }
    out
}

fn has_key(file: &crate::shared_files::SharedFile, profile: &str, key: &str) -> bool {
    file.sections()
        .iter()
        .any(|s| s.profile.as_deref() == Some(profile) && s.get(key).is_some())
}

fn split_keys(input: &DivergenceInput<'_>, profile: &str) -> Option<Finding> {
    let (config, creds) = (&input.files.config, &input.files.credentials);
    let id = "aws_access_key_id";
    let secret = "aws_secret_access_key";
    let split = (has_key(creds, profile, id)
        && !has_key(creds, profile, secret)
        && has_key(config, profile, secret))
        || (has_key(creds, profile, secret)
            && !has_key(creds, profile, id)
            && has_key(config, profile, id));
    if !split {
        return None;
    }
    Some(
        divergence(
            format!(
                "Profile '{profile}' has its access key ID in one file and its secret in the other"
            ),
            "The Rust SDK merges the config and credentials files and finds both halves; botocore \
             (boto3, the AWS CLI) reads each file on its own and fails with \"Partial credentials \
             found in shared-credentials-file\". Keep both lines in the credentials file.",
        )
        .evidence(RUST, "both halves, merged from the two files")
        .evidence(BOTOCORE, "PartialCredentialsError")
        .fix(Fix::manual(format!(
            "Put aws_access_key_id and aws_secret_access_key together in [{profile}] of {}",
            creds.path.display()
        ))),
    )
}

fn process_and_static_keys(input: &DivergenceInput<'_>, profile: &str) -> Option<Finding> {
    let (config, creds) = (&input.files.config, &input.files.credentials);
    if !(has_key(config, profile, "credential_process")
        && has_key(creds, profile, "aws_access_key_id"))
    {
        return None;
    }
    Some(
        divergence(
            format!("Profile '{profile}' has credential_process in the config file and static keys in the credentials file"),
            "The Rust SDK runs credential_process and ignores the static keys; botocore (boto3, the \
             AWS CLI) uses the static keys, since it reads the credentials file first. The two \
             send with different keys. Keep one of the two.",
        )
        .evidence(RUST, "credential_process")
        .evidence(BOTOCORE, "the static keys of the credentials file")
        .fix(Fix::manual("Remove either credential_process or the static keys from the profile")),
    )
}

/// `AWS_CONFIG_FILE=~www-data/.aws/config`: botocore reads www-data's file, the Rust SDK a path
/// that starts with a directory literally named `~www-data`.
fn other_users_home(input: &DivergenceInput<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for var in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        let Some(value) = input.env.get(var) else {
            continue;
        };
        let first = value.split('/').next().unwrap_or_default();
        if !(first.starts_with('~') && first.len() > 1) {
            continue;
        }
        out.push(
            divergence(
                format!("{var}={value} names another user's home, which only botocore expands"),
                "botocore (boto3, the AWS CLI) expands ~user to that user's home directory; the Rust \
                 SDK, and the other SDKs that follow the shared SDK reference, expand only a `~` of \
                 their own, and read a relative path that starts with a directory named like that. \
                 Write the full path.",
            )
            .evidence(RUST, format!("the relative path {value}"))
            .evidence(BOTOCORE, format!("{first}'s home directory"))
            .fix(Fix::manual(format!("Set {var} to the full path of the file"))),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_keys_botocore_finds_twice() {
        let text = "[profile a]\nregion = x\n[profile b]\n[profile a] # setup.sh\noutput = json\n";
        let path = std::path::Path::new("config");
        let found = duplicate_sections(
            FileKind::Config,
            path,
            &crate::aws_files::sections(text, FileKind::Config),
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].title.contains("[profile a] appears 2 times"));
        assert_eq!(
            configparser_name("[profile a] # see [x]"),
            Some("profile a] # see [x")
        );
        assert_eq!(configparser_name("[]"), None);
        let text = "[profile a]\nRegion = x\noutput = json\nregion = y\n[profile b]\nregion = z\n";
        let found = duplicate_keys(
            FileKind::Config,
            path,
            &crate::aws_files::sections(text, FileKind::Config),
        );
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .title
            .starts_with("region appears 2 times in [profile a]"));
        assert_eq!(configparser_name("[profile a"), None);
    }
}
