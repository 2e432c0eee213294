//! Step 0: what can be told without the network. The shape of the key ID and secret, pasted
//! whitespace and quotes, an SMTP password where the secret belongs, a temporary key without its
//! token, the region name, and environment variables that shadow the profile the user meant.

use crate::aws_setup::RegionSetting;
use crate::codes::Code;
use crate::credentials::{implied_profile, Base, Environment, Lookup, Source};
use crate::diagnose::divergence;
use crate::regions;
use crate::report::{Finding, Fix, Severity, Step, StepId};
use crate::report::{FixKind, FixStatus};
use crate::secret::AccessKey;
use crate::shared_files::SharedFiles;
use crate::smtp_password::{self, PasswordVersion};
use aws_config::profile::ProfileSet;

pub struct LocalInput<'a> {
    pub sending: &'a Lookup,
    pub env: &'a Environment,
    pub files: &'a SharedFiles,
    pub profiles: &'a ProfileSet,
    pub profile_flag: Option<&'a str>,
    pub region: &'a RegionSetting,
}

const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn check(input: &LocalInput<'_>) -> Step {
    let mut step = Step::new(StepId::Local);
    match &input.sending.key {
        // STS's refusal of the role is step 1's finding; the credentials exist.
        Err(_) if input.sending.role_denied.is_some() => {}
        Err(reason) => step.push(not_found(input, reason)),
        Ok(key) => {
            let before = step.findings.len();
            for finding in key_findings(key) {
                step.push(finding);
            }
            if step.findings.len() == before {
                step.push(
                    Finding::new(
                        Code::CredentialsWellFormed,
                        Severity::Pass,
                        format!("The access key {} and its secret are well formed", key.id),
                    )
                    .evidence("credentials from", &input.sending.detail),
                );
            }
        }
    }
    if let Some(f) = stray_token(input) {
        step.push(f);
    }
    if let Some(f) = env_shadows_profile(input) {
        step.push(f);
    }
    let profile = match (&input.sending.source, input.profile_flag) {
        (Source::Profile { name, .. }, _) => Some(name.clone()),
        (_, Some(flag)) => Some(flag.to_owned()),
        _ => Some(implied_profile(input.env).0),
    };
    for f in divergence::findings(&divergence::DivergenceInput {
        env: input.env,
        files: input.files,
        profiles: input.profiles,
        sending: input.sending,
        profile: profile.as_deref(),
    }) {
        step.push(f);
    }
    if let Some(f) = region_finding(input.region) {
        step.push(f);
    }
    if let Some(f) = profile_endpoint_is_smtp_host(input, profile.as_deref()) {
        step.push(f);
    }
    step
}

/// The profile's `endpoint_url` set to SES's SMTP host: every API call of an SDK that reads it
/// goes to a host that speaks only SMTP, and times out. (`--endpoint-url` and the
/// `AWS_ENDPOINT_URL*` variables are refused as bad input before the run.)
fn profile_endpoint_is_smtp_host(input: &LocalInput<'_>, profile: Option<&str>) -> Option<Finding> {
    let name = profile?;
    let url = input.profiles.get_profile(name)?.get("endpoint_url")?;
    let region = crate::validate::ses_smtp_host_region(crate::validate::url_host(url)?)?;
    let mut f = Finding::new(
        Code::EndpointIsSmtpHost,
        Severity::Error,
        format!("Profile '{name}' sends every AWS API call to SES's SMTP host"),
    )
    .explain(crate::validate::smtp_host_as_api_endpoint(
        &format!("endpoint_url {}", crate::validate::shown(url)),
        "endpoint_url",
        &region,
    ))
    .evidence("profile", name)
    .evidence("endpoint_url", crate::validate::shown(url));
    // What the SDK does here: an endpoint variable wins over the profile's endpoint_url.
    let ignored = input
        .env
        .get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if let Some(var) = crate::validate::ENDPOINT_VARIABLES
        .iter()
        .find(|v| input.env.get(v).is_some_and(|x| !x.is_empty()))
    {
        f = f.evidence(
            "here",
            format!(
                "{var} overrides it in this environment; a mailer without {var} uses the profile's"
            ),
        );
    } else if ignored {
        f = f.evidence(
            "here",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true makes the SDKs ignore it in this environment",
        );
    }
    Some(f.fix(
        Fix::manual(format!(
            "Remove endpoint_url from profile '{name}' (the SDK then calls https://email.{region}.amazonaws.com); put email-smtp.{region}.amazonaws.com in the mailer's SMTP host setting instead"
        ))
        .command(format!("aws configure set endpoint_url '' --profile {name}")),
    ))
}

fn not_found(input: &LocalInput<'_>, reason: &str) -> Finding {
    let base = input.sending.chain.as_ref().map(|c| &c.base);
    let finding = |title: String, why: &str| {
        Finding::new(Code::CredentialsNotFound, Severity::Error, title)
            .explain(why)
            .evidence("looked in", &input.sending.detail)
            .evidence("reason", reason)
    };
    match base {
        // The profile is right; the login behind it is missing, expired or refused.
        Some(Base::Sso { profile, session }) => {
            let login = match session {
                Some(s) => format!("aws sso login --sso-session {s}"),
                None => format!("aws sso login --profile {profile}"),
            };
            let (title, why) = if reason.contains("ForbiddenException") {
                (
                    format!("IAM Identity Center refused profile '{profile}' the role it names"),
                    "The SSO login is valid, but the SSO user is not assigned the role \
                     (sso_role_name) in the account (sso_account_id): the portal answers \"No \
                     access\". Check the account and role names, or have an administrator \
                     assign them in IAM Identity Center.",
                )
            } else {
                (
                    format!("The SSO login behind profile '{profile}' is missing or has expired"),
                    "Profiles that use IAM Identity Center (SSO) get their credentials with the \
                     token `aws sso login` leaves in ~/.aws/sso/cache. There is none for this \
                     session, it has expired, or the portal no longer accepts it. Log in again; \
                     a mailer that runs unattended should not depend on an SSO login at all.",
                )
            };
            finding(title, why)
                .fix(Fix::manual("Log in to IAM Identity Center again").command(login))
        }
        Some(Base::CredentialProcess { profile }) => finding(
            format!("credential_process of profile '{profile}' did not give credentials"),
            "The profile's credentials come from the program named in credential_process, and \
             it failed or printed something that is not credentials (JSON with Version 1, \
             AccessKeyId and SecretAccessKey). Run the command by hand to see why.",
        )
        .fix(Fix::manual(
            "Run the credential_process command by hand and fix what it says",
        )),
        _ => finding(
            "No AWS credentials were found".into(),
            "Neither a profile, nor AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, nor any other \
             source of the default chain supplied credentials. Give ses-doctor the key the \
             mailer uses: --profile NAME, or --access-key-id with the secret on stdin.",
        )
        .fix(
            Fix::manual("Store the mailer's key in a profile")
                .command("aws configure --profile mailer"),
        ),
    }
}

/// Findings about the key itself; empty when it is well formed.
pub fn key_findings(key: &AccessKey) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(f) = key_id_finding(&key.id) {
        out.push(f);
    }
    if let Some(f) = secret_finding(key) {
        out.push(f);
    }
    if key.id.trim().starts_with("ASIA") && key.session_token.is_none() {
        out.push(
            Finding::new(
                Code::SessionTokenMissing,
                Severity::Error,
                format!("{} is a temporary key, but no session token was given", key.id),
            )
            .explain(
                "Keys starting with ASIA come from STS (SSO, an assumed role, an instance role) and \
                 only work together with their session token, and only until they expire. A \
                 mailer should use an IAM user's long-term key (AKIA...), or supply \
                 AWS_SESSION_TOKEN too. SMTP passwords cannot be derived from temporary keys.",
            )
            .evidence("access key ID", &key.id)
            .fix(Fix::manual(
                "Give the mailer an IAM user's access key (AKIA...), or set AWS_SESSION_TOKEN with the key",
            )),
        );
    }
    out
}

/// The profile whose stray token lines a fix removes.
pub const TOKEN_KEYS: [&str; 2] = ["aws_session_token", "aws_security_token"];

/// A long-term AKIA key with a session token beside it: AWS rejects the pair with "The security
/// token included in the request is invalid" although the key is active. Where the token sits
/// decides who sends it: `aws_session_token` / `AWS_SESSION_TOKEN` every SDK, the legacy
/// `aws_security_token` / `AWS_SECURITY_TOKEN` botocore only.
fn stray_token(input: &LocalInput<'_>) -> Option<Finding> {
    let key = input.sending.key.as_ref().ok()?;
    if !key.id.starts_with("AKIA") {
        return None;
    }
    let mut places: Vec<(String, &'static str)> = Vec::new();
    let mut profile_to_fix = None;
    let base = input
        .sending
        .chain
        .as_ref()
        .filter(|c| c.roles.is_empty())
        .map(|c| &c.base);
    match (&input.sending.source, base) {
        (Source::Environment, _) => {
            if input.env.get("AWS_SESSION_TOKEN").is_some() {
                places.push(("AWS_SESSION_TOKEN in the environment".into(), "every SDK"));
            } else if input.env.get("AWS_SECURITY_TOKEN").is_some() {
                places.push((
                    "AWS_SECURITY_TOKEN in the environment".into(),
                    "botocore (boto3, AWS CLI v1) only",
                ));
            }
        }
        (_, Some(Base::StaticKeys { profile })) if static_keys_profile(input.sending).is_some() => {
            for file in [&input.files.credentials, &input.files.config] {
                for s in file.sections() {
                    if s.profile.as_deref() != Some(profile.as_str()) {
                        continue;
                    }
                    for p in s
                        .props
                        .iter()
                        .filter(|p| TOKEN_KEYS.contains(&p.key.as_str()))
                    {
                        let who = if p.key == "aws_session_token" {
                            "every SDK"
                        } else {
                            "botocore (boto3, AWS CLI v1) only"
                        };
                        places.push((
                            format!(
                                "{} in [{}] of {} (line {})",
                                p.key,
                                profile,
                                file.path.display(),
                                p.line + 1
                            ),
                            who,
                        ));
                    }
                }
            }
            if !places.is_empty() {
                profile_to_fix = Some(profile.clone());
            }
        }
        (Source::Pasted { .. }, _) if key.session_token.is_some() => {
            places.push((
                "the session token given with --access-key-id".into(),
                "ses-doctor",
            ));
        }
        _ => {}
    }
    if places.is_empty() {
        return None;
    }
    let mut f = Finding::new(
        Code::SessionTokenStray,
        Severity::Error,
        format!(
            "{} is a long-term key, but a session token is sent with it",
            key.id
        ),
    )
    .explain(
        "Only temporary (ASIA...) keys come with a session token. A token left behind when a \
         long-term key replaced temporary credentials is still sent along, and AWS rejects the \
         pair with \"The security token included in the request is invalid\" although the key \
         itself is active. ses-doctor checks the key without the token.",
    )
    .evidence("access key ID", &key.id);
    for (place, who) in &places {
        f = f.evidence("token", format!("{place}: sent by {who}"));
    }
    f = match profile_to_fix {
        Some(profile) => f.fix(Fix {
            kind: FixKind::Automatic,
            description: format!(
                "Remove aws_session_token and aws_security_token from profile '{profile}'"
            ),
            command: None,
            status: FixStatus::Proposed,
        }),
        None => f.fix(
            Fix::manual("Remove the session token from the mailer's environment")
                .command("unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN"),
        ),
    };
    Some(f)
}

fn key_id_finding(id: &str) -> Option<Finding> {
    let malformed = |title: String, why: &str| {
        Some(
            Finding::new(Code::AccessKeyIdMalformed, Severity::Error, title)
                .explain(format!(
                    "An access key ID is 20 characters: AKIA (long-term) or ASIA (temporary) then 16 \
                     letters A-Z and digits 2-7. {why}"
                ))
                .evidence("value", visible(id))
                .evidence("length", id.chars().count().to_string())
                .fix(Fix::manual(
                    "Copy the access key ID again from IAM > Users > Security credentials",
                )),
        )
    };
    if id.trim() != id || has_quotes(id) {
        return malformed(
            "The access key ID has stray whitespace or quotes around it".into(),
            "Whitespace or quotes are part of the value the mailer sends, so AWS sees an unknown key.",
        );
    }
    let prefix = id.get(..4).unwrap_or(id);
    let other = match prefix {
        "AIDA" => Some("an IAM user ID"),
        "AROA" => Some("an IAM role ID"),
        "AGPA" => Some("an IAM group ID"),
        "ANPA" | "ANVA" => Some("an IAM policy ID"),
        "APKA" => Some("a CloudFront key pair ID"),
        _ => None,
    };
    if let Some(what) = other {
        return malformed(
            format!("{id} is {what}, not an access key ID"),
            "IDs that start like this name a user, role or policy; they cannot sign requests.",
        );
    }
    if prefix != "AKIA" && prefix != "ASIA" {
        return malformed(
            format!("{} does not start with AKIA or ASIA", visible(id)),
            "The value given is not an access key ID.",
        );
    }
    let len = id.chars().count();
    if len != 20 {
        return malformed(
            format!("The access key ID is {len} characters long, not 20"),
            "Characters were lost or added when it was copied.",
        );
    }
    if let Some(bad) = id.chars().find(|c| !BASE32.contains(*c)) {
        let hint = match bad {
            '0' => " (did you mean the letter O?)",
            '1' => " (did you mean the letter I?)",
            '8' => " (did you mean the letter B?)",
            _ => "",
        };
        return malformed(
            format!("The access key ID contains '{bad}', which no key ID has{hint}"),
            "This usually means a character was misread when the key was typed by hand.",
        );
    }
    None
}

fn secret_finding(key: &AccessKey) -> Option<Finding> {
    let secret = key.secret.expose();
    let len = key.secret.char_len();
    let base = |code, title: String, why: &str| {
        Finding::new(code, Severity::Error, title)
            .explain(format!(
                "A secret access key is exactly 40 characters of A-Z, a-z, 0-9, '+' and '/'. {why}"
            ))
            .evidence("secret length", len.to_string())
    };
    if let Some(version) = smtp_password::recognise(secret) {
        let legacy = matches!(version, PasswordVersion::Legacy);
        return Some(
            base(
                Code::SecretIsSmtpPassword,
                "The secret given is an SES SMTP password, not a secret access key".into(),
                "An SMTP password (44 characters, starting with B) is derived from a secret key for \
                 the SMTP interface only; the API cannot use it, and the secret cannot be recovered \
                 from it.",
            )
            .evidence(
                "looks like",
                if legacy {
                    "a legacy (signature version 2) SMTP password"
                } else {
                    "an SMTP password (signature version 4)"
                },
            )
            .fix(Fix::manual(
                "Use the secret access key that was shown with the key ID when the key was created (or create a new key); keep the SMTP password for SMTP only",
            )),
        );
    }
    if secret.trim() != secret || has_quotes(secret) || secret.chars().any(char::is_whitespace) {
        return Some(
            base(
                Code::SecretKeyMalformed,
                "The secret access key has stray whitespace or quotes in it".into(),
                "Whitespace, line breaks or quotes copied along with the secret become part of it, \
                 and the signature no longer matches. Quotes in .env files and YAML are a frequent \
                 source.",
            )
            .fix(Fix::manual(
                "Remove the quotes and whitespace around the secret in the mailer's configuration",
            )),
        );
    }
    if let Some(bad) = secret
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '+' || *c == '/'))
    {
        let kind = if bad.is_ascii_punctuation() {
            "a punctuation character"
        } else {
            "a character"
        };
        return Some(
            base(
                Code::SecretKeyMalformed,
                format!("The secret access key contains {kind} no AWS secret has"),
                "The value was altered (URL-encoded, escaped, or typed by hand).",
            )
            .fix(Fix::manual(
                "Copy the secret again exactly as AWS showed it",
            )),
        );
    }
    if len < 40 {
        return Some(
            base(
                Code::SecretKeyTruncated,
                format!("The secret access key is {len} characters, not 40: it was cut off"),
                "Characters were lost when copying (a double-click selection stops at '/' or '+').",
            )
            .fix(Fix::manual(
                "Copy the full secret again; if it is lost, create a new access key (AWS shows a secret only once)",
            )),
        );
    }
    if len > 40 {
        return Some(
            base(
                Code::SecretKeyMalformed,
                format!("The secret access key is {len} characters, not 40"),
                "Something was pasted along with it.",
            )
            .fix(Fix::manual(
                "Copy the secret again exactly as AWS showed it",
            )),
        );
    }
    None
}

fn has_quotes(s: &str) -> bool {
    s.contains(['"', '\'', '`'])
}

/// A key ID as shown to a person, with invisible characters made visible.
fn visible(s: &str) -> String {
    format!("{s:?}")
}

/// `AWS_ACCESS_KEY_ID` in the environment is used by every SDK before any profile, including the
/// one named by `AWS_PROFILE`: the classic "it uses the wrong key".
fn env_shadows_profile(input: &LocalInput<'_>) -> Option<Finding> {
    let env_key = input.env.get("AWS_ACCESS_KEY_ID")?;
    let (profile, selected_by) = match input.profile_flag {
        Some(p) => (p.to_owned(), "--profile"),
        None => implied_profile(input.env),
    };
    let profile_key = input
        .profiles
        .get_profile(&profile)
        .and_then(|p| p.get("aws_access_key_id"));
    // Nothing to shadow without a profile the user could have meant.
    let profile_has_credentials = input.profiles.get_profile(&profile).is_some_and(|p| {
        [
            "aws_access_key_id",
            "sso_session",
            "sso_start_url",
            "role_arn",
            "credential_process",
        ]
        .iter()
        .any(|k| p.get(k).is_some())
    });
    if !profile_has_credentials || profile_key == Some(env_key) {
        return None;
    }
    let in_use = matches!(input.sending.source, Source::Environment);
    let title = if in_use {
        format!(
            "AWS_ACCESS_KEY_ID in the environment overrides profile '{profile}' ({selected_by})"
        )
    } else {
        format!("Programs that read the environment use AWS_ACCESS_KEY_ID, not profile '{profile}'")
    };
    let mut finding = Finding::new(Code::EnvShadowsProfile, Severity::Warning, title)
        .explain(
            "The AWS SDKs (and the AWS CLI without --profile) take AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY from the environment before any profile, even when AWS_PROFILE \
             names one. A mailer started from this environment sends with the environment's key, \
             not the profile's.",
        )
        .evidence("environment key", env_key)
        .evidence(
            "profile key",
            profile_key.unwrap_or("(from SSO, a role or a process)"),
        )
        .evidence(
            "tested here",
            if in_use {
                "the environment's key (what an SDK-based mailer uses)"
            } else {
                "the profile's key (--profile given)"
            },
        )
        .fix(
            Fix::manual("Unset the variables if the profile's key is the one to use")
                .command("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN"),
        );
    if !in_use {
        finding.severity = Severity::Info;
    }
    Some(finding)
}

fn region_finding(region: &RegionSetting) -> Option<Finding> {
    let raw = region.raw.as_deref()?;
    if region.valid().is_none() {
        let suggestion = regions::suggest(raw);
        let mut f = Finding::new(
            Code::RegionInvalid,
            Severity::Error,
            format!(
                "The region {raw:?} (from {}) is not an AWS region name",
                region.source
            ),
        )
        .explain(
            "AWS needs the region code (eu-west-1), not its display name (\"EU (Ireland)\") or an \
             availability zone (eu-west-1a). With an invalid region every request fails.",
        )
        .evidence("value", format!("{raw:?}"))
        .evidence("set by", region.source);
        if let Some(s) = suggestion {
            f = f.evidence("probably meant", s).fix(Fix::manual(format!(
                "Set the region to {s} where it is configured ({})",
                region.source
            )));
        }
        return Some(f);
    }
    match regions::lookup(raw) {
        Some(entry) if !entry.ses => Some(
            Finding::new(
                Code::RegionUnsupported,
                Severity::Error,
                format!("Amazon SES is not offered in {raw} ({})", entry.display),
            )
            .explain(
                "SES runs in a subset of AWS regions; requests to an SES endpoint in this region \
                 fail. Use the region where the sending identities are verified.",
            )
            .evidence("region", raw)
            .evidence("set by", region.source)
            .fix(Fix::manual(
                "Pick an SES region; `ses-doctor regions` lists them",
            )),
        ),
        _ => None,
    }
}

/// The profile holding the stray token, when the credentials are its static keys.
fn static_keys_profile(sending: &Lookup) -> Option<&str> {
    match sending
        .chain
        .as_ref()
        .filter(|c| c.roles.is_empty())
        .map(|c| &c.base)
    {
        Some(Base::StaticKeys { profile }) => Some(profile),
        _ => None,
    }
}

/// Whether any section of `profile` in the text holds a token key.
fn holds_token(text: &str, kind: crate::aws_files::FileKind, profile: &str) -> bool {
    crate::aws_files::sections(text, kind).iter().any(|s| {
        s.profile.as_deref() == Some(profile) && TOKEN_KEYS.iter().any(|k| s.get(k).is_some())
    })
}

/// The fix of `session-token-stray` for a profile: with consent, the token lines go from both
/// files, and the fix counts only when the files, read back, no longer hold a token for the
/// profile.
pub async fn remove_stray_token(
    step: &mut Step,
    sending: &Lookup,
    env: &Environment,
    consent: &crate::consent::Consent,
) -> Result<(), crate::exit::Failure> {
    use crate::aws_files::{self, FileKind};
    use crate::consent::Decision;
    let Some(profile) = static_keys_profile(sending) else {
        return Ok(());
    };
    let Some(finding) = step
        .findings
        .iter_mut()
        .find(|f| f.code == Code::SessionTokenStray)
    else {
        return Ok(());
    };
    let Some(i) = finding
        .fixes
        .iter()
        .position(|f| f.kind == FixKind::Automatic)
    else {
        return Ok(());
    };
    let (status, note) = match consent.decide(&format!("{}?", finding.fixes[i].description))? {
        Decision::Leave(status) => (status, None),
        Decision::Apply => {
            let mut failed = None;
            for (path, kind) in [
                (env.credentials_file(), FileKind::Credentials),
                (env.config_file(), FileKind::Config),
            ] {
                if !std::fs::read_to_string(&path).is_ok_and(|t| holds_token(&t, kind, profile)) {
                    continue;
                }
                let result = aws_files::update(&path, None, |text| {
                    TOKEN_KEYS.iter().fold(text.to_owned(), |t, k| {
                        aws_files::remove_property(&t, kind, profile, k)
                    })
                });
                if let Err(e) = result {
                    failed = Some(format!("cannot write {}: {e}", path.display()));
                    break;
                }
            }
            // Read back through the same paths the SDK reads: the fix counts only if no token
            // is left.
            let left = SharedFiles::read(env).map(|files| {
                holds_token(files.credentials.text(), FileKind::Credentials, profile)
                    || holds_token(files.config.text(), FileKind::Config, profile)
            });
            match (failed, left) {
                (Some(why), _) => (FixStatus::Failed, Some(why)),
                (None, Ok(false)) => (FixStatus::Applied, None),
                (None, Ok(true)) => (
                    FixStatus::Failed,
                    Some("the files still hold a token for the profile when read back".to_owned()),
                ),
                (None, Err(e)) => (FixStatus::Failed, Some(e.message)),
            }
        }
    };
    finding.fixes[i].status = status;
    finding.resolved = status == FixStatus::Applied;
    if let Some(why) = note {
        finding.note("fix failed", why);
    }
    step.refresh();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    const GOOD_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn key(id: &str, secret: &str, token: Option<&str>) -> AccessKey {
        AccessKey {
            id: id.into(),
            secret: Secret::new(secret),
            session_token: token.map(Secret::new),
        }
    }

    fn codes(k: &AccessKey) -> Vec<Code> {
        key_findings(k).iter().map(|f| f.code).collect()
    }

    #[test]
    fn well_formed_key_has_no_findings() {
        assert!(codes(&key("AKIAIOSFODNN7EXAMPLE", GOOD_SECRET, None)).is_empty());
        assert!(codes(&key("ASIAIOSFODNN7EXAMPLE", GOOD_SECRET, Some("t"))).is_empty());
    }

    #[test]
    fn key_id_shapes() {
        for id in [
            "AIDAIOSFODNN7EXAMPLE",
            "AROAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPL",
            "AKIAIOSF0DNN7EXAMPLE",
            " AKIAIOSFODNN7EXAMPLE",
            "\"AKIAIOSFODNN7EXAMPLE\"",
            "hello",
        ] {
            assert_eq!(
                codes(&key(id, GOOD_SECRET, None)),
                vec![Code::AccessKeyIdMalformed],
                "{id}"
            );
        }
        let f = key_id_finding("AIDAIOSFODNN7EXAMPLE").unwrap();
        assert!(f.title.contains("IAM user ID"));
    }

    #[test]
    fn secret_shapes() {
        let id = "AKIAIOSFODNN7EXAMPLE";
        assert_eq!(
            codes(&key(id, &GOOD_SECRET[..39], None)),
            vec![Code::SecretKeyTruncated]
        );
        assert_eq!(
            codes(&key(id, &format!("{GOOD_SECRET}\n"), None)),
            vec![Code::SecretKeyMalformed]
        );
        assert_eq!(
            codes(&key(id, &format!("\"{GOOD_SECRET}\""), None)),
            vec![Code::SecretKeyMalformed]
        );
        assert_eq!(
            codes(&key(id, &format!("{GOOD_SECRET}AB"), None)),
            vec![Code::SecretKeyMalformed]
        );
        assert_eq!(
            codes(&key(id, &GOOD_SECRET.replace('/', "%2F")[..40], None)),
            vec![Code::SecretKeyMalformed]
        );
        let smtp = crate::smtp_password::derive(&Secret::new(GOOD_SECRET), "eu-west-1");
        assert_eq!(
            codes(&key(id, smtp.expose(), None)),
            vec![Code::SecretIsSmtpPassword]
        );
    }

    #[test]
    fn temporary_key_without_token() {
        assert_eq!(
            codes(&key("ASIAIOSFODNN7EXAMPLE", GOOD_SECRET, None)),
            vec![Code::SessionTokenMissing]
        );
    }

    #[test]
    fn findings_never_contain_the_secret() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE";
        for f in key_findings(&key("AKIAIOSFODNN7EXAMPLE", &format!("'{secret}'"), None)) {
            let text = format!("{f:?}");
            assert!(!text.contains("wJalrXUtnFEMI"), "{text}");
        }
    }
}
